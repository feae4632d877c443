"""Broadcasting and its adjoint: ``broadcast_to`` copies along axes, ``sum_to`` adds them back.

When $x$ of shape ``(3,)`` is broadcast against ``(2, 3)``, each entry of $x$ is used
twice, so its cotangent is the sum of the two cotangents it fed: the VJP of
``broadcast_to`` is ``sum_to``, and the VJP of ``sum_to`` is ``broadcast_to``.
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.tracing import defjvp, defvjp, primitive


def shape_of(x) -> tuple[int, ...]:
    """The shape of an array, a tracer or a Python number."""
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


def ndim_of(x) -> int:
    """The number of axes of an array, a tracer or a Python number."""
    try:
        return x.ndim
    except AttributeError:
        return np.ndim(x)


def dtype_of(x) -> np.dtype:
    """The dtype of an array or a tracer (its value's), or NumPy's for a Python number."""
    try:
        return x.dtype
    except AttributeError:
        return np.result_type(x)


@primitive
def broadcast_to(x, shape):
    """Broadcast ``x`` to ``shape`` (a copy, so the result can be written to)."""
    x = np.asarray(x)
    out = np.empty(shape, x.dtype)
    out[...] = x
    return out


@primitive
def sum_to(x, shape):
    """Sum ``x`` over the axes that broadcasting added or stretched, leaving ``shape``."""
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
    """The cotangent ``g`` of a broadcast result, brought back to an input of ``shape``."""
    return g if shape_of(g) == shape else sum_to(g, shape)


def broadcast_like(t, ans):
    """A tangent ``t`` stretched to the shape of the output ``ans`` it belongs to."""
    shape = shape_of(ans)
    return t if shape_of(t) == shape else broadcast_to(t, shape)

