"""The backward sweep: untraced on plain arrays, traced when a derivative is taken around it."""

import numpy as np

import autodiff_kit.numpy as anp
from autodiff_kit import grad, jvp, tracing
from autodiff_kit.primitives import defjvp, defvjp, primitive


def _cube_differentiating_inside_its_rule():
    """$x^3$ whose VJP rule takes a derivative itself: ``3 x^2`` as ``grad`` of $\\sum y^3$."""

    @primitive
    def cube(x):
        return np.power(x, 3)

    defvjp(cube, lambda g, ans, x: g * grad(lambda y: anp.sum(y ** 3))(x))
    defjvp(cube, lambda t, ans, x: t * 3.0 * anp.square(x))
    return cube


def test_a_rule_may_differentiate_inside_an_untraced_sweep():
    cube = _cube_differentiating_inside_its_rule()
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(grad(lambda x: anp.sum(cube(x)))(x), 3.0 * x ** 2)


def _spy_on_the_sweep(seen: list):
    """The identity, whose VJP rule notes whether the sweep that called it was untraced."""

    @primitive
    def identity(x):
        return x

    def rule(g, ans, x):
        seen.append(tracing._untraced)
        return g

    defvjp(identity, rule)
    defjvp(identity, lambda t, ans, x: t)
    return identity


def test_rules_run_untraced_only_when_no_derivative_is_taken_around_the_sweep():
    seen: list = []
    spy = _spy_on_the_sweep(seen)
    f = lambda x: anp.sum(anp.sin(spy(x)))
    x = np.array([0.3, 1.1])
    grad(f)(x)
    assert seen == [True]
    seen.clear()
    hvp = jvp(grad(f), (x,), (np.ones(2),))[1]  # the sweep runs under the forward trace
    assert seen == [False]
    np.testing.assert_allclose(hvp, -np.sin(x))
    seen.clear()
    grad(lambda x: anp.sum(grad(f)(x)))(x)
    assert seen == [False, True]  # the inner sweep is recorded; the outer one, around nothing, is not
    assert not tracing._untraced
