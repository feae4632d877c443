"""Arithmetic with broadcasting: the binary operators, ``where``, ``maximum``, ``clip``, ``abs``.

A VJP of a broadcasting operation is summed back to its input's shape (``unbroadcast``);
a JVP is stretched to the output's shape (``broadcast_like``).
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.numpy.broadcasting import broadcast_like, shape_of, unbroadcast
from autodiff_kit.tracing import defjvp, defvjp, nondifferentiable, primitive


def _documented(f, doc: str):
    """``f`` with the docstring ``doc``, for a function made from a NumPy one (it copied NumPy's)."""
    f.__doc__ = doc
    return f


def binary(numpy_function, times_d_first, times_d_second, *, doc: str):
    """A broadcasting primitive ``f(x, y)`` from its two partial derivatives, with docstring ``doc``.

    ``times_d_first(v, ans, x, y)`` is $v \\, \\partial f / \\partial x$, elementwise, written
    with the kit's primitives, and ``times_d_second`` the same for ``y``. The Jacobian of an
    elementwise map is diagonal, so one product serves a cotangent $\\bar y$ (the VJP, then
    summed back to the argument's shape) and a tangent $\\dot x$ (the JVP, then stretched to
    the output's shape).

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad
    >>> squares = binary(lambda x, y: x * x + y * y, lambda v, ans, x, y: 2.0 * x * v,
    ...                  lambda v, ans, x, y: 2.0 * y * v, doc="$x^2 + y^2$, elementwise.")
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
    return _documented(prim, doc)


add = binary(np.add, lambda v, ans, x, y: v, lambda v, ans, x, y: v, doc="""
$x + y$, elementwise with broadcasting, as ``np.add``.

Each input receives the output cotangent, summed over the axes it was broadcast along:
$\\bar x = \\bar z$ and $\\bar y = \\bar z$ for $z = x + y$.

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(anp.add(x, np.ones((2, 3)))))(np.zeros(3))  # each x_j is used twice
array([2., 2., 2.])
""")
subtract = binary(np.subtract, lambda v, ans, x, y: v, lambda v, ans, x, y: negative(v), doc="""
$x - y$, elementwise with broadcasting, as ``np.subtract``.

For $z = x - y$: $\\bar x = \\bar z$ and $\\bar y = -\\bar z$, each summed back to its
input's shape.

>>> from autodiff_kit import grad
>>> [float(d) for d in grad(anp.subtract, argnums=(0, 1))(5.0, 3.0)]
[1.0, -1.0]
""")
multiply = binary(np.multiply, lambda v, ans, x, y: multiply(v, y),
                  lambda v, ans, x, y: multiply(x, v), doc="""
$x y$, elementwise with broadcasting, as ``np.multiply``.

For $z = x y$: $\\bar x = \\bar z \\, y$ and $\\bar y = \\bar z \\, x$, each summed back to its
input's shape; the JVP is the product rule, $\\dot z = \\dot x \\, y + x \\, \\dot y$.

>>> from autodiff_kit import grad
>>> [float(d) for d in grad(anp.multiply, argnums=(0, 1))(2.0, 3.0)]
[3.0, 2.0]
""")
divide = binary(np.divide, lambda v, ans, x, y: divide(v, y),
                lambda v, ans, x, y: negative(multiply(v, divide(ans, y))), doc="""
$x / y$, elementwise with broadcasting, as ``np.divide`` (``true_divide`` is the same function).

For $z = x / y$: $\\bar x = \\bar z / y$ and $\\bar y = -\\bar z \\, x / y^2$, computed as
$-\\bar z \\, z / y$ from the output; each is summed back to its input's shape.

>>> from autodiff_kit import grad
>>> [float(d) for d in grad(anp.divide, argnums=(0, 1))(3.0, 2.0)]  # 1/2 and -3/4
[0.5, -0.75]
""")
true_divide = divide

negative = _documented(primitive(np.negative), """
$-x$, elementwise, as ``np.negative`` (the unary ``-``).

It is linear: $\\bar x = -\\bar y$ and $\\dot y = -\\dot x$.

>>> from autodiff_kit import grad
>>> float(grad(anp.negative)(2.0))
-1.0
""")
defvjp(negative, lambda g, ans, x: negative(g))
defjvp(negative, lambda t, ans, x: negative(t))


# Comparisons are piecewise constant: their outputs are constants for every derivative.
equal = _documented(nondifferentiable(np.equal), """
$x = y$, elementwise with broadcasting, as ``np.equal`` (``==``): a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ or $y$ through it ($\\partial [x = y] / \\partial x = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(x * anp.equal(x, 2.0)))(np.array([1.0, 2.0]))  # x times a constant mask
array([0., 1.])
""")
not_equal = _documented(nondifferentiable(np.not_equal), """
$x \\ne y$, elementwise with broadcasting, as ``np.not_equal`` (``!=``): a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ or $y$ through it ($\\partial [x \\ne y] / \\partial x = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(x * anp.not_equal(x, 2.0)))(np.array([1.0, 2.0]))  # x times a constant mask
array([1., 0.])
""")
greater = _documented(nondifferentiable(np.greater), """
$x > y$, elementwise with broadcasting, as ``np.greater`` (``>``): a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ or $y$ through it ($\\partial [x > y] / \\partial x = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(x * anp.greater(x, 0.0)))(np.array([-1.0, 2.0]))  # ReLU: slope 0, then 1
array([0., 1.])
""")
greater_equal = _documented(nondifferentiable(np.greater_equal), """
$x \\ge y$, elementwise with broadcasting, as ``np.greater_equal`` (``>=``): a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ or $y$ through it ($\\partial [x \\ge y] / \\partial x = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(x * anp.greater_equal(x, 0.0)))(np.array([-1.0, 0.0]))
array([0., 1.])
""")
less = _documented(nondifferentiable(np.less), """
$x < y$, elementwise with broadcasting, as ``np.less`` (``<``): a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ or $y$ through it ($\\partial [x < y] / \\partial x = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(x * anp.less(x, 0.0)))(np.array([-1.0, 2.0]))
array([1., 0.])
""")
less_equal = _documented(nondifferentiable(np.less_equal), """
$x \\le y$, elementwise with broadcasting, as ``np.less_equal`` (``<=``): a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ or $y$ through it ($\\partial [x \\le y] / \\partial x = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(x * anp.less_equal(x, 0.0)))(np.array([0.0, 2.0]))
array([1., 0.])
""")
logical_and = _documented(nondifferentiable(np.logical_and), """
$a \\wedge b$, elementwise with broadcasting, as ``np.logical_and``: a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $a$ or $b$ through it ($\\partial (a \\wedge b) / \\partial a = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> inside = lambda x: anp.logical_and(x > 0.0, x < 1.0)  # a constant mask
>>> grad(lambda x: anp.sum(anp.where(inside(x), x, 0.0)))(np.array([-0.5, 0.5, 1.5]))
array([0., 1., 0.])
""")
logical_or = _documented(nondifferentiable(np.logical_or), """
$a \\vee b$, elementwise with broadcasting, as ``np.logical_or``: a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $a$ or $b$ through it ($\\partial (a \\vee b) / \\partial a = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> outside = lambda x: anp.logical_or(x < 0.0, x > 1.0)  # a constant mask
>>> grad(lambda x: anp.sum(anp.where(outside(x), x, 0.0)))(np.array([-0.5, 0.5, 1.5]))
array([1., 0., 1.])
""")
logical_not = _documented(nondifferentiable(np.logical_not), """
$\\neg a$, elementwise, as ``np.logical_not``: a boolean array.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $a$ through it ($\\partial (\\neg a) / \\partial a = 0$ wherever defined).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(anp.where(anp.logical_not(x > 0.0), x, 0.0)))(np.array([-1.0, 2.0]))
array([1., 0.])
""")
sign = _documented(nondifferentiable(np.sign), """
$\\mathrm{sign}\\, x \\in \\{-1, 0, 1\\}$, elementwise, as ``np.sign``.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ through it ($\\partial\\, \\mathrm{sign}\\, x / \\partial x = 0$ for $x \\ne 0$).

>>> from autodiff_kit import grad
>>> float(grad(lambda x: x * anp.sign(x))(-3.0))  # |x| = x sign(x): slope sign(x) = -1
-1.0
""")
floor = _documented(nondifferentiable(np.floor), """
$\\lfloor x \\rfloor$, the largest integer $\\le x$, elementwise, as ``np.floor``.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ through it ($\\partial \\lfloor x \\rfloor / \\partial x = 0$ between integers).

>>> from autodiff_kit import grad
>>> float(grad(lambda x: x - anp.floor(x))(2.5))  # the fractional part has slope 1
1.0
""")
ceil = _documented(nondifferentiable(np.ceil), """
$\\lceil x \\rceil$, the smallest integer $\\ge x$, elementwise, as ``np.ceil``.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ through it ($\\partial \\lceil x \\rceil / \\partial x = 0$ between integers).

>>> from autodiff_kit import grad
>>> float(grad(lambda x: anp.ceil(x) * x)(2.5))  # ceil(x) = 3 is a constant factor
3.0
""")
round = _documented(nondifferentiable(np.round), """
$x$ rounded to ``decimals`` decimals (half to even), elementwise, as ``np.round``.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ through it ($\\partial\\, \\mathrm{round}(x) / \\partial x = 0$ between jumps).

>>> from autodiff_kit import grad
>>> float(grad(lambda x: x - anp.round(x))(2.3))  # the rounding error has slope 1
1.0
""")
isfinite = _documented(nondifferentiable(np.isfinite), """
Whether $x$ is finite (neither infinite nor NaN), elementwise, as ``np.isfinite``.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ through it ($\\partial [x \\in \\mathbb{R}] / \\partial x = 0$).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(anp.where(anp.isfinite(x), x, 0.0)))(np.array([2.0, np.inf]))
array([1., 0.])
""")
isnan = _documented(nondifferentiable(np.isnan), """
Whether $x$ is NaN, elementwise, as ``np.isnan``.

Piecewise constant, so its output is a constant for every derivative: nothing flows
back to $x$ through it ($\\partial [x = \\mathrm{NaN}] / \\partial x = 0$).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(anp.where(anp.isnan(x), 0.0, x)))(np.array([1.0, np.nan]))
array([1., 0.])
""")
argmax = _documented(nondifferentiable(np.argmax), """
The index $\\arg\\max_i x_i$ of the largest entry (the first at ties), as ``np.argmax``.

Piecewise constant, so its output is a constant for every derivative: an integer index,
which selects the entry that receives the cotangent but receives none itself.

>>> from autodiff_kit import grad
>>> grad(lambda x: x[anp.argmax(x)])(np.array([1.0, 3.0, 2.0]))
array([0., 1., 0.])
""")
argmin = _documented(nondifferentiable(np.argmin), """
The index $\\arg\\min_i x_i$ of the smallest entry (the first at ties), as ``np.argmin``.

Piecewise constant, so its output is a constant for every derivative: an integer index,
which selects the entry that receives the cotangent but receives none itself.

>>> from autodiff_kit import grad
>>> grad(lambda x: x[anp.argmin(x)])(np.array([1.0, 3.0, 2.0]))
array([1., 0., 0.])
""")


@primitive
def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y``, with broadcasting, as ``np.where`` (three arguments).

    The cotangent follows the branch taken: for ``z = where(c, x, y)``, $\\bar x = \\bar z$
    where $c$ holds and 0 elsewhere, and $\\bar y$ the rest, each summed back to its input's
    shape. The condition is a constant for every derivative.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.where(x > 0.0, x, 2.0 * x)))(np.array([-1.0, 3.0]))
    array([2., 1.])
    """
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
                 lambda v, ans, x, y: multiply(v, _share_of_first(y, x)), doc="""
$\\max(x, y)$, elementwise with broadcasting, as ``np.maximum``.

The cotangent goes to the larger input, and is shared equally at ties:
$\\bar x = \\bar z \\, ([x > y] + \\tfrac12 [x = y])$ for $z = \\max(x, y)$, and $\\bar y$ the
rest, each summed back to its input's shape ($[P]$ is 1 if $P$ holds and 0 otherwise).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(anp.maximum(x, 0.0)))(np.array([-1.0, 0.0, 2.0]))  # ReLU, 1/2 at 0
array([0. , 0.5, 1. ])
""")
minimum = binary(np.minimum, lambda v, ans, x, y: multiply(v, _share_of_first(y, x)),
                 lambda v, ans, x, y: multiply(v, _share_of_first(x, y)), doc="""
$\\min(x, y)$, elementwise with broadcasting, as ``np.minimum``.

The cotangent goes to the smaller input, and is shared equally at ties:
$\\bar x = \\bar z \\, ([x < y] + \\tfrac12 [x = y])$ for $z = \\min(x, y)$, and $\\bar y$ the
rest, each summed back to its input's shape ($[P]$ is 1 if $P$ holds and 0 otherwise).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(anp.minimum(x, 1.0)))(np.array([0.0, 1.0, 2.0]))
array([1. , 0.5, 0. ])
""")


@primitive
def clip(x, a_min, a_max):
    """``x`` limited to ``[a_min, a_max]``, as ``np.clip`` with constant bounds (``None`` for none).

    Slope 1 on the closed interval and 0 outside it:
    $\\bar x = \\bar y \\, [a_{\\min} \\le x \\le a_{\\max}]$ ($[P]$ is 1 if $P$ holds and 0 otherwise).
    The bounds are not differentiated.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.clip(x, 0.0, 1.0)))(np.array([-1.0, 0.5, 2.0]))
    array([0., 1., 0.])
    """
    return np.clip(x, a_min, a_max)


def _inside(x, a_min, a_max):
    above = True if a_min is None else greater_equal(x, a_min)
    below = True if a_max is None else less_equal(x, a_max)
    return logical_and(above, below)


defvjp(clip, lambda g, ans, x, a_min, a_max: unbroadcast(multiply(g, _inside(x, a_min, a_max)), shape_of(x)))
defjvp(clip, lambda t, ans, x, a_min, a_max: multiply(t, _inside(x, a_min, a_max)))

absolute = _documented(primitive(np.abs), """
$|x|$, elementwise, as ``np.absolute`` (``abs`` is the same function).

$\\bar x = \\bar y \\, \\mathrm{sign}\\, x$, which is 0 at $x = 0$ (a subgradient there).

>>> from autodiff_kit import grad
>>> grad(lambda x: anp.sum(anp.abs(x)))(np.array([-2.0, 0.0, 3.0]))
array([-1.,  0.,  1.])
""")
defvjp(absolute, lambda g, ans, x: multiply(g, sign(x)))
defjvp(absolute, lambda t, ans, x: multiply(t, sign(x)))
abs = absolute
