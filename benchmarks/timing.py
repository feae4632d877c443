"""Wall-clock timing: the best of N repeats, after a warm-up, with ``time.perf_counter``.

Why the best and not the mean: on a shared machine, noise (other processes, frequency
changes, a garbage collection landing in one repeat) only ever adds time, so the fastest
repeat is the closest estimate of what the code itself costs.

Why a median of interleaved rounds: on a machine shared with other work, the load changes
over seconds, and one library timed during a busy spell would look slower than it is.
``median_of_rounds`` times every compared call once per round, round after round, and
keeps each call's median best: the libraries meet the same spells, and one outlier round
moves nothing.

Why batches: a call much shorter than the clock's resolution and the loop around it is
timed ``number`` times in a row, with ``number`` chosen so that one batch lasts at least
``min_time`` seconds; the result is the batch time divided by ``number``.

The garbage collector stays on: a reverse-mode tape is made of many Python objects, and
the collections their allocation triggers are part of what a user of the library pays. But the objects
that exist before timing starts (the modules of NumPy, autograd and PyTorch, all imported
into this one process) are frozen out of collection with ``gc.freeze()``: otherwise every
full collection triggered while one library runs would also scan the others' modules,
charging a library for what else happens to be imported. On the overhead benchmark that
artefact added up to a third to the kit's and autograd's times, more the longer the batch.
"""

from __future__ import annotations

import contextlib
import gc
import math
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K")


@dataclass(frozen=True)
class Timing:
    """Seconds per call (best batch / ``number``, the median over ``rounds``), and how it was measured."""

    seconds: float
    repeats: int
    number: int
    rounds: int = 1

    def describe(self) -> str:
        """How the time was measured, e.g. ``median of 3 rounds, best of 7 × 20 calls``."""
        calls = "call" if self.number == 1 else "calls"
        best = f"best of {self.repeats} × {self.number} {calls}"
        return best if self.rounds == 1 else f"median of {self.rounds} rounds, {best}"


def _time_batch(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def best_of(fn: Callable[[], object], *, repeats: int, min_time: float, warmup: int) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then the best of ``repeats`` batches.

    The batch size comes from one more timed call after the warm-up, so that a batch lasts
    at least ``min_time`` seconds (``min_time=0`` gives batches of one call).
    """
    if repeats < 1 or warmup < 0 or min_time < 0:
        raise ValueError("best_of needs repeats >= 1, warmup >= 0 and min_time >= 0.")
    with _existing_objects_frozen():
        for _ in range(warmup):
            fn()
        one_call = _time_batch(fn, 1)
        number = max(1, math.ceil(min_time / one_call)) if one_call > 0 else 1
        best = min(_time_batch(fn, number) for _ in range(repeats))
    return Timing(best / number, repeats, number)


def median_of_rounds(calls: Mapping[K, Callable[[], object]], *, rounds: int, repeats: int,
                     min_time: float, warmup: int) -> dict[K, Timing]:
    """Time each of ``calls`` with ``best_of`` once per round, interleaved; the median per call.

    Each round sizes its own batches; the ``Timing`` reports the first round's batch size.
    """
    if rounds < 1:
        raise ValueError("median_of_rounds needs rounds >= 1.")
    per_round: dict[K, list[Timing]] = {key: [] for key in calls}
    for _ in range(rounds):
        for key, fn in calls.items():
            per_round[key].append(best_of(fn, repeats=repeats, min_time=min_time, warmup=warmup))
    return {key: Timing(statistics.median(t.seconds for t in timings), repeats, timings[0].number, rounds)
            for key, timings in per_round.items()}


@contextlib.contextmanager
def _existing_objects_frozen() -> Iterator[None]:
    """Collect garbage, then keep every object alive now out of later collections."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def format_seconds(seconds: float) -> str:
    """``seconds`` in a readable unit: ``1.2 s``, ``12.3 ms``, ``45.6 µs``, ``780.0 ns``."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds / 1e-9:.1f} ns"
