"""The hidden checks as the grading engine's plugin (``course.sandbox.plugin`` says what each name is).

The sandbox loads ``grader_tests.probes`` alone; the judge loads this module, and with it
the checks, the sentences and what each graded function may not use (``twins``).
"""

from __future__ import annotations

from grader_tests.checks import Check, checks_of
from grader_tests.feedback import GradingError as Failure
from grader_tests.runner import rng_for
from grader_tests.twins import forbidden

SANDBOX_SIDE = "grader_tests.probes"

__all__ = ["SANDBOX_SIDE", "Failure", "checks", "forbidden", "rng_for"]


def checks(assignment: str) -> list[Check]:
    """A fresh instance of every check of ``assignment``, in the order of its test cells."""
    return [check() for check in checks_of(assignment)]
