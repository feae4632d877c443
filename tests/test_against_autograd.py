"""autodiff_kit against autograd, an independent implementation, on random programs.

Each seed builds a random program (``random_program``): 3 to 12 operations, each drawn
from a random category of ``CATEGORIES`` (elementwise functions, arithmetic broadcast
against constants or earlier values, reductions, reshapes and joins, indexing,
products). Every operation is written once, as a function of the NumPy module ``m``, so
one program runs on ``autodiff_kit.numpy`` and on ``autograd.numpy`` alike. Both
libraries apply exact derivative formulas, so values, gradients, Jacobians, Hessians,
Hessian-vector products and VJPs must agree to rounding error.

A failure names the seed and lists the program, one operation per line;
``random_program(seed)`` rebuilds it. ``DIFF_SEEDS=3000`` runs a deeper search.

The programs stay where autograd itself is right and where both libraries' conventions
agree: no value on a ``clip`` bound (slope 1 in the kit, 0 in autograd), ``where`` and
``outer`` on equal shapes and vectors, no indexing of 0-d values, new axes put in before
``broadcast_to``, and no einsum axis of length 1 summed against a longer one (a separate
test covers that case).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import types
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import autodiff_kit.numpy as anp
from autodiff_kit import grad, hessian, hvp, jacfwd, jacrev, jvp, value_and_grad, vjp

autograd = pytest.importorskip("autograd")
agnp = pytest.importorskip("autograd.numpy")

SEEDS = range(int(os.environ.get("DIFF_SEEDS", 250)))  # DIFF_SEEDS=3000 for a deep search
RTOL = 1e-10
MAX_SIZE = 24  # entries per intermediate value: keeps Jacobians (a VJP per output entry) quick
BOUND = 20.0  # |entries| of every intermediate: exp, sinh, cosh and powers stay far from overflow
INPUT_SHAPES = [(), (5,), (2, 3), (3, 4), (2, 2, 3), (3, 1, 2), (1, 2, 2, 3)]  # <= 12 entries:
# a Hessian costs one forward-over-reverse pass per entry


def _autograd_logsumexp(x, axis=None, keepdims=False):
    """logsumexp in autograd.numpy (autograd's own, in autograd.scipy, needs SciPy).

    The shift by the maximum is taken outside every trace (``getval``), so it is a
    constant and adds nothing to the derivatives.
    """
    shift = np.max(autograd.tracer.getval(x), axis=axis, keepdims=True)
    out = agnp.log(agnp.sum(agnp.exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else agnp.squeeze(out, axis=axis)


# The oracle's NumPy module: autograd.numpy, plus logsumexp.
ORACLE = types.SimpleNamespace(**vars(agnp), logsumexp=_autograd_logsumexp)


# ---------------------------------------------------------------------------------------
# Programs


@dataclass(frozen=True)
class Step:
    """One operation: ``apply(m, *operands)``, the operands being earlier values by index.

    ``text`` shows the call with ``{0}``, ``{1}`` standing for the operands.
    """

    op: str
    text: str
    apply: Callable
    args: tuple[int, ...]


@dataclass(frozen=True)
class Program:
    """Values ``v0 = x``, ``v1 = y``, then one value per step; the last is the output."""

    seed: int
    x: np.ndarray
    y: np.ndarray
    steps: tuple[Step, ...]
    weights: np.ndarray  # shaped like the output, for the scalar ending

    def body(self, np_module, x, y):
        values = [x, y]
        for step in self.steps:
            values.append(step.apply(np_module, *(values[i] for i in step.args)))
        return values[-1]

    def scalar(self, np_module, x, y):
        """A scalar ending, nonlinear so that no Hessian is constant and none saturates."""
        return np_module.sum(self.weights * np_module.sin(self.body(np_module, x, y)))

    def vector(self, np_module, x, y):
        """A vector ending: the output flattened."""
        return np_module.reshape(self.body(np_module, x, y), (-1,))

    def __str__(self) -> str:
        lines = [f"seed {self.seed}, ops {[step.op for step in self.steps]}",
                 f"  v0 = x, shape {self.x.shape}", f"  v1 = y, shape {self.y.shape}"]
        for k, step in enumerate(self.steps, start=2):
            lines.append(f"  v{k} = " + step.text.format(*(f"v{i}" for i in step.args)))
        return "\n".join(lines)


def _evaluate(step: Step, values: list) -> np.ndarray | None:
    """The step's value on plain arrays, or None if it leaves the safe range."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            out = np.asarray(step.apply(ORACLE, *(values[i] for i in step.args)))
    except FloatingPointError:
        return None
    if not 1 <= out.size <= MAX_SIZE or out.ndim > 4 or not np.all(np.abs(out) <= BOUND):
        return None
    return out


@functools.cache
def random_program(seed: int) -> Program:
    """3 to 12 steps, each from a random category of ``CATEGORIES``.

    Each step takes the latest value; some also take an earlier one.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, INPUT_SHAPES[rng.integers(len(INPUT_SHAPES))])
    y = rng.uniform(-1.5, 1.5, _broadcastable_shape(rng, x.shape))
    values, steps, current = [x, y], [], 0
    for _ in range(rng.integers(3, 13)):
        out = None
        while out is None:  # draw until an operation applies and stays in range
            category = CATEGORIES[rng.integers(len(CATEGORIES))]
            step = category[rng.integers(len(category))](rng, values, current)
            out = None if step is None else _evaluate(step, values)
        steps.append(step)
        values.append(out)
        current = len(values) - 1
    weights = rng.standard_normal(values[-1].shape)
    return Program(seed, x, y, tuple(steps), weights)


# ---------------------------------------------------------------------------------------
# Operations. Each entry of OPS is a sampler ``(rng, values, i) -> Step | None`` that draws
# the constants (shapes, axes, matrices, masks) for the latest value ``values[i]``, or
# returns None when the operation does not apply to it. In ``apply``, ``m`` is the NumPy
# module: autodiff_kit.numpy or autograd.numpy.


def _constant(rng, shape):
    return rng.uniform(-1.5, 1.5, shape)


def _away_from_zero(rng, shape):
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _broadcastable_shape(rng, shape):
    """A shape that broadcasts to ``shape``: a suffix of it, some axes shrunk to 1."""
    suffix = shape[rng.integers(len(shape) + 1):]
    return tuple(1 if rng.random() < 0.3 else n for n in suffix)


def _random_axis(rng, ndim):
    """None, one axis, or several (possibly negative), as reductions take them."""
    kind = rng.integers(3)
    if kind == 0:
        return None
    if kind == 1:
        return int(rng.integers(-ndim, ndim))
    chosen = sorted(rng.choice(ndim, rng.integers(1, ndim + 1), replace=False))
    return tuple(int(a) - ndim * int(rng.integers(2)) for a in chosen)


def _random_reshape(rng, size):
    """A shape of 1 to 3 axes with ``size`` entries, sometimes with one -1."""
    dims, rest = [], size
    for _ in range(rng.integers(3)):
        d = int(rng.choice([d for d in range(1, rest + 1) if rest % d == 0]))
        dims.append(d)
        rest //= d
    dims = [*rng.permutation([*dims, rest]).tolist()]
    if rng.random() < 0.3:
        dims[rng.integers(len(dims))] = -1
    return tuple(dims)


def _partner(rng, values, i, fits):
    """The index of an earlier value (``i`` itself included) whose shape ``fits``, or None."""
    candidates = [j for j, v in enumerate(values) if fits(v.shape)]
    return int(rng.choice(candidates)) if candidates else None


def _broadcast_shape(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def _elementwise(op, text, fn):
    return lambda rng, values, i: Step(op, text, fn, (i,))


ELEMENTWISE = [
    _elementwise("sin", "sin({0})", lambda m, a: m.sin(a)),
    _elementwise("cos", "cos({0})", lambda m, a: m.cos(a)),
    _elementwise("tanh", "tanh({0})", lambda m, a: m.tanh(a)),
    _elementwise("arctan", "arctan({0})", lambda m, a: m.arctan(a)),
    _elementwise("sinh", "sinh({0})", lambda m, a: m.sinh(a)),
    _elementwise("cosh", "cosh({0})", lambda m, a: m.cosh(a)),
    _elementwise("exp", "exp({0})", lambda m, a: m.exp(a)),
    _elementwise("expm1", "expm1({0})", lambda m, a: m.expm1(a)),
    _elementwise("arcsin", "arcsin(0.9 * tanh({0}))", lambda m, a: m.arcsin(0.9 * m.tanh(a))),
    _elementwise("arccos", "arccos(0.9 * sin({0}))", lambda m, a: m.arccos(0.9 * m.sin(a))),
    _elementwise("square", "square({0})", lambda m, a: m.square(a)),
    _elementwise("negative", "-{0}", lambda m, a: -a),
    _elementwise("abs", "abs({0})", lambda m, a: m.abs(a)),
    _elementwise("log", "log({0} * {0} + 1)", lambda m, a: m.log(a * a + 1.0)),
    _elementwise("log1p", "log1p(square({0}))", lambda m, a: m.log1p(m.square(a))),
    _elementwise("sqrt", "sqrt({0} ** 2 + 1)", lambda m, a: m.sqrt(a**2 + 1.0)),
    _elementwise("tan", "tan(tanh({0}))", lambda m, a: m.tan(m.tanh(a))),
    _elementwise("softplus", "log1p(exp({0}))", lambda m, a: m.log1p(m.exp(a))),
    _elementwise("cube", "{0} ** 3", lambda m, a: a**3),
    _elementwise("reciprocal", "1 / ({0} * {0} + 1)", lambda m, a: 1.0 / (a * a + 1.0)),
    _elementwise("relu", "maximum({0}, 0)", lambda m, a: m.maximum(a, 0.0)),
    _elementwise("leaky_relu", "where({0} > 0, {0}, 0.1 * {0})",
                 lambda m, a: m.where(a > 0, a, 0.1 * a)),
]


def _clip(rng, values, i):
    """Random bounds, scalars or arrays (one may be None): no value sits on a bound.

    (At a bound the conventions differ: slope 1 in the kit, 0 in autograd.)
    """
    shape = _broadcastable_shape(rng, values[i].shape)
    lo, hi = -rng.uniform(0.1, 1.2, shape), rng.uniform(0.1, 1.2, shape)
    lo, hi = [(None, hi), (lo, None), (lo, hi), (lo, hi)][rng.integers(4)]
    text = "clip({0}, " + ", ".join("None" if b is None else f"C{shape}" for b in (lo, hi)) + ")"
    return Step("clip", text, lambda m, a: m.clip(a, lo, hi), (i,))


def _power(rng, values, i):
    p = rng.uniform(-1.5, 2.5)
    return Step("power", f"({{0}} ** 2 + 1) ** {p:.3f}", lambda m, a: m.power(a * a + 1.0, p), (i,))


def _scale(rng, values, i):
    c = float(_away_from_zero(rng, ()))
    return Step("scale", f"{c:.3f} * {{0}}", lambda m, a: c * a, (i,))


def _with_constant(op, text, fn, draw=_constant):
    """``fn(m, a, C)`` for a random constant C that broadcasts to the shape of ``a``."""

    def sample(rng, values, i):
        shape = _broadcastable_shape(rng, values[i].shape)
        c = draw(rng, shape)
        return Step(op, text.replace("C", f"C{shape}"), lambda m, a: fn(m, a, c), (i,))

    return sample


def _with_partner(op, text, fn):
    """``fn(m, a, b)`` for an earlier value ``b`` that broadcasts with ``a``."""

    def sample(rng, values, i):
        j = _partner(rng, values, i, lambda s: _broadcast_shape(values[i].shape, s) is not None)
        return Step(op, text, fn, (i, j))

    return sample


def _where_constant(rng, values, i):
    mask, c = rng.random(values[i].shape) < 0.5, _constant(rng, values[i].shape)
    return Step("where", "where(mask, {0}, C)", lambda m, a: m.where(mask, a, c), (i,))


def _where_partner(rng, values, i):
    """Same shapes: autograd's where does not sum cotangents back over broadcast axes."""
    j = _partner(rng, values, i, lambda s: s == values[i].shape)
    mask = rng.random(values[i].shape) < 0.5
    return Step("where", "where(mask, {0}, {1})", lambda m, a, b: m.where(mask, a, b), (i, j))


BINARY = [
    _clip, _power, _scale, _where_constant, _where_partner,
    _with_constant("add", "add({0}, C)", lambda m, a, c: m.add(a, c)),
    _with_constant("subtract", "C - {0}", lambda m, a, c: c - a),
    _with_constant("multiply", "{0} * C", lambda m, a, c: a * c),
    _with_constant("divide", "{0} / C", lambda m, a, c: a / c, draw=_away_from_zero),
    _with_constant("maximum", "maximum({0}, C)", lambda m, a, c: m.maximum(a, c)),
    _with_constant("minimum", "minimum(C, {0})", lambda m, a, c: m.minimum(c, a)),
    _with_constant("rpow", "C ** {0}", lambda m, a, c: c**a, draw=_positive),
    _with_partner("add", "{0} + {1}", lambda m, a, b: a + b),
    _with_partner("subtract", "subtract({0}, {1})", lambda m, a, b: m.subtract(a, b)),
    _with_partner("multiply", "multiply({0}, {1})", lambda m, a, b: m.multiply(a, b)),
    _with_partner("divide", "{0} / ({1} * {1} + 1)", lambda m, a, b: a / (b * b + 1.0)),
    _with_partner("maximum", "maximum({0}, {1})", lambda m, a, b: m.maximum(a, b)),
    _with_partner("minimum", "minimum({0}, {1})", lambda m, a, b: m.minimum(a, b)),
    _with_partner("power", "power({0} ** 2 + 1, tanh({1}))",
                  lambda m, a, b: m.power(a**2 + 1.0, m.tanh(b))),
    _with_partner("power", "maximum({0}, 0) ** (2.5 + 0.5 * tanh({1}))",  # base 0 at times
                  lambda m, a, b: m.maximum(a, 0.0) ** (2.5 + 0.5 * m.tanh(b))),
]


def _reduction(op, fn, positive_variance=False):
    """``fn(m, a, axis, keepdims)`` over a random axis, with or without keepdims."""

    def sample(rng, values, i):
        a = values[i]
        if a.ndim == 0:
            return None
        axis, keepdims = _random_axis(rng, a.ndim), bool(rng.integers(2))
        if positive_variance and np.min(np.var(a, axis=axis)) < 1e-2:
            return None  # std has an infinite slope at 0
        return Step(op, f"{op}({{0}}, axis={axis}, keepdims={keepdims})",
                    lambda m, a: fn(m, a, axis, keepdims), (i,))

    return sample


REDUCTIONS = [
    _reduction("sum", lambda m, a, axis, keepdims: m.sum(a, axis=axis, keepdims=keepdims)),
    _reduction("mean", lambda m, a, axis, keepdims: a.mean(axis=axis, keepdims=keepdims)),
    _reduction("max", lambda m, a, axis, keepdims: m.max(a, axis=axis, keepdims=keepdims)),
    _reduction("min", lambda m, a, axis, keepdims: a.min(axis=axis, keepdims=keepdims)),
    _reduction("logsumexp",
               lambda m, a, axis, keepdims: m.logsumexp(a, axis=axis, keepdims=keepdims)),
    _reduction("var", lambda m, a, axis, keepdims: m.var(a, axis=axis, keepdims=keepdims)),
    _reduction("std", lambda m, a, axis, keepdims: a.std(axis=axis, keepdims=keepdims),
               positive_variance=True),
]


def _reshape(rng, values, i):
    shape = _random_reshape(rng, values[i].size)
    if rng.random() < 0.5:
        return Step("reshape", f"reshape({{0}}, {shape})", lambda m, a: m.reshape(a, shape), (i,))
    return Step("reshape", f"{{0}}.reshape(*{shape})", lambda m, a: a.reshape(*shape), (i,))


def _ravel(rng, values, i):
    return Step("ravel", "ravel({0})", lambda m, a: m.ravel(a), (i,))


def _transpose(rng, values, i):
    if values[i].ndim < 3:
        return None  # T and swapaxes cover two axes
    axes = tuple(rng.permutation(values[i].ndim).tolist())
    return Step("transpose", f"transpose({{0}}, {axes})", lambda m, a: m.transpose(a, axes), (i,))


def _dot_t(rng, values, i):
    return None if values[i].ndim < 2 else Step("T", "{0}.T", lambda m, a: a.T, (i,))


def _swapaxes(rng, values, i):
    if values[i].ndim < 2:
        return None
    a1, a2 = (int(n) for n in rng.choice(values[i].ndim, 2, replace=False))
    return Step("swapaxes", f"swapaxes({{0}}, {a1}, {a2})", lambda m, a: m.swapaxes(a, a1, a2), (i,))


def _moveaxis(rng, values, i):
    ndim = values[i].ndim
    if ndim < 2:
        return None
    source, destination = int(rng.integers(-ndim, ndim)), int(rng.integers(-ndim, ndim))
    return Step("moveaxis", f"moveaxis({{0}}, {source}, {destination})",
                lambda m, a: m.moveaxis(a, source, destination), (i,))


def _expand_dims(rng, values, i):
    ndim = values[i].ndim
    axis = int(rng.integers(-ndim - 1, ndim + 1))
    return Step("expand_dims", f"expand_dims({{0}}, {axis})", lambda m, a: m.expand_dims(a, axis), (i,))


def _squeeze(rng, values, i):
    ones = [k for k, n in enumerate(values[i].shape) if n == 1]
    if not ones:
        return None
    axis = None if rng.random() < 0.3 else int(rng.choice(ones))
    return Step("squeeze", f"squeeze({{0}}, axis={axis})", lambda m, a: m.squeeze(a, axis=axis), (i,))


def _broadcast_to(rng, values, i):
    """Copies along a new axis (put in as size 1 first: autograd takes no new leading axes)."""
    shape = values[i].shape
    axis = int(rng.integers(len(shape) + 1))
    target = (*shape[:axis], int(rng.integers(2, 4)), *shape[axis:])
    return Step("broadcast_to", f"broadcast_to(expand_dims({{0}}, {axis}), {target})",
                lambda m, a: m.broadcast_to(m.expand_dims(a, axis), target), (i,))


def _joins_along(shape, axis):
    """Whether a shape may be joined to ``shape`` along ``axis``: equal on every other axis."""
    return lambda s: len(s) == len(shape) and all(
        p == q for k, (p, q) in enumerate(zip(s, shape, strict=True)) if k != axis % len(shape))


def _concatenate(rng, values, i):
    shape = values[i].shape
    if not shape:
        return None
    axis = int(rng.integers(-len(shape), len(shape)))
    j = _partner(rng, values, i, _joins_along(shape, axis))
    if rng.random() < 0.5:
        return Step("concatenate", f"concatenate([{{0}}, {{1}}], axis={axis})",
                    lambda m, a, b: m.concatenate([a, b], axis=axis), (i, j))
    return Step("concatenate", f"concatenate([{{0}}, {{1}}, {{0}}], axis={axis})",
                lambda m, a, b: m.concatenate([a, b, a], axis=axis), (i, j))


def _hstack(rng, values, i):
    """Joined along axis 0 for vectors, else along axis 1."""
    shape = values[i].shape
    if not shape:
        return None
    j = _partner(rng, values, i, _joins_along(shape, 0 if len(shape) == 1 else 1))
    return Step("hstack", "hstack([{0}, {1}])", lambda m, a, b: m.hstack([a, b]), (i, j))


def _stack(rng, values, i):
    ndim = values[i].ndim
    axis = int(rng.integers(-ndim - 1, ndim + 1))
    j = _partner(rng, values, i, lambda s: s == values[i].shape)
    if rng.random() < 0.5:
        return Step("stack", f"stack([{{0}}, {{1}}], axis={axis})",
                    lambda m, a, b: m.stack([a, b], axis=axis), (i, j))
    return Step("array", "array([{1}, {0}])", lambda m, a, b: m.array([b, a]), (i, j))


SHAPING = [_reshape, _ravel, _transpose, _dot_t, _swapaxes, _moveaxis, _expand_dims, _squeeze,
           _broadcast_to, _concatenate, _hstack, _stack]


def _index_step(op, index, i):
    return Step(op, f"{{0}}[{index!r}]", lambda m, a: a[index], (i,))


def _slice(rng, values, i):
    """Basic slicing: a slice per axis (steps may be negative), perhaps a new axis."""
    if values[i].ndim == 0:
        return None  # autograd cannot index 0-d values
    index = []
    for n in values[i].shape:
        start, stop = sorted(int(k) for k in rng.integers(0, n + 1, 2))
        if start == stop:
            start, stop = 0, n
        step = int(rng.choice([1, 1, 2, -1]))
        index.append(slice(start, stop, step) if step > 0 else slice(stop - 1, start - 1 or None, step))
    if rng.random() < 0.3:
        index.insert(int(rng.integers(len(index) + 1)), None)
    return _index_step("slice", tuple(index), i)


def _take(rng, values, i):
    """Integer-array indexing along one axis; entries may repeat."""
    shape = values[i].shape
    if not shape:
        return None
    axis = int(rng.integers(len(shape)))
    picks = rng.integers(-shape[axis], shape[axis], int(rng.integers(1, 5)))
    return _index_step("take", (*(slice(None),) * axis, picks), i)


def _integer_index(rng, values, i):
    """One axis dropped by an integer, the first axis or the last (after ``...``)."""
    shape = values[i].shape
    if not shape:
        return None
    if rng.random() < 0.5:
        return _index_step("int_index", int(rng.integers(-shape[0], shape[0])), i)
    return _index_step("int_index", (Ellipsis, int(rng.integers(shape[-1]))), i)


def _boolean_mask(rng, values, i):
    if values[i].ndim == 0:
        return None
    mask = rng.random(values[i].shape) < 0.6
    return _index_step("mask", mask, i) if mask.any() else None


def _gather(rng, values, i):
    """Entries picked by two integer arrays, on axes 0 and 1 or 0 and -1, with repeats."""
    shape = values[i].shape
    if len(shape) < 2:
        return None
    k, last = int(rng.integers(1, 6)), int(rng.integers(2))
    first, second = rng.integers(shape[0], size=k), rng.integers(shape[-last or 1], size=k)
    return _index_step("gather", (first, Ellipsis, second) if last else (first, second), i)


INDEXING = [_slice, _take, _integer_index, _boolean_mask, _gather]


def _matmul_constant(rng, values, i):
    a = values[i]
    if a.ndim == 0:
        return None
    c = _constant(rng, (a.shape[-1], int(rng.integers(1, 5))))
    return Step("matmul", f"{{0}} @ C{c.shape}", lambda m, a: a @ c, (i,))


def _rmatmul_constant(rng, values, i):
    a = values[i]
    if a.ndim == 0:
        return None
    c = _constant(rng, (int(rng.integers(1, 5)), a.shape[-2] if a.ndim >= 2 else a.shape[0]))
    return Step("rmatmul", f"C{c.shape} @ {{0}}", lambda m, a: c @ a, (i,))


def _matvec(rng, values, i):
    """A vector on the right (contracting the last axis) or on the left."""
    a = values[i]
    if a.ndim == 0:
        return None
    if rng.random() < 0.5:
        v = _constant(rng, a.shape[-1])
        return Step("matvec", "matmul({0}, v)", lambda m, a: m.matmul(a, v), (i,))
    v = _constant(rng, a.shape[-2] if a.ndim >= 2 else a.shape[0])
    return Step("vecmat", "matmul(v, {0})", lambda m, a: m.matmul(v, a), (i,))


def _dot(rng, values, i):
    a = values[i]
    if a.ndim == 0:
        return None
    n, k = a.shape[-1], int(rng.integers(1, 4))
    c = _constant(rng, [(n,), (n, k), (2, n, k)][rng.integers(3)])
    return Step("dot", f"dot({{0}}, C{c.shape})", lambda m, a: m.dot(a, c), (i,))


def _gram(rng, values, i):
    """Both factors traced: ``a @ b.T`` (or ``a @ b`` for vectors), ``b`` of ``a``'s shape."""
    a = values[i]
    if a.ndim == 0:
        return None
    j = _partner(rng, values, i, lambda s: s == a.shape)
    if a.ndim == 1:
        return Step("gram", "{0} @ {1}", lambda m, a, b: a @ b, (i, j))
    return Step("gram", "matmul({0}, swapaxes({1}, -1, -2))",
                lambda m, a, b: m.matmul(a, m.swapaxes(b, -1, -2)), (i, j))


def _subset(rng, letters, keep=0.6):
    return "".join(c for c in letters if rng.random() < keep)


def _einsum_constant(rng, values, i):
    """Contract some axes of ``a`` with a constant that adds a new axis z; maybe sum others."""
    a = values[i]
    if a.ndim == 0:
        return None
    mine = "abcd"[: a.ndim]
    contracted = _subset(rng, mine, keep=0.5)
    kept = _subset(rng, [c for c in mine if c not in contracted], keep=0.8)
    out = "".join(rng.permutation([*kept, "z"]).tolist())
    c = _constant(rng, (*(a.shape[mine.index(k)] for k in contracted), int(rng.integers(1, 4))))
    subscripts = f"{mine},{contracted}z" + ("" if rng.random() < 0.3 else f"->{out}")  # implicit output
    return Step("einsum", f"einsum('{subscripts}', {{0}}, C)", lambda m, a: m.einsum(subscripts, a, c), (i,))


def _einsum_partner(rng, values, i):
    """Two traced operands, the second with some axes summed to length 1 (einsum broadcasts
    them); the output keeps some axes, in any order.

    Only axes the output keeps are shrunk: autograd's einsum VJP gets the others wrong
    (``test_einsum_broadcasts_axes_of_length_one`` covers them).
    """
    a = values[i]
    mine = "abcd"[: a.ndim]
    out = "".join(rng.permutation(list(_subset(rng, mine))).tolist())
    shrunk = tuple(k for k, c in enumerate(mine) if c in out and rng.random() < 0.5)
    j = _partner(rng, values, i, lambda s: s == a.shape)
    subscripts = f"{mine},{mine}->{out}"
    return Step("einsum", f"einsum('{subscripts}', {{0}}, sum({{1}}, axis={shrunk}, keepdims=True))",
                lambda m, a, b: m.einsum(subscripts, a, m.sum(b, axis=shrunk, keepdims=True)), (i, j))


def _einsum_ellipsis(rng, values, i):
    a = values[i]
    if a.ndim == 0:
        return None
    c = _constant(rng, (a.shape[-1], int(rng.integers(1, 4))))
    return Step("einsum", "einsum('...i,ij->...j', {0}, C)",
                lambda m, a: m.einsum("...i,ij->...j", a, c), (i,))


def _einsum_broadcast(rng, values, i):
    """Two traced operands whose ``...`` axes broadcast against each other."""
    a = values[i]
    if a.ndim == 0:
        return None
    j = _partner(rng, values, i, lambda s: len(s) >= 1 and s[-1] == a.shape[-1]
                 and _broadcast_shape(a.shape, s) is not None)
    subscripts = ["...i,...i->...i", "...i,...i->...", "...i,...i->i...", "...i,...i"][rng.integers(4)]
    return Step("einsum", f"einsum('{subscripts}', {{0}}, {{1}})",
                lambda m, a, b: m.einsum(subscripts, a, b), (i, j))


def _einsum_single(rng, values, i):
    """One operand: a transpose with some axes summed."""
    mine = "abcd"[: values[i].ndim]
    out = "".join(rng.permutation(list(_subset(rng, mine, keep=0.7))).tolist())
    subscripts = f"{mine}->{out}"
    return Step("einsum", f"einsum('{subscripts}', {{0}})", lambda m, a: m.einsum(subscripts, a), (i,))


def _outer(rng, values, i):
    """A vector against a constant vector or an earlier vector (autograd's outer takes no more)."""
    a = values[i]
    if a.ndim != 1:
        return None
    if rng.random() < 0.5:
        v = _constant(rng, int(rng.integers(1, 4)))
        return Step("outer", "outer({0}, v)", lambda m, a: m.outer(a, v), (i,))
    j = _partner(rng, values, i, lambda s: len(s) == 1 and a.size * s[0] <= MAX_SIZE)
    return None if j is None else Step("outer", "outer({0}, {1})", lambda m, a, b: m.outer(a, b), (i, j))


PRODUCTS = [_matmul_constant, _rmatmul_constant, _matvec, _dot, _gram, _einsum_constant,
            _einsum_partner, _einsum_ellipsis, _einsum_broadcast, _einsum_single, _outer]

CATEGORIES = [ELEMENTWISE, BINARY, REDUCTIONS, SHAPING, INDEXING, PRODUCTS]
OPS = [sample for category in CATEGORIES for sample in category]


# ---------------------------------------------------------------------------------------
# Comparison


@contextlib.contextmanager
def reported(context: object):
    """Any failure inside, the kit's own exceptions included, ends by printing ``context``."""
    try:
        yield
    except Exception as error:
        error.add_note(str(context))
        raise


def assert_match(actual, expected, what: str) -> None:
    """The kit's ``actual`` equals autograd's ``expected``: same structure, shapes and values.

    Tolerance: exact formulas differ only by rounding, so rtol is tight. An entry that
    is zero, or that cancels, carries rounding error from the larger terms it is made of,
    so the absolute tolerance scales with the largest entry (and never goes below RTOL).
    """
    if isinstance(expected, (tuple, list, dict)):
        assert type(actual) is type(expected), \
            f"{what}: a {type(actual).__name__}, autograd gives a {type(expected).__name__}"
        assert len(actual) == len(expected), f"{what}: {len(actual)} parts, autograd gives {len(expected)}"
        for key in list(expected) if isinstance(expected, dict) else range(len(expected)):
            assert_match(actual[key], expected[key], f"{what}[{key!r}]")
        return
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, autograd gives {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, autograd gives {expected.dtype}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * scale,
                               err_msg=f"{what} differs from autograd's")


# ---------------------------------------------------------------------------------------
# Tests


def test_generator_reaches_every_operation_and_length():
    rng = np.random.default_rng(0)
    examples = [[rng.standard_normal(shape)] * 2 for shape in [(1, 2, 3), (4,)]]
    every = set()
    for sample in OPS:
        steps = [step for step in (sample(rng, values, 1) for values in examples) if step]
        assert steps, f"{sample.__name__} applies to none of the examples"
        every |= {step.op for step in steps}
    programs = [random_program(seed) for seed in SEEDS]
    used = {step.op for p in programs for step in p.steps}
    assert every <= used, f"never drawn: {sorted(every - used)}"
    assert {len(p.steps) for p in programs} >= {3, 12}


@pytest.mark.parametrize("seed", SEEDS)
def test_value_and_grad(seed):
    program = random_program(seed)
    oracle = functools.partial(program.scalar, ORACLE)
    with reported(program):
        actual = value_and_grad(functools.partial(program.scalar, anp), argnums=(0, 1))(
            program.x, program.y)
        expected = (oracle(program.x, program.y),
                    autograd.grad(lambda xy: oracle(*xy))((program.x, program.y)))
        assert_match(actual, expected, "(value, grad)")


@pytest.mark.parametrize("seed", SEEDS)
def test_jacobians(seed):
    program = random_program(seed)
    with reported(program):
        expected = autograd.jacobian(lambda x: program.vector(ORACLE, x, program.y))(program.x)
        for name, jacobian in (("jacfwd", jacfwd), ("jacrev", jacrev)):
            actual = jacobian(lambda x: program.vector(anp, x, program.y))(program.x)
            assert_match(actual, expected, name)


@pytest.mark.parametrize("seed", SEEDS)
def test_hessians(seed):
    """The kit's ``hessian`` (forward over reverse) and reverse over reverse."""
    program = random_program(seed)
    f = lambda x: program.scalar(anp, x, program.y)
    with reported(program):
        expected = autograd.hessian(lambda x: program.scalar(ORACLE, x, program.y))(program.x)
        assert_match(hessian(f)(program.x), expected, "hessian")
        assert_match(jacrev(jacrev(f))(program.x), expected, "jacrev(jacrev(f))")


@pytest.mark.parametrize("seed", SEEDS)
def test_hessian_vector_products(seed):
    """$H v$ by ``hvp`` and by reverse over forward; $w^\\top H v$ by forward over forward.

    (Whole Hessians by ``jacfwd`` over forward mode cost $n^2$ passes: too slow here.)
    """
    program = random_program(seed)
    v, w = np.random.default_rng(seed).standard_normal((2, *program.x.shape))
    f = lambda x: program.scalar(anp, x, program.y)
    directional = lambda x: jvp(f, (x,), (v,))[1]  # x -> <grad f(x), v>
    with reported(program):
        expected = autograd.hessian_vector_product(lambda x: program.scalar(ORACLE, x, program.y))(
            program.x, v)
        assert_match(hvp(f, program.x, v), expected, "hvp")
        assert_match(grad(directional)(program.x), expected, "grad of jvp")
        assert_match(jvp(directional, (program.x,), (w,))[1], np.sum(w * expected), "jvp of jvp")


@pytest.mark.parametrize("seed", SEEDS)
def test_vjp_with_random_cotangent(seed):
    program = random_program(seed)
    with reported(program):
        oracle_vjp, expected_out = autograd.make_vjp(lambda xy: program.body(ORACLE, *xy))(
            (program.x, program.y))
        u = np.random.default_rng(seed).standard_normal(np.shape(expected_out))
        out, vjp_fn = vjp(functools.partial(program.body, anp), program.x, program.y)
        assert_match(out, expected_out, "output")
        assert_match(vjp_fn(u), oracle_vjp(u), "vjp")


@pytest.mark.parametrize(("subscripts", "a_shape", "b_shape"), [
    ("ij,ij->j", (2, 3), (1, 3)),
    ("ij,ij->j", (1, 3), (2, 3)),
    ("ij,ij->", (2, 3), (1, 1)),
    ("ijk,ijk->ik", (2, 3, 2), (2, 1, 2)),
    ("ij,jk->k", (2, 3), (1, 2)),
])
def test_einsum_broadcasts_axes_of_length_one(subscripts, a_shape, b_shape):
    """einsum stretches an axis of length 1 to the other operand's length, like NumPy.

    The kit's derivatives are compared with autograd's for the same einsum with the
    broadcast written out: autograd's own einsum VJP returns the wrong shape here.
    """
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)

    def f(np_module, a, b, broadcast_first=False):
        if broadcast_first:
            a_sub, b_sub = subscripts.split("->")[0].split(",")
            sizes = {c: n for sub, x in ((a_sub, a), (b_sub, b)) for c, n in zip(sub, x.shape, strict=True)
                     if n != 1}
            a = np_module.broadcast_to(a, tuple(sizes.get(c, 1) for c in a_sub))
            b = np_module.broadcast_to(b, tuple(sizes.get(c, 1) for c in b_sub))
        return np_module.sum(np_module.sin(np_module.einsum(subscripts, a, b)))

    oracle = lambda a, b: f(ORACLE, a, b, broadcast_first=True)
    with reported(f"einsum('{subscripts}') of shapes {a_shape} and {b_shape}"):
        for argnum in (0, 1):
            assert_match(grad(functools.partial(f, anp), argnums=argnum)(a, b),
                         autograd.grad(oracle, argnum)(a, b), f"grad {argnum}")
            assert_match(hessian(functools.partial(f, anp), argnums=argnum)(a, b),
                         autograd.hessian(oracle, argnum)(a, b), f"hessian {argnum}")


def mlp_loss(np_module, params, inputs, labels):
    """Cross-entropy of a tanh MLP, plus a weight penalty scaled by the parameter ``decay``."""
    h = inputs
    *hidden, last = params["layers"]
    for layer in hidden:
        h = np_module.tanh(h @ layer["W"] + layer["b"])
    logits = h @ last["W"] + last["b"]
    picked = logits[np.arange(len(labels)), labels]
    penalty = sum(np_module.sum(layer["W"] ** 2) for layer in params["layers"])
    return np_module.mean(np_module.logsumexp(logits, axis=1) - picked) + params["decay"] * penalty


@pytest.mark.parametrize("seed", range(5))
def test_mlp_gradient_on_a_pytree(seed):
    rng = np.random.default_rng(seed)
    sizes = [int(n) for n in rng.integers(2, 6, rng.integers(2, 5))]
    params = {
        "layers": [{"W": rng.standard_normal((m, n)), "b": rng.standard_normal(n)}
                   for m, n in itertools.pairwise(sizes)],
        "decay": 0.1,
    }
    inputs, labels = rng.standard_normal((6, sizes[0])), rng.integers(0, sizes[-1], 6)
    with reported(f"MLP seed {seed}, layer sizes {sizes}"):
        actual = value_and_grad(mlp_loss, argnums=1)(anp, params, inputs, labels)
        expected = (mlp_loss(ORACLE, params, inputs, labels),
                    autograd.grad(mlp_loss, argnum=1)(ORACLE, params, inputs, labels))
        assert_match(actual, expected, "(loss, grad)")
