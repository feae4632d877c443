"""A synthetic two-class data set to train a small network on, made on the spot.

No download and no file: the points are drawn from a random generator, so the same
generator state gives the same data set on every machine.
"""

from __future__ import annotations

import numpy as np


def two_moons(
    n: int = 200, noise: float = 0.1, rng: np.random.Generator | int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points in the plane on two interleaved half circles, and their classes.

    Class 0 lies on the upper half of the unit circle, $(\\cos\\theta, \\sin\\theta)$, and
    class 1 on a lower half circle shifted right and up, $(1 - \\cos\\theta,
    \\tfrac12 - \\sin\\theta)$, with $\\theta$ uniform on $[0, \\pi]$. Each point then moves by
    Gaussian noise of standard deviation ``noise`` in each coordinate. The classes are not
    linearly separable (each moon reaches into the other's hollow), but a small MLP
    separates them when the noise is small.

    Returns ``(x, labels)``: ``x`` of shape ``(n, 2)`` (float64) and ``labels`` of shape
    ``(n,)`` (int64), ``(n + 1) // 2`` points of class 0 and ``n // 2`` of class 1, in random
    order. ``rng`` is a ``numpy.random.Generator`` or a seed; the result depends on nothing else.

    >>> x, labels = two_moons(6, noise=0.0, rng=1)
    >>> x.shape, x.dtype, labels.tolist().count(0), labels.tolist().count(1)
    ((6, 2), dtype('float64'), 3, 3)
    >>> bool(np.allclose(np.hypot(*x[labels == 0].T), 1.0))  # noise 0: on the unit circle
    True
    """
    rng = np.random.default_rng(rng)
    labels = np.repeat(np.array([0, 1], dtype=np.int64), [(n + 1) // 2, n // 2])
    theta = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    lower = np.stack([1.0 - np.cos(theta), 0.5 - np.sin(theta)], axis=1)
    x = np.where(labels[:, None] == 0, upper, lower) + noise * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return x[order], labels[order]
