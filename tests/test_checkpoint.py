"""``autodiff_kit.checkpointing`` against plain reverse mode, autograd and finite differences.

A checkpoint changes what is stored, never what is computed: ``checkpoint(f)`` must have
the derivatives of ``f`` in both modes and nested to second order, and a checkpointed chain
those of the same loop without checkpoints. The schedules are checked by playing them on
paper (which state is at hand, which are kept), and the chain by counting the steps it
computes and the states it keeps alive: exactly ``checkpoint_cost(L, slots)`` steps outside
the reversals, at most ``slots`` states.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import REALS, broadcast_shapes, seeds

import autodiff_kit.numpy as anp
from autodiff_kit import (
    checkpoint,
    checkpointed_chain,
    grad,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    trace_program,
    vjp,
)
from autodiff_kit.chain import checkpoint_cost
from autodiff_kit.checkpointing import binomial_schedule, periodic_schedule, scheduled_chain
from autodiff_kit.testing import check_grads
from autodiff_kit.tracing import Tracer

autograd = pytest.importorskip("autograd")
agnp = pytest.importorskip("autograd.numpy")


def close(a, b) -> bool:
    return np.allclose(a, b, rtol=1e-9, atol=1e-12)


# --- checkpoint(f) ----------------------------------------------------------------------


def mixer(m, x, w):
    """A smooth function of two broadcast arrays, in NumPy module ``m`` (the kit's or autograd's)."""
    return m.sin(x * w) + m.tanh(x) * w ** 2


@settings(max_examples=25, deadline=None)
@given(broadcast_shapes(2), st.data())
def test_checkpoint_has_the_gradient_of_f_plain_autograd_and_differences_agree(shapes, data):
    x, w = (data.draw(REALS(shape)) for shape in shapes)
    u = data.draw(REALS(np.broadcast_shapes(*shapes)))
    f = functools.partial(mixer, anp)
    loss = lambda x, w, f: anp.sum(f(x, w) * u)
    checkpointed = grad(loss, (0, 1))(x, w, checkpoint(f))
    plain = grad(loss, (0, 1))(x, w, f)
    oracle = autograd.grad(lambda x, w: agnp.sum(mixer(agnp, x, w) * u), (0, 1))(x, w)
    for got, want, expected in zip(checkpointed, plain, oracle, strict=True):
        assert np.shape(got) == np.shape(want)
        assert close(got, want) and close(got, expected)
    check_grads(checkpoint(f), (x, w), order=2)  # both modes, and nested, against differences


def scalar_mixer(m, x, w):
    return m.sum(mixer(m, x, w) ** 2)


NESTINGS = {
    "grad of grad": lambda f, x, w: grad(lambda x: anp.sum(grad(f)(x, w) * anp.cos(x)))(x),
    "hessian (jacfwd of jacrev)": lambda f, x, w: hessian(f)(x, w),
    "jvp of grad (forward over reverse)": lambda f, x, w: jvp(
        lambda x: grad(f)(x, w), (x,), (anp.cos(x),))[1],
    "grad of jvp (reverse over forward)": lambda f, x, w: grad(
        lambda w: jvp(lambda x: f(x, w), (x,), (anp.sin(x),))[1])(w),
    "jacrev of grad in w": lambda f, x, w: jacrev(lambda w: grad(f)(x, w))(w),
    "jacfwd": lambda f, x, w: jacfwd(lambda x: mixer(anp, x, w) + anp.tanh(f(x, w)))(x),
}


@pytest.mark.parametrize("nesting", list(NESTINGS))
@settings(max_examples=8, deadline=None)
@given(seed=seeds)
def test_derivatives_nest_through_checkpoint(nesting, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.uniform(-2, 2, 3), rng.uniform(-2, 2, 3)
    f = functools.partial(scalar_mixer, anp)
    transform = NESTINGS[nesting]
    assert close(transform(checkpoint(f), x, w), transform(f, x, w))


def test_second_derivatives_through_checkpoint_match_autograd():
    x, w = np.array([0.3, -1.2, 0.8]), np.array([1.1, 0.4, -0.7])
    f = checkpoint(functools.partial(scalar_mixer, anp))
    oracle = functools.partial(scalar_mixer, agnp)
    assert close(hessian(f)(x, w), autograd.hessian(oracle)(x, w))
    mixed = jacrev(lambda w: grad(f)(x, w))(w)
    assert close(mixed, autograd.jacobian(lambda w: autograd.grad(oracle)(x, w))(w))


def test_a_checkpoint_inside_a_checkpoint():
    inner = checkpoint(lambda x, w: anp.tanh(x * w))
    outer = checkpoint(lambda x, w: anp.sum(inner(inner(x, w), w) ** 2))
    plain = lambda x, w: anp.sum(anp.tanh(anp.tanh(x * w) * w) ** 2)
    x, w = np.array([0.5, -1.5]), np.array([0.7, 1.3])
    assert close(grad(outer, (0, 1))(x, w), grad(plain, (0, 1))(x, w))
    assert close(hessian(outer)(x, w), hessian(plain)(x, w))


def test_the_forward_run_keeps_nothing_of_f_and_one_recomputation_serves_every_input():
    seen = []

    def layer(x, params):
        seen.append("traced" if isinstance(x, Tracer) else "plain")
        return anp.tanh(x @ params["W"].T + params["b"])

    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)}
    x = rng.standard_normal((2, 4))
    loss = lambda x, params, layer: anp.sum(layer(x, params) ** 2)
    got = grad(loss, (0, 1))(x, params, checkpoint(layer))
    # Forward: f on plain arrays, so nothing of it is on the tape; backward: one traced rerun
    # for the cotangents of x, W and b together.
    assert seen == ["plain", "traced"]
    want = grad(loss, (0, 1))(x, params, layer)
    assert close(got[0], want[0]) and close(got[1]["W"], want[1]["W"]) and close(got[1]["b"], want[1]["b"])
    seen.clear()
    jacrev(lambda x: checkpoint(layer)(x, params))(x)
    assert seen == ["plain"] + ["traced"] * 6  # one backward sweep per output entry


def test_the_tape_holds_the_checkpoint_as_one_instruction_and_the_sweep_recomputes_it():
    layer = checkpoint(lambda x, w: anp.tanh(w * x))
    primal, adjoint = str(trace_program(lambda w: layer(layer(0.5, w), w), 0.3)).split("adjoint program")
    assert primal.count("= checkpoint(<lambda>)") == 2 and "tanh" not in primal
    assert adjoint.count("= tanh") == 2  # each layer run again, once, in the backward sweep


def test_checkpoint_leaves_constants_alone():
    labels = np.array([2, 0])

    def picked_log_softmax(logits, labels):
        return anp.sum(logits[np.arange(2), labels] - anp.logsumexp(logits, axis=1))

    logits = np.array([[0.1, 1.0, -0.3], [2.0, 0.5, 0.0]])
    got = grad(checkpoint(picked_log_softmax))(logits, labels)
    assert close(got, grad(picked_log_softmax)(logits, labels))


# --- The chain --------------------------------------------------------------------------


def rnn_step(x, W, b):
    return anp.tanh(x @ W.T + b)


def loop(step, length):
    def chain(x, *params):
        for _ in range(length):
            x = step(x, *params)
        return x

    return chain


def chain_problem(seed: int, width: int, batch: int):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((width, width)) / np.sqrt(width)
    return rng.standard_normal((batch, width)), W, 0.3 * rng.standard_normal(width)


@settings(max_examples=40, deadline=None)
@given(length=st.integers(0, 12), slots=st.integers(1, 14), width=st.integers(1, 4),
       batch=st.integers(1, 3), seed=seeds)
def test_chain_gradient_is_plain_reverse_modes_and_autograds(length, slots, width, batch, seed):
    x0, W, b = chain_problem(seed, width, batch)
    u = np.random.default_rng(seed + 1).standard_normal(x0.shape)
    loss = lambda x0, W, b, chain: anp.sum(chain(x0, W, b) * u)
    checkpointed = grad(loss, (0, 1, 2))(x0, W, b, checkpointed_chain(rnn_step, length, slots))
    plain = grad(loss, (0, 1, 2))(x0, W, b, loop(rnn_step, length))

    def oracle(x, W, b):
        for _ in range(length):
            x = agnp.tanh(x @ W.T + b)
        return agnp.sum(x * u)

    expected = autograd.grad(oracle, (0, 1, 2))(x0, W, b)
    for got, want, other in zip(checkpointed, plain, expected, strict=True):
        assert np.shape(got) == np.shape(want)
        assert close(got, want) and close(got, other)


@pytest.mark.parametrize("schedule", [periodic_schedule(11, 3), periodic_schedule(12, 4),
                                      periodic_schedule(5, 9)], ids=["11 by 3", "12 by 4", "5 by 9"])
def test_a_periodic_schedule_gives_the_same_gradient(schedule):
    x0, W, b = chain_problem(3, 3, 2)
    loss = lambda W, b, chain: anp.sum(chain(x0, W, b) ** 2)
    got = grad(loss, (0, 1))(W, b, scheduled_chain(rnn_step, schedule))
    want = grad(loss, (0, 1))(W, b, loop(rnn_step, schedule.length))
    assert close(got[0], want[0]) and close(got[1], want[1])


def test_the_gradient_with_respect_to_some_inputs_only():
    x0, W, b = chain_problem(5, 3, 2)
    loss = lambda x0, W, b, chain: anp.sum(chain(x0, W, b) ** 2)
    for argnums in ((0,), (1,), (2,), (0, 2)):
        got = grad(loss, argnums)(x0, W, b, checkpointed_chain(rnn_step, 9, 3))
        want = grad(loss, argnums)(x0, W, b, loop(rnn_step, 9))
        assert all(close(g, w) for g, w in zip(got, want, strict=True))


def test_params_may_be_pytrees_and_the_step_anything_callable():
    x0, W, b = chain_problem(6, 3, 1)

    class Step:
        def __call__(self, x, params):
            return anp.tanh(x @ params["W"].T + params["b"])

    params = {"W": W, "b": b}
    loss = lambda params, chain: anp.sum(chain(x0, params) ** 2)
    got = grad(loss)(params, checkpointed_chain(Step(), 7, 2))
    want = grad(loss)(params, loop(Step(), 7))
    assert close(got["W"], want["W"]) and close(got["b"], want["b"])


CHAIN_NESTINGS = {
    "grad of grad": lambda loss, w: grad(lambda w: anp.sum(grad(loss)(w) * anp.cos(w)))(w),
    "hessian": lambda loss, w: hessian(lambda w: loss(w) * anp.sum(w))(w),
    "jvp of grad": lambda loss, w: jvp(grad(loss), (w,), (np.cos(w),))[1],
    "grad of jvp": lambda loss, w: grad(lambda w: jvp(loss, (w,), (anp.sin(w),))[1])(w),
    "jvp": lambda loss, w: jvp(loss, (w,), (np.cos(w),))[1],
}


@pytest.mark.parametrize("nesting", list(CHAIN_NESTINGS))
@pytest.mark.parametrize(("length", "slots"), [(1, 1), (6, 1), (9, 3), (10, 20)])
def test_derivatives_nest_through_the_chain(nesting, length, slots):
    step = lambda x, w: anp.sin(w * x) + 0.5 * x
    x0 = np.array([0.4, -0.9, 1.3])
    chain, plain = checkpointed_chain(step, length, slots), loop(step, length)
    w = np.array([0.8, 1.1, -0.6])
    transform = CHAIN_NESTINGS[nesting]
    got = transform(lambda w: anp.sum(chain(x0, w) ** 2), w)
    assert close(got, transform(lambda w: anp.sum(plain(x0, w) ** 2), w))


def test_check_grads_through_the_chain():
    chain = checkpointed_chain(lambda x, w: anp.sin(w * x) + 0.5 * x, 8, 3)
    check_grads(chain, (np.array([0.4, -0.9]), np.array([0.8, 1.1])), order=2)


class CountingStep:
    """A step counting its calls on plain arrays (outside a reversal) and on traced ones."""

    def __init__(self) -> None:
        self.plain = self.traced = 0

    def __call__(self, x, w):
        if isinstance(x, Tracer):
            self.traced += 1
        else:
            self.plain += 1
        return anp.sin(w * x) + 0.5 * x


CASES = [(L, slots) for L in range(1, 26) for slots in range(1, L + 2)]
CASES += [(64, 7), (100, 5), (150, 2), (200, 3), (300, 12)]


@pytest.mark.parametrize(("L", "slots"), CASES[:-5])
def test_the_backward_sweep_recomputes_exactly_checkpoint_cost_steps(L, slots):
    _check_the_counts(L, slots)


@pytest.mark.parametrize(("L", "slots"), CASES[-5:])
def test_long_chains_recompute_exactly_checkpoint_cost_steps(L, slots):
    _check_the_counts(L, slots)


def _check_the_counts(L, slots):
    step = CountingStep()
    _, pullback = vjp(checkpointed_chain(step, L, slots), np.array([0.3, -0.2]), 0.9)
    assert (step.plain, step.traced) == (L, 0)  # the forward run: the chain once, nothing recorded
    step.plain = 0
    pullback(np.ones(2))
    # Outside the reversals, the least any schedule computes; inside, each step once.
    assert step.plain == checkpoint_cost(L, slots)
    assert step.traced == L


@pytest.mark.parametrize(("L", "slots"), [(30, 1), (30, 4), (60, 6), (40, 40)])
def test_the_backward_sweep_keeps_at_most_slots_states(L, slots):
    alive: list[weakref.ref] = []
    most_alive = 0

    def step(x, w):
        nonlocal most_alive
        if not isinstance(x, Tracer):
            most_alive = max(most_alive, sum(ref() is not None for ref in alive))
        y = anp.tanh(w * x)
        if not isinstance(y, Tracer):
            alive.append(weakref.ref(y))
        return y

    _, pullback = vjp(checkpointed_chain(step, L, slots), np.full(5, 0.5), np.full(5, 1.2))
    alive.clear()  # the forward run's states are gone but for x_L, the output
    most_alive = 0
    pullback(np.ones(5))
    # States made by the sweep and alive at once: the kept ones other than x0, and the one at hand.
    assert most_alive <= slots
    if 2 * slots < L:
        assert most_alive >= slots - 1  # the slots are used, not just allowed


# --- Schedules, played on paper ---------------------------------------------------------


def play(schedule):
    """Play ``schedule``: check each move is possible and the steps are reversed L, ..., 1.

    Returns the forward steps and the most states kept at once.
    """
    at_hand, kept, next_to_reverse = 0, set(), schedule.length
    steps = most_kept = 0
    for action in schedule.actions:
        if action.kind == "store":
            assert action.index == at_hand and action.index not in kept, action
            kept.add(at_hand)
        elif action.kind == "free":
            assert action.index in kept and action.index != 0, action
            kept.remove(action.index)
        elif action.kind == "restore":
            assert action.index in kept, action
            at_hand = action.index
        elif action.kind == "advance":
            assert action.index == at_hand < action.to < next_to_reverse, action
            steps += action.to - action.index
            at_hand = action.to
        else:
            assert action.kind == "reverse", action
            assert action.index == next_to_reverse and at_hand == action.index - 1, action
            next_to_reverse -= 1
        most_kept = max(most_kept, len(kept))
    assert next_to_reverse == 0
    return steps, most_kept


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 13, 21, 34, 55, 100])
def test_binomial_schedules_are_valid_within_their_slots_and_least_costly(L):
    for slots in sorted({1, 2, 3, 4, 6, 10, L - 1, L, L + 5} - {0}):
        schedule = binomial_schedule(L, slots)
        steps, most_kept = play(schedule)
        assert most_kept <= slots and most_kept == schedule.peak_slots
        assert steps == schedule.forward_steps == checkpoint_cost(L, slots), (L, slots)


@pytest.mark.parametrize(("L", "period"), [(1, 1), (10, 1), (10, 3), (12, 4), (100, 10), (200, 14), (7, 50)])
def test_periodic_schedules_are_valid_and_cost_one_extra_run(L, period):
    schedule = periodic_schedule(L, period)
    steps, most_kept = play(schedule)
    segments = -(-L // period)
    last_start = period * (segments - 1)
    assert steps == schedule.forward_steps == last_start + L - segments
    assert most_kept == schedule.peak_slots
    assert most_kept <= segments + max(min(period, L) - 2, 0)
    assert steps >= checkpoint_cost(L, most_kept)  # never better than the optimum in its slots


def test_a_chain_of_no_steps_is_its_input():
    assert str(binomial_schedule(0, 3)) == "store x0"
    x0, w = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    chain = checkpointed_chain(lambda x, w: x * w, 0, 1)
    assert close(chain(x0, w), x0)
    gx, gw = grad(lambda x, w: anp.sum(chain(x, w)), (0, 1))(x0, w)
    assert close(gx, np.ones(2)) and close(gw, np.zeros(2))


# --- Errors that say what to do ---------------------------------------------------------


def test_what_is_not_a_function_is_refused():
    with pytest.raises(TypeError, match=r"got 3, which cannot be called\. Pass the function itself"):
        checkpoint(3)
    with pytest.raises(TypeError, match=r"checkpointed_chain takes the step function .* cannot be called"):
        checkpointed_chain(np.ones(3), 4, 2)
    with pytest.raises(TypeError, match=r"takes a Schedule.*binomial_schedule\(length, slots\)"):
        scheduled_chain(np.sin, [("advance", 0, 1)])


@pytest.mark.parametrize(("length", "slots", "error", "message"), [
    (5, 0, ValueError, r"slots is 0, but it must be at least 1: the states kept at once, x0 included"),
    (5, -2, ValueError, r"slots is -2, but it must be at least 1"),
    (5, 2.5, TypeError, r"slots is 2\.5, but it must be an integer"),
    (5, True, TypeError, r"slots is True, but it must be an integer"),
    (-1, 2, ValueError, r"length is -1, but it must be at least 0: the number of steps of the chain"),
    ("3", 2, TypeError, r"length is '3', but it must be an integer"),
])
def test_bad_lengths_and_slot_counts_are_refused(length, slots, error, message):
    with pytest.raises(error, match=message):
        checkpointed_chain(np.sin, length, slots)
    with pytest.raises(error, match=message):
        binomial_schedule(length, slots)


def test_a_bad_period_is_refused():
    with pytest.raises(ValueError, match=r"period is 0, but it must be at least 1: the steps between"):
        periodic_schedule(10, 0)


def test_a_function_of_several_outputs_is_refused():
    with pytest.raises(TypeError, match=r"returned a tuple, but .* must return one array; checkpoint a "
                                        r"function for each output"):
        grad(lambda x: checkpoint(lambda x: (x, 2 * x))(x)[0])(1.0)


def test_a_traced_value_read_from_outside_is_refused():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([0.5, -0.5])
    with pytest.raises(TypeError, match=r"used a traced value that is not one of its arguments .* Pass "
                                        r"that value as an argument: checkpoint\(<lambda>\)\(x, params\)"):
        grad(lambda W: anp.sum(checkpoint(lambda x: W @ x)(x)))(W)
    with pytest.raises(TypeError, match=r"Pass that value as an argument: chain\(x0, W, b\)"):
        grad(lambda W: anp.sum(checkpointed_chain(lambda x: anp.tanh(W @ x), 3, 2)(x)))(W)
