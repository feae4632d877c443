"""Two derivatives worked by hand in the first lecture: a one-neuron model, and softmax.

The reference for the course's ``01_jacobians`` (with ``chain.jacobian_from_jvps``,
``chain.jacobian_from_vjps`` and ``testing.numerical_jacobian``).
"""

from __future__ import annotations

import numpy as np


def linear_model_step(x: float, y: float, w: float, b: float, lr: float) -> tuple[float, ...]:
    """One gradient-descent step on $h = w x + b$ with loss $L = (h - y)^2$.

    $\\partial L / \\partial w = 2 (h - y)\\, x$ and $\\partial L / \\partial b = 2 (h - y)$;
    returns ``(loss, dw, db, w - lr dw, b - lr db)``.

    >>> linear_model_step(1.0, 7.0, 2.0, 3.0, 0.1)
    (4.0, -4.0, -4.0, 2.4, 3.4)
    """
    residual = w * x + b - y
    loss = residual**2
    dw, db = 2.0 * residual * x, 2.0 * residual
    return loss, dw, db, w - lr * dw, b - lr * db


def softmax(z: np.ndarray) -> np.ndarray:
    """$p_i = e^{z_i} / \\sum_j e^{z_j}$, computed as $e^{z_i - \\max z}$ so it never overflows."""
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def softmax_jacobian(z: np.ndarray) -> np.ndarray:
    """$\\partial p_i / \\partial z_j = p_i (\\delta_{ij} - p_j)$, that is $\\mathrm{diag}(p) - p p^\\top$.

    >>> softmax_jacobian(np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    p = softmax(np.asarray(z, dtype=float))
    return np.diag(p) - np.outer(p, p)
