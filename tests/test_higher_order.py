"""Hessians, Hessian-vector products and forward gradients against closed forms."""

import numpy as np
import pytest

import autodiff_kit.numpy as anp
from autodiff_kit import forward_gradient, grad, hessian, hvp
from autodiff_kit.higher_order import hvp_fwd_over_rev, hvp_rev_over_rev, newton_step
from autodiff_kit.reverse import ReverseTrace


@pytest.fixture
def rng():
    return np.random.default_rng(2026)


def rosenbrock(x):
    """$\\sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2$."""
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    """The closed form: tridiagonal, from differentiating each term twice by hand."""
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i + 1, i + 1] += 200.0
        H[i, i + 1] = H[i + 1, i] = -400.0 * x[i]
    return H


@pytest.mark.parametrize("n", [2, 3, 7])
def test_hessian_of_rosenbrock_equals_closed_form(rng, n):
    x = rng.uniform(-2, 2, n)
    np.testing.assert_allclose(hessian(rosenbrock)(x), rosenbrock_hessian(x), rtol=1e-12, atol=1e-9)


def test_hessian_of_quadratic_is_symmetric_part_of_its_matrix(rng):
    A, b, x = rng.standard_normal((5, 5)), rng.standard_normal(5), rng.standard_normal(5)
    np.testing.assert_allclose(hessian(lambda x: x @ A @ x / 2 + b @ x)(x), (A + A.T) / 2, atol=1e-12)


@pytest.mark.parametrize("mode", ["fwd_over_rev", "rev_over_rev"])
def test_hvp_both_ways_equals_hessian_times_vector(rng, mode):
    x, v = rng.uniform(-2, 2, 6), rng.standard_normal(6)
    np.testing.assert_allclose(hvp(rosenbrock, x, v, mode=mode), rosenbrock_hessian(x) @ v,
                               rtol=1e-11, atol=1e-8)


def test_the_two_hvps_agree_on_a_non_polynomial(rng):
    f = lambda x: anp.sum(anp.tanh(x) * anp.exp(-x ** 2)) + anp.logsumexp(x * x[::-1])
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    np.testing.assert_allclose(hvp_fwd_over_rev(f, x, v), hvp_rev_over_rev(f, x, v), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hvp_fwd_over_rev(f, x, v), hessian(f)(x) @ v, rtol=1e-10, atol=1e-12)


def test_hvp_rejects_an_unknown_mode(rng):
    with pytest.raises(ValueError, match="fwd_over_rev"):
        hvp(rosenbrock, np.ones(2), np.ones(2), mode="rev_over_fwd")


def test_newton_step_solves_a_quadratic_in_one_step(rng):
    M = rng.standard_normal((4, 4))
    A, b = M @ M.T + 4 * np.eye(4), rng.standard_normal(4)
    x = newton_step(lambda x: x @ A @ x / 2 - b @ x, rng.standard_normal(4))
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-10)


def test_newton_converges_to_the_rosenbrock_minimum():
    x = np.array([-1.2, 1.0])
    for _ in range(10):
        x = newton_step(rosenbrock, x)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-10)


def test_forward_gradient_is_one_jvp_times_the_direction(rng):
    f = lambda x: anp.sum(anp.sin(x) * x)
    x = rng.standard_normal(4)
    estimate = forward_gradient(f, x, np.random.default_rng(7))
    v = np.random.default_rng(7).standard_normal(4)
    np.testing.assert_allclose(estimate, (grad(f)(x) @ v) * v, rtol=1e-12)


def test_forward_gradient_uses_no_reverse_mode(rng, monkeypatch):
    def refuse(*args):
        raise AssertionError("forward_gradient used reverse mode")

    monkeypatch.setattr(ReverseTrace, "record", refuse)
    forward_gradient(rosenbrock, rng.standard_normal(3), rng)


def test_mean_of_forward_gradients_approaches_the_gradient(rng):
    """The estimate's covariance is $|g|^2 I + g g^\\top$, so the mean of N has mean squared
    error $(n + 1) |g|^2 / N$: the error must fall as N grows, and stay near that size."""
    f = lambda x: anp.sum(anp.cos(x) * x ** 2)
    x = rng.standard_normal(5)
    g = grad(f)(x)
    estimates = np.array([forward_gradient(f, x, rng) for _ in range(20000)])
    errors = {}
    for count in (20, 200, 2000, 20000):
        errors[count] = np.linalg.norm(estimates[:count].mean(axis=0) - g)
        expected = np.sqrt((x.size + 1) * (g @ g) / count)
        assert errors[count] < 3 * expected, (count, errors[count], expected)
    assert errors[20000] < errors[200] < errors[20] or errors[20000] < errors[20] / 10
