"""The hidden checks of 01_jacobians and 02_orderings: their messages, what they accept, what they count.

``test_course_checks.py`` proves the reference passes and the catalogued mistakes fail; this file
checks what it does not: that the sentences name the actual error, that other correct solutions
(float32 results, lists, einsum, another loop, another optimal tree) pass, and that the counts and
orders the judge sees through ``ask`` are the ones the student's code made.
"""

import ast
import re
from functools import reduce
from pathlib import Path

import numpy as np
import pytest

from autodiff_kit import chain
from course import notebooks
from grader_tests import a02_orderings
from grader_tests.checks import Case, checks_of
from grader_tests.feedback import GradingError
from grader_tests.runner import failure

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reference():
    """The namespace of each assignment's reference solutions."""
    return {a: notebooks.namespace_of(notebooks.read(notebooks.source_path(a)))
            for a in ("01_jacobians", "02_orderings")}


def message(assignment, cell, namespace, seed=0):
    return failure(assignment, cell, namespace, np.random.default_rng(seed))


def with_function(namespace, name, fn):
    return {**namespace, name: fn}


def failures(assignment, namespace, function, seeds=range(3)):
    """``{cell: message}`` of the checks of ``function`` that fail on some seed."""
    found = {}
    for seed in seeds:
        for check in checks_of(assignment):
            if check.function == function and (text := message(assignment, check.cell_id(), namespace, seed)):
                found[check.cell_id()] = text
    return found


@pytest.mark.parametrize("assignment", ["01_jacobians", "02_orderings"])
def test_the_reference_passes_on_many_more_seeds(reference, assignment):
    for seed in range(50):
        for check in checks_of(assignment):
            assert message(assignment, check.cell_id(), reference[assignment], seed) is None, (seed, check)


@pytest.mark.parametrize("module", ["a01_jacobians", "a02_orderings"])
def test_probes_import_nothing_from_the_judge(module):
    tree = ast.parse((ROOT / "grader_tests" / "probes" / f"{module}.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert imported <= {"grader_tests.probes", "numpy", "autodiff_kit"}, imported


# --- 01_jacobians -----------------------------------------------------------------------


def test_a_transposed_numerical_jacobian_is_called_transposed(reference):
    def transposed(f, x, eps=1e-6):
        return reference["01_jacobians"]["numerical_jacobian"](f, x, eps).T

    namespace = with_function(reference["01_jacobians"], "numerical_jacobian", transposed)
    assert "transposed" in message("01_jacobians", "test_numerical_jacobian_shape", namespace)


def test_a_one_sided_difference_is_named(reference):
    def one_sided(f, x, eps=1e-6):
        columns = [np.ravel(f(x + eps * e) - f(x)) / eps for e in np.eye(len(x))]
        return np.stack(columns, axis=1)

    namespace = with_function(reference["01_jacobians"], "numerical_jacobian", one_sided)
    text = message("01_jacobians", "test_numerical_jacobian_central", namespace)
    assert "one-sided forward difference" in text


def test_an_ignored_eps_is_named(reference):
    def fixed_eps(f, x, eps=1e-6):
        return reference["01_jacobians"]["numerical_jacobian"](f, x)

    namespace = with_function(reference["01_jacobians"], "numerical_jacobian", fixed_eps)
    text = message("01_jacobians", "test_numerical_jacobian_central", namespace)
    assert "eps = 1e-6" in text and "use it" in text


def test_a_vectorised_numerical_jacobian_passes(reference):
    def vectorised(f, x, eps=1e-6):
        steps = eps * np.eye(len(x))
        return np.column_stack([np.atleast_1d(f(x + s) - f(x - s)) for s in steps]) / (2 * eps)

    namespace = with_function(reference["01_jacobians"], "numerical_jacobian", vectorised)
    assert failures("01_jacobians", namespace, "numerical_jacobian") == {}


def test_an_exception_in_student_code_is_named_with_its_message(reference):
    def broken(f, x, eps=1e-6):
        raise ZeroDivisionError("no step today")

    namespace = with_function(reference["01_jacobians"], "numerical_jacobian", broken)
    text = message("01_jacobians", "test_numerical_jacobian_values", namespace)
    assert "raised ZeroDivisionError" in text and "no step today" in text


def counts(text, fn):
    """(calls made, calls needed) from a message about the calls of ``fn``."""
    match = re.search(rf"called `{fn}` (?:only )?(\d+) times, but (?:J has )?[nm] = (\d+)", text)
    assert match, text
    return int(match.group(1)), int(match.group(2))


def test_one_jvp_too_many_is_counted(reference):
    def one_too_many(jvp_fn, n):
        jvp_fn(np.zeros(n))
        return reference["01_jacobians"]["jacobian_from_jvps"](jvp_fn, n)

    namespace = with_function(reference["01_jacobians"], "jacobian_from_jvps", one_too_many)
    made, needed = counts(message("01_jacobians", "test_jacobian_from_jvps_calls", namespace), "jvp_fn")
    assert made == needed + 1
    assert message("01_jacobians", "test_jacobian_from_jvps_values", namespace) is None


def test_one_vjp_too_few_is_counted(reference):
    def one_too_few(vjp_fn, m):
        rows = [vjp_fn(e) for e in np.eye(m)[:-1]]
        return np.array(rows)

    namespace = with_function(reference["01_jacobians"], "jacobian_from_vjps", one_too_few)
    text = message("01_jacobians", "test_jacobian_from_vjps_calls", namespace)
    made, needed = counts(text, "vjp_fn")
    assert "only" in text and made == needed - 1


def test_other_ways_to_build_the_jacobian_pass(reference):
    def from_columns(jvp_fn, n):  # float32 one-hot vectors, column_stack
        return np.column_stack([jvp_fn(e) for e in np.eye(n, dtype=np.float32)])

    def from_rows(vjp_fn, m):  # a list of lists, turned into an array at the end
        return np.array([list(vjp_fn(e)) for e in np.eye(m)])

    namespace = {**reference["01_jacobians"], "jacobian_from_jvps": from_columns,
                 "jacobian_from_vjps": from_rows}
    assert failures("01_jacobians", namespace, "jacobian_from_jvps") == {}
    assert failures("01_jacobians", namespace, "jacobian_from_vjps") == {}


def test_a_tangent_of_the_wrong_shape_is_explained(reference):
    def column_vectors(jvp_fn, n):
        return np.hstack([jvp_fn(e.reshape(n, 1)) for e in np.eye(n)])

    namespace = with_function(reference["01_jacobians"], "jacobian_from_jvps", column_vectors)
    text = message("01_jacobians", "test_jacobian_from_jvps_values", namespace)
    assert "jvp_fn takes a tangent vector of shape" in text


def test_softmax_messages_name_the_missing_term_and_the_overflow(reference):
    def no_diagonal(z):
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        return -np.outer(p, p)

    def unshifted(z):
        p = np.exp(z) / np.exp(z).sum()
        return np.diag(p) - np.outer(p, p)

    namespace = with_function(reference["01_jacobians"], "softmax_jacobian", no_diagonal)
    assert "diag(p)" in message("01_jacobians", "test_softmax_jacobian_values", namespace)
    namespace = with_function(reference["01_jacobians"], "softmax_jacobian", unshifted)
    assert message("01_jacobians", "test_softmax_jacobian_values", namespace) is None
    assert "Subtract the maximum" in message("01_jacobians", "test_softmax_jacobian_large_logits", namespace)


def test_a_float32_softmax_jacobian_passes(reference):
    def in_float32(z):
        return reference["01_jacobians"]["softmax_jacobian"](z).astype(np.float32)

    namespace = with_function(reference["01_jacobians"], "softmax_jacobian", in_float32)
    assert failures("01_jacobians", namespace, "softmax_jacobian") == {}


def test_linear_model_step_accepts_a_list_of_numpy_scalars(reference):
    def as_list(x, y, w, b, lr):
        return [np.float64(v) for v in reference["01_jacobians"]["linear_model_step"](x, y, w, b, lr)]

    namespace = with_function(reference["01_jacobians"], "linear_model_step", as_list)
    assert failures("01_jacobians", namespace, "linear_model_step") == {}


def test_linear_model_step_messages(reference):
    def no_x(x, y, w, b, lr):
        r = w * x + b - y
        return r**2, 2 * r, 2 * r, w - lr * 2 * r, b - lr * 2 * r

    def four_numbers(x, y, w, b, lr):
        return reference["01_jacobians"]["linear_model_step"](x, y, w, b, lr)[:4]

    namespace = with_function(reference["01_jacobians"], "linear_model_step", no_x)
    assert "without the factor x" in message("01_jacobians", "test_linear_model_step_gradients", namespace)
    assert "with your dw" in message("01_jacobians", "test_linear_model_step_update", namespace)
    namespace = with_function(reference["01_jacobians"], "linear_model_step", four_numbers)
    assert "five numbers" in message("01_jacobians", "test_linear_model_step_update", namespace)


# --- 02_orderings -----------------------------------------------------------------------


def test_products_of_a_tree_are_its_pairs_children_first():
    assert a02_orderings.products_of(chain.forward_tree(3)) == [((1, 1), (0, 0)), ((2, 2), (0, 1))]
    mixed = [((3, 3), (2, 2)), ((1, 1), (0, 0)), ((2, 3), (0, 1))]
    assert a02_orderings.products_of(((3, 2), (1, 0))) == mixed


def test_the_oracle_names_each_operand_by_its_sub_chain():
    rng = np.random.default_rng(0)
    jacobians = a02_orderings.random_chain(rng, [2, 3, 4, 5])
    oracle = a02_orderings.ChainOracle(jacobians)
    chain.accumulate(jacobians, ((2, 1), 0), lambda a, b: oracle.answer("matmul", (a, b)))
    assert oracle.products == [((2, 2), (1, 1)), ((1, 2), (0, 0))]
    oracle.answer("matmul", (jacobians[1].T.copy()[:, :3], jacobians[0]))
    assert oracle.products[-1] == (None, (0, 0))


def test_forward_accumulation_in_reverse_order_is_told_so(reference):
    solved = reference["02_orderings"]  # the reference solutions: the kit's own are disabled while judged
    namespace = with_function(solved, "forward_accumulate", solved["reverse_accumulate"])
    assert message("02_orderings", "test_forward_accumulate_values", namespace) is None
    text = message("02_orderings", "test_forward_accumulate_order", namespace)
    assert "J2 @ J1 first" in text and "input side" in text
    namespace = with_function(solved, "reverse_accumulate", solved["forward_accumulate"])
    assert "output side" in message("02_orderings", "test_reverse_accumulate_order", namespace)


def test_einsum_passes_the_value_but_not_the_order(reference):
    def with_einsum(jacobians, matmul=np.matmul):
        return reduce(lambda product, J: np.einsum("ij,jk->ik", J, product), jacobians[1:], jacobians[0])

    namespace = with_function(reference["02_orderings"], "forward_accumulate", with_einsum)
    assert message("02_orderings", "test_forward_accumulate_values", namespace) is None
    text = message("02_orderings", "test_forward_accumulate_order", namespace)
    assert "no product through `matmul`" in text


def test_another_correct_loop_passes(reference):
    def with_reduce(jacobians, matmul=np.matmul):
        return reduce(lambda product, J: matmul(J, product), list(jacobians)[1:], jacobians[0])

    namespace = with_function(reference["02_orderings"], "forward_accumulate", with_reduce)
    assert failures("02_orderings", namespace, "forward_accumulate") == {}


def test_a_product_through_transposes_is_not_one_of_the_chain(reference):
    def transposed(jacobians, matmul=np.matmul):
        product = jacobians[0]
        for J in jacobians[1:]:
            product = matmul(product.T, J.T).T
        return product

    namespace = with_function(reference["02_orderings"], "forward_accumulate", transposed)
    assert "transposed" in message("02_orderings", "test_forward_accumulate_order", namespace)


def test_accumulate_may_evaluate_the_right_part_first(reference):
    def right_first(jacobians, tree, matmul=np.matmul):
        if not isinstance(tree, tuple | list):
            return jacobians[tree]
        right = right_first(jacobians, tree[1], matmul)
        return matmul(right_first(jacobians, tree[0], matmul), right)

    namespace = with_function(reference["02_orderings"], "accumulate", right_first)
    assert failures("02_orderings", namespace, "accumulate", range(10)) == {}


def test_accumulate_without_matmul_in_the_recursion_is_told_to_pass_it_on(reference):
    def forgets(jacobians, tree, matmul=np.matmul):
        if isinstance(tree, int):
            return jacobians[tree]
        return matmul(forgets(jacobians, tree[0]), forgets(jacobians, tree[1]))

    namespace = with_function(reference["02_orderings"], "accumulate", forgets)
    assert "pass `matmul` on" in message("02_orderings", "test_accumulate_order", namespace)


def test_chain_flops_accepts_floats_and_names_the_other_order(reference):
    solved = reference["02_orderings"]["chain_flops"]  # the kit's own is disabled while judged

    def as_float(dims, order):
        return float(solved(dims, order))

    def swapped(dims, order):
        return solved(dims, "reverse" if order == "forward" else "forward")

    namespace = with_function(reference["02_orderings"], "chain_flops", as_float)
    assert failures("02_orderings", namespace, "chain_flops") == {}
    namespace = with_function(reference["02_orderings"], "chain_flops", swapped)
    assert "cost of reverse order" in message("02_orderings", "test_chain_flops_forward", namespace)


def last_split_dp(dims):
    """The optimal cost and a tree that breaks ties towards the last split (the kit's, the first)."""
    length = len(dims) - 1
    best = {(i, i): (0, i) for i in range(length)}
    for span in range(1, length):
        for i in range(length - span):
            j = i + span
            options = [(best[s + 1, j][0] + best[i, s][0] + dims[j + 1] * dims[s + 1] * dims[i], -s)
                       for s in range(i, j)]
            cost, minus_s = min(options)
            best[i, j] = (cost, [best[-minus_s + 1, j][1], best[i, -minus_s][1]])  # lists, not tuples
    return best[0, length - 1]


def test_any_optimal_tree_is_accepted(reference):
    namespace = with_function(reference["02_orderings"], "optimal_order", last_split_dp)
    assert failures("02_orderings", namespace, "optimal_order", range(10)) == {}
    check = a02_orderings.OptimalOrderTree()
    dims = [3, 3, 3, 3]  # every bracketing costs 54
    assert chain.optimal_order(dims)[1] != chain.forward_tree(3)
    check.verdict(Case("call", {}, expected=54, notes={"dims": dims}), (54, chain.forward_tree(3)))
    check.verdict(Case("call", {}, expected=54, notes={"dims": dims}), (54, [np.array(2), [1, 0]]))


def test_a_tree_that_is_not_optimal_or_not_a_bracketing_is_explained():
    check = a02_orderings.OptimalOrderTree()
    dims = [2, 3, 4, 1]  # reverse costs 18, forward 32
    case = Case("call", {}, expected=18, notes={"dims": dims})
    with pytest.raises(GradingError, match="costs 32 multiplications, but the cheapest bracketing costs 18"):
        check.verdict(case, (18, (2, (1, 0))))
    with pytest.raises(GradingError, match="not a bracketing"):
        check.verdict(case, (18, ((2, 0), 1)))
    with pytest.raises(GradingError, match="a leaf must be an int"):
        check.verdict(case, (18, ((2, 1.5), 0)))
    with pytest.raises(GradingError, match=r"pair \(flops, tree\)"):
        check.verdict(case, 18)


def test_stored_activations_forward_as_reverse_is_explained(reference):
    def like_reverse(dims, mode):
        return sum(dims[:-1])

    namespace = with_function(reference["02_orderings"], "stored_activations", like_reverse)
    assert "what reverse mode stores" in message("02_orderings", "test_stored_activations_forward", namespace)
