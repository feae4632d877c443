"""The compared libraries behind one small interface, so each benchmark is written once.

A benchmark writes its function against ``lib.ops`` (NumPy-like functions: ``sin``,
``tanh``, ``sum``, ``mean``, ``arange``, ``logsumexp(z, axis)``) and the array operators,
and differentiates it with ``lib.grad``. For the kit, ``ops`` *is* ``autodiff_kit.numpy``
and ``grad`` *is* ``autodiff_kit.grad``, so its rows time exactly what a user writes.

autodiff_kit is required; autograd and PyTorch are measured when importable, and their
rows are skipped, with a note, when not.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

KIT = "autodiff_kit"


@dataclass(frozen=True)
class Library:
    """One library as the benchmarks see it.

    ``grad(f)`` returns a function ``(x, *rest) -> gradient of the scalar f with respect to
    x``, where ``x`` may be an array or lists and tuples of arrays; ``hvp(f)`` returns
    ``(x, v, *rest) -> H v``, the Hessian of ``f`` in ``x`` times a direction ``v`` shaped like
    ``x``, by forward mode over reverse mode (None where the library has no forward mode that
    nests over its gradient). ``asarray`` turns a
    NumPy array into this library's array (sharing the data, same dtype); ``to_numpy`` does
    the reverse, for comparing results.
    """

    name: str
    version: str
    ops: Any
    grad: Callable[[Callable], Callable]
    asarray: Callable[[np.ndarray], Any]
    to_numpy: Callable[[Any], np.ndarray]
    hvp: Callable[[Callable], Callable] | None = None
    threads: str = ""

    def convert(self, tree: Any) -> Any:
        """NumPy arrays (in lists and tuples) as this library's arrays."""
        return tree_map(self.asarray, tree)

    def numpy_of(self, tree: Any) -> Any:
        """This library's arrays (in lists and tuples) as NumPy arrays."""
        return tree_map(self.to_numpy, tree)


def tree_map(fn: Callable, tree: Any) -> Any:
    """``fn`` applied to each leaf of nested lists and tuples, keeping the nesting."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(tree_map(fn, item) for item in tree)
    return fn(tree)


def tree_leaves(tree: Any) -> list:
    """The leaves of nested lists and tuples, in order."""
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in tree_leaves(item)]
    return [tree]


def _kit() -> Library:
    import autodiff_kit
    import autodiff_kit.numpy as anp

    def hvp(f: Callable) -> Callable:
        return lambda x, v, *rest: autodiff_kit.jvp(lambda p: autodiff_kit.grad(f)(p, *rest), (x,), (v,))[1]

    return Library(KIT, importlib.metadata.version("autodiff-kit"), anp, autodiff_kit.grad,
                   np.asarray, np.asarray, hvp=hvp)


def _autograd_logsumexp() -> Callable:
    """``log Σ exp(z)`` along ``axis`` as one autograd primitive, with VJP ``g · softmax(z)`` and JVP
    ``Σ t · softmax(z)``.

    autograd ships this primitive as ``autograd.scipy.special.logsumexp``, which needs
    SciPy; this is the same primitive and rule on NumPy alone, so that autograd, like the
    kit and PyTorch, records the softmax cross-entropy's logsumexp as one node.
    """
    import autograd.numpy as agnp
    from autograd.extend import defjvp, defvjp, primitive

    @primitive
    def logsumexp(z, axis):
        m = np.max(z, axis=axis, keepdims=True)
        return np.squeeze(m, axis) + np.log(np.sum(np.exp(z - m), axis=axis))

    defvjp(logsumexp, lambda ans, z, axis: lambda g:
           agnp.expand_dims(g, axis) * agnp.exp(z - agnp.expand_dims(ans, axis)))
    defjvp(logsumexp, lambda t, ans, z, axis:
           agnp.sum(t * agnp.exp(z - agnp.expand_dims(ans, axis)), axis=axis))
    return logsumexp


def _autograd() -> Library:
    import autograd
    import autograd.numpy as agnp
    from autograd.differential_operators import make_jvp

    ops = SimpleNamespace(sin=agnp.sin, tanh=agnp.tanh, sum=agnp.sum, mean=agnp.mean,
                          arange=agnp.arange, logsumexp=_autograd_logsumexp())
    def hvp(f: Callable) -> Callable:
        return lambda x, v, *rest: make_jvp(lambda p: autograd.grad(f)(p, *rest))(x)(v)[1]

    return Library("autograd", importlib.metadata.version("autograd"), ops, autograd.grad,
                   np.asarray, np.asarray, hvp=hvp)


def _torch() -> Library:
    """PyTorch eager on the CPU: ``requires_grad_()`` on the inputs, then ``.backward()``."""
    import torch

    def grad(f: Callable) -> Callable:
        def grad_f(x, *rest):
            leaves = tree_map(lambda t: t.detach().requires_grad_(), x)
            f(leaves, *rest).backward()
            return tree_map(lambda t: t.grad, leaves)

        return grad_f

    ops = SimpleNamespace(sin=torch.sin, tanh=torch.tanh, sum=torch.sum, mean=torch.mean,
                          arange=torch.arange,
                          logsumexp=lambda z, axis: torch.logsumexp(z, dim=axis))
    return Library("torch", torch.__version__, ops, grad, torch.from_numpy,
                   lambda t: t.detach().numpy(), threads=f"{torch.get_num_threads()} intra-op threads")


# Module to import -> how to load it; the first is the reference for gradient checks.
_LOADERS = {"autodiff_kit": _kit, "autograd": _autograd, "torch": _torch}
_HOW_TO_INSTALL = {
    "autograd": ".venv/bin/pip install autograd (or the project's 'bench' extra)",
    "torch": ".venv/bin/pip install torch==2.13.0 (the CPU wheel; see benchmarks/README.md)",
}


def load_libraries() -> tuple[list[Library], list[str]]:
    """The importable libraries (the kit first), and a note for each one skipped."""
    libraries, notes = [], []
    for module, load in _LOADERS.items():
        if module != KIT and importlib.util.find_spec(module) is None:
            notes.append(f"{module} is not installed, so its rows are skipped; to measure it: "
                         f"{_HOW_TO_INSTALL[module]}.")
        else:
            libraries.append(load())
    return libraries, notes
