"""Benchmark 1: the Python overhead per primitive in reverse mode.

On a 3-vector, NumPy's arithmetic costs almost nothing, so what is timed is the
bookkeeping each library does around every operation: wrapping values, recording a node
on the tape, and later looking up and calling the VJP rule. The function is a chain of
600 small operations, 200 times ``x = sin(x); x = x * c; x = x + c`` (``c`` a constant
3-vector), then ``sum``; one ``grad`` call (forward with recording, then the backward
sweep) is timed, and the measurement is that time / 600, in µs per operation.

``c`` and the starting ``x`` are chosen near a period-doubling of the map
``x -> c (sin x + 1)``, where the derivative of each step stays close to 1 in size: the
gradient after 200 steps is of order 1e-2 instead of underflowing towards zero, so the
check that the libraries agree compares real numbers.

Beside the libraries, a reference row times the same chain on ``bare_tape``: the least a
Python tape can do for it (no nesting, no broadcasting, no checks). It is a floor, and the
kit's row gives its time as a multiple of the floor's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import bare_tape
from benchmarks.harness import Limit, Row, Settings, check_gradients_agree, ratio_to, versus_autograd
from benchmarks.libraries import KIT, Library
from benchmarks.timing import format_seconds

NAME = "overhead"
STEPS, QUICK_STEPS = 200, 10
OPS_PER_STEP = 3
C = np.array([1.39, 1.395, 1.39])
X0 = np.array([0.5, 0.5, 1.0])
TARGET = Limit("time / autograd's", 0.25)  # issue 15: a quarter of autograd's time per operation


def make_chain(ops: Any, c: Any, steps: int) -> Callable:
    """``x -> sum(...(sin(x) * c + c)...)``, ``steps`` times: ``3 * steps`` primitives, then sum."""

    def chain(x):
        for _ in range(steps):
            x = ops.sin(x)
            x = x * c
            x = x + c
        return ops.sum(x)

    return chain


def run(libraries: list[Library], settings: Settings) -> list[Row]:
    """One row per library, then the bare tape's: µs per operation of ``grad`` of the chain."""
    steps = QUICK_STEPS if settings.quick else STEPS
    n_ops = OPS_PER_STEP * steps
    calls = {}  # name -> a call of grad of its chain at X0
    for lib in libraries:
        chain = make_chain(lib.ops, lib.asarray(C), steps)
        calls[lib.name] = functools.partial(lib.grad(chain), lib.asarray(X0))
    calls[bare_tape.NAME] = functools.partial(bare_tape.grad(make_chain(bare_tape.OPS, C, steps)), X0)
    numpy_of = {lib.name: lib.numpy_of for lib in libraries} | {bare_tape.NAME: np.asarray}
    check_gradients_agree(NAME, {name: numpy_of[name](grad_call()) for name, grad_call in calls.items()})

    timings = settings.measure(calls)
    seconds = {name: timing.seconds for name, timing in timings.items()}
    rows = []
    case = f"{n_ops} ops on a 3-vector"
    for name in calls:
        us_per_op = seconds[name] / n_ops * 1e6
        measurement = f"{us_per_op:.2f} µs/op ({format_seconds(seconds[name])} per grad)"
        note, target, passed = versus_autograd(name, seconds, settings, TARGET)
        measurement += note
        if name == KIT:
            measurement += f", {seconds[KIT] / seconds[bare_tape.NAME]:.2f}× the bare tape"
        elif name == bare_tape.NAME:
            ratio = ratio_to(seconds[name], seconds, "autograd")
            floor = f", {ratio:.2f}× autograd" if ratio is not None else ""
            measurement += f"{floor}: a floor (no nesting, broadcasting or checks)"
        rows.append(Row(NAME, case, name, measurement, timings[name].describe(), target, passed))
    return rows
