"""Scalar dual numbers and the scalar tape against calculus and the array engine."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff_kit.numpy as anp
from autodiff_kit import grad
from autodiff_kit.scalar import Dual, Var, backward, cos, derivative, exp, log, sin

positive = st.floats(0.2, 3.0)


def program(ops, x):
    """One expression using every operation, written once for numbers, Dual, Var and tracers."""
    y = ops.sin(x) * x + 2.0 / (x + 3.0) - ops.exp(-x) ** 2
    return ops.log(y * y + 1.0) - 1.5 * ops.cos(x / 2.0) + (4.0 - x) * y


class ScalarOps:
    sin, cos, exp, log = sin, cos, exp, log


@given(positive)
def test_dual_and_var_agree_with_the_array_engine(x):
    expected = grad(lambda t: program(anp, t))(x)
    assert derivative(lambda t: program(ScalarOps, t), x) == pytest.approx(expected, rel=1e-12)
    v = Var(x)
    out = program(ScalarOps, v)
    backward(out)
    assert v.grad == pytest.approx(expected, rel=1e-12)
    assert out.value == pytest.approx(program(np, x), rel=1e-14)


@pytest.mark.parametrize(("fn", "slope"), [(sin, math.cos), (cos, lambda x: -math.sin(x)),
                                           (exp, math.exp), (log, lambda x: 1 / x)])
def test_elementary_functions_in_both_modes(fn, slope):
    assert derivative(fn, 0.7) == pytest.approx(slope(0.7))
    v = Var(0.7)
    backward(fn(v))
    assert v.grad == pytest.approx(slope(0.7))
    assert fn(0.7) == pytest.approx(getattr(math, fn.__name__)(0.7))


def test_operators_with_numbers_on_either_side():
    d = Dual(2.0, 1.0)
    for expr, expected in [(3.0 - d, -1.0), (3.0 / d, -0.75), (d ** 3, 12.0), (-d, -1.0), (5 * d, 5.0)]:
        assert expr.tangent == expected


def test_adjoints_are_summed_over_every_use():
    a = Var(1.5)
    b = a + a
    c = b * b + b  # c = 4a^2 + 2a
    backward(c)
    assert a.grad == 8 * 1.5 + 2


def test_backward_on_a_graph_100000_nodes_deep():
    x = Var(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001 + 0.0
    backward(y)
    assert x.grad == pytest.approx(1.0000001 ** 100_000, rel=1e-9)


def test_backward_twice_gives_the_same_gradient():
    x = Var(2.0)
    y = x * x * x
    backward(y)
    backward(y)
    assert x.grad == 12.0


def test_constant_function_has_zero_derivative():
    assert derivative(lambda x: 3.0, 1.0) == 0.0


def test_power_needs_a_number_exponent():
    with pytest.raises(TypeError, match="exponent"):
        Dual(1.0, 1.0) ** Dual(2.0)
