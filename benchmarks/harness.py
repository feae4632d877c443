"""What the benchmarks share: how hard to measure, one table row, and the gradient check.

Every benchmark checks, before it times anything, that all libraries compute the same
gradient (``check_gradients_agree``): a fast wrong answer is not a result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.libraries import KIT, tree_leaves
from benchmarks.timing import Timing, best_of

# Gradients of the same function in float64 by different libraries differ by rounding only
# (different BLAS, different order of summation); a wrong rule differs by far more.
RTOL, ATOL = 1e-6, 1e-10


@dataclass(frozen=True)
class Settings:
    """How a run measures: ``quick`` also shrinks the problems, which then have no targets."""

    quick: bool
    repeats: int
    min_time: float
    warmup: int

    def measure(self, fn: Callable[[], object]) -> Timing:
        """The best-of-``repeats`` time of ``fn()`` (see ``benchmarks.timing.best_of``)."""
        return best_of(fn, repeats=self.repeats, min_time=self.min_time, warmup=self.warmup)


FULL = Settings(quick=False, repeats=7, min_time=0.2, warmup=2)
QUICK = Settings(quick=True, repeats=2, min_time=0.0, warmup=1)


@dataclass(frozen=True)
class Row:
    """One line of the table: one library on one benchmark case.

    ``target`` and ``passed`` are set for the kit where the benchmark has a target (never
    in a quick run); ``reference`` is the number the issue gives for the other libraries.
    """

    benchmark: str
    case: str
    library: str
    measurement: str
    timing: str
    target: str = ""
    passed: bool | None = None
    reference: str = ""


@dataclass(frozen=True)
class Target:
    """What the kit must achieve on a measurement: below ``limit`` (``strict``) or at most it."""

    limit: float
    unit: str
    strict: bool = False

    def __str__(self) -> str:
        return f"{'<' if self.strict else '≤'} {self.limit:g}{self.unit}"

    def met_by(self, value: float) -> bool:
        return value < self.limit if self.strict else value <= self.limit


def make_row(benchmark: str, case: str, library: str, measurement: str, timing: str, *,
             value: float, target: Target | None, reference: float | None) -> Row:
    """A row, judging ``value`` against ``target`` for the kit and showing ``reference``
    (the issue's number, in the target's unit) for the other libraries."""
    judged = target is not None and library == KIT
    return Row(benchmark, case, library, measurement, timing,
               target=str(target) if judged else "",
               passed=target.met_by(value) if judged else None,
               reference=f"{reference:g}{target.unit}" if reference is not None and target else "")


class GradientMismatch(AssertionError):
    """Two libraries computed different gradients of the same function."""


def check_gradients_agree(benchmark: str, gradients: dict[str, Any]) -> None:
    """Raise ``GradientMismatch`` unless every gradient is ``np.allclose`` to the first one.

    ``gradients`` maps a library's name to its gradient as NumPy arrays (in lists and
    tuples). The first, the reference, must also be finite and not all zero, or agreeing
    with it would prove nothing.
    """
    (reference_name, reference), *others = gradients.items()
    reference_leaves = tree_leaves(reference)
    if not all(np.all(np.isfinite(leaf)) for leaf in reference_leaves) or not any(
            np.any(leaf) for leaf in reference_leaves):
        raise GradientMismatch(f"{benchmark}: the {reference_name} gradient is not finite or is "
                               "all zero, so comparing with it would prove nothing.")
    for name, gradient in others:
        leaves = tree_leaves(gradient)
        if len(leaves) != len(reference_leaves):
            raise GradientMismatch(f"{benchmark}: {name} returned {len(leaves)} gradient arrays, "
                                   f"{reference_name} {len(reference_leaves)}.")
        for i, (got, want) in enumerate(zip(leaves, reference_leaves, strict=True)):
            if np.shape(got) != np.shape(want) or not np.allclose(got, want, rtol=RTOL, atol=ATOL):
                raise GradientMismatch(
                    f"{benchmark}: the gradients of {name} and {reference_name} disagree at "
                    f"array {i} (shapes {np.shape(got)} and {np.shape(want)}, largest difference "
                    f"{_largest_difference(got, want)}). Not timing a wrong answer.")


def _largest_difference(a: Any, b: Any) -> str:
    try:
        return f"{np.max(np.abs(np.asarray(a) - np.asarray(b))):.3g}"
    except ValueError:  # shapes that do not broadcast
        return "n/a"
