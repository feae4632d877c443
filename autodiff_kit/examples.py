"""Small worked cases: derivatives by hand, and primitives the kit was taught.

- A one-neuron model and softmax, differentiated by hand in the first lecture: the
  reference for the course's ``01_jacobians`` (with ``chain.jacobian_from_jvps``,
  ``chain.jacobian_from_vjps`` and ``testing.numerical_jacobian``).
- ``softplus`` and ``l2_norm``, two primitives registered through the public primitive API
  (``autodiff_kit.primitives``) with rules written in ``autodiff_kit.numpy``, so that their
  derivatives nest: the reference for ``06_primitives`` (with ``testing.adjoint_test``).
"""

from __future__ import annotations

import numpy as np

import autodiff_kit.numpy as anp
from autodiff_kit.primitives import defjvp, defvjp, primitive


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
    """$p_i = e^{z_i} / \\sum_j e^{z_j}$, computed as $e^{z_i - \\max z}$ so it never overflows.

    Shifting every $z_i$ by one constant leaves $p$ unchanged, and after the shift the
    largest exponential is $e^0 = 1$. Plain NumPy (its Jacobian is ``softmax_jacobian``):

    >>> softmax(np.array([0.0, np.log(3.0)]))  # proportional to 1 and 3
    array([0.25, 0.75])
    >>> softmax(np.array([1000.0, 1000.0, 1000.0 + np.log(2.0)]))  # e^1000 would overflow
    array([0.25, 0.25, 0.5 ])
    """
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


@primitive
def softplus(x: np.ndarray) -> np.ndarray:
    """$\\operatorname{softplus}(x) = \\log(1 + e^x)$ elementwise, finite and exact for any float.

    Written as $\\max(x, 0) + \\log(1 + e^{-|x|})$: the exponential is at most 1, so it never
    overflows, and ``log1p`` keeps the digits of the tiny values far to the left.

    Its derivative is the logistic function, $\\sigma(x) = e^{x - \\operatorname{softplus}(x)}$,
    which the rules take from the output ``ans``: $x - \\mathrm{ans}$ is at most 0, so this
    exponential never overflows either. Both rules use ``anp``, and differentiating
    ``anp.exp(x - ans)`` goes through ``ans``, that is through softplus's own rule again, so
    ``grad(grad(...))`` and ``jacfwd(grad(...))`` work.

    >>> softplus(np.array([-1e4, 0.0, 1e4])).tolist()
    [0.0, 0.6931471805599453, 10000.0]
    >>> from autodiff_kit import grad
    >>> grad(lambda x: anp.sum(softplus(x)))(np.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ])
    """
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


defvjp(softplus, lambda g, ans, x: g * anp.exp(x - ans))
defjvp(softplus, lambda t, ans, x: t * anp.exp(x - ans))


def _nonzero(norm):
    """The norm, with 1 where it is 0: there $x = 0$, so $x$ / it is the subgradient 0."""
    return anp.where(anp.greater(norm, 0.0), norm, 1.0)


@primitive
def l2_norm(x: np.ndarray) -> np.ndarray:
    """$\\|x\\|_2 = \\sqrt{\\sum_i x_i^2}$ of a vector.

    $\\partial \\|x\\| / \\partial x = x / \\|x\\|$, the unit vector along $x$: the VJP is
    $\\bar x = \\bar y\\, x / \\mathrm{ans}$ and the JVP $\\dot y = x \\cdot \\dot x / \\mathrm{ans}$,
    both reusing the output ``ans`` instead of computing the norm again. At $x = 0$ the norm
    has a kink (a cone) and no derivative; every vector of length at most 1 is a subgradient,
    and the rules take 0, as PyTorch and JAX do, rather than $0 / 0$ = ``nan``.

    >>> float(l2_norm(np.array([3.0, 4.0])))
    5.0
    >>> from autodiff_kit import grad
    >>> grad(l2_norm)(np.array([3.0, 4.0])), grad(l2_norm)(np.zeros(2))
    (array([0.6, 0.8]), array([0., 0.]))
    """
    return np.sqrt(np.sum(np.square(x)))


defvjp(l2_norm, lambda g, ans, x: g * x / _nonzero(ans))
defjvp(l2_norm, lambda t, ans, x: anp.dot(t, x) / _nonzero(ans))
