"""NumPy, traceable: ``import autodiff_kit.numpy as anp`` and write ``f`` as usual.

Every function here accepts plain arrays (and then is NumPy) or traced values (and then
records or propagates derivatives). Constants and array constructors are NumPy's own.

>>> import autodiff_kit.numpy as anp
>>> from autodiff_kit import grad
>>> float(grad(lambda x: anp.sum(anp.sin(x) ** 2))(0.5))  # 2 sin(x) cos(x) = sin(2x)
0.8414709848078965
"""

import numpy as _np

from autodiff_kit.numpy.arithmetic import (
    abs,
    absolute,
    add,
    argmax,
    argmin,
    ceil,
    clip,
    divide,
    equal,
    floor,
    greater,
    greater_equal,
    isfinite,
    isnan,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    round,
    sign,
    subtract,
    true_divide,
    where,
)
from autodiff_kit.numpy.broadcasting import broadcast_to, sum_to
from autodiff_kit.numpy.elementwise import (
    arccos,
    arcsin,
    arctan,
    cos,
    cosh,
    exp,
    expm1,
    log,
    log1p,
    power,
    sin,
    sinh,
    sqrt,
    square,
    tan,
    tanh,
)
from autodiff_kit.numpy.products import dot, einsum, matmul, outer
from autodiff_kit.numpy.reductions import amax, amin, logsumexp, max, mean, min, std, sum, var
from autodiff_kit.numpy.shaping import (
    array,
    asarray,
    atleast_1d,
    concatenate,
    expand_dims,
    hstack,
    moveaxis,
    ones_like,
    ravel,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
    vstack,
    zeros_like,
)

# Constants, dtypes and constructors of constant arrays are NumPy's own.
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, _np.newaxis
float16, float32, float64, int32, int64, bool_ = (
    _np.float16, _np.float32, _np.float64, _np.int32, _np.int64, _np.bool_)
zeros, ones, empty, full, eye, identity = _np.zeros, _np.ones, _np.empty, _np.full, _np.eye, _np.identity
arange, linspace, ndarray, random = _np.arange, _np.linspace, _np.ndarray, _np.random
shape, ndim, size, allclose, isclose = _np.shape, _np.ndim, _np.size, _np.allclose, _np.isclose

# doctest runs the examples of the functions it sees defined in a module. The kit's functions
# made from a NumPy function (``primitive(np.exp)``, ``nondifferentiable(np.equal)``) copy its
# ``__module__`` and ``__wrapped__``, so doctest takes them for NumPy's own and skips them in
# the modules that make them: their examples run from here instead.
__test__ = {name: f for name, f in globals().items()
            if getattr(f, "__module__", None) == "numpy" and f is not getattr(_np, name, None)}


def __getattr__(name: str):
    raise AttributeError(
        f"autodiff_kit.numpy has no '{name}'. It differentiates a chosen set of NumPy "
        "functions (see dir(autodiff_kit.numpy)); build others from those, for example "
        "softmax as anp.exp(z - anp.logsumexp(z, axis=-1, keepdims=True))."
    )
