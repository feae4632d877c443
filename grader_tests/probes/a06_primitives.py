"""Probes of 06_primitives: the student's primitives differentiated by the kit, and ``adjoint_test``.

``primitive_derivatives`` runs a list of requests on the student's ``softplus`` or
``l2_norm``; each request is a plain dict naming what to compute:

- ``{"kind": "value", "x": x}``: ``f(x)``;
- ``{"kind": "vjp", "x": x, "g": g}``: the cotangent of ``x`` from the kit's ``vjp``;
- ``{"kind": "jvp", "x": x, "t": t}``: the output tangent from the kit's ``jvp``;
- ``{"kind": "grad", "x": x, "w": w}``: ``grad(F)(x)`` with $F(x) = \\sum_i w_i f(x)_i$;
- ``{"kind": "hessian_fwd_over_rev", "x": x, "w": w}``: ``jacfwd(grad(F))(x)`` (``w`` omitted:
  $F = f$);
- ``{"kind": "hvp_rev_over_rev", "x": x, "v": v, "w": w}``: ``grad(x -> grad(F)(x) . v)(x)``;
- ``{"kind": "registration", "x": x}``: how ``f`` is registered (below);
- ``{"kind": "vjp_rule", "x": x, "g": g, "answers": [a, b]}``: the registered VJP rule called
  directly, ``rule(g, a, x)`` for each given output ``a`` (below).

The derivatives go through the kit's public transforms only, so they exercise exactly the
rules the student registered, nested as deep as the request asks. The kit's own
``softplus`` and ``l2_norm`` are disabled while they are judged (``twins``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import autodiff_kit.numpy as anp
from autodiff_kit import api, examples
from autodiff_kit.reverse import ReverseTrace
from grader_tests.probes import Ask, probe, student_function

KIT = {"softplus": examples.softplus, "l2_norm": examples.l2_norm}


def weighted(f: Callable, w: np.ndarray | None) -> Callable:
    """$x \\mapsto \\sum_i w_i f(x)_i$, or ``f`` itself when ``w`` is None (a scalar ``f``)."""
    return f if w is None else (lambda x: anp.sum(w * f(x)))


def registration(f: Callable, name: str, x: np.ndarray) -> dict:
    """What the kit sees of ``f``: an implementation, its rules, and what one traced call records."""
    kit = KIT[name]
    impl, rules, jvp = getattr(f, "impl", None), getattr(f, "vjps", ()), getattr(f, "jvp", None)
    vjp_rule = rules[0] if len(rules) > 0 else None
    uses_kit = f is kit or impl is kit.impl or vjp_rule is kit.vjps[0] or jvp is kit.jvp
    own_nodes = 0
    if callable(impl) and callable(vjp_rule):  # a primitive: one call records one node of its own
        with ReverseTrace() as trace:
            f(trace.new_input(x))
        own_nodes = sum(1 for node in trace.take_tape() if node.primitive is f)
    return {"primitive": callable(impl), "vjp_rule": callable(vjp_rule), "jvp_rule": callable(jvp),
            "uses_kit": bool(uses_kit), "own_nodes": own_nodes}


def vjp_rule_calls(f: Callable, name: str, request: dict) -> dict:
    """The registered VJP rule of ``f`` called with each given output (``calls``, None without a
    rule), and whether ``f`` or that rule is the kit's own (``uses_kit``)."""
    kit, rules = KIT[name], getattr(f, "vjps", ())
    rule = rules[0] if getattr(f, "impl", None) is not None and len(rules) > 0 else None
    if f is kit or rule is kit.vjps[0]:
        return {"uses_kit": True, "calls": None}
    if not callable(rule):
        return {"uses_kit": False, "calls": None}
    x, g = np.array(request["x"]), np.float64(request["g"])
    return {"uses_kit": False, "calls": [rule(g, np.float64(ans), x) for ans in request["answers"]]}


def derivative(f: Callable, name: str, request: dict) -> object:
    kind, x = request["kind"], np.array(request["x"])
    if kind == "value":
        return f(x)
    if kind == "vjp":
        return api.vjp(f, x)[1](np.array(request["g"]))[0]
    if kind == "jvp":
        return api.jvp(f, (x,), (np.array(request["t"]),))[1]
    F = weighted(f, None if request.get("w") is None else np.array(request["w"]))
    if kind == "grad":
        return api.grad(F)(x)
    if kind == "hessian_fwd_over_rev":
        return api.jacfwd(api.grad(F))(x)
    if kind == "hvp_rev_over_rev":
        v = np.array(request["v"])
        return api.grad(lambda y: anp.dot(api.grad(F)(y), v))(x)
    if kind == "registration":
        return registration(f, name, x)
    if kind == "vjp_rule":
        return vjp_rule_calls(f, name, request)
    raise ValueError(f"No request of kind {kind!r}.")


@probe("primitive_derivatives")
def primitive_derivatives(namespace: dict, args: dict, ask: Ask) -> list:
    """Each of ``args["requests"]`` on the student's ``args["function"]``, in order."""
    name = args["function"]
    f = student_function(namespace, name)
    return [derivative(f, name, request) for request in args["requests"]]


@probe("adjoint_test")
def adjoint_test(namespace: dict, args: dict, ask: Ask) -> object:
    """``adjoint_test(jvp_fn, vjp_fn, n, m, default_rng(seed))``, both maps answered by the judge."""
    fn = student_function(namespace, "adjoint_test")
    return fn(lambda v: ask("jvp", v), lambda u: ask("vjp", u), args["n"], args["m"],
              np.random.default_rng(args["seed"]))
