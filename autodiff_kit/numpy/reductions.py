"""Reductions over axes: ``sum``, ``mean``, ``max``, ``min``, ``logsumexp`` (and ``var``, ``std``).

Each VJP first puts back the reduced axes (as size 1) so the output cotangent broadcasts
against the input: ``sum`` hands every entry the cotangent unchanged, ``mean`` a share of
it, ``max`` only the entries that attained the maximum.
"""

from __future__ import annotations

import math

import numpy as np

from autodiff_kit.numpy.arithmetic import _documented, divide, equal, multiply, subtract
from autodiff_kit.numpy.broadcasting import broadcast_to, shape_of
from autodiff_kit.numpy.elementwise import exp, sqrt, square
from autodiff_kit.numpy.shaping import reshape
from autodiff_kit.tracing import defjvp, defvjp, primitive


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


def _kept_shape(shape: tuple[int, ...], axis) -> tuple[int, ...]:
    """``shape`` with the reduced axes kept as size 1 (what ``keepdims=True`` gives)."""
    if isinstance(axis, int):  # the common case, without the general loop
        axis %= len(shape)
        return (*shape[:axis], 1, *shape[axis + 1:])
    reduced = _axes(axis, len(shape))
    return tuple(1 if i in reduced else n for i, n in enumerate(shape))


def _count(shape: tuple[int, ...], axis) -> int:
    return math.prod(shape[a] for a in _axes(axis, len(shape)))


def _keep_reduced_axes(y, x, axis):
    """A reduction's output ``y`` reshaped to broadcast against its input ``x`` (a scalar already does)."""
    kept = _kept_shape(shape_of(x), axis)
    return y if shape_of(y) in ((), kept) else reshape(y, kept)


@primitive
def sum(x, axis=None, keepdims=False):
    """$\\sum_i x_i$ over ``axis`` (all axes when ``None``), as ``np.sum``.

    Each $x_i$ receives the cotangent of the sum it entered, $\\bar x_i = \\bar y$ (broadcast
    back over the summed axes); forward, $\\dot y = \\sum_i \\dot x_i$.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.sum(x, axis=0) * np.array([1.0, 2.0])))(np.zeros((3, 2)))
    array([[1., 2.],
           [1., 2.],
           [1., 2.]])
    """
    return np.sum(x, axis=axis, keepdims=keepdims)


defvjp(sum, lambda g, ans, x, axis=None, keepdims=False:
       broadcast_to(_keep_reduced_axes(g, x, axis), shape_of(x)))
defjvp(sum, lambda t, ans, x, axis=None, keepdims=False: sum(t, axis, keepdims=keepdims))


@primitive
def mean(x, axis=None, keepdims=False):
    """$\\frac1N \\sum_i x_i$ over ``axis`` (all axes when ``None``), as ``np.mean``.

    Each of the $N$ entries averaged receives $1/N$ of the cotangent: $\\bar x_i = \\bar y / N$.

    >>> from autodiff_kit import grad
    >>> grad(anp.mean)(np.zeros(4))
    array([0.25, 0.25, 0.25, 0.25])
    """
    return np.mean(x, axis=axis, keepdims=keepdims)


defvjp(mean, lambda g, ans, x, axis=None, keepdims=False: broadcast_to(
    divide(_keep_reduced_axes(g, x, axis), _count(shape_of(x), axis)), shape_of(x)))
defjvp(mean, lambda t, ans, x, axis=None, keepdims=False: mean(t, axis, keepdims=keepdims))


def _share_of_extremum(ans, x, axis):
    """1/k at the k entries equal to the max (or min), 0 elsewhere: ties share equally."""
    winners = equal(x, _keep_reduced_axes(ans, x, axis))
    return winners / np.sum(winners, axis=axis, keepdims=True)


def _extremum(numpy_function, *, doc: str):
    """The primitive ``max`` or ``min`` (``numpy_function``), with docstring ``doc``."""

    def extremum(x, axis=None, keepdims=False):  # the arguments its rules know
        return numpy_function(x, axis=axis, keepdims=keepdims)

    extremum.__name__ = extremum.__qualname__ = numpy_function.__name__
    prim = primitive(extremum)
    defvjp(prim, lambda g, ans, x, axis=None, keepdims=False:
           multiply(_keep_reduced_axes(g, x, axis), _share_of_extremum(ans, x, axis)))
    defjvp(prim, lambda t, ans, x, axis=None, keepdims=False:
           sum(multiply(t, _share_of_extremum(ans, x, axis)), axis, keepdims=keepdims))
    return _documented(prim, doc)


max = _extremum(np.max, doc="""
$\\max_i x_i$ over ``axis`` (all axes when ``None``), as ``np.max`` (``amax`` is the same function).

The cotangent goes to the entries that attain the maximum, shared equally by the $k$ of
them: $\\bar x_i = \\bar y \\, [x_i = y] / k$, where $[P]$ is 1 if $P$ holds and 0 otherwise.

>>> from autodiff_kit import grad
>>> grad(anp.max)(np.array([1.0, 3.0, 3.0]))  # a tie: half each
array([0. , 0.5, 0.5])
""")
min = _extremum(np.min, doc="""
$\\min_i x_i$ over ``axis`` (all axes when ``None``), as ``np.min`` (``amin`` is the same function).

The cotangent goes to the entries that attain the minimum, shared equally by the $k$ of
them: $\\bar x_i = \\bar y \\, [x_i = y] / k$, where $[P]$ is 1 if $P$ holds and 0 otherwise.

>>> from autodiff_kit import grad
>>> grad(anp.min)(np.array([2.0, 1.0, 4.0]))
array([0., 1., 0.])
""")
amax, amin = max, min


@primitive
def logsumexp(x, axis=None, keepdims=False):
    """$\\log \\sum_i e^{x_i}$ over ``axis``, as ``scipy.special.logsumexp`` (NumPy has none).

    It is computed as $m + \\log \\sum_i e^{x_i - m}$ with $m = \\max_i x_i$, which never
    overflows. Its gradient is the softmax, taken from the output $y$:

    $$\\bar x_i = \\bar y \\, \\frac{e^{x_i}}{\\sum_j e^{x_j}} = \\bar y \\, e^{x_i - y}.$$

    >>> from autodiff_kit import grad
    >>> float(anp.logsumexp(np.array([1000.0, 1000.0])))  # 1000 + log 2, no overflow
    1000.6931471805599
    >>> grad(anp.logsumexp)(np.zeros(4))  # the softmax of equal entries
    array([0.25, 0.25, 0.25, 0.25])
    """
    m = np.maximum.reduce(x, axis=axis, keepdims=True)  # np.max without its Python wrapper
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.add.reduce(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(ans, x, axis):
    return exp(subtract(x, _keep_reduced_axes(ans, x, axis)))


defvjp(logsumexp, lambda g, ans, x, axis=None, keepdims=False:
       multiply(_keep_reduced_axes(g, x, axis), _softmax(ans, x, axis)))
defjvp(logsumexp, lambda t, ans, x, axis=None, keepdims=False:
       sum(multiply(t, _softmax(ans, x, axis)), axis, keepdims=keepdims))


def var(x, axis=None, keepdims=False):
    """The population variance $\\frac1N \\sum_i (x_i - \\mu)^2$ over ``axis``, as ``np.var`` (``ddof=0``).

    With $\\mu$ the mean, $\\bar x_i = \\bar y \\, 2 (x_i - \\mu) / N$ (the term through $\\mu$
    vanishes, since $\\sum_i (x_i - \\mu) = 0$). It is written with ``mean`` and ``square``,
    whose rules give it.

    >>> from autodiff_kit import grad
    >>> grad(anp.var)(np.array([1.0, 2.0, 3.0, 6.0]))  # mu = 3: (x - 3) / 2
    array([-1. , -0.5,  0. ,  1.5])
    """
    centered = subtract(x, mean(x, axis, keepdims=True))
    return mean(square(centered), axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """The population standard deviation $\\sigma = \\sqrt{\\mathrm{var}(x)}$ over ``axis``, as ``np.std``.

    With $\\mu$ the mean, $\\bar x_i = \\bar y \\, (x_i - \\mu) / (N \\sigma)$, undefined (NaN) when
    all entries are equal ($\\sigma = 0$). It is written with ``var`` and ``sqrt``.

    >>> from autodiff_kit import grad
    >>> grad(anp.std)(np.array([1.0, 3.0]))  # mu = 2, sigma = 1
    array([-0.5,  0.5])
    """
    return sqrt(var(x, axis, keepdims=keepdims))

