"""Traced values behave like arrays: operators, methods, and errors that say what to do.

``ArrayTracer`` is the tracer every trace's values derive from (``reverse.Node``,
``forward.TangentTracer``). Its operators and methods are the kit's primitives, in one table.

NumPy's own functions cannot see inside a tracer, so calling one on a traced value
(``np.sin(x)`` inside ``f``) would silently drop the derivative. The tracer therefore
refuses NumPy's protocols with a message that names the ``autodiff_kit.numpy`` function
to use instead, and refuses in-place assignment with a functional alternative. NumPy's
arithmetic operators (``ndarray + tracer``) are forwarded to the kit's primitives.
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.numpy import arithmetic as ar
from autodiff_kit.numpy import products, reductions, shaping
from autodiff_kit.numpy.elementwise import power
from autodiff_kit.tracing import Tracer, escaped_tracer_error

_OPERATOR_UFUNCS = {
    np.add: ar.add, np.subtract: ar.subtract, np.multiply: ar.multiply,
    np.divide: ar.divide, np.power: power, np.negative: ar.negative,
    np.matmul: products.matmul, np.equal: ar.equal, np.not_equal: ar.not_equal,
    np.less: ar.less, np.less_equal: ar.less_equal, np.greater: ar.greater,
    np.greater_equal: ar.greater_equal,
}

_SHAPE_QUERIES = {np.shape: lambda x: x.shape, np.ndim: lambda x: x.ndim,
                  np.size: lambda x: x.size}


def _plain_numpy_error(name: str) -> TypeError:
    import autodiff_kit.numpy as anp

    hint = (f"use anp.{name} instead" if hasattr(anp, name)
            else f"autodiff_kit.numpy has no differentiable {name}; write it from its primitives")
    return TypeError(
        f"np.{name} was called on a traced value, so its derivative would be lost. Inside a "
        f"function you differentiate, `import autodiff_kit.numpy as anp` and {hint}."
    )


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if not self.trace.active:  # a stale tracer reached NumPy (a rule kept it): say so, once
        raise escaped_tracer_error(f"np.{ufunc.__name__}")
    if method == "__call__" and not kwargs and ufunc in _OPERATOR_UFUNCS:
        return _OPERATOR_UFUNCS[ufunc](*inputs)
    raise _plain_numpy_error(ufunc.__name__)


def _array_function(self, func, types, args, kwargs):
    if func in _SHAPE_QUERIES and not kwargs:
        return _SHAPE_QUERIES[func](*args)
    raise _plain_numpy_error(func.__name__)


def _to_plain_array(self, *args, **kwargs):
    raise TypeError(
        "A traced value was turned into a plain NumPy array or number, which would lose its "
        "derivative. This happens with np.array([...]) or np.asarray on traced values, "
        "float(x), or `out[i] = x` into a NumPy array. Build arrays from traced values with "
        "anp.array, anp.stack, anp.concatenate or anp.where instead."
    )


def _setitem(self, index, value):
    raise TypeError(
        "Traced arrays cannot be changed in place (x[i] = v), because the values they had "
        "before are needed for the derivative. Build a new array instead: "
        "anp.where(mask, v, x) to replace entries, or anp.concatenate / anp.stack to assemble pieces."
    )


def _getitem(self, index):
    shaping._check_index(index)
    return shaping.getitem(self, index)


def _reshape(self, *shape):
    return shaping.reshape(self, shape[0] if len(shape) == 1 else shape)


def _transpose(self, *axes):
    return shaping.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)


def _iterate(self):
    return (self[i] for i in range(len(self)))


def _astype(self, dtype, **kwargs):
    if np.issubdtype(dtype, np.floating) and np.dtype(dtype) == self.dtype:
        return self
    raise TypeError(f"A traced float array cannot be cast to {np.dtype(dtype)} and stay differentiable.")


def _operator(f):
    """``f`` as a binary operator method: ``x op y`` is ``f(x, y)``.

    (A primitive would also bind as a method by itself, but through a slower descriptor call.)
    """
    return lambda self, other: f(self, other)


def _reflected(f):
    """``f`` as a reflected operator method: ``y op x``, with ``x`` the tracer, is ``f(y, x)``."""
    return lambda self, other: f(other, self)


class ArrayTracer(Tracer):
    """A tracer that looks and acts like the NumPy array ``value`` it stands for."""

    __slots__ = ()

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    dtype = property(lambda self: self.value.dtype)
    T = property(shaping.transpose)

    def __len__(self) -> int:
        return len(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype}, level={self.trace.level})"

    __hash__ = object.__hash__

    # Operators and methods: the kit's primitives (a primitive binds as a method, like a function).
    __add__, __radd__ = _operator(ar.add), _reflected(ar.add)
    __sub__, __rsub__ = _operator(ar.subtract), _reflected(ar.subtract)
    __mul__, __rmul__ = _operator(ar.multiply), _reflected(ar.multiply)
    __truediv__, __rtruediv__ = _operator(ar.divide), _reflected(ar.divide)
    __pow__, __rpow__ = _operator(power), _reflected(power)
    __matmul__, __rmatmul__ = _operator(products.matmul), _reflected(products.matmul)
    __neg__, __pos__, __abs__ = ar.negative, (lambda self: self), ar.absolute
    __eq__, __ne__ = ar.equal, ar.not_equal
    __lt__, __le__, __gt__, __ge__ = ar.less, ar.less_equal, ar.greater, ar.greater_equal
    __getitem__, __setitem__, __iter__ = _getitem, _setitem, _iterate
    sum, mean, max, min, var, std = (reductions.sum, reductions.mean, reductions.max, reductions.min,
                                     reductions.var, reductions.std)
    reshape, transpose, ravel, flatten, squeeze, swapaxes = (_reshape, _transpose, shaping.ravel,
                                                             shaping.ravel, shaping.squeeze, shaping.swapaxes)
    dot, clip, astype, copy = products.dot, ar.clip, _astype, (lambda self: self)

    # NumPy's protocols: its operators forward to the kit, anything else is refused with a hint.
    __array_ufunc__, __array_function__ = _array_ufunc, _array_function
    __array__ = __float__ = __int__ = __index__ = __complex__ = _to_plain_array
