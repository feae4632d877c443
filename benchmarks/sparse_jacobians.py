"""Dense against coloured Jacobians: ``python benchmarks/sparse_jacobians.py [--sizes N ...] [--quick]``.

Two banded functions of $x \\in \\mathbb{R}^n$: the tridiagonal diffusion step
$f_i = x_{i-1} - 2x_i + x_{i+1} + \\sin x_i$, and a band of half-width 2,
$f_i = \\sum_{|k| \\le 2} w_k \\tanh x_{i+k} + \\sin x_i$. For each, the Jacobian four ways:
``jacfwd`` and ``jacrev`` dense ($n$ JVPs, $n$ VJPs) and with ``sparsity=`` the band
($\\chi = 3$ and $5$ products, whatever $n$). All four are checked to agree before anything
is timed (``check_gradients_agree``), then each row gives the products, the time and the
speed-up over dense ``jacfwd``. The colouring is done once, when ``jacfwd(f, sparsity=...)``
is built, and timed apart. The kit alone: autograd and PyTorch have no coloured Jacobians.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

# Run as a script, only benchmarks/ is on the path; make `benchmarks` importable as a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autodiff_kit.numpy as anp
from autodiff_kit import jacfwd, jacrev
from autodiff_kit.sparsity import band_pattern, colour_columns
from benchmarks.harness import FULL, QUICK, check_gradients_agree
from benchmarks.timing import format_seconds

SIZES, QUICK_SIZES = (100, 1000), (20,)
WEIGHTS = (0.5, -1.0, 2.0, -1.0, 0.5)  # w_(-2), ..., w_2 of the half-width-2 band


def shifted(x, k: int):
    """$x_{i+k}$ for every $i$, zero where $i + k$ falls outside."""
    zeros = np.zeros(abs(k))
    if k > 0:
        return anp.concatenate([x[k:], zeros])
    if k < 0:
        return anp.concatenate([zeros, x[:k]])
    return x


def diffusion(x):
    return shifted(x, -1) - 2.0 * x + shifted(x, 1) + anp.sin(x)


def band_of_two(x):
    t = anp.tanh(x)
    return sum(w * shifted(t, k) for k, w in zip(range(-2, 3), WEIGHTS, strict=True)) + anp.sin(x)


CASES: dict[str, tuple[Callable, int]] = {  # each function, and the half-width of its band
    "tridiagonal": (diffusion, 1),
    "band of half-width 2": (band_of_two, 2),
}


def measure(case: str, n: int, settings) -> list[tuple[str, ...]]:
    """The rows of one function at one size: each way's products, time and speed-up."""
    f, half_width = CASES[case]
    pattern = band_pattern(n, half_width)
    x = np.random.default_rng(0).uniform(-1.0, 1.0, n)
    start = time.perf_counter()
    coloured_fwd = jacfwd(f, sparsity=pattern)
    colouring = time.perf_counter() - start
    chi = int(colour_columns(pattern).max()) + 1
    ways = {
        f"jacfwd, dense ({n} JVPs)": jacfwd(f),
        f"jacrev, dense ({n} VJPs)": jacrev(f),
        f"jacfwd, sparsity ({chi} JVPs)": coloured_fwd,
        f"jacrev, sparsity ({chi} VJPs)": jacrev(f, sparsity=pattern),
    }
    check_gradients_agree(f"{case}, n = {n}", {name: way(x) for name, way in ways.items()})
    timings = settings.measure({name: (lambda way=way: way(x)) for name, way in ways.items()})
    seconds = {name: timing.seconds for name, timing in timings.items()}
    dense = seconds[next(iter(ways))]
    rows = [(case, str(n), name, format_seconds(s), f"{dense / s:.1f}×") for name, s in seconds.items()]
    rows.append((case, str(n), "colouring the columns, once", format_seconds(colouring), ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", help=f"values of n (default {list(SIZES)})")
    parser.add_argument("--quick", action="store_true", help="n = 20 and few repeats: checks that it runs")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)

    header = ("function", "n", "Jacobian", "time", "speed-up")
    rows = [header] + [row for case in CASES for n in sizes for row in measure(case, n, settings)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
