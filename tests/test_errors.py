"""Mistakes people make with autograd-like libraries get an error that says what to do."""

import numpy as np
import pytest

import autodiff_kit.numpy as anp
from autodiff_kit import grad, jvp, vjp


def raises_with(*phrases):
    """Context: the block raises, and the error (or one it was raised from) says every phrase."""

    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(Exception)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            suppressed = self.ctx.__exit__(*exc)
            error, messages = self.info.value, []
            while error is not None:  # NumPy may wrap our error in its own: read the chain
                messages.append(str(error))
                error = error.__cause__
            message = " | ".join(messages)
            missing = [p for p in phrases if p not in message]
            assert not missing, f"message {message!r} lacks {missing}"
            return suppressed

    return Check()


def test_plain_numpy_ufunc_on_traced_value_points_to_anp():
    with raises_with("np.sin", "anp.sin", "import autodiff_kit.numpy as anp"):
        grad(lambda x: np.sin(x))(1.0)


def test_plain_numpy_function_on_traced_value_points_to_anp():
    with raises_with("np.sum", "anp.sum"):
        grad(lambda x: np.sum(x))(np.ones(3))
    with raises_with("np.cumsum", "no differentiable cumsum"):
        grad(lambda x: np.cumsum(x)[-1])(np.ones(3))


def test_numpy_operators_on_traced_values_still_work():
    """ndarray + tracer goes through the kit's primitives, not around them."""
    c = np.array([1.0, 2.0])
    g = grad(lambda x: anp.sum(c * x + c / x - c**x))(np.array([0.5, 1.5]))
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(g, c - c / x**2 - c**x * np.log(c))
    assert np.shape(jvp(lambda x: np.shape(x) and x, (np.ones(2),), (np.ones(2),))[1]) == (2,)


def test_converting_a_traced_value_to_a_plain_array_is_refused():
    with raises_with("anp.array", "anp.stack"):
        grad(lambda x: anp.sum(np.array([x, x])))(1.0)
    with raises_with("float(x)"):
        grad(lambda x: float(x))(1.0)


def test_storing_a_traced_value_in_a_numpy_array_is_refused():
    def f(x):
        out = np.zeros(2)
        out[0] = x
        return anp.sum(out)

    with raises_with("out[i] = x", "anp.where"):
        grad(f)(1.0)


def test_in_place_assignment_into_traced_array_points_to_functional_forms():
    def f(x):
        x[0] = 0.0
        return anp.sum(x)

    with raises_with("in place", "anp.where", "anp.concatenate"):
        grad(f)(np.ones(3))


def test_grad_of_a_non_scalar_points_to_jacrev_and_vjp():
    with raises_with("scalar", "shape (3,)", "jacrev", "vjp"):
        grad(lambda x: x * 2.0)(np.ones(3))
    with raises_with("out[0]"):
        grad(lambda x: x * 2.0)(np.ones(1))
    with raises_with("tuple", "vjp"):
        grad(lambda x: (anp.sum(x), anp.sum(x)))(np.ones(2))


@pytest.mark.parametrize("bad", [3, np.arange(3), np.array([True, False])])
def test_integer_and_boolean_inputs_are_refused(bad):
    with raises_with("floating-point", "astype(float)"):
        grad(lambda x: anp.sum(x * 1.0))(bad)
    with raises_with("floating-point"):
        jvp(lambda x: x, (bad,), (bad,))


def test_non_array_inputs_are_refused():
    with raises_with("str", "float arrays"):
        grad(lambda x: x)("1.0")


def test_tangent_shape_mismatch_names_both_shapes():
    with raises_with("(4,)", "(3,)", "tangent"):
        jvp(anp.sin, (np.ones(3),), (np.ones(4),))


def test_cotangent_shape_mismatch_names_both_shapes():
    _, vjp_fn = vjp(anp.sin, np.ones(3))
    with raises_with("(2,)", "(3,)", "cotangent"):
        vjp_fn(np.ones(2))


def test_cotangent_structure_mismatch_is_reported():
    _, vjp_fn = vjp(lambda x: (x, x), np.ones(3))
    with raises_with("structure"):
        vjp_fn(np.ones(3))


def test_jvp_wants_tuples():
    with raises_with("jvp(f, (x,), (v,))"):
        jvp(anp.sin, np.ones(3), np.ones(3))


def test_argnums_out_of_range():
    with raises_with("argnums=2", "2 positional arguments"):
        grad(lambda a, b: a * b, argnums=2)(1.0, 2.0)


def test_escaped_tracer_is_reported():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0

    grad(f)(1.0)
    with raises_with("already finished", "Return it from the function"):
        grad(lambda y: y * leaked[0])(1.0)


def test_traced_index_is_refused():
    with raises_with("index", "plain integers"):
        grad(lambda x: anp.sum(x[x]))(np.ones(3))


def test_unknown_anp_function_is_named():
    with pytest.raises(AttributeError, match="has no 'cumprod'"):
        anp.cumprod  # noqa: B018


def test_non_differentiable_argument_is_reported_where_it_is_used():
    with raises_with("where", "argument 0"):
        grad(lambda c: anp.sum(anp.where(c, 1.0, 2.0)))(np.ones(2))
