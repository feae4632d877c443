"""Hypothesis strategies shared by the primitive tests: shapes, axes, indices, and float64
arrays drawn inside the region where a primitive is smooth.

A *domain* is a function from a shape to a strategy of float64 arrays of that shape. Each
test picks the domain that keeps central differences valid for its primitive: away from
poles and domain edges (``log``, ``sqrt``, ``arcsin``, a divisor) and away from kinks and
ties (``abs``, ``maximum``, ``max``, ``clip``), where a finite difference straddles two
pieces and agrees with neither one-sided derivative.
"""

from __future__ import annotations

from collections.abc import Callable

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

Shape = tuple[int, ...]
Domain = Callable[[Shape], st.SearchStrategy[np.ndarray]]

MAX_DIMS = 3
MAX_SIDE = 3

shapes = hnp.array_shapes(min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE)
seeds = st.integers(0, 2**32 - 1)


def within(lo: float, hi: float) -> Domain:
    """Entries anywhere in ``[lo, hi]``."""
    elements = st.floats(lo, hi, allow_subnormal=False)
    return lambda shape: hnp.arrays(np.float64, shape, elements=elements)


def away_from_zero(lo: float = 0.5, hi: float = 2.0) -> Domain:
    """Entries with ``lo <= |x| <= hi``, of either sign (divisors: ``1/y`` has a pole at 0)."""
    elements = st.floats(lo, hi, allow_subnormal=False) | st.floats(-hi, -lo, allow_subnormal=False)
    return lambda shape: hnp.arrays(np.float64, shape, elements=elements)


REALS = within(-2.0, 2.0)
POSITIVE = within(0.5, 2.0)  # bases of power: x ** y needs log(x) for the derivative in y

# Separated entries lie on the lattice (2k + parity + 1/2) * STEP, each moved by at most
# STEP / 4. Entries of one array are distinct and at least 1.5 STEP apart, entries of
# arrays of different parity are at least STEP / 2 apart, no entry is closer than STEP / 4
# to 0, and the points (2k + 1 - parity + 1/2) * STEP of the other lattice, used as clip
# bounds, are at least STEP / 4 from every entry: all far beyond a difference step of 1e-6.
STEP = 0.1
_LATTICE = range(-32, 32)  # more points than the largest array (3 ** 3 entries) needs


def separated(parity: int = 0) -> Domain:
    """Distinct entries, apart from each other, from 0, and from the other parity's lattice."""

    def arrays(shape: Shape) -> st.SearchStrategy[np.ndarray]:
        size = int(np.prod(shape))
        points = st.permutations(_LATTICE).map(lambda ks: np.array(ks[:size], float).reshape(shape))
        jitter = within(-STEP / 4, STEP / 4)(shape)
        return st.builds(lambda k, j: (2 * k + parity + 0.5) * STEP + j, points, jitter)

    return arrays


def lattice_points(parity: int) -> Domain:
    """Points (2k + parity + 1/2) * STEP, repeats allowed: clip bounds that stay at least
    STEP / 4 away from every entry of ``separated(1 - parity)``."""
    elements = st.integers(-20, 19)
    return lambda shape: hnp.arrays(np.int64, shape, elements=elements).map(
        lambda k: (2 * k + parity + 0.5) * STEP)


def broadcast_shapes(num_shapes: int) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``num_shapes`` random shapes that broadcast together (0-d included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE
    ).map(lambda b: b.input_shapes)


def axes(ndim: int, kind: str) -> st.SearchStrategy:
    """An ``axis`` argument of a reduction: ``None``, an int, a negative int or a tuple."""
    if kind == "none":
        return st.none()
    if kind == "int":
        return st.integers(0, ndim - 1)
    if kind == "negative":
        return st.integers(-ndim, -1)
    if kind == "tuple":
        return hnp.valid_tuple_axes(ndim, min_size=1)
    raise ValueError(kind)


@st.composite
def repeated_indices(draw, n: int) -> np.ndarray | list[int]:
    """Integers into an axis of length ``n`` with at least one repeat, as an array or a list."""
    picks = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
    repeat = draw(st.sampled_from(picks))
    position = draw(st.integers(0, len(picks)))
    picks = [*picks[:position], repeat, *picks[position:]]
    return picks if draw(st.booleans()) else np.array(picks, dtype=np.intp)


@st.composite
def indices(draw, shape: Shape, with_array: bool = False):
    """An index for an array of ``shape`` (at least 1-D), without booleans.

    Each of the first few axes gets an int (possibly negative), a slice (any start, stop
    and sign of step) or, on at most one axis (surely one if ``with_array``), integers
    with repeated entries (an array or a list).
    """
    ndim = draw(st.integers(1, len(shape)))
    array_axis = draw((st.nothing() if with_array else st.none()) | st.integers(0, ndim - 1))
    parts = [
        draw(repeated_indices(n)) if axis == array_axis else draw(st.integers(-n, n - 1) | st.slices(n))
        for axis, n in enumerate(shape[:ndim])
    ]
    if len(parts) == 1 and draw(st.booleans()):
        return parts[0]  # x[i], x[a:b:c], x[array] rather than x[(i,)]
    return tuple(parts)


@st.composite
def some_true(draw, shape: Shape) -> np.ndarray:
    """A boolean mask of ``shape`` with at least one True entry."""
    mask = draw(hnp.arrays(np.bool_, shape))
    mask.flat[draw(st.integers(0, mask.size - 1))] = True
    return mask
