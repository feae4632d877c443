"""Benchmark 4: a Hessian-vector product, forward mode over reverse mode.

$Hv = \\frac{d}{dt} \\nabla f(x + t v) \\big|_{t=0}$ is the JVP of the gradient along $v$: a
forward trace carries a tangent through one reverse pass, so every step of the backward
sweep is itself traced. It measures how well the kit's derivatives nest, where the
backward sweep cannot take its untraced shortcut. The function is the loss of the small
MLP of ``mlp_ratio`` (``[64, 64, 64, 10]``, batch 32), differentiated with respect to all
its parameters, along a random direction of the same structure. Compared with autograd,
which nests the same way (``make_jvp`` over ``grad``); PyTorch eager has no forward mode
over its ``.backward()``, so it has no row here.
"""

from __future__ import annotations

import functools

import numpy as np

from benchmarks import mlp_ratio
from benchmarks.harness import Limit, Row, Settings, check_gradients_agree, versus_autograd
from benchmarks.libraries import Library
from benchmarks.timing import format_seconds

NAME = "hvp"
CASE, QUICK_CASE = mlp_ratio.CASES[1], mlp_ratio.QUICK_CASES[0]
TARGET = Limit("time / autograd's", 0.35)  # issue 15


def direction(params: list, seed: int = 1) -> list:
    """A standard normal direction shaped like ``params``."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(np.shape(W)), rng.standard_normal(np.shape(b))) for W, b in params]


def run(libraries: list[Library], settings: Settings) -> list[Row]:
    """One row per library with forward mode over reverse: the time of one Hessian-vector product."""
    case = QUICK_CASE if settings.quick else CASE
    params, x, labels = mlp_ratio.make_problem(case)
    nesting = [lib for lib in libraries if lib.hvp is not None]
    calls = {lib.name: functools.partial(lib.hvp(mlp_ratio.make_loss(lib.ops)), lib.convert(params),
                                         lib.convert(direction(params)), lib.asarray(x), lib.asarray(labels))
             for lib in nesting}
    check_gradients_agree(f"{NAME} {case}", {name: lib.numpy_of(calls[name]())
                                            for name, lib in ((lib.name, lib) for lib in nesting)})
    timings = settings.measure(calls)
    seconds = {name: timing.seconds for name, timing in timings.items()}
    rows = []
    for lib in nesting:
        measurement = f"{format_seconds(seconds[lib.name])} per Hv"
        note, target, passed = versus_autograd(lib.name, seconds, settings, TARGET)
        measurement += note
        rows.append(Row(NAME, f"small MLP loss, {case}", lib.name, measurement, timings[lib.name].describe(),
                        target, passed))
    rows += [Row(NAME, f"small MLP loss, {case}", lib.name,
                 "not timed: no forward mode over its reverse mode", "")
             for lib in libraries if lib.hvp is None]
    return rows
