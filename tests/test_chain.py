"""``autodiff_kit.chain`` against independent truth.

The products against ``np.linalg.multi_dot``; the orders against the calls actually made
through the ``matmul`` argument (which operands, which shapes, how many multiplications);
``optimal_order`` against brute force over every bracketing; ``checkpoint_cost`` against a
search over every reversal schedule and Griewank's binomial theorem; the Jacobians built from
JVPs and VJPs against ``jacfwd`` and ``jacrev``, with the passes counted.
"""

import itertools
import math
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_kit.numpy as anp
from autodiff_kit import jacfwd, jacrev, jvp, vjp
from autodiff_kit.chain import (
    CountingFunction,
    accumulate,
    chain_dims,
    chain_flops,
    checkpoint_cost,
    forward_accumulate,
    forward_tree,
    jacobian_from_jvps,
    jacobian_from_vjps,
    optimal_order,
    reverse_accumulate,
    reverse_tree,
    stored_activations,
    tree_flops,
)

sizes = st.integers(1, 40)
seeds = st.integers(0, 2**32 - 1)


def dims_of_length(factors: int) -> st.SearchStrategy[list[int]]:
    return st.lists(sizes, min_size=factors + 1, max_size=factors + 1)


any_dims = st.lists(sizes, min_size=2, max_size=9)  # chains of 1..8 factors


def random_chain(dims: list[int], seed: int = 0) -> list[np.ndarray]:
    """``[J1, ..., JL]`` with ``jacobians[k]`` of shape ``(dims[k + 1], dims[k])``."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((m, n)) for n, m in itertools.pairwise(dims)]


def direct_product(jacobians: list[np.ndarray]) -> np.ndarray:
    """``JL @ ... @ J1`` by NumPy, in whatever order it likes."""
    return jacobians[0] if len(jacobians) == 1 else np.linalg.multi_dot(jacobians[::-1])


class RecordingMatmul:
    """``np.matmul`` that remembers its operands and results, and counts ``a*b*c`` per call."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        assert a.ndim == b.ndim == 2 and a.shape[1] == b.shape[0], (a.shape, b.shape)
        out = np.matmul(a, b)
        self.calls.append((a, b, out))
        return out

    @property
    def shapes(self) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        return [(a.shape, b.shape) for a, b, _ in self.calls]

    @property
    def flops(self) -> int:
        return sum(a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in self.calls)


def all_trees(lo: int, hi: int) -> list:
    """Every bracketing of ``jacobians[lo..hi]``, written out by hand (left = later layers)."""
    if lo == hi:
        return [lo]
    return [(left, right)
            for s in range(lo, hi)
            for left in all_trees(s + 1, hi)
            for right in all_trees(lo, s)]


def shape_and_cost(tree, dims: list[int]) -> tuple[int, int, int]:
    """(rows, columns, multiplications) of ``tree``'s product, by shape arithmetic."""
    if isinstance(tree, int):
        return dims[tree + 1], dims[tree], 0
    a, b, left_cost = shape_and_cost(tree[0], dims)
    b_again, c, right_cost = shape_and_cost(tree[1], dims)
    assert b == b_again
    return a, c, left_cost + right_cost + a * b * c


# --- Products -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(any_dims, seeds)
def test_every_order_gives_the_same_product_as_multi_dot(dims, seed):
    jacobians = random_chain(dims, seed)
    expected = direct_product(jacobians)
    _, best = optimal_order(dims)
    for product in (forward_accumulate(jacobians), reverse_accumulate(jacobians),
                    accumulate(jacobians, best), accumulate(jacobians, forward_tree(len(jacobians))),
                    accumulate(jacobians, reverse_tree(len(jacobians)))):
        assert product.shape == (dims[-1], dims[0])
        np.testing.assert_allclose(product, expected, rtol=1e-10, atol=1e-10)


def test_forward_multiplies_from_the_input_side():
    J1, J2, J3, J4 = jacobians = random_chain([2, 3, 4, 5, 6])
    matmul = RecordingMatmul()
    result = forward_accumulate(jacobians, matmul=matmul)
    assert matmul.shapes == [((4, 3), (3, 2)), ((5, 4), (4, 2)), ((6, 5), (5, 2))]
    (a1, b1, p1), (a2, b2, p2), (a3, b3, p3) = matmul.calls
    assert a1 is J2 and b1 is J1
    assert a2 is J3 and b2 is p1
    assert a3 is J4 and b3 is p2
    assert result is p3


def test_reverse_multiplies_from_the_output_side():
    J1, J2, J3, J4 = jacobians = random_chain([2, 3, 4, 5, 6])
    matmul = RecordingMatmul()
    result = reverse_accumulate(jacobians, matmul=matmul)
    assert matmul.shapes == [((6, 5), (5, 4)), ((6, 4), (4, 3)), ((6, 3), (3, 2))]
    (a1, b1, p1), (a2, b2, p2), (a3, b3, p3) = matmul.calls
    assert a1 is J4 and b1 is J3
    assert a2 is p1 and b2 is J2
    assert a3 is p2 and b3 is J1
    assert result is p3


def test_the_three_layer_trees_are_the_two_modes():
    assert forward_tree(3) == (2, (1, 0))
    assert reverse_tree(3) == ((2, 1), 0)
    jacobians = random_chain([2, 3, 4, 5])
    for tree, accumulate_in_order in ((forward_tree(3), forward_accumulate),
                                      (reverse_tree(3), reverse_accumulate)):
        by_tree, by_order = RecordingMatmul(), RecordingMatmul()
        accumulate(jacobians, tree, matmul=by_tree)
        accumulate_in_order(jacobians, matmul=by_order)
        assert by_tree.shapes == by_order.shapes


def test_a_mixed_tree_multiplies_as_bracketed():
    J1, J2, J3, J4 = jacobians = random_chain([2, 3, 4, 5, 6])
    matmul = RecordingMatmul()
    accumulate(jacobians, ((3, 2), (1, 0)), matmul=matmul)  # (J4 @ J3) @ (J2 @ J1)
    (a1, b1, p1), (a2, b2, p2), (a3, b3, _) = matmul.calls
    assert a1 is J4 and b1 is J3
    assert a2 is J2 and b2 is J1
    assert a3 is p1 and b3 is p2


@pytest.mark.parametrize("product", [forward_accumulate, reverse_accumulate,
                                     lambda jacobians, matmul: accumulate(jacobians, 0, matmul)])
def test_a_chain_of_one_factor_is_that_factor(product):
    J = np.arange(6.0).reshape(2, 3)
    matmul = RecordingMatmul()
    assert product([J], matmul=matmul) is J
    assert matmul.calls == []


def test_chain_dims_reads_n_and_every_m():
    assert chain_dims(random_chain([7, 1, 4, 2])) == [7, 1, 4, 2]


def test_trees_of_long_chains_need_no_recursion():
    """A forward tree of 3000 factors is nested 2999 deep, beyond Python's recursion limit."""
    length = 3000
    jacobians = [np.array([[1.0 + (k % 3 == 0) * 1e-3]]) for k in range(length)]
    expected = np.prod([J[0, 0] for J in jacobians])
    for tree in (forward_tree(length), reverse_tree(length)):
        np.testing.assert_allclose(accumulate(jacobians, tree), [[expected]])
        assert tree_flops([1] * (length + 1), tree) == length - 1


# --- Costs -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(any_dims)
def test_chain_flops_counts_the_multiplications_each_order_makes(dims):
    jacobians = random_chain(dims)
    for order, product in (("forward", forward_accumulate), ("reverse", reverse_accumulate)):
        matmul = RecordingMatmul()
        product(jacobians, matmul=matmul)
        assert chain_flops(dims, order) == matmul.flops, order
    assert tree_flops(dims, forward_tree(len(jacobians))) == chain_flops(dims, "forward")
    assert tree_flops(dims, reverse_tree(len(jacobians))) == chain_flops(dims, "reverse")


def test_costs_by_hand():
    # J1 (10, 1000), J2 (1000, 10), J3 (10, 1000), J4 (1000, 10): each mode makes three
    # products of 1000 * 10 * 1000; the best is (J4 (J3 J2)) J1 or J4 ((J3 J2) J1), with two
    # products of 10 * 1000 * 10 (or 1000 * 10 * 10) and one of 1000 * 10 * 1000.
    dims = [1000, 10, 1000, 10, 1000]
    assert chain_flops(dims, "forward") == chain_flops(dims, "reverse") == 30_000_000
    flops, tree = optimal_order(dims)
    assert flops == 10_200_000
    assert tree in (((3, (2, 1)), 0), (3, ((2, 1), 0)))
    # Down to a scalar, reverse mode is optimal; up from one, forward mode.
    assert optimal_order([1000, 500, 100, 10, 1]) == (551_000, reverse_tree(4))
    assert optimal_order([1, 10, 100, 500, 1000]) == (551_000, forward_tree(4))
    assert chain_flops([1000, 500, 100, 10, 1], "forward") == 51_010_000
    assert optimal_order([5, 7]) == (0, 0)


@pytest.mark.parametrize("factors", [1, 2, 3, 4, 5, 6, 7, 8])
def test_the_brute_force_sees_every_bracketing(factors):
    trees = all_trees(0, factors - 1)
    assert len(trees) == math.comb(2 * (factors - 1), factors - 1) // factors  # Catalan number
    assert len(set(trees)) == len(trees)


@pytest.mark.parametrize("factors", [1, 2, 3, 4, 5, 6, 7, 8])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_optimal_order_is_the_cheapest_bracketing(factors, data):
    dims = data.draw(dims_of_length(factors), label="dims")
    flops, tree = optimal_order(dims)
    cheapest = min(shape_and_cost(t, dims)[2] for t in all_trees(0, factors - 1))
    assert flops == cheapest
    assert shape_and_cost(tree, dims) == (dims[-1], dims[0], flops)
    assert tree_flops(dims, tree) == flops
    assert flops <= chain_flops(dims, "forward")
    assert flops <= chain_flops(dims, "reverse")
    matmul = RecordingMatmul()
    accumulate(random_chain(dims), tree, matmul=matmul)
    assert matmul.flops == flops
    assert len(matmul.calls) == factors - 1


@pytest.mark.parametrize(("dims", "reverse", "forward"), [
    ([784, 512, 512, 10], 784 + 512 + 512, 784),
    ([5, 2, 7, 1], 5 + 2 + 7, 7),
    ([3, 9], 3, 9),
    ([4, 4], 4, 4),
])
def test_stored_activations(dims, reverse, forward):
    assert stored_activations(dims, "reverse") == reverse
    assert stored_activations(dims, "forward") == forward



# --- Checkpointing ----------------------------------------------------------------------


def fewest_steps_by_search(L: int, slots: int) -> int:
    """The least forward steps of any schedule reversing ``L`` steps in ``slots`` slots, by search.

    Independent of the recurrence: a shortest path over the states of the sweep, written from
    the rules alone. A state is ``(saved, current, todo)``: the indices of the saved states
    (``0`` always among them, at most ``slots``), the index of the state at hand (``None`` at
    the start), and the step to reverse next (``0`` when done). The moves: compute the next
    state from the one at hand (cost 1; never past ``x(todo-1)``, which nothing needs), take
    a saved state in hand, save the state at hand, drop a saved state (not ``x0``), and
    reverse step ``todo`` when ``x(todo-1)`` is at hand or saved (cost 0: the step inside the
    reversal is not counted). Moves cost 0 or 1, so a 0-1 breadth-first search finds the least.
    """
    start = (frozenset({0}), None, L)
    best = {start: 0}
    frontier = deque([(0, start)])
    while frontier:
        steps, state = frontier.popleft()
        if steps > best[state]:
            continue
        saved, current, todo = state
        if todo == 0:
            return steps
        moves = [(0, (saved, index, todo)) for index in saved]  # restart from a saved state
        moves += [(0, (saved - {index}, current, todo)) for index in saved if index != 0]  # free a slot
        if current is not None and current + 1 <= todo - 1:
            moves.append((1, (saved, current + 1, todo)))  # one forward step
        if current is not None and current not in saved and len(saved) < slots:
            moves.append((0, (saved | {current}, current, todo)))  # save the state at hand
        if current == todo - 1 or todo - 1 in saved:
            moves.append((0, (saved, current, todo - 1)))  # reverse step todo
        for cost, after in moves:
            if steps + cost < best.get(after, math.inf):
                best[after] = steps + cost
                if cost:
                    frontier.append((steps + cost, after))
                else:
                    frontier.appendleft((steps + cost, after))
    raise AssertionError("the search found no schedule")


def binomial_band(L: int, slots: int) -> int:
    """Griewank's repetition number: the least ``r`` with ``L <= binomial(slots + r, slots)``."""
    r = 0
    while math.comb(slots + r, slots) < L:
        r += 1
    return r


def test_the_search_knows_the_two_simple_schedules_and_a_worked_example():
    # One slot: recompute from x0 before each reversal, 0 + 1 + ... + (L - 1).
    assert [fewest_steps_by_search(L, 1) for L in range(1, 7)] == [0, 1, 3, 6, 10, 15]
    # Enough slots: store every state on the way, L - 1.
    assert [fewest_steps_by_search(L, L) for L in range(1, 7)] == [0, 1, 2, 3, 4, 5]
    # L = 4 with 2 slots: store x1 or x2 (1 + 3 + 0 or 2 + 1 + 1), better than x3 (3 + 0 + 2).
    assert fewest_steps_by_search(4, 2) == 4


@pytest.mark.parametrize("L", range(1, 9))
def test_checkpoint_cost_is_the_best_of_every_schedule(L):
    for slots in range(1, L + 2):
        assert checkpoint_cost(L, slots) == fewest_steps_by_search(L, slots), (L, slots)


@pytest.mark.parametrize("L", [1, 2, 3, 7, 20, 64])
def test_checkpoint_cost_limits(L):
    assert checkpoint_cost(L, 1) == L * (L - 1) // 2  # recompute from x0 every time
    for slots in (L, L + 1, 2 * L + 5):
        assert checkpoint_cost(L, slots) == L - 1  # store everything on the way
    # Each of steps 1..L-1 is computed at least once, so L - 1 is a floor for every slot count.
    assert min(checkpoint_cost(L, slots) for slots in range(1, L + 2)) == L - 1


def test_checkpoint_cost_by_hand():
    assert checkpoint_cost(4, 2) == 4  # x1 or x2 stored
    assert checkpoint_cost(3, 2) == 2  # x1 stored: store everything already
    assert checkpoint_cost(5, 2) == 6  # x2 stored: 2 + T(3, 1) + T(2, 2) = 2 + 3 + 1
    assert checkpoint_cost(np.int64(6), np.int64(3)) == 7
    assert type(checkpoint_cost(np.int64(6), np.int64(3))) is int


def test_more_slots_never_cost_more_and_strictly_less_until_every_state_fits():
    for L in range(1, 60):
        costs = [checkpoint_cost(L, slots) for slots in range(1, L + 3)]
        assert all(more <= fewer for fewer, more in itertools.pairwise(costs)), L
        # slots = L - 1 already holds x0..x(L-2), x(L-1) being at hand: no step is computed twice.
        assert all(more < fewer for fewer, more in itertools.pairwise(costs[: max(L - 1, 1)])), L


@pytest.mark.parametrize("slots", [1, 2, 3, 4, 5, 8])
def test_griewank_each_extra_step_costs_its_repetition_number(slots):
    # With `slots` slots and every step computed at most r times outside its reversal, the
    # longest chain is binomial(slots + r, slots) (x0 counts among the slots); so the L-th step
    # adds exactly r(L) forward steps, r(L) the least r that reaches L.
    for L in range(2, 150):
        added = checkpoint_cost(L, slots) - checkpoint_cost(L - 1, slots)
        assert added == binomial_band(L, slots), (L, slots)


@pytest.mark.parametrize("slots", [1, 2, 3, 4, 6, 10])
def test_griewank_closed_form(slots):
    for L in range(1, 150):
        r = binomial_band(L, slots)
        griewank = r * L - (math.comb(slots + r, r - 1) if r >= 1 else 0)
        assert checkpoint_cost(L, slots) == griewank, (L, slots)
    # At the end of each band, every step but the last is computed exactly r times.
    for r in range(1, 5):
        L = math.comb(slots + r, slots)
        if L <= 300:
            assert checkpoint_cost(L, slots) == r * L - math.comb(slots + r, r - 1)
            assert checkpoint_cost(L + 1, slots) - checkpoint_cost(L, slots) == r + 1


def test_no_step_computed_twice_exactly_when_the_chain_fits_griewank_r1():
    # r = 1: binomial(slots + 1, slots) = slots + 1 steps at most, at the floor cost L - 1.
    for L in range(1, 30):
        for slots in range(1, 32):
            fits = slots >= L - 1  # L <= binomial(slots + 1, slots)
            assert (checkpoint_cost(L, slots) == L - 1) is fits, (L, slots)


@pytest.mark.parametrize(("L", "slots", "error", "message"), [
    (0, 3, ValueError, "L is 0, but it must be at least 1"),
    (-2, 3, ValueError, "L is -2"),
    (5, 0, ValueError, "slots is 0, but it must be at least 1: the states kept at once, x0 included"),
    (2.0, 3, TypeError, "L is 2.0, but it must be an integer"),
    (5, "3", TypeError, "slots is '3', but it must be an integer"),
    (True, 3, TypeError, "L is True"),
    (5, None, TypeError, "slots is None"),
])
def test_bad_checkpoint_arguments_are_refused(L, slots, error, message):
    with pytest.raises(error, match=message):
        checkpoint_cost(L, slots)


# --- Whole Jacobians from JVPs and VJPs ------------------------------------------------


@pytest.fixture
def f_and_x():
    rng = np.random.default_rng(7)
    W = rng.standard_normal((3, 4))

    def f(x):  # R^4 -> R^3
        return anp.tanh(W @ x) * anp.sum(anp.sin(x)) + x[:3] ** 2

    return f, rng.standard_normal(4)


def test_jacobian_from_jvps_is_jacfwd_with_one_pass_per_input(f_and_x):
    f, x = f_and_x
    jvp_fn = CountingFunction(lambda v: jvp(f, (x,), (v,))[1])
    J = jacobian_from_jvps(jvp_fn, 4)
    assert jvp_fn.calls == 4
    assert J.shape == (3, 4)
    np.testing.assert_allclose(J, jacfwd(f)(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(J, jacrev(f)(x), rtol=1e-12, atol=1e-14)


def test_jacobian_from_vjps_is_jacrev_with_one_pass_per_output(f_and_x):
    f, x = f_and_x
    _, pullback = vjp(f, x)
    vjp_fn = CountingFunction(lambda u: pullback(u)[0])
    J = jacobian_from_vjps(vjp_fn, 3)
    assert vjp_fn.calls == 3
    assert J.shape == (3, 4)
    np.testing.assert_allclose(J, jacrev(f)(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(J, jacfwd(f)(x), rtol=1e-12, atol=1e-14)


def test_the_passes_are_the_one_hot_vectors_in_order():
    J = np.arange(12.0).reshape(3, 4)
    tangents, cotangents = [], []
    jacobian_from_jvps(lambda v: tangents.append(v.copy()) or J @ v, 4)
    jacobian_from_vjps(lambda u: cotangents.append(u.copy()) or u @ J, 3)
    np.testing.assert_array_equal(tangents, np.eye(4))
    np.testing.assert_array_equal(cotangents, np.eye(3))


def test_a_scalar_function_has_a_one_row_jacobian():
    x = np.array([0.3, -1.2, 2.0])
    f = lambda x: anp.sum(x**3)
    jvp_fn = CountingFunction(lambda v: jvp(f, (x,), (v,))[1])
    J = jacobian_from_jvps(jvp_fn, 3)
    assert J.shape == (1, 3) and jvp_fn.calls == 3
    np.testing.assert_allclose(J, [3 * x**2])
    _, pullback = vjp(f, x)
    vjp_fn = CountingFunction(lambda u: pullback(u.reshape(()))[0])
    np.testing.assert_allclose(jacobian_from_vjps(vjp_fn, 1), [3 * x**2])
    assert vjp_fn.calls == 1


def test_the_jacobian_of_a_linear_network_is_its_chain_product():
    """JVPs through the layers one at a time are forward mode on vectors, VJPs reverse mode."""
    jacobians = random_chain([5, 3, 6, 2], seed=3)

    def network(x):
        for J in jacobians:
            x = J @ x
        return x

    _, pullback = vjp(network, np.zeros(5))
    from_jvps = jacobian_from_jvps(lambda v: jvp(network, (np.zeros(5),), (v,))[1], 5)
    from_vjps = jacobian_from_vjps(lambda u: pullback(u)[0], 2)
    np.testing.assert_allclose(from_jvps, forward_accumulate(jacobians), rtol=1e-12)
    np.testing.assert_allclose(from_vjps, reverse_accumulate(jacobians), rtol=1e-12)


def test_counting_function_passes_arguments_through():
    counted = CountingFunction(lambda a, b=1: a + b)
    assert (counted(1), counted(1, b=5), counted.calls) == (2, 6, 2)
    assert "calls=2" in repr(counted)


# --- Errors ----------------------------------------------------------------------------

PRODUCTS = {
    "forward_accumulate": forward_accumulate,
    "reverse_accumulate": reverse_accumulate,
    "accumulate": lambda jacobians: accumulate(jacobians, forward_tree(max(len(jacobians), 1))),
    "chain_dims": chain_dims,
}


@pytest.mark.parametrize("product", PRODUCTS.values(), ids=PRODUCTS.keys())
def test_mismatched_jacobians_are_named_with_both_shapes(product):
    jacobians = [np.ones((3, 2)), np.ones((4, 3)), np.ones((1, 5))]
    with pytest.raises(ValueError, match=r"jacobians\[2\] of shape \(1, 5\) cannot follow "
                                         r"jacobians\[1\] of shape \(4, 3\)"):
        product(jacobians)


@pytest.mark.parametrize("product", PRODUCTS.values(), ids=PRODUCTS.keys())
def test_an_empty_chain_is_refused(product):
    with pytest.raises(ValueError, match="empty"):
        product([])


def test_a_jacobian_must_be_a_matrix():
    with pytest.raises(ValueError, match=r"jacobians\[1\] has shape \(3,\).*2-D"):
        forward_accumulate([np.ones((3, 2)), np.ones(3)])


def test_bad_order_and_mode_names_are_refused():
    with pytest.raises(ValueError, match=r"'forward' or 'reverse', not 'backward'.*tree_flops"):
        chain_flops([2, 3, 4], "backward")
    with pytest.raises(ValueError, match=r"'forward'.*'reverse'.*not 'rev'"):
        stored_activations([2, 3], "rev")


@pytest.mark.parametrize(("dims", "error", "message"), [
    ([], ValueError, "at least two"),
    ([4], ValueError, "at least two"),
    ([4, 0, 2], ValueError, r"dims\[1\] is 0"),
    ([4, 2.5], TypeError, r"dims\[1\] is 2.5"),
])
def test_bad_dims_are_refused(dims, error, message):
    for use in (lambda: chain_flops(dims, "forward"), lambda: optimal_order(dims),
                lambda: tree_flops(dims, 0), lambda: stored_activations(dims, "reverse")):
        with pytest.raises(error, match=message):
            use()


@pytest.mark.parametrize(("tree", "error", "message"), [
    ((2, 1), ValueError, r"does not use jacobians\[0\]"),
    (((2, 1), 1), ValueError, r"uses jacobians\[1\] twice"),
    ((3, (1, 0)), ValueError, r"names jacobians\[3\], but the chain has 3 factors"),
    ((0, (1, 2)), ValueError, r"multiplies jacobians\[1\] \(left\) by jacobians\[2\] \(right\)"),
    (((1, 0), 2), ValueError, r"jacobians\[0..1\] \(left\) by jacobians\[2\] .* start at jacobians\[3\]"),
    ((2, 1, 0), ValueError, "must be a pair"),
    ((2, (1, "0")), TypeError, "leaf '0'"),
    ((2, (True, 0)), TypeError, "leaf True"),
])
def test_a_tree_must_cover_the_chain_once_in_order(tree, error, message):
    jacobians = random_chain([2, 3, 4, 5])
    with pytest.raises(error, match=message):
        accumulate(jacobians, tree)
    with pytest.raises(error, match=message):
        tree_flops([2, 3, 4, 5], tree)


def test_bad_jvp_and_vjp_functions_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        jacobian_from_jvps(lambda v: v, 0)
    with pytest.raises(ValueError, match=r"jvp_fn\(e_1\) returned 2 numbers but jvp_fn\(e_0\) returned 1"):
        jacobian_from_jvps(lambda v: v[: 1 + int(v[1])], 3)
    with pytest.raises(ValueError, match=r"vjp_fn must return u @ J"):
        jacobian_from_vjps(lambda u: u[: 1 + int(u[1])], 3)
