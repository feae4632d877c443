"""The judge: runs a submission's checks in the sandbox and decides each test cell's score.

The judge is the trusted side. It loads the checks (a ``plugin``), owns a fork server
(``server.py``) that loads only the plugin's sandbox side, draws every case from the session's seed,
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
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import nbformat

from course.sandbox import landlock, namespaces, plugin, wire
from course.sandbox.verdicts import Verdict

MAX_CELL_CHARS = 200_000


@dataclass(frozen=True)
class Limits:
    """Seconds a cell may take to run, and a check to answer."""

    cell: float = 30.0
    check: float = 30.0


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

    def run_check(self, case: Any, limit: float):
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

    def __init__(self, sandbox_side: str) -> None:
        self.scratch = tempfile.mkdtemp(prefix="autodiff-sandbox-")
        ours, theirs = socket.socketpair()
        environment = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.scratch,
                       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "course.sandbox.server", str(theirs.fileno()), str(os.getpid()),
             sandbox_side],
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


class Judge:
    """Judges submissions with a plugin's checks in a sandbox of its own, for one session's ``seed``."""

    def __init__(self, plugin_name: str, seed: str, limits: Limits | None = None) -> None:
        check_sandbox_available()  # on a cluster's worker, the first sign that it cannot run the sandbox
        self.checks: ModuleType = plugin.load(plugin_name)
        self.seed, self.limits = seed, limits or Limits()
        self.sandbox = Sandbox(self.checks.SANDBOX_SIDE)

    def submission(self, assignment: str, source: nbformat.NotebookNode,
                   submission: nbformat.NotebookNode) -> list[Verdict]:
        """A verdict for every check of ``assignment`` on ``submission`` (locked cells from ``source``)."""
        if not self.sandbox.alive():  # should never happen (children cannot signal it), but lose nothing
            self.sandbox = Sandbox(self.checks.SANDBOX_SIDE)
        program = student_program(source, submission)
        checks = self.checks.checks(assignment)
        verdicts, left_out = [], {}
        for function in dict.fromkeys(check.function for check in checks):
            own = [check for check in checks if check.function == function]
            verdicts += self.function(assignment, function, own, program, left_out)
        return verdicts

    def function(self, assignment: str, function: str, checks: list, program: list[tuple[str, str]],
                 left_out: dict[str, str]) -> list[Verdict]:
        """Every check of one graded function, in as few children as the student's code allows.

        ``left_out`` maps the cells found to hang or kill the process to why; it is shared
        by the functions of one submission, so a bad cell costs its time limit once.
        """
        verdicts, pending, limits = [], list(checks), self.limits
        while pending:
            cells = [cell for cell in program if cell[0] not in left_out]
            child = self.sandbox.fork(self.checks.forbidden(function), cells)
            try:
                cell_errors = child.run_cells(limits.cell)
            except ChildLost as lost:
                child.kill()
                if lost.cell is None:  # died outside any cell: nothing left to leave out
                    message = lost_message(function, lost, limits)
                    return verdicts + [failed(check, message) for check in pending]
                left_out[lost.cell] = "did not finish" if lost.hung else "ended the process"
                continue
            note = "".join(f" (Cell `{cell}` was skipped: it {why}.)" for cell, why in left_out.items())
            if function in cell_errors:
                note += f" (Running the cell `{function}` raised {cell_errors[function]}.)"
            while pending:
                check = pending.pop(0)
                case = check.case(self.checks.rng_for(assignment, check.cell_id(), self.seed))
                try:
                    got = child.run_check(case, limits.check)
                except ChildLost as lost:
                    verdicts.append(failed(check, lost_message(function, lost, limits) + note))
                    child.kill()
                    break
                try:
                    check.judge(case, got)
                    verdicts.append(Verdict(check.cell_id(), check.points, check.points, ""))
                except self.checks.Failure as error:
                    verdicts.append(failed(check, str(error) + note))
            else:
                child.close()
        return verdicts

    def close(self) -> None:
        self.sandbox.close()


def failed(check: Any, message: str) -> Verdict:
    return Verdict(check.cell_id(), check.points, 0.0, message)
