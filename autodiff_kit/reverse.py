"""Reverse mode: record the program on a tape, then sweep it backwards with VJPs.

For $y = f(x)$ built from primitives $v_k = p_k(v_{\\text{parents}})$, the adjoint
$\\bar v = \\partial y / \\partial v$ of every intermediate satisfies

$$\\bar v_i = \\sum_{k\\,:\\,v_i \\text{ is an argument of } p_k} \\mathrm{VJP}_{p_k, i}(\\bar v_k),$$

so one backward sweep gives the cotangent $\\bar x = \\bar y^\\top J_f$ of every input at
about the cost of running $f$ once more.

Why a tape: nodes are appended in the order the program ran them, so walking the tape
backwards visits each node after every node that used it (a reverse topological order)
with no graph search and no recursion, however deep the program.

Why adjoints are *summed*: a value used twice (``b = a + a``) influences the output along
both uses, and the chain rule adds the contributions of all paths.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from autodiff_kit.numpy.methods import ArrayTracer
from autodiff_kit.tracing import Primitive, Trace, Tracer, not_differentiable_error, tracing_now, untraced


class Node(ArrayTracer):
    """A traced value in reverse mode: its value, and how it was computed.

    ``primitive(*args, **kwargs)`` produced ``value``. ``parents`` has one triple
    ``(position, node, vjp)`` per argument that was traced: the node it came from, and the
    rule that turns this node's cotangent into that argument's. ``adjoint`` accumulates
    $\\bar v$ during a backward sweep.
    """

    __slots__ = ("adjoint", "args", "kwargs", "parents", "primitive")

    def __init__(self, value, trace, primitive=None, args=(), kwargs=None, parents=()):
        Tracer.__init__(self, value, trace)
        self.primitive = primitive
        self.args = args
        self.kwargs = kwargs
        self.parents = parents
        self.adjoint = None


class ReverseTrace(Trace):
    """A reverse-mode trace: while open, the tape of every primitive applied to its nodes.

    Leaving the trace hands the tape over (``take_tape``), so the nodes point to the
    trace but the trace does not point back: no reference cycle, and memory is freed
    as soon as the caller drops the tape.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[Node] = []

    def new_input(self, value) -> Node:
        return Node(value, self)

    def take_tape(self) -> list[Node]:
        tape, self.tape = self.tape, []
        return tape

    def record(self, primitive: Primitive, ans, values: list, unwrapped: list, kwargs: dict) -> Node:
        parents = []
        for i, parent in unwrapped:  # fail here, at the line that used it, if there is no rule
            rule = primitive.rule(primitive.vjps, i)
            if rule is None:
                raise not_differentiable_error(primitive, i)
            parents.append((i, parent, rule))
        node = Node(ans, self, primitive, values, kwargs, parents)
        self.tape.append(node)
        return node


def backward_pass(tape: list[Node], seeds: list[tuple[Node, object]], inputs: list[Node],
                  on_visit: Callable[[Node | None, object], None] | None = None) -> list:
    """Propagate output cotangents back along ``tape``; return each input's adjoint.

    ``seeds`` pairs output nodes with their cotangents. An input the outputs do not
    depend on gets ``None``. All adjoints are cleared afterwards, so the sweep can run
    again with other seeds.

    ``on_visit``, if given, watches the sweep without changing it: it is called once with
    ``(None, None)`` when the seeds are in place, then ``(node, adjoint)`` for every node of
    the tape, last to first, right after that node's VJP rules ran (``adjoint`` is the
    node's complete adjoint, ``None`` if the outputs do not depend on it).
    ``trace_program`` uses it to note which instructions each step ran.

    When no derivative is being traced around the sweep (no trace is open), the rules run
    ``untraced``: on plain arrays, each primitive is just its NumPy function. (A tracer left
    in the tape or the seeds then belongs to a finished trace, and NumPy refuses it with the
    same error as the dispatch would.) Otherwise every step of every rule is seen by the
    outer traces, which is what makes derivatives of derivatives exact.
    """
    with contextlib.nullcontext() if tracing_now() else untraced():
        return _sweep(tape, seeds, inputs, on_visit)


def _sweep(tape: list[Node], seeds: list[tuple[Node, object]], inputs: list[Node],
           on_visit: Callable[[Node | None, object], None] | None) -> list:
    for node, cotangent in seeds:
        node.adjoint = cotangent if node.adjoint is None else node.adjoint + cotangent
    if on_visit is not None:
        on_visit(None, None)
    for node in reversed(tape):
        g = node.adjoint
        if g is not None:
            node.adjoint = None
            ans, args, kwargs = node.value, node.args, node.kwargs
            for _, parent, vjp in node.parents:
                contribution = vjp(g, ans, *args, **kwargs)
                if parent.adjoint is None:
                    parent.adjoint = contribution
                else:
                    parent.adjoint = parent.adjoint + contribution
        if on_visit is not None:
            on_visit(node, g)
    adjoints = [node.adjoint for node in inputs]
    for node in inputs:
        node.adjoint = None
    return adjoints
