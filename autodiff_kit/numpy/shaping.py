"""Moving entries around: reshaping, transposing, indexing, joining.

These are linear maps that only move (or copy) entries, so each VJP moves the cotangent
back: ``reshape`` reshapes it back, ``transpose`` applies the inverse permutation,
indexing scatters it into zeros (``untake``), ``concatenate`` slices it apart.
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.numpy.broadcasting import dtype_of, ndim_of, shape_of
from autodiff_kit.tracing import Tracer, defjvp, defjvp_linear, defvjp, primitive, variadic_primitive


@primitive
def reshape(x, shape):
    """``x`` with the same entries in a new ``shape``."""
    return np.reshape(x, shape)


defvjp(reshape, lambda g, ans, x, shape: reshape(g, shape_of(x)))
defjvp(reshape, lambda t, ans, x, shape: reshape(t, shape))


@primitive
def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed when ``axes`` is None)."""
    return np.asarray(x).transpose(axes)


defvjp(transpose, lambda g, ans, x, axes=None:
       transpose(g, None if axes is None else tuple(np.argsort(np.mod(axes, ndim_of(x))))))
defjvp(transpose, lambda t, ans, x, axes=None: transpose(t, axes))


def swapaxes(x, axis1: int, axis2: int):
    """``x`` with two axes exchanged."""
    axes = list(range(ndim_of(x)))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


def moveaxis(x, source: int, destination: int):
    """``x`` with axis ``source`` moved to position ``destination``."""
    axes = list(range(ndim_of(x)))
    axes.insert(destination % len(axes), axes.pop(source))
    return transpose(x, tuple(axes))


def expand_dims(x, axis):
    """``x`` with new axes of length 1 inserted at ``axis``."""
    return reshape(x, np.expand_dims(np.empty(shape_of(x), dtype=bool), axis).shape)


def squeeze(x, axis=None):
    """``x`` without its axes of length 1 (or only those in ``axis``)."""
    return reshape(x, np.squeeze(np.empty(shape_of(x), dtype=bool), axis).shape)


def ravel(x):
    """``x`` flattened to one axis."""
    return reshape(x, (-1,))


def _check_index(index) -> None:
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(part, Tracer) for part in parts):
        raise TypeError(
            "An index was itself a traced value. Indices must be plain integers or integer "
            "arrays: an index cannot be differentiated."
        )


@primitive
def getitem(x, index):
    """``x[index]``: basic slicing and integer-array indexing alike."""
    return x[index]


def _is_basic(index) -> bool:
    """True for ints, slices, ``None`` and ``...``: indexing that never repeats an entry."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


@primitive
def untake(g, index, shape):
    """Zeros of ``shape`` with ``g`` added at ``index``, the adjoint of ``x[index]``.

    An entry picked twice (``x[[0, 0]]``) receives the sum of both cotangents.
    """
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


defvjp(getitem, lambda g, ans, x, index: untake(g, index, shape_of(x)))
defjvp(getitem, lambda t, ans, x, index: getitem(t, index))
defvjp(untake, lambda g, ans, x, index, shape: getitem(g, index))
defjvp(untake, lambda t, ans, x, index, shape: untake(t, index, shape))


@variadic_primitive
def _concatenate(*arrays, axis=0):
    return np.concatenate(arrays, axis=axis)


def _piece_of(argnum, g, ans, *arrays, axis=0):
    """The slice of the cotangent ``g`` that belongs to ``arrays[argnum]``."""
    sizes = [shape_of(a)[axis] for a in arrays]
    start = sum(sizes[:argnum])
    index = [slice(None)] * ndim_of(g)
    index[axis] = slice(start, start + sizes[argnum])
    return getitem(g, tuple(index))


defvjp(_concatenate, _piece_of)
defjvp_linear(_concatenate)


def concatenate(arrays, axis: int = 0):
    """The arrays joined along an existing ``axis``."""
    return _concatenate(*arrays, axis=axis)


def stack(arrays, axis: int = 0):
    """The arrays joined along a new ``axis``."""
    arrays = list(arrays)
    new_axis = axis % (ndim_of(arrays[0]) + 1)
    return concatenate([expand_dims(a, new_axis) for a in arrays], axis=new_axis)


def hstack(arrays):
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)


def vstack(arrays):
    return concatenate([reshape(a, (1, -1)) if ndim_of(a) < 2 else a for a in arrays], axis=0)


def atleast_1d(x):
    return reshape(x, (1,)) if ndim_of(x) == 0 else x


def _contains_tracer(obj) -> bool:
    if isinstance(obj, Tracer):
        return True
    return isinstance(obj, (list, tuple)) and any(_contains_tracer(o) for o in obj)


def array(obj, dtype=None):
    """Like ``np.array``, but a (nested) list of traced values becomes a traced array.

    >>> array([1.0, 2.0])
    array([1., 2.])
    """
    if isinstance(obj, Tracer):
        return obj
    if isinstance(obj, (list, tuple)) and _contains_tracer(obj):
        return stack([array(o) for o in obj])
    return np.array(obj, dtype=dtype)


def asarray(obj, dtype=None):
    """Like ``np.asarray``; traced values pass through unchanged."""
    return array(obj, dtype) if _contains_tracer(obj) else np.asarray(obj, dtype=dtype)


def zeros_like(x, dtype=None):
    """Zeros of ``x``'s shape: a constant, even when ``x`` is traced."""
    return np.zeros(shape_of(x), dtype or dtype_of(x))


def ones_like(x, dtype=None):
    """Ones of ``x``'s shape: a constant, even when ``x`` is traced."""
    return np.ones(shape_of(x), dtype or dtype_of(x))
