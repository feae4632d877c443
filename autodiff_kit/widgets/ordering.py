"""The report on the orders of accumulating a Jacobian chain, and its explorer.

``ordering_report(dims)`` tells what forward, reverse and the optimal order cost;
``accumulation_explorer`` puts sliders on it (ipywidgets, imported when first called).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from autodiff_kit import chain
from autodiff_kit.widgets._common import _cell, _ipywidgets
from autodiff_kit.widgets.formula import bracketing_svg, formula, largest_product

if TYPE_CHECKING:
    import ipywidgets

ORDERS = ("forward", "reverse", "optimal")


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

    ``report["forward"]`` and so on are each an ``OrderCost``. Printed, a table; in Jupyter, an
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
