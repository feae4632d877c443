"""``stop_gradient``, ``custom_jvp`` and ``custom_vjp`` (``autodiff_kit.custom``).

Checked the way every primitive is (``test_primitives``): hypothesis draws shapes and values, and
``check_grads`` compares the modes a function supports with central differences to second order
(forward and reverse over each other), then every cotangent's shape is checked; autograd, an
independent implementation, gives the same values and derivatives far beyond where differences
are usable. Then what is particular to derivatives that are told rather than worked out: the
rule is used even where it is not the true derivative, at every level of nesting; ``f`` never
sees a tracer; ``forward`` runs once; and each mistake is met with a sentence.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import REALS, away_from_zero, broadcast_shapes, seeds, shapes, within

import autodiff_kit
import autodiff_kit.numpy as anp
from autodiff_kit import custom, grad, hessian, hvp, jacfwd, jacrev, jvp, vjp
from autodiff_kit.custom import custom_jvp, custom_vjp, stop_gradient
from autodiff_kit.reverse import Node
from autodiff_kit.testing import check_grads, numerical_grad

autograd = pytest.importorskip("autograd")
agnp = pytest.importorskip("autograd.numpy")

SETTINGS = settings(max_examples=25, deadline=None)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def assert_derivatives(data: st.DataObject, f, args: tuple, modes: tuple[str, ...]) -> None:
    """``modes`` to order 2 against central differences, then each cotangent's shape."""
    rng = np.random.default_rng(data.draw(seeds, label="direction seed"))
    check_grads(f, args, modes=modes, order=2, rng=rng)
    out, vjp_fn = vjp(f, *args)
    cotangents = vjp_fn(rng.standard_normal(np.shape(out)))
    for i, (cotangent, x) in enumerate(zip(cotangents, args, strict=True)):
        assert np.shape(cotangent) == np.shape(x), f"cotangent {i}: {np.shape(cotangent)}, x {np.shape(x)}"


# --- the functions under test ---------------------------------------------------------------


@custom_jvp
def log1pexp(x):
    """$\\log(1 + e^x)$, finite for any $x$: NumPy's ``logaddexp``, which no trace ever sees."""
    return np.logaddexp(0.0, x)


# d/dx log(1 + e^x) = sigmoid(x) = e^(x - log(1 + e^x)): the exponent is <= 0, never overflows
log1pexp.defjvp(lambda tangents, ans, x: tangents[0] * anp.exp(x - ans))


@custom_vjp
def log1pexp_saved(x):
    """The same function, with reverse-mode rules that save the sigmoid for the backward sweep."""
    return np.logaddexp(0.0, x)


def log1pexp_forward(x):
    out = log1pexp_saved(x)  # itself: an outer derivative sees its rule again
    return out, anp.exp(x - out)


log1pexp_saved.defvjp(log1pexp_forward, lambda g, slope: (g * slope,))


@custom_jvp
def hypot(x, y):
    """$\\sqrt{x^2 + y^2}$ with broadcasting; one rule for both arguments."""
    return np.hypot(x, y)


hypot.defjvp(lambda tangents, ans, x, y: (x * tangents[0] + y * tangents[1]) / ans)


@custom_vjp
def clip_gradient(x, bound=1.0):
    """$x$ itself; reverse mode clips the cotangent that flows back through it to $[-b, b]$."""
    return x


clip_gradient.defvjp(lambda x, bound=1.0: (x, bound), lambda g, bound: (anp.clip(g, -bound, bound),))


def ag_log1pexp(x):
    return agnp.logaddexp(0.0, x)


# --- stop_gradient ------------------------------------------------------------------------


def test_the_public_names():
    assert autodiff_kit.stop_gradient is custom.stop_gradient
    assert autodiff_kit.custom_jvp is custom.custom_jvp and autodiff_kit.custom_vjp is custom.custom_vjp
    assert {"custom", "custom_jvp", "custom_vjp", "stop_gradient"} <= set(autodiff_kit.__all__)


def test_stop_gradient_is_the_value_with_derivative_zero_in_both_modes():
    x, t = np.array([1.0, -2.0, 3.0]), np.array([0.5, 1.0, -1.0])
    assert stop_gradient(x) is x
    np.testing.assert_array_equal(grad(lambda x: anp.sum(anp.sin(stop_gradient(x))))(x), np.zeros(3))
    out, tangent = jvp(lambda x: 2.0 * stop_gradient(x), (x,), (t,))
    np.testing.assert_array_equal(out, 2.0 * x)
    np.testing.assert_array_equal(tangent, np.zeros(3))
    np.testing.assert_allclose(grad(lambda x: anp.sum(x * stop_gradient(x)))(x), x)  # not 2 x


def test_stop_gradient_on_a_pytree():
    def loss(params):
        held = stop_gradient(params)
        return anp.sum(params["W"] * held["W"]) + params["b"][0] * held["b"][1]

    params = {"W": np.array([[1.0, 2.0]]), "b": (3.0, 4.0)}
    g = grad(loss)(params)
    np.testing.assert_allclose(g["W"], params["W"])
    assert g["b"] == (4.0, 0.0)


@SETTINGS
@given(data=st.data())
def test_stop_gradient_makes_a_total_derivative_a_partial_one(data):
    """$\\frac{d}{dx} h(x, \\operatorname{sg}(x)) = \\partial_1 h(x, x)$, to second order and in both
    nestings: the held copy is a constant for every derivative."""
    x = data.draw(REALS(data.draw(shapes, label="shape")), label="x")
    h = lambda a, b: anp.sum(anp.sin(a) * b + a * b**2)
    f = lambda x: h(x, stop_gradient(x))
    np.testing.assert_allclose(grad(f)(x), grad(h, 0)(x, x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad(f)(x), numerical_grad(lambda a: h(a, x), x), rtol=1e-5, atol=1e-6)
    second = hessian(h, 0)(x, x)
    np.testing.assert_allclose(hessian(f)(x), second, rtol=1e-12, atol=1e-14)  # forward over reverse
    np.testing.assert_allclose(jacrev(jacrev(f))(x), second, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jacrev(jacfwd(f))(x), second, rtol=1e-12, atol=1e-14)


def test_stop_gradient_is_a_constant_for_each_nested_derivative():
    f = lambda x: x * stop_gradient(x)
    assert grad(f)(3.0) == 3.0
    assert grad(grad(f))(3.0) == 0.0  # the inner gradient, sg(x), is a constant for the outer one too
    assert jvp(grad(f), (3.0,), (1.0,)) == (3.0, 0.0)  # forward over reverse
    # d/dy [x y sg(y)] = x sg(y), then d/dx at y = x: sg(x) = 2 (without sg: d/dx 2 x^2 = 8)
    assert grad(lambda x: grad(lambda y: x * y * stop_gradient(y))(x))(2.0) == 2.0
    # held inside the inner function, a value made of the outer variable is held for the outer too
    assert grad(lambda x: grad(lambda y: y * stop_gradient(x * y))(x))(2.0) == 0.0


def test_stop_gradient_inside_a_hessian():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(hessian(lambda x: anp.sum(x**2 * stop_gradient(x)))(x), np.diag(2.0 * x))
    np.testing.assert_allclose(hessian(lambda x: anp.sum(x**3))(x), np.diag(6.0 * x))  # the total one


def test_the_straight_through_estimator_two_ways():
    """Round forward, pass the gradient through unchanged: with stop_gradient, and with a custom JVP."""

    @custom_jvp
    def round_straight_through(x):
        return np.round(x)

    round_straight_through.defjvp(lambda tangents, ans, x: tangents[0])
    with_stop = lambda x: x + stop_gradient(anp.round(x) - x)
    x, w = np.array([0.2, 1.7, -2.6]), np.array([1.0, -2.0, 3.0])
    for rounded in (with_stop, round_straight_through):
        np.testing.assert_array_equal(rounded(x), [0.0, 2.0, -3.0])
        np.testing.assert_allclose(grad(lambda x, r=rounded: anp.sum(w * r(x)))(x), w)  # true derivative: 0
        np.testing.assert_allclose(jvp(rounded, (x,), (w,))[1], w)


# --- custom_jvp ---------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_custom_jvp_against_finite_differences(data):
    """Forward mode by the rule, reverse mode by its transpose, both over each other."""
    x = data.draw(within(-30.0, 30.0)(data.draw(shapes, label="shape")), label="x")
    assert_derivatives(data, log1pexp, (x,), ("fwd", "rev"))


@SETTINGS
@given(data=st.data())
def test_custom_jvp_of_two_broadcast_arguments_against_finite_differences(data):
    """The transpose sums a cotangent over broadcast axes by itself: the rule never mentions them."""
    x_shape, y_shape = data.draw(broadcast_shapes(2), label="shapes")
    x = data.draw(away_from_zero()(x_shape), label="x")
    y = data.draw(away_from_zero()(y_shape), label="y")
    assert_derivatives(data, hypot, (x, y), ("fwd", "rev"))


@SETTINGS
@given(x=within(-1e3, 1e3)(st.integers(1, 5).map(lambda n: (n,))))
def test_custom_jvp_against_autograd(x):
    """Values, gradients and Hessians agree with autograd's logaddexp, where e^x overflows too."""
    ours, theirs = lambda x: anp.sum(log1pexp(x)), lambda x: agnp.sum(ag_log1pexp(x))
    np.testing.assert_allclose(log1pexp(x), ag_log1pexp(x), rtol=1e-14)
    np.testing.assert_allclose(grad(ours)(x), autograd.grad(theirs)(x), rtol=1e-12, atol=1e-300)
    # The second derivative is sigma (1 - sigma): both sides compute 1 - sigma with an absolute error
    # of about one ulp of 1, so far out in the tails only an absolute tolerance is meaningful.
    expected = autograd.hessian(theirs)(x)
    np.testing.assert_allclose(hessian(ours)(x), expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(jacrev(jacrev(ours))(x), expected, rtol=1e-10, atol=1e-14)


def test_custom_jvp_two_arguments_against_autograd():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0.5, 2.0, (2, 3)), rng.uniform(-2.0, -0.5, 3)
    ours = lambda x, y: anp.sum(anp.sin(hypot(x, y)) * x)
    theirs = lambda x, y: agnp.sum(agnp.sin(agnp.sqrt(x**2 + y**2)) * x)
    for argnum in (0, 1):
        np.testing.assert_allclose(grad(ours, argnum)(x, y), autograd.grad(theirs, argnum)(x, y), rtol=1e-12)
    np.testing.assert_allclose(hessian(ours, 1)(x, y), autograd.hessian(theirs, 1)(x, y), rtol=1e-10)


def test_custom_jvp_is_finite_and_exact_where_the_composite_overflows():
    far = np.array([-1e4, 1e4])
    np.testing.assert_array_equal(log1pexp(far), [0.0, 1e4])
    np.testing.assert_array_equal(grad(lambda x: anp.sum(log1pexp(x)))(far), [0.0, 1.0])
    np.testing.assert_array_equal(jvp(log1pexp, (far,), (np.ones(2),))[1], [0.0, 1.0])
    np.testing.assert_array_equal(np.diag(hessian(lambda x: anp.sum(log1pexp(x)))(far)), [0.0, 0.0])


def test_custom_jvp_third_derivatives_in_any_nesting():
    """$\\sigma''(x) = \\sigma (1 - \\sigma)(1 - 2\\sigma)$, reverse over reverse over reverse and mixed."""
    x0 = 0.7
    s = sigmoid(x0)
    third = s * (1 - s) * (1 - 2 * s)
    np.testing.assert_allclose(grad(grad(grad(log1pexp)))(x0), third, rtol=1e-12)
    np.testing.assert_allclose(jvp(grad(grad(log1pexp)), (x0,), (1.0,))[1], third, rtol=1e-12)
    np.testing.assert_allclose(grad(lambda x: jvp(grad(log1pexp), (x,), (1.0,))[1])(x0), third, rtol=1e-12)


def test_the_rule_is_the_derivative_at_every_level_even_when_it_is_not_the_true_one():
    """$f(x) = x^3$ told that its derivative is $2x$: first derivatives give $2x$, second ones 2."""

    @custom_jvp
    def cube(x):
        return x**3

    cube.defjvp(lambda tangents, ans, x: 2.0 * x * tangents[0])
    x, v = np.array([1.0, -2.0]), np.array([1.0, 3.0])
    f = lambda x: anp.sum(cube(x))
    np.testing.assert_allclose(grad(f)(x), 2.0 * x)
    np.testing.assert_allclose(jvp(cube, (x,), (v,))[1], 2.0 * x * v)
    np.testing.assert_allclose(hessian(f)(x), 2.0 * np.eye(2))
    np.testing.assert_allclose(hvp(f, x, v, mode="rev_over_rev"), 2.0 * v)


def test_f_runs_on_plain_arrays_only():
    seen = []

    @custom_jvp
    def softsign(x):
        seen.append(type(x))
        return x / (1.0 + np.abs(x))

    softsign.defjvp(lambda tangents, ans, x: tangents[0] / (1.0 + anp.abs(x)) ** 2)
    x = np.array([0.5, -2.0])
    grad(lambda x: anp.sum(softsign(x)))(x)
    jvp(softsign, (x,), (x,))
    hessian(lambda x: anp.sum(softsign(x)))(x)
    assert seen and set(seen) == {np.ndarray}


# --- custom_vjp ---------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_custom_vjp_against_finite_differences(data):
    """Reverse mode, and reverse over reverse, which differentiates the rules themselves."""
    x = data.draw(within(-30.0, 30.0)(data.draw(shapes, label="shape")), label="x")
    assert_derivatives(data, log1pexp_saved, (x,), ("rev",))


@SETTINGS
@given(x=within(-1e3, 1e3)(st.integers(1, 5).map(lambda n: (n,))))
def test_custom_vjp_against_autograd(x):
    ours, theirs = lambda x: anp.sum(log1pexp_saved(x)), lambda x: agnp.sum(ag_log1pexp(x))
    np.testing.assert_allclose(grad(ours)(x), autograd.grad(theirs)(x), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(jacrev(jacrev(ours))(x), autograd.hessian(theirs)(x), rtol=1e-10, atol=1e-300)
    x0 = float(x[0])  # the third derivative, -x/8 near 0, comes from a cancellation: an absolute tolerance
    np.testing.assert_allclose(grad(grad(grad(log1pexp_saved)))(x0),
                               autograd.grad(autograd.grad(autograd.grad(ag_log1pexp)))(x0),
                               rtol=1e-10, atol=1e-15)


@SETTINGS
@given(w=within(-5.0, 5.0)((4,)), bound=st.floats(0.1, 3.0))
def test_clip_gradient_uses_the_rule_not_the_true_derivative(w, bound):
    x = np.linspace(-1.0, 1.0, 4)
    loss = lambda x: anp.sum(w * clip_gradient(x, bound=bound))
    assert loss(x) == np.sum(w * x)  # the value is untouched
    np.testing.assert_allclose(grad(loss)(x), np.clip(w, -bound, bound))  # the true gradient is w
    # reverse over reverse: the rule does not depend on x, so the second derivative is 0
    np.testing.assert_array_equal(jacrev(grad(loss))(x), np.zeros((4, 4)))


def test_the_backward_rule_is_the_derivative_at_every_level():
    """$x^3$ told that its derivative is $2x$, saving $x$: reverse over reverse gives 2."""

    @custom_vjp
    def cube(x):
        return x**3

    cube.defvjp(lambda x: (x**3, x), lambda g, x: (2.0 * x * g,))
    x, v = np.array([1.0, -2.0]), np.array([1.0, 3.0])
    f = lambda x: anp.sum(cube(x))
    np.testing.assert_allclose(grad(f)(x), 2.0 * x)
    np.testing.assert_allclose(jacrev(grad(f))(x), 2.0 * np.eye(2))
    np.testing.assert_allclose(hvp(f, x, v, mode="rev_over_rev"), 2.0 * v)


def test_forward_runs_once_backward_once_per_cotangent_and_f_never_under_reverse_mode():
    calls = {"f": 0, "forward": 0, "backward": 0}

    @custom_vjp
    def scaled(x, y):
        calls["f"] += 1
        return x * y

    def forward(x, y):
        calls["forward"] += 1
        return x * y, (x, y)

    def backward(g, residuals):
        calls["backward"] += 1
        x, y = residuals
        return g * y, anp.sum_to(g * x, np.shape(y))  # y was broadcast: sum it back

    scaled.defvjp(forward, backward)
    x, y, g = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, -1.0]), np.array([[1.0, 0.5], [2.0, 3.0]])
    out, vjp_fn = vjp(scaled, x, y)
    gx, gy = vjp_fn(g)
    np.testing.assert_allclose(out, x * y)
    np.testing.assert_allclose(gx, g * y)
    np.testing.assert_allclose(gy, np.sum(g * x, axis=0))
    assert calls == {"f": 0, "forward": 1, "backward": 1}
    vjp_fn(2.0 * g)
    assert calls == {"f": 0, "forward": 1, "backward": 2}
    scaled(x, y)  # outside derivatives, f itself
    assert calls == {"f": 1, "forward": 1, "backward": 2}


def test_one_cotangent_object_at_two_levels_gets_each_level_s_own_cotangents():
    """The same array ``u`` seeds an inner and an outer sweep, both through one call's rule: the
    answer kept for the inner level (traced by the outer one) must not serve the outer level.

    $h(x) = \\operatorname{softplus}(x) + \\sigma(x) u$, so $h'(x) = \\sigma + \\sigma (1 - \\sigma) u$."""
    u = np.array(1.0)

    def h(x):
        out, pullback = vjp(log1pexp_saved, x)
        return out + pullback(u)[0]

    s = sigmoid(0.3)
    np.testing.assert_allclose(vjp(h, 0.3)[1](u)[0], s + s * (1 - s), rtol=1e-12)


# --- mistakes, each met with a sentence ---------------------------------------------------


def _vjp_function(backward, forward=lambda x: (2.0 * x, x)):
    @custom_vjp
    def double(x):
        return 2.0 * x

    double.defvjp(forward, backward)
    return double


def _jvp_function(rule):
    @custom_jvp
    def double(x):
        return 2.0 * x

    double.defjvp(rule)
    return double


def _grad_of_sum(f):
    return lambda x: grad(lambda x: anp.sum(f(x)))(x)


def _leaked_tracer():
    """A traced value of a derivative that has finished, as a global variable would keep it."""
    kept = []

    def f(x):
        kept.append(3.0 * x)
        return anp.sum(x)

    grad(f)(np.ones(3))
    assert isinstance(kept[0], Node) and not kept[0].trace.active
    return kept[0]


def test_backward_returning_the_wrong_number_of_cotangents():
    double = _vjp_function(lambda g, x: (2.0 * g, 0.0 * g))
    with pytest.raises(ValueError, match=r"backward rule returned 2 cotangents for 1 positional argument: "
                                         r"return one per argument"):
        _grad_of_sum(double)(np.ones(3))


def test_backward_returning_a_bare_array():
    double = _vjp_function(lambda g, x: 2.0 * g)
    with pytest.raises(TypeError, match=r"must return a tuple with one cotangent per positional argument: "
                                        r"\(g_x,\) for one argument"):
        _grad_of_sum(double)(np.ones(3))


def test_a_cotangent_of_the_wrong_shape():
    double = _vjp_function(lambda g, x: (anp.sum(2.0 * g),))
    with pytest.raises(ValueError, match=r"The cotangent of argument 0 from double's backward rule has shape "
                                         r"\(\), but it must have shape \(3,\), the shape of argument 0"):
        _grad_of_sum(double)(np.ones(3))


@pytest.mark.parametrize("transform", [
    lambda f, x: jvp(f, (x,), (x,)),
    lambda f, x: jacfwd(f)(x),
    lambda f, x: hessian(lambda x: anp.sum(f(x)))(x),
    lambda f, x: hvp(lambda x: anp.sum(f(x)), x, x),
], ids=["jvp", "jacfwd", "hessian", "hvp"])
def test_custom_vjp_in_forward_mode(transform):
    with pytest.raises(TypeError, match=r"log1pexp_saved has a backward rule \(custom_vjp\) but no JVP rule, "
                                        r"so forward mode .* write it as a JVP rule with custom_jvp"):
        transform(log1pexp_saved, np.array([0.5, 1.0]))


def test_a_rule_returning_a_tracer_of_a_finished_derivative():
    leaked = _leaked_tracer()
    with pytest.raises(RuntimeError, match=r"cotangent of argument 0 .* is a traced value of a derivative "
                                           r"that has already finished"):
        _grad_of_sum(_vjp_function(lambda g, x: (leaked,)))(np.ones(3))
    with pytest.raises(RuntimeError, match="output tangent of double's JVP rule is a traced value of a "
                                           "derivative that has already finished"):
        jvp(_jvp_function(lambda tangents, ans, x: leaked), (np.ones(3),), (np.ones(3),))


@pytest.mark.parametrize("make", [custom_jvp, custom_vjp], ids=["custom_jvp", "custom_vjp"])
def test_f_returning_no_float_array(make):
    pair = make(lambda x: (x, 2.0 * x))
    with pytest.raises(TypeError, match=r"<lambda> returned a tuple of 2, but a function with custom rules "
                                        r"returns one float array"):
        pair(np.ones(2))
    counts = make(lambda x: np.arange(3))
    with pytest.raises(TypeError, match=r"returned an array of dtype int64, but derivatives need a float"):
        counts(np.ones(2))


def test_forward_not_returning_a_pair():
    double = _vjp_function(lambda g, x: (2.0 * g,), forward=lambda x: 2.0 * x)
    with pytest.raises(TypeError, match=r"double's forward rule must return a pair \(output, residuals\), "
                                        r"but it returned a value of type ndarray"):
        _grad_of_sum(double)(np.ones(3))


def test_f_using_a_traced_value_it_did_not_receive():
    def loss(w):
        @custom_jvp
        def scale(x):
            return x * w  # w is traced by grad, and reaches f through the closure

        scale.defjvp(lambda tangents, ans, x: tangents[0] * w)
        return anp.sum(scale(np.ones(2)))

    with pytest.raises(TypeError, match=r"scale returned a traced value, .* Pass that value to scale as an "
                                        r"argument"):
        grad(loss)(2.0)


def test_a_jvp_rule_with_the_wrong_shape_or_no_result():
    summed = _jvp_function(lambda tangents, ans, x: anp.sum(tangents[0]))
    forward_mode, reverse_mode = lambda f: jvp(f, (np.ones(3),), (np.ones(3),)), _grad_of_sum
    for transform in (forward_mode, lambda f: reverse_mode(f)(np.ones(3))):
        with pytest.raises(ValueError, match=r"The output tangent of double's JVP rule has shape \(\), but "
                                             r"it must have shape \(3,\), the shape of the output"):
            transform(summed)
    forgot = _jvp_function(lambda tangents, ans, x: None)
    with pytest.raises(TypeError, match="output tangent of double's JVP rule is None: did the rule forget"):
        jvp(forgot, (np.ones(3),), (np.ones(3),))


def test_differentiating_before_the_rules_are_given():
    with pytest.raises(TypeError, match=r"custom_jvp function without a rule: give it one with "
                                        r"<lambda>\.defjvp\(rule\)"):
        grad(custom_jvp(lambda x: 2.0 * x))(1.0)
    with pytest.raises(TypeError, match=r"<lambda>\.defvjp\(forward, backward\) before differentiating"):
        grad(custom_vjp(lambda x: 2.0 * x))(1.0)
    assert custom_vjp(lambda x: 2.0 * x)(1.0) == 2.0  # outside derivatives, no rule is needed


def test_rules_that_are_not_functions():
    with pytest.raises(TypeError, match="backward must be a function, not a tuple of 1"):
        custom_vjp(lambda x: x).defvjp(lambda x: (x, None), (lambda g, r: g,))
    with pytest.raises(TypeError, match="the JVP rule must be a function, not None"):
        custom_jvp(lambda x: x).defjvp(None)


def test_a_traced_keyword_argument():
    with pytest.raises(TypeError, match=r"received a traced value as keyword argument 'bound'"):
        grad(lambda b: anp.sum(clip_gradient(np.ones(2), bound=b)))(1.0)


def test_rules_written_with_plain_numpy_are_named_by_the_kit():
    """A JVP rule is traced (in the tangents) by reverse mode, and ``forward`` by a second
    derivative: plain NumPy there is the kit's usual mistake, with its usual sentence."""
    plain_rule = _jvp_function(lambda tangents, ans, x: np.dot(2.0, tangents[0]))
    assert jvp(plain_rule, (1.0,), (1.0,))[1] == 2.0  # forward mode on plain tangents is fine
    with pytest.raises(TypeError, match=r"np\.dot was called on a traced value.* use anp\.dot instead"):
        grad(plain_rule)(1.0)

    @custom_vjp
    def exp(x):
        return np.exp(x)

    exp.defvjp(lambda x: (np.exp(x), np.exp(x)), lambda g, ans: (g * ans,))
    assert grad(exp)(0.0) == 1.0  # a first derivative runs forward on plain arrays
    with pytest.raises(TypeError, match=r"np\.exp was called on a traced value.* use anp\.exp instead"):
        grad(grad(exp))(0.0)
