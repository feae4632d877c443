"""Broadcasting and its adjoint: ``broadcast_to`` copies along axes, ``sum_to`` adds them back.

When $x$ of shape ``(3,)`` is broadcast against ``(2, 3)``, each entry of $x$ is used
twice, so its cotangent is the sum of the two cotangents it fed: the VJP of
``broadcast_to`` is ``sum_to``, and the VJP of ``sum_to`` is ``broadcast_to``.
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.tracing import defjvp, defvjp, primitive


def shape_of(x) -> tuple[int, ...]:
    """The shape of an array, a tracer or a Python number: a plain tuple, never traced.

    >>> shape_of(2.0), shape_of(np.zeros((2, 3)))
    ((), (2, 3))
    """
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


def ndim_of(x) -> int:
    """The number of axes of an array, a tracer or a Python number: a plain int, never traced.

    >>> ndim_of(2.0), ndim_of(np.zeros((2, 3)))
    (0, 2)
    """
    try:
        return x.ndim
    except AttributeError:
        return np.ndim(x)


def dtype_of(x) -> np.dtype:
    """The dtype of an array or a tracer (its value's), or NumPy's for a Python number.

    >>> dtype_of(2.0), dtype_of(np.zeros(2, dtype=np.float32))
    (dtype('float64'), dtype('float32'))
    """
    try:
        return x.dtype
    except AttributeError:
        return np.result_type(x)


@primitive
def broadcast_to(x, shape):
    """``x`` broadcast to ``shape``, as ``np.broadcast_to`` but a copy (so it can be written to).

    An entry copied $k$ times receives the sum of its $k$ cotangents: $\\bar x$ is $\\bar y$
    summed back to the shape of $x$ (``sum_to``), and forward $\\dot y$ is $\\dot x$ broadcast
    the same way.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.broadcast_to(x, (2, 3))))(np.zeros(3))  # each entry copied twice
    array([2., 2., 2.])
    """
    x = np.asarray(x)
    out = np.empty(shape, x.dtype)
    out[...] = x
    return out


@primitive
def sum_to(x, shape):
    """``x`` summed over the axes that broadcasting added or stretched, leaving ``shape``.

    NumPy has no such function: it is the adjoint of ``broadcast_to``, so $\\bar x$ is $\\bar y$
    broadcast back to the shape of $x$. Here, with $x$ of shape $(2, 3)$ summed to $(3,)$:
    $y_j = x_{0j} + x_{1j}$ and $\\bar x_{ij} = \\bar y_j$.

    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(anp.sum_to(x, (3,)) * np.array([1.0, 2.0, 3.0])))(np.zeros((2, 3)))
    array([[1., 2., 3.],
           [1., 2., 3.]])
    """
    lead = np.ndim(x) - len(shape)
    stretched = [lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1]
    if not stretched:  # only leading axes were added: summing them leaves ``shape``
        return np.add.reduce(x, axis=tuple(range(lead))) if lead else np.reshape(x, shape)
    axes = tuple(range(lead)) + tuple(stretched)
    return np.add.reduce(x, axis=axes, keepdims=True).reshape(shape)


defvjp(broadcast_to, lambda g, ans, x, shape: sum_to(g, shape_of(x)))
defjvp(broadcast_to, lambda t, ans, x, shape: broadcast_to(t, shape))
defvjp(sum_to, lambda g, ans, x, shape: broadcast_to(g, shape_of(x)))
defjvp(sum_to, lambda t, ans, x, shape: sum_to(t, shape))


def unbroadcast(g, shape: tuple[int, ...]):
    """The cotangent ``g`` of a broadcast result, brought back to an input of ``shape``.

    An input entry used $k$ times by broadcasting receives the sum of its $k$ cotangents
    (``sum_to``); ``g`` is returned as it is when it has that shape already.

    >>> unbroadcast(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    """
    return g if shape_of(g) == shape else sum_to(g, shape)


def broadcast_like(t, ans):
    """A tangent ``t`` stretched to the shape of the output ``ans`` it belongs to.

    The forward counterpart of ``unbroadcast``: the tangent $\\dot x$ of an input broadcast in
    the output $y$ moves every copy, so $\\dot y$ is $\\dot x$ broadcast to the shape of $y$.

    >>> broadcast_like(np.array([1.0, 2.0]), np.zeros((2, 2)))
    array([[1., 2.],
           [1., 2.]])
    """
    shape = shape_of(ans)
    return t if shape_of(t) == shape else broadcast_to(t, shape)

