"""Arithmetic with broadcasting: the binary operators, ``where``, ``maximum``, ``clip``, ``abs``.

A VJP of a broadcasting operation is summed back to its input's shape (``unbroadcast``);
a JVP is stretched to the output's shape (``broadcast_like``).
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.numpy.broadcasting import broadcast_like, shape_of, unbroadcast
from autodiff_kit.tracing import defjvp, defvjp, nondifferentiable, primitive


def binary(numpy_function, times_d_first, times_d_second):
    """A broadcasting primitive ``f(x, y)`` from its two partial derivatives.

    ``times_d_first(v, ans, x, y)`` is $v \\, \\partial f / \\partial x$, elementwise, written
    with the kit's primitives, and ``times_d_second`` the same for ``y``. The Jacobian of an
    elementwise map is diagonal, so one product serves a cotangent $\\bar y$ (the VJP, then
    summed back to the argument's shape) and a tangent $\\dot x$ (the JVP, then stretched to
    the output's shape).

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad
    >>> squares = binary(lambda x, y: x * x + y * y, lambda v, ans, x, y: 2.0 * x * v,
    ...                  lambda v, ans, x, y: 2.0 * y * v)
    >>> grad(lambda x: anp.sum(squares(x, np.array([1.0, 2.0]))))(3.0)  # 2x, once per broadcast copy
    np.float64(12.0)
    """
    prim = primitive(numpy_function)
    defvjp(prim,
           lambda g, ans, x, y: unbroadcast(times_d_first(g, ans, x, y), shape_of(x)),
           lambda g, ans, x, y: unbroadcast(times_d_second(g, ans, x, y), shape_of(y)))
    defjvp(prim,
           lambda t, ans, x, y: broadcast_like(times_d_first(t, ans, x, y), ans),
           lambda t, ans, x, y: broadcast_like(times_d_second(t, ans, x, y), ans))
    return prim


add = binary(np.add, lambda v, ans, x, y: v, lambda v, ans, x, y: v)
subtract = binary(np.subtract, lambda v, ans, x, y: v, lambda v, ans, x, y: negative(v))
multiply = binary(np.multiply, lambda v, ans, x, y: multiply(v, y), lambda v, ans, x, y: multiply(x, v))
divide = binary(np.divide, lambda v, ans, x, y: divide(v, y),
                lambda v, ans, x, y: negative(multiply(v, divide(ans, y))))
true_divide = divide

negative = primitive(np.negative)
defvjp(negative, lambda g, ans, x: negative(g))
defjvp(negative, lambda t, ans, x: negative(t))


# Comparisons are piecewise constant: their outputs are constants for every derivative.
equal = nondifferentiable(np.equal)
not_equal = nondifferentiable(np.not_equal)
greater = nondifferentiable(np.greater)
greater_equal = nondifferentiable(np.greater_equal)
less = nondifferentiable(np.less)
less_equal = nondifferentiable(np.less_equal)
logical_and = nondifferentiable(np.logical_and)
logical_or = nondifferentiable(np.logical_or)
logical_not = nondifferentiable(np.logical_not)
sign = nondifferentiable(np.sign)
floor = nondifferentiable(np.floor)
ceil = nondifferentiable(np.ceil)
round = nondifferentiable(np.round)
isfinite = nondifferentiable(np.isfinite)
isnan = nondifferentiable(np.isnan)
argmax = nondifferentiable(np.argmax)
argmin = nondifferentiable(np.argmin)


@primitive
def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y``; the cotangent follows the branch taken."""
    return np.where(condition, x, y)


defvjp(where,
       None,
       lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), shape_of(x)),
       lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), shape_of(y)))
defjvp(where,
       None,
       lambda t, ans, c, x, y: broadcast_like(where(c, t, 0.0), ans),
       lambda t, ans, c, x, y: broadcast_like(where(c, 0.0, t), ans))


def _share_of_first(x, y):
    """1 where ``x`` wins, 0 where ``y`` wins, 1/2 at ties (each input gets half)."""
    return np.where(equal(x, y), 0.5, greater(x, y).astype(float))


maximum = binary(np.maximum, lambda v, ans, x, y: multiply(v, _share_of_first(x, y)),
                 lambda v, ans, x, y: multiply(v, _share_of_first(y, x)))
minimum = binary(np.minimum, lambda v, ans, x, y: multiply(v, _share_of_first(y, x)),
                 lambda v, ans, x, y: multiply(v, _share_of_first(x, y)))


@primitive
def clip(x, a_min, a_max):
    """``x`` limited to ``[a_min, a_max]`` (constant bounds); slope 1 on the closed interval."""
    return np.clip(x, a_min, a_max)


def _inside(x, a_min, a_max):
    above = True if a_min is None else greater_equal(x, a_min)
    below = True if a_max is None else less_equal(x, a_max)
    return logical_and(above, below)


defvjp(clip, lambda g, ans, x, a_min, a_max: unbroadcast(multiply(g, _inside(x, a_min, a_max)), shape_of(x)))
defjvp(clip, lambda t, ans, x, a_min, a_max: multiply(t, _inside(x, a_min, a_max)))

absolute = primitive(np.abs)
defvjp(absolute, lambda g, ans, x: multiply(g, sign(x)))
defjvp(absolute, lambda t, ans, x: multiply(t, sign(x)))
abs = absolute
