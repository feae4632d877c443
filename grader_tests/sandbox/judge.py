"""The judge: runs a submission's checks in the sandbox and decides each test cell's score.

The judge is the trusted side. It owns a fork server (``server.py``), draws every case,
answers the probes' questions, and judges the plain data that comes back. It never loads
anything the student wrote: it receives JSON over a socket. Per graded function it forks a
child that runs the student's cells and then that function's checks; a child that hangs
past its time limit is killed (SIGKILL to its process group, so ignoring signals does not
help) and one that dies is noted, and the remaining checks go to a fresh child, with any
cell that hung or killed the child left out. Test cells are taken from the source
notebook, never from the submission, so deleting or editing one changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

import nbformat

from grader_tests.checks import Check, checks_of
from grader_tests.feedback import GradingError
from grader_tests.runner import rng_for
from grader_tests.sandbox import landlock, namespaces, wire
from grader_tests.sandbox.twins import forbidden

MAX_CELL_CHARS = 200_000


@dataclass(frozen=True)
class Limits:
    """Seconds a cell may take to run, and a check to answer."""

    cell: float = 30.0
    check: float = 30.0


@dataclass(frozen=True)
class Verdict:
    cell: str
    points: float
    score: float
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


class SandboxUnavailable(RuntimeError):
    """The sandbox could not start (for instance, the kernel lacks Landlock)."""


def check_sandbox_available() -> None:
    """Raise ``SandboxUnavailable`` with one sentence if this machine cannot confine student code."""
    reason = namespaces.available()
    if reason is None and landlock.abi_version() < 1:
        reason = "the kernel has no Landlock (Linux 5.13 or newer, with Landlock enabled at boot, has it)"
    if reason is not None:
        raise SandboxUnavailable(
            f"The grading sandbox cannot run here: {reason}. Grade on a Linux machine or VM that has it, "
            "or choose --engine plain knowing that student code then runs with your rights (it can read "
            "the hidden tests and the solutions, and rewrite the gradebook).")


class ChildLost(Exception):
    """The child stopped answering: ``hung`` if it ran out of time, else it died."""

    def __init__(self, hung: bool, cell: str | None = None) -> None:
        super().__init__("hung" if hung else "died")
        self.hung, self.cell = hung, cell


class Child:
    """One forked child serving one graded function, talked to over its own socket."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock, self.pid = sock, pid

    def receive(self, deadline: float, cell: str | None = None) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ChildLost(hung=True, cell=cell)
        self.sock.settimeout(remaining)
        try:
            return wire.receive(self.sock)
        except TimeoutError:
            raise ChildLost(hung=True, cell=cell) from None
        except (wire.WireError, OSError):
            raise ChildLost(hung=False, cell=cell) from None

    def run_cells(self, limit: float) -> dict[str, str]:
        """Wait for the student's cells to run: ``{cell: error}`` for those that raised."""
        errors, current = {}, None
        while True:
            message = self.receive(time.monotonic() + limit, current)
            kind = message.get("kind")
            if kind == "cell_started":
                current = str(message.get("cell"))
            elif kind == "cell_done":
                if message.get("error"):
                    errors[str(message.get("cell"))] = str(message["error"])
                current = None
            elif kind == "cells_done":
                return errors

    def run_check(self, check: Check, case, limit: float):
        """Send ``case`` to the child, answer its questions, and return its plain result."""
        wire.send(self.sock, {"kind": "check", "probe": case.probe, "args": case.args})
        deadline = time.monotonic() + limit
        while True:
            message = self.receive(deadline)
            if message.get("kind") == "result":
                return message.get("value")
            if message.get("kind") == "ask" and case.oracle is not None:
                try:
                    value = case.oracle.answer(str(message.get("request")), message.get("payload"))
                    wire.send(self.sock, {"kind": "answer", "value": value})
                except Exception as refusal:  # a question the oracle cannot answer is refused, not fatal
                    wire.send(self.sock, {"kind": "refused", "message": str(refusal)})

    def close(self) -> None:
        with contextlib.suppress(OSError):
            wire.send(self.sock, {"kind": "done"})
        self.kill()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.sock.close()


class Sandbox:
    """A fork server in a confined process, reused for every submission this judge grades."""

    def __init__(self) -> None:
        self.scratch = tempfile.mkdtemp(prefix="autodiff-sandbox-")
        ours, theirs = socket.socketpair()
        environment = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.scratch,
                       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "grader_tests.sandbox.server", str(theirs.fileno()),
             str(os.getpid())],
            pass_fds=(theirs.fileno(),), cwd=self.scratch, env=environment,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        theirs.close()
        self.control = ours
        self.control.settimeout(120)
        try:
            ready = wire.receive(self.control)
        except (wire.WireError, OSError, TimeoutError):
            ready = {}
        if ready.get("kind") != "ready":
            error = self.process.stderr.read().decode(errors="replace").strip().splitlines()
            self.close()
            reason = error[-1] if error else "no message"
            raise SandboxUnavailable(f"The grading sandbox did not start: {reason}")

    def fork(self, forbidden: list[tuple[str, str]], cells: list[tuple[str, str]]) -> Child:
        ours, theirs = socket.socketpair()
        socket.send_fds(self.control, [b"F"], [theirs.fileno()])
        wire.send(self.control, {"forbidden": [list(pair) for pair in forbidden],
                                 "cells": [list(cell) for cell in cells]})
        theirs.close()
        reply = wire.receive(self.control)
        return Child(ours, int(reply["pid"]))

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.control.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


def grade_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def student_program(source: nbformat.NotebookNode,
                    submission: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """The code to run: the source's setup cells, then the student's solution and extra cells.

    Locked cells (setup, visible checks, hidden tests) are never taken from the submission.
    """
    locked = {grade_id(cell) for cell in source.cells
              if cell.get("metadata", {}).get("nbgrader", {}).get("locked")}
    program = [(grade_id(cell), cell.source) for cell in source.cells
               if cell.cell_type == "code" and grade_id(cell).startswith("setup")]
    for index, cell in enumerate(submission.cells):
        name = grade_id(cell)
        if cell.cell_type == "code" and name not in locked:
            program.append((name or f"your cell {index + 1}", str(cell.source)[:MAX_CELL_CHARS]))
    return program


def lost_message(function: str, lost: ChildLost, limits: Limits) -> str:
    if lost.hung:
        return (f"`{function}` did not finish within {limits.check:g} s: is there an infinite loop, or a "
                "computation far larger than needed?")
    return (f"The grading process running `{function}` ended abruptly (a call to exit or os._exit, a crash, "
            "or memory running out), so this test could not be completed.")


def judge_function(sandbox: Sandbox, assignment: str, function: str, checks: list[Check],
                   program: list[tuple[str, str]], limits: Limits, left_out: dict[str, str]) -> list[Verdict]:
    """Every check of one graded function, in as few children as the student's code allows.

    ``left_out`` maps the cells found to hang or kill the process to why; it is shared
    by the functions of one submission, so a bad cell costs its time limit once.
    """
    verdicts, pending = [], list(checks)
    while pending:
        cells = [cell for cell in program if cell[0] not in left_out]
        child = sandbox.fork(forbidden(function), cells)
        try:
            cell_errors = child.run_cells(limits.cell)
        except ChildLost as lost:
            child.kill()
            if lost.cell is None:  # died outside any cell: nothing left to leave out
                verdicts += [failed(check, lost_message(function, lost, limits)) for check in pending]
                return verdicts
            left_out[lost.cell] = "did not finish" if lost.hung else "ended the process"
            continue
        note = "".join(f" (Cell `{cell}` was skipped: it {why}.)" for cell, why in left_out.items())
        if function in cell_errors:
            note += f" (Running the cell `{function}` raised {cell_errors[function]}.)"
        while pending:
            check = pending.pop(0)
            case = check.case(rng_for(assignment, check.cell_id()))
            try:
                got = child.run_check(check, case, limits.check)
            except ChildLost as lost:
                verdicts.append(failed(check, lost_message(function, lost, limits) + note))
                child.kill()
                break
            try:
                check.judge(case, got)
                verdicts.append(Verdict(check.cell_id(), check.points, check.points, ""))
            except GradingError as error:
                verdicts.append(failed(check, str(error) + note))
        else:
            child.close()
    return verdicts


def failed(check: Check, message: str) -> Verdict:
    return Verdict(check.cell_id(), check.points, 0.0, message)


def judge_submission(sandbox: Sandbox, assignment: str, source: nbformat.NotebookNode,
                     submission: nbformat.NotebookNode, limits: Limits | None = None) -> list[Verdict]:
    """The verdict on every hidden test cell of ``assignment`` for one student's notebook."""
    limits = limits or Limits()
    program = student_program(source, submission)
    checks = [check() for check in checks_of(assignment)]
    functions = list(dict.fromkeys(check.function for check in checks))
    verdicts, left_out = [], {}
    for function in functions:
        own = [check for check in checks if check.function == function]
        verdicts += judge_function(sandbox, assignment, function, own, program, limits, left_out)
    return verdicts
