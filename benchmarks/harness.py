"""What the benchmarks share: how hard to measure, one table row, and the gradient check.

Every benchmark checks, before it times anything, that all libraries compute the same
gradient (``check_gradients_agree``): a fast wrong answer is not a result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from benchmarks.libraries import KIT, tree_leaves
from benchmarks.timing import Timing, median_of_rounds

K = TypeVar("K")

# Gradients of the same function in float64 by different libraries differ by rounding only
# (different BLAS, different order of summation); a wrong rule differs by far more.
RTOL, ATOL = 1e-6, 1e-10


@dataclass(frozen=True)
class Settings:
    """How a run measures: ``quick`` also shrinks the problems, which then have no targets."""

    quick: bool
    rounds: int
    repeats: int
    min_time: float
    warmup: int

    def measure(self, calls: Mapping[K, Callable[[], object]]) -> dict[K, Timing]:
        """The median over ``rounds`` interleaved rounds of each call's best-of-``repeats`` time
        (see ``benchmarks.timing.median_of_rounds``)."""
        return median_of_rounds(calls, rounds=self.rounds, repeats=self.repeats,
                                min_time=self.min_time, warmup=self.warmup)


FULL = Settings(quick=False, rounds=3, repeats=7, min_time=0.1, warmup=2)
QUICK = Settings(quick=True, rounds=1, repeats=2, min_time=0.0, warmup=1)


@dataclass(frozen=True)
class Row:
    """One line of the table: one library on one benchmark case.

    ``target`` and ``passed`` are set for the kit where the benchmark has targets (never in
    a quick run); ``passed`` is None if a target could not be judged (a library missing).
    """

    benchmark: str
    case: str
    library: str
    measurement: str
    timing: str
    target: str = ""
    passed: bool | None = None


@dataclass(frozen=True)
class Limit:
    """A target of the kit: the number called ``what`` is at most ``limit``."""

    what: str
    limit: float

    def __str__(self) -> str:
        return f"{self.what} ≤ {self.limit:g}"


def judge(limits: Sequence[tuple[Limit, float | None]]) -> tuple[str, bool | None]:
    """The target cell and the verdict for the kit's measured ``(limit, value)`` pairs.

    A value of None (measured against a library that is not installed) cannot be judged,
    and then neither can the row.
    """
    text = "; ".join(str(limit) for limit, _ in limits)
    if any(value is None for _, value in limits):
        return text, None
    return text, all(value <= limit.limit for limit, value in limits)


def ratio_to(seconds: float, others: Mapping[str, float], library: str) -> float | None:
    """``seconds`` as a multiple of ``library``'s time in ``others`` (None if it was not measured)."""
    return seconds / others[library] if library in others else None


def versus_autograd(library: str, seconds: Mapping[str, float], settings: Settings,
                    limit: Limit) -> tuple[str, str, bool | None]:
    """For the kit's row: the ``, 0.40× autograd`` note, the target cell and the verdict (none in a quick
    run); nothing for another library's row."""
    if library != KIT:
        return "", "", None
    ratio = ratio_to(seconds[KIT], seconds, "autograd")
    note = f", {ratio:.2f}× autograd" if ratio is not None else ""
    target, passed = judge([(limit, ratio)]) if not settings.quick else ("", None)
    return note, target, passed


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
