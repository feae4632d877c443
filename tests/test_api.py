"""The transformations against closed forms: values, structures, nesting."""

import numpy as np
import pytest

import autodiff_kit.numpy as anp
from autodiff_kit import grad, hessian, hvp, jacfwd, jacrev, jvp, value_and_grad, vjp
from autodiff_kit.testing import numerical_jacobian


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def test_worked_example_one_gradient_descent_step():
    """The lectures' seed: h = w x + b, loss (h - y)^2 at x=1, y=7, w=2, b=3."""
    x, y, w, b, lr = 1.0, 7.0, 2.0, 3.0, 0.1
    loss, (dw, db) = value_and_grad(lambda w, b: (w * x + b - y) ** 2, argnums=(0, 1))(w, b)
    residual = w * x + b - y  # closed form: dL/dw = 2 r x, dL/db = 2 r
    assert (loss, dw, db) == (residual**2, 2 * residual * x, 2 * residual)
    assert (loss, dw, db) == (4.0, -4.0, -4.0)
    assert (w - lr * dw, b - lr * db) == pytest.approx((2.4, 3.4))


def test_grad_matches_closed_form_of_quadratic(rng):
    A, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    g = grad(lambda x: x @ A @ x)(x)
    np.testing.assert_allclose(g, (A + A.T) @ x, rtol=1e-12)


def test_grad_keeps_the_type_dtype_and_shape_of_each_input():
    assert isinstance(grad(lambda x: x**3)(2.0), float)
    assert grad(lambda x: x**3)(2.0) == 12.0
    g32 = grad(lambda x: anp.sum(x**2))(np.ones(3, np.float32))
    assert g32.dtype == np.float32 and g32.shape == (3,)
    g = grad(lambda x: anp.sum(x * 0.0) + 1.0)(np.ones((2, 3)))
    assert g.shape == (2, 3) and g.flags.writeable and not g.any()


def test_argnums_tuple_and_kwargs_passthrough(rng):
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    ga, gb = grad(lambda a, b, scale: scale * anp.sum(a * b), argnums=(0, 1))(a, b, scale=2.0)
    np.testing.assert_allclose(ga, 2 * b)
    np.testing.assert_allclose(gb, 2 * a)
    np.testing.assert_allclose(grad(lambda a, b: anp.sum(a * b), argnums=-1)(a, b), a)


def test_grad_of_a_pytree_has_the_same_structure(rng):
    params = {"W": rng.standard_normal((2, 3)), "layers": [rng.standard_normal(2), (1.5,)]}
    x = rng.standard_normal(3)

    def f(p):
        return anp.sum(anp.tanh(p["W"] @ x) * p["layers"][0]) * p["layers"][1][0]

    g = grad(f)(params)
    assert set(g) == {"W", "layers"} and isinstance(g["layers"], list)
    assert isinstance(g["layers"][1], tuple) and isinstance(g["layers"][1][0], float)
    t = np.tanh(params["W"] @ x)
    s, c = params["layers"][1][0], params["layers"][0]
    np.testing.assert_allclose(g["layers"][0], s * t)
    np.testing.assert_allclose(g["W"], np.outer(s * c * (1 - t**2), x))
    assert g["layers"][1][0] == pytest.approx(np.sum(t * c))


def test_vjp_returns_one_cotangent_per_primal_and_can_be_reused(rng):
    A = rng.standard_normal((3, 4))
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    out, vjp_fn = vjp(lambda x, y: A @ x * y, x, y)
    np.testing.assert_allclose(out, A @ x * y)
    for _ in range(2):  # a second sweep must not see adjoints left by the first
        u = rng.standard_normal(3)
        gx, gy = vjp_fn(u)
        np.testing.assert_allclose(gx, A.T @ (u * y))
        np.testing.assert_allclose(gy, u * (A @ x))


def test_vjp_and_jvp_with_pytree_outputs(rng):
    x = rng.standard_normal(3)
    out, vjp_fn = vjp(lambda x: {"sq": x**2, "pair": (anp.sum(x), 2.0)}, x)
    assert out["pair"][1] == 2.0
    (g,) = vjp_fn({"sq": np.ones(3), "pair": (1.0, 5.0)})
    np.testing.assert_allclose(g, 2 * x + 1)
    _, tangent = jvp(lambda x: {"sq": x**2, "c": 1.0}, (x,), (np.ones(3),))
    np.testing.assert_allclose(tangent["sq"], 2 * x)
    assert tangent["c"] == 0.0


def test_jacobians_have_jax_layout_and_match_finite_differences(rng):
    x = rng.standard_normal((2, 3))
    W = rng.standard_normal((4, 3))

    def f(x):
        return anp.tanh(x @ W.T)  # (2, 4)

    expected = numerical_jacobian(lambda v: f(v.reshape(2, 3)), x.ravel()).reshape(2, 4, 2, 3)
    for jacobian in (jacfwd, jacrev):
        J = jacobian(f)(x)
        assert J.shape == (2, 4, 2, 3)
        np.testing.assert_allclose(J, expected, atol=1e-8)


def test_jacobian_of_pytree_input_is_nested_like_output_then_input(rng):
    a, b = rng.standard_normal(2), rng.standard_normal(3)
    for jacobian in (jacfwd, jacrev):
        J = jacobian(lambda p: anp.concatenate([p[0] * 2.0, anp.sin(p[1])]))((a, b))
        assert isinstance(J, tuple) and J[0].shape == (5, 2) and J[1].shape == (5, 3)
        np.testing.assert_allclose(J[0], np.vstack([2 * np.eye(2), np.zeros((3, 2))]))
        np.testing.assert_allclose(J[1], np.vstack([np.zeros((2, 3)), np.diag(np.cos(b))]))


def test_hessian_and_hvp_of_quadratic_are_exact(rng):
    A, x, v = rng.standard_normal((5, 5)), rng.standard_normal(5), rng.standard_normal(5)
    f = lambda x: 0.5 * x @ A @ x + anp.sum(x)
    np.testing.assert_allclose(hessian(f)(x), (A + A.T) / 2, atol=1e-12)
    np.testing.assert_allclose(hvp(f, x, v), (A + A.T) / 2 @ v, atol=1e-12)


def test_all_second_order_compositions_agree(rng):
    x = rng.standard_normal(4)
    f = lambda x: anp.sum(anp.sin(x) * anp.exp(x[::-1]) * x[0])
    H = hessian(f)(x)
    np.testing.assert_allclose(jacfwd(jacfwd(f))(x), H, atol=1e-12)
    np.testing.assert_allclose(jacrev(jacrev(f))(x), H, atol=1e-12)
    np.testing.assert_allclose(jacrev(jacfwd(f))(x), H, atol=1e-12)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def test_derivatives_nest_to_third_and_fourth_order():
    x = 0.7
    assert grad(grad(grad(anp.sin)))(x) == pytest.approx(-np.cos(x), rel=1e-14)
    assert grad(grad(grad(grad(anp.sin))))(x) == pytest.approx(np.sin(x), rel=1e-14)
    third = jvp(grad(grad(lambda x: x**5)), (x,), (1.0,))[1]
    assert third == pytest.approx(60 * x**2, rel=1e-14)


@pytest.mark.parametrize("outer", ["grad", "jvp"])
@pytest.mark.parametrize("inner", ["grad", "jvp"])
def test_no_perturbation_confusion(outer, inner):
    """d/dx [x * d/dy (x + y)] = 1: the inner derivative must treat x as a constant."""

    def inner_derivative(x):
        if inner == "grad":
            return grad(lambda y: x + y)(1.0)
        return jvp(lambda y: x + y, (1.0,), (1.0,))[1]

    f = lambda x: x * inner_derivative(x)
    result = grad(f)(2.0) if outer == "grad" else jvp(f, (2.0,), (1.0,))[1]
    assert result == 1.0


def test_inner_derivative_that_depends_on_the_outer_variable():
    """d/dx [d/dy (x y^2)] at y=3 is 2y = 6, and the inner derivative is 2 x y."""
    inner = lambda x: grad(lambda y: x * y**2)(3.0)
    assert inner(2.0) == 12.0
    assert grad(inner)(2.0) == 6.0
    assert jvp(inner, (2.0,), (1.0,))[1] == 6.0


def test_adjoint_identity_between_modes(rng):
    """<u, J v> from forward mode equals <u^T J, v> from reverse mode, for random u, v."""
    W = rng.standard_normal((3, 4))
    f = lambda x: anp.logsumexp(W * x, axis=1) * anp.max(x)
    x, v, u = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(3)
    _, Jv = jvp(f, (x,), (v,))
    (uJ,) = vjp(f, x)[1](u)
    assert np.dot(u, Jv) == pytest.approx(np.dot(uJ, v), rel=1e-12)
