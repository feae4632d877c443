"""autodiff_kit: automatic differentiation on NumPy, small enough to read in one sitting.

>>> import numpy as np
>>> import autodiff_kit.numpy as anp
>>> from autodiff_kit import grad
>>> loss = lambda w: anp.sum((w * 2.0 - 1.0) ** 2)
>>> grad(loss)(np.array([0.0, 1.0]))
array([-4.,  4.])

Where to read: ``tracing`` (tracers, traces, primitives), ``reverse`` (the tape and the
backward sweep), ``forward`` (tangents), ``numpy`` (each primitive beside its rules),
``api`` (the transformations).
"""

from autodiff_kit import numpy
from autodiff_kit.api import grad, hessian, hvp, jacfwd, jacrev, jvp, value_and_grad, vjp
from autodiff_kit.tree import tree_flatten, tree_map, tree_unflatten

__all__ = [
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacrev",
    "jvp",
    "tree_flatten",
    "tree_map",
    "tree_unflatten",
    "value_and_grad",
    "vjp",
]
__version__ = "0.1.0"
