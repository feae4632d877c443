"""Seeing what happened: a traced function as its primal program and its adjoint program.

``trace_program(f, *args)`` runs ``f`` once and returns a ``Program``: every primitive that
ran, one instruction per line in the style of a jaxpr, and below it the adjoint program
that reverse mode ran for it, the VJP rules' own primitives, in reverse order of the
primal program. Printed, it is a listing for the terminal; in Jupyter it is also drawn
as a graph whose boxes show each value and its adjoint (``autodiff_kit.render``).

The logistic map $x \\mapsto 4x(1-x)$, applied three times:

>>> from autodiff_kit import grad
>>> def logistic3(x):
...     for _ in range(3):
...         x = 4.0 * x * (1.0 - x)
...     return x
>>> program = trace_program(logistic3, 0.3)
>>> print(program)
primal program of logistic3(x:f64[])
  v1:f64[] = mul 4.0 x
  v2:f64[] = sub 1.0 x
  v3:f64[] = mul v1 v2
  v4:f64[] = mul 4.0 v3
  v5:f64[] = sub 1.0 v3
  v6:f64[] = mul v4 v5
  v7:f64[] = mul 4.0 v6
  v8:f64[] = sub 1.0 v6
  v9:f64[] = mul v7 v8
  return v9
adjoint program, seeded with g_v9:f64[] = 1.0
  # v9 = mul v7 v8
  g_v7:f64[] = mul g_v9 v8
  g_v8:f64[] = mul v7 g_v9
  # v8 = sub 1.0 v6
  t1:f64[] = neg g_v8
  # v7 = mul 4.0 v6
  t2:f64[] = mul 4.0 g_v7
  g_v6:f64[] = add t1 t2
  # v6 = mul v4 v5
  g_v4:f64[] = mul g_v6 v5
  g_v5:f64[] = mul v4 g_v6
  # v5 = sub 1.0 v3
  t3:f64[] = neg g_v5
  # v4 = mul 4.0 v3
  t4:f64[] = mul 4.0 g_v4
  g_v3:f64[] = add t3 t4
  # v3 = mul v1 v2
  g_v1:f64[] = mul g_v3 v2
  g_v2:f64[] = mul v1 g_v3
  # v2 = sub 1.0 x
  t5:f64[] = neg g_v2
  # v1 = mul 4.0 x
  t6:f64[] = mul 4.0 g_v1
  g_x:f64[] = add t5 t6
  return g_x
>>> bool(program.adjoints["x"] == grad(logistic3)(0.3))
True

Reading the listing. Inputs keep the names of ``f``'s parameters; the values the primal
program computes are ``v1, v2, ...`` in the order they ran. Scalar constants are written
inline (``4.0``); array constants are declared once as ``const c1:f64[3] = ...``. Settings
that are not operands appear in brackets (``sum[axis=0] v1``), and the arithmetic
primitives have jaxpr's short names (``mul``, ``sub``, ``div``, ``neg``, ``pow``).

The adjoint of ``v`` (the derivative of the seeded output with respect to ``v``, $\\bar v$)
is called ``g_v``: ``g`` for the cotangent, as everywhere in the course. The sweep visits
the primal instructions from the last to the first; under the comment ``# v9 = mul v7 v8``
are the instructions that the VJP rules of that one line ran. A value used more than once
receives one contribution per use, which are added (``g_x = add t5 t6`` above):
``t1, t2, ...`` are such partial results. A line ``g_v2:f64[] = g_v3`` says that a rule
passed its cotangent on unchanged (``add``'s does), so no primitive ran; ``g_y:f64[3] = 0``
that the output does not depend on ``y``.

How the adjoint program is recorded: by really running the backward sweep, under a
second reverse trace. An *outer* trace wraps the inputs; ``f`` runs under an *inner* trace
on top of it, and since an inner trace calls each primitive again on what its tracers
hold (``tracing``'s levels), every primal primitive lands on the outer tape too. The
inner tape is then swept backwards, as ``reverse.backward_pass`` does, from a seed cotangent
that is itself an outer input: the VJP rules are written in the kit's primitives, so
everything they compute is appended to the outer tape, after the primal program. The
outer tape is the whole listing, and each line's value is the number the real sweep
computed (``grad`` runs the same rules on the same numbers).
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff_kit.api import _check_same_structure, _check_shape, _differentiable
from autodiff_kit.numpy.broadcasting import dtype_of, shape_of
from autodiff_kit.reverse import Node, ReverseTrace, backward_pass
from autodiff_kit.tracing import Primitive, Tracer
from autodiff_kit.tree import TreeDef, tree_flatten, tree_unflatten

# jaxpr's names for the arithmetic primitives; every other primitive keeps its own name.
_SHORT_NAMES = {"multiply": "mul", "subtract": "sub", "divide": "div", "true_divide": "div",
                "negative": "neg", "power": "pow", "absolute": "abs"}


def op_name(prim: Primitive) -> str:
    """The name a primitive is listed under: ``mul`` for ``multiply``, ``concatenate`` for
    ``_concatenate``.

    The arithmetic primitives get jaxpr's short names (``mul``, ``sub``, ``div``, ``neg``,
    ``pow``, ``abs``); every other primitive keeps its own, without leading underscores.

    >>> import autodiff_kit.numpy as anp
    >>> op_name(anp.multiply), op_name(anp.negative), op_name(anp.sum)
    ('mul', 'neg', 'sum')
    """
    name = prim.__name__.lstrip("_")
    return _SHORT_NAMES.get(name, name)


def inline(value: Any) -> str:
    """A scalar constant as an operand: ``4.0``, ``1``, ``True`` (exact, as NumPy prints it).

    >>> inline(4.0), inline(np.float32(0.5)), inline(np.int64(1)), inline(True)
    ('4.0', '0.5', '1', 'True')
    """
    return str(np.asarray(value)[()])


def _render() -> types.ModuleType:
    """``autodiff_kit.render``, which writes and draws these records.

    The records below are plain data; how they look (``str``, Jupyter's HTML) is
    ``render``'s alone, which imports this module. The display methods only hand over to
    it, imported when first used, so this module never depends on it.
    """
    return importlib.import_module("autodiff_kit.render")


@dataclass(frozen=True, eq=False)
class Instruction:
    """One primitive applied once: ``out:type = op[params] operands``.

    ``operands`` are variable names, or constants written out (``4.0``, ``c1``);
    ``params`` are the arguments that are settings rather than arrays (an axis, a shape),
    as ``(name, value)`` pairs. ``shape`` and ``dtype`` are those of the result ``out``.
    The lines of a ``Program`` returned by ``trace_program``:

    >>> import autodiff_kit.numpy as anp
    >>> program = trace_program(lambda x: anp.sum(x * x, axis=0), np.array([1.0, 2.0]))
    >>> instruction = program.primal[1]
    >>> print(instruction)
    v2:f64[] = sum[axis=0] v1
    >>> instruction.out, instruction.operands, instruction.params, instruction.shape
    ('v2', ('v1',), (('axis', 0),), ())
    """

    out: str
    primitive: Primitive
    operands: tuple[str, ...]
    params: tuple[tuple[str, Any], ...]
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def op(self) -> str:
        """The name the primitive is listed under: ``mul`` for ``multiply`` (``op_name``).

        >>> instruction = trace_program(lambda x: 2.0 * x, 1.5).primal[0]
        >>> instruction.primitive, instruction.op
        (<primitive multiply>, 'mul')
        """
        return op_name(self.primitive)

    @property
    def expression(self) -> str:
        """The right-hand side, ``mul v7 v8``: the instruction without its result's type.

        >>> instruction = trace_program(lambda x: 2.0 * x, 1.5).primal[0]
        >>> str(instruction), instruction.expression
        ('v1:f64[] = mul 2.0 x', 'mul 2.0 x')
        """
        return _render().expression(self)

    def __str__(self) -> str:
        return _render().line_text(self)


@dataclass(frozen=True, eq=False)
class Alias:
    """``out`` names a value that already has a name (or is zero): no primitive ran.

    The adjoint program needs these where a VJP rule hands its cotangent on unchanged
    (``add``'s does, when nothing was broadcast), and for inputs the output ignores. In
    $f(x, y) = x + 2$, $\\bar x = \\bar v_1$ and $\\bar y = 0$:

    >>> program = trace_program(lambda x, y: x + 2.0, 1.0, 2.0)
    >>> aliases = [line for step in program.steps for line in step.lines if isinstance(line, Alias)]
    >>> [str(alias) for alias in aliases]
    ['g_x:f64[] = g_v1', 'g_y:f64[] = 0  # the output does not depend on y']
    >>> aliases[1].out, aliases[1].source, aliases[1].note
    ('g_y', '0', 'the output does not depend on y')
    """

    out: str
    source: str
    shape: tuple[int, ...]
    dtype: np.dtype
    note: str = ""

    def __str__(self) -> str:
        return _render().line_text(self)


@dataclass(frozen=True, eq=False)
class AdjointStep:
    """One step of the backward sweep.

    At the primal instruction ``primal``, whose result's adjoint is now complete (every
    later use has contributed), its VJP rules ran the instructions in ``lines``. The
    step before the first (``primal`` is None) combines seeds; the step after the last
    names the inputs' cotangents.

    A record returned by ``trace_program``, as the ``steps`` of its ``Program``, with no example
    of its own: the listing in ``trace_program``'s example prints each step as a comment
    ``# v1 = mul x x`` (its ``primal``) followed by its ``lines``.
    """

    primal: Instruction | None
    lines: tuple[Instruction | Alias, ...]


@dataclass(frozen=True, eq=False, repr=False)
class Program:
    """What one run of ``f`` did, forwards and backwards, with every value it computed.

    ``primal`` and the instructions of ``steps`` are the listing; ``values`` maps every
    name in it (inputs, ``v``, ``g_``, ``t``, ``c`` and seeds) to its array;
    ``adjoints`` maps each primal name (``"x"``, ``"v3"``) to its adjoint, zeros where the
    output does not depend on it. ``str(program)`` is the listing; Jupyter shows
    ``_repr_html_``, the listing and a drawing of the graph. Returned by ``trace_program``;
    for $f(x) = \\sum_i x_i^2$, $v_1 = x \\odot x$ and $\\bar x = 2x$:

    >>> import autodiff_kit.numpy as anp
    >>> program = trace_program(lambda x: anp.sum(x * x), np.array([1.0, 2.0]))
    >>> program
    <Program of <lambda>: 2 primal and 4 adjoint instructions>
    >>> program.inputs, [line.out for line in program.primal], program.outputs, program.cotangents
    (('x',), ['v1', 'v2'], ('v2',), ('g_x',))
    >>> program.values["v1"], program.adjoints["x"]
    (array([1., 4.]), array([2., 4.]))
    """

    name: str
    inputs: tuple[str, ...]
    primal_constants: tuple[str, ...]
    primal: tuple[Instruction, ...]
    outputs: tuple[str, ...]
    seeds: tuple[str, ...]
    adjoint_constants: tuple[str, ...]
    steps: tuple[AdjointStep, ...]
    cotangents: tuple[str, ...]
    values: Mapping[str, Any]
    adjoints: Mapping[str, Any]
    input_tree: TreeDef

    @property
    def adjoint(self) -> tuple[Instruction, ...]:
        """The adjoint program's instructions in the order they ran (without aliases).

        For $y = x \\cdot x$, the VJP rule of ``mul`` runs once per operand, and the two
        contributions are added: $\\bar x = \\bar y\\, x + x\\, \\bar y$.

        >>> [str(line) for line in trace_program(lambda x: x * x, 3.0).adjoint]
        ['t1:f64[] = mul g_v1 x', 't2:f64[] = mul x g_v1', 'g_x:f64[] = add t1 t2']
        """
        return tuple(line for step in self.steps for line in step.lines if isinstance(line, Instruction))

    @property
    def instructions(self) -> tuple[Instruction, ...]:
        """Every primitive that ran: the primal program, then the adjoint program.

        >>> [line.op for line in trace_program(lambda x: x * x, 3.0).instructions]
        ['mul', 'mul', 'mul', 'add']
        """
        return self.primal + self.adjoint

    @property
    def input_cotangents(self) -> Any:
        """The inputs' cotangents structured like ``f``'s arguments, as ``vjp_fn`` returns them.

        A tuple with one entry per argument, each shaped like it. For $f(p) = p_w p_b$,
        $\\bar p_w = p_b$ and $\\bar p_b = p_w$:

        >>> program = trace_program(lambda p: p["w"] * p["b"], {"w": 2.0, "b": 3.0})
        >>> [{name: float(g) for name, g in cotangent.items()} for cotangent in program.input_cotangents]
        [{'w': 3.0, 'b': 2.0}]
        """
        return tree_unflatten(self.input_tree, [self.values[name] for name in self.cotangents])

    def __str__(self) -> str:
        return _render().to_text(self)

    def __repr__(self) -> str:
        return (f"<Program of {self.name}: {len(self.primal)} primal and "
                f"{len(self.adjoint)} adjoint instructions>")

    def _repr_html_(self) -> str:
        return _render().to_html(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython in a terminal: the listing
        printer.text(str(self))


def trace_program(f: Callable, *args: Any, cotangent: Any = None) -> Program:
    """Run ``f(*args)`` and its backward sweep, and return both as a listed ``Program``.

    The adjoint program computes $\\bar x = \\bar y^\\top J_f(x)$ for the output cotangent
    $\\bar y$ = ``cotangent``: for a scalar output it defaults to 1 (then $\\bar x$ is the
    gradient); other outputs need one, shaped like the output (a pytree for several).
    Inputs may be floats, float arrays, or pytrees of them.

    >>> print(trace_program(lambda x: x * x, 3.0))
    primal program of <lambda>(x:f64[])
      v1:f64[] = mul x x
      return v1
    adjoint program, seeded with g_v1:f64[] = 1.0
      # v1 = mul x x
      t1:f64[] = mul g_v1 x
      t2:f64[] = mul x g_v1
      g_x:f64[] = add t1 t2
      return g_x
    """
    leaves, input_tree = tree_flatten(args)
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, Tracer):
            raise TypeError(f"Input {i} of trace_program is a traced value: trace_program shows a "
                            "program run on concrete arrays, so call it outside grad, vjp and jvp.")
    values = [_differentiable(x, "Input {} of trace_program", i) for i, x in enumerate(leaves)]
    with ReverseTrace() as outer:
        outer_inputs = [outer.new_input(value) for value in values]
        with ReverseTrace() as inner:
            inner_inputs = [inner.new_input(node) for node in outer_inputs]
            out = f(*tree_unflatten(input_tree, inner_inputs))
        primal_tape = inner.take_tape()
        out_leaves, out_tree = tree_flatten(out)
        seed_values = _output_cotangents(out_leaves, out_tree, cotangent)
        seeds = [(leaf, outer.new_input(g)) for leaf, g in zip(out_leaves, seed_values, strict=True)
                 if isinstance(leaf, Node) and leaf.trace is inner]
        swept = _sweep(primal_tape, seeds, inner_inputs, outer)
    tape = outer.take_tape()
    if any(isinstance(node.value, Tracer) for node in tape):
        raise TypeError("trace_program was called inside another derivative (its function uses a "
                        "traced value from outside); call it on concrete arrays only.")
    return _Lister(
        name=getattr(f, "__name__", type(f).__name__),
        inputs=list(zip(_input_names(f, args), outer_inputs, strict=True)),
        primal=[node.value for node in primal_tape],  # inner node -> the outer node it holds
        outputs=[leaf.value if isinstance(leaf, Node) and leaf.trace is inner else leaf
                 for leaf in out_leaves],
        seeds=[seed for _, seed in seeds],
        swept=swept,
        tape=tape,
        input_tree=input_tree,
    ).program()


def _output_cotangents(out_leaves: list, out_tree: TreeDef, cotangent: Any) -> list:
    """One cotangent per output leaf: those given, or 1 for a single scalar output."""
    if cotangent is None:
        if len(out_leaves) != 1 or out_tree.kind is not None:
            what = out_tree.kind.__name__ if out_tree.kind is not None else "value"
            raise TypeError(f"f returned a {what} of {len(out_leaves)} values, so the adjoint program "
                            "needs a cotangent to start from: pass cotangent= with the same structure. "
                            "Only a single scalar output has the default cotangent 1.")
        if shape_of(out_leaves[0]) != ():
            shape = shape_of(out_leaves[0])
            raise TypeError(
                f"f returned an array of shape {shape}, so the adjoint program needs a cotangent to "
                f"start from: pass cotangent= an array of shape {shape} (np.ones({shape}) gives the "
                "gradient of the sum of the outputs). Only a scalar output has the default cotangent 1."
            )
        return [np.ones((), dtype_of(out_leaves[0]))]
    given, given_tree = tree_flatten(cotangent)
    _check_same_structure(given_tree, out_tree, "cotangent")
    for i, (g, y) in enumerate(zip(given, out_leaves, strict=True)):
        _check_shape(g, shape_of(y), f"cotangent of output {i}")
    return [np.asarray(g, dtype=dtype_of(y)) for g, y in zip(given, out_leaves, strict=True)]


@dataclass(frozen=True)
class _Swept:
    """What the sweep did at one node: the adjoint the node had when reached (complete by
    then), and the span ``start:stop`` of the outer tape that its VJP rules appended."""

    node: Node | None  # None for the seeding, which comes before any node
    adjoint: Any
    start: int
    stop: int


def _sweep(tape: list[Node], seeds: list, inputs: list[Node], outer: ReverseTrace) -> list[_Swept]:
    """``reverse.backward_pass``, noting what each of its steps appended to the outer tape.

    The sweep is ``backward_pass`` itself; its ``on_visit`` hook adds the bookkeeping it
    has no need for: each node's adjoint when the sweep reaches it, which is complete then
    because every node that used it comes later on the tape and has been visited, and
    which instructions its VJPs ran. The inputs come last, with empty spans: their
    adjoints are the sweep's result.
    """
    swept: list[_Swept] = []
    start = len(outer.tape)

    def note(node: Node | None, adjoint: Any) -> None:
        nonlocal start
        stop = len(outer.tape)
        swept.append(_Swept(node, adjoint, start, stop))
        start = stop

    adjoints = backward_pass(tape, seeds, inputs, on_visit=note)
    end = len(outer.tape)
    swept += [_Swept(node, adjoint, end, end) for node, adjoint in zip(inputs, adjoints, strict=True)]
    return swept


_RESERVED = re.compile(r"[vtc]\d+|seed\d*|g_.*")


def _input_names(f: Callable, args: tuple) -> list[str]:
    """A name per input leaf: ``f``'s parameter names, with a path into pytrees (``p.W``, ``xs[0]``).

    Names the listing gives out itself (``v1``, ``t1``, ``c1``, ``g_...``) get ``_in``
    appended, so every name means one thing.
    """
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    rest = next((p.name for p in parameters if p.kind == p.VAR_POSITIONAL), None)
    names = []
    for i, arg in enumerate(args):
        if i < len(positional):
            base = positional[i]
        elif rest is not None:
            base = f"{rest}[{i - len(positional)}]"
        else:
            base = "x" if len(args) == 1 else f"x{i}"  # f has no signature (a builtin)
        if _RESERVED.fullmatch(base):
            base += "_in"
        names.extend(_leaf_paths(base, arg))
    return names


def _leaf_paths(prefix: str, tree: Any) -> list[str]:
    """The names of the leaves of ``tree``, in ``tree_flatten``'s order."""
    if isinstance(tree, dict):
        return [path for key, child in tree.items()
                for path in _leaf_paths(prefix + (f".{key}" if str(key).isidentifier() else f"[{key!r}]"),
                                        child)]
    if isinstance(tree, (tuple, list)):
        return [path for i, child in enumerate(tree) for path in _leaf_paths(f"{prefix}[{i}]", child)]
    return [prefix]


class _Lister:
    """Turns the outer tape into a ``Program``: gives out the names, then writes the lines.

    All the outer tape's nodes are named first, because a line can only be written once
    its operands have names: inputs; the primal values ``v1, v2, ...``; each value's
    complete adjoint ``g_v``, after the first value it is the adjoint of (``add`` hands
    one cotangent to both operands); seeds not named so; the rest of the adjoint program,
    partial results, ``t1, t2, ...``. Array constants are named ``c1, c2, ...`` as the
    lines are written, in order of first use.
    """

    def __init__(self, *, name, inputs, primal, outputs, seeds, swept, tape, input_tree):
        self.name, self.inputs, self.primal, self.outputs = name, inputs, primal, outputs
        self.seeds, self.swept, self.tape, self.input_tree = seeds, swept, tape, input_tree
        self.names: dict[int, str] = {}  # id(node or constant) -> name
        self.values: dict[str, Any] = {}
        self.constants: list[str] = []
        self.alive: list = []  # everything named, so that no id is reused meanwhile

    def program(self) -> Program:
        self.name_nodes()
        primal = tuple(self.instruction(node) for node in self.primal)
        outputs = tuple(self.operand(value) for value in self.outputs)
        primal_constants = tuple(self.constants)
        instruction_of = {id(node): line for node, line in zip(self.primal, primal, strict=True)}
        steps, adjoints = [], {}
        for swept in self.swept:
            lines: list = []
            primal_line = None
            if swept.node is not None:  # not the seeding
                var = swept.node.value  # the outer node
                primal_line = instruction_of.get(id(var))  # None for an input
                adjoints[self.names[id(var)]] = self.adjoint_value(var, swept.adjoint)
                lines.append(self.alias(var, swept.adjoint, is_input=primal_line is None))
            lines += [self.instruction(node) for node in self.tape[swept.start:swept.stop]]
            lines = [line for line in lines if line is not None]
            if lines:
                steps.append(AdjointStep(primal_line, tuple(lines)))
        in_program_order = [name for name, _ in self.inputs] + [line.out for line in primal]
        return Program(
            name=self.name,
            inputs=tuple(name for name, _ in self.inputs),
            primal_constants=primal_constants,
            primal=primal,
            outputs=outputs,
            seeds=tuple(self.names[id(seed)] for seed in self.seeds),
            adjoint_constants=tuple(self.constants[len(primal_constants):]),
            steps=tuple(steps),
            cotangents=tuple(f"g_{name}" for name, _ in self.inputs),
            values=types.MappingProxyType(self.values),
            adjoints=types.MappingProxyType({name: adjoints[name] for name in in_program_order}),
            input_tree=self.input_tree,
        )

    def name_nodes(self) -> None:
        for name, node in self.inputs:
            self.give(node, name)
        for i, node in enumerate(self.primal, 1):
            self.give(node, f"v{i}")
        for swept in self.swept:
            if isinstance(swept.adjoint, Node) and not self.named(swept.adjoint):
                self.give(swept.adjoint, f"g_{self.names[id(swept.node.value)]}")
        for i, seed in enumerate(self.seeds):
            if not self.named(seed):
                self.give(seed, "seed" if len(self.seeds) == 1 else f"seed{i}")
        temporaries = (node for node in self.tape[len(self.primal):] if not self.named(node))
        for i, node in enumerate(temporaries, 1):
            self.give(node, f"t{i}")

    def give(self, obj: Any, name: str) -> None:
        self.names[id(obj)] = name
        self.values[name] = obj.value if isinstance(obj, Node) else obj
        self.alive.append(obj)

    def named(self, obj: Any) -> bool:
        return id(obj) in self.names

    def operand(self, x: Any) -> str:
        """How ``x`` appears as an operand: its name, a scalar constant written out, or ``c1``."""
        if self.named(x):
            return self.names[id(x)]
        if np.ndim(x) == 0:
            return inline(x)
        name = f"c{len(self.constants) + 1}"
        self.give(x, name)
        self.constants.append(name)
        return name

    def instruction(self, node: Node) -> Instruction:
        traced = {i: parent for i, parent, _ in node.parents}
        operands, params = [], []
        for i, arg in enumerate(node.args):
            if i in traced:
                operands.append(self.names[id(traced[i])])
            elif (setting := _setting_name(node.primitive, i, arg)) is not None:
                if not _is_default(node.primitive, setting, arg):
                    params.append((setting, arg))
            else:
                operands.append(self.operand(arg))
        params += [(key, value) for key, value in node.kwargs.items()
                   if not _is_default(node.primitive, key, value)]
        return Instruction(self.names[id(node)], node.primitive, tuple(operands), tuple(params),
                           shape_of(node.value), dtype_of(node.value))

    def alias(self, var: Node, g: Any, is_input: bool) -> Alias | None:
        """The line that names ``var``'s complete adjoint ``g``, where no instruction did.

        ``None`` when ``g``'s own instruction is named ``g_<var>`` already, and for an
        intermediate value the output does not depend on (its adjoint is never formed,
        as in ``backward_pass``); an input's cotangent is always named, zero if need be.
        """
        name, shape, dtype = f"g_{self.names[id(var)]}", shape_of(var.value), dtype_of(var.value)
        if g is None:
            if not is_input:
                return None
            self.values[name] = np.zeros(shape, dtype)
            return Alias(name, "0", shape, dtype, f"the output does not depend on {self.names[id(var)]}")
        if self.names.get(id(g)) == name:
            return None
        self.values[name] = g.value if isinstance(g, Node) else g
        return Alias(name, self.operand(g), shape, dtype)

    @staticmethod
    def adjoint_value(var: Node, g: Any) -> Any:
        if g is None:
            return np.zeros(shape_of(var.value), dtype_of(var.value))
        return g.value if isinstance(g, Node) else g


def _positional_parameters(prim: Primitive) -> list[inspect.Parameter] | None:
    try:
        parameters = inspect.signature(prim).parameters.values()
    except (TypeError, ValueError):
        return None
    return [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]


def _setting_name(prim: Primitive, i: int, arg: Any) -> str | None:
    """The name under which a constant positional argument is listed as a setting, or None
    when it is an operand.

    Numbers and arrays are operands (``sub 1.0 x``), unless they fill a parameter that has
    a default (``sum(x, 0)``: an axis); anything else (a shape, ``None``, a slice) is a
    setting, named after its parameter (``reshape[shape=(3,)]``) or by position.
    """
    parameters = _positional_parameters(prim)
    parameter = None
    if parameters is not None:
        for j, p in enumerate(parameters):
            if p.kind == p.VAR_POSITIONAL and j <= i:
                break
            if j == i:
                parameter = p
                break
    if parameter is not None and parameter.default is not parameter.empty:
        return parameter.name
    if isinstance(arg, (np.ndarray, np.generic, int, float, complex)):
        return None
    return parameter.name if parameter is not None else f"arg{i}"


def _is_default(prim: Primitive, key: str, value: Any) -> bool:
    """Whether a setting only repeats its default (``keepdims=False``), so need not be listed."""
    try:
        parameter = inspect.signature(prim).parameters.get(key)
    except (TypeError, ValueError):
        return False
    if parameter is None or parameter.default is parameter.empty:
        return False
    default = parameter.default
    return value is default or (type(value) is type(default) and isinstance(value, (bool, int, float, str))
                                and value == default)
