"""The grading engine's parts: the wire format, the confinement, parallel and resumed judging."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from course_support import built_workspace, grade

from course import demo
from course.grading import PLUGIN
from course.sandbox import wire
from course.sandbox.judge import Limits
from course.sandbox.plugin import StudentError, Unreadable
from course.sandbox.pool import judge_all, local_executor
from course.sandbox.verdicts import Job, VerdictStore


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


def test_the_wire_carries_plain_data_exactly():
    value = {"a": (np.arange(6.0).reshape(2, 3), np.float32(1.5), [1, "x", None]),
             "e": StudentError("ValueError", "bad", "x = 1"), "u": Unreadable("Thing"), "t": (True, 2.5)}
    back = roundtrip(value)
    np.testing.assert_array_equal(back["a"][0], value["a"][0])
    assert back["a"][1].dtype == np.float32 and back["a"][2] == [1, "x", None]
    assert back["e"] == value["e"] and back["u"] == value["u"] and back["t"] == (True, 2.5)


@pytest.mark.parametrize("forged", [
    {"__array__": "object", "shape": [1], "data": ""},
    {"__array__": "float64", "shape": [2], "data": "AAAA"},
    {"__pickle__": "gASV"},
    {"__array__": "float64", "shape": [-1], "data": ""},
])
def test_the_wire_refuses_anything_else(forged):
    with pytest.raises(wire.WireError):
        wire.decode(forged)


def test_the_confinement_hides_the_repository_and_allows_the_python_installation(tmp_path):
    code = textwrap.dedent(f"""
        import json, os, sys
        from course.sandbox.server import confine, prepare
        confine({str(tmp_path)!r}, prepare("grader_tests.probes"))
        outcome = {{}}
        for path in [{str(__file__)!r}, "/etc/hostname", os.__file__]:
            try:
                open(path).read(1)
                outcome[path] = "read"
            except OSError:
                outcome[path] = "denied"
        open({str(tmp_path / 'scratch.txt')!r}, "w").write("ok")
        with open({str(tmp_path / 'result.json')!r}, "w") as f:
            json.dump(outcome, f)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    outcome = json.loads((tmp_path / "result.json").read_text())
    assert outcome[__file__] == "denied" and outcome["/etc/hostname"] == "denied"
    assert list(outcome.values())[-1] == "read"
    assert (tmp_path / "scratch.txt").read_text() == "ok"


@pytest.fixture
def workspace(course_cache, tmp_path):
    return built_workspace(course_cache, tmp_path / "work")


def test_many_workers_give_the_grades_of_one(workspace, tmp_path):
    folder = demo.write_class(workspace, demo.simulated_class(typical=2), tmp_path / "class")
    VerdictStore.session(workspace.verdicts)
    twin = built_workspace(workspace.root, tmp_path / "twin")  # same build, same seed
    _, parallel = grade(workspace, folder, workers=2)
    _, sequential = grade(twin, folder, workers=1)
    assert parallel == sequential and len(parallel) > 50


def test_an_interrupted_run_resumes_without_judging_finished_work(workspace, tmp_path):
    folder = demo.write_class(workspace, demo.simulated_class(typical=1), tmp_path / "class")
    jobs = [Job(p.parent.name, p.stem, workspace.notebook("source", p.stem), p)
            for p in sorted(folder.rglob("*.ipynb"))]
    store = VerdictStore.session(workspace.verdicts)
    finished = []

    def stop_after_three(job):
        finished.append(job)
        if len(finished) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), local_executor(1) as executor:
        judge_all(jobs, store, PLUGIN, Limits(), executor, done=stop_after_three)
    stamps = {job: store.path(job).stat().st_mtime_ns for job in finished}
    with local_executor(1) as executor:
        judge_all(jobs, store, PLUGIN, Limits(), executor)
    assert all(store.path(job).stat().st_mtime_ns == stamp for job, stamp in stamps.items())
    assert all(store.load(job) is not None for job in jobs)


def test_a_plain_run_between_two_sandbox_runs_is_not_taken_for_recorded_verdicts(workspace, tmp_path):
    folder = demo.write_class(workspace, demo.simulated_class(typical=0)[:1], tmp_path / "class")
    _, first = grade(workspace, folder, engine="sandbox")
    markers = list(workspace.verdicts.rglob("*.recorded"))
    assert markers
    grade(workspace, folder, engine="plain")
    assert not any(marker.exists() for marker in markers)
    _, again = grade(workspace, folder, engine="sandbox")
    assert again == first and all(marker.exists() for marker in markers)
