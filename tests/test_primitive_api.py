"""The public primitive API (``autodiff_kit.primitives``) and the primitives registered with it.

A user-defined primitive must behave like the kit's own: ``grad`` and ``jvp`` give its rules,
and because the rules are written with ``autodiff_kit.numpy`` its derivatives nest
(``grad(grad)``, ``jacfwd(grad)``). Every check is against a closed form, against finite
differences, or against autograd (an independent implementation). The references of
``06_primitives`` (``examples.softplus``, ``examples.l2_norm``, ``testing.adjoint_test``) are
tested the same way, at the inputs where home-made versions break: $|x| = 10^4$, $x = 0$.
"""

import numpy as np
import pytest

import autodiff_kit
import autodiff_kit.numpy as anp
from autodiff_kit import examples, grad, hessian, jacfwd, jacrev, jvp, tracing, vjp
from autodiff_kit.examples import l2_norm, softplus
from autodiff_kit.primitives import defjvp, defvjp, primitive
from autodiff_kit.testing import adjoint_test, check_grads, numerical_grad, numerical_jacobian

autograd = pytest.importorskip("autograd")
agnp = pytest.importorskip("autograd.numpy")
from autograd.extend import defvjp as ag_defvjp  # noqa: E402
from autograd.extend import primitive as ag_primitive  # noqa: E402

# --- a primitive defined the way a user defines one --------------------------------------


@primitive
def logcosh(x):
    """$\\log\\cosh x = |x| + \\log(1 + e^{-2|x|}) - \\log 2$, which never overflows."""
    return np.abs(x) + np.log1p(np.exp(-2.0 * np.abs(x))) - np.log(2.0)


defvjp(logcosh, lambda g, ans, x: g * anp.tanh(x))
defjvp(logcosh, lambda t, ans, x: t * anp.tanh(x))


@primitive
def hypot(x, y):
    """$\\sqrt{x^2 + y^2}$ elementwise, one rule per argument, each reusing the output."""
    return np.sqrt(x**2 + y**2)


defvjp(hypot, lambda g, ans, x, y: g * x / ans, lambda g, ans, x, y: g * y / ans)
defjvp(hypot, lambda t, ans, x, y: t * x / ans, lambda t, ans, x, y: t * y / ans)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def test_the_api_is_public_and_is_the_engine_s_own():
    assert autodiff_kit.primitive is primitive is tracing.primitive
    assert autodiff_kit.defvjp is defvjp is tracing.defvjp
    assert autodiff_kit.defjvp is defjvp is tracing.defjvp
    assert {"primitive", "defvjp", "defjvp", "primitives"} <= set(autodiff_kit.__all__)
    assert "defvjp" in autodiff_kit.primitives.__doc__ and ">>>" in autodiff_kit.primitives.__doc__


def test_a_primitive_outside_any_derivative_is_its_implementation():
    x = np.array([-800.0, -1.0, 0.0, 2.0, 800.0])
    np.testing.assert_allclose(logcosh(x), np.abs(x) - np.log(2.0) + np.log1p(np.exp(-2 * np.abs(x))))
    assert np.isfinite(logcosh(x)).all() and logcosh.impl is not logcosh


def test_user_primitive_grad_and_jvp_against_closed_forms_and_finite_differences():
    rng = np.random.default_rng(0)
    x, w, t = rng.uniform(-3, 3, 6), rng.standard_normal(6), rng.standard_normal(6)
    f = lambda x: anp.sum(w * logcosh(x))
    np.testing.assert_allclose(grad(f)(x), w * np.tanh(x), rtol=1e-12)
    np.testing.assert_allclose(grad(f)(x), numerical_grad(f, x), rtol=1e-6, atol=1e-8)
    out, tangent = jvp(logcosh, (x,), (t,))
    np.testing.assert_allclose(out, np.log(np.cosh(x)), rtol=1e-12)
    np.testing.assert_allclose(tangent, t * np.tanh(x), rtol=1e-12)
    np.testing.assert_allclose(jacfwd(logcosh)(x), numerical_jacobian(logcosh, x), atol=1e-8)


def test_user_primitive_derivatives_nest_in_every_order():
    rng = np.random.default_rng(1)
    x, w, v = rng.uniform(-3, 3, 5), rng.standard_normal(5), rng.standard_normal(5)
    f = lambda x: anp.sum(w * logcosh(x))
    second = np.diag(w * (1.0 - np.tanh(x) ** 2))
    np.testing.assert_allclose(jacfwd(grad(f))(x), second, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(jacrev(grad(f))(x), second, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad(lambda y: anp.dot(grad(f)(y), v))(x), second @ v, rtol=1e-12)
    np.testing.assert_allclose(jacfwd(grad(f))(x), numerical_jacobian(grad(f), x), rtol=1e-6, atol=1e-8)
    # third order, scalar: d^3/dx^3 log cosh x = -2 tanh x (1 - tanh^2 x)
    for x0 in (-1.3, 0.2, 2.0):
        np.testing.assert_allclose(grad(grad(grad(logcosh)))(x0), -2 * np.tanh(x0) * (1 - np.tanh(x0) ** 2))
    check_grads(f, (x,), order=2, rng=rng)


def test_rules_per_argument_and_jvp_contributions_summed():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0.5, 2, 4), rng.uniform(-2, -0.5, 4)
    tx, ty, g = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)
    r = np.hypot(x, y)
    out, vjp_fn = vjp(hypot, x, y)
    gx, gy = vjp_fn(g)
    np.testing.assert_allclose(out, r)
    np.testing.assert_allclose(gx, g * x / r)
    np.testing.assert_allclose(gy, g * y / r)
    np.testing.assert_allclose(jvp(hypot, (x, y), (tx, ty))[1], (x * tx + y * ty) / r)
    np.testing.assert_allclose(jvp(lambda x: hypot(x, y), (x,), (tx,))[1], x * tx / r)  # y a constant
    check_grads(lambda x, y: anp.sum(hypot(x, y) ** 2), (x, y), order=2, rng=rng)


def test_a_missing_rule_is_refused_where_it_is_needed():
    @primitive
    def twice(x):
        return 2.0 * x

    with pytest.raises(TypeError, match="not differentiable"):
        grad(lambda x: anp.sum(twice(x)))(np.ones(2))
    with pytest.raises(TypeError, match="no forward-mode"):
        jvp(twice, (np.ones(2),), (np.ones(2),))


def test_a_rule_written_with_plain_numpy_fails_only_at_the_second_derivative():
    @primitive
    def cube(x):
        return x**3

    defvjp(cube, lambda g, ans, x: g * 3.0 * np.square(x))
    assert grad(cube)(2.0) == 12.0
    with pytest.raises(TypeError, match=r"np\.square was called on a traced value"):
        grad(grad(cube))(2.0)


def test_user_primitive_against_autograd():
    @ag_primitive
    def ag_logcosh(x):
        return np.abs(x) + np.log1p(np.exp(-2.0 * np.abs(x))) - np.log(2.0)

    ag_defvjp(ag_logcosh, lambda ans, x: lambda g: g * agnp.tanh(x))
    rng = np.random.default_rng(3)
    A, x = rng.standard_normal((4, 3)), rng.standard_normal(3)
    ours = lambda x: anp.sum(logcosh(anp.dot(A, x)) * hypot(x[0], 1.5))
    theirs = lambda x: agnp.sum(ag_logcosh(agnp.dot(A, x)) * agnp.sqrt(x[0] ** 2 + 1.5**2))
    np.testing.assert_allclose(grad(ours)(x), autograd.grad(theirs)(x), rtol=1e-10)
    np.testing.assert_allclose(hessian(ours)(x), autograd.hessian(theirs)(x), rtol=1e-10, atol=1e-12)


# --- examples.softplus -------------------------------------------------------------------


def test_softplus_is_a_registered_primitive():
    assert callable(softplus.impl) and len(softplus.vjps) == 1 and callable(softplus.vjps[0])
    assert callable(softplus.jvp)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e3, 1e4])
def test_softplus_values_are_exact_and_finite(scale):
    x = np.random.default_rng(4).uniform(-1, 1, 50) * scale
    x = np.concatenate([x, [-scale, 0.0, scale]])
    got = softplus(x)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, np.logaddexp(0.0, x), rtol=1e-15, atol=0)


def test_softplus_at_the_extremes():
    assert softplus(np.array([1e4, -1e4, 0.0])).tolist() == [1e4, 0.0, np.log(2.0)]
    assert softplus(np.array([-40.0]))[0] == pytest.approx(np.exp(-40.0), rel=1e-15)  # log1p keeps it
    np.testing.assert_array_equal(grad(lambda x: anp.sum(softplus(x)))(np.array([-1e4, 1e4])), [0.0, 1.0])


def test_softplus_grad_and_jvp_against_closed_forms_and_finite_differences():
    rng = np.random.default_rng(5)
    x, w, t = rng.uniform(-8, 8, 7), rng.standard_normal(7), rng.standard_normal(7)
    f = lambda x: anp.sum(w * softplus(x))
    np.testing.assert_allclose(grad(f)(x), w * sigmoid(x), rtol=1e-13)
    np.testing.assert_allclose(grad(f)(x), numerical_grad(f, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jvp(softplus, (x,), (t,))[1], t * sigmoid(x), rtol=1e-13)
    np.testing.assert_allclose(vjp(softplus, x)[1](w)[0], w * sigmoid(x), rtol=1e-13)


def test_softplus_second_derivatives_nest():
    rng = np.random.default_rng(6)
    x, w, v = rng.uniform(-6, 6, 5), rng.standard_normal(5), rng.standard_normal(5)
    f = lambda x: anp.sum(w * softplus(x))
    s = sigmoid(x)
    second = np.diag(w * s * (1 - s))
    np.testing.assert_allclose(jacfwd(grad(f))(x), second, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad(lambda y: anp.dot(grad(f)(y), v))(x), second @ v, rtol=1e-12)
    np.testing.assert_allclose(hessian(f)(x), numerical_jacobian(grad(f), x), rtol=1e-6, atol=1e-8)
    for x0 in (-2.0, 0.0, 3.0):
        s0 = sigmoid(x0)
        np.testing.assert_allclose(grad(grad(softplus))(x0), s0 * (1 - s0), rtol=1e-13)
        np.testing.assert_allclose(grad(grad(grad(softplus)))(x0), s0 * (1 - s0) * (1 - 2 * s0), atol=1e-15)
    check_grads(f, (x,), order=2, rng=rng)


def test_softplus_against_autograd():
    rng = np.random.default_rng(7)
    A, x = rng.standard_normal((6, 4)) * 3, rng.standard_normal(4)
    ours = lambda x: anp.sum(softplus(anp.dot(A, x)) ** 2)
    theirs = lambda x: agnp.sum(agnp.logaddexp(0.0, agnp.dot(A, x)) ** 2)
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-14)
    np.testing.assert_allclose(grad(ours)(x), autograd.grad(theirs)(x), rtol=1e-12)
    np.testing.assert_allclose(hessian(ours)(x), autograd.hessian(theirs)(x), rtol=1e-11, atol=1e-12)


# --- examples.l2_norm --------------------------------------------------------------------


def test_l2_norm_values_and_gradient():
    rng = np.random.default_rng(8)
    for n in (1, 2, 5):
        x, g, t = rng.standard_normal(n), rng.standard_normal(), rng.standard_normal(n)
        r = np.sqrt(np.sum(x**2))
        np.testing.assert_allclose(l2_norm(x), r, rtol=1e-15)
        np.testing.assert_allclose(vjp(l2_norm, x)[1](g)[0], g * x / r, rtol=1e-14)
        np.testing.assert_allclose(grad(l2_norm)(x), numerical_grad(l2_norm, x), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(jvp(l2_norm, (x,), (t,))[1], x @ t / r, rtol=1e-13)
    assert l2_norm(np.array([3.0, 4.0])) == 5.0


def test_l2_norm_vjp_reuses_the_output():
    x, g = np.array([3.0, 4.0]), 2.0
    np.testing.assert_allclose(l2_norm.vjps[0](g, 5.0, x), g * x / 5.0)
    np.testing.assert_allclose(l2_norm.vjps[0](g, 10.0, x), g * x / 10.0)  # ans, not a new norm
    np.testing.assert_allclose(l2_norm.jvp([np.ones(2)], 10.0, x), 7.0 / 10.0)


def test_l2_norm_subgradient_at_zero_is_zero_not_nan():
    for n in (1, 3):
        zero = np.zeros(n)
        np.testing.assert_array_equal(vjp(l2_norm, zero)[1](1.7)[0], np.zeros(n))
        np.testing.assert_array_equal(grad(l2_norm)(zero), np.zeros(n))
        assert jvp(l2_norm, (zero,), (np.ones(n),))[1] == 0.0


def test_l2_norm_second_derivatives_nest():
    rng = np.random.default_rng(9)
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    r = np.linalg.norm(x)
    second = (np.eye(4) - np.outer(x, x) / r**2) / r
    np.testing.assert_allclose(jacfwd(grad(l2_norm))(x), second, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad(lambda y: anp.dot(grad(l2_norm)(y), v))(x), second @ v, rtol=1e-12)
    check_grads(l2_norm, (x,), order=2, rng=rng)


def test_l2_norm_against_autograd():
    rng = np.random.default_rng(10)
    A, x = rng.standard_normal((5, 3)), rng.standard_normal(3)
    ours = lambda x: l2_norm(anp.tanh(anp.dot(A, x))) * x[1]
    theirs = lambda x: agnp.sqrt(agnp.sum(agnp.tanh(agnp.dot(A, x)) ** 2)) * x[1]
    np.testing.assert_allclose(grad(ours)(x), autograd.grad(theirs)(x), rtol=1e-12)
    np.testing.assert_allclose(hessian(ours)(x), autograd.hessian(theirs)(x), rtol=1e-10, atol=1e-12)


# --- testing.adjoint_test ----------------------------------------------------------------


class Counted:
    """A linear map's product, counting its calls."""

    def __init__(self, product):
        self.product, self.calls = product, 0

    def __call__(self, vector):
        self.calls += 1
        return self.product(vector)


def by_the_definition(J, K, n, m, seed, u_first=False):
    """The spec's formula written out: $v$ drawn first, then $u$ (or u first); ``vjp`` is $u^T K$."""
    rng = np.random.default_rng(seed)
    if u_first:
        u = rng.standard_normal(m)
        v = rng.standard_normal(n)
    else:
        v = rng.standard_normal(n)
        u = rng.standard_normal(m)
    Jv, uK = J @ v, u @ K
    norm = np.linalg.norm
    return abs(u @ Jv - uK @ v) / (norm(u) * norm(Jv) + norm(uK) * norm(v))


@pytest.mark.parametrize("seed", range(4))
def test_adjoint_test_is_tiny_for_a_consistent_pair_and_calls_each_once(seed):
    rng = np.random.default_rng(seed)
    n, m = (int(k) for k in rng.integers(1, 8, 2))
    J = rng.standard_normal((m, n))
    jvp_fn, vjp_fn = Counted(lambda v: J @ v), Counted(lambda u: u @ J)
    value = adjoint_test(jvp_fn, vjp_fn, n, m, np.random.default_rng(seed))
    assert isinstance(value, float) and 0.0 <= value < 1e-14
    assert jvp_fn.calls == vjp_fn.calls == 1


@pytest.mark.parametrize("seed", range(4))
def test_adjoint_test_is_the_definition_and_of_order_one_for_a_wrong_vjp(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = 3, 5
    J = rng.standard_normal((m, n))
    K = J + rng.standard_normal((m, n))
    value = adjoint_test(lambda v: J @ v, lambda u: u @ K, n, m, np.random.default_rng(seed))
    assert value == pytest.approx(by_the_definition(J, K, n, m, seed), rel=1e-12)
    assert value > 1e-3
    assert value != pytest.approx(by_the_definition(J, K, n, m, seed, u_first=True), rel=1e-6)  # v first


def test_adjoint_test_passes_the_kit_s_own_rules_and_catches_a_broken_one():
    x = np.random.default_rng(11).uniform(-3, 3, 4)
    jvp_fn = lambda v: jvp(softplus, (x,), (v,))[1]
    vjp_fn = lambda u: vjp(softplus, x)[1](u)[0]
    assert adjoint_test(jvp_fn, vjp_fn, 4, 4, np.random.default_rng(0)) < 1e-15
    ones = lambda u: vjp(softplus, x)[1](np.ones(4))[0]  # the cotangent forgotten
    assert adjoint_test(jvp_fn, ones, 4, 4, np.random.default_rng(0)) > 1e-2
    jvp_norm = lambda v: np.atleast_1d(jvp(l2_norm, (x,), (v,))[1])
    vjp_norm = lambda u: vjp(l2_norm, x)[1](u[0])[0]
    assert adjoint_test(jvp_norm, vjp_norm, 4, 1, np.random.default_rng(0)) < 1e-15


def test_adjoint_test_of_the_zero_map_is_zero():
    assert adjoint_test(lambda v: np.zeros(2), lambda u: np.zeros(3), 3, 2, np.random.default_rng(0)) == 0.0


def test_examples_are_exported_where_the_course_expects_them():
    assert examples.softplus is softplus and examples.l2_norm is l2_norm
    from autodiff_kit import testing

    assert testing.adjoint_test is adjoint_test
