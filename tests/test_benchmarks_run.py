"""The benchmarks run and check what they compare; their timings are not tested here.

``python benchmarks/run.py --quick`` is run in-process (tiny problems, few repeats, a few
seconds) and its table must have a row for each benchmark and each installed library. The
gradient check that guards every benchmark must fail on a deliberately wrong gradient.
"""

import dataclasses
import importlib.util
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks`

from autodiff_kit.chain import chain_flops, optimal_order
from benchmarks import bare_tape, checkpointing, orderings, overhead, run
from benchmarks.harness import QUICK, GradientMismatch, Limit, check_gradients_agree, judge
from benchmarks.libraries import KIT, load_libraries, tree_map
from benchmarks.timing import median_of_rounds

INSTALLED = [KIT] + [name for name in ("autograd", "torch") if importlib.util.find_spec(name)]


def _table_rows(output: str) -> list[list[str]]:
    """The cells of each line of the printed table (rich or plain), split on runs of spaces."""
    return [[cell.strip() for cell in line.replace("│", "  ").split("  ") if cell.strip()]
            for line in output.splitlines()]


@pytest.mark.parametrize("plain", [False, True], ids=["default", "plain"])
def test_quick_run_prints_a_row_per_benchmark_and_installed_library(capsys, plain):
    assert run.main(["--quick"] + (["--plain"] if plain else [])) == 0
    rows = _table_rows(capsys.readouterr().out)
    for benchmark in run.BENCHMARKS:
        for library in INSTALLED:
            assert any(cells[:1] == [benchmark] and library in cells for cells in rows), (
                f"no row for {benchmark} / {library}")


def test_only_runs_the_chosen_benchmark(capsys):
    run.main(["--quick", "--plain", "--only", "overhead"])
    first_cells = {cells[0] for cells in _table_rows(capsys.readouterr().out) if cells}
    assert "overhead" in first_cells
    assert "mlp_ratio" not in first_cells


def test_a_missing_library_is_skipped_with_a_note(capsys, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "torch" else real_find_spec(name, *args))
    run.main(["--quick", "--plain", "--only", "overhead"])
    output = capsys.readouterr().out
    assert "torch is not installed, so its rows are skipped" in output
    assert not any("torch" in cells for cells in _table_rows(output))


def _wrong_by(factor: float):
    """The kit, under another name, with every gradient and Hessian-vector product scaled by ``factor``."""
    kit = load_libraries()[0][0]

    def scaled(transform):
        def wrong_transform(f):
            right = transform(f)
            return lambda *args: tree_map(lambda g: g * factor, right(*args))
        return wrong_transform

    return dataclasses.replace(kit, name="wrong kit", grad=scaled(kit.grad), hvp=scaled(kit.hvp))


@pytest.mark.parametrize("name", list(run.BENCHMARKS))
def test_each_benchmark_refuses_to_time_a_wrong_gradient(name):
    kit = load_libraries()[0][0]
    with pytest.raises(GradientMismatch, match="wrong kit"):
        run.BENCHMARKS[name].run([kit, _wrong_by(1.0001)], QUICK)


def test_the_overhead_benchmark_times_the_bare_tape_and_checks_its_gradient(capsys, monkeypatch):
    run.main(["--quick", "--plain", "--only", "overhead"])
    rows = {cells[2]: cells[3] for cells in _table_rows(capsys.readouterr().out) if cells[:1] == ["overhead"]}
    assert re.search(r"× the bare tape$", rows[KIT]), rows[KIT]
    assert rows[bare_tape.NAME].endswith("a floor (no nesting, broadcasting or checks)")

    right = bare_tape.grad
    monkeypatch.setattr(bare_tape, "grad", lambda f: (lambda x: right(f)(x) * 1.0001))
    kit = load_libraries()[0][0]
    with pytest.raises(GradientMismatch, match="bare tape"):
        overhead.run([kit], QUICK)


def test_the_bare_tape_differentiates_its_chain_exactly():
    x = np.array([0.3, -1.2, 2.0])
    c = np.array([1.5, -0.5, 2.0])
    # d/dx sum(sin(x) c + c) = c cos x, and d/dx sum(sin(sin(x) c)) = cos(sin(x) c) c cos x
    ops = bare_tape.OPS
    once = bare_tape.grad(lambda v: ops.sum(ops.sin(v) * c + c))(x)
    twice = bare_tape.grad(lambda v: ops.sum(ops.sin(ops.sin(v) * c)))(x)
    assert np.allclose(once, c * np.cos(x))
    assert np.allclose(twice, np.cos(np.sin(x) * c) * c * np.cos(x))


def test_the_check_accepts_rounding_and_refuses_what_proves_nothing():
    g = [(np.array([[1.0, -2.0]]), np.array([3.0]))]
    check_gradients_agree("same", {"a": g, "b": tree_map(lambda x: x * (1 + 1e-12), g)})
    with pytest.raises(GradientMismatch, match="all zero"):
        check_gradients_agree("zeros", {"a": tree_map(np.zeros_like, g), "b": g})
    with pytest.raises(GradientMismatch, match="gradient arrays"):
        check_gradients_agree("fewer", {"a": g, "b": [g[0][0]]})
    with pytest.raises(GradientMismatch, match="shapes"):
        check_gradients_agree("shape", {"a": g, "b": [(np.array([1.0, -2.0]), np.array([3.0]))]})


def test_orderings_prints_the_predicted_and_measured_ratio_of_each_order(capsys):
    run.main(["--quick", "--plain", "--only", "orderings"])
    rows = {cells[1]: cells[3] for cells in _table_rows(capsys.readouterr().out)
            if cells[:1] == ["orderings"] and cells[2:3] == [KIT]}
    assert len(rows) == 3 * len(orderings.QUICK_CASES)
    for case in orderings.QUICK_CASES:
        best_flops, best_tree = optimal_order(case.dims)
        predicted = {"forward": chain_flops(case.dims, "forward") / best_flops,
                     "reverse": chain_flops(case.dims, "reverse") / best_flops,
                     f"optimal {best_tree}": 1.0}
        for order, flops_ratio in predicted.items():
            measurement = rows[f"{case}, {order}"]
            found = re.fullmatch(r"flops ([\d.]+)×, time ([\d.]+)× \(.+ mults, .+\)", measurement)
            assert found, measurement
            assert found[1] == f"{flops_ratio:.2f}"
            assert float(found[2]) > 0


def test_the_grading_benchmark_grades_both_ways_and_compares_the_grades(capsys):
    from benchmarks import grading

    assert grading.main(["--students", "1", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "nbgrader autograde, sequential" in out and "sandboxed judge, 2 workers" in out
    assert re.search(r"Identical grades: yes \((\d+) of \1 test cells agree\)", out)


def test_the_sparse_jacobian_benchmark_prints_each_way_with_its_products(capsys):
    from benchmarks import sparse_jacobians

    assert sparse_jacobians.main(["--quick"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    for case, (_, half_width) in sparse_jacobians.CASES.items():
        ways = {cells[2] for cells in rows if cells[:2] == [case, "20"]}
        chi = 2 * half_width + 1
        assert ways == {"jacfwd, dense (20 JVPs)", "jacrev, dense (20 VJPs)", "colouring the columns, once",
                        f"jacfwd, sparsity ({chi} JVPs)", f"jacrev, sparsity ({chi} VJPs)"}, ways


def test_the_sparse_jacobian_benchmark_refuses_to_time_a_wrong_pattern(monkeypatch):
    from benchmarks import sparse_jacobians

    monkeypatch.setitem(sparse_jacobians.CASES, "tridiagonal", (sparse_jacobians.diffusion, 0))  # diagonal
    with pytest.raises(GradientMismatch, match="tridiagonal, n = 20: the gradients of jacfwd, sparsity"):
        sparse_jacobians.measure("tridiagonal", 20, QUICK)


def test_rounds_are_interleaved_and_their_median_is_reported():
    # a's calls: per round, one to size the batch (instant), then the batch of one call.
    order, durations = [], iter([0.0, 0.001, 0.0, 0.009, 0.0, 0.003])

    def call(name):
        def timed():
            order.append(name)
            time.sleep(next(durations, 0.0) if name == "a" else 0.0)
        return timed

    timings = median_of_rounds({"a": call("a"), "b": call("b")}, rounds=3, repeats=1, min_time=0.0, warmup=0)
    assert order == ["a", "a", "b", "b"] * 3  # sizing call, then one batch; a, then b, each round
    assert 0.003 <= timings["a"].seconds < 0.0045 and timings["a"].rounds == 3  # not the best, nor the mean
    assert timings["a"].describe() == "median of 3 rounds, best of 1 × 1 call"


def test_a_target_against_a_missing_library_is_not_judged():
    assert judge([(Limit("grad/f", 4.0), 3.9), (Limit("grad / torch's", 0.8), 0.7)]) == (
        "grad/f ≤ 4; grad / torch's ≤ 0.8", True)
    assert judge([(Limit("grad/f", 4.0), 4.1)])[1] is False
    assert judge([(Limit("grad/f", 4.0), 3.0), (Limit("grad / torch's", 0.8), None)])[1] is None


def test_checkpointing_recomputes_the_steps_it_predicts(capsys):
    run.main(["--quick", "--plain", "--only", "checkpointing"])
    measurements = [cells[3] for cells in _table_rows(capsys.readouterr().out)
                    if cells[:1] == ["checkpointing"] and cells[2:3] == [KIT]]
    assert len(measurements) == 3 + len(checkpointing.QUICK_PROBLEM.slot_counts)
    for measurement in measurements:
        found = re.fullmatch(r"peak [\d.]+ MB, .+; recomputed (\d+) steps \(predicted: "
                             r"(?:checkpoint_cost |the schedule's )?(\d+)(?:; .*)?\)", measurement)
        assert found, measurement
        assert found[1] == found[2], measurement
