"""The lectures' interactive views: what each order of the chain rule costs, and backprop step by step.

Each view is two layers. A pure function computes what is shown and can be used (and
tested) anywhere: ``ordering_report(dims)`` tells what each order of accumulating the
Jacobian chain $J = J_L \\cdots J_1$ costs, ``bracketing_svg`` draws a bracketing, and
``backward_steps(program)`` replays the backward sweep of a traced program one adjoint at
a time. A thin ipywidgets wrapper puts sliders on it: ``accumulation_explorer`` and
``backward_stepper``. ``live_loss_plot`` redraws a training curve in place as a loop runs.

The wrappers need the ``lectures`` extra (``pip install 'autodiff-kit[lectures]'``):
ipywidgets, and matplotlib for the plot. They are imported when a wrapper is first called,
so ``import autodiff_kit.widgets`` and the pure functions work without them.

Each displayed number sits in an element with a fixed class, so that a browser test (or
a stylesheet) can find it: ``adk-<order>-flops``, ``adk-<order>-stored`` and
``adk-<order>-largest`` for each order (``forward``, ``reverse``, ``optimal``), and
``adk-bracketing``;
the widgets themselves carry ``adk-ordering-report``, ``adk-depth``, ``adk-width-<k>``,
``adk-backward-step`` and ``adk-step``.

>>> report = ordering_report([1000, 10, 1000, 10, 1000])
>>> report["forward"].flops, report["reverse"].flops, report["optimal"].flops
(30000000, 30000000, 10200000)
>>> report["optimal"].formula
'(J4 (J3 J2)) J1'
"""

from __future__ import annotations

import importlib
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from autodiff_kit import chain, render
from autodiff_kit.render import summary

if TYPE_CHECKING:
    import ipywidgets

    from autodiff_kit.program import Alias, Instruction, Program

ORDERS = ("forward", "reverse", "optimal")


# --- Optional dependencies --------------------------------------------------------------


def _require(module: str, what: str) -> Any:
    """Import ``module`` for ``what``, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{what} needs the package {module.split('.')[0]}, which is not installed. Install the "
            "lectures' extras with: pip install 'autodiff-kit[lectures]' (ipywidgets and matplotlib)."
        ) from None


def _ipywidgets(what: str) -> Any:
    return _require("ipywidgets", what)


# --- Bracketings: formula and layout, walked without recursion --------------------------


def _children(node: chain.Tree) -> tuple[chain.Tree, chain.Tree] | None:
    return node if isinstance(node, tuple) else None


def _postorder(tree: chain.Tree) -> Iterator[chain.Tree]:
    """Every node of ``tree``, children before parents, left before right.

    Nodes are told apart by ``id``: each factor appears once in a bracketing, so every
    node is a distinct object (hashing a nested tuple would walk all of it, every time).
    """
    stack: list[tuple[chain.Tree, bool]] = [(tree, False)]
    while stack:
        node, expanded = stack.pop()
        below = _children(node)
        if below is None or expanded:
            yield node
        else:
            stack += [(node, True), (below[1], False), (below[0], False)]


def formula(tree: chain.Tree) -> str:
    """A bracketing written out, ``jacobians[k]`` as $J_{k+1}$: ``'(J4 (J3 J2)) J1'``.

    Products of two or more factors are parenthesised, except the whole one.

    >>> formula(chain.forward_tree(3)), formula(chain.reverse_tree(3))
    ('J3 (J2 J1)', '(J3 J2) J1')
    """
    parts: list[str] = []
    stack: list[chain.Tree | str] = [tree]  # nodes still to write, and text between them
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif (below := _children(item)) is None:
            parts.append(f"J{item + 1}")
        else:
            left, right = (["(", c, ")"] if _children(c) else [c] for c in below)
            stack += reversed([*left, " ", *right])
    return "".join(parts)


def _shapes(dims: Sequence[int], tree: chain.Tree) -> dict[int, tuple[int, int]]:
    """The shape of every node's product, by ``id(node)``: the leaf ``k`` is
    $(m_{k+1}, m_k)$, and a pair is its left part's rows by its right part's columns."""
    shape: dict[int, tuple[int, int]] = {}  # by id(node)
    for node in _postorder(tree):
        below = _children(node)
        if below is None:
            shape[id(node)] = (dims[node + 1], dims[node])
        else:
            shape[id(node)] = (shape[id(below[0])][0], shape[id(below[1])][1])
    return shape


def largest_product(dims: Sequence[int], tree: chain.Tree) -> int:
    """The entries of the largest matrix that a product in ``tree`` forms: $\\max ac$ over
    the pairs that multiply an $(a, b)$ by a $(b, c)$ matrix; 0 for a single factor.

    Forward mode forms $(m_k, n)$ blocks, reverse mode $(m_L, m_k)$ blocks: the memory of
    accumulating the whole Jacobian, as stored activations are that of one sweep.

    >>> dims = [2, 3, 4, 1]
    >>> largest_product(dims, chain.forward_tree(3)), largest_product(dims, chain.reverse_tree(3))
    (8, 3)
    """
    shape = _shapes(dims, tree)
    return max((shape[id(node)][0] * shape[id(node)][1] for node in _postorder(tree) if _children(node)),
               default=0)


# --- The report on the orders ------------------------------------------------------------


@dataclass(frozen=True)
class OrderCost:
    """One order of accumulating $J_L \\cdots J_1$: its bracketing and what it costs.

    ``flops`` are scalar multiplications ($abc$ per product of an $(a, b)$ and a $(b, c)$
    matrix); ``stored`` the activations one sweep keeps for its derivative pass
    (``chain.stored_activations``: one JVP for forward, one VJP for reverse), and ``None``
    for a mixed order, which forms Jacobian blocks instead; ``largest`` the entries of
    the largest block it forms.
    """

    order: str
    tree: chain.Tree
    flops: int
    stored: int | None
    largest: int

    @property
    def formula(self) -> str:
        return formula(self.tree)


@dataclass(frozen=True)
class OrderingReport:
    """The cost of forward, reverse and optimal accumulation of a chain with widths ``dims``.

    ``report["forward"]`` and so on are ``OrderCost``s. Printed, a table; in Jupyter, an
    HTML table (each number in an element with a fixed class) and a drawing of the
    optimal bracketing.
    """

    dims: tuple[int, ...]
    forward: OrderCost
    reverse: OrderCost
    optimal: OrderCost

    def __getitem__(self, order: str) -> OrderCost:
        if order not in ORDERS:
            raise KeyError(f"The orders are {ORDERS}, not {order!r}.")
        return getattr(self, order)

    @property
    def speedup(self) -> float:
        """How many times fewer flops the optimal order needs than the better of forward and reverse."""
        best_pure = min(self.forward.flops, self.reverse.flops)
        return best_pure / self.optimal.flops if self.optimal.flops else 1.0

    def __str__(self) -> str:
        rows = [f"chain of {len(self.dims) - 1} Jacobians, widths {list(self.dims)}",
                f"  {'order':<8} {'flops':>14} {'stored':>10} {'largest':>12}  bracketing"]
        for cost in (self.forward, self.reverse, self.optimal):
            stored = "-" if cost.stored is None else f"{cost.stored:,}"
            rows.append(f"  {cost.order:<8} {cost.flops:>14,} {stored:>10} {cost.largest:>12,}  "
                        f"{cost.formula}")
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        return to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's plain text: the table
        printer.text(str(self))


def ordering_report(dims: Sequence[int]) -> OrderingReport:
    """What forward, reverse and the optimal order cost for the chain of widths ``dims``.

    ``dims = [n, m1, ..., mL]``: $J_k$ is $(m_k, m_{k-1})$, $m_0 = n$. With $abc$
    multiplications per product (``chain.chain_flops``, ``chain.optimal_order``):

    $$\\text{forward} = n \\sum_{k=1}^{L-1} m_k m_{k+1}, \\qquad
    \\text{reverse} = m_L \\sum_{k=0}^{L-2} m_k m_{k+1},$$

    and the optimal bracketing by dynamic programming. Stored activations for one sweep
    (``chain.stored_activations``): $\\max_k m_k$ forward, $\\sum_{k<L} m_k$ reverse.

    >>> print(ordering_report([2, 3, 4, 1]))
    chain of 3 Jacobians, widths [2, 3, 4, 1]
      order             flops     stored      largest  bracketing
      forward              32          4            8  J3 (J2 J1)
      reverse              18          9            3  (J3 J2) J1
      optimal              18          -            3  (J3 J2) J1
    """
    dims = tuple(int(d) for d in dims)
    length = len(dims) - 1
    optimal_flops, optimal_tree = chain.optimal_order(dims)

    def cost(order: str, tree: chain.Tree, flops: int) -> OrderCost:
        stored = chain.stored_activations(dims, order) if order != "optimal" else None
        return OrderCost(order, tree, flops, stored, largest_product(dims, tree))

    return OrderingReport(
        dims=dims,
        forward=cost("forward", chain.forward_tree(length), chain.chain_flops(dims, "forward")),
        reverse=cost("reverse", chain.reverse_tree(length), chain.chain_flops(dims, "reverse")),
        optimal=cost("optimal", optimal_tree, optimal_flops),
    )


def _number(value: int | None, css_class: str) -> str:
    shown = "—" if value is None else f"{value:,}"
    return f'<span class="{css_class}">{shown}</span>'


_COLUMNS = ("order", "flops", "stored activations", "largest block", "bracketing")


def _versus_pure(report: OrderingReport, best: int) -> str:
    if report.optimal.flops < best:
        return f"{report.speedup:.3g}× fewer flops than the better pure mode ({best:,})"
    same = [cost.order for cost in (report.forward, report.reverse) if cost.flops == best]
    return "as cheap as " + " and ".join(f"{order} mode" for order in same)


def _compact(count: int) -> str:
    """A count short enough for a box of the drawing: exact below 10,000, else 3 digits.

    >>> _compact(9999), _compact(12345), _compact(1928640), _compact(999_999_999), _compact(3 * 10**10)
    ('9,999', '12.3k', '1.93M', '1G', '30G')
    """
    if count < 10_000:
        return f"{count:,}"
    for size, suffix in ((10**9, "G"), (10**6, "M")):
        shown = float(f"{count / size:.3g}")  # rounded first, so that 999,999 is 1M, not 1000k
        if shown >= 1:
            return f"{shown:g}{suffix}"
    return f"{float(f'{count / 10**3:.3g}'):g}k"


def _cell(content: str, tag: str = "td", align: str = "left") -> str:
    return f'<{tag} style="padding: 1px 12px; text-align: {align}">{content}</{tag}>'


def to_html(report: OrderingReport) -> str:
    """The report as an HTML table and a drawing of the optimal bracketing.

    Every number is in a ``<span class="adk-<order>-<what>">``, ``what`` one of ``flops``,
    ``stored``, ``largest``; the optimal formula in ``adk-bracketing``.
    """
    best = min(cost.flops for cost in (report.forward, report.reverse))
    rows = []
    for cost in (report.forward, report.reverse, report.optimal):
        weight = "bold" if cost.flops == report.optimal.flops else "normal"
        numbers = "".join(_cell(_number(value, f"adk-{cost.order}-{what}"), align="right")
                          for what, value in (("flops", cost.flops), ("stored", cost.stored),
                                              ("largest", cost.largest)))
        rows.append(f'<tr style="font-weight: {weight}">{_cell(cost.order)}{numbers}'
                    f"{_cell(f'<code>{escape(cost.formula)}</code>')}</tr>")
    widths = ", ".join(map(str, report.dims))
    return (
        '<div class="adk-report">'
        f"<div>Widths [n, m1, ..., mL] = [{widths}]: {len(report.dims) - 1} Jacobians.</div>"
        '<table style="border-collapse: collapse; font-family: monospace">'
        + "<tr>" + "".join(_cell(name, tag="th") for name in _COLUMNS) + "</tr>"
        + "".join(rows) + "</table>"
        f'<div>Optimal: <code class="adk-bracketing">{escape(report.optimal.formula)}</code>, '
        f"{_versus_pure(report, best)}. Stored activations "
        "are those one JVP (forward) or one VJP (reverse) keeps; a mixed order forms Jacobian blocks "
        "instead, so only its largest block is given.</div>"
        f"{bracketing_svg(report.dims, report.optimal.tree)}</div>"
    )


# --- Drawing a bracketing ----------------------------------------------------------------

_LEAF_WIDTH, _LEVEL_HEIGHT, _NODE_HEIGHT, _MARGIN = 84, 52, 34, 6


def bracketing_svg(dims: Sequence[int], tree: chain.Tree) -> str:
    """A bracketing as a tree: the factors $J_L, \\dots, J_1$ along the bottom (in the order
    they are written), each product above its two parts, labelled with its shape and its
    cost $abc$. One ``<g class="adk-factor">`` per factor and ``adk-product`` per product.

    >>> svg = bracketing_svg([100, 1, 100, 1, 100], ((3, (2, 1)), 0))
    >>> svg.count('class="adk-factor"'), svg.count('class="adk-product"')
    (4, 3)
    """
    dims = [int(d) for d in dims]
    length = len(dims) - 1
    shape = _shapes(dims, tree)
    column: dict[int, float] = {}  # by id(node), as the shapes
    level: dict[int, int] = {}
    for node in _postorder(tree):
        below = _children(node)
        if below is None:
            column[id(node)], level[id(node)] = length - 1 - node, 0  # J_L leftmost, as written
        else:
            column[id(node)] = (column[id(below[0])] + column[id(below[1])]) / 2
            level[id(node)] = 1 + max(level[id(below[0])], level[id(below[1])])
    top = level[id(tree)]
    width = length * _LEAF_WIDTH + 2 * _MARGIN
    height = (top + 1) * _LEVEL_HEIGHT + 2 * _MARGIN

    def centre(node: chain.Tree) -> tuple[float, float]:
        return (_MARGIN + (column[id(node)] + 0.5) * _LEAF_WIDTH,
                _MARGIN + (top - level[id(node)]) * _LEVEL_HEIGHT + _NODE_HEIGHT / 2)

    edges, boxes = [], []
    for node in _postorder(tree):
        x, y = centre(node)
        rows, cols = shape[id(node)]
        below = _children(node)
        if below is None:
            kind, title, note, fill = "adk-factor", f"J{node + 1}", f"{rows}×{cols}", "#e3eefc"
        else:
            inner = shape[id(below[0])][1]
            kind, title, fill = "adk-product", f"{rows}×{cols}", "#fff1cc"
            note = f"{_compact(rows * inner * cols)} flops"
            for child in below:
                cx, cy = centre(child)
                edges.append(f'<line x1="{x}" y1="{y + _NODE_HEIGHT / 2}" x2="{cx}" '
                             f'y2="{cy - _NODE_HEIGHT / 2}" stroke="#8a8a8a"/>')
        half = _LEAF_WIDTH / 2 - 4
        boxes.append(
            f'<g class="{kind}"><rect x="{x - half}" y="{y - _NODE_HEIGHT / 2}" width="{2 * half}" '
            f'height="{_NODE_HEIGHT}" rx="4" fill="{fill}" stroke="#777777"/>'
            f'<text x="{x}" y="{y - 3}" text-anchor="middle" font-weight="bold">{escape(title)}</text>'
            f'<text x="{x}" y="{y + 11}" text-anchor="middle" fill="#555555">{escape(note)}</text></g>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Menlo, Consolas, monospace" font-size="10">'
            f"<title>{escape(formula(tree))}</title>{''.join(edges)}{''.join(boxes)}</svg>")


# --- The backward sweep, one adjoint at a time -------------------------------------------


@dataclass(frozen=True)
class BackwardStep:
    """The backward sweep at one value: its adjoint is complete, and its VJPs run.

    ``name`` is the value (``"v3"``, ``"x"``), ``primal`` the instruction that computed it
    (``None`` for an input), ``adjoint`` $\\bar v = \\partial\\,\\mathrm{out} / \\partial v$ (the
    sum of one contribution per use of $v$), and ``lines`` the adjoint program's lines of
    this step: the naming of $\\bar v$, then what $v$'s VJP rules computed for its operands.
    ``index`` counts from 0.
    """

    index: int
    name: str
    primal: Instruction | None
    adjoint: Any
    lines: tuple[Instruction | Alias, ...]

    def __str__(self) -> str:
        computed = f" = {self.primal.expression}" if self.primal is not None else " (input)"
        listing = "".join(f"\n    {line}" for line in self.lines)
        return (f"step {self.index + 1}: g_{self.name} = {summary(self.adjoint)}"
                f"   # {self.name}{computed}{listing}")


def backward_steps(program: Program) -> Iterator[BackwardStep]:
    """Replay the backward sweep of ``program`` one value at a time, output to inputs.

    Reverse mode visits the values in the reverse of the order they were computed: when
    it reaches $v$, every later value that used $v$ has been visited and has added its
    contribution, so $\\bar v = \\sum_{u \\text{ uses } v} \\bar u \\, \\partial u / \\partial v$
    is complete, and $v$'s VJP rules can pass it on. The inputs come last. The adjoints
    are the program's own (``program.adjoints``), the numbers the real sweep computed.

    >>> from autodiff_kit import trace_program
    >>> program = trace_program(lambda x: 3.0 * x * x, 2.0)
    >>> [(step.name, float(step.adjoint)) for step in backward_steps(program)]
    [('v2', 1.0), ('v1', 2.0), ('x', 12.0)]
    """
    lines_of: dict[str, tuple] = {}
    for step in program.steps:
        if step.primal is not None:
            lines_of[step.primal.out] = step.lines
        else:  # the seeding, or an input's cotangent being named
            for line in step.lines:
                if line.out.startswith("g_") and line.out[2:] in program.inputs:
                    lines_of.setdefault(line.out[2:], step.lines)
    primal_of = {instruction.out: instruction for instruction in program.primal}
    for index, name in enumerate(reversed(list(program.adjoints))):
        yield BackwardStep(index, name, primal_of.get(name), program.adjoints[name], lines_of.get(name, ()))


_stepper_ids = itertools.count(1)


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for an attribute selector)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ") + '"'


def step_html(program: Program, steps: Sequence[BackwardStep], index: int) -> str:
    """The backward sweep at ``steps[index]``: its adjoint and lines, the adjoints so far,
    and the program's drawing with the current value outlined and adjoints not yet
    reached hidden.
    """
    current = steps[index]
    scope = f"adk-stepper-{next(_stepper_ids)}"
    seen = steps[:index + 1]

    def node(name: str) -> str:
        return f".{scope} g.node[data-var={_css_string(name)}]"

    style = (f".{scope} g.node text:last-of-type {{ visibility: hidden; }}"
             + "".join(f"{node(step.name)} text:last-of-type {{ visibility: visible; }}" for step in seen)
             + f"{node(current.name)} rect {{ stroke: #b3261e; stroke-width: 3px; }}")
    where = (f"{escape(current.name)} = {escape(current.primal.expression)}" if current.primal is not None
             else f"{escape(current.name)} (an input)")
    lines = "\n".join(escape(str(line)) for line in current.lines)
    lines = lines or "(no primitive ran here: the adjoint was named at an earlier step)"
    so_far = "".join(f"<tr>{_cell(f'<code>g_{escape(step.name)}</code>')}"
                     f"{_cell(f'<code>{escape(summary(step.adjoint, 60))}</code>')}</tr>" for step in seen)
    adjoint = escape(summary(current.adjoint, 200))
    return (
        f'<div class="{scope} adk-step-view"><style>{style}</style>'
        f"<div><b>Step {index + 1} of {len(steps)}</b>: the adjoint of <code>{where}</code> "
        "is complete:</div>"
        f'<pre class="adk-current-adjoint">g_{escape(current.name)} = {adjoint}</pre>'
        f"<div>and its VJP rules run:</div><pre>{lines}</pre>"
        f'<div style="overflow-x: auto">{render.to_svg(program)}</div>'
        f'<table class="adk-adjoints-so-far">{so_far}</table></div>'
    )


def backward_stepper(program: Program) -> ipywidgets.VBox:
    """A slider through the backward sweep of ``program`` (from ``trace_program``).

    Returns ``VBox([slider, view])``: the ``IntSlider`` (class ``adk-step``) picks the
    step, from 1 (the output) to the inputs, and the ``HTML`` view (class
    ``adk-backward-step``) shows ``step_html`` for it.
    """
    widgets = _ipywidgets("backward_stepper")
    steps = list(backward_steps(program))
    slider = widgets.IntSlider(value=1, min=1, max=len(steps), description="step",
                               continuous_update=True)
    slider.add_class("adk-step")
    view = widgets.HTML(step_html(program, steps, 0))
    view.add_class("adk-backward-step")

    def show(change: dict) -> None:
        view.value = step_html(program, steps, change["new"] - 1)

    slider.observe(show, names="value")
    return widgets.VBox([slider, view])


# --- The accumulation explorer ----------------------------------------------------------


def accumulation_explorer(dims: Sequence[int] = (784, 256, 256, 10), max_width: int = 1024,
                          max_depth: int = 6) -> ipywidgets.VBox:
    """Sliders for the depth and the widths of a chain, and its ``ordering_report``, live.

    Returns ``VBox([depth, VBox(width sliders), report])``: ``depth`` is an ``IntSlider``
    (class ``adk-depth``) for the number of Jacobians $L$, then one ``IntSlider`` per
    width $m_k$ (class ``adk-width-<k>``; those beyond $L$ are hidden), and ``report`` an
    ``HTML`` (class ``adk-ordering-report``) whose value is ``to_html(ordering_report(dims))``
    for the widths shown, recomputed on every change.
    """
    widgets = _ipywidgets("accumulation_explorer")
    dims = [int(d) for d in dims]
    if not 2 <= len(dims) <= max_depth + 1:
        raise ValueError(f"dims has {len(dims)} widths; the explorer shows 2 to {max_depth + 1} "
                         f"(1 to max_depth={max_depth} Jacobians).")
    if not all(1 <= d <= max_width for d in dims):
        raise ValueError(f"dims {dims} must lie between 1 and max_width={max_width}.")
    depth = widgets.IntSlider(value=len(dims) - 1, min=1, max=max_depth, description="depth L")
    depth.add_class("adk-depth")
    defaults = dims + [dims[-1]] * (max_depth + 1 - len(dims))
    sliders = []
    for k, value in enumerate(defaults):
        slider = widgets.IntSlider(value=value, min=1, max=max_width,
                                   description="n = m0" if k == 0 else f"m{k}")
        slider.add_class(f"adk-width-{k}")
        sliders.append(slider)
    report = widgets.HTML()
    report.add_class("adk-ordering-report")

    def update(_: Any = None) -> None:
        shown = depth.value + 1
        for k, slider in enumerate(sliders):
            slider.layout.display = None if k < shown else "none"
        report.value = to_html(ordering_report([s.value for s in sliders[:shown]]))

    for slider in (depth, *sliders):
        slider.observe(update, names="value")
    update()
    return widgets.VBox([depth, widgets.VBox(sliders), report])


# --- A training curve redrawn in place ---------------------------------------------------


def loss_figure(losses: Sequence[float], title: str = "training loss") -> Any:
    """A matplotlib ``Figure`` of ``losses`` against the step, on a log scale when all are
    positive. Made without pyplot (no global state, no GUI backend)."""
    figure_module = _require("matplotlib.figure", "loss_figure")
    figure = figure_module.Figure(figsize=(5.0, 2.8), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(np.arange(len(losses)), losses, color="#1f5fa8")
    if len(losses) and min(losses) > 0:
        axes.set_yscale("log")
    axes.set(xlabel="step", ylabel="loss", title=title)
    axes.grid(True, alpha=0.3)
    return figure


def figure_png(figure: Any) -> bytes:
    """A matplotlib figure as PNG bytes, drawn by the Agg canvas."""
    backend_agg = _require("matplotlib.backends.backend_agg", "figure_png")
    buffer = io.BytesIO()
    backend_agg.FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


class LiveLossPlot:
    """A loss curve that redraws in place in a notebook: call ``update(loss)`` each step.

    The plot is redrawn every ``every`` steps (and by ``show()``), replacing the previous
    drawing through an IPython display handle, so a training loop shows its progress
    without filling the notebook with figures. ``losses`` keeps every value.
    ``display`` is IPython's ``display`` unless given (any function that returns a handle
    with ``update``, as ``display(obj, display_id=True)`` does).
    """

    def __init__(self, title: str = "training loss", every: int = 10,
                 display: Callable[..., Any] | None = None) -> None:
        if every < 1:
            raise ValueError(f"every is {every}; redraw at least every step (every >= 1).")
        self.title, self.every, self.losses = title, every, []
        if display is None:
            display = _require("IPython.display", "live_loss_plot").display
        self._handle = display(self._image(), display_id=True)

    def _image(self) -> Any:
        image = _require("IPython.display", "live_loss_plot").Image
        return image(data=figure_png(loss_figure(self.losses, self.title)), format="png")

    def update(self, loss: float) -> None:
        self.losses.append(float(loss))
        if len(self.losses) % self.every == 0:
            self.show()

    def show(self) -> None:
        if self._handle is not None:
            self._handle.update(self._image())


def live_loss_plot(title: str = "training loss", every: int = 10) -> LiveLossPlot:
    """Display an empty loss curve and return the ``LiveLossPlot`` that updates it."""
    return LiveLossPlot(title, every)
