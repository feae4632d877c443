"""Benchmark 4: checkpointing, the memory a gradient keeps against the steps it recomputes.

A chain of 1,000 steps $x_k = \\tanh(x_{k-1} W^\\top + b)$ on a batch of 8 states of 200
entries, and the gradient of the mean of $x_L^2$ with respect to $(W, b)$, by:

- the tape (plain ``grad``): every intermediate of every step is kept, nothing recomputed;
- ``binomial_schedule(L, L)``: every state is kept, each step recomputed once;
- ``periodic_schedule(L, 32)``: a state every 32 steps ($\\approx \\sqrt L$), then each
  segment stored whole while it is reversed;
- ``binomial_schedule(L, s)`` for 10 and 32 slots: Griewank's optimal schedule.

Each row gives the peak of the memory allocated during one gradient (``tracemalloc``, in a
separate untimed call, as tracing allocations slows them), its time, and the steps it
recomputed (computed on plain arrays during the backward sweep, counted by wrapping the
step) beside the count predicted: ``chain.checkpoint_cost(L, slots)`` for the binomial
schedule, the schedule's own ``forward_steps`` (and the binomial optimum in as many slots)
for the periodic one. No schedule goes below about a megabyte and a half: the gradient of the
200 × 200 matrix $W$, its running sum over the steps, and one step's tape.

Before timing, every schedule's gradient and each library's plain gradient must agree.
autograd and PyTorch take their plain gradient; PyTorch's arrays are allocated outside
Python, where ``tracemalloc`` does not see them.
"""

from __future__ import annotations

import functools
import gc
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff_kit import vjp
from autodiff_kit.chain import checkpoint_cost
from autodiff_kit.checkpointing import Schedule, binomial_schedule, periodic_schedule, scheduled_chain
from benchmarks.harness import Row, Settings, check_gradients_agree
from benchmarks.libraries import KIT, Library
from benchmarks.timing import format_seconds

NAME = "checkpointing"


@dataclass(frozen=True)
class Problem:
    """The chain's length, batch and width, the binomial slot counts, and the periodic period."""

    length: int
    batch: int
    width: int
    slot_counts: tuple[int, ...]
    period: int

    def __str__(self) -> str:
        return f"L={self.length}, {self.batch}×{self.width}"


PROBLEM = Problem(length=1000, batch=8, width=200, slot_counts=(10, 32), period=32)
QUICK_PROBLEM = Problem(length=30, batch=2, width=8, slot_counts=(3, 5), period=5)


def tanh_step(ops: Any) -> Callable:
    """One step of the chain, $x \\mapsto \\tanh(x W^\\top + b)$, written with ``ops``."""
    return lambda x, W, b: ops.tanh(x @ W.T + b)


class PlainStepCounter:
    """``step``, counting its calls on plain arrays: the steps computed outside a reversal."""

    def __init__(self, step: Callable) -> None:
        self.step = step
        self.plain_calls = 0

    def __call__(self, x: Any, *params: Any) -> Any:
        self.plain_calls += isinstance(x, np.ndarray)
        return self.step(x, *params)


def make_problem(problem: Problem, seed: int = 0) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """``(W, b)`` at the edge of chaos ($W$ of spectral radius about 1, so that gradients
    neither vanish nor explode over a thousand steps), and the first states ``x0``."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((problem.width, problem.width)) / np.sqrt(problem.width)
    b = 0.1 * rng.standard_normal(problem.width)
    return (W, b), rng.standard_normal((problem.batch, problem.width))


def plain_loss(ops: Any, length: int, step: Callable) -> Callable:
    """``loss((W, b), x0)``, the mean of $x_L^2$, with the chain written as a loop."""

    def loss(params, x):
        for _ in range(length):
            x = step(x, *params)
        return ops.mean(x ** 2)

    return loss


def scheduled_loss(ops: Any, schedule: Schedule, step: Callable) -> Callable:
    """The same loss, with the chain reversed by ``schedule``."""
    chain = scheduled_chain(step, schedule)
    return lambda params, x: ops.mean(chain(x, *params) ** 2)


@dataclass(frozen=True)
class Strategy:
    """A way for the kit to reverse the chain: ``make_loss(step)`` and the steps it should recompute."""

    name: str
    make_loss: Callable[[Callable], Callable]
    prediction: str


def kit_strategies(problem: Problem, ops: Any) -> list[Strategy]:
    """The tape, then every state kept, the periodic schedule and the binomial ones."""
    L = problem.length
    every_state, periodic = binomial_schedule(L, L), periodic_schedule(L, problem.period)
    strategies = [
        Strategy("tape (plain grad)", lambda step: plain_loss(ops, L, step), "0"),
        Strategy(f"every state (binomial, {L} slots)", lambda step: scheduled_loss(ops, every_state, step),
                 f"checkpoint_cost {checkpoint_cost(L, L)}"),
        Strategy(f"every {problem.period} steps (periodic, {periodic.peak_slots} slots)",
                 lambda step: scheduled_loss(ops, periodic, step),
                 f"the schedule's {periodic.forward_steps}; binomial in {periodic.peak_slots} slots: "
                 f"{checkpoint_cost(L, periodic.peak_slots)}"),
    ]
    for slots in problem.slot_counts:
        schedule = binomial_schedule(L, slots)
        strategies.append(Strategy(f"binomial, {slots} slots",
                                   lambda step, schedule=schedule: scheduled_loss(ops, schedule, step),
                                   f"checkpoint_cost {checkpoint_cost(L, slots)}"))
    return strategies


def recomputed_steps(strategy: Strategy, ops: Any, params: Any, x0: Any) -> int:
    """The steps the strategy's gradient computes on plain arrays during its backward sweep."""
    step = PlainStepCounter(tanh_step(ops))
    _, pullback = vjp(lambda params: strategy.make_loss(step)(params, x0), params)
    before = step.plain_calls
    pullback(1.0)
    return step.plain_calls - before


def peak_memory(fn: Callable[[], object]) -> int:
    """The most bytes allocated at once during ``fn()``, beyond what was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(libraries: list[Library], settings: Settings) -> list[Row]:
    """One row per strategy of the kit, and one per other library (its plain gradient)."""
    problem = QUICK_PROBLEM if settings.quick else PROBLEM
    params, x0 = make_problem(problem)
    kit = next(lib for lib in libraries if lib.name == KIT)
    strategies = kit_strategies(problem, kit.ops)
    plain_gradients = {lib.name: lib.grad(plain_loss(lib.ops, problem.length, tanh_step(lib.ops)))
                       for lib in libraries}
    inputs = {lib.name: (lib.convert(params), lib.asarray(x0)) for lib in libraries}
    gradients = {lib.name: lib.numpy_of(plain_gradients[lib.name](*inputs[lib.name])) for lib in libraries}
    gradients |= {f"{KIT}, {strategy.name}": kit.grad(strategy.make_loss(tanh_step(kit.ops)))(params, x0)
                  for strategy in strategies[1:]}
    check_gradients_agree(f"{NAME} {problem}", gradients)

    rows = []
    for strategy in strategies:
        gradient = functools.partial(kit.grad(strategy.make_loss(tanh_step(kit.ops))), params, x0)
        timing = settings.measure({"gradient": gradient})["gradient"]
        rows.append(Row(NAME, f"{problem}, {strategy.name}", KIT,
                        f"peak {peak_memory(gradient) / 1e6:.2f} MB, {format_seconds(timing.seconds)}; "
                        f"recomputed {recomputed_steps(strategy, kit.ops, params, x0)} steps "
                        f"(predicted: {strategy.prediction})", timing.describe()))
    for lib in libraries:
        if lib.name != KIT:
            gradient = functools.partial(plain_gradients[lib.name], *inputs[lib.name])
            timing = settings.measure({"gradient": gradient})["gradient"]
            memory = ("peak not seen by tracemalloc (allocated outside Python)" if lib.name == "torch"
                      else f"peak {peak_memory(gradient) / 1e6:.2f} MB")
            rows.append(Row(NAME, f"{problem}, tape (plain grad)", lib.name,
                            f"{memory}, {format_seconds(timing.seconds)}", timing.describe()))
    return rows
