"""Benchmark 3: the order of the chain rule, predicted cost against measured time.

The full Jacobian of a chain of layers is the product $J_L \\cdots J_1$. Forward mode
brackets it from the input side, reverse mode from the output side, and
``autodiff_kit.chain.optimal_order`` finds the cheapest bracketing by dynamic programming.
For random Jacobians of given widths, the kit computes the product in the three orders,
each with ``accumulate(jacobians, tree)`` so that only the bracketing differs (the trees
are ``forward_tree(L)``, ``reverse_tree(L)`` and the optimal one). Each row gives an
order's scalar multiplications and its time, both as a ratio to the optimal order's: does
the count predict the time?

Three chains, ``dims = [n, m1, ..., mL]``, on which the orders differ:

- alternating ``[1000, 10, 1000, 10, 1000]``: forward and reverse cost the same, a mixed
  order ``(J4 (J3 J2)) J1`` three times less;
- funnel ``[1000, 500, 100, 10, 1]``, down to a scalar like a loss: reverse mode is the
  optimum, forward mode costs 93 times more;
- hourglass ``[1000, 100, 10, 100, 1000]``: meeting in the middle, ``(J4 J3)(J2 J1)``,
  costs 8.5 times less than either mode.

Before timing, the check every benchmark makes: for a random cotangent ``u``, each
library's gradient of the linear network ``x -> u · (J_L ⋯ J_1 x)`` is ``u @ J``, and so is
``u`` times each order's product; all must agree. Only the kit is timed: the products are
NumPy matrix products whatever the library, so the other libraries' rows say so.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

from autodiff_kit.chain import accumulate, forward_tree, optimal_order, reverse_tree, tree_flops
from benchmarks.harness import Row, Settings, check_gradients_agree
from benchmarks.libraries import KIT, Library
from benchmarks.timing import format_seconds


@dataclass(frozen=True)
class Case:
    """A chain of layers by its widths ``dims = [n, m1, ..., mL]``, with a name."""

    name: str
    dims: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.name} {list(self.dims)}"


NAME = "orderings"
CASES = (
    Case("alternating", (1000, 10, 1000, 10, 1000)),
    Case("funnel", (1000, 500, 100, 10, 1)),
    Case("hourglass", (1000, 100, 10, 100, 1000)),
)
QUICK_CASES = (  # the same shapes of chain, small
    Case("alternating", (20, 2, 20, 2, 20)),
    Case("funnel", (20, 10, 5, 2, 1)),
    Case("hourglass", (20, 5, 2, 5, 20)),
)


def make_chain(dims: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    """Random ``[J1, ..., JL]``, ``Jk`` of shape ``(mk, m(k-1))``, scaled so products stay O(1)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((m, n)) / np.sqrt(n) for n, m in itertools.pairwise(dims)]


def _check_orders(case: Case, libraries: list[Library], jacobians: list[np.ndarray],
                  products: dict[str, np.ndarray]) -> None:
    """Every library's gradient of ``u · (J_L ⋯ J_1 x)`` agrees with ``u @`` each product."""
    rng = np.random.default_rng(1)
    u, x = rng.standard_normal(case.dims[-1]), rng.standard_normal(case.dims[0])
    gradients = {}
    for lib in libraries:
        lib_jacobians, lib_u = lib.convert(jacobians), lib.asarray(u)

        def network_dot_u(x, lib=lib, lib_jacobians=lib_jacobians, lib_u=lib_u):
            for J in lib_jacobians:
                x = J @ x
            return lib.ops.sum(lib_u * x)

        gradients[lib.name] = lib.numpy_of(lib.grad(network_dot_u)(lib.asarray(x)))
    gradients |= {f"{KIT} {order} order": u @ product for order, product in products.items()}
    check_gradients_agree(f"{NAME} {case}", gradients)


def _count(multiplications: int) -> str:
    """``30M``, ``10.2M``, ``551k``, ``960``: a count of multiplications, short."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if multiplications >= scale:
            return f"{multiplications / scale:.3g}{unit}"
    return str(multiplications)


def run(libraries: list[Library], settings: Settings) -> list[Row]:
    """Per case, one row per order for the kit: flops and time relative to the optimal order."""
    rows = []
    for case in QUICK_CASES if settings.quick else CASES:
        jacobians = make_chain(case.dims)
        length = len(jacobians)
        best_flops, best_tree = optimal_order(case.dims)
        trees = {"forward": forward_tree(length), "reverse": reverse_tree(length), "optimal": best_tree}
        # The same function for every order, so that only the bracketing differs.
        calls = {order: functools.partial(accumulate, jacobians, tree) for order, tree in trees.items()}
        _check_orders(case, libraries, jacobians, {order: call() for order, call in calls.items()})

        timings = settings.measure(calls)
        for order, tree in trees.items():
            flops, seconds = tree_flops(case.dims, tree), timings[order].seconds
            label = f"optimal {tree}" if order == "optimal" else order
            rows.append(Row(
                NAME, f"{case}, {label}", KIT,
                f"flops {flops / best_flops:.2f}×, time {seconds / timings['optimal'].seconds:.2f}× "
                f"({_count(flops)} mults, {format_seconds(seconds)})",
                timings[order].describe()))
    for lib in libraries:
        if lib.name != KIT:
            rows.append(Row(NAME, "every chain", lib.name,
                            "not timed (NumPy does the products, whatever the library); "
                            "gradient checked", ""))
    return rows
