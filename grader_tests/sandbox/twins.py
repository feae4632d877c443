"""What each graded function may not use, and how it is taken away while that function is judged.

The course's contract (``course-spec.md``, "What each exercise may use") forbids two things:

- calling a kit function that computes the graded quantity: the same-named twin, and its
  relatives that answer it too (``chain.tree_flops`` of a forward tree is ``chain_flops``);
- for the functions asked for *by hand*, the kit's automatic differentiation altogether:
  every transform (``grad``, ``vjp``, ``jvp``, ``jacfwd``, ``value_and_grad``...) starts a
  ``Trace``, so disabling ``Trace`` catches any kit tracer reaching the student's function.

``disable`` replaces the code object of such a function (or of a class's ``__init__``, or a
primitive's ``impl``) with one that raises ``RuntimeError`` with the sentence the student
reads, which catches every reference to it, however imported. The sandbox's child disables
for good (the original is dropped); the in-process runner undoes it after each check. Only
what the function being judged may not use is disabled, so a probe may still lend the
student the kit's reference of *another* function (``mlp_loss_and_grads`` is judged with
the kit's ``linear_vjp``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

AUTODIFF = "autodiff_kit.tracing.Trace"
AUTODIFF_MESSAGE = ("`{function}` is to be written by hand, with NumPy only, but it used the kit's automatic "
                    "differentiation (grad, vjp, jvp, jacfwd, ...), which earns no credit here: derive the "
                    "derivative and compute it yourself.")
TWIN_MESSAGE = ("`{function}` called the kit's own `{name}`, which computes what this exercise is graded on "
                "and earns no credit: write the computation yourself.")

_CHAIN = "autodiff_kit.chain."
_ACCUMULATION = tuple(_CHAIN + name for name in ("forward_accumulate", "reverse_accumulate", "accumulate"))
_HIGHER = "autodiff_kit.higher_order."
_JACOBIANS = ("autodiff_kit.api.hessian", "autodiff_kit.api.jacfwd", "autodiff_kit.api.jacrev")
_HVPS = (_HIGHER + "hvp", _HIGHER + "hvp_rev_over_rev", _HIGHER + "hvp_fwd_over_rev", *_JACOBIANS)

TWINS: dict[str, tuple[str, ...]] = {
    # 01_jacobians
    "numerical_jacobian": ("autodiff_kit.testing.numerical_jacobian",),
    "jacobian_from_jvps": (_CHAIN + "jacobian_from_jvps", _CHAIN + "jacobian_from_vjps"),
    "jacobian_from_vjps": (_CHAIN + "jacobian_from_vjps", _CHAIN + "jacobian_from_jvps"),
    "softmax_jacobian": ("autodiff_kit.examples.softmax_jacobian",),
    "linear_model_step": ("autodiff_kit.examples.linear_model_step",),
    # 02_orderings
    "forward_accumulate": _ACCUMULATION,
    "reverse_accumulate": _ACCUMULATION,
    "accumulate": _ACCUMULATION,
    "chain_flops": (_CHAIN + "chain_flops", _CHAIN + "tree_flops", _CHAIN + "optimal_order"),
    "optimal_order": (_CHAIN + "optimal_order", _CHAIN + "tree_flops"),
    "stored_activations": (_CHAIN + "stored_activations",),
    "checkpoint_cost": (_CHAIN + "checkpoint_cost",),
    # 03_layer_vjps
    "linear_vjp": ("autodiff_kit.layers.linear_vjp",),
    "relu_vjp": ("autodiff_kit.layers.relu_vjp",),
    "sigmoid_vjp": ("autodiff_kit.layers.sigmoid_vjp",),
    "tanh_vjp": ("autodiff_kit.layers.tanh_vjp",),
    "softmax_cross_entropy": ("autodiff_kit.layers.softmax_cross_entropy",),
    "softmax_cross_entropy_vjp": ("autodiff_kit.layers.softmax_cross_entropy_vjp",),
    "mse_vjp": ("autodiff_kit.layers.mse_vjp",),
    "layernorm_vjp": ("autodiff_kit.layers.layernorm_vjp",),
    "mlp_loss_and_grads": ("autodiff_kit.layers.mlp_loss_and_grads", "autodiff_kit.layers.mlp_loss"),
    # 04_modes
    "Dual": ("autodiff_kit.scalar.Dual",),
    "elementary_functions": ("autodiff_kit.scalar.sin", "autodiff_kit.scalar.cos", "autodiff_kit.scalar.exp",
                             "autodiff_kit.scalar.log"),
    "derivative": ("autodiff_kit.scalar.derivative",),
    "Var": ("autodiff_kit.scalar.Var",),
    "backward": ("autodiff_kit.scalar.backward",),
    # 05_higher_order: grad, jvp and vjp are allowed, nothing that computes second derivatives.
    # The HVPs stay callable while hessian and newton_step are judged: the probes lend them as
    # the student's own (and build the lent Hessian from them).
    "hvp_rev_over_rev": _HVPS,
    "hvp_fwd_over_rev": _HVPS,
    "hessian": (_HIGHER + "hvp", *_JACOBIANS),
    "newton_step": (_HIGHER + "newton_step", _HIGHER + "hvp", *_JACOBIANS),
    "forward_gradient": (_HIGHER + "forward_gradient", _HIGHER + "newton_step", *_HVPS),
    # 06_primitives
    "softplus": ("autodiff_kit.examples.softplus",),
    "l2_norm": ("autodiff_kit.examples.l2_norm",),
    "adjoint_test": ("autodiff_kit.testing.adjoint_test",),
}

# The functions the course asks for by hand: NumPy only, no kit tracer may reach them.
BY_HAND = frozenset({
    "numerical_jacobian", "softmax_jacobian", "linear_model_step",
    "forward_accumulate", "reverse_accumulate", "accumulate", "chain_flops", "optimal_order",
    "stored_activations", "checkpoint_cost",
    "linear_vjp", "relu_vjp", "sigmoid_vjp", "tanh_vjp", "softmax_cross_entropy", "softmax_cross_entropy_vjp",
    "mse_vjp", "layernorm_vjp", "mlp_loss_and_grads",
    "Dual", "elementary_functions", "derivative", "Var", "backward",
    "adjoint_test",
})


def forbidden(function: str) -> list[tuple[str, str]]:
    """``[(dotted name, the sentence the student reads)]`` of what ``function`` may not use."""
    taken = [(dotted, TWIN_MESSAGE.format(function=function, name=dotted.rpartition(".")[2]))
             for dotted in TWINS.get(function, ())]
    if function in BY_HAND:
        taken.append((AUTODIFF, AUTODIFF_MESSAGE.format(function=function)))
    return taken


def tripwire_code(free_variables: int, message: str):
    """The code of a function that raises ``RuntimeError(message)``, with as many free variables as needed.

    A function's ``__code__`` can only be replaced by code with the same number of free
    variables as its closure has cells, so the tripwire is compiled to match.
    """
    names = [f"unused_{i}" for i in range(free_variables)]
    lines = ["def outer():", *(f"    {name} = None" for name in names),
             "    def tripwire(*args, **kwargs):", f"        ({', '.join(names)}{',' if names else ''})",
             f"        raise RuntimeError({message!r})", "    return tripwire"]
    scope: dict = {}
    exec("\n".join(lines), scope)
    return scope["outer"]().__code__


def disable(dotted: str, message: str) -> Callable[[], None]:
    """Make the kit's function, primitive or class ``dotted`` raise ``message``; return what undoes it."""
    module_name, _, attribute = dotted.rpartition(".")
    target = getattr(importlib.import_module(module_name), attribute)
    function = target.__init__ if isinstance(target, type) else getattr(target, "impl", target)
    original = function.__code__
    function.__code__ = tripwire_code(len(function.__closure__ or ()), message)
    return lambda: setattr(function, "__code__", original)
