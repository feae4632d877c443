"""Every differentiable primitive of ``autodiff_kit.numpy``, checked against finite differences.

Each property test draws shapes, axes, indices and float64 entries with hypothesis, then
``assert_derivatives`` checks forward and reverse mode to second order (all four of
fwd/rev over fwd/rev) against central differences along random directions, and checks
that every cotangent has its input's shape and the output tangent the output's shape (a
missing ``sum_to`` after broadcasting can leave the adjoint identity intact, so only the
shape shows it). Entries are drawn where each primitive is smooth (see ``strategies``).

The last group checks the documented subgradients at kinks and ties directly: there a
finite difference straddles two pieces and cannot decide which choice was made.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import partial
from operator import attrgetter, itemgetter, methodcaller

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    MAX_DIMS,
    MAX_SIDE,
    POSITIVE,
    REALS,
    STEP,
    away_from_zero,
    axes,
    broadcast_shapes,
    indices,
    lattice_points,
    seeds,
    separated,
    shapes,
    some_true,
    within,
)

import autodiff_kit.numpy as anp
from autodiff_kit import jvp, vjp
from autodiff_kit.testing import check_grads


def assert_derivatives(data: st.DataObject, f: Callable, *args) -> None:
    """Both modes to order 2 against central differences, then the shapes of the derivatives."""
    rng = np.random.default_rng(data.draw(seeds, label="direction seed"))
    check_grads(f, args, modes=("fwd", "rev"), order=2, rng=rng)

    out, vjp_fn = vjp(f, *args)
    cotangents = vjp_fn(rng.standard_normal(np.shape(out)))
    assert len(cotangents) == len(args)
    for i, (cotangent, x) in enumerate(zip(cotangents, args, strict=True)):
        assert np.shape(cotangent) == np.shape(x), (
            f"the cotangent of input {i} has shape {np.shape(cotangent)}, the input {np.shape(x)}")

    out, tangent = jvp(f, args, tuple(rng.standard_normal(np.shape(x)) for x in args))
    assert np.shape(tangent) == np.shape(out), (
        f"the output tangent has shape {np.shape(tangent)}, the output {np.shape(out)}")


def draw_arrays(data: st.DataObject, domains, arg_shapes) -> list[np.ndarray]:
    return [data.draw(domain(shape), label=f"argument {i}")
            for i, (domain, shape) in enumerate(zip(domains, arg_shapes, strict=True))]


# ---------------------------------------------------------------------------------------
# Elementwise functions of one argument

UNARY = [
    pytest.param(anp.negative, REALS, id="negative"),
    pytest.param(anp.exp, REALS, id="exp"),
    pytest.param(anp.expm1, REALS, id="expm1"),
    pytest.param(anp.log, within(0.2, 3.0), id="log"),  # undefined at and below 0
    pytest.param(anp.log1p, within(-0.8, 3.0), id="log1p"),  # undefined at and below -1
    pytest.param(anp.sqrt, within(0.2, 3.0), id="sqrt"),  # infinite slope at 0
    pytest.param(anp.square, REALS, id="square"),
    pytest.param(anp.sin, REALS, id="sin"),
    pytest.param(anp.cos, REALS, id="cos"),
    pytest.param(anp.tan, within(-1.2, 1.2), id="tan"),  # poles at +-pi/2
    pytest.param(anp.arcsin, within(-0.9, 0.9), id="arcsin"),  # infinite slope at +-1
    pytest.param(anp.arccos, within(-0.9, 0.9), id="arccos"),
    pytest.param(anp.arctan, REALS, id="arctan"),
    pytest.param(anp.sinh, REALS, id="sinh"),
    pytest.param(anp.cosh, REALS, id="cosh"),
    pytest.param(anp.tanh, REALS, id="tanh"),
    pytest.param(anp.abs, separated(), id="abs"),  # kink at 0, which separated entries avoid
    pytest.param(operator.neg, REALS, id="-x"),
    pytest.param(abs, separated(), id="abs(x)"),
    pytest.param(lambda x: x**2, REALS, id="x**2"),  # a constant exponent allows any base
    pytest.param(lambda x: x**-1.5, POSITIVE, id="x**-1.5"),
    pytest.param(lambda x: 2 - x, REALS, id="2-x"),
    pytest.param(lambda x: 2.0**x, REALS, id="2.0**x"),  # power's rule for the exponent
    pytest.param(lambda x: 1 / x, away_from_zero(), id="1/x"),  # pole at 0
]


@pytest.mark.parametrize(("f", "domain"), UNARY)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_elementwise(f, domain, data):
    """f'(x) times the tangent or cotangent, for arrays of every rank up to 3 (0-d included)."""
    (x,) = draw_arrays(data, [domain], [data.draw(shapes, label="shape")])
    assert_derivatives(data, f, x)


# ---------------------------------------------------------------------------------------
# Binary functions with broadcasting

BINARY = [
    pytest.param(anp.add, REALS, REALS, id="add"),
    pytest.param(anp.subtract, REALS, REALS, id="subtract"),
    pytest.param(anp.multiply, REALS, REALS, id="multiply"),
    pytest.param(anp.divide, REALS, away_from_zero(), id="divide"),  # pole at a zero divisor
    pytest.param(anp.power, POSITIVE, REALS, id="power"),  # d/dy x**y = x**y log(x) needs x > 0
    # No ties: the first argument's entries and the second's lie on different lattices.
    pytest.param(anp.maximum, separated(0), separated(1), id="maximum"),
    pytest.param(anp.minimum, separated(0), separated(1), id="minimum"),
    pytest.param(operator.add, REALS, REALS, id="x+y"),
    pytest.param(operator.sub, REALS, REALS, id="x-y"),
    pytest.param(operator.mul, REALS, REALS, id="x*y"),
    pytest.param(operator.truediv, REALS, away_from_zero(), id="x/y"),
    pytest.param(operator.pow, POSITIVE, REALS, id="x**y"),
]

# The broadcasting patterns every binary primitive must get right, besides random ones.
CANONICAL_PAIRS = [((3,), (2, 3)), ((1, 3), (4, 1)), ((), (2, 3)), ((2, 1, 3), (3, 1))]


def check_both_orders(data, f, domains, shape_pair) -> None:
    """``f`` with the two shapes in one order, then in the other (each argument keeps its domain)."""
    for arg_shapes in (shape_pair, shape_pair[::-1]):
        assert_derivatives(data, f, *draw_arrays(data, domains, arg_shapes))


@pytest.mark.parametrize("shape_pair", CANONICAL_PAIRS, ids=str)
@pytest.mark.parametrize(("f", "first", "second"), BINARY)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_binary_canonical_broadcasting(f, first, second, shape_pair, data):
    """Cotangents summed back over broadcast axes, tangents stretched: the classic patterns."""
    check_both_orders(data, f, (first, second), shape_pair)


@pytest.mark.parametrize(("f", "first", "second"), BINARY)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_binary_random_broadcasting(f, first, second, data):
    """The same for random mutually broadcastable shapes of up to 3 axes, 0-d included."""
    check_both_orders(data, f, (first, second), data.draw(broadcast_shapes(2), label="shapes"))


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_where(data):
    """``where(c, x, y)``: the cotangent follows the branch taken; c, x, y broadcast together."""
    shape_c, shape_x, shape_y = data.draw(broadcast_shapes(3), label="shapes")
    condition = data.draw(hnp.arrays(np.bool_, shape_c), label="condition")
    x, y = draw_arrays(data, [REALS, REALS], [shape_x, shape_y])
    assert_derivatives(data, lambda x, y: anp.where(condition, x, y), x, y)


@pytest.mark.parametrize("clip", [anp.clip, lambda x, lo, hi: x.clip(lo, hi)], ids=["clip", "x.clip"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_clip(clip, data):
    """``clip(x, lo, hi)`` with scalar or array bounds broadcasting against x, or one bound None.

    The entries and the bounds lie on different lattices, so no entry is within STEP / 4 of
    a bound, where the slope jumps.
    """
    shape_x, shape_lo, shape_width = data.draw(broadcast_shapes(3), label="shapes")
    (x,) = draw_arrays(data, [separated(0)], [shape_x])
    lo = data.draw(lattice_points(1)(shape_lo), label="lo")
    width = data.draw(hnp.arrays(np.int64, shape_width, elements=st.integers(0, 10)), label="width")
    hi = lo + 2 * STEP * width  # on lo's lattice, and hi >= lo
    lo, hi = data.draw(st.sampled_from([(lo, hi), (None, hi), (lo, None)]), label="bounds")
    assert_derivatives(data, lambda x: clip(x, lo, hi), x)


# ---------------------------------------------------------------------------------------
# Reductions


def _method(name: str) -> Callable:
    return lambda x, axis, keepdims: getattr(x, name)(axis=axis, keepdims=keepdims)


# (reduction, domain, smallest side): max and min need entries free of ties, and std a
# variance away from 0 (the slope of sqrt is infinite there), so groups of at least two
# distinct entries.
REDUCTIONS = [
    pytest.param(anp.sum, REALS, 1, id="sum"),
    pytest.param(anp.mean, REALS, 1, id="mean"),
    pytest.param(anp.max, separated(), 1, id="max"),
    pytest.param(anp.min, separated(), 1, id="min"),
    pytest.param(anp.logsumexp, REALS, 1, id="logsumexp"),
    pytest.param(anp.var, REALS, 1, id="var"),
    pytest.param(anp.std, separated(), 2, id="std"),
    pytest.param(_method("sum"), REALS, 1, id="x.sum"),
    pytest.param(_method("mean"), REALS, 1, id="x.mean"),
    pytest.param(_method("max"), separated(), 1, id="x.max"),
    pytest.param(_method("min"), separated(), 1, id="x.min"),
    pytest.param(_method("var"), REALS, 1, id="x.var"),
    pytest.param(_method("std"), separated(), 2, id="x.std"),
]


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis_kind", ["none", "int", "negative", "tuple"])
@pytest.mark.parametrize(("reduce", "domain", "min_side"), REDUCTIONS)
@settings(max_examples=7, deadline=None)
@given(data=st.data())
def test_reductions(reduce, domain, min_side, axis_kind, keepdims, data):
    """Reduced axes put back as size 1 for the cotangent: over all axes, one, or several."""
    min_dims = 0 if axis_kind == "none" and min_side == 1 else 1
    shape = data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=MAX_DIMS, min_side=min_side,
                                       max_side=MAX_SIDE), label="shape")
    axis = data.draw(axes(len(shape), axis_kind), label="axis")
    (x,) = draw_arrays(data, [domain], [shape])
    assert_derivatives(data, lambda x: reduce(x, axis=axis, keepdims=keepdims), x)


# ---------------------------------------------------------------------------------------
# Products


@st.composite
def matmul_shapes(draw, rank_a: int, rank_b: int):
    """Shapes of ``a @ b``: vectors, matrices, or stacks whose batch axes broadcast."""
    n, k, m, batch = draw(st.tuples(*[st.integers(1, MAX_SIDE)] * 4))
    batch_a, batch_b = draw(st.sampled_from([(batch, batch), (batch, 1), (1, batch)]))
    a = (batch_a, n, k)[3 - rank_a:] if rank_a > 1 else (k,)
    b = (batch_b, k, m)[3 - rank_b:] if rank_b > 1 else (k,)
    return a, b


@pytest.mark.parametrize("matmul", [anp.matmul, operator.matmul], ids=["matmul", "a@b"])
@pytest.mark.parametrize("rank_b", [1, 2, 3])
@pytest.mark.parametrize("rank_a", [1, 2, 3])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_matmul(matmul, rank_a, rank_b, data):
    """$\\bar A = \\bar C B^T$, $\\bar B = A^T \\bar C$ for every pairing of 1-D, 2-D and 3-D operands."""
    arg_shapes = data.draw(matmul_shapes(rank_a, rank_b), label="shapes")
    assert_derivatives(data, matmul, *draw_arrays(data, [REALS, REALS], arg_shapes))


@st.composite
def dot_shapes(draw, rank_a: int, rank_b: int):
    """Shapes of ``dot(a, b)``: the last axis of a meets the second-to-last of b (or its only one)."""
    a, b = (list(draw(hnp.array_shapes(min_dims=r, max_dims=r, max_side=MAX_SIDE)))
            for r in (rank_a, rank_b))
    if a and b:
        b[-2 if len(b) > 1 else -1] = a[-1]
    return tuple(a), tuple(b)


DOT_RANKS = [(0, 0), (0, 2), (2, 0), (1, 1), (2, 1), (1, 2), (2, 2), (3, 1), (3, 2), (1, 3), (2, 3)]
# The method form needs an array on the left: a 0-d one turns into a NumPy scalar, which
# has no .dot, when the finite differences add a step to it.
DOT_CASES = [pytest.param(anp.dot, *ranks, id=f"dot-{ranks}") for ranks in DOT_RANKS] + [
    pytest.param(lambda a, b: a.dot(b), *ranks, id=f"a.dot-{ranks}") for ranks in DOT_RANKS if ranks[0]]


@pytest.mark.parametrize(("dot", "rank_a", "rank_b"), DOT_CASES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_dot(dot, rank_a, rank_b, data):
    """``dot`` as a product (0-d), a matmul (up to 2-D b), and a tensor contraction (3-D b)."""
    arg_shapes = data.draw(dot_shapes(rank_a, rank_b), label="shapes")
    assert_derivatives(data, dot, *draw_arrays(data, [REALS, REALS], arg_shapes))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_outer(data):
    """``outer`` of two arrays of any shape (flattened first, as in NumPy)."""
    arg_shapes = data.draw(st.tuples(shapes, shapes), label="shapes")
    assert_derivatives(data, anp.outer, *draw_arrays(data, [REALS, REALS], arg_shapes))


EINSUM_SUBSCRIPTS = [
    "ij,jk->ik",  # matrix product
    "bij,bjk->bik",  # batch matmul
    "ij->i",  # an index summed inside one operand
    "ij->j",
    "ijk->kij",  # a pure permutation
    "ij,ij->",  # full contraction
    "i,i->",
    "i,j->ij",  # outer product
    "ij,jk",  # implicit output: "ik"
    "ij,j",  # implicit output: "i"
    "ijk,ik->j",
    "ij,jk,kl->il",  # three operands
    "...ij,...jk->...ik",  # ellipsis, batch axes broadcasting
    "...ij,...jk",  # ellipsis with implicit output
    "...i,i->...",
]


@st.composite
def einsum_shapes(draw, subscripts: str):
    """Operand shapes for ``subscripts``: one random size per letter, broadcasting ``...`` axes.

    As in NumPy, a lettered axis may also have length 1 in one operand and broadcast
    against the letter's size in the others.
    """
    operands = subscripts.partition("->")[0].split(",")
    letters = sorted(set(subscripts) - set(",->."))
    sizes = draw(st.lists(st.integers(1, MAX_SIDE), min_size=len(letters), max_size=len(letters)))
    side = dict(zip(letters, sizes, strict=True))
    batches = draw(hnp.mutually_broadcastable_shapes(num_shapes=len(operands), max_dims=2,
                                                     max_side=MAX_SIDE)).input_shapes
    return tuple((batch if "..." in sub else ())
                 + tuple(1 if draw(st.integers(0, 3)) == 0 else side[c]  # length 1 one time in 4
                         for c in sub.replace("...", ""))
                 for sub, batch in zip(operands, batches, strict=True))


@pytest.mark.parametrize("subscripts", EINSUM_SUBSCRIPTS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_einsum(subscripts, data):
    """Each operand's cotangent is the einsum of the output cotangent with the other operands."""
    arg_shapes = data.draw(einsum_shapes(subscripts), label="shapes")
    operands = draw_arrays(data, [REALS] * len(arg_shapes), arg_shapes)
    assert_derivatives(data, lambda *ops: anp.einsum(subscripts, *ops), *operands)


# ---------------------------------------------------------------------------------------
# Moving entries: reshaping, transposing, indexing, joining, broadcasting
#
# Each strategy below draws one case: a function and the shapes of its arguments. The
# functions are partials and method callers, so a failure report shows their arguments.

nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=MAX_DIMS, max_side=MAX_SIDE)


def maybe_negative(axis: int, ndim: int, negative: bool) -> int:
    """``axis`` as is, or counted from the end."""
    return axis - ndim if negative else axis


def axis_in(ndim: int) -> st.SearchStrategy[int]:
    """An existing axis of an ``ndim``-array, counted from either end."""
    return st.integers(-ndim, ndim - 1)


@st.composite
def reshapes(draw, method: bool):
    shape = draw(shapes)
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(-1,), (1, -1), (size,), shape[::-1] or (1,), (*shape, 1)]))
    f = methodcaller("reshape", *target) if method else partial(anp.reshape, shape=target)
    return f, (shape,)


@st.composite
def transposes(draw, method: bool):
    shape = draw(shapes)
    ndim = len(shape)
    perm = draw(st.permutations(range(ndim)))
    negative = draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim))
    axes_ = tuple(maybe_negative(p, ndim, neg) for p, neg in zip(perm, negative, strict=True))
    f = methodcaller("transpose", *axes_) if method else partial(anp.transpose, axes=axes_)
    return f, (shape,)


@st.composite
def swapaxes(draw, method: bool):
    shape = draw(nonscalar_shapes)
    a, b = draw(axis_in(len(shape))), draw(axis_in(len(shape)))
    f = methodcaller("swapaxes", a, b) if method else partial(anp.swapaxes, axis1=a, axis2=b)
    return f, (shape,)


@st.composite
def moveaxes(draw):
    shape = draw(nonscalar_shapes)
    source, destination = draw(axis_in(len(shape))), draw(axis_in(len(shape)))
    return partial(anp.moveaxis, source=source, destination=destination), (shape,)


@st.composite
def expand_dims(draw):
    shape = draw(shapes)
    return partial(anp.expand_dims, axis=draw(st.integers(-len(shape) - 1, len(shape)))), (shape,)


@st.composite
def squeezes(draw, method: bool):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=2))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = None
    if ones and draw(st.booleans()):
        axis = maybe_negative(draw(st.sampled_from(ones)), len(shape), draw(st.booleans()))
    f = methodcaller("squeeze", axis) if method else partial(anp.squeeze, axis=axis)
    return f, (shape,)


@st.composite
def broadcast_shape_pairs(draw) -> tuple[tuple, tuple]:
    """A shape and a smaller one that broadcasts to it (fewer axes, or 1 for some sides)."""
    large = draw(shapes)
    kept = draw(st.integers(0, len(large)))  # the small shape has the last `kept` axes
    ones = draw(st.lists(st.booleans(), min_size=kept, max_size=kept))
    small = tuple(1 if one else n for n, one in zip(large[len(large) - kept:], ones, strict=True))
    return small, large


@st.composite
def broadcasts(draw):
    small, large = draw(broadcast_shape_pairs())
    return partial(anp.broadcast_to, shape=large), (small,)


@st.composite
def sums_to(draw):
    small, large = draw(broadcast_shape_pairs())
    return partial(anp.sum_to, shape=small), (large,)


@st.composite
def indexings(draw, with_array: bool = False):
    shape = draw(nonscalar_shapes)
    return itemgetter(draw(indices(shape, with_array))), (shape,)


def joined(join: Callable, *arrays, **kwargs):
    """``join(arrays, **kwargs)``: the joining functions take their arrays as one sequence."""
    return join(arrays, **kwargs)


def _with_sides(shape: tuple, axis: int, sides) -> tuple:
    """Copies of ``shape`` with the side along ``axis`` replaced by each of ``sides``."""
    axis %= len(shape)
    return tuple((*shape[:axis], n, *shape[axis + 1:]) for n in sides)


count = st.integers(1, 3)  # how many arrays are joined
sides = st.lists(st.integers(1, MAX_SIDE), min_size=1, max_size=3)


@st.composite
def concatenations(draw):
    shape = draw(nonscalar_shapes)
    axis = draw(axis_in(len(shape)))
    return partial(joined, anp.concatenate, axis=axis), _with_sides(shape, axis, draw(sides))


@st.composite
def stacks(draw):
    shape, k = draw(shapes), draw(count)
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return partial(joined, anp.stack, axis=axis), (shape,) * k


@st.composite
def hstacks(draw):
    rank = draw(st.integers(0, 2))
    if rank == 0:  # 0-d values become entries of a vector
        arg_shapes = ((),) * draw(count)
    else:
        shape = draw(hnp.array_shapes(min_dims=rank, max_dims=rank, max_side=MAX_SIDE))
        arg_shapes = _with_sides(shape, rank - 1, draw(sides))
    return partial(joined, anp.hstack), arg_shapes


@st.composite
def vstacks(draw):
    columns, rows = draw(st.integers(1, MAX_SIDE)), draw(sides)
    # Vectors become rows; matrices keep their rows.
    arg_shapes = tuple((columns,) if draw(st.booleans()) else (n, columns) for n in rows)
    return partial(joined, anp.vstack), arg_shapes


def nested_array(a, b):
    """Traced 0-d values, their product and a constant, in a nested list."""
    return anp.array([[a, 1.5], [b * a, a]])


@st.composite
def arrays_of_traced(draw, make: Callable):
    return partial(joined, make), (draw(shapes),) * draw(count)


SHAPING = [
    pytest.param(reshapes(method=False), id="reshape"),
    pytest.param(reshapes(method=True), id="x.reshape"),
    pytest.param(transposes(method=False), id="transpose"),
    pytest.param(transposes(method=True), id="x.transpose"),
    pytest.param(shapes.map(lambda s: (anp.transpose, (s,))), id="transpose(x)"),
    pytest.param(shapes.map(lambda s: (attrgetter("T"), (s,))), id="x.T"),
    pytest.param(swapaxes(method=False), id="swapaxes"),
    pytest.param(swapaxes(method=True), id="x.swapaxes"),
    pytest.param(moveaxes(), id="moveaxis"),
    pytest.param(expand_dims(), id="expand_dims"),
    pytest.param(squeezes(method=False), id="squeeze"),
    pytest.param(squeezes(method=True), id="x.squeeze"),
    pytest.param(shapes.map(lambda s: (anp.ravel, (s,))), id="ravel"),
    pytest.param(shapes.map(lambda s: (methodcaller("ravel"), (s,))), id="x.ravel"),
    pytest.param(shapes.map(lambda s: (methodcaller("flatten"), (s,))), id="x.flatten"),
    pytest.param(shapes.map(lambda s: (anp.atleast_1d, (s,))), id="atleast_1d"),
    pytest.param(broadcasts(), id="broadcast_to"),
    pytest.param(sums_to(), id="sum_to"),
    pytest.param(indexings(), id="x[index]"),
    pytest.param(indexings(with_array=True), id="x[repeated integer array]"),
    pytest.param(concatenations(), id="concatenate"),
    pytest.param(stacks(), id="stack"),
    pytest.param(hstacks(), id="hstack"),
    pytest.param(vstacks(), id="vstack"),
    pytest.param(arrays_of_traced(anp.array), id="array"),
    pytest.param(arrays_of_traced(anp.asarray), id="asarray"),
    pytest.param(st.just((nested_array, ((), ()))), id="array-nested"),
]


@pytest.mark.parametrize("case", SHAPING)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_moving_entries(case, data):
    """Linear maps that move or copy entries: the cotangent is moved back (and summed where
    an entry was used twice: repeated indices, broadcasting)."""
    f, arg_shapes = data.draw(case, label="case")
    assert_derivatives(data, f, *draw_arrays(data, [REALS] * len(arg_shapes), arg_shapes))


# ---------------------------------------------------------------------------------------
# Subgradients at kinks and ties, as documented in the README


def random_like(data, x) -> np.ndarray:
    """A random tangent or cotangent shaped like ``x``, from a drawn seed."""
    rng = np.random.default_rng(data.draw(seeds, label="seed"))
    return rng.standard_normal(np.shape(x))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_abs_has_slope_zero_at_zero(data):
    """d|x|/dx = 0 where x = 0 (and sign(x) elsewhere), in both modes."""
    shape = data.draw(shapes, label="shape")
    zero = data.draw(some_true(shape), label="zeros")
    x = np.where(zero, 0.0, data.draw(separated()(shape), label="x"))
    u, t = random_like(data, x), random_like(data, x)
    (g,) = vjp(anp.abs, x)[1](u)
    np.testing.assert_array_equal(g[zero], 0.0)
    np.testing.assert_array_equal(g[~zero], (np.sign(x) * u)[~zero])
    _, tangent = jvp(anp.abs, (x,), (t,))
    np.testing.assert_array_equal(tangent[zero], 0.0)
    np.testing.assert_array_equal(tangent[~zero], (np.sign(x) * t)[~zero])


@pytest.mark.parametrize("f", [anp.maximum, anp.minimum], ids=["maximum", "minimum"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_maximum_minimum_give_half_to_each_input_at_a_tie(f, data):
    """At x = y each input receives half the cotangent; elsewhere the winner receives all."""
    shape = data.draw(shapes, label="shape")
    tie = data.draw(some_true(shape), label="ties")
    x = data.draw(separated(0)(shape), label="x")
    y = np.where(tie, x, data.draw(separated(1)(shape), label="y"))
    x_wins = ~tie & (f(x, y) == x)
    u, tx, ty = random_like(data, x), random_like(data, x), random_like(data, x)

    gx, gy = vjp(f, x, y)[1](u)
    np.testing.assert_array_equal(gx[tie], u[tie] / 2)
    np.testing.assert_array_equal(gy[tie], u[tie] / 2)
    np.testing.assert_array_equal(gx[~tie], np.where(x_wins, u, 0.0)[~tie])
    np.testing.assert_array_equal(gy[~tie], np.where(x_wins, 0.0, u)[~tie])
    _, tangent = jvp(f, (x, y), (tx, ty))
    np.testing.assert_allclose(tangent, np.where(tie, (tx + ty) / 2, np.where(x_wins, tx, ty)),
                               rtol=1e-12)


@pytest.mark.parametrize("reduce", [anp.max, anp.min], ids=["max", "min"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_max_min_split_the_cotangent_equally_among_ties(reduce, data):
    """The k entries attaining the max (min) of a group get 1/k of its cotangent each, the
    others nothing; the JVP is the mean of their tangents."""
    shape = data.draw(nonscalar_shapes, label="shape")
    axis = data.draw(axes(len(shape), data.draw(st.sampled_from(["none", "negative", "tuple"]))),
                     label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = data.draw(separated()(shape), label="x")
    # Copy each group's extreme into the chosen entries: ties of 1 to all of the group.
    x = np.where(data.draw(some_true(shape), label="ties"), reduce(x, axis, keepdims=True), x)
    winners = x == reduce(x, axis, keepdims=True)
    k = np.sum(winners, axis=axis, keepdims=True)
    out = reduce(x, axis, keepdims=keepdims)
    u, t = random_like(data, out), random_like(data, x)
    u_kept = np.reshape(u, np.shape(k))

    (g,) = vjp(lambda x: reduce(x, axis, keepdims=keepdims), x)[1](u)
    np.testing.assert_array_equal(g[~winners], 0.0)
    np.testing.assert_allclose(g[winners], np.broadcast_to(u_kept / k, shape)[winners], rtol=1e-12)
    _, tangent = jvp(lambda x: reduce(x, axis, keepdims=keepdims), (x,), (t,))
    mean_of_winners = np.sum(np.where(winners, t, 0.0), axis=axis, keepdims=True) / k
    np.testing.assert_allclose(tangent, np.reshape(mean_of_winners, np.shape(out)), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_clip_has_slope_one_on_its_closed_interval(data):
    """Slope 1 at the bounds themselves and between them, 0 outside, in both modes."""
    shape = data.draw(shapes, label="shape")
    lo = data.draw(lattice_points(1)(()), label="lo")
    hi = lo + 2 * STEP * data.draw(st.integers(0, 10), label="width")
    at_lo, at_hi = data.draw(some_true(shape), label="at lo"), data.draw(some_true(shape), label="at hi")
    x = np.where(at_hi, hi, np.where(at_lo, lo, data.draw(separated(0)(shape), label="x")))
    inside = (x >= lo) & (x <= hi)
    u, t = random_like(data, x), random_like(data, x)

    (g,) = vjp(lambda x: anp.clip(x, lo, hi), x)[1](u)
    np.testing.assert_array_equal(g[at_lo | at_hi], u[at_lo | at_hi])
    np.testing.assert_array_equal(g, np.where(inside, u, 0.0))
    _, tangent = jvp(lambda x: anp.clip(x, lo, hi), (x,), (t,))
    np.testing.assert_array_equal(tangent, np.where(inside, t, 0.0))
