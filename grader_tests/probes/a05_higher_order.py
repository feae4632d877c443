"""Probes of 05_higher_order: the student's functions on ``f``s built from plain descriptions.

A description names a function of one vector written with ``autodiff_kit.numpy``:

- ``{"kind": "quadratic", "A": A, "b": b}``: $\\tfrac12 x^\\top A x + b^\\top x$;
- ``{"kind": "rosenbrock"}``: $\\sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2$;
- ``{"kind": "waves", "M": M, "w": w, "K": K, "u": u}``:
  $w^\\top \\sin(M x) + u^\\top \\exp(K x)$.

The ``f`` handed to the student reports, through ``ask("saw", ...)``, how it is being
differentiated: the tracers around its argument, innermost transformation first
(``["reverse", "forward"]`` is forward over reverse, ``[]`` a plain array). That is how the
judge sees which mode a function used, and that ``forward_gradient`` used no reverse mode.
The other graded functions are the kit's while one is judged, so that ``newton_step`` stands
on the reference ``hessian``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import autodiff_kit.numpy as anp
from autodiff_kit import higher_order
from autodiff_kit.forward import TangentTracer
from autodiff_kit.reverse import Node
from autodiff_kit.tracing import Tracer
from grader_tests.probes import Ask, probe, student_function, substituted


def reference_hessian(f: Callable, x: np.ndarray) -> np.ndarray:
    """The Hessian with the exercise's signature, ``hessian(f, x)``: one forward-over-reverse HVP
    per column, so that it works while the kit's ``hessian`` and ``jacfwd`` are disabled."""
    return np.stack([higher_order.hvp_fwd_over_rev(f, x, e) for e in np.eye(np.size(x))], axis=1)


REFERENCES = {
    "hvp_rev_over_rev": higher_order.hvp_rev_over_rev,
    "hvp_fwd_over_rev": higher_order.hvp_fwd_over_rev,
    "hessian": reference_hessian,
    "newton_step": higher_order.newton_step,
    "forward_gradient": higher_order.forward_gradient,
}


def build(description: dict) -> Callable:
    """The function a description names, written with ``autodiff_kit.numpy``."""
    kind = description["kind"]
    if kind == "quadratic":
        A, b = description["A"], description["b"]
        return lambda x: 0.5 * anp.dot(x, anp.dot(A, x)) + anp.dot(b, x)
    if kind == "rosenbrock":
        return lambda x: anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    if kind == "waves":
        M, w, K, u = description["M"], description["w"], description["K"], description["u"]
        return lambda x: anp.sum(w * anp.sin(anp.dot(M, x))) + anp.sum(u * anp.exp(anp.dot(K, x)))
    raise ValueError(f"No function of kind {kind!r}.")


def tracer_kinds(x: object) -> list[str]:
    """The transformations tracing ``x``, innermost first: ``"reverse"``, ``"forward"`` or ``"other"``."""
    kinds = []
    while isinstance(x, Tracer):
        kinds.append("reverse" if isinstance(x, Node)
                     else "forward" if isinstance(x, TangentTracer) else "other")
        x = x.value
    return kinds


@probe("higher_order")
def higher_order_calls(namespace: dict, args: dict, ask: Ask) -> list:
    """The student's ``args["function"]`` on each case, the other graded functions the kit's.

    A case holds ``f`` (a description) and ``x``, and ``v`` for an HVP or ``seed`` for
    ``forward_gradient``, which receives ``np.random.default_rng(seed)``.
    """
    name = args["function"]
    results = []
    with substituted(namespace, {other: ref for other, ref in REFERENCES.items() if other != name}):
        student = student_function(namespace, name)
        for i, case in enumerate(args["cases"]):
            f = build(case["f"])

            def watched(x, f=f, i=i):
                ask("saw", {"case": i, "kinds": tracer_kinds(x)})
                return f(x)

            extra = [np.array(case["v"])] if "v" in case else []
            if "seed" in case:
                extra.append(np.random.default_rng(case["seed"]))
            results.append(student(watched, np.array(case["x"]), *extra))
    return results
