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

from autodiff_kit.widgets._common import _ipywidgets, _require
from autodiff_kit.widgets.formula import bracketing_svg, formula, largest_product
from autodiff_kit.widgets.loss_plot import LiveLossPlot, figure_png, live_loss_plot, loss_figure
from autodiff_kit.widgets.ordering import (
    ORDERS,
    OrderCost,
    OrderingReport,
    accumulation_explorer,
    ordering_report,
    to_html,
)
from autodiff_kit.widgets.stepper import BackwardStep, backward_stepper, backward_steps, step_html

__all__ = [
    "ORDERS", "BackwardStep", "LiveLossPlot", "OrderCost", "OrderingReport", "accumulation_explorer",
    "backward_stepper", "backward_steps", "bracketing_svg", "figure_png", "formula",
    "largest_product", "live_loss_plot", "loss_figure", "ordering_report", "step_html", "to_html",
]
