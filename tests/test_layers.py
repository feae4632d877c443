"""The fused layers and their hand-derived VJPs, against oracles that share none of their code.

Every layer is checked three ways: against central differences (``autodiff_kit.testing``),
against the kit differentiating the same layer written op by op in ``autodiff_kit.numpy``,
and against autograd differentiating that same op-by-op code. Closed forms cover the
extreme inputs (ReLU at its kink, sigmoid and softmax cross-entropy at huge arguments),
and a small network is trained on two moons to show the pieces work together. Layer
normalization, whose every output depends on its whole row, adds constant rows, a given
``eps``, the adjoint identity between its two modes and second derivatives against autograd.

Each layer is described once (``LayerCase``): the fused primitive, its public VJP, the
op-by-op version as a function of a NumPy module (``anp`` or ``autograd.numpy``), and a
way to draw its arguments. Draws keep ReLU's inputs away from its kink, where central
differences straddle two pieces and agree with neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import autodiff_kit.numpy as anp
from autodiff_kit import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp
from autodiff_kit.datasets import two_moons
from autodiff_kit.layers import (
    accuracy,
    init_mlp,
    layernorm,
    layernorm_vjp,
    linear,
    linear_vjp,
    mlp,
    mlp_loss,
    mlp_loss_and_grads,
    mse,
    mse_vjp,
    relu,
    relu_vjp,
    sigmoid,
    sigmoid_vjp,
    softmax_cross_entropy,
    softmax_cross_entropy_vjp,
    tanh,
    tanh_vjp,
)
from autodiff_kit.reverse import ReverseTrace
from autodiff_kit.testing import check_grads, numerical_grad, numerical_jacobian

autograd = pytest.importorskip("autograd")
agnp = pytest.importorskip("autograd.numpy")

RTOL_EXACT = 1e-10  # two exact derivative formulas differ by rounding only
RTOL_FD, ATOL_FD = 1e-6, 1e-8  # central differences with eps = 1e-6 are good to ~1e-9


# --- the layers, each written twice -----------------------------------------------------------


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries with 0.1 <= |x| <= 2, of random sign: no ReLU kink within a difference step."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)


def cross_entropy_ops(xp):
    """Softmax cross-entropy the naive way (no shift): fine for the moderate logits drawn here."""
    return lambda z, labels: xp.mean(xp.log(xp.sum(xp.exp(z), axis=1)) - z[np.arange(len(labels)), labels])


@dataclass(frozen=True)
class LayerCase:
    name: str
    fused: Callable
    layer_vjp: Callable
    ops: Callable  # ops(xp) is the layer written with the NumPy module xp
    draw: Callable  # draw(rng, batch, n, m, one_example) -> (differentiable args, constant args)

    def __repr__(self) -> str:
        return self.name

    def cotangents(self, g, diff_args, const_args) -> tuple:
        """The public VJP's result, as a tuple over the differentiable arguments."""
        out = self.layer_vjp(g, *diff_args, *const_args)
        return out if isinstance(out, tuple) else (out,)


def _draw_linear(rng, batch, n, m, one_example):
    x = rng.standard_normal(n if one_example else (batch, n))
    return (x, rng.standard_normal((m, n)), rng.standard_normal(m)), ()


def layernorm_ops(xp, eps=1e-5):
    """Layer normalization the textbook way: the mean, the centred row, the population variance."""
    def normalized(x):
        centred = x - xp.mean(x, axis=-1, keepdims=True)
        return centred / xp.sqrt(xp.mean(centred ** 2, axis=-1, keepdims=True) + eps)
    return normalized


def _draw_layernorm(rng, batch, n, m, one_example):
    """Rows of m entries, each row at its own offset and scale (m == 1: a constant row)."""
    rows = 1 if one_example else batch
    x = rng.uniform(-5, 5, (rows, 1)) + rng.uniform(0.2, 3, (rows, 1)) * rng.standard_normal((rows, m))
    return (x[0] if one_example else x,), ()


def _draw_cross_entropy(rng, batch, n, m, one_example):
    classes = m + 1  # at least two classes
    return (rng.uniform(-3, 3, (batch, classes)),), (rng.integers(0, classes, batch),)


CASES = [
    LayerCase("linear", linear, linear_vjp,
              lambda xp: lambda x, W, b: xp.matmul(x, xp.transpose(W)) + b, _draw_linear),
    LayerCase("relu", relu, relu_vjp,
              lambda xp: lambda x: xp.where(x > 0, x, 0.0),
              lambda rng, batch, n, m, one: ((away_from_zero(rng, (batch, m)),), ())),
    LayerCase("sigmoid", sigmoid, sigmoid_vjp,
              lambda xp: lambda x: 1.0 / (1.0 + xp.exp(-x)),
              lambda rng, batch, n, m, one: ((rng.uniform(-4, 4, (batch, m)),), ())),
    LayerCase("tanh", tanh, tanh_vjp,
              lambda xp: lambda x: xp.tanh(x),
              lambda rng, batch, n, m, one: ((rng.uniform(-3, 3, (batch, m)),), ())),
    LayerCase("softmax_cross_entropy", softmax_cross_entropy, softmax_cross_entropy_vjp,
              cross_entropy_ops, _draw_cross_entropy),
    LayerCase("mse", mse, mse_vjp,
              lambda xp: lambda p, t: xp.mean((p - t) ** 2),
              lambda rng, batch, n, m, one: ((rng.standard_normal((batch, m)),
                                              rng.standard_normal((batch, m))), ())),
    LayerCase("layernorm", layernorm, layernorm_vjp, layernorm_ops, _draw_layernorm),
]

# Shapes: batch and both widths from 1 to 4 (so W is often non-square), and for linear
# sometimes a single example x of shape (n,). The examples pin a batch of one, a wide
# and a tall W.
draws = given(batch=st.integers(1, 4), n=st.integers(1, 4), m=st.integers(1, 4),
              one_example=st.booleans(), seed=st.integers(0, 2**32 - 1))


def with_shape_examples(test):
    test = example(batch=1, n=3, m=2, one_example=False, seed=0)(test)
    test = example(batch=3, n=2, m=4, one_example=False, seed=1)(test)
    return example(batch=1, n=4, m=1, one_example=True, seed=2)(test)


def drawn(case: LayerCase, batch, n, m, one_example, seed):
    """The case's arguments and a random cotangent of its output (the same seed, the same draw)."""
    rng = np.random.default_rng(seed)
    diff_args, const_args = case.draw(rng, batch, n, m, one_example)
    g = rng.standard_normal(np.shape(case.fused(*diff_args, *const_args)))
    return diff_args, const_args, g


def assert_cotangents_close(computed, expected, diff_args, rtol, atol=0.0):
    assert len(computed) == len(expected) == len(diff_args)
    for i, (c, e, x) in enumerate(zip(computed, expected, diff_args, strict=True)):
        assert np.shape(c) == np.shape(x), f"cotangent {i} has shape {np.shape(c)}, input {np.shape(x)}"
        np.testing.assert_allclose(c, e, rtol=rtol, atol=atol, err_msg=f"cotangent of argument {i}")


def numerical_vjp(f: Callable, args: tuple, g: np.ndarray) -> tuple:
    """$g^\\top J_i$ for every argument $i$ of ``f``, from its full Jacobian by central differences."""
    cotangents = []
    for i, x in enumerate(args):
        def f_of_arg_i(a, i=i):
            return f(*args[:i], a, *args[i + 1:])

        J = numerical_jacobian(f_of_arg_i, x)
        cotangents.append((np.ravel(g) @ J).reshape(np.shape(x)))
    return tuple(cotangents)


# --- each VJP against the oracles -------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=50, deadline=None)
@with_shape_examples
@draws
def test_vjp_matches_finite_differences(case, batch, n, m, one_example, seed):
    diff_args, const_args, g = drawn(case, batch, n, m, one_example, seed)
    expected = numerical_vjp(lambda *d: case.fused(*d, *const_args), diff_args, g)
    assert_cotangents_close(case.cotangents(g, diff_args, const_args), expected, diff_args, RTOL_FD, ATOL_FD)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=50, deadline=None)
@with_shape_examples
@draws
def test_vjp_matches_the_kit_on_the_layer_written_op_by_op(case, batch, n, m, one_example, seed):
    diff_args, const_args, g = drawn(case, batch, n, m, one_example, seed)
    op_by_op = case.ops(anp)
    value, vjp_fn = vjp(lambda *d: op_by_op(*d, *const_args), *diff_args)
    np.testing.assert_allclose(case.fused(*diff_args, *const_args), value, rtol=RTOL_EXACT)
    assert_cotangents_close(case.cotangents(g, diff_args, const_args), vjp_fn(g), diff_args,
                            RTOL_EXACT, 1e-12)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=50, deadline=None)
@with_shape_examples
@draws
def test_vjp_matches_autograd_on_the_layer_written_op_by_op(case, batch, n, m, one_example, seed):
    diff_args, const_args, g = drawn(case, batch, n, m, one_example, seed)
    op_by_op = case.ops(agnp)
    argnums = tuple(range(len(diff_args)))
    vjp_fn, value = autograd.make_vjp(lambda *d: op_by_op(*d, *const_args), argnums)(*diff_args)
    np.testing.assert_allclose(case.fused(*diff_args, *const_args), value, rtol=RTOL_EXACT)
    assert_cotangents_close(case.cotangents(g, diff_args, const_args), vjp_fn(g), diff_args,
                            RTOL_EXACT, 1e-12)


@pytest.mark.parametrize("case", CASES, ids=repr)
@settings(max_examples=15, deadline=None)
@with_shape_examples
@draws
def test_the_fused_primitive_differentiates_with_its_public_vjp(case, batch, n, m, one_example, seed):
    """One definition used both ways: the kit's VJP of the fused layer is the public VJP,
    and its JVP agrees with the kit's JVP of the op-by-op layer."""
    diff_args, const_args, g = drawn(case, batch, n, m, one_example, seed)
    _, vjp_fn = vjp(lambda *d: case.fused(*d, *const_args), *diff_args)
    assert_cotangents_close(vjp_fn(g), case.cotangents(g, diff_args, const_args), diff_args, 0.0)

    tangents = tuple(np.random.default_rng(seed + 1).standard_normal(np.shape(x)) for x in diff_args)
    _, fused_tangent = jvp(lambda *d: case.fused(*d, *const_args), diff_args, tangents)
    _, op_tangent = jvp(lambda *d: case.ops(anp)(*d, *const_args), diff_args, tangents)
    np.testing.assert_allclose(fused_tangent, op_tangent, rtol=RTOL_EXACT, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=repr)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_check_grads_on_the_fused_primitive_both_modes_to_order_two(case, seed):
    diff_args, const_args = case.draw(np.random.default_rng(seed), 3, 4, 2, False)
    check_grads(lambda *d: case.fused(*d, *const_args), diff_args, modes=("fwd", "rev"), order=2,
                rng=np.random.default_rng(seed))


# --- linear -----------------------------------------------------------------------------------


def test_linear_of_one_example_is_the_row_of_a_batch_of_one():
    rng = np.random.default_rng(3)
    x, W = rng.standard_normal(4), rng.standard_normal((2, 4))
    b, g = rng.standard_normal(2), rng.standard_normal(2)
    np.testing.assert_allclose(linear(x, W, b), W @ x + b, rtol=1e-14)
    single = linear_vjp(g, x, W, b)
    batched = linear_vjp(g[None], x[None], W, b)
    assert_cotangents_close(single, (batched[0][0], *batched[1:]), (x, W, b), 1e-14)
    np.testing.assert_allclose(single[1], np.outer(g, x), rtol=1e-14)  # the textbook's g x^T


def test_linear_names_the_convention_when_W_is_transposed():
    with pytest.raises(ValueError, match=r"W of shape \(m, n\)"):
        linear(np.ones((5, 3)), np.ones((3, 2)), np.ones(2))


# --- ReLU at its kink -------------------------------------------------------------------------


def test_relu_vjp_is_zero_at_exactly_zero():
    x = np.array([-1.0, 0.0, -0.0, 2.0, 0.0])
    g = np.array([3.0, 5.0, 7.0, 11.0, -13.0])
    np.testing.assert_array_equal(relu_vjp(g, x), [0.0, 0.0, 0.0, 11.0, 0.0])


def test_grad_and_jvp_of_relu_are_zero_at_exactly_zero():
    x = np.array([[0.0, 1.5], [-2.0, 0.0]])
    w = np.array([[2.0, 3.0], [5.0, 7.0]])
    np.testing.assert_array_equal(grad(lambda x: anp.sum(relu(x) * w))(x), [[0.0, 3.0], [0.0, 0.0]])
    np.testing.assert_array_equal(jvp(relu, (x,), (w,))[1], [[0.0, 3.0], [0.0, 0.0]])


# --- sigmoid at huge arguments (warnings are errors in this test suite) -----------------------


def test_sigmoid_is_exact_and_silent_for_huge_arguments():
    x = np.array([-1e4, -800.0, -40.0, 40.0, 800.0, 1e4])
    s = sigmoid(x)
    np.testing.assert_array_equal(s[[0, 1, 4, 5]], [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(s[2], np.exp(-40.0), rtol=1e-14)  # sigma(x) ~ e^x as x -> -inf
    np.testing.assert_array_equal(sigmoid_vjp(np.ones(6), x)[[0, 1, 4, 5]], 0.0)
    assert np.all(np.isfinite(grad(lambda x: anp.sum(sigmoid(x)))(x)))


def test_sigmoid_closed_forms():
    x = np.linspace(-6, 6, 13)
    np.testing.assert_allclose(sigmoid(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(sigmoid(-x), 1.0 - sigmoid(x), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(sigmoid_vjp(np.ones_like(x), x), np.exp(-x) / (1.0 + np.exp(-x)) ** 2,
                               rtol=1e-13)


def test_tanh_vjp_closed_form():
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(tanh_vjp(np.full(7, 2.0), x), 2.0 / np.cosh(x) ** 2, rtol=1e-13)


# --- softmax cross-entropy at huge logits -----------------------------------------------------


def softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_softmax_cross_entropy_is_exact_for_logits_of_magnitude_1e4(scale):
    """Rows whose logits differ by small amounts, sitting at +-1e4: the loss of row k is
    $\\log(1 + \\sum_{c \\ne y} e^{z_c - z_y})$, and one row has a dominant logit."""
    logits = scale + np.array([[0.0, -1.0, -2.0], [0.0, 1.0, 0.0], [0.0, -abs(scale), 3.0]])
    labels = np.array([0, 0, 2])
    row_losses = [np.log1p(np.exp(-1.0) + np.exp(-2.0)),
                  np.log1p(np.exp(1.0) + 1.0),
                  np.log1p(np.exp(-3.0) + np.exp(-abs(scale) - 3.0))]
    loss = softmax_cross_entropy(logits, labels)
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, np.mean(row_losses), rtol=1e-13)


def test_softmax_cross_entropy_of_a_dominant_logit():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]])
    # Row 0: the label's logit dominates, loss log(1 + e^-1e4 + ...) = 0 in float64.
    # Row 1: the label's logit is 2e4 below the maximum, loss 2e4 (plus e^-5e3 ~ 0).
    np.testing.assert_array_equal(softmax_cross_entropy(logits, np.array([0, 0])), (0.0 + 2e4) / 2)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_softmax_cross_entropy_gradient_is_finite_and_exact_at_logits_of_magnitude_1e4(scale):
    logits = scale + np.array([[0.0, -1.0, 2.0], [0.5, 0.0, -abs(scale)]])
    labels = np.array([1, 0])
    expected = (softmax_rows(logits - scale) - np.eye(3)[labels]) / 2  # softmax is shift-invariant
    by_vjp = softmax_cross_entropy_vjp(1.0, logits, labels)
    by_grad = grad(softmax_cross_entropy)(logits, labels)
    for g in (by_vjp, by_grad):
        assert np.all(np.isfinite(g))
        # Right to a few units in the last place *of the logits*: one ulp of 1e4 is 1.8e-12,
        # and moving a logit by that much moves the softmax by about as much, relatively.
        np.testing.assert_allclose(g, expected, rtol=10 * abs(scale) * np.finfo(float).eps, atol=1e-16)


@pytest.mark.parametrize("scale", [0.0, 1e4])
def test_softmax_cross_entropy_hessian_is_the_softmax_jacobian(scale):
    """For one example, $\\nabla^2_z L = \\mathrm{diag}(p) - p p^\\top$ (independent of the label)."""
    z = scale + np.array([0.3, -1.2, 0.8, 0.0])
    p = softmax_rows(z[None] - scale)[0]
    H = hessian(lambda z: softmax_cross_entropy(z[None], np.array([2])))(z)
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 3]), "class indices in 0..2"),
    (np.array([0.0, 1.0]), "integer labels"),
    (np.array([0]), r"shape \(2,\)"),
])
def test_softmax_cross_entropy_explains_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        softmax_cross_entropy(np.zeros((2, 3)), labels)


def test_mse_closed_form_and_broadcast_target():
    pred, target = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([1.0, 1.0])
    assert mse(pred, target) == (0 + 1 + 4 + 16) / 4
    gpred, gtarget = mse_vjp(2.0, pred, target)
    np.testing.assert_allclose(gpred, 2.0 * 2 * (pred - target) / 4, rtol=1e-15)
    np.testing.assert_allclose(gtarget, -gpred.sum(axis=0), rtol=1e-15)


# --- layer normalization ---------------------------------------------------------------------


def autograd_layernorm_vjp(g, x, eps=1e-5):
    """The independent oracle: autograd's VJP of the textbook formula."""
    vjp_fn, _ = autograd.make_vjp(layernorm_ops(agnp, eps))(x)
    return vjp_fn(g)


@pytest.mark.parametrize("eps", [1e-5, 1e-3, 0.5, 4.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_layernorm_vjp_uses_the_given_eps(eps, seed):
    """Rows whose variance is comparable to eps, so that any other eps (or none) is far off.

    The cotangents are of size 1 / sqrt(eps), and so are their rounding errors (the tolerance).
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (4, 1)) + np.sqrt(eps) * rng.standard_normal((4, 5))
    g = rng.standard_normal((4, 5))
    np.testing.assert_allclose(layernorm(x, eps=eps), layernorm_ops(np, eps)(x), rtol=1e-10, atol=1e-12)
    gx = layernorm_vjp(g, x, eps)
    assert gx.shape == x.shape
    np.testing.assert_allclose(gx, autograd_layernorm_vjp(g, x, eps), rtol=1e-10, atol=1e-12 / np.sqrt(eps))
    expected = numerical_vjp(lambda x: layernorm(x, eps=eps), (x,), g)[0]
    np.testing.assert_allclose(gx, expected, rtol=RTOL_FD, atol=1e-7)
    _, vjp_fn = vjp(lambda x: layernorm(x, eps), x)  # eps given by position, through the primitive
    np.testing.assert_allclose(vjp_fn(g)[0], gx, rtol=1e-15)


def test_layernorm_vjp_is_far_from_the_textbook_slips():
    """Each path matters: leaving one out, or the variance of the wrong kind, or eps, is far off."""
    rng = np.random.default_rng(7)
    x, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    eps = 0.3

    def formula(ddof=0, eps=eps):
        sigma = np.sqrt(x.var(axis=1, ddof=ddof, keepdims=True) + eps)
        y = (x - x.mean(axis=1, keepdims=True)) / sigma
        return sigma, y

    sigma, y = formula()
    sample_sigma, sample_y = formula(ddof=1)
    slips = {"no mean path": (g - y * (g * y).mean(axis=1, keepdims=True)) / sigma,
             "no variance path": (g - g.mean(axis=1, keepdims=True)) / sigma,
             "elementwise": g / sigma,
             "ddof=1": (g - g.mean(axis=1, keepdims=True)
                        - sample_y * (g * sample_y).mean(axis=1, keepdims=True)) / sample_sigma,
             "eps ignored": autograd_layernorm_vjp(g, x, 0.0)}
    gx = layernorm_vjp(g, x, eps)
    np.testing.assert_allclose(gx, autograd_layernorm_vjp(g, x, eps), rtol=1e-10, atol=1e-12)
    for name, slip in slips.items():
        assert np.max(np.abs(gx - slip)) > 1e-2, name


@pytest.mark.parametrize("value", [0.0, 0.1, -7.3, 1e3, 1e-8])
@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_layernorm_of_constant_rows_is_exact(value, n):
    """var = 0: the output is exactly 0 and the cotangent is exactly (g - mean g) / sqrt(eps),
    whatever rounding the mean of n copies of the value suffers (0.1 + 0.1 + 0.1 != 0.3)."""
    rng = np.random.default_rng(n)
    x = np.full((3, n), value)
    x[1] = -value
    g = rng.standard_normal((3, n))
    np.testing.assert_array_equal(layernorm(x), 0.0)
    expected = (g - g.mean(axis=1, keepdims=True)) / np.sqrt(1e-5)
    gx = layernorm_vjp(g, x)
    assert np.all(np.isfinite(gx))
    np.testing.assert_allclose(gx, expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grad(lambda x: anp.sum(g * layernorm(x)))(x), expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(jvp(layernorm, (x,), (g,))[1], expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(layernorm_vjp(g, x, 0.25), (g - g.mean(axis=1, keepdims=True)) / 0.5,
                               rtol=1e-13, atol=1e-13)


def test_layernorm_mixes_constant_and_varying_rows():
    x = np.array([[2.0, 2.0, 2.0, 2.0], [1.0, -1.0, 3.0, 0.5], [0.0, 0.0, 0.0, 0.0]])
    g = np.random.default_rng(4).standard_normal(x.shape)
    np.testing.assert_allclose(layernorm_vjp(g, x), autograd_layernorm_vjp(g, x), rtol=1e-10, atol=1e-10)
    check_grads(layernorm, (x,), modes=("fwd", "rev"), order=2, rng=np.random.default_rng(0))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_layernorm_of_a_batch_of_one_is_the_single_row(n):
    rng = np.random.default_rng(n)
    x, g = rng.standard_normal(n) * 2.0 + 1.0, rng.standard_normal(n)
    np.testing.assert_allclose(layernorm(x), layernorm(x[None])[0], rtol=1e-15)
    single, batched = layernorm_vjp(g, x), layernorm_vjp(g[None], x[None])
    assert single.shape == (n,) and batched.shape == (1, n)
    np.testing.assert_allclose(single, batched[0], rtol=1e-15)
    np.testing.assert_allclose(batched, autograd_layernorm_vjp(g[None], x[None]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(batched, numerical_vjp(layernorm, (x[None],), g[None])[0],
                               rtol=RTOL_FD, atol=ATOL_FD)


@pytest.mark.parametrize("seed", range(4))
def test_layernorm_jvp_and_vjp_satisfy_the_adjoint_identity(seed):
    """$\\langle u, J v \\rangle = \\langle J^\\top u, v \\rangle$ between the kit's two modes, and the
    full Jacobian of a row (symmetric) equals its transpose and the central-difference one."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (3, 5)) + rng.uniform(-4, 4, (3, 1))
    u, v = rng.standard_normal(x.shape), rng.standard_normal(x.shape)
    _, jv = jvp(layernorm, (x,), (v,))
    _, vjp_fn = vjp(layernorm, x)
    (ju,) = vjp_fn(u)
    assert jv.shape == ju.shape == x.shape
    left, right = np.vdot(u, jv), np.vdot(ju, v)
    assert abs(left - right) <= 1e-13 * (np.linalg.norm(u) * np.linalg.norm(jv) + np.linalg.norm(ju)
                                         * np.linalg.norm(v))
    np.testing.assert_allclose(jv, autograd.make_jvp(layernorm_ops(agnp))(x)(v)[1], rtol=1e-10, atol=1e-12)
    J = jacfwd(layernorm)(x[0])
    np.testing.assert_allclose(J, J.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jacrev(layernorm)(x[0]), J, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(J, numerical_jacobian(layernorm, x[0]), rtol=RTOL_FD, atol=ATOL_FD)


@pytest.mark.parametrize("eps", [1e-5, 0.5])
@pytest.mark.parametrize("seed", [0, 1])
def test_second_derivatives_through_layernorm_match_autograd(eps, seed):
    """grad of grad, and the Hessian both ways, of a loss through layernorm, against autograd
    differentiating the textbook formula."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (2, 4)) + rng.uniform(-3, 3, (2, 1))
    w, direction = rng.standard_normal(x.shape), rng.standard_normal(x.shape)

    def loss(xp, normalize):
        return lambda x: xp.sum(w * xp.tanh(normalize(x)))

    kit_loss = loss(anp, lambda x: layernorm(x, eps=eps))
    oracle_loss = loss(agnp, layernorm_ops(agnp, eps))

    def kit_slope(x):  # the derivative of the loss along direction, as a function of x
        return anp.sum(grad(kit_loss)(x) * direction)

    def oracle_slope(x):
        return agnp.sum(autograd.grad(oracle_loss)(x) * direction)

    np.testing.assert_allclose(grad(kit_loss)(x), autograd.grad(oracle_loss)(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad(kit_slope)(x), autograd.grad(oracle_slope)(x), rtol=1e-9, atol=1e-11)

    def flat(f, xp):
        return lambda z: f(xp.reshape(z, x.shape))

    expected = autograd.hessian(flat(oracle_loss, agnp))(x.ravel())
    np.testing.assert_allclose(hessian(flat(kit_loss, anp))(x.ravel()), expected, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(jacrev(grad(flat(kit_loss, anp)))(x.ravel()), expected, rtol=1e-9, atol=1e-11)


def test_layernorm_check_grads_to_order_three():
    x = np.array([[0.3, -1.2, 2.0], [4.0, 4.5, 3.1]])
    check_grads(lambda x: layernorm(x, eps=0.1), (x,), modes=("fwd", "rev"), order=3,
                rng=np.random.default_rng(1))


# --- networks ---------------------------------------------------------------------------------


def mlp_loss_op_by_op(xp):
    """The MLP's loss written op by op in the NumPy module ``xp`` (no fused layer)."""

    def loss(params, x, labels):
        h = x
        for i, (W, b) in enumerate(params):
            h = xp.matmul(h, xp.transpose(W)) + b
            if i < len(params) - 1:
                h = xp.where(h > 0, h, 0.0)
        return cross_entropy_ops(xp)(h, labels)

    return loss


def random_mlp_problem(seed: int, sizes: list[int], batch: int):
    rng = np.random.default_rng(seed)
    params = [(W, rng.standard_normal(b.shape) * 0.1) for W, b in init_mlp(sizes, rng)]
    x = rng.standard_normal((batch, sizes[0]))
    return params, x, rng.integers(0, sizes[-1], batch)


MLP_SHAPES = [([3, 2], 5), ([2, 5, 3], 1), ([4, 6, 3, 2], 7), ([3, 8, 8, 8, 4], 4)]


@pytest.mark.parametrize("sizes, batch", MLP_SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_mlp_loss_and_grads_equals_grad_of_three_independent_networks(sizes, batch, seed):
    """By-hand backprop against grad of the fused MLP, grad of the op-by-op MLP (both kit),
    and autograd's gradient of the op-by-op MLP."""
    params, x, labels = random_mlp_problem(seed, sizes, batch)
    loss, grads = mlp_loss_and_grads(params, x, labels)
    assert isinstance(grads, list) and len(grads) == len(params)

    fused_loss, fused_grads = value_and_grad(mlp_loss)(params, x, labels)
    op_loss, op_grads = value_and_grad(mlp_loss_op_by_op(anp))(params, x, labels)
    autograd_grads = autograd.grad(mlp_loss_op_by_op(agnp))(params, x, labels)
    np.testing.assert_allclose(loss, fused_loss, rtol=1e-14)
    np.testing.assert_allclose(loss, op_loss, rtol=1e-12)
    for oracle in (fused_grads, op_grads, autograd_grads):
        for (gW, gb), (oW, ob), (W, b) in zip(grads, oracle, params, strict=True):
            assert gW.shape == W.shape and gb.shape == b.shape
            np.testing.assert_allclose(gW, oW, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(gb, ob, rtol=1e-10, atol=1e-14)


def test_mlp_loss_and_grads_matches_finite_differences():
    params, x, labels = random_mlp_problem(5, [3, 4, 3], 6)
    _, grads = mlp_loss_and_grads(params, x, labels)
    for i, (W, b) in enumerate(params):
        def loss_in_W(W_i, i=i, b=b):
            return mlp_loss([*params[:i], (W_i, b), *params[i + 1:]], x, labels)

        def loss_in_b(b_i, i=i, W=W):
            return mlp_loss([*params[:i], (W, b_i), *params[i + 1:]], x, labels)

        gW, gb = grads[i]
        np.testing.assert_allclose(gW, numerical_grad(loss_in_W, W), rtol=RTOL_FD, atol=ATOL_FD)
        np.testing.assert_allclose(gb, numerical_grad(loss_in_b, b), rtol=RTOL_FD, atol=ATOL_FD)


def regression_net(layer):
    """A small regression network: tanh, then sigmoid, then mean squared error.

    ``layer`` maps a name to the fused layer or to its op-by-op version, so one definition
    gives both networks.
    """

    def loss(params, x, target):
        (W1, b1), (W2, b2) = params
        h = layer["tanh"](layer["linear"](x, W1, b1))
        return layer["mse"](layer["sigmoid"](layer["linear"](h, W2, b2)), target)

    return loss


FUSED = {case.name: case.fused for case in CASES}


def op_by_op(xp):
    return {case.name: case.ops(xp) for case in CASES}


def regression_problem(seed: int):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((5, 3)), rng.standard_normal(5)),
              (rng.standard_normal((2, 5)), rng.standard_normal(2))]
    return params, rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_of_a_fused_network_equal_those_written_op_by_op(seed):
    params, x, target = regression_problem(seed)
    fused = grad(regression_net(FUSED), argnums=(0, 1, 2))(params, x, target)
    kit = grad(regression_net(op_by_op(anp)), argnums=(0, 1, 2))(params, x, target)
    oracle = autograd.grad(regression_net(op_by_op(agnp)), (0, 1, 2))(params, x, target)
    for reference in (kit, oracle):
        for f, r in zip(tree_leaves(fused), tree_leaves(reference), strict=True):
            np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-14)


def tree_leaves(tree) -> list:
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in tree_leaves(item)]
    return [tree]


@pytest.mark.parametrize("seed", [0, 1])
def test_second_derivatives_through_the_fused_layers(seed):
    """Hessian in the first layer's weights, forward over reverse and reverse over reverse,
    of the fused network against autograd's Hessian of the op-by-op network."""
    params, x, target = regression_problem(seed)
    (W1, b1), second = params

    def loss_in(layer, xp):
        return lambda w: regression_net(layer)([(xp.reshape(w, W1.shape), b1), second], x, target)

    w = W1.ravel()
    expected = autograd.hessian(loss_in(op_by_op(agnp), agnp))(w)
    fused = loss_in(FUSED, anp)
    np.testing.assert_allclose(hessian(fused)(w), expected, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(jacfwd(grad(fused))(w), expected, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(jacrev(grad(fused))(w), expected, rtol=1e-9, atol=1e-13)


def test_hessian_of_the_fused_mlp_loss_equals_the_op_by_op_one():
    params, x, labels = random_mlp_problem(3, [2, 4, 3], 5)
    (W1, b1), (W2, b2) = params

    def in_last_layer(loss):
        return lambda w: loss([(W1, b1), (anp.reshape(w[:-3], W2.shape), w[-3:])], x, labels)

    w = np.concatenate([W2.ravel(), b2])
    np.testing.assert_allclose(hessian(in_last_layer(mlp_loss))(w),
                               hessian(in_last_layer(mlp_loss_op_by_op(anp)))(w), rtol=1e-10, atol=1e-14)


def test_training_on_two_moons_reaches_95_percent_accuracy():
    x, labels = two_moons(200, noise=0.1, rng=0)
    params = init_mlp([2, 16, 16, 2], rng=1)
    velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    loss_grad = grad(mlp_loss)
    learning_rate, momentum = 0.1, 0.9
    initial_loss = mlp_loss(params, x, labels)
    for _ in range(300):
        grads = loss_grad(params, x, labels)
        velocity = [(momentum * vW + gW, momentum * vb + gb)
                    for (vW, vb), (gW, gb) in zip(velocity, grads, strict=True)]
        params = [(W - learning_rate * vW, b - learning_rate * vb)
                  for (W, b), (vW, vb) in zip(params, velocity, strict=True)]
    assert mlp_loss(params, x, labels) < initial_loss / 10
    assert accuracy(mlp(params, x), labels) >= 0.95


# --- helpers: initialisation, accuracy, the data set ------------------------------------------


def test_init_mlp_shapes_and_he_scale():
    params = init_mlp([400, 300, 10], rng=0)
    assert [(W.shape, b.shape) for W, b in params] == [((300, 400), (300,)), ((10, 300), (10,))]
    np.testing.assert_allclose(params[0][0].std(), np.sqrt(2 / 400), rtol=0.02)
    assert not params[0][1].any() and not params[1][1].any()
    np.testing.assert_array_equal(init_mlp([3, 4], rng=7)[0][0],
                                  init_mlp([3, 4], rng=np.random.default_rng(7))[0][0])


def test_accuracy_counts_rows_whose_largest_logit_is_the_label():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert accuracy(logits, np.array([1, 0, 0, 1])) == 0.5


def test_two_moons_is_deterministic_given_the_generator():
    a, la = two_moons(50, noise=0.2, rng=np.random.default_rng(4))
    b, lb = two_moons(50, noise=0.2, rng=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    c, _ = two_moons(50, noise=0.2, rng=5)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_two_moons_shapes_classes_and_half_circles(n):
    x, labels = two_moons(n, noise=0.0, rng=0)
    assert x.shape == (n, 2) and x.dtype == np.float64
    assert labels.shape == (n,) and np.issubdtype(labels.dtype, np.integer)
    assert np.sum(labels == 0) == (n + 1) // 2 and np.sum(labels == 1) == n // 2
    upper, lower = x[labels == 0], x[labels == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-14)
    assert np.all(upper[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, rtol=1e-14)
    assert np.all(lower[:, 1] <= 0.5)


def test_two_moons_noise_has_the_requested_scale():
    clean, labels = two_moons(4000, noise=0.0, rng=9)
    noisy, same_labels = two_moons(4000, noise=0.3, rng=9)
    np.testing.assert_array_equal(labels, same_labels)  # same angles and order: only the noise differs
    np.testing.assert_allclose((noisy - clean).std(), 0.3, rtol=0.05)


@pytest.mark.parametrize("argnum", [0, 1, 2])
def test_linear_rule_computes_only_the_cotangent_asked_for(argnum):
    """One product for gx or gW, none for gb: no work for the other arguments' cotangents."""
    rng = np.random.default_rng(7)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    g = rng.standard_normal((4, 2))
    with ReverseTrace() as trace:
        traced = [trace.new_input(value) for value in (g, x, W, b)]
        cotangent = linear.vjps[argnum](traced[0], None, *traced[1:])
    products = [node for node in trace.take_tape() if node.primitive is anp.matmul]
    assert len(products) == (0 if argnum == 2 else 1)
    np.testing.assert_allclose(cotangent.value, linear_vjp(g, x, W, b)[argnum])
