"""autodiff_kit: automatic differentiation on NumPy, small enough to read in one sitting.

>>> import numpy as np
>>> import autodiff_kit.numpy as anp
>>> from autodiff_kit import grad
>>> loss = lambda w: anp.sum((w * 2.0 - 1.0) ** 2)
>>> grad(loss)(np.array([0.0, 1.0]))
array([-4.,  4.])

Where to read: ``tracing`` (tracers, traces, primitives), ``reverse`` (the tape and the
backward sweep), ``forward`` (tangents), ``numpy`` (each primitive beside its rules),
``api`` (the transformations), ``primitives`` (``primitive``, ``defvjp``, ``defjvp``: teach
the kit a new function), ``custom`` (``stop_gradient``, ``custom_jvp``, ``custom_vjp``: tell it
a derivative it should not work out itself). Built on them: ``layers`` (fused layers with hand-derived
VJPs, an MLP), ``chain`` (Jacobian products in any order and their cost), ``higher_order``
(Hessian-vector products, Newton, forward gradients), ``sparsity`` (sparse Jacobians from
fewer JVPs or VJPs, by colouring), ``checkpointing`` (``checkpoint`` and ``checkpointed_chain``:
recompute in the backward sweep instead of storing), ``program`` and ``render`` (the primal
and adjoint program of a traced function), ``scalar`` (dual numbers and a scalar tape, the
two modes in miniature), ``examples`` and ``datasets`` (small worked cases), and ``widgets``
(the lectures' explorers; needs the ``lectures`` extra).
"""

from autodiff_kit import (
    chain,
    checkpointing,
    custom,
    datasets,
    examples,
    layers,
    numpy,
    primitives,
    scalar,
    sparsity,
)
from autodiff_kit.api import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp
from autodiff_kit.checkpointing import checkpoint, checkpointed_chain
from autodiff_kit.custom import custom_jvp, custom_vjp, stop_gradient
from autodiff_kit.higher_order import forward_gradient, hvp, newton_step
from autodiff_kit.primitives import defjvp, defvjp, primitive
from autodiff_kit.program import trace_program
from autodiff_kit.tree import tree_flatten, tree_map, tree_unflatten

__all__ = [
    "chain",
    "checkpoint",
    "checkpointed_chain",
    "checkpointing",
    "custom",
    "custom_jvp",
    "custom_vjp",
    "datasets",
    "defjvp",
    "defvjp",
    "examples",
    "forward_gradient",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacrev",
    "jvp",
    "layers",
    "newton_step",
    "numpy",
    "primitive",
    "primitives",
    "scalar",
    "sparsity",
    "stop_gradient",
    "trace_program",
    "tree_flatten",
    "tree_map",
    "tree_unflatten",
    "value_and_grad",
    "vjp",
]
__version__ = "0.1.0"
