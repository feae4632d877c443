"""Elementwise functions: each derivative is the textbook one, $\\bar x = \\bar y \\, f'(x)$.

Where $f'$ is cheaper from the output (``exp``, ``tanh``, ``sqrt``) the rule uses ``ans``.
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.numpy.arithmetic import (
    _documented,
    binary,
    divide,
    equal,
    multiply,
    negative,
    subtract,
    where,
)
from autodiff_kit.tracing import defjvp, defvjp, primitive


def _elementwise(numpy_function, derivative, *, doc: str):
    """A primitive ``f`` with $\\bar x = \\bar y f'(x)$ and $\\dot y = f'(x) \\dot x$, and docstring ``doc``.

    ``derivative(ans, x)`` is $f'(x)$ written with the kit's primitives.
    """
    prim = primitive(numpy_function)
    defvjp(prim, lambda g, ans, x: multiply(g, derivative(ans, x)))
    defjvp(prim, lambda t, ans, x: multiply(t, derivative(ans, x)))
    return _documented(prim, doc)


exp = _elementwise(np.exp, lambda ans, x: ans, doc="""
$e^x$, elementwise, as ``np.exp``.

Its own derivative, taken from the output $y = e^x$: $\\bar x = \\bar y \\, e^x = \\bar y \\, y$.

>>> from autodiff_kit import grad
>>> float(grad(anp.exp)(0.0))
1.0
""")
expm1 = _elementwise(np.expm1, lambda ans, x: ans + 1.0, doc="""
$e^x - 1$, elementwise, as ``np.expm1`` (accurate for small $x$, where ``exp(x) - 1`` is not).

From the output $y = e^x - 1$: $\\bar x = \\bar y \\, e^x = \\bar y \\, (y + 1)$.

>>> from autodiff_kit import grad
>>> float(grad(anp.expm1)(0.0))
1.0
""")
log = _elementwise(np.log, lambda ans, x: divide(1.0, x), doc="""
The natural logarithm $\\log x$, elementwise, as ``np.log``.

$\\bar x = \\bar y / x$.

>>> from autodiff_kit import grad
>>> float(grad(anp.log)(2.0))
0.5
""")
log1p = _elementwise(np.log1p, lambda ans, x: divide(1.0, x + 1.0), doc="""
$\\log(1 + x)$, elementwise, as ``np.log1p`` (accurate for small $x$, where ``log(1 + x)`` is not).

$\\bar x = \\bar y / (1 + x)$.

>>> from autodiff_kit import grad
>>> float(grad(anp.log1p)(1.0))
0.5
""")
sqrt = _elementwise(np.sqrt, lambda ans, x: divide(0.5, ans), doc="""
$\\sqrt{x}$, elementwise, as ``np.sqrt``.

From the output $y = \\sqrt{x}$: $\\bar x = \\bar y / (2 \\sqrt{x}) = \\bar y / (2y)$, infinite at
$x = 0$.

>>> from autodiff_kit import grad
>>> float(grad(anp.sqrt)(4.0))
0.25
""")
square = _elementwise(np.square, lambda ans, x: multiply(2.0, x), doc="""
$x^2$, elementwise, as ``np.square``.

$\\bar x = 2x \\, \\bar y$.

>>> from autodiff_kit import grad
>>> float(grad(anp.square)(3.0))
6.0
""")
sin = _elementwise(np.sin, lambda ans, x: cos(x), doc="""
$\\sin x$, elementwise, as ``np.sin``.

$\\bar x = \\bar y \\cos x$, and in forward mode $\\dot y = \\cos x \\, \\dot x$.

>>> from autodiff_kit import grad
>>> float(grad(anp.sin)(0.0))
1.0
""")
cos = _elementwise(np.cos, lambda ans, x: negative(sin(x)), doc="""
$\\cos x$, elementwise, as ``np.cos``.

$\\bar x = -\\bar y \\sin x$.

>>> from autodiff_kit import grad
>>> float(grad(anp.cos)(np.pi / 2))
-1.0
""")
tan = _elementwise(np.tan, lambda ans, x: 1.0 + square(ans), doc="""
$\\tan x$, elementwise, as ``np.tan``.

From the output $y = \\tan x$: $\\bar x = \\bar y \\, (1 + \\tan^2 x) = \\bar y \\, (1 + y^2)$.

>>> from autodiff_kit import grad
>>> float(grad(anp.tan)(0.0))
1.0
""")
arcsin = _elementwise(np.arcsin, lambda ans, x: divide(1.0, sqrt(1.0 - square(x))), doc="""
$\\arcsin x$ for $-1 \\le x \\le 1$, elementwise, as ``np.arcsin``.

$\\bar x = \\bar y / \\sqrt{1 - x^2}$, infinite at $x = \\pm 1$.

>>> from autodiff_kit import grad
>>> float(grad(anp.arcsin)(0.0))
1.0
""")
arccos = _elementwise(np.arccos, lambda ans, x: divide(-1.0, sqrt(1.0 - square(x))), doc="""
$\\arccos x$ for $-1 \\le x \\le 1$, elementwise, as ``np.arccos``.

$\\bar x = -\\bar y / \\sqrt{1 - x^2}$, infinite at $x = \\pm 1$.

>>> from autodiff_kit import grad
>>> float(grad(anp.arccos)(0.0))
-1.0
""")
arctan = _elementwise(np.arctan, lambda ans, x: divide(1.0, 1.0 + square(x)), doc="""
$\\arctan x$, elementwise, as ``np.arctan``.

$\\bar x = \\bar y / (1 + x^2)$.

>>> from autodiff_kit import grad
>>> float(grad(anp.arctan)(1.0))
0.5
""")
sinh = _elementwise(np.sinh, lambda ans, x: cosh(x), doc="""
$\\sinh x$, elementwise, as ``np.sinh``.

$\\bar x = \\bar y \\cosh x$.

>>> from autodiff_kit import grad
>>> float(grad(anp.sinh)(0.0))
1.0
""")
cosh = _elementwise(np.cosh, lambda ans, x: sinh(x), doc="""
$\\cosh x$, elementwise, as ``np.cosh``.

$\\bar x = \\bar y \\sinh x$.

>>> from autodiff_kit import grad
>>> float(grad(anp.cosh)(np.log(2.0)).round(12))  # sinh(log 2) = (2 - 1/2) / 2
0.75
""")
tanh = _elementwise(np.tanh, lambda ans, x: 1.0 - square(ans), doc="""
$\\tanh x$, elementwise, as ``np.tanh``.

From the output $y = \\tanh x$: $\\bar x = \\bar y \\, (1 - \\tanh^2 x) = \\bar y \\, (1 - y^2)$.

>>> from autodiff_kit import grad
>>> float(grad(anp.tanh)(0.0))
1.0
""")


def _d_power_d_base(ans, x, y):
    return multiply(y, power(x, subtract(y, 1)))


def _d_power_d_exponent(ans, x, y):
    """$x^y \\log x$, with $\\log x$ taken as 0 where $x = 0$."""
    return multiply(ans, log(where(equal(x, 0), 1.0, x)))


power = binary(np.power, lambda v, ans, x, y: multiply(v, _d_power_d_base(ans, x, y)),
               lambda v, ans, x, y: multiply(v, _d_power_d_exponent(ans, x, y)), doc="""
$x^y$, elementwise with broadcasting, as ``np.power`` (the operator ``**``).

For $z = x^y$: $\\bar x = \\bar z \\, y \\, x^{y - 1}$ and $\\bar y = \\bar z \\, x^y \\log x$, with
$\\log x$ taken as 0 where $x = 0$; each is summed back to its input's shape.

>>> from autodiff_kit import grad
>>> [float(d) for d in grad(anp.power, argnums=(0, 1))(2.0, 3.0)]  # 3 * 2**2 and 2**3 log 2
[12.0, 5.545177444479562]
""")
