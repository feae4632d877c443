"""What each graded function may not use, and how it is taken away while that function is judged.

The course's contract (``course-spec.md``, "What each exercise may use") forbids two things:

- calling a kit function that computes the graded quantity: the same-named twin, and its
  relatives that answer it too (``chain.tree_flops`` of a forward tree is ``chain_flops``);
- for the functions asked for *by hand*, every derivative the kit can give: its automatic
  differentiation (every transform, ``grad``, ``vjp``, ``jvp``, ``jacfwd``..., starts a
  ``Trace``), the VJP and JVP rules of its primitives called directly (``anp.tanh.vjps[0]``),
  its finite differences, and, outside ``04_modes``, its scalar engine (``scalar.Var``...).

``disable`` replaces the code object of such a function (of every method of a class, of a
primitive's ``impl``) with one that raises ``RuntimeError`` with the sentence the student
reads, which catches every reference to it, however imported; ``RULES`` stands for the rules
of every primitive of the kit. The sandbox's child disables
for good (the original is dropped); the in-process runner undoes it after each check. Only
what the function being judged may not use is disabled, so a probe may still lend the
student the kit's reference of *another* function (``mlp_loss_and_grads`` is judged with
the kit's ``linear_vjp``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

AUTODIFF = "autodiff_kit.tracing.Trace"
RULES = "autodiff_kit.rules"  # not a module: every primitive's VJP and JVP rules
_DERIVATIVES = (AUTODIFF, RULES, *(f"autodiff_kit.testing.{name}"
                                   for name in ("numerical_jvp", "numerical_jacobian", "numerical_grad")))
_SCALAR_ENGINE = tuple(f"autodiff_kit.scalar.{name}" for name in ("Dual", "Var", "derivative", "backward"))
AUTODIFF_MESSAGE = ("`{function}` is to be written by hand, with NumPy only, but it used the kit's automatic "
                    "differentiation (grad, vjp, jvp, jacfwd, ...), which earns no credit here: derive the "
                    "derivative and compute it yourself.")
TWIN_MESSAGE = ("`{function}` called the kit's own `{name}`, which computes what this exercise is graded on "
                "and earns no credit: write the computation yourself.")

_CHAIN = "autodiff_kit.chain."
_ACCUMULATION = tuple(_CHAIN + name
                      for name in ("forward_accumulate", "reverse_accumulate", "accumulate", "_fold"))
_HIGHER = "autodiff_kit.higher_order."
_JACOBIANS = ("autodiff_kit.api.hessian", "autodiff_kit.api.jacfwd", "autodiff_kit.api.jacrev")
_HVPS = (_HIGHER + "hvp", _HIGHER + "hvp_rev_over_rev", _HIGHER + "hvp_fwd_over_rev", *_JACOBIANS)

# The binomial schedule's forward steps are checkpoint_cost, by Griewank's rule instead of the recurrence.
_BINOMIAL = tuple(f"autodiff_kit.checkpointing.{name}" for name in ("binomial_schedule", "_reversal",
                                                                     "_binomial_split"))
# With a dense pattern, a coloured Jacobian is the loop over the one-hot vectors, in order.
_COLOURED = tuple(f"autodiff_kit.sparsity.jacobian_from_coloured_{products}" for products in ("jvps", "vjps"))

TWINS: dict[str, tuple[str, ...]] = {
    # 01_jacobians
    "numerical_jacobian": ("autodiff_kit.testing.numerical_jacobian",),
    "jacobian_from_jvps": (_CHAIN + "jacobian_from_jvps", _CHAIN + "jacobian_from_vjps",
                           _CHAIN + "_one_result_per_basis_vector", *_COLOURED),
    "jacobian_from_vjps": (_CHAIN + "jacobian_from_vjps", _CHAIN + "jacobian_from_jvps",
                           _CHAIN + "_one_result_per_basis_vector", *_COLOURED),
    "softmax_jacobian": ("autodiff_kit.examples.softmax_jacobian",),
    "linear_model_step": ("autodiff_kit.examples.linear_model_step",),
    # 02_orderings
    "forward_accumulate": _ACCUMULATION,
    "reverse_accumulate": _ACCUMULATION,
    "accumulate": _ACCUMULATION,
    "chain_flops": (_CHAIN + "chain_flops", _CHAIN + "tree_flops", _CHAIN + "optimal_order",
                    _CHAIN + "_fold"),
    "optimal_order": (_CHAIN + "optimal_order", _CHAIN + "tree_flops", _CHAIN + "_fold"),
    "stored_activations": (_CHAIN + "stored_activations",),
    "checkpoint_cost": (_CHAIN + "checkpoint_cost", *_BINOMIAL),
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
                             "autodiff_kit.scalar.log", "autodiff_kit.scalar._elementary"),
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


SCALAR_FUNCTIONS = frozenset({"Dual", "elementary_functions", "derivative", "Var", "backward"})  # 04_modes


def forbidden(function: str) -> list[tuple[str, str]]:
    """``[(dotted name, the sentence the student reads)]`` of what ``function`` may not use."""
    taken = [(dotted, TWIN_MESSAGE.format(function=function, name=dotted.rpartition(".")[2].lstrip("_")))
             for dotted in TWINS.get(function, ())]
    if function in BY_HAND:
        engines = _DERIVATIVES if function in SCALAR_FUNCTIONS else _DERIVATIVES + _SCALAR_ENGINE
        taken += [(dotted, AUTODIFF_MESSAGE.format(function=function))
                  for dotted in engines if dotted not in TWINS.get(function, ())]
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


class _Refused:
    """In place of a primitive's rule: calling it raises ``message``."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, *args, **kwargs):
        raise RuntimeError(self.message)


def _disable_rules(message: str) -> Callable[[], None]:
    """Replace the VJP and JVP rules of every primitive of the kit; return what undoes it.

    Each VJP rule (one per differentiable argument, ``None`` kept where there is none) and
    the JVP become a ``_Refused``, so that the engine, or a direct call, raises ``message``.
    """
    import autodiff_kit.numpy as anp
    from autodiff_kit import examples, layers
    from autodiff_kit.tracing import Primitive

    primitives = {id(p): p for module in (anp, layers, examples) for p in vars(module).values()
                  if isinstance(p, Primitive)}
    saved = [(p, p.vjps, p.jvp) for p in primitives.values()]
    refused = _Refused(message)
    for p, vjps, _ in saved:
        p.vjps = tuple(None if rule is None else refused for rule in vjps)
        p.jvp = refused

    def undo() -> None:
        for p, vjps, jvp in saved:
            p.vjps, p.jvp = vjps, jvp
    return undo


def disable(dotted: str, message: str) -> Callable[[], None]:
    """Make the kit's function, primitive or class ``dotted`` raise ``message``; return what undoes it.

    For a class, every method it defines raises, so that giving it back an ``__init__`` does
    not give back the rest.
    """
    if dotted == RULES:
        return _disable_rules(message)
    module_name, _, attribute = dotted.rpartition(".")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, type):
        functions = [f for f in vars(target).values() if hasattr(f, "__code__")]
    else:
        functions = [getattr(target, "impl", target)]
    originals = [(f, f.__code__) for f in functions]
    for function, _ in originals:
        function.__code__ = tripwire_code(len(function.__closure__ or ()), message)

    def undo() -> None:
        for function, code in originals:
            function.__code__ = code
    return undo
