"""Elementwise functions: each derivative is the textbook one, $\\bar x = \\bar y \\, f'(x)$.

Where $f'$ is cheaper from the output (``exp``, ``tanh``, ``sqrt``) the rule uses ``ans``.
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.numpy.arithmetic import (
    binary,
    divide,
    equal,
    multiply,
    negative,
    subtract,
    where,
)
from autodiff_kit.tracing import defjvp, defvjp, primitive


def _elementwise(numpy_function, derivative):
    """A primitive ``f`` with $\\bar x = \\bar y f'(x)$ and $\\dot y = f'(x) \\dot x$.

    ``derivative(ans, x)`` is $f'(x)$ written with the kit's primitives.
    """
    prim = primitive(numpy_function)
    defvjp(prim, lambda g, ans, x: multiply(g, derivative(ans, x)))
    defjvp(prim, lambda t, ans, x: multiply(t, derivative(ans, x)))
    return prim


exp = _elementwise(np.exp, lambda ans, x: ans)
expm1 = _elementwise(np.expm1, lambda ans, x: ans + 1.0)
log = _elementwise(np.log, lambda ans, x: divide(1.0, x))
log1p = _elementwise(np.log1p, lambda ans, x: divide(1.0, x + 1.0))
sqrt = _elementwise(np.sqrt, lambda ans, x: divide(0.5, ans))
square = _elementwise(np.square, lambda ans, x: multiply(2.0, x))
sin = _elementwise(np.sin, lambda ans, x: cos(x))
cos = _elementwise(np.cos, lambda ans, x: negative(sin(x)))
tan = _elementwise(np.tan, lambda ans, x: 1.0 + square(ans))
arcsin = _elementwise(np.arcsin, lambda ans, x: divide(1.0, sqrt(1.0 - square(x))))
arccos = _elementwise(np.arccos, lambda ans, x: divide(-1.0, sqrt(1.0 - square(x))))
arctan = _elementwise(np.arctan, lambda ans, x: divide(1.0, 1.0 + square(x)))
sinh = _elementwise(np.sinh, lambda ans, x: cosh(x))
cosh = _elementwise(np.cosh, lambda ans, x: sinh(x))
tanh = _elementwise(np.tanh, lambda ans, x: 1.0 - square(ans))


def _d_power_d_base(ans, x, y):
    return multiply(y, power(x, subtract(y, 1)))


def _d_power_d_exponent(ans, x, y):
    """$x^y \\log x$, with $\\log x$ taken as 0 where $x = 0$."""
    return multiply(ans, log(where(equal(x, 0), 1.0, x)))


power = binary(np.power, lambda v, ans, x, y: multiply(v, _d_power_d_base(ans, x, y)),
               lambda v, ans, x, y: multiply(v, _d_power_d_exponent(ans, x, y)))
