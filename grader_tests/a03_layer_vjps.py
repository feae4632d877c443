"""Hidden checks of 03_layer_vjps: the VJPs of common layers, and backpropagation through an MLP.

Every cotangent is judged twice on fresh shapes and values: against the kit's hand-derived
rule (``autodiff_kit.layers``), which gives the sharpest message (shape, largest error, the
pattern of the error), and against central differences (``autodiff_kit.testing``) along a
random direction, which trusts no reference at all. Edge-case cells add ReLU at exactly 0, a
batch of one, inputs where a naive exponential overflows, layer normalization of constant rows
and with a given eps, and MLPs of one and of ten layers.

When a wrong answer matches a known slip (the derivative without the cotangent, sigma'
taken as sigma, a path left out of layer normalization, gradients listed last layer first),
the message names it instead of quoting numbers.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from autodiff_kit import grad, layers, vspace
from autodiff_kit.testing import numerical_jvp
from autodiff_kit.tree import tree_flatten
from grader_tests.checks import Case, Check
from grader_tests.feedback import GradingError, as_float_array, expect_close, expect_shape, tolerance_for

ASSIGNMENT = "03_layer_vjps"
ROW_MAXIMUM = "e^z overflows for logits of size 1e4: subtract the maximum of each row before exponentiating."
LOG_SOFTMAX = ("for logits of size 1e4, e^z overflows and a probability can underflow to 0: subtract the "
               "maximum of each row before exponentiating, and take log p as z - logsumexp(z), not log(p).")
KINK_MARGIN = 1e-3  # hidden pre-activations of a drawn MLP stay this far from ReLU's kink


# --- drawing inputs ---------------------------------------------------------------------------


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries with 0.1 <= |x| <= 2, of random sign but at least one of each (``shape`` has two
    entries or more): no ReLU kink within a difference step, and both of ReLU's pieces."""
    x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)
    x.flat[0], x.flat[1] = abs(x.flat[0]), -abs(x.flat[1])
    return x


def elementwise_shape(rng: np.random.Generator) -> tuple[int, ...]:
    """A vector or a batch of them: an elementwise VJP must not care."""
    return tuple(int(d) for d in rng.integers(2, 7, size=rng.integers(1, 3)))


def distinct_sizes(rng: np.random.Generator, count: int, low: int = 2, high: int = 7) -> list[int]:
    """``count`` sizes in ``[low, high)``, each differing from the one before: no square weights."""
    sizes = [int(rng.integers(low, high))]
    while len(sizes) < count:
        size = int(rng.integers(low, high))
        if size != sizes[-1]:
            sizes.append(size)
    return sizes


def cotangent_scale(rng: np.random.Generator) -> float:
    """A scalar cotangent of a loss, far from 1 so that one forgotten ``g`` shows."""
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 3.0))


def large_logits(rng: np.random.Generator, batch: int, classes: int) -> np.ndarray:
    """Logits of magnitude 1e4: rows near +1e4 and near -1e4 (close logits within a row, so the
    softmax is not one-hot), and a last row spread over [-1e4, 1e4]."""
    centres = 1e4 * rng.choice([-1.0, 1.0], batch)
    centres[:2] = [1e4, -1e4]  # one row of each sign, whatever the draw
    logits = centres[:, None] + rng.normal(0.0, 3.0, (batch, classes))
    logits[-1] = 1e4 * rng.uniform(-1.0, 1.0, classes)
    return logits


def with_large_entries(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries with |x| in [750, 1000], where exp(|x|) overflows, of both signs whatever the draw.

    Every activation's derivative there is 0 to the last bit, so the check judges only what
    it is about (no NaN, no inf), and a slip elsewhere (a forgotten cotangent) is left to the
    values check.
    """
    x = rng.choice([-1.0, 1.0], shape) * rng.uniform(750.0, 1000.0, shape)
    x.flat[0], x.flat[1] = abs(x.flat[0]), -abs(x.flat[1])
    return x


# --- judging a cotangent ------------------------------------------------------------------------


def expect_cotangent(got: object, expected: np.ndarray, label: str, why_shape: str = "",
                     suspects: Sequence[tuple[np.ndarray, str]] = (), overflow: str = "") -> None:
    """Like ``expect_close``, but a wrong answer that equals a known slip is named as that slip.

    ``suspects`` pairs the answer a typical mistake gives with the sentence that explains it;
    ``overflow`` says how to avoid the overflow behind a NaN or infinite answer.
    """
    array = as_float_array(got, label)
    expect_shape(array, np.shape(expected), label, why_shape)
    rtol = tolerance_for(got)
    finite = np.all(np.isfinite(array))
    if overflow and not finite and np.all(np.isfinite(expected)):
        raise GradingError(f"{label} contains NaN or infinite values where the answer is finite: {overflow}")
    if finite and not np.allclose(array, expected, rtol=rtol, atol=1e-9):
        for wrong, sentence in suspects:
            if np.allclose(array, wrong, rtol=rtol, atol=1e-9):
                raise GradingError(f"{label} is wrong: {sentence}")
    expect_close(got, expected, label)


def expect_number(got: object, expected: float, label: str,
                  suspects: Sequence[tuple[float, str]] = (), overflow: str = "") -> None:
    """``expect_cotangent`` for one number, whose error has no pattern to read (no ratio, no index).

    An array holding a single entry counts as that number.
    """
    array = as_float_array(got, label)
    if array.size != 1:
        raise GradingError(f"{label} should be one number (the mean over the batch), but it has shape "
                           f"{array.shape}.")
    value = float(array.ravel()[0])
    if np.isclose(value, expected, rtol=tolerance_for(got), atol=1e-9):
        return
    if not np.isfinite(value):
        why = f": {overflow}" if overflow else "."
        raise GradingError(f"{label} is {value}, but the answer is finite{why}")
    for wrong, sentence in suspects:
        if np.isclose(value, wrong, rtol=tolerance_for(got), atol=1e-9):
            raise GradingError(f"{label} is wrong: {sentence}")
    raise GradingError(f"{label} is {value:.10g}, but it should be {expected:.10g}.")


def expect_slope(got: Any, expected: Any, direction: Any, slope: float, label: str) -> None:
    """A ``GradingError`` unless $\\langle \\bar x, v \\rangle$ equals the central difference ``slope``.

    A cotangent $\\bar x$ is the gradient of $\\langle g, f(x) \\rangle$, so its inner product
    with a direction $v$ is that function's derivative along $v$. The tolerance is relative
    to $\\|\\bar x\\| \\|v\\|$ (the Cauchy-Schwarz bound), so that float32 answers pass too.
    ``got``, ``expected`` and ``direction`` may be arrays or nested pairs of them.
    """
    computed = inner(got, direction)
    scale = np.sqrt(inner(expected, expected) * inner(direction, direction))
    tolerance = max(1e-5, tolerance_for(tree_flatten(got)[0][0])) * scale + 1e-7
    if not abs(computed - slope) <= tolerance:
        raise GradingError(f"{label} disagrees with finite differences: along a random direction v the "
                           f"derivative is {slope:.6g}, but the inner product of {label} with v is "
                           f"{computed:.6g}.")


def inner(a: Any, b: Any) -> float:
    """The sum of $a \\odot b$ over every leaf, whether the pairs are tuples or lists."""
    pairs = zip(tree_flatten(a)[0], tree_flatten(b)[0], strict=True)
    return float(sum(np.vdot(np.asarray(x, np.float64), np.asarray(y, np.float64)) for x, y in pairs))


def trees_close(a: Any, b: Any) -> bool:
    """Whether every leaf of ``a`` is close to the same leaf of ``b`` (pairs as tuples or lists)."""
    pairs = zip(tree_flatten(a)[0], tree_flatten(b)[0], strict=True)
    return all(np.allclose(np.asarray(x, np.float64), y, rtol=tolerance_for(x), atol=1e-9) for x, y in pairs)


def describe(value: Any) -> str:
    """What came back, in words: ``a tuple of 3 values``, ``a float``."""
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} values"
    return f"a {type(value).__name__}"


def slope_along(f: Callable, args: Sequence, index: int, direction: Any) -> float:
    """The central-difference derivative of scalar ``f(*args)`` along ``direction`` in ``args[index]``."""
    def of_one(x):
        return f(*args[:index], x, *args[index + 1:])
    return float(numerical_jvp(of_one, (args[index],), (direction,)))


# --- layer VJPs ---------------------------------------------------------------------------------


class LayerVjp(Check):
    """A VJP ``fn(g, *inputs)`` against the kit's rule and against finite differences.

    ``inputs`` names the primal inputs in order and ``cotangents`` the outputs, each the
    cotangent of the input at the same position; ``judged`` are the outputs this cell judges.
    The ``draw`` of a subclass returns ``(g, inputs)``.
    """

    abstract = True
    assignment = ASSIGNMENT
    inputs: ClassVar[tuple[str, ...]] = ("x",)
    cotangents: ClassVar[tuple[str, ...]] = ("gx",)
    judged: ClassVar[tuple[str, ...]] = ()  # empty: all of them
    finite_differences: ClassVar[bool] = True
    overflow: ClassVar[str] = ""  # how to avoid the overflow behind a NaN or infinite answer
    forward: ClassVar[Callable]
    reference: ClassVar[Callable]

    def draw(self, rng: np.random.Generator) -> tuple[Any, tuple]:
        raise NotImplementedError

    def case(self, rng: np.random.Generator) -> Case:
        g, inputs = self.draw(rng)
        expected = self.reference(g, *inputs)
        expected = tuple(expected) if len(self.cotangents) > 1 else (expected,)
        notes: dict = {"g": g, "inputs": inputs, "directions": {}, "slopes": {}}
        if self.finite_differences:
            def paired_with_g(*args):
                return np.sum(g * self.forward(*args))

            for name in self.judged_names():
                index = self.cotangents.index(name)
                direction = rng.standard_normal(np.shape(inputs[index]))
                notes["directions"][name] = direction
                notes["slopes"][name] = slope_along(paired_with_g, inputs, index, direction)
        args = copy.deepcopy([g, *inputs])
        return Case("call", {"function": self.function, "args": args}, expected=expected, notes=notes)

    def judged_names(self) -> tuple[str, ...]:
        return self.judged or self.cotangents

    def label(self, name: str) -> str:
        if len(self.cotangents) == 1:
            return f"`{self.function}(g, {', '.join(self.inputs)})`"
        return f"{name} from `{self.function}`"

    def unpacked(self, got: Any) -> tuple:
        """The returned cotangents as a tuple (a list is as good), or a message on their number."""
        count = len(self.cotangents)
        if count == 1:
            return (got,)
        if not isinstance(got, tuple | list) or len(got) != count:
            raise GradingError(f"`{self.function}` should return {count} arrays, "
                               f"({', '.join(self.cotangents)}), but it returned {describe(got)}.")
        return tuple(got)

    def suspects(self, case: Case, name: str) -> list[tuple[np.ndarray, str]]:
        """Answers of typical slips for output ``name``, each with the sentence naming it."""
        return []

    def verdict(self, case: Case, got: Any) -> None:
        returned = self.unpacked(got)
        for name in self.judged_names():
            index = self.cotangents.index(name)
            label = self.label(name)
            expect_cotangent(returned[index], case.expected[index], label,
                             why_shape=f"the shape of {self.inputs[index]}",
                             suspects=self.suspects(case, name), overflow=self.overflow)
            if self.finite_differences:
                expect_slope(returned[index], case.expected[index], case.notes["directions"][name],
                             case.notes["slopes"][name], label)


# linear_vjp


class LinearVjp(LayerVjp):
    abstract = True
    function = "linear_vjp"
    inputs = ("x", "W", "b")
    cotangents = ("gx", "gW", "gb")
    forward = staticmethod(layers.linear)
    reference = staticmethod(layers.linear_vjp)
    batch: ClassVar[int | None] = None  # None: drawn

    def draw(self, rng: np.random.Generator) -> tuple[Any, tuple]:
        batch = self.batch or int(rng.integers(2, 7))
        n, m = distinct_sizes(rng, 2)
        x, W, b = rng.standard_normal((batch, n)), rng.standard_normal((m, n)), rng.standard_normal(m)
        return rng.standard_normal((batch, m)), (x, W, b)

    def suspects(self, case: Case, name: str) -> list[tuple[np.ndarray, str]]:
        g = case.notes["g"]
        if name == "gb" and len(g) > 1:
            return [(g.mean(axis=0), "it is the mean of g over the batch; b is shared by every example, "
                                     "so its cotangent is the sum.")]
        return []


class LinearVjpShapes(LinearVjp):
    """the shapes of gx, gW and gb, for non-square weights."""

    aspect = "shapes"
    finite_differences = False

    def verdict(self, case: Case, got: Any) -> None:
        returned = self.unpacked(got)
        for name, value, expected, of in zip(self.cotangents, returned, case.expected, self.inputs,
                                             strict=True):
            expect_shape(as_float_array(value, self.label(name)), expected.shape, self.label(name),
                         f"the shape of {of}")


class LinearVjpGx(LinearVjp):
    """gx on fresh random shapes and values."""

    aspect = "gx"
    judged = ("gx",)


class LinearVjpGW(LinearVjp):
    """gW on fresh random shapes and values."""

    aspect = "gW"
    points = 2
    judged = ("gW",)


class LinearVjpGb(LinearVjp):
    """gb on fresh random shapes and values."""

    aspect = "gb"
    judged = ("gb",)


class LinearVjpBatchOfOne(LinearVjp):
    """gx, gW and gb for a batch of one example, x of shape (1, n)."""

    aspect = "batch_of_one"
    batch = 1


# elementwise activations


class Elementwise(LayerVjp):
    """An activation's VJP, $\\bar x = g \\odot f'(x)$, on a vector or a batch."""

    abstract = True
    slips: ClassVar[tuple[tuple[Callable, str], ...]] = ()  # (answer from g and x, what went wrong)
    large: ClassVar[bool] = False  # inputs where exp overflows

    def draw(self, rng: np.random.Generator) -> tuple[Any, tuple]:
        shape = elementwise_shape(rng)
        x = with_large_entries(rng, shape) if self.large else rng.normal(0.0, 2.0, shape)
        return rng.standard_normal(shape), (x,)

    def suspects(self, case: Case, name: str) -> list[tuple[np.ndarray, str]]:
        g, (x,) = case.notes["g"], case.notes["inputs"]
        without_g = (self.reference(np.ones_like(g), x),
                     "it is the derivative alone: multiply it by the cotangent g, elementwise.")
        return [without_g, *((slip(g, x), sentence) for slip, sentence in self.slips)]


class ReluVjp(Elementwise):
    abstract = True
    function = "relu_vjp"
    forward = staticmethod(layers.relu)
    reference = staticmethod(layers.relu_vjp)
    slips = ((lambda g, x: g * np.maximum(x, 0.0),
              "it is g times relu(x); the derivative of relu is the step [x > 0] (1 where x > 0, else 0)."),)


class ReluVjpValues(ReluVjp):
    """fresh random shapes and values, away from the kink."""

    aspect = "values"
    points = 2

    def draw(self, rng: np.random.Generator) -> tuple[Any, tuple]:
        shape = elementwise_shape(rng)
        return rng.standard_normal(shape), (away_from_zero(rng, shape),)


class ReluVjpAtZero(ReluVjp):
    """entries exactly 0 and -0.0, where the subgradient is 0, among negative ones.

    Only the kinks are non-trivial: where x < 0 every plausible answer is 0, so a slip away
    from the kink (left to the values check) does not change this check's verdict.
    """

    aspect = "at_zero"
    finite_differences = False

    def draw(self, rng: np.random.Generator) -> tuple[Any, tuple]:
        shape = elementwise_shape(rng)
        x = np.where(rng.random(shape) < 0.5, 0.0, -np.abs(away_from_zero(rng, shape)))
        x.flat[-2:] = 0.0, -0.0  # an exact zero of each sign, whatever the draw
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape), (x,)

    def verdict(self, case: Case, got: Any) -> None:
        g, (x,) = case.notes["g"], case.notes["inputs"]
        array = as_float_array(got, self.label("gx"))
        at_kink = x == 0
        if array.shape == x.shape and np.allclose(array[at_kink], g[at_kink]):
            raise GradingError(f"{self.label('gx')} passes the cotangent through where x == 0 exactly, as if "
                               "relu'(0) were 1. Take the subgradient 0 there: use x > 0, not x >= 0.")
        super().verdict(case, got)


class SigmoidVjp(Elementwise):
    abstract = True
    function = "sigmoid_vjp"
    forward = staticmethod(layers.sigmoid)
    reference = staticmethod(layers.sigmoid_vjp)
    overflow = ("for x above 709, e^x is inf and e^x / (1 + e^x) is inf / inf = nan; "
                "compute sigma as 1 / (1 + e^(-x)).")
    slips = ((lambda g, x: g * layers.sigmoid(x),
              "it is g times sigma(x), but the derivative of sigma is sigma(x) (1 - sigma(x))."),)


class SigmoidVjpValues(SigmoidVjp):
    """fresh random shapes and values."""

    aspect = "values"
    points = 2


class SigmoidVjpLargeInputs(SigmoidVjp):
    """inputs up to 1000 in size, where exp overflows; still finite."""

    aspect = "large_inputs"
    finite_differences = False
    large = True


class TanhVjp(Elementwise):
    abstract = True
    function = "tanh_vjp"
    forward = staticmethod(layers.tanh)
    reference = staticmethod(layers.tanh_vjp)
    overflow = "for |x| above 709, e^x or e^(-x) is inf and a ratio of them nan; compute tanh with np.tanh."
    slips = ((lambda g, x: g * (1.0 - np.tanh(x)),
              "it is g (1 - tanh x); the derivative of tanh is 1 - tanh(x)**2, with the square."),
             (lambda g, x: g * (1.0 - x ** 2),
              "it is g (1 - x**2); the derivative of tanh is 1 - tanh(x)**2, square tanh(x), not x."))


class TanhVjpValues(TanhVjp):
    """fresh random shapes and values."""

    aspect = "values"
    points = 2


class TanhVjpLargeInputs(TanhVjp):
    """inputs up to 1000 in size, where exp overflows; still finite."""

    aspect = "large_inputs"
    finite_differences = False
    large = True


# softmax cross-entropy


def draw_classification(rng: np.random.Generator, large: bool) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(B, C)`` with B != C and B >= 3, and integer labels ``(B,)``."""
    batch, classes = distinct_sizes(rng, 2, low=3)
    logits = large_logits(rng, batch, classes) if large else rng.normal(0.0, 3.0, (batch, classes))
    return logits, rng.integers(0, classes, batch)


class SoftmaxCrossEntropy(Check):
    """The mean loss against the kit's, for moderate logits or logits of magnitude 1e4."""

    abstract = True
    assignment = ASSIGNMENT
    function = "softmax_cross_entropy"
    large: ClassVar[bool] = False

    def case(self, rng: np.random.Generator) -> Case:
        logits, labels = draw_classification(rng, self.large)
        return Case("call", {"function": self.function, "args": [logits.copy(), labels.copy()]},
                    expected=layers.softmax_cross_entropy(logits, labels), notes={"batch": len(labels)})

    def verdict(self, case: Case, got: Any) -> None:
        total = (case.expected * case.notes["batch"],
                 "it is the sum over the batch; the loss is the mean, so divide by the batch size.")
        expect_number(got, case.expected, f"The loss from `{self.function}`", [total], LOG_SOFTMAX)


class SoftmaxCrossEntropyValues(SoftmaxCrossEntropy):
    """fresh random logits and labels."""

    aspect = "values"
    points = 2


class SoftmaxCrossEntropyLargeLogits(SoftmaxCrossEntropy):
    """logits of size 1e4: the loss must be finite and exact."""

    aspect = "large_logits"
    large = True


class SoftmaxCrossEntropyVjp(LayerVjp):
    abstract = True
    function = "softmax_cross_entropy_vjp"
    inputs = ("logits", "labels")
    cotangents = ("gz",)
    forward = staticmethod(layers.softmax_cross_entropy)
    reference = staticmethod(layers.softmax_cross_entropy_vjp)
    overflow = ROW_MAXIMUM
    large: ClassVar[bool] = False

    def draw(self, rng: np.random.Generator) -> tuple[Any, tuple]:
        return cotangent_scale(rng), draw_classification(rng, self.large)

    def label(self, name: str) -> str:
        return f"`{self.function}(g, logits, labels)`"

    def suspects(self, case: Case, name: str) -> list[tuple[np.ndarray, str]]:
        g, (logits, labels) = case.notes["g"], case.notes["inputs"]
        unit = self.reference(1.0, logits, labels)
        return [(unit, "it ignores the cotangent g of the loss: multiply by g."),
                (unit * g * len(labels), "it is the gradient of the sum over the batch; the loss is the "
                                         "mean, so divide by the batch size B.")]


class SoftmaxCrossEntropyVjpShape(SoftmaxCrossEntropyVjp):
    """the shape of the result, that of the logits (B != C)."""

    aspect = "shape"
    finite_differences = False

    def verdict(self, case: Case, got: Any) -> None:
        label = self.label("gz")
        expect_shape(as_float_array(got, label), case.expected[0].shape, label, "the shape of the logits")


class SoftmaxCrossEntropyVjpValues(SoftmaxCrossEntropyVjp):
    """fresh random logits, labels and scalar cotangent g."""

    aspect = "values"
    points = 2


class SoftmaxCrossEntropyVjpLargeLogits(SoftmaxCrossEntropyVjp):
    """logits of size 1e4: the result must be finite and exact."""

    aspect = "large_logits"
    finite_differences = False
    large = True


# mean squared error


class MseVjp(LayerVjp):
    abstract = True
    function = "mse_vjp"
    inputs = ("pred", "target")
    cotangents = ("gpred", "gtarget")
    forward = staticmethod(layers.mse)
    reference = staticmethod(layers.mse_vjp)

    def draw(self, rng: np.random.Generator) -> tuple[Any, tuple]:
        shape = tuple(distinct_sizes(rng, 2))  # a batch of B rows of n >= 2 entries
        return cotangent_scale(rng), (rng.standard_normal(shape), rng.standard_normal(shape))

    def suspects(self, case: Case, name: str) -> list[tuple[np.ndarray, str]]:
        g = case.notes["g"]
        pred, target = case.notes["inputs"]
        sign = 1.0 if name == "gpred" else -1.0
        return [(sign * 2.0 * (pred - target) / pred.size,
                 "it ignores the cotangent g of the loss: multiply by g."),
                (sign * g * 2.0 * (pred - target) / len(pred),
                 "it divides by the batch size, but the mean is over all N = pred.size entries.")]


class MseVjpGpred(MseVjp):
    """gpred on fresh random shapes and values."""

    aspect = "gpred"
    points = 2
    judged = ("gpred",)


class MseVjpGtarget(MseVjp):
    """gtarget on fresh random shapes and values."""

    aspect = "gtarget"
    judged = ("gtarget",)


# layer normalization

LAYERNORM_EPS = 1e-5  # the default eps of layernorm_vjp(g, x, eps=1e-5)
CONSTANT_ROW = ("a constant row has variance 0, yet its derivative is finite: divide by sqrt(var + eps), "
                "which eps keeps positive, never by sqrt(var) or the standard deviation alone.")
SLIP_SENTENCES = {
    "mean": ("it leaves out the path through the mean: each entry of a row also moves the row's mean, "
             "which every output of the row subtracts, and the cotangent along that path must be added."),
    "variance": ("it leaves out the path through the variance: each entry of a row also moves the row's "
                 "variance, which scales every output of the row, and the cotangent along that path must "
                 "be added."),
    "elementwise": ("it treats the mean and the variance as constants, as if the layer were elementwise: "
                    "each entry also reaches every output of its row through the mean and through the "
                    "variance, and the cotangents along those paths must be added."),
    "ddof": ("it uses the sample variance (ddof=1, dividing by n - 1); layer normalization uses the "
             "population variance, the mean of the squared deviations (dividing by n, NumPy's default "
             "ddof=0)."),
    "no_eps": "it ignores eps: add eps to the variance before the square root, wherever sigma appears.",
    "default_eps": "it uses eps = 1e-5 whatever eps it is given: use the argument eps.",
    "batch_axis": ("it takes the mean and the variance over the batch axis (axis=0); layer normalization "
                   "normalizes each row on its own, over the last axis (axis=-1)."),
    "zero": ("it is 0 on constant rows, but the outputs of a constant row still change when its entries "
             "move apart: the derivative there is finite and not 0 (eps keeps sqrt(var + eps) positive)."),
}


def layernorm_slips(g: np.ndarray, x: np.ndarray, eps: float) -> dict[str, np.ndarray]:
    """What each typical slip of ``layernorm_vjp`` returns for ``(g, x, eps)``, by name.

    A slip that divides by a zero variance gives NaN or inf there, as the student's code would.
    """
    def parts(eps: float, ddof: int = 0, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
        centred = x - x.mean(axis=axis, keepdims=True)
        sigma = np.sqrt(np.sum(centred ** 2, axis=axis, keepdims=True) / (x.shape[axis] - ddof) + eps)
        return sigma, centred / sigma

    def full(sigma: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return (g - g.mean(axis=axis, keepdims=True) - y * (g * y).mean(axis=axis, keepdims=True)) / sigma

    with np.errstate(all="ignore"):
        sigma, y = parts(eps)
        return {"mean": (g - y * (g * y).mean(axis=-1, keepdims=True)) / sigma,
                "variance": (g - g.mean(axis=-1, keepdims=True)) / sigma,
                "elementwise": g / sigma,
                "ddof": full(*parts(eps, ddof=1)),
                "no_eps": full(*parts(0.0)),
                "default_eps": full(*parts(LAYERNORM_EPS)),
                "batch_axis": full(*parts(eps, axis=0), axis=0),
                "zero": np.zeros_like(x)}


def standardized_rows(rng: np.random.Generator, batch: int, n: int) -> np.ndarray:
    """``(batch, n)`` standard normal rows shifted and scaled to mean 0 and population variance 1 exactly."""
    z = rng.standard_normal((batch, n))
    z -= z.mean(axis=1, keepdims=True)
    return z / z.std(axis=1, keepdims=True)


class LayernormVjp(LayerVjp):
    """``layernorm_vjp(g, x[, eps])`` against the kit's rule and finite differences.

    Grading is the same under every seed for each catalogued slip: a draw is kept only if every
    slip in ``separated`` is far from the answer (or not finite), and every slip in ``matched``
    (one this cell leaves to another) equals it to well within the tolerance.
    """

    abstract = True
    function = "layernorm_vjp"
    forward = staticmethod(layers.layernorm)
    reference = staticmethod(layers.layernorm_vjp)
    overflow = CONSTANT_ROW
    suspected: ClassVar[tuple[str, ...]] = ("mean", "variance", "elementwise", "ddof", "no_eps", "batch_axis")
    separated: ClassVar[tuple[str, ...]] = ()
    matched: ClassVar[tuple[str, ...]] = ()

    def draw_once(self, rng: np.random.Generator) -> tuple[np.ndarray, tuple]:
        raise NotImplementedError

    def draw(self, rng: np.random.Generator) -> tuple[Any, tuple]:
        while True:
            g, inputs = self.draw_once(rng)
            if self.separates(g, inputs):
                return g, inputs

    @staticmethod
    def eps_of(inputs: tuple) -> float:
        return inputs[1] if len(inputs) > 1 else LAYERNORM_EPS

    def separates(self, g: np.ndarray, inputs: tuple) -> bool:
        expected = self.reference(g, *inputs)
        slips = layernorm_slips(g, inputs[0], self.eps_of(inputs))
        margin = 1e-3 * np.max(np.abs(expected))
        far = all(not np.all(np.isfinite(slips[name])) or np.max(np.abs(slips[name] - expected)) > margin
                  for name in self.separated)
        near = all(np.allclose(slips[name], expected, rtol=1e-9, atol=1e-11) for name in self.matched)
        return far and near

    def suspects(self, case: Case, name: str) -> list[tuple[np.ndarray, str]]:
        g, inputs = case.notes["g"], case.notes["inputs"]
        slips = layernorm_slips(g, inputs[0], self.eps_of(inputs))
        return [(slips[slip], SLIP_SENTENCES[slip]) for slip in self.suspected]


class LayernormVjpValues(LayernormVjp):
    """fresh random shapes and values, the default eps."""

    aspect = "values"
    points = 2
    separated = ("mean", "variance", "elementwise", "ddof")
    matched = ("no_eps",)  # rows of spread 200 to 2000, where eps = 1e-5 is below the tolerance

    def draw_once(self, rng: np.random.Generator) -> tuple[np.ndarray, tuple]:
        batch, n = distinct_sizes(rng, 2, low=3, high=8)
        spread = rng.uniform(200.0, 2000.0, (batch, 1))
        x = spread * (rng.uniform(-3.0, 3.0, (batch, 1)) + standardized_rows(rng, batch, n))
        return rng.standard_normal((batch, n)), (x,)


class LayernormVjpConstantRows(LayernormVjp):
    """rows that are constant, where the variance is 0: finite, and not 0."""

    aspect = "constant_rows"
    suspected = ("mean", "elementwise", "zero", "batch_axis")
    separated = ("mean", "elementwise", "no_eps", "zero")
    matched = ("variance", "ddof")  # y = 0 on a constant row: neither path carries anything

    def draw_once(self, rng: np.random.Generator) -> tuple[np.ndarray, tuple]:
        batch, n = distinct_sizes(rng, 2, low=3, high=8)
        levels = rng.integers(-40, 41, (batch, 1)) / 8.0  # exact in binary: the mean of a row is its level
        levels[0] = 0.0
        return rng.standard_normal((batch, n)), (np.repeat(levels, n, axis=1),)


class LayernormVjpEps(LayernormVjp):
    """a given eps, as large as the variance of the rows."""

    aspect = "eps"
    inputs = ("x", "eps")
    suspected = ("mean", "variance", "elementwise", "ddof", "no_eps", "default_eps", "batch_axis")
    separated = ("mean", "variance", "elementwise", "ddof", "no_eps", "default_eps")

    def draw_once(self, rng: np.random.Generator) -> tuple[np.ndarray, tuple]:
        batch, n = distinct_sizes(rng, 2, low=3, high=8)
        eps = float(rng.uniform(0.2, 2.0))
        spread = np.sqrt(eps) * rng.uniform(0.5, 2.0, (batch, 1))
        x = rng.uniform(-3.0, 3.0, (batch, 1)) + spread * standardized_rows(rng, batch, n)
        return rng.standard_normal((batch, n)), (x, eps)

    def label(self, name: str) -> str:
        return f"`{self.function}(g, x, eps)`"


# --- the MLP ------------------------------------------------------------------------------------


def hidden_pre_activations(params: list, x: np.ndarray) -> list[np.ndarray]:
    """$z_1, \\dots, z_{L-1}$: what every ReLU of the network sees."""
    zs, h = [], x
    for W, b in params[:-1]:
        zs.append(h @ W.T + b)
        h = np.maximum(zs[-1], 0.0)
    return zs


def draw_network(rng: np.random.Generator, depth: int) -> tuple[list, np.ndarray, np.ndarray]:
    """``(params, x, labels)`` of an MLP ``depth`` layers deep, no square weight matrix, every
    hidden pre-activation at least ``KINK_MARGIN`` from 0 (so central differences are exact), and
    a quarter of the logits below -0.5 (so a ReLU on the logits always changes the loss). The input
    width (7 or 8) is no other layer's, so the list of weight shapes never reads the same reversed."""
    sizes = [int(rng.integers(7, 9)), *distinct_sizes(rng, depth)]
    batch = int(rng.integers(2, 7))
    labels = rng.integers(0, sizes[-1], batch)
    while True:
        params = [(rng.standard_normal((m, n)) * np.sqrt(2.0 / n), 0.1 * rng.standard_normal(m))
                  for n, m in itertools.pairwise(sizes)]
        x = rng.standard_normal((batch, sizes[0]))
        logits = layers.mlp(params, x)
        if (all(np.min(np.abs(z)) > KINK_MARGIN for z in hidden_pre_activations(params, x))
                and np.mean(logits < -0.5) >= 0.25):
            return params, x, labels


class MlpLossAndGrads(Check):
    """``mlp_loss_and_grads`` run with the kit's reference VJPs in place of the student's.

    The gradients are compared with the kit's hand-written backpropagation, with the kit's
    autodiff of the same loss, and with central differences along a random direction.
    """

    abstract = True
    assignment = ASSIGNMENT
    function = "mlp_loss_and_grads"
    depths: ClassVar[tuple[int, int]] = (2, 4)  # the depth is drawn from this closed range
    judge_loss: ClassVar[bool] = True
    judge_grads: ClassVar[bool] = True

    def case(self, rng: np.random.Generator) -> Case:
        depth = int(rng.integers(self.depths[0], self.depths[1] + 1))
        params, x, labels = draw_network(rng, depth)
        loss, grads = layers.mlp_loss_and_grads(params, x, labels)
        direction = vspace.random_like(params, rng)
        slope = slope_along(layers.mlp_loss, (params, x, labels), 0, direction)
        expected = {"loss": loss, "grads": grads, "autodiff": grad(layers.mlp_loss)(params, x, labels)}
        relu_on_logits = layers.softmax_cross_entropy(np.maximum(layers.mlp(params, x), 0.0), labels)
        return Case(self.function, copy.deepcopy({"params": params, "x": x, "labels": labels}),
                    expected=expected,
                    notes={"direction": direction, "slope": slope, "relu_on_logits": relu_on_logits})

    def verdict(self, case: Case, got: Any) -> None:
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise GradingError(f"`{self.function}` should return a pair (loss, grads), "
                               f"but it returned {describe(got)}.")
        loss, grads = got
        if self.judge_loss:
            last_relu = (case.notes["relu_on_logits"], "it is the loss of relu(z_L), but the last layer has "
                                                       "no ReLU: its outputs z_L are the logits.")
            expect_number(loss, case.expected["loss"], f"The loss from `{self.function}`", [last_relu])
        if self.judge_grads:
            self.expect_gradients(grads, case)

    def expect_gradients(self, grads: Any, case: Case) -> None:
        expected = case.expected["grads"]
        self.expect_structure(grads, expected)
        scaled = [(gW * case.expected["loss"], gb * case.expected["loss"]) for gW, gb in expected]
        if trees_close(grads, scaled) and not trees_close(grads, expected):
            raise GradingError("The gradients are those of the loss times its value: the backward pass "
                               "starts from the cotangent 1 of the loss (dL/dL = 1), not from the loss.")
        for reference in (expected, case.expected["autodiff"]):
            for layer, (pair, wanted) in enumerate(zip(grads, reference, strict=True), start=1):
                for name, value, truth in zip(("gW", "gb"), pair, wanted, strict=True):
                    expect_close(value, truth, f"{name} of layer {layer} (of {len(expected)})")
        expect_slope(grads, expected, case.notes["direction"], case.notes["slope"], "the gradients")

    def expect_structure(self, grads: Any, expected: list) -> None:
        """One ``(gW, gb)`` pair per layer, first layer first, each shaped like its ``(W, b)``."""
        depth = len(expected)
        if not isinstance(grads, tuple | list) or len(grads) != depth:
            raise GradingError(f"The gradients should be a list of {depth} pairs (gW, gb), one per layer, "
                               f"but `{self.function}` returned {describe(grads)}.")
        for layer, pair in enumerate(grads, start=1):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise GradingError(f"Entry {layer} of the gradients should be a pair (gW, gb), "
                                   f"but it is {describe(pair)}.")
        shapes = [tuple(np.shape(value) for value in pair) for pair in grads]
        wanted = [tuple(np.shape(value) for value in pair) for pair in expected]
        if depth > 1 and shapes == wanted[::-1] != wanted:
            raise GradingError("The gradients are listed last layer first, the order the backward pass "
                               "finds them; reverse the list so that pair l belongs to layer l of params.")
        for layer, (pair, truth) in enumerate(zip(grads, expected, strict=True), start=1):
            for name, value, of, reference in zip(("gW", "gb"), pair, ("W", "b"), truth, strict=True):
                label = f"{name} of layer {layer} (of {depth})"
                expect_shape(as_float_array(value, label), reference.shape, label,
                             f"the shape of {of} of layer {layer}")


class MlpLossAndGradsLoss(MlpLossAndGrads):
    """the loss, for a network of 2 to 4 layers."""

    aspect = "loss"
    judge_grads = False


class MlpLossAndGradsShapes(MlpLossAndGrads):
    """one pair (gW, gb) per layer, in order, shaped like (W, b)."""

    aspect = "shapes"
    judge_loss = False

    def expect_gradients(self, grads: Any, case: Case) -> None:
        self.expect_structure(grads, case.expected["grads"])


class MlpLossAndGradsGrads(MlpLossAndGrads):
    """the gradients, for a network of 2 to 4 layers."""

    aspect = "grads"
    points = 2
    judge_loss = False


class MlpLossAndGradsOneLayer(MlpLossAndGrads):
    """a single linear layer (no ReLU at all)."""

    aspect = "one_layer"
    depths = (1, 1)


class MlpLossAndGradsTenLayers(MlpLossAndGrads):
    """a network of ten layers."""

    aspect = "ten_layers"
    depths = (10, 10)
