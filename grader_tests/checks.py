"""The judge's side of a check: fresh inputs, the probe to run, and the verdict.

Each hidden test cell of a notebook is one ``Check``, named like the cell,
``test_<function>_<aspect>``, and worth the cell's points. A check draws a fresh ``Case``
from a random generator (new shapes and values on every grading run, so a hard-coded
answer fails), names the probe that runs the student's code on it (``grader_tests.probes``),
and judges the plain data the probe returns, raising ``GradingError`` with a sentence the
student can act on. Everything the verdict relies on stays on the judge's side: the case's
``expected`` data and its ``oracle`` (which answers the probe's questions and keeps count of
them) are never handed to the student's code.

Subclasses register themselves; ``grader_tests.a01_jacobians`` and its siblings hold them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from grader_tests.feedback import GradingError
from grader_tests.probes import StudentError, Unreadable

ASSIGNMENTS = ("01_jacobians", "02_orderings", "03_layer_vjps", "04_modes", "05_higher_order",
               "06_primitives")
REGISTRY: dict[tuple[str, str], type[Check]] = {}


class Oracle:
    """Answers a probe's ``ask(request, payload)`` and logs every request, for the verdict."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    def answer(self, request: str, payload: Any) -> Any:
        self.log.append((request, payload))
        handler = getattr(self, f"on_{request}", None)
        if handler is None:
            raise GradingError(f"The grader was asked for {request!r}, which this exercise does not offer.")
        return handler(payload)

    def count(self, request: str) -> int:
        return sum(1 for name, _ in self.log if name == request)


@dataclass
class Case:
    """One trial: the probe to run with its plain-data ``args``, and what only the judge knows."""

    probe: str
    args: dict
    expected: Any = None
    oracle: Oracle | None = None
    notes: dict = field(default_factory=dict)


class Check:
    """A hidden test: subclass, set the class attributes, define ``case`` and ``verdict``."""

    assignment: ClassVar[str]
    function: ClassVar[str]
    aspect: ClassVar[str]
    points: ClassVar[int] = 1
    abstract: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return
        key = (cls.assignment, cls.cell_id())
        if key in REGISTRY:
            raise ValueError(f"Two checks are named {key}.")
        REGISTRY[key] = cls

    @classmethod
    def cell_id(cls) -> str:
        return f"test_{cls.function}_{cls.aspect}"

    def case(self, rng: np.random.Generator) -> Case:
        raise NotImplementedError

    def verdict(self, case: Case, got: Any) -> None:
        raise NotImplementedError

    def judge(self, case: Case, got: Any) -> None:
        """Raise ``GradingError`` for a student error or unreadable result, else run ``verdict``."""
        if isinstance(got, StudentError):
            if got.kind == "RuntimeError" and got.message.startswith(f"`{self.function}` "):
                raise GradingError(got.message)  # it used what the exercise forbids (twins)
            if got.kind == "NotImplementedError":
                raise GradingError(f"`{self.function}` is not written yet: replace "
                                   "`raise NotImplementedError()` with your code.")
            where = f" in the line `{got.line}`" if got.line else ""
            detail = f": {got.message}" if got.message else "."
            raise GradingError(f"`{self.function}` raised {got.kind}{where}{detail}")
        if isinstance(got, Unreadable):
            raise GradingError(f"`{self.function}` returned an object of type `{got.kind}`, which is not "
                               "numbers: return NumPy arrays, floats, or tuples of them.")
        self.verdict(case, got)


def checks_of(assignment: str) -> list[type[Check]]:
    """Every check of ``assignment``, in the order they were defined."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"No assignment {assignment!r}; the assignments are {', '.join(ASSIGNMENTS)}.")
    importlib.import_module(f"grader_tests.a{assignment}")
    return [check for (name, _), check in REGISTRY.items() if name == assignment]


def find(assignment: str, cell: str) -> Check:
    """The check behind hidden test cell ``cell`` of ``assignment``."""
    for check in checks_of(assignment):
        if check.cell_id() == cell:
            return check()
    raise KeyError(f"{assignment} has no hidden check {cell!r}.")
