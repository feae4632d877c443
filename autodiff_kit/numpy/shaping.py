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
    """``x`` with the same entries in a new ``shape``, as ``np.reshape``.

    It only moves entries, so the cotangent moves back: $\\bar x$ is $\\bar y$ reshaped to the
    shape of $x$ (and $\\dot y$ is $\\dot x$ reshaped to ``shape``).

    >>> from autodiff_kit import grad
    >>> w = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> grad(lambda x: anp.sum(anp.reshape(x, (2, 2)) * w))(np.zeros(4))
    array([1., 2., 3., 4.])
    """
    return np.reshape(x, shape)


defvjp(reshape, lambda g, ans, x, shape: reshape(g, shape_of(x)))
defjvp(reshape, lambda t, ans, x, shape: reshape(t, shape))


@primitive
def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed when ``axes`` is ``None``), as ``np.transpose``.

    The cotangent is permuted back: $\\bar x = \\bar y^\\top$ for a matrix, and in general
    $\\bar y$ transposed by the inverse permutation of ``axes``.

    >>> from autodiff_kit import grad
    >>> w = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> grad(lambda x: anp.sum(anp.transpose(x) * w))(np.zeros((2, 2)))  # w transposed
    array([[1., 3.],
           [2., 4.]])
    """
    return np.asarray(x).transpose(axes)


defvjp(transpose, lambda g, ans, x, axes=None:
       transpose(g, None if axes is None else tuple(np.argsort(np.mod(axes, ndim_of(x))))))
defjvp(transpose, lambda t, ans, x, axes=None: transpose(t, axes))


def swapaxes(x, axis1: int, axis2: int):
    """``x`` with axes ``axis1`` and ``axis2`` exchanged, as ``np.swapaxes``.

    A ``transpose``, so $\\bar x$ is $\\bar y$ with the same two axes exchanged back.

    >>> from autodiff_kit import grad
    >>> w = np.array([[1.0, 2.0, 3.0]])
    >>> grad(lambda x: anp.sum(anp.swapaxes(x, 0, 1) * w))(np.zeros((3, 1)))
    array([[1.],
           [2.],
           [3.]])
    """
    axes = list(range(ndim_of(x)))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


def moveaxis(x, source: int, destination: int):
    """``x`` with axis ``source`` moved to position ``destination``, as ``np.moveaxis``.

    A ``transpose``, so $\\bar x$ is $\\bar y$ with that axis moved back from ``destination``
    to ``source``.

    >>> from autodiff_kit import grad
    >>> w = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])  # shape (3, 2)
    >>> grad(lambda x: anp.sum(anp.moveaxis(x, 0, -1) * w))(np.zeros((2, 3)))
    array([[0., 2., 4.],
           [1., 3., 5.]])
    """
    axes = list(range(ndim_of(x)))
    axes.insert(destination % len(axes), axes.pop(source))
    return transpose(x, tuple(axes))


def expand_dims(x, axis):
    """``x`` with new axes of length 1 inserted at ``axis``, as ``np.expand_dims``.

    A ``reshape``, so $\\bar x$ is $\\bar y$ without those axes.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.expand_dims(x, 0) * np.array([[1.0, 2.0]])))(np.zeros(2))
    array([1., 2.])
    """
    return reshape(x, np.expand_dims(np.empty(shape_of(x), dtype=bool), axis).shape)


def squeeze(x, axis=None):
    """``x`` without its axes of length 1 (or only those in ``axis``), as ``np.squeeze``.

    A ``reshape``, so $\\bar x$ is $\\bar y$ with those axes put back.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.squeeze(x) * np.array([1.0, 2.0])))(np.zeros((1, 2)))
    array([[1., 2.]])
    """
    return reshape(x, np.squeeze(np.empty(shape_of(x), dtype=bool), axis).shape)


def ravel(x):
    """``x`` flattened to one axis (in C order), as ``np.ravel``.

    A ``reshape``, so $\\bar x$ is $\\bar y$ reshaped to the shape of $x$.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.ravel(x) * np.array([1.0, 2.0, 3.0, 4.0])))(np.zeros((2, 2)))
    array([[1., 2.],
           [3., 4.]])
    """
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
    """``x[index]``, basic slicing and integer-array indexing alike: what indexing a traced value calls.

    Its cotangent is scattered back into zeros (``untake``): $\\bar x_j$ is the sum of the
    $\\bar y_i$ of every output entry $i$ that picked $x_j$.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(getitem(x, np.array([0, 0, 2]))))(np.zeros(3))  # x[0] picked twice
    array([2., 0., 1.])
    """
    return x[index]


def _is_basic(index) -> bool:
    """True for ints, slices, ``None`` and ``...``: indexing that never repeats an entry."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


@primitive
def untake(g, index, shape):
    """Zeros of ``shape`` with ``g`` added at ``index``, the adjoint of ``x[index]``.

    An entry picked twice (``x[[0, 0]]``) receives the sum of both cotangents. It is linear
    in ``g``, and its own cotangent is picked back out: $\\bar g$ = $\\bar y$ at ``index``.

    >>> untake(np.array([1.0, 2.0]), np.array([0, 0]), (3,))
    array([3., 0., 0.])
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
    """The ``arrays`` joined along an existing ``axis``, as ``np.concatenate``.

    Each array's cotangent is its own slice of the output's: $\\bar x_k$ is the part of
    $\\bar y$ where $x_k$ was placed.

    >>> from autodiff_kit import grad
    >>> w = np.array([1.0, 2.0, 3.0, 4.0])
    >>> grad(lambda x: anp.sum(anp.concatenate([x, 2.0 * x]) * w))(np.zeros(2))  # (1 + 2*3, 2 + 2*4)
    array([ 7., 10.])
    """
    return _concatenate(*arrays, axis=axis)


def stack(arrays, axis: int = 0):
    """The ``arrays`` joined along a new ``axis``, as ``np.stack``.

    Each array's cotangent is its own slice of the output's: $\\bar x_k$ is $\\bar y$ at
    index $k$ of the new axis.

    >>> from autodiff_kit import grad
    >>> w = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> grad(lambda x: anp.sum(anp.stack([x, x]) * w))(np.zeros(2))  # each row of w, added
    array([4., 6.])
    """
    arrays = list(arrays)
    new_axis = axis % (ndim_of(arrays[0]) + 1)
    return concatenate([expand_dims(a, new_axis) for a in arrays], axis=new_axis)


def hstack(arrays):
    """The ``arrays`` joined column-wise (along axis 1, or axis 0 for vectors), as ``np.hstack``.

    Each array's cotangent is its own slice of the output's: $\\bar x_k$ is the part of
    $\\bar y$ where $x_k$ was placed.

    >>> from autodiff_kit import grad
    >>> w = np.array([1.0, 2.0, 3.0, 4.0])
    >>> grad(lambda x: anp.sum(anp.hstack([x, x]) * w))(np.zeros(2))  # (1 + 3, 2 + 4)
    array([4., 6.])
    """
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)


def vstack(arrays):
    """The ``arrays`` joined row-wise (along axis 0, vectors as rows), as ``np.vstack``.

    Each array's cotangent is its own slice of the output's: $\\bar x_k$ is the rows of
    $\\bar y$ where $x_k$ was placed.

    >>> from autodiff_kit import grad
    >>> w = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> grad(lambda x: anp.sum(anp.vstack([x, x]) * w))(np.zeros(2))  # each row of w, added
    array([4., 6.])
    """
    return concatenate([reshape(a, (1, -1)) if ndim_of(a) < 2 else a for a in arrays], axis=0)


def atleast_1d(x):
    """``x`` with at least one axis (a scalar becomes shape ``(1,)``), as ``np.atleast_1d`` of one array.

    A ``reshape`` (or nothing), so $\\bar x$ is $\\bar y$ reshaped to the shape of $x$.

    >>> from autodiff_kit import grad
    >>> anp.atleast_1d(2.0)
    array([2.])
    >>> float(grad(lambda x: anp.sum(3.0 * anp.atleast_1d(x)))(2.0))
    3.0
    """
    return reshape(x, (1,)) if ndim_of(x) == 0 else x


def _contains_tracer(obj) -> bool:
    if isinstance(obj, Tracer):
        return True
    return isinstance(obj, (list, tuple)) and any(_contains_tracer(o) for o in obj)


def array(obj, dtype=None):
    """Like ``np.array``, but a (nested) list of traced values becomes a traced array.

    The list is stacked (``stack``), so each entry's cotangent goes back to the value it came
    from: for $y = [x, 2x]$, $\\bar x = \\bar y_0 + 2 \\bar y_1$.

    >>> anp.array([1.0, 2.0])
    array([1., 2.])
    >>> from autodiff_kit import grad
    >>> float(grad(lambda x: anp.sum(anp.array([x, 2.0 * x]) * np.array([1.0, 3.0])))(1.0))  # 1 + 2*3
    7.0
    """
    if isinstance(obj, Tracer):
        return obj
    if isinstance(obj, (list, tuple)) and _contains_tracer(obj):
        return stack([array(o) for o in obj])
    return np.array(obj, dtype=dtype)


def asarray(obj, dtype=None):
    """Like ``np.asarray``; traced values pass through unchanged, and lists of them are stacked.

    As for ``array``, each entry's cotangent goes back to the value it came from: for
    $y = [x, x]$, $\\bar x = \\bar y_0 + \\bar y_1$.

    >>> from autodiff_kit import grad
    >>> float(grad(lambda x: anp.sum(anp.asarray([x, x])))(1.0))
    2.0
    """
    return array(obj, dtype) if _contains_tracer(obj) else np.asarray(obj, dtype=dtype)


def zeros_like(x, dtype=None):
    """Zeros of ``x``'s shape and dtype, as ``np.zeros_like``: a constant, even when ``x`` is traced.

    Its output does not depend on the values of $x$, so nothing flows back through it
    ($\\partial\\, 0 / \\partial x = 0$).

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.maximum(x, anp.zeros_like(x))))(np.array([-1.0, 2.0]))
    array([0., 1.])
    """
    return np.zeros(shape_of(x), dtype or dtype_of(x))


def ones_like(x, dtype=None):
    """Ones of ``x``'s shape and dtype, as ``np.ones_like``: a constant, even when ``x`` is traced.

    Its output does not depend on the values of $x$, so nothing flows back through it
    ($\\partial\\, 1 / \\partial x = 0$).

    >>> from autodiff_kit import grad
    >>> float(grad(lambda x: anp.sum(x * x + anp.ones_like(x)))(3.0))  # 2x
    6.0
    """
    return np.ones(shape_of(x), dtype or dtype_of(x))
