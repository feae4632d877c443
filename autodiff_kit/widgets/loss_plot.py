"""A training curve redrawn in place as a loop runs (matplotlib, imported when first used)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autodiff_kit.widgets._common import _require


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
