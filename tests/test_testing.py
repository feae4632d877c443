"""The checker itself: it must pass correct derivatives and catch wrong ones."""

import numpy as np
import pytest

import autodiff_kit.numpy as anp
from autodiff_kit.numpy import elementwise
from autodiff_kit.testing import (
    GradientCheckError,
    assert_close,
    check_grads,
    likely_slip,
    numerical_grad,
    numerical_jacobian,
)
from autodiff_kit.tracing import defjvp, defvjp, primal_value


def test_numerical_jacobian_layout_and_accuracy():
    x = np.array([0.3, -0.4, 1.1])
    J = numerical_jacobian(lambda x: np.array([x[0] * x[1], np.sin(x[2])]), x)
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J, [[x[1], x[0], 0], [0, 0, np.cos(x[2])]], atol=1e-9)
    assert numerical_jacobian(lambda x: np.sum(x**2), x).shape == (1, 3)
    np.testing.assert_allclose(numerical_grad(lambda x: np.sum(x**2), x), 2 * x, atol=1e-9)


def test_check_grads_passes_correct_derivatives_to_third_order():
    check_grads(lambda x, W: anp.tanh(W @ x), (np.array([0.2, -0.5]), np.eye(2) * 0.7), order=3)


@pytest.fixture
def wrong_sin_rule():
    """Temporarily give sin a derivative with the wrong sign in one mode."""
    saved = elementwise.sin.vjps, elementwise.sin.jvp

    def install(mode):
        if mode == "rev":
            defvjp(elementwise.sin, lambda g, ans, x: -g * anp.cos(x))
        else:
            defjvp(elementwise.sin, lambda t, ans, x: -t * anp.cos(x))

    yield install
    elementwise.sin.vjps, elementwise.sin.jvp = saved


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_check_grads_catches_a_wrong_rule_and_names_the_mode(wrong_sin_rule, mode):
    wrong_sin_rule(mode)
    name = "forward mode" if mode == "fwd" else "reverse mode"
    with pytest.raises(GradientCheckError, match=f"{name}.*order 1.*tolerance"):
        check_grads(lambda x: anp.sin(x) * 2.0, (np.array([0.3, 1.0]),), modes=(mode,))


def test_check_grads_catches_a_wrong_second_derivative():
    """A tanh rule with the right value whose own derivative is lost (it strips the tracer)."""
    saved = elementwise.tanh.vjps
    defvjp(elementwise.tanh, lambda g, ans, x: g * (1.0 - primal_value(ans) ** 2))
    try:
        check_grads(anp.tanh, (np.array([0.3, 1.0]),), modes=("rev",), order=1)
        with pytest.raises(GradientCheckError, match="order 2"):
            check_grads(anp.tanh, (np.array([0.3, 1.0]),), modes=("rev",), order=2)
    finally:
        elementwise.tanh.vjps = saved


def test_check_grads_rejects_unknown_modes():
    with pytest.raises(ValueError, match="'fwd' and/or 'rev'"):
        check_grads(anp.sin, (1.0,), modes=("forward",))


@pytest.mark.parametrize("slip", ["sign", "transpose", "batch mean", "zero", "overflow", "one entry"])
def test_visible_and_hidden_checks_name_a_slip_in_the_same_words(slip):
    """``assert_close`` (visible checks) and the hidden tests' ``expect_close`` share ``likely_slip``."""
    from grader_tests.feedback import GradingError, expect_close

    expected = np.arange(1.0, 10.0).reshape(3, 3) ** 1.5
    wrong = {"sign": -expected, "transpose": expected.T, "batch mean": expected / 3,
             "zero": np.zeros_like(expected), "overflow": np.where(expected > 20, np.nan, expected),
             "one entry": np.where(expected == expected.max(), 0.0, expected)}[slip]
    sentence = likely_slip(wrong, expected)
    words = {"sign": "opposite sign", "transpose": "transpose", "batch mean": "mean over the batch",
             "zero": "zero everywhere", "overflow": "overflowed",
             "one entry": "other entries are right"}[slip]
    assert words in sentence
    with pytest.raises(AssertionError) as visible:
        assert_close(wrong, expected, "gx")
    with pytest.raises(GradingError) as hidden:
        expect_close(wrong, expected, "gx")
    assert sentence in str(visible.value) and sentence in str(hidden.value)
