"""Submissions that try to cheat or break grading, each graded by the real pipeline.

Every attacker hands in the reference answers for 01_jacobians except ``linear_model_step``,
where the attack sits. An attack that worked would earn ``linear_model_step`` its points
(the cheat defines the right function only if it got through), so each must score 0 there,
while every other function keeps full marks and every other student is graded as if the
attacker were not in the class. Faults (hangs, exits, memory, killed processes) cost only
the tests whose code they are in. Intake problems (malformed, misnamed, duplicate, empty)
get a sentence in the summary and lose nothing else.
"""

from __future__ import annotations

import contextlib
import socket
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest
from course_support import built_workspace, filled, grade, points, write

from course import demo, notebooks
from course.sandbox.judge import Limits

ASSIGNMENT, TARGET = "01_jacobians", "linear_model_step"
LIMITS = Limits(cell=4, check=4)
STUB = "def linear_model_step(x, y, w, b, lr):\n    return (0.0, 0.0, 0.0, 0.0, 0.0)\n"


def reference() -> str:
    cell = notebooks.cell_by_id(notebooks.read(notebooks.source_path(ASSIGNMENT)), TARGET).source
    return demo.answer(cell, None)


def cheat_if(condition: str) -> str:
    """Define the right answer only if ``condition`` (an attack) succeeds, else a stub."""
    return (f"{STUB}\ntry:\n{textwrap.indent(condition, '    ')}\n"
            f"{textwrap.indent(reference(), '    ')}\nexcept BaseException:\n    pass\n")


def attacks(workspace_root: str, port: int) -> dict[str, str]:
    """Each attack's solution cell; ``port`` is a TCP and UDP port on this machine that counts arrivals."""
    db = f"{workspace_root}/gradebook.db"
    return {
        "connects_over_tcp": cheat_if(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), "
                                      "timeout=2).sendall(b'grades please')"),
        "sends_over_udp": cheat_if(f"import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                                   f".sendto(b'x', ('127.0.0.1', {port}))"),
        "reads_gradebook_relative": cheat_if("open('../../../gradebook.db', 'rb').read(16)"),
        "reads_gradebook_absolute": cheat_if(f"open({db!r}, 'rb').read(16)"),
        "reads_hidden_tests": cheat_if("import grader_tests.a01_jacobians"),
        "reads_hidden_test_file": cheat_if("import os, grader_tests\n"
                                           "open(os.path.join(os.path.dirname(grader_tests.__file__),"
                                           " 'a01_jacobians.py')).read()"),
        "reads_solutions": cheat_if(f"open({str(notebooks.source_path(ASSIGNMENT))!r}).read()"),
        "rewrites_grades": STUB + textwrap.dedent(f"""
            import sqlite3
            try:
                connection = sqlite3.connect({db!r})
                connection.execute("UPDATE grade SET auto_score = 0")
                connection.execute("UPDATE grade SET manual_score = 99")
                connection.commit()
            except Exception:
                pass
            """),
        "patches_comparisons": STUB + textwrap.dedent("""
            import builtins, numpy
            builtins.abs = lambda x: 0
            builtins.all = builtins.any = lambda *a: True
            numpy.allclose = numpy.isclose = numpy.array_equal = lambda *a, **k: True
            numpy.testing.assert_allclose = lambda *a, **k: None
            """),
        "returns_equal_to_everything": textwrap.dedent("""
            class Anything(float):
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __array__(self, *a, **k):
                    import numpy
                    return numpy.array(0.0)
            def linear_model_step(x, y, w, b, lr):
                return tuple(Anything(0.0) for _ in range(5))
            """),
        "plants_fake_grader_tests": STUB + textwrap.dedent("""
            import sys, types
            fake = types.ModuleType("grader_tests")
            fake.grade = lambda *a, **k: None
            sys.modules["grader_tests"] = fake
            sys.modules["grader_tests.runner"] = fake
            """),
        "detects_grading": cheat_if("import os\nassert os.environ.get('NBGRADER_EXECUTION')"),
        "calls_the_reference": "from autodiff_kit.examples import linear_model_step\n",
        "calls_the_reference_through_a_copy": textwrap.dedent("""
            import autodiff_kit.examples as ex, importlib
            try:
                importlib.reload(ex)
            except Exception:
                pass
            def linear_model_step(*args):
                return ex.linear_model_step(*args)
            """),
        "kills_the_sandbox": cheat_if("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"),
        "loops_ignoring_sigint": textwrap.dedent("""
            import signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            def linear_model_step(x, y, w, b, lr):
                while True:
                    pass
            """),
        "exits": "import os\ndef linear_model_step(*args):\n    os._exit(0)\n",
        "raises_system_exit": "import sys\ndef linear_model_step(*args):\n    sys.exit(1)\n",
        "kills_itself": ("import os, signal\ndef linear_model_step(*args):\n"
                         "    os.kill(os.getpid(), signal.SIGKILL)\n"),
        "exhausts_memory": "import numpy\ndef linear_model_step(*args):\n    return numpy.ones(10**11)\n",
    }


class ConnectionCounter:
    """A TCP and a UDP socket on one loopback port, counting what reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp.setblocking(False)
        self.udp.setblocking(False)

    def count(self) -> int:
        arrived = 0
        for receive in (self.tcp.accept, lambda: self.udp.recvfrom(64)):
            while True:
                try:
                    receive()
                except BlockingIOError:
                    break
                arrived += 1
        return arrived

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


@pytest.fixture(scope="module")
def counter():
    listening = ConnectionCounter()
    yield listening
    listening.close()


@pytest.fixture(scope="module")
def graded(course_cache, tmp_path_factory, counter):
    """One class graded once: an honest student, a blank one, and every attacker."""
    root = tmp_path_factory.mktemp("attacks")
    workspace = built_workspace(course_cache, root / "work")
    folder = root / "class"
    write(folder, "honest", ASSIGNMENT, filled(workspace, ASSIGNMENT))
    write(folder, "victim", ASSIGNMENT, notebooks.read(workspace.notebook("release", ASSIGNMENT)))
    for name, source in attacks(str(workspace.root), counter.port).items():
        write(folder, name, ASSIGNMENT, filled(workspace, ASSIGNMENT, {TARGET: source}))
    # Cells that hang or exit at import time, after every function is defined.
    breakers = {"hangs_at_import": "while True:\n    pass\n", "exits_at_import": "import os\nos._exit(3)\n",
                "bombs_memory_at_import": "block = bytearray(10**11)\n"}
    for name, source in breakers.items():
        notebook = filled(workspace, ASSIGNMENT)
        notebook.cells.append(nbformat.v4.new_code_cell(source))
        write(folder, name, ASSIGNMENT, notebook)
    run, scores = grade(workspace, folder, limits=LIMITS)
    return workspace, run, scores


def split(workspace, scores, student):
    worth = points(workspace, ASSIGNMENT)
    target = {c: scores[student, ASSIGNMENT, c] for c in worth if c.startswith(f"test_{TARGET}_")}
    others = {c: (scores[student, ASSIGNMENT, c], worth[c]) for c in worth
              if not c.startswith(f"test_{TARGET}_")}
    return target, others


ATTACKS = list(attacks("/", 0))


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_earns_nothing_and_costs_nothing_else(graded, attack):
    workspace, _, scores = graded
    target, others = split(workspace, scores, attack)
    assert target and all(score == 0 for score in target.values()), target
    assert all(score == worth for score, worth in others.values()), others


@pytest.mark.parametrize("student", ["hangs_at_import", "exits_at_import", "bombs_memory_at_import"])
def test_a_cell_that_breaks_the_process_costs_only_itself(graded, student):
    workspace, _, scores = graded
    for cell, worth in points(workspace, ASSIGNMENT).items():
        assert scores[student, ASSIGNMENT, cell] == worth, cell


def test_nothing_sent_from_the_sandbox_arrives(graded, counter):
    assert counter.count() == 0


ESCAPEE = "adk-escapee"


def escaping_processes() -> int:
    """How many processes on this machine bear the escapee's name."""
    count = 0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            count += comm.read_text().strip() == ESCAPEE
    return count


def test_no_process_outlives_its_check(course_cache, tmp_path):
    """Each function's cells start a process that detaches (fork, setsid, fork) and sleeps forever.

    The cell then waits half a second, so that a watcher polling every 50 ms sees each escapee.
    """
    workspace = built_workspace(course_cache, tmp_path / "work")
    escape = textwrap.dedent(f"""
        import ctypes, os, threading, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                ctypes.CDLL(None).prctl(15, {ESCAPEE.encode()!r}, 0, 0, 0)  # PR_SET_NAME
                while True:
                    time.sleep(1)
            os._exit(0)
        threading.Thread(target=lambda: time.sleep(3600), daemon=True).start()
        time.sleep(0.5)
        """)
    notebook = filled(workspace, ASSIGNMENT)
    notebook.cells.append(nbformat.v4.new_code_cell(escape))
    write(tmp_path / "class", "escaper", ASSIGNMENT, notebook)
    seen, grading_done = [], threading.Event()

    def watch():
        while not grading_done.is_set():
            seen.append(escaping_processes())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        _, scores = grade(workspace, tmp_path / "class", workers=1, limits=LIMITS)
    finally:
        grading_done.set()
        watcher.join()
    functions = notebooks.solution_ids(notebooks.read(workspace.notebook("source", ASSIGNMENT)))
    assert max(seen) >= 1, "the escapee never started, so this test proves nothing"
    assert max(seen) < len(functions), "escapees of earlier checks were still alive during later ones"
    assert escaping_processes() == 0
    assert all(scores["escaper", ASSIGNMENT, cell] == worth
               for cell, worth in points(workspace, ASSIGNMENT).items())


def test_other_students_are_graded_as_if_no_attacker_were_there(graded):
    workspace, run, scores = graded
    for cell, worth in points(workspace, ASSIGNMENT).items():
        assert scores["honest", ASSIGNMENT, cell] == worth
        assert scores["victim", ASSIGNMENT, cell] == 0
    assert run.problems == []


@pytest.fixture
def workspace(course_cache, tmp_path):
    return built_workspace(course_cache, tmp_path / "work")


def test_deleted_and_edited_test_cells_are_restored_and_scored(workspace, tmp_path):
    kept = filled(workspace, ASSIGNMENT)
    kept.cells = [c for c in kept.cells if not notebooks.grade_id(c).startswith("test_")]
    stub = filled(workspace, ASSIGNMENT, {TARGET: STUB})
    stub.cells = [c for c in stub.cells if not notebooks.grade_id(c).startswith(f"test_{TARGET}_")]
    edited = filled(workspace, ASSIGNMENT, {TARGET: STUB})
    for cell in edited.cells:
        if notebooks.grade_id(cell).startswith("test_"):
            cell.source = "pass"
    for name, notebook in {"deleted": kept, "deleted_stub": stub, "edited_stub": edited}.items():
        write(tmp_path / "class", name, ASSIGNMENT, notebook)
    _, scores = grade(workspace, tmp_path / "class", limits=LIMITS)
    for cell, worth in points(workspace, ASSIGNMENT).items():
        assert scores["deleted", ASSIGNMENT, cell] == worth
        mine = cell.startswith(f"test_{TARGET}_")
        for student in ("deleted_stub", "edited_stub"):
            assert scores[student, ASSIGNMENT, cell] == (0 if mine else worth), (student, cell)


def test_intake_problems_are_reported_and_nothing_else_is_lost(workspace, tmp_path):
    folder = tmp_path / "class"
    good = filled(workspace, ASSIGNMENT)
    write(folder, "renamed", "01_Jacobians (1)", good)
    write(folder, "misnamed", "homework", good)
    write(folder, "twice", ASSIGNMENT, good)
    write(folder, "twice", "copy_of_01_jacobians", good)
    (folder / "malformed").mkdir()
    (folder / "malformed" / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')
    (folder / "empty").mkdir()
    (folder / "empty" / f"{ASSIGNMENT}.ipynb").write_text("")
    (folder / "nobody").mkdir()
    (folder / "stray.ipynb").write_text("{}")
    run, scores = grade(workspace, folder, limits=LIMITS)
    problems = "\n".join(run.problems)
    for expected in ("misnamed/homework.ipynb: the name matches no assignment",
                     "a second notebook for 01_jacobians",
                     "malformed/01_jacobians.ipynb: is not a readable notebook",
                     "empty/01_jacobians.ipynb: is an empty file", "nobody/: no notebook",
                     "stray.ipynb: not inside a student's folder"):
        assert expected in problems
    assert any("graded as 01_jacobians" in note for note in run.intake.notes)
    for student in ("renamed", "twice"):
        for cell, worth in points(workspace, ASSIGNMENT).items():
            assert scores[student, ASSIGNMENT, cell] == worth
