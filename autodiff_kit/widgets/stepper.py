"""The backward sweep of a traced program, one adjoint at a time, and its slider."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from autodiff_kit import render
from autodiff_kit.render import summary
from autodiff_kit.widgets._common import _cell, _ipywidgets

if TYPE_CHECKING:
    import ipywidgets

    from autodiff_kit.program import Alias, Instruction, Program


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
