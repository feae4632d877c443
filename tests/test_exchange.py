"""The class's round trip through nbgrader's exchange, with real Unix accounts and no mocks.

The instructor (root) releases ``01_jacobians`` with ``autodiff-course release``; two
throw-away student accounts fetch it with nbgrader's own ``fetch_assignment``, one solves
``numerical_jacobian`` and the other hands in the release untouched, both with ``nbgrader
submit``; the instructor collects and grades (``autodiff-course collect``) and returns the
feedback (``autodiff-course return-feedback``); each student fetches theirs with ``nbgrader
fetch_feedback``. Along the way, what a multi-user hub promises is checked as the students
themselves: no student can find another's submission or read another's files, the
instructor's workspace (solutions, gradebook) is closed to them, and each gets back exactly
their own feedback. One student also tries what a student could on the exchange: a folder
in the other's name, and links to the instructor's source; ``collect`` takes neither.

The exchange is laid out as nbgrader documents it, in a root-owned folder every account may
write in (mode 1777: the sticky bit keeps a student from renaming the course's folder).
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import unix_accounts
from course_support import built_workspace, points

from course import demo, exchange, notebooks, report
from course.workspace import Workspace

ASSIGNMENT = "01_jacobians"  # the smallest source notebook with several graded functions
SOLVED = "numerical_jacobian"
COURSE = "autodiff"

EDIT = """
import sys, nbformat
path, wanted = sys.argv[1], sys.argv[2]
notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
for cell in notebook.cells:
    if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == wanted:
        cell.source = sys.stdin.read()
nbformat.write(notebook, path)
"""

TRY = """
import os, sys
what, path = sys.argv[1], sys.argv[2]
try:
    if what == "list":
        os.listdir(path)
    elif what == "rename":
        os.rename(path, path + "-moved")
    else:
        open(path, "rb").read(1)
except PermissionError:
    print("denied")
except FileNotFoundError:
    print("missing")
else:
    print("allowed")
"""


# A student's attempts on the exchange, made after both have submitted: a folder of their own
# (newer than their submission) with links to the instructor's source beside their notebook,
# and a folder that claims to be the other student's newest submission.
FORGE = """
import os, shutil, sys
inbound, cache, source, victim, me, assignment = sys.argv[1:]
later = "2099-01-01 00:00:00.000000 UTC"
[mine] = [os.path.join(cache, name) for name in os.listdir(cache)]
ours = os.path.join(inbound, f"{me}+{assignment}+{later}+again")
shutil.copytree(mine, ours)
os.symlink(source, os.path.join(ours, "answers.ipynb"))
os.symlink(source, os.path.join(ours, "notes.html"))
shutil.copytree(mine, os.path.join(inbound, f"{victim}+{assignment}+{later}+forged"))
"""


def instructor(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m course --workspace <workspace> <args>`` as root, as the instructor types it."""
    result = subprocess.run([sys.executable, "-m", "course", "--workspace", str(workspace), *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"autodiff-course {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


class RoundTrip:
    """Everything the round trip left behind, for the tests to look at."""

    def __init__(self, workspace: Path, exchange_root: Path, python: str, how: str):
        self.workspace, self.exchange_root = workspace, exchange_root
        self.python, self.how = python, how  # the students' Python, and how it was found
        self.solver: unix_accounts.Account
        self.blank: unix_accounts.Account
        self.seconds: dict[str, float] = {}
        self.mode_before_release = 0
        self.collect_output = ""
        self.submissions: dict[str, Path] = {}  # each student's submission folder, as nbgrader named it

    def nbgrader(self, account: unix_accounts.Account, *args: str) -> subprocess.CompletedProcess:
        """nbgrader's own command, as ``account`` in its home."""
        result = unix_accounts.run(account, [self.python, "-m", "nbgrader", *args,
                                             f"--Exchange.root={self.exchange_root}",
                                             f"--CourseDirectory.course_id={COURSE}"])
        assert result.returncode == 0, f"nbgrader {args[0]} as {account.name} failed:\n{result.stderr}"
        return result

    def attempt(self, account: unix_accounts.Account, what: str, path: Path) -> str:
        """``allowed``, ``denied`` or ``missing``: ``account`` lists (``list``) or reads (``read``) it."""
        result = unix_accounts.run(account, [self.python, "-c", TRY, what, str(path)])
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def inbound(self, account: unix_accounts.Account) -> Path:
        """``account``'s submission folder in the exchange, as ``nbgrader submit`` named it."""
        return self.submissions[account.name]

    def feedback_files(self, account: unix_accounts.Account) -> list[Path]:
        return sorted((account.home / ASSIGNMENT / "feedback").glob("*/*.html"))


@pytest.fixture(scope="class")
def trip(course_cache):
    if (reason := unix_accounts.skip_reason()) is not None:
        pytest.skip(f"needs real Unix accounts: {reason}")
    shared = unix_accounts.hub("adk-exchange-")
    accounts: list[unix_accounts.Account] = []
    try:
        exchange_root = shared / "exchange"
        for _ in range(2):
            accounts.append(unix_accounts.create(shared / "homes"))
        python, how = unix_accounts.python_for(accounts[0], shared)
        if python is None:
            pytest.skip(f"no Python the student accounts can run: {how}")
        workspace = built_workspace(course_cache, shared / "instructor").root
        workspace.chmod(0o755)  # as a home folder often is: `release` must close it
        run = RoundTrip(workspace, exchange_root, python, how)
        run.solver, run.blank = accounts
        run.mode_before_release = stat.S_IMODE(workspace.stat().st_mode)
        play(run)
        yield run
    finally:
        for account in accounts:
            unix_accounts.delete(account)
        shutil.rmtree(shared, ignore_errors=True)


def play(run: RoundTrip) -> None:
    """The round trip, each step timed into ``run.seconds``."""
    def step(name, action):
        started = time.perf_counter()
        action()
        run.seconds[name] = time.perf_counter() - started

    source = notebooks.read(notebooks.source_path(ASSIGNMENT))
    answer = demo.answer(notebooks.cell_by_id(source, SOLVED).source, None)
    step("release", lambda: instructor(run.workspace, "release", "--exchange", str(run.exchange_root),
                                       ASSIGNMENT))
    for student in (run.solver, run.blank):
        step(f"fetch {student.name}", lambda s=student: run.nbgrader(s, "fetch_assignment", ASSIGNMENT))
    fetched = run.solver.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    edited = unix_accounts.run(run.solver, [run.python, "-c", EDIT, str(fetched), SOLVED], stdin=answer)
    assert edited.returncode == 0, edited.stderr
    for student in (run.solver, run.blank):
        step(f"submit {student.name}", lambda s=student: run.nbgrader(s, "submit", ASSIGNMENT))
    inbound = run.exchange_root / COURSE / "inbound"
    for student in (run.solver, run.blank):
        [run.submissions[student.name]] = inbound.glob(f"{student.name}+*")  # root may list the inbound
    cache = run.blank.home / ".local/share/jupyter/nbgrader_cache" / COURSE
    source_notebook = Workspace(run.workspace).notebook("source", ASSIGNMENT)
    forged = unix_accounts.run(run.blank, [run.python, "-c", FORGE, str(inbound), str(cache),
                                           str(source_notebook), run.solver.name, run.blank.name, ASSIGNMENT])
    assert forged.returncode == 0, forged.stderr

    def collect():
        run.collect_output = instructor(run.workspace, "collect", "--exchange", str(run.exchange_root),
                                        "--workers", "1", ASSIGNMENT).stdout

    step("collect", collect)
    step("return-feedback", lambda: instructor(run.workspace, "return-feedback", "--exchange",
                                               str(run.exchange_root), ASSIGNMENT))
    for student in (run.solver, run.blank):
        step(f"fetch_feedback {student.name}",
             lambda s=student: run.nbgrader(s, "fetch_feedback", ASSIGNMENT))


def total_score(feedback_html: str) -> tuple[float, float]:
    """The notebook's total ``score / max`` in nbgrader's feedback (the first such pair in the page)."""
    found = re.search(r"(\d+(?:\.\d+)?) / (\d+(?:\.\d+)?)", feedback_html)
    assert found is not None, "no score in the feedback"
    return float(found.group(1)), float(found.group(2))


class TestRoundTripWithUnixAccounts:
    def test_the_students_fetched_and_submitted_as_themselves(self, trip):
        for student in (trip.solver, trip.blank):
            fetched = student.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            assert fetched.stat().st_uid == student.uid
            assert trip.inbound(student).stat().st_uid == student.uid

    def test_grades_are_what_the_notebooks_deserve(self, trip):
        scores = {(r.student, r.cell): r.score for r in report.test_results(Workspace(trip.workspace))}
        worth = points(Workspace(trip.workspace), ASSIGNMENT)
        for cell, most in worth.items():
            solved = cell.startswith(f"test_{SOLVED}_")
            assert scores[trip.solver.name, cell] == (most if solved else 0), cell
            assert scores[trip.blank.name, cell] == 0, cell

    def test_each_student_gets_back_exactly_their_own_feedback(self, trip):
        workspace = Workspace(trip.workspace)
        texts = {}
        for student in (trip.solver, trip.blank):
            [mine] = trip.feedback_files(student)
            assert mine.name == f"{ASSIGNMENT}.html" and mine.stat().st_uid == student.uid
            graded = workspace.folder("feedback", ASSIGNMENT, student.name) / f"{ASSIGNMENT}.html"
            assert mine.read_bytes() == graded.read_bytes()
            texts[student.name] = mine.read_text()
        worth = points(workspace, ASSIGNMENT)
        solved = sum(most for cell, most in worth.items() if cell.startswith(f"test_{SOLVED}_"))
        total = sum(worth.values())
        assert 0 < solved < total
        assert total_score(texts[trip.solver.name]) == (solved, total)
        assert total_score(texts[trip.blank.name]) == (0, total)

    def test_a_student_cannot_find_or_read_another_students_work(self, trip):
        inbound = trip.exchange_root / COURSE / "inbound"
        assert trip.attempt(trip.blank, "list", inbound) == "denied"
        # nbgrader hides a submission by a name no one else can list or guess: 12 random characters
        assert len(trip.inbound(trip.solver).name.rsplit("+", 1)[1]) == 12
        assert trip.attempt(trip.blank, "list", trip.exchange_root / COURSE / "feedback") == "denied"
        their_copy = trip.solver.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert trip.attempt(trip.blank, "read", their_copy) == "denied"
        assert trip.attempt(trip.blank, "list", trip.solver.home) == "denied"
        assert trip.attempt(trip.blank, "rename", trip.exchange_root / COURSE) == "denied"  # the sticky bit

    def test_collect_refuses_forged_submissions_and_links(self, trip):
        said = " ".join(trip.collect_output.split())
        assert f"names {trip.solver.name} but belongs to {trip.blank.name}" in said
        submitted = Workspace(trip.workspace).folder("submitted", ASSIGNMENT, trip.blank.name)
        assert (submitted / f"{ASSIGNMENT}.ipynb").is_file()  # their own newest folder, less the links
        assert not (submitted / "answers.ipynb").exists() and not (submitted / "notes.html").exists()
        assert not any(path.is_symlink() for path in trip.workspace.rglob("*"))
        assert said.count("a link or special file; not collected") == 2

    def test_the_instructors_workspace_is_closed_to_students(self, trip):
        assert trip.mode_before_release == 0o755
        assert stat.S_IMODE(trip.workspace.stat().st_mode) == 0o700
        workspace = Workspace(trip.workspace)
        for path in (workspace.notebook("source", ASSIGNMENT), workspace.gradebook,
                     workspace.notebook("submitted", ASSIGNMENT, trip.solver.name)):
            assert path.is_file()
            assert trip.attempt(trip.blank, "read", path) == "denied", path

    def test_the_exchange_is_laid_out_as_nbgrader_documents(self, trip, capsys):
        course = trip.exchange_root / COURSE
        assert stat.S_IMODE(trip.exchange_root.stat().st_mode) == 0o1777
        assert stat.S_IMODE((course / "inbound").stat().st_mode) & 0o777 == 0o733
        assert stat.S_IMODE((course / "feedback").stat().st_mode) & 0o777 == 0o711
        with capsys.disabled():
            print(f"\nstudents' Python: {trip.how}; exchange round trip, seconds per step: "
                  + ", ".join(f"{name} {seconds:.1f}" for name, seconds in trip.seconds.items()))


def test_unknown_assignment_and_missing_exchange_are_named(tmp_path):
    workspace = Workspace(tmp_path / "work", exchange=tmp_path)
    with pytest.raises(exchange.ExchangeError, match="Unknown assignment 99_nope"):
        exchange.release(workspace, ["99_nope"])
    with pytest.raises(exchange.ExchangeError, match="run `autodiff-course build` first"):
        exchange.collect(workspace, [])
    workspace.root.mkdir()
    workspace.gradebook.touch()
    with pytest.raises(exchange.ExchangeError, match=r"No exchange folder at .*chmod 1777"):
        exchange.return_feedback(Workspace(workspace.root, exchange=tmp_path / "missing"), [ASSIGNMENT])
