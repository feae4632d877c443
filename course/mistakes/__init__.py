"""Typical student mistakes, as edits of the reference solutions, to prove the grading fair.

Each ``Mistake`` rewrites one solution cell (the cell whose ``grade_id`` is the graded
function) by replacing a snippet of the reference solution with what a student plausibly
writes instead. The test suite grades every mistaken notebook with real nbgrader and checks
that it loses points on that function and nowhere else; ``autodiff-course demo`` uses the
same edits to simulate a class.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """In the solution cell of ``function``, ``old`` (which occurs exactly once) becomes ``new``."""

    assignment: str
    function: str
    what: str
    old: str
    new: str

    def apply(self, source: str) -> str:
        """The cell ``source`` with the mistake made, or ``ValueError`` if ``old`` is not there once."""
        count = source.count(self.old)
        if count != 1:
            raise ValueError(f"Mistake {self.what!r}: the solution of {self.function} contains "
                             f"{self.old!r} {count} times, not once.")
        return source.replace(self.old, self.new)


def mistakes_of(assignment: str) -> list[Mistake]:
    """The catalogued mistakes of ``assignment``."""
    module = importlib.import_module(f"course.mistakes.a{assignment}")
    return list(module.MISTAKES)
