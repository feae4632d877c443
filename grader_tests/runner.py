"""Running a check inside the notebook's kernel, as a hidden test cell does under nbgrader.

``grade("03_layer_vjps", "test_linear_vjp_gW", globals())`` draws a fresh case, runs the
probe on the notebook's namespace, and judges the result. A failure raises ``TestFailed``,
whose traceback in Jupyter is the one-sentence diagnosis alone: no frame of the grader,
so neither the feedback nor the graded notebook shows how the check works.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from grader_tests import probes
from grader_tests.checks import find
from grader_tests.feedback import GradingError
from grader_tests.twins import disable, forbidden

SEED_VARIABLE = "AUTODIFF_COURSE_SEED"


class TestFailed(Exception):
    """A hidden test failed; shown in Jupyter as its message only."""

    __test__ = False  # not a pytest test class

    def _render_traceback_(self) -> list[str]:
        return [f"TestFailed: {self}"]


def rng_for(assignment: str, cell: str, seed: str | None = None) -> np.random.Generator:
    """A generator for one check: from the session ``seed``, else fresh entropy.

    The sandbox's judge passes the seed; in a notebook's kernel (the plain engine) it comes
    from ``AUTODIFF_COURSE_SEED`` in the kernel's environment (``course.preprocessors.SeededExecute``).
    With a seed, every student meets the same cases in one grading session, whichever
    engine runs the check and however many workers share the class.
    """
    seed = os.environ.get(SEED_VARIABLE) if seed is None else seed
    if seed is None:
        return np.random.default_rng()
    digest = hashlib.sha256(f"{seed}/{assignment}/{cell}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


@contextmanager
def forbidding(function: str) -> Iterator[None]:
    """What ``function`` may not use (``twins``) disabled while the block runs, then restored."""
    undo = [disable(dotted, message) for dotted, message in forbidden(function)]
    try:
        yield
    finally:
        for restore in reversed(undo):
            restore()


def failure(assignment: str, cell: str, namespace: dict, rng: np.random.Generator) -> str | None:
    """Run hidden check ``cell`` of ``assignment`` on ``namespace``: its message if it fails, else None."""
    check = find(assignment, cell)
    case = check.case(rng)

    def ask(request, payload):
        try:
            return case.oracle.answer(request, probes.to_plain(payload))
        except Exception as refusal:  # reaches the student's code as it does from the sandbox
            raise RuntimeError(str(refusal)) from None

    with forbidding(check.function):
        got = probes.run(case.probe, namespace, case.args, ask)
    try:
        check.judge(case, got)
    except GradingError as error:
        return str(error)
    return None


def grade(assignment: str, cell: str, namespace: dict) -> None:
    """The hidden test cell ``cell`` of ``assignment``: raise ``TestFailed`` if ``namespace`` fails it."""
    message = failure(assignment, cell, namespace, rng_for(assignment, cell))
    if message is not None:
        raise TestFailed(message)
