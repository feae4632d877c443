"""How a ``Program`` looks: a text listing for the terminal, HTML and SVG for Jupyter.

The listing is described in ``autodiff_kit.program``. The drawing is the primal
computation as a graph, read left to right: one box per input and per primal
instruction, each in a column right of its operands', with an arrow from each operand to
its use. A box shows the instruction, the type, the value and, in red, the adjoint: the
forward pass reads along the arrows, the backward pass against them, and a value used
twice has two arrows out, whose adjoints were added.

The SVG is written by hand (no graphviz, no new dependency) and is well-formed XML, so
it also works saved to a ``.svg`` file; all text is escaped.

>>> from autodiff_kit.program import trace_program
>>> svg = to_svg(trace_program(lambda x: 2.0 * x, 1.5))
>>> svg.count('class="node')  # the input x and the instruction v1
2
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from autodiff_kit.program import Alias, Instruction, Program, inline


def type_name(shape: tuple[int, ...], dtype: np.dtype) -> str:
    """A value's type as jaxprs write it: ``f64[3,2]``, ``f32[]``, ``bool[4]``.

    The dtype's kind (``f``, ``i``, ``u``, ``c``, or ``bool``) and its size in bits, then the
    shape in brackets (empty for a scalar).

    >>> type_name((3, 2), np.float64), type_name((), np.float32), type_name((4,), bool)
    ('f64[3,2]', 'f32[]', 'bool[4]')
    """
    dtype = np.dtype(dtype)
    kind = "bool" if dtype.kind == "b" else f"{dtype.kind}{8 * dtype.itemsize}"  # f, i, u or c
    return f"{kind}[{','.join(map(str, shape))}]"


def typed(name: str, shape: tuple[int, ...], dtype: np.dtype) -> str:
    """A variable with its type, ``name:type``, as on the left of a line of the listing.

    >>> typed("v1", (3,), np.float64)
    'v1:f64[3]'
    """
    return f"{name}:{type_name(shape, dtype)}"


def setting(value: Any) -> str:
    """A setting such as an axis, a shape or an index, as it would be written in Python.

    >>> setting(slice(1, None)), setting(Ellipsis), setting((0,)), setting(np.int64(2))
    ('1:', '...', '(0,)', '2')
    """
    if isinstance(value, slice):
        parts = ["" if v is None else setting(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    if isinstance(value, tuple):
        inner = ", ".join(setting(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, np.ndarray):
        return summary(value)
    if isinstance(value, np.dtype):
        return str(value)
    return repr(value.item() if isinstance(value, np.generic) else value)


def expression(instruction: Instruction) -> str:
    """The right-hand side of an instruction: ``sum[axis=0] v1``, ``mul 4.0 x``.

    The primitive's listed name, its settings in brackets if any, then its operands.

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit.program import trace_program
    >>> expression(trace_program(lambda x: anp.sum(x, axis=0), np.ones(2)).primal[0])
    'sum[axis=0] x'
    """
    params = ", ".join(f"{key}={setting(value)}" for key, value in instruction.params)
    op = f"{instruction.op}[{params}]" if params else instruction.op
    return " ".join((op, *instruction.operands))


def line_text(line: Instruction | Alias) -> str:
    """One line of a listing: ``v3:f64[] = mul v1 v2``, ``g_y:f64[3] = 0  # ...``.

    For $v_1 = 2x$, $\\bar x = 2 \\bar v_1$, and the output does not depend on $y$:

    >>> from autodiff_kit.program import trace_program
    >>> program = trace_program(lambda x, y: 2.0 * x, 1.0, 2.0)
    >>> line_text(program.primal[0])
    'v1:f64[] = mul 2.0 x'
    >>> [line_text(line) for step in program.steps for line in step.lines]
    ['g_x:f64[] = mul 2.0 g_v1', 'g_y:f64[] = 0  # the output does not depend on y']
    """
    if isinstance(line, Instruction):
        return f"{typed(line.out, line.shape, line.dtype)} = {expression(line)}"
    note = f"  # {line.note}" if line.note else ""
    return f"{typed(line.out, line.shape, line.dtype)} = {line.source}{note}"


def summary(value: Any, max_chars: int | None = None, precision: int = 4) -> str:
    """A value on one line to ``precision`` digits, arrays abbreviated (``[0.1 0.2 ... 0.9]``),
    cut to ``max_chars``.

    >>> summary(np.pi), summary(1e-20), summary(np.arange(10.0) / 10)
    ('3.1416', '1e-20', '[0. 0.1 ... 0.8 0.9]')
    >>> summary(np.arange(10.0), max_chars=10)
    '[0. 1. ..…'
    """
    array = np.asarray(value)
    if array.ndim == 0 and array.dtype.kind == "f":
        text = repr(float(f"{float(array):.{precision + 1}g}"))  # 1.0, 0.84, 1.3091, 1e-20
    else:
        text = np.array2string(array, precision=precision, threshold=6, edgeitems=2, separator=" ",
                               max_line_width=10**6)
    return shorten(" ".join(text.split()), max_chars)


def shorten(text: str, max_chars: int | None) -> str:
    """``text``, or its first ``max_chars - 1`` characters and ``…`` if it is longer (``None``: all).

    >>> shorten("abcdef", 4), shorten("abc", 4), shorten("abcdef", None)
    ('abc…', 'abc', 'abcdef')
    """
    if max_chars is None or len(text) <= max_chars:
        return text
    return text[:max_chars - 1] + "…"


def _constant_line(program: Program, name: str) -> str:
    value = program.values[name]
    return f"  const {typed(name, np.shape(value), np.result_type(value))} = {summary(value)}"


def _shown(program: Program, name: str) -> str:
    """A variable with its type and, for seeds, its value: ``g_v9:f64[] = 1.0``."""
    value = program.values[name]
    shown = inline(value) if np.ndim(value) == 0 else summary(value)
    return f"{typed(name, np.shape(value), np.result_type(value))} = {shown}"


def to_text(program: Program) -> str:
    """The listing: the primal program, then the adjoint program grouped by primal line.

    What ``str(program)`` is; ``autodiff_kit.program`` explains how to read it. For
    $v_1 = 2x$, $\\bar x = 2\\bar v_1$:

    >>> from autodiff_kit.program import trace_program
    >>> print(to_text(trace_program(lambda x: 2.0 * x, 1.5)))
    primal program of <lambda>(x:f64[])
      v1:f64[] = mul 2.0 x
      return v1
    adjoint program, seeded with g_v1:f64[] = 1.0
      # v1 = mul 2.0 x
      g_x:f64[] = mul 2.0 g_v1
      return g_x
    """
    values = program.values
    arguments = ", ".join(typed(n, np.shape(values[n]), np.result_type(values[n])) for n in program.inputs)
    lines = [f"primal program of {program.name}({arguments})"]
    lines += [_constant_line(program, name) for name in program.primal_constants]
    lines += [f"  {line_text(instruction)}" for instruction in program.primal]
    lines.append(f"  return {', '.join(program.outputs)}")
    if program.seeds:
        lines.append(f"adjoint program, seeded with {', '.join(_shown(program, s) for s in program.seeds)}")
    else:
        lines.append("adjoint program, with no seed: the output does not depend on the inputs")
    lines += [_constant_line(program, name) for name in program.adjoint_constants]
    for step in program.steps:
        if step.primal is not None:
            lines.append(f"  # {step.primal.out} = {expression(step.primal)}")
        lines += [f"  {line_text(line)}" for line in step.lines]
    lines.append(f"  return {', '.join(program.cotangents)}")
    return "\n".join(lines)


# The drawing's geometry, in pixels. A monospace character is about 0.6 em wide.
_BOX_WIDTH, _LINE_HEIGHT, _PADDING = 190, 15, 8
_BOX_HEIGHT = 4 * _LINE_HEIGHT + 2 * _PADDING - 4
_GAP_X, _GAP_Y, _MARGIN = 56, 18, 8
_FONT_SIZE = 11
_LANE_OFFSETS = (0, 4, -4, 7, -7)  # where arrows sharing a gap between rows run, within its 18 px
_CHARS_PER_LINE = int((_BOX_WIDTH - 2 * _PADDING) / (0.6 * _FONT_SIZE))
_FILL = {"input": "#e3eefc", "instruction": "#f4f4f4", "output": "#fff1cc"}
_VALUE_COLOUR, _ADJOINT_COLOUR, _EDGE_COLOUR = "#1a1a1a", "#b3261e", "#8a8a8a"
MAX_GRAPH_NODES = 400  # beyond this a drawing is no help; the listing still is
_svg_ids = itertools.count(1)  # one arrowhead id per drawing, unique within a notebook page


@dataclass
class _Box:
    name: str
    kind: str  # "input", "instruction" or "output"
    title: str
    operands: tuple[str, ...]
    column: int = 0
    row: int = 0

    @property
    def x(self) -> int:
        return _MARGIN + self.column * (_BOX_WIDTH + _GAP_X)

    @property
    def y(self) -> int:
        return _MARGIN + self.row * (_BOX_HEIGHT + _GAP_Y)


def _boxes(program: Program) -> list[_Box]:
    """One box per input and per primal instruction, in columns by depth, rows in run order.

    An instruction's depth is first one more than its deepest operand's; then, going
    backwards, every value moves right to just before its first use, inputs too. So a
    value is drawn beside where it is used, and few arrows jump over a column (those
    that do are routed between the rows, see ``_edge_path``).
    """
    outputs = set(program.outputs)
    boxes = [_Box(name, "output" if name in outputs else "input", f"{name}  (input)", ())
             for name in program.inputs]
    boxes += [_Box(ins.out, "output" if ins.out in outputs else "instruction",
                   f"{ins.out} = {expression(ins)}", ins.operands) for ins in program.primal]
    box = {b.name: b for b in boxes}
    users: dict[str, list[_Box]] = {}
    for b in boxes:
        b.column = 1 + max((box[o].column for o in b.operands if o in box), default=-1)
        for operand in dict.fromkeys(b.operands):
            users.setdefault(operand, []).append(b)
    for b in reversed(boxes):  # instructions last to first, then the inputs
        if b.name in users and b.kind != "output":
            b.column = min(user.column for user in users[b.name]) - 1
    position = {b.name: i for i, b in enumerate(boxes, -len(program.inputs))}

    def order(b: _Box) -> float:  # an input comes just before its first user; unused ones last
        if b.kind != "input":
            return position[b.name]
        return position[users[b.name][0].name] - 0.5 if b.name in users else len(boxes) + position[b.name]

    rows: dict[int, int] = {}
    for b in sorted(boxes, key=order):
        b.row = rows[b.column] = rows.get(b.column, -1) + 1
    return boxes


def _edge_path(start: _Box, end: _Box, lanes_used: dict[float, int]) -> str:
    """An arrow from ``start``'s right side to ``end``'s left side.

    Between neighbouring columns, one S-curve. Over more columns a straight curve would
    pass behind the boxes in between, so the arrow drops into the gap between two rows
    (free in every column: the boxes sit on one grid), runs along it, and rises to
    ``end``. Arrows sharing a gap are spread a few pixels apart (``lanes_used`` counts
    them), so that each can be followed.
    """
    x1, y1 = start.x + _BOX_WIDTH, start.y + _BOX_HEIGHT / 2
    x2, y2 = end.x, end.y + _BOX_HEIGHT / 2
    if end.column == start.column + 1:
        bend = (x2 - x1) / 2
        return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
    lanes = [_MARGIN + k * (_BOX_HEIGHT + _GAP_Y) - _GAP_Y / 2
             for k in {start.row + 1, end.row + 1, max(start.row, 1), max(end.row, 1)}]
    lane = min(lanes, key=lambda y: (abs(y - y1) + abs(y - y2), y))
    used = lanes_used[lane] = lanes_used.get(lane, 0) + 1
    lane += _LANE_OFFSETS[(used - 1) % len(_LANE_OFFSETS)]
    half = _GAP_X / 2
    return (f"M{x1},{y1} C{x1 + half},{y1} {x1 + half},{lane} {x1 + _GAP_X},{lane} "
            f"L{x2 - _GAP_X},{lane} C{x2 - half},{lane} {x2 - half},{y2} {x2},{y2}")


def _box_svg(program: Program, box: _Box) -> str:
    value, adjoint = program.values[box.name], program.adjoints[box.name]
    kind = type_name(np.shape(value), np.result_type(value)) + ("  output" if box.kind == "output" else "")
    texts = [(box.title, _VALUE_COLOUR, ' font-weight="bold"'),
             (kind, "#555555", ""),
             (f"val {summary(value)}", _VALUE_COLOUR, ""),
             (f"adj {summary(adjoint)}", _ADJOINT_COLOUR, "")]
    tooltip = (f"{box.title}\n{kind}\nvalue: {summary(value, precision=8)}\n"
               f"adjoint: {summary(adjoint, precision=8)}")
    stroke = ' stroke="#c77700" stroke-width="2"' if box.kind == "output" else ' stroke="#777777"'
    parts = [f'<g class="node {box.kind}" data-var="{escape(box.name)}">',
             f"<title>{escape(tooltip)}</title>",
             f'<rect x="{box.x}" y="{box.y}" width="{_BOX_WIDTH}" height="{_BOX_HEIGHT}" rx="4" '
             f'fill="{_FILL[box.kind]}"{stroke}/>']
    for i, (text, colour, extra) in enumerate(texts):
        y = box.y + _PADDING + (i + 1) * _LINE_HEIGHT - 4
        parts.append(f'<text x="{box.x + _PADDING}" y="{y}" fill="{colour}"{extra}>'
                     f"{escape(shorten(text, _CHARS_PER_LINE))}</text>")
    parts.append("</g>")
    return "".join(parts)


def to_svg(program: Program) -> str:
    """The primal computation as an SVG graph: a box per value, an arrow per use.

    Each box shows the instruction, the type, the value and the adjoint; an operand used
    twice by one instruction (``x * x``) gets one arrow.

    >>> from autodiff_kit.program import trace_program
    >>> svg = to_svg(trace_program(lambda x: x * x + x, 1.5))
    >>> svg.startswith("<svg"), svg.count('class="node'), svg.count('class="edge"')
    (True, 3, 3)
    """
    boxes = _boxes(program)
    where = {box.name: box for box in boxes}
    arrow = f"autodiff-kit-arrow-{next(_svg_ids)}"
    lanes_used: dict[float, int] = {}
    edges = [f'<path class="edge" d="{_edge_path(where[source], box, lanes_used)}" fill="none" '
             f'stroke="{_EDGE_COLOUR}" marker-end="url(#{arrow})"/>'
             for box in boxes
             for source in dict.fromkeys(o for o in box.operands if o in where)]  # x * x: one arrow
    width = max(box.x for box in boxes) + _BOX_WIDTH + _MARGIN if boxes else 2 * _MARGIN
    height = max(box.y for box in boxes) + _BOX_HEIGHT + _GAP_Y if boxes else 2 * _MARGIN  # + a lane
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Menlo, Consolas, monospace" font-size="{_FONT_SIZE}">',
        f"<title>{escape(f'computation graph of {program.name}')}</title>",
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{_EDGE_COLOUR}"/>'
        "</marker></defs>",
        *edges,
        *(_box_svg(program, box) for box in boxes),
        "</svg>",
    ])


def to_html(program: Program) -> str:
    """The drawing and the listing in one block, for Jupyter (well-formed XML, text escaped).

    A program of more than ``MAX_GRAPH_NODES`` inputs and instructions is not drawn: a line
    says so, and the listing follows.

    >>> from autodiff_kit.program import trace_program
    >>> html = to_html(trace_program(lambda x: 2.0 * x, 1.5))
    >>> html.count("<svg"), html.count("<pre")  # the drawing, then the listing
    (1, 1)
    """
    count = len(program.inputs) + len(program.primal)
    if count <= MAX_GRAPH_NODES:
        drawing = (f'<div style="overflow-x: auto">{to_svg(program)}</div>'
                   '<div style="font-size: smaller">Each box: the instruction, its type, its value '
                   f'(val) and its adjoint (adj, <span style="color: {_ADJOINT_COLOUR}">red</span>).</div>')
    else:
        drawing = f"<div>({count} values are too many to draw; the listing follows.)</div>"
    return ('<div class="autodiff-kit-program">' + drawing
            + f'<pre style="line-height: 1.25">{escape(to_text(program))}</pre></div>')
