"""The first lecture's hand-worked derivatives against the engine."""

import numpy as np
import pytest

import autodiff_kit.numpy as anp
from autodiff_kit import jacrev, value_and_grad
from autodiff_kit.examples import linear_model_step, softmax_jacobian
from autodiff_kit.testing import numerical_jacobian


def test_linear_model_step_is_the_worked_example_and_agrees_with_grad():
    assert linear_model_step(1.0, 7.0, 2.0, 3.0, 0.1) == pytest.approx((4.0, -4.0, -4.0, 2.4, 3.4))
    rng = np.random.default_rng(3)
    for x, y, w, b in rng.standard_normal((5, 4)):
        loss, (dw, db) = value_and_grad(lambda w, b, x=x, y=y: (w * x + b - y) ** 2, argnums=(0, 1))(w, b)
        assert linear_model_step(x, y, w, b, 0.5) == pytest.approx((loss, dw, db, w - 0.5 * dw, b - 0.5 * db))


@pytest.mark.parametrize("scale", [1.0, 1e2, 1e4])
def test_softmax_jacobian_matches_autodiff_and_finite_differences(scale):
    z = np.random.default_rng(4).standard_normal(5) * scale
    softmax = lambda z: anp.exp(z - anp.logsumexp(z))
    J = softmax_jacobian(z)
    assert np.all(np.isfinite(J))
    np.testing.assert_allclose(J, jacrev(softmax)(z), atol=1e-14)
    if scale == 1.0:
        np.testing.assert_allclose(J, numerical_jacobian(softmax, z), atol=1e-8)
    np.testing.assert_allclose(J.sum(axis=0), 0.0, atol=1e-15)
