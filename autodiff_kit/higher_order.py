"""Beyond gradients: Hessian-vector products both ways, Newton's step, forward gradients.

For a scalar $f: \\mathbb{R}^n \\to \\mathbb{R}$ with Hessian $H = \\nabla^2 f(x)$:

- **Forward over reverse**: $Hv = \\frac{d}{dt} \\nabla f(x + t v) \\big|_{t=0}$, one JVP of
  the gradient. The tangent rides along one reverse pass: about the cost of two gradients,
  and the memory of one.
- **Reverse over reverse**: $Hv = \\nabla_x \\langle \\nabla f(x), v \\rangle$ (the Hessian is
  symmetric), the gradient of a gradient. Same answer; the outer reverse pass records the
  inner backward sweep, so it stores more.
- **Forward gradient**: with $v \\sim \\mathcal{N}(0, I)$, $\\mathbb{E}[v v^\\top] = I$, so
  $g(v) = (\\nabla f \\cdot v)\\, v$ is an unbiased estimate of $\\nabla f$ from one JVP and
  no reverse pass at all (Baydin et al., 2022). Its variance grows with $n$.

Each accepts ``f`` of one array written with ``autodiff_kit.numpy``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autodiff_kit import vspace
from autodiff_kit.api import grad, hessian, jvp

HVP_MODES = ("fwd_over_rev", "rev_over_rev")


def hvp_fwd_over_rev(f: Callable, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """$Hv$ as the JVP of $\\nabla f$ along $v$ (forward over reverse).

    >>> import autodiff_kit.numpy as anp
    >>> hvp_fwd_over_rev(lambda x: anp.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    return jvp(grad(f), (x,), (v,))[1]


def hvp_rev_over_rev(f: Callable, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """$Hv$ as $\\nabla_x \\langle \\nabla f(x), v \\rangle$ (reverse over reverse).

    >>> import autodiff_kit.numpy as anp
    >>> hvp_rev_over_rev(lambda x: anp.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    return grad(lambda y: vspace.inner(grad(f)(y), v))(x)


def hvp(f: Callable, x: np.ndarray, v: np.ndarray, mode: str = "fwd_over_rev") -> np.ndarray:
    """The Hessian-vector product $\\nabla^2 f(x)\\, v$ without forming the Hessian.

    ``mode`` is ``"fwd_over_rev"`` (the default: cheaper in memory), the JVP of the gradient
    along $v$, $\\frac{d}{dt} \\nabla f(x + t v) \\big|_{t=0}$ (``hvp_fwd_over_rev``), or
    ``"rev_over_rev"``, the gradient of $\\langle \\nabla f(x), v \\rangle$ (``hvp_rev_over_rev``).
    Either costs about two gradients, whatever $n$; the Hessian itself would cost $n$ of them.
    For $f(x) = \\sum_i x_i^3$, $\\nabla^2 f(x) = \\mathrm{diag}(6x)$:

    >>> import autodiff_kit.numpy as anp
    >>> f, x, v = lambda x: anp.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 0.0])
    >>> hvp(f, x, v), hvp(f, x, v, mode="rev_over_rev")
    (array([6., 0.]), array([6., 0.]))
    """
    if mode == "fwd_over_rev":
        return hvp_fwd_over_rev(f, x, v)
    if mode == "rev_over_rev":
        return hvp_rev_over_rev(f, x, v)
    raise ValueError(f"hvp mode must be one of {HVP_MODES}, not {mode!r}.")


def newton_step(f: Callable, x: np.ndarray) -> np.ndarray:
    """One step of Newton's method: $x - H^{-1} \\nabla f(x)$ (exact for a quadratic).

    >>> import autodiff_kit.numpy as anp
    >>> newton_step(lambda x: anp.sum((x - 3.0) ** 2), np.array([0.0, 10.0]))
    array([3., 3.])
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    step = np.linalg.solve(hessian(f)(x).reshape(n, n), grad(f)(x).reshape(n))
    return x - step.reshape(x.shape)


def forward_gradient(f: Callable, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One unbiased estimate $(\\nabla f \\cdot v)\\, v$ of $\\nabla f(x)$, $v$ standard normal.

    Uses one JVP (forward mode only): $\\nabla f \\cdot v = J_f v$ is what the JVP returns.
    $v$ is ``rng.standard_normal(x.shape)``; since $\\mathbb{E}[v v^\\top] = I$, the mean of the
    estimates tends to $\\nabla f(x)$. For $f(x) = \\|x\\|^2$, $\\nabla f(x) = 2x$:

    >>> import autodiff_kit.numpy as anp
    >>> f, x = lambda x: anp.sum(x ** 2), np.array([1.0, 2.0])
    >>> v = np.random.default_rng(0).standard_normal(2)
    >>> bool(np.allclose(forward_gradient(f, x, np.random.default_rng(0)), (2 * x @ v) * v))
    True
    >>> rng = np.random.default_rng(0)
    >>> np.mean([forward_gradient(f, x, rng) for _ in range(1000)], axis=0).round()  # about 2 x
    array([2., 4.])
    """
    x = np.asarray(x, dtype=float)
    v = rng.standard_normal(x.shape)
    directional = jvp(f, (x,), (v,))[1]
    return directional * v
