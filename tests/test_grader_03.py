"""The hidden checks of 03_layer_vjps beyond the generic tests: what they say, what they accept,
and how ``mlp_loss_and_grads`` is graded on its own.

Variants of the students' code are written as whole solution cells and run the way the
notebook runs them (``course.notebooks.namespace_of``).
"""

import numpy as np
import pytest

from course import notebooks
from grader_tests.a03_layer_vjps import LinearVjpGx, MlpLossAndGradsGrads
from grader_tests.checks import checks_of
from grader_tests.feedback import GradingError
from grader_tests.probes.a03_layer_vjps import BUILDING_BLOCKS
from grader_tests.runner import failure

A = "03_layer_vjps"
SEEDS = range(3)
STUB = "    raise NotImplementedError()\n"


@pytest.fixture(scope="module")
def notebook():
    return notebooks.read(notebooks.source_path(A))


def namespace_with(notebook, **cells):
    """The notebook's namespace after its solution cells, with some cells' sources replaced."""
    for name, source in cells.items():
        notebook = notebooks.with_cell_source(notebook, name, source)
    return notebooks.namespace_of(notebook)


def stub(name, signature):
    """A solution cell as released to students: the signature and ``raise NotImplementedError()``."""
    return f"def {name}({signature}):\n{STUB}"


def messages(namespace, function):
    """``{cell: message}`` of every check of ``function`` that fails, over a few seeds."""
    found = {}
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        for check in checks_of(A):
            if check.function == function:
                message = failure(A, check.cell_id(), namespace, rng)
                if message is not None:
                    found[check.cell_id()] = message
    return found


def messages_after(notebook, function, old, new):
    """The messages of ``function``'s checks once ``old`` is ``new`` in its reference solution."""
    source = notebooks.cell_by_id(notebook, function).source
    assert source.count(old) == 1, old
    return messages(namespace_with(notebook, **{function: source.replace(old, new)}), function)


# --- what the messages say ----------------------------------------------------------------------


def test_a_transposed_gW_is_called_transposed(notebook):
    found = messages_after(notebook, "linear_vjp", "g.T @ x", "x.T @ g")
    assert "transposed" in found["test_linear_vjp_gW"]
    assert "shape of W" in found["test_linear_vjp_gW"]


def test_gb_without_the_batch_sum_is_told_to_sum(notebook):
    found = messages_after(notebook, "linear_vjp", "g.sum(axis=0)", "g")
    assert "sum over the batch axis" in found["test_linear_vjp_gb"]
    mean = messages_after(notebook, "linear_vjp", "g.sum(axis=0)", "g.mean(axis=0)")
    assert set(mean) == {"test_linear_vjp_gb"}  # a batch of one cannot tell a mean from a sum
    assert "the mean of g over the batch" in mean["test_linear_vjp_gb"]


def test_relu_gradient_one_at_zero_is_named(notebook):
    found = messages_after(notebook, "relu_vjp", "(x > 0)", "(x >= 0)")
    assert set(found) == {"test_relu_vjp_at_zero"}
    assert "x > 0, not x >= 0" in found["test_relu_vjp_at_zero"]


def test_sigma_prime_taken_as_sigma_is_named(notebook):
    found = messages_after(notebook, "sigmoid_vjp", "g * s * (1.0 - s)", "g * s")
    assert "sigma(x) (1 - sigma(x))" in found["test_sigmoid_vjp_values"]


@pytest.mark.parametrize("function", ["softmax_cross_entropy", "softmax_cross_entropy_vjp"])
def test_an_unstable_softmax_is_told_to_subtract_the_row_maximum(notebook, function):
    old = "logits - logits.max(axis=1, keepdims=True)"
    found = messages_after(notebook, function, old, "logits")
    assert set(found) == {f"test_{function}_large_logits"}
    assert "subtract the maximum of each row" in found[f"test_{function}_large_logits"]


def test_a_log_of_the_softmax_is_told_to_use_logsumexp(notebook):
    """Shifted but then ``log(p)``: a probability of e^-5000 is 0, and its log is -inf."""
    source = '''
def softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(labels)), labels]).mean()
'''
    found = messages(namespace_with(notebook, softmax_cross_entropy=source), "softmax_cross_entropy")
    assert set(found) == {"test_softmax_cross_entropy_large_logits"}
    assert "z - logsumexp(z), not log(p)" in found["test_softmax_cross_entropy_large_logits"]


def test_a_loss_per_example_is_told_to_be_one_number(notebook):
    found = messages_after(notebook, "softmax_cross_entropy", ".mean()", "")
    assert "should be one number (the mean over the batch)" in found["test_softmax_cross_entropy_values"]


def test_a_forgotten_mean_in_the_cross_entropy_vjp_is_named(notebook):
    found = messages_after(notebook, "softmax_cross_entropy_vjp", " / batch", "")
    assert "divide by the batch size B" in found["test_softmax_cross_entropy_vjp_values"]


def test_the_wrong_number_of_outputs_is_counted(notebook):
    found = messages_after(notebook, "linear_vjp", "return gx, gW, gb", "return gx, gW")
    assert "should return 3 arrays, (gx, gW, gb), but it returned a tuple of 2 values" in found[
        "test_linear_vjp_gx"]


def test_a_forgotten_return_is_pointed_out(notebook):
    found = messages_after(notebook, "relu_vjp", "return g * (x > 0)", "g * (x > 0)")
    assert "forget to `return`" in found["test_relu_vjp_values"]


def test_an_exception_in_the_students_code_is_named(notebook):
    found = messages_after(notebook, "mse_vjp", "pred.size", "pred.shape[2]")
    assert set(found) == {"test_mse_vjp_gpred", "test_mse_vjp_gtarget"}
    assert all("`mse_vjp` raised IndexError" in message for message in found.values())


def test_a_release_stub_is_not_written_yet(notebook):
    found = messages(namespace_with(notebook, mse_vjp=stub("mse_vjp", "g, pred, target")), "mse_vjp")
    assert set(found) == {"test_mse_vjp_gpred", "test_mse_vjp_gtarget"}
    assert all("`mse_vjp` is not written yet" in message for message in found.values())


def test_an_undefined_function_is_reported(notebook):
    namespace = notebooks.namespace_of(notebook)
    del namespace["tanh_vjp"]
    assert "`tanh_vjp` is not defined" in messages(namespace, "tanh_vjp")["test_tanh_vjp_values"]


def test_mlp_gradients_in_backward_order_are_told_to_reverse(notebook):
    found = messages_after(notebook, "mlp_loss_and_grads", "grads[::-1]", "grads")
    assert "last layer first" in found["test_mlp_loss_and_grads_shapes"]
    assert "test_mlp_loss_and_grads_one_layer" not in found  # one layer has one order


def test_mlp_relu_on_the_logits_is_named(notebook):
    found = messages_after(notebook, "mlp_loss_and_grads", "logits = pre_activations[-1]", "logits = h")
    assert "the last layer has no ReLU" in found["test_mlp_loss_and_grads_loss"]


def test_mlp_backward_pass_seeded_with_the_loss_is_named(notebook):
    found = messages_after(notebook, "mlp_loss_and_grads", "vjp(1.0,", "vjp(loss,")
    assert "not from the loss" in found["test_mlp_loss_and_grads_grads"]


# --- every correct solution passes --------------------------------------------------------------

CORRECT_VARIANTS = {
    "linear_vjp": {
        "einsum": '''
def linear_vjp(g, x, W, b):
    return np.einsum("km,mn->kn", g, W), np.einsum("km,kn->mn", g, x), np.einsum("km->m", g)
''',
        "loops and a list": '''
def linear_vjp(g, x, W, b):
    gx, gW, gb = np.zeros_like(x), np.zeros_like(W), np.zeros_like(b)
    for k in range(x.shape[0]):
        gx[k] = W.T @ g[k]
        gW += np.outer(g[k], x[k])
        gb += g[k]
    return [gx, gW, gb]
''',
        "float32": '''
def linear_vjp(g, x, W, b):
    g, x, W = g.astype(np.float32), x.astype(np.float32), W.astype(np.float32)
    return g @ W, g.T @ x, g.sum(axis=0)
''',
    },
    "relu_vjp": {
        "where": "def relu_vjp(g, x):\n    return np.where(x > 0, g, 0.0)\n",
        "heaviside": "def relu_vjp(g, x):\n    return g * np.heaviside(x, 0.0)\n",
    },
    "sigmoid_vjp": {
        "from tanh": '''
def sigmoid_vjp(g, x):
    s = 0.5 * (1.0 + np.tanh(0.5 * x))
    return g * s * (1 - s)
''',
    },
    "tanh_vjp": {
        "1 / cosh^2": "def tanh_vjp(g, x):\n    return g / np.cosh(x) ** 2\n",
    },
    "softmax_cross_entropy": {
        "logaddexp.reduce": '''
def softmax_cross_entropy(logits, labels):
    picked = np.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
    return float(np.mean(np.logaddexp.reduce(logits, axis=1) - picked))
''',
    },
    "softmax_cross_entropy_vjp": {
        "exp of log-softmax, in place": '''
def softmax_cross_entropy_vjp(g, logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))
    p[np.arange(len(labels)), labels] -= 1.0
    return g * p / len(labels)
''',
    },
    "mse_vjp": {
        "a list": '''
def mse_vjp(g, pred, target):
    d = 2 * g * (pred - target) / np.size(pred)
    return [d, -d]
''',
    },
    "mlp_loss_and_grads": {
        "masks from h, lists, recursion-free in another order": '''
def mlp_loss_and_grads(params, x, labels):
    hs = [x]
    for W, b in params[:-1]:
        hs.append(np.maximum(hs[-1] @ W.T + b, 0.0))
    logits = hs[-1] @ params[-1][0].T + params[-1][1]
    g = softmax_cross_entropy_vjp(1.0, logits, labels)
    grads = [None] * len(params)
    for layer in range(len(params) - 1, -1, -1):
        g_h, gW, gb = linear_vjp(g, hs[layer], *params[layer])
        grads[layer] = [gW.astype(np.float32), gb]
        g = relu_vjp(g_h, hs[layer])  # [h > 0] is [z > 0]
    return softmax_cross_entropy(logits, labels), grads
''',
    },
}


@pytest.mark.parametrize(("function", "variant"),
                         [(f, v) for f, variants in CORRECT_VARIANTS.items() for v in variants])
def test_a_correct_variant_passes_every_check(notebook, function, variant):
    namespace = namespace_with(notebook, **{function: CORRECT_VARIANTS[function][variant]})
    assert messages(namespace, function) == {}


# --- mlp_loss_and_grads is judged on its own ----------------------------------------------------


def test_mlp_stands_on_the_reference_layers_and_gives_the_students_back(notebook):
    """With every building block a release stub, the reference MLP still earns every point, and
    the stubs are in the namespace again afterwards; a name that was missing stays missing."""
    signatures = {"linear_vjp": "g, x, W, b", "relu_vjp": "g, x", "sigmoid_vjp": "g, x",
                  "softmax_cross_entropy": "logits, labels", "softmax_cross_entropy_vjp": "g, logits, labels",
                  "mse_vjp": "g, pred, target"}
    namespace = namespace_with(notebook, **{name: stub(name, s) for name, s in signatures.items()})
    del namespace["tanh_vjp"]
    before = {name: namespace[name] for name in signatures}
    assert messages(namespace, "mlp_loss_and_grads") == {}
    assert {name: namespace[name] for name in signatures} == before
    assert "tanh_vjp" not in namespace
    assert set(BUILDING_BLOCKS) == {check.function for check in checks_of(A)} - {"mlp_loss_and_grads"}


def test_the_students_names_come_back_when_the_mlp_raises(notebook):
    namespace = namespace_with(notebook, mlp_loss_and_grads=stub("mlp_loss_and_grads", "params, x, labels"))
    own = namespace["linear_vjp"]
    found = messages(namespace, "mlp_loss_and_grads")
    assert "not written yet" in found["test_mlp_loss_and_grads_grads"]
    assert namespace["linear_vjp"] is own


# --- the second and third opinions ----------------------------------------------------------------


def test_finite_differences_catch_what_a_wrong_reference_would_let_through():
    check = LinearVjpGx()
    case = check.case(np.random.default_rng(0))
    wrong = 2.0 * case.expected[0]
    case.expected = (wrong, *case.expected[1:])  # as if the kit had the factor wrong too
    with pytest.raises(GradingError, match="disagrees with finite differences"):
        check.verdict(case, (wrong, case.expected[1], case.expected[2]))


def test_the_mlp_is_checked_against_autodiff_and_finite_differences():
    check = MlpLossAndGradsGrads()
    case = check.case(np.random.default_rng(1))
    wrong = [(2.0 * gW, gb) for gW, gb in case.expected["grads"]]
    case.expected["grads"] = wrong  # the hand-written reference alone would accept it
    with pytest.raises(GradingError, match="gW of layer 1"):
        check.verdict(case, (case.expected["loss"], wrong))
    case.expected["autodiff"] = wrong  # both kit references would: finite differences do not
    with pytest.raises(GradingError, match="disagrees with finite differences"):
        check.verdict(case, (case.expected["loss"], wrong))
