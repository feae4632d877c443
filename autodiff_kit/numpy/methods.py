"""Traced values behave like arrays: operators, methods, and errors that say what to do.

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
from autodiff_kit.tracing import Tracer

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


def _swap(f):
    return lambda self, other: f(other, self)


_METHODS = {
    "__add__": ar.add, "__radd__": _swap(ar.add),
    "__sub__": ar.subtract, "__rsub__": _swap(ar.subtract),
    "__mul__": ar.multiply, "__rmul__": _swap(ar.multiply),
    "__truediv__": ar.divide, "__rtruediv__": _swap(ar.divide),
    "__pow__": power, "__rpow__": _swap(power),
    "__matmul__": products.matmul, "__rmatmul__": _swap(products.matmul),
    "__neg__": ar.negative, "__pos__": lambda self: self, "__abs__": ar.absolute,
    "__eq__": ar.equal, "__ne__": ar.not_equal, "__lt__": ar.less, "__le__": ar.less_equal,
    "__gt__": ar.greater, "__ge__": ar.greater_equal,
    "__getitem__": _getitem, "__setitem__": _setitem, "__iter__": _iterate,
    "__array_ufunc__": _array_ufunc, "__array_function__": _array_function,
    "__array__": _to_plain_array, "__float__": _to_plain_array, "__int__": _to_plain_array,
    "__index__": _to_plain_array, "__complex__": _to_plain_array,
    "T": property(lambda self: shaping.transpose(self)),
    "sum": reductions.sum, "mean": reductions.mean, "max": reductions.max,
    "min": reductions.min, "var": reductions.var, "std": reductions.std,
    "reshape": _reshape, "transpose": _transpose, "ravel": shaping.ravel,
    "flatten": shaping.ravel, "squeeze": shaping.squeeze, "dot": products.dot,
    "clip": ar.clip, "astype": _astype, "copy": lambda self: self,
    "swapaxes": shaping.swapaxes,
}

for _name, _method in _METHODS.items():
    setattr(Tracer, _name, _method)
