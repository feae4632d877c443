"""Probes of 04_modes: expressions built from plain descriptions with the student's classes.

An expression is described by a *program*: a list of instructions, one per node, in the
order they run. ``("input", value)`` (or ``("input", value, tangent)`` for a ``Dual``)
creates an input; ``(op, a, b)`` applies ``op`` (``add sub mul div pow neg sin cos exp
log``) to operands, each the name ``"v<i>"`` of an earlier node or a plain number, so a
node used twice is simply named twice. ``run_program`` evaluates a program with whatever
classes and functions it is given; every probe here is one choice of them.

Each probe judges one function on its own: the names it does not judge are set to the
kit's reference (``autodiff_kit.scalar``) while it runs, so that ``derivative`` runs on the
reference ``Dual``, ``backward`` on reference ``Var`` graphs, and ``Var``'s operators are
differentiated by the reference ``backward``. That works because the notebook fixes the
data structure they share: ``Var(value, parents)``, where ``parents`` pairs each input
with the local derivative along its edge.
"""

from __future__ import annotations

import contextlib
import gc
import operator
from collections.abc import Callable, Iterator
from numbers import Real

from autodiff_kit import scalar
from grader_tests.probes import Ask, probe, student_function, substituted

BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
          "pow": operator.pow}
FUNCTIONS = ("sin", "cos", "exp", "log")
REFERENCE_FUNCTIONS = {name: getattr(scalar, name) for name in FUNCTIONS}


def run_program(program: list, make_input: Callable, functions: dict) -> list:
    """Every node of ``program``, inputs made by ``make_input(*operands)``."""
    nodes: list = []

    def operand(x):
        return nodes[int(x[1:])] if isinstance(x, str) else x

    for op, *operands in program:
        if op == "input":
            nodes.append(make_input(*operands))
        elif op == "neg":
            nodes.append(-operand(operands[0]))
        elif op in FUNCTIONS:
            nodes.append(functions[op](operand(operands[0])))
        else:
            nodes.append(BINARY[op](*(operand(x) for x in operands)))
    return nodes


def require_parents(node: object) -> None:
    """A ``TypeError`` that states the contract if ``node`` is not a ``Var`` of the agreed shape."""
    if not hasattr(node, "parents") or not hasattr(node, "value"):
        raise TypeError(f"the result is a {type(node).__name__} without `.value` and `.parents`; "
                        "every operation on a Var must return a Var(value, parents) whose `parents` "
                        "pairs each input Var with the local derivative.")
    for parent, _ in node.parents:
        if not hasattr(parent, "parents"):
            raise TypeError(f"`parents` should pair Vars with local derivatives, but it holds a "
                            f"{type(parent).__name__}: a number is a constant, so wrap it with as_var "
                            "or leave it out of `parents`.")


@probe("dual_program")
def dual_program(namespace: dict, args: dict, ask: Ask) -> list:
    """``(value, tangent)`` of every node, inputs ``Dual(value, tangent)`` of the student's class."""
    dual = student_function(namespace, "Dual")
    nodes = run_program(args["program"], dual, {})
    return [(node.value, node.tangent) for node in nodes]


@probe("var_program")
def var_program(namespace: dict, args: dict, ask: Ask) -> dict:
    """Values of the nodes, and for each node ``k`` the grads of nodes ``0..k`` after backward from it.

    The student's ``Var`` builds the graph; the reference ``backward`` differentiates it.
    """
    var = student_function(namespace, "Var")
    nodes = run_program(args["program"], var, {})
    grads = []
    for k, node in enumerate(nodes):
        require_parents(node)
        for earlier in nodes[:k + 1]:
            earlier.grad = 0.0
        scalar.backward(node)
        grads.append([earlier.grad for earlier in nodes[:k + 1]])
    return {"values": [node.value for node in nodes], "grads": grads}


@probe("elementary")
def elementary(namespace: dict, args: dict, ask: Ask) -> list:
    """The student's ``sin cos exp log`` on numbers, reference ``Dual``s or reference ``Var``s.

    ``args["cases"]`` lists ``(function, x, tangent)``; a number gives ``f(x)``, a ``Dual``
    gives ``(value, tangent)``, a ``Var`` gives ``(value, x.grad)`` after backward.
    """
    results = []
    with substituted(namespace, {"Dual": scalar.Dual, "Var": scalar.Var}):
        for name, x, tangent in args["cases"]:
            fn = student_function(namespace, name)
            if args["kind"] == "number":
                results.append(fn(x))
            elif args["kind"] == "dual":
                out = fn(scalar.Dual(x, tangent))
                results.append((out.value, out.tangent))
            else:
                leaf = scalar.Var(x)
                out = fn(leaf)
                require_parents(out)
                scalar.backward(out)
                results.append((out.value, leaf.grad))
    return results


def describe(x: object) -> list:
    """What ``f`` was called with, as plain data: a reference ``Dual``, a number, or something else."""
    if isinstance(x, scalar.Dual):
        return ["Dual", x.value, x.tangent]
    if isinstance(x, Real):
        return ["number", float(x)]
    return ["other", type(x).__name__]


@probe("derivative")
def derivative(namespace: dict, args: dict, ask: Ask) -> list:
    """The student's ``derivative(f, x)`` for each case, ``f`` the output of its program.

    ``f`` runs on the reference ``Dual`` and functions, and reports each argument it
    receives through ``ask("saw", {"case": i, "arg": ...})``.
    """
    def function_of(i, program):
        def f(x):
            ask("saw", {"case": i, "arg": describe(x)})
            return run_program(program, lambda: x, REFERENCE_FUNCTIONS)[-1]
        return f

    with substituted(namespace, {"Dual": scalar.Dual, **REFERENCE_FUNCTIONS}):
        derivative = student_function(namespace, "derivative")
        return [derivative(function_of(i, case["program"]), case["x"])
                for i, case in enumerate(args["cases"])]


@probe("backward_program")
def backward_program(namespace: dict, args: dict, ask: Ask) -> list:
    """The ``.grad`` of every node after the student's ``backward`` on a reference ``Var`` graph."""
    with substituted(namespace, {"Var": scalar.Var, **REFERENCE_FUNCTIONS}):
        nodes = run_program(args["program"], scalar.Var, REFERENCE_FUNCTIONS)
        student_function(namespace, "backward")(nodes[-1])
    return [node.grad for node in nodes]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, which would otherwise rescan a growing graph many times.

    A graph of 100,000 nodes builds ten times faster without it; nothing here makes cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@probe("backward_chain")
def backward_chain(namespace: dict, args: dict, ask: Ask) -> list:
    """The student's ``backward`` on a chain ``v[k+1] = slopes[k] * v[k]``, as deep as the array ``slopes``.

    The chain is built straight from ``Var(value, parents)``, one node per level; returns
    the ``.grad`` of the nodes listed in ``args["report"]`` (0 is the input).
    """
    report = set(args["report"])
    with collector_paused(), substituted(namespace, {"Var": scalar.Var}):
        node = scalar.Var(args["start"])
        reported = {0: node} if 0 in report else {}
        for k, slope in enumerate(args["slopes"].tolist(), start=1):
            node = scalar.Var(node.value * slope, ((node, slope),))
            if k in report:
                reported[k] = node
        student_function(namespace, "backward")(node)
    return [reported[k].grad for k in args["report"]]
