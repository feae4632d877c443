"""``autodiff-course grade`` killed at any moment loses nothing and leaves nothing running.

The command runs as the instructor runs it, in a process of its own, and is stopped with
``kill -9`` while judging, ``kill -9`` while recording into the gradebook, and Ctrl-C (SIGINT
to its whole process group, as a terminal sends it) while writing feedback. After each stop
no process it started is left; the next run resumes, and the grades at the end equal those
of a run that was never interrupted, under the same session seed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from course_support import built_workspace

from course import demo, report
from course.workspace import Workspace

MARKER = "AUTODIFF_COURSE_TEST_RUN"


def environment(tmp: Path, run: str) -> dict[str, str]:
    """The command's environment: a marker its processes inherit, and a TMPDIR its sandboxes live in."""
    tmp.mkdir(parents=True, exist_ok=True)
    return {**os.environ, MARKER: run, "TMPDIR": str(tmp)}


def started_by(run: str, tmp: Path) -> list[int]:
    """The processes carrying ``run``'s marker, or working in a folder under ``tmp`` (the sandboxes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if (f"{MARKER}={run}".encode() in (entry / "environ").read_bytes().split(b"\0")
                    or Path(os.readlink(entry / "cwd")).is_relative_to(tmp)):
                found.append(int(entry.name))
    return found


def command(workspace: Workspace, folder: Path) -> list[str]:
    return [sys.executable, "-m", "course", "--workspace", str(workspace.root), "grade", str(folder),
            "--workers", "2", "--seed", "interrupted-run"]


def scores(workspace: Workspace) -> dict:
    return {(r.student, r.assignment, r.cell): r.score for r in report.test_results(workspace)}


def stop_when(process: subprocess.Popen, ready, how: signal.Signals) -> None:
    """Send ``how`` to the command once ``ready()`` holds; fail if the command ends first."""
    while not ready():
        assert process.poll() is None, "the command finished before the moment to stop it"
        time.sleep(0.02)
    if how == signal.SIGINT:
        os.killpg(process.pid, how)
    else:
        process.send_signal(how)
    process.wait(timeout=60)


def anything(folder: Path, pattern: str):
    return lambda: any(folder.glob(pattern))


@pytest.fixture(scope="module")
def class_folder(course_cache, tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupted")
    workspace = built_workspace(course_cache, root / "built")
    return demo.write_class(workspace, demo.simulated_class(typical=2), root / "class")


def test_a_run_killed_at_any_moment_resumes_to_the_same_grades(course_cache, class_folder, tmp_path):
    reference = built_workspace(course_cache, tmp_path / "reference")
    subprocess.run(command(reference, class_folder), env=environment(tmp_path / "tmp0", "reference"),
                   check=True, capture_output=True)
    expected = scores(reference)

    workspace = built_workspace(course_cache, tmp_path / "interrupted")
    stops = [("judging", signal.SIGKILL, anything(workspace.verdicts, "*/*.json")),
             ("recording", signal.SIGKILL, anything(workspace.root / "autograded", "*/*/*.ipynb")),
             ("writing feedback", signal.SIGINT, anything(workspace.root / "feedback", "*/*/*.html"))]
    for number, (moment, how, ready) in enumerate(stops, start=1):
        tmp, run = tmp_path / f"tmp{number}", f"stop-{number}"
        output = tmp_path / f"output{number}.txt"
        with output.open("wb") as sink:  # a file, not a pipe: a process left running would hold a pipe open
            process = subprocess.Popen(command(workspace, class_folder), env=environment(tmp, run),
                                       stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
            stop_when(process, ready, how)
        deadline = time.monotonic() + 10
        while (left := started_by(run, tmp)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == [], f"processes left running after stopping the command while {moment}"
        if how == signal.SIGINT:
            assert process.returncode == 130
            assert "run the same command again to resume" in output.read_text()
    finished = subprocess.run(command(workspace, class_folder), env=environment(tmp_path / "tmp4", "last"),
                              capture_output=True, text=True)
    assert finished.returncode == 0, finished.stdout[-2000:]
    assert scores(workspace) == expected and len(expected) > 100
    assert workspace.grades_csv.read_text() == reference.grades_csv.read_text()
