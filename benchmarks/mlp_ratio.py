"""Benchmark 2: the cost of a gradient relative to the function, on an MLP loss.

Reverse mode promises a gradient for a small constant times the cost of the function
(the backward sweep does about two matrix products per forward one). The measurement is
time(grad of loss) / time(loss), with both absolute times, for a multilayer perceptron:
linear layers ``y = x @ W.T + b`` with ``tanh`` between them, and the softmax
cross-entropy ``mean(logsumexp(logits, axis=1) - logits[arange(B), labels])``. The
gradient is taken with respect to all parameters, a list of ``(W, b)``, not the input.

Two sizes: a large one, where matrix products dominate and the ratio shows how well the
backward sweep uses BLAS, and a small one, where Python overhead per operation dominates.
Everything is float64, in every library.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.harness import Limit, Row, Settings, check_gradients_agree, judge, ratio_to
from benchmarks.libraries import KIT, Library
from benchmarks.timing import format_seconds


@dataclass(frozen=True)
class Case:
    """Layer sizes (input first), batch size, and the kit's targets: the largest grad/f ratio and
    the largest gradient time as a multiple of PyTorch's."""

    sizes: tuple[int, ...]
    batch: int
    max_ratio: float | None = None
    max_versus_torch: float | None = None

    def __str__(self) -> str:
        return f"{list(self.sizes)}, batch {self.batch}"


NAME = "mlp_ratio"
CASES = (
    Case((784, 512, 512, 10), 256, max_ratio=2.5, max_versus_torch=1.0),
    Case((64, 64, 64, 10), 32, max_ratio=4.0, max_versus_torch=0.8),
)
QUICK_CASES = (Case((12, 8, 8, 3), 4),)


def linear(x: Any, W: Any, b: Any) -> Any:
    return x @ W.T + b


def make_loss(ops: Any) -> Callable:
    """The MLP's mean softmax cross-entropy ``loss(params, x, labels)``, written with ``ops``."""

    def loss(params, x, labels):
        h = x
        for W, b in params[:-1]:
            h = ops.tanh(linear(h, W, b))
        logits = linear(h, *params[-1])
        picked = logits[ops.arange(len(labels)), labels]
        return ops.mean(ops.logsumexp(logits, axis=1) - picked)

    return loss


def make_problem(case: Case, seed: int = 0) -> tuple[list, np.ndarray, np.ndarray]:
    """Parameters (scaled so tanh does not saturate), a batch of inputs, and labels."""
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), 0.1 * rng.standard_normal(n_out))
              for n_in, n_out in zip(case.sizes[:-1], case.sizes[1:], strict=True)]
    x = rng.standard_normal((case.batch, case.sizes[0]))
    labels = rng.integers(0, case.sizes[-1], case.batch)
    return params, x, labels


def run(libraries: list[Library], settings: Settings) -> list[Row]:
    """Per case, one row per library: the ratio, and the times of the gradient and the loss."""
    rows = []
    for case in QUICK_CASES if settings.quick else CASES:
        problem = make_problem(case)
        calls = {}  # (library, "loss" or "grad") -> a call, on the same data
        for lib in libraries:
            loss, args = make_loss(lib.ops), lib.convert(problem)
            calls[lib.name, "loss"] = functools.partial(loss, *args)
            calls[lib.name, "grad"] = functools.partial(lib.grad(loss), *args)
        check_gradients_agree(f"{NAME} {case}",
                              {lib.name: lib.numpy_of(calls[lib.name, "grad"]()) for lib in libraries})
        timings = settings.measure(calls)
        grad_seconds = {lib.name: timings[lib.name, "grad"].seconds for lib in libraries}
        for lib in libraries:
            grad_time, loss_time = timings[lib.name, "grad"], timings[lib.name, "loss"]
            ratio = grad_time.seconds / loss_time.seconds
            measurement = (f"{ratio:.2f}× (grad {format_seconds(grad_time.seconds)} "
                           f"/ loss {format_seconds(loss_time.seconds)})")
            target, passed = "", None
            if lib.name == KIT:
                versus_torch = ratio_to(grad_time.seconds, grad_seconds, "torch")
                if versus_torch is not None:
                    measurement += f", grad {versus_torch:.2f}× torch"
                if case.max_ratio is not None:
                    target, passed = judge([(Limit("grad/f", case.max_ratio), ratio),
                                            (Limit("grad / torch's", case.max_versus_torch), versus_torch)])
            rows.append(Row(NAME, str(case), lib.name, measurement,
                            f"grad {grad_time.describe()}; loss {loss_time.describe()}", target, passed))
    return rows
