"""Hidden checks of 01_jacobians: Jacobians, JVPs and VJPs.

The functions the student differentiates stay on the judge's side: the student's
``numerical_jacobian`` gets an ``f`` whose every evaluation is a question to the judge, and
``jacobian_from_jvps`` / ``jacobian_from_vjps`` get a ``jvp_fn`` / ``vjp_fn`` answered with a
matrix the student never sees, so the judge counts the passes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autodiff_kit import examples, testing
from grader_tests.checks import Case, Check, Oracle
from grader_tests.feedback import GradingError, as_float_array, expect_close, expect_shape, tolerance_for
from grader_tests.probes import StudentError

ASSIGNMENT = "01_jacobians"
JACOBIAN_LAYOUT = "one row per output, one column per input"


# --- numerical_jacobian -----------------------------------------------------------------


class FunctionOracle(Oracle):
    """Evaluates the judge's ``f`` at the points the student's code asks for.

    A question it cannot answer is refused with a ``GradingError``, which reaches the
    student's code as an exception (and, in the sandbox, never takes the judge down).
    """

    def __init__(self, f: Callable[[np.ndarray], object], n: int) -> None:
        super().__init__()
        self.f, self.n = f, n

    def on_f(self, payload: object) -> object:
        x = as_float_array(payload, "The point given to f")
        if x.shape != (self.n,):
            raise GradingError(f"f takes a vector of shape ({self.n},), but it was given shape {x.shape}.")
        return self.f(x)


def away_from_zero(rng: np.random.Generator, shape, low: float, high: float) -> np.ndarray:
    """Entries of random sign with magnitudes uniform in ``[low, high]``."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def smooth_map(rng: np.random.Generator, n: int, m: int | None) -> tuple[Callable, Callable]:
    """A random ``f`` and its Jacobian in closed form: $f(x) = \\sin(Ax) + B x^2$, an
    $(m, n)$ Jacobian $\\cos(Ax) \\odot A + 2 B \\operatorname{diag}(x)$; for ``m=None`` the
    scalar $f(x) = w \\cdot \\sin x + c \\cdot x^2$, whose Jacobian is the row
    $(w \\odot \\cos x + 2 c \\odot x)^\\top$.

    $|A_{ij}|, |w_j| \\le 1$ and $|B_{ij}|, |c_j| \\ge 1$ keep every second derivative at least 1 in
    size, so a one-sided difference is off by at least $\\epsilon / 2$ in every entry, whatever the
    draw; with $x$ in $[-1, 1]^n$, $|f| \\le 11$ and central differences round to about 3e-9.
    """
    if m is None:
        w, c = away_from_zero(rng, n, 0.2, 1.0), away_from_zero(rng, n, 1.0, 2.0)
        return (lambda x: w @ np.sin(x) + c @ x**2), (lambda x: (w * np.cos(x) + 2 * c * x)[None, :])
    A, B = away_from_zero(rng, (m, n), 0.2, 1.0), away_from_zero(rng, (m, n), 1.0, 2.0)
    return (lambda x: np.sin(A @ x) + B @ x**2), (lambda x: np.cos(A @ x)[:, None] * A + 2 * B * x)


def difference_hint(got: np.ndarray, f: Callable, x: np.ndarray, eps: float) -> str:
    """Name the finite-difference formula ``got`` follows, if it is a known wrong one."""
    if got.shape != (np.size(f(x)), x.size):
        return ""
    one_sided = ("It is the one-sided {} difference, accurate only to O(eps); use the central difference "
                 "(f(x + eps e_j) - f(x - eps e_j)) / (2 eps), accurate to O(eps^2).")
    columns = {one_sided.format("forward"): lambda e: (f(x + e) - f(x)) / eps,
               one_sided.format("backward"): lambda e: (f(x) - f(x - e)) / eps,
               "It is the central difference times 2 eps^2: `/ 2 * eps` divides by 2, then multiplies by "
               "eps; write `/ (2 * eps)`.": lambda e: (f(x + e) - f(x - e)) / 2 * eps}
    for hint, column in columns.items():
        jacobian = np.stack([np.ravel(column(eps * e)) for e in np.eye(x.size)], axis=1)
        if np.allclose(got, jacobian, rtol=1e-7, atol=1e-9 * eps**2):
            return hint
    if eps != 1e-6 and np.allclose(got, testing.numerical_jacobian(f, x, 1e-6), rtol=1e-7, atol=1e-9):
        return f"It is the central difference with eps = 1e-6, but eps = {eps:.3g} was given: use it."
    return ""


class NumericalJacobian(Check):
    """``numerical_jacobian(f, x[, eps])`` with ``f`` evaluated by the judge."""

    abstract = True
    assignment = ASSIGNMENT
    function = "numerical_jacobian"
    scalar_output = False
    eps: float | None = None  # None: the student's default

    def case(self, rng: np.random.Generator) -> Case:
        n = int(rng.integers(2, 6))
        m = None if self.scalar_output else int(rng.integers(2, 6))
        while m == n:
            m = int(rng.integers(2, 6))
        f, jacobian = smooth_map(rng, n, m)
        x = rng.uniform(-1.0, 1.0, n)
        eps = None if self.eps is None else float(rng.uniform(*self.eps))
        args = [x] if eps is None else [x, eps]
        return Case("oracle_callback", {"function": self.function, "request": "f", "args": args},
                    expected=jacobian(x), oracle=FunctionOracle(f, n),
                    notes={"f": f, "x": x, "eps": eps})

    def expect_derivative(self, case: Case, got: object, name: str, why_shape: str) -> None:
        """Against the closed form, to 1e-8: central differences with eps = 1e-6 are good to about 1e-9
        here (rounding), a one-sided difference is off by at least 5e-7 (``smooth_map``)."""
        array = as_float_array(got, name)
        close = array.shape == case.expected.shape and np.allclose(array, case.expected, rtol=1e-8, atol=1e-8)
        hint = "" if close else difference_hint(array, case.notes["f"], case.notes["x"], 1e-6)
        if hint:
            raise GradingError(f"{name} is off by more than central differences allow. {hint}")
        expect_close(array, case.expected, name, why_shape=why_shape, rtol=1e-8, atol=1e-8)


class NumericalJacobianShape(NumericalJacobian):
    aspect = "shape"

    def verdict(self, case: Case, got: object) -> None:
        expect_shape(as_float_array(got, "The Jacobian"), case.expected.shape, "The Jacobian",
                     JACOBIAN_LAYOUT)


class NumericalJacobianValues(NumericalJacobian):
    aspect = "values"
    points = 2

    def verdict(self, case: Case, got: object) -> None:
        self.expect_derivative(case, got, "The Jacobian", JACOBIAN_LAYOUT)


class NumericalJacobianCentral(NumericalJacobian):
    """With a large given ``eps``, the result must be that central difference, not the derivative."""

    aspect = "central"
    eps = (0.01, 0.05)

    def verdict(self, case: Case, got: object) -> None:
        f, x, eps = case.notes["f"], case.notes["x"], case.notes["eps"]
        array = as_float_array(got, "The Jacobian")
        expected = testing.numerical_jacobian(f, x, eps)
        if array.shape == expected.shape and not np.allclose(array, expected, rtol=1e-7, atol=1e-9):
            hint = difference_hint(array, f, x, eps)
            if hint:
                raise GradingError(f"With eps = {eps:.3g} the Jacobian is not the central difference. {hint}")
        expect_close(array, expected, f"The Jacobian with eps = {eps:.3g}", why_shape=JACOBIAN_LAYOUT,
                     rtol=1e-7, atol=1e-9)


class NumericalJacobianScalarOutput(NumericalJacobian):
    aspect = "scalar_output"
    scalar_output = True

    def judge(self, case: Case, got: object) -> None:
        try:
            super().judge(case, got)
        except GradingError as error:
            if not isinstance(got, StudentError):
                raise
            advice = ("Here f returns a scalar, so each difference is a scalar too: make it an array of one "
                      "entry (np.ravel) before stacking.")
            raise GradingError(f"{str(error).rstrip('.')}. {advice}") from None

    def verdict(self, case: Case, got: object) -> None:
        self.expect_derivative(case, got, "The Jacobian of a scalar f", "a scalar f has one output: one row")


# --- jacobian_from_jvps and jacobian_from_vjps ------------------------------------------


class MatrixOracle(Oracle):
    """Answers ``jvp`` with $J v$ and ``vjp`` with $u^\\top J$ for a ``J`` only the judge holds.

    A vector of the wrong shape is refused with a ``GradingError``, as ``FunctionOracle`` does.
    """

    def __init__(self, J: np.ndarray) -> None:
        super().__init__()
        self.J = J

    def on_jvp(self, payload: object) -> np.ndarray:
        return self.J @ self._vector(payload, self.J.shape[1], "jvp_fn", "a tangent", "input")

    def on_vjp(self, payload: object) -> np.ndarray:
        return self._vector(payload, self.J.shape[0], "vjp_fn", "a cotangent", "output") @ self.J

    @staticmethod
    def _vector(payload: object, size: int, name: str, kind: str, per: str) -> np.ndarray:
        v = as_float_array(payload, f"The vector given to {name}")
        if v.shape != (size,):
            raise GradingError(f"{name} takes {kind} vector of shape ({size},), one entry per {per}, but "
                             f"it was given shape {v.shape}.")
        return v


def seed_hint(got: np.ndarray, J: np.ndarray, axis: int, seed: str) -> str:
    """Name a wrong choice of the one-hot vectors behind a wrong ``got``, if it is a known one."""
    if got.shape != J.shape or np.allclose(got, J, rtol=1e-6, atol=1e-9):
        return ""
    if np.allclose(got, np.cumsum(J, axis=axis), rtol=1e-6, atol=1e-9):
        return (f"Each {seed} is the sum of those before it: the one-hot vector is not reset to zeros "
                "before setting its 1.")
    all_ones = np.broadcast_to(J.sum(axis=axis, keepdims=True), J.shape)
    if np.allclose(got, all_ones, rtol=1e-6, atol=1e-9):
        return (f"Every {seed} is the same, J times a vector of ones: use the one-hot vectors, zero "
                "except a single 1.")
    return ""


class JacobianFromPasses(Check):
    """``jacobian_from_jvps(jvp_fn, n)`` or ``jacobian_from_vjps(vjp_fn, m)``, ``J`` on the judge's side.

    ``inputs`` and ``outputs`` are the ranges ``n`` and ``m`` are drawn from; by default both
    are at least 2 and differ, so that a transposed answer has the wrong shape.
    """

    abstract = True
    assignment = ASSIGNMENT
    mode: str  # "jvp" (columns, n passes) or "vjp" (rows, m passes)
    inputs: tuple[int, int] | None = None
    outputs: tuple[int, int] | None = None

    @property
    def seed(self) -> str:
        return "column" if self.mode == "jvp" else "row"

    def case(self, rng: np.random.Generator) -> Case:
        n = int(rng.integers(*(self.inputs or (2, 7))))
        m = int(rng.integers(*(self.outputs or (2, 7))))
        while self.inputs is None and self.outputs is None and m == n:
            m = int(rng.integers(2, 7))
        passes = n if self.mode == "jvp" else m
        J = rng.standard_normal((m, n))
        return Case("oracle_callback", {"function": self.function, "request": self.mode, "args": [passes]},
                    expected=J, oracle=MatrixOracle(J))

    def expect_jacobian(self, case: Case, got: object, name: str = "The Jacobian") -> None:
        array = as_float_array(got, name)
        hint = seed_hint(array, case.expected, 1 if self.mode == "jvp" else 0, self.seed)
        if hint:
            raise GradingError(f"{name} is wrong. {hint}")
        expect_close(array, case.expected, name, why_shape=JACOBIAN_LAYOUT)

    def expect_one_pass_each(self, case: Case) -> None:
        """Exactly one pass per column (JVPs) or row (VJPs): each is a whole sweep through f."""
        fn, passes = f"{self.mode}_fn", case.args["args"][0]
        size = "n" if self.mode == "jvp" else "m"
        calls = case.oracle.count(self.mode)
        if calls > passes:
            raise GradingError(f"`{self.function}` called `{fn}` {calls} times, but {size} = {passes} calls "
                               f"are enough, one per {self.seed}; each call is a whole pass through f, so "
                               "the point is to make no more.")
        if calls < passes:
            raise GradingError(f"`{self.function}` called `{fn}` only {calls} times, but J has {size} = "
                               f"{passes} {self.seed}s and each call gives one.")


class JacobianFromJvps(JacobianFromPasses):
    abstract = True
    function = "jacobian_from_jvps"
    mode = "jvp"


class JacobianFromJvpsValues(JacobianFromJvps):
    aspect = "values"
    points = 2

    def verdict(self, case: Case, got: object) -> None:
        self.expect_jacobian(case, got)


class JacobianFromJvpsCalls(JacobianFromJvps):
    aspect = "calls"

    def verdict(self, case: Case, got: object) -> None:
        self.expect_one_pass_each(case)


class JacobianFromJvpsOneInput(JacobianFromJvps):
    """A function of one input: its Jacobian is a single column, one JVP."""

    aspect = "one_input"
    inputs = (1, 2)

    def verdict(self, case: Case, got: object) -> None:
        self.expect_jacobian(case, got, "The Jacobian of a function of one input")


class JacobianFromVjps(JacobianFromPasses):
    abstract = True
    function = "jacobian_from_vjps"
    mode = "vjp"


class JacobianFromVjpsValues(JacobianFromVjps):
    aspect = "values"
    points = 2

    def verdict(self, case: Case, got: object) -> None:
        self.expect_jacobian(case, got)


class JacobianFromVjpsCalls(JacobianFromVjps):
    aspect = "calls"

    def verdict(self, case: Case, got: object) -> None:
        self.expect_one_pass_each(case)


class JacobianFromVjpsScalarOutput(JacobianFromVjps):
    """A scalar output (a loss): its Jacobian is the gradient as a single row, one VJP."""

    aspect = "scalar_output"
    outputs = (1, 2)

    def verdict(self, case: Case, got: object) -> None:
        self.expect_jacobian(case, got, "The Jacobian of a scalar function")


# --- softmax_jacobian -------------------------------------------------------------------


def softmax_hint(got: np.ndarray, z: np.ndarray) -> str:
    """Name the missing term of $\\operatorname{diag}(p) - p p^\\top$, if one is."""
    p = examples.softmax(z)
    if got.shape != (p.size, p.size) or np.allclose(got, np.diag(p) - np.outer(p, p), rtol=1e-6, atol=1e-9):
        return ""
    if np.allclose(got, -np.outer(p, p), rtol=1e-6, atol=1e-9):
        return ("It is -p p^T alone: the term diag(p), from differentiating the numerator e^{z_i} with "
                "respect to its own z_i, is missing.")
    if np.allclose(got, np.diag(p), rtol=1e-6, atol=1e-9):
        return ("It is diag(p) alone: every p_i also depends on every z_j through the sum in the "
                "denominator, which gives the term -p p^T.")
    return ""


class SoftmaxJacobian(Check):
    """``softmax_jacobian(z)`` against $\\operatorname{diag}(p) - p p^\\top$ from the kit."""

    abstract = True
    assignment = ASSIGNMENT
    function = "softmax_jacobian"
    offset = 0.0  # logits around +-offset

    def case(self, rng: np.random.Generator) -> Case:
        n = int(rng.integers(2, 8))
        z = rng.standard_normal(n) * 2 + self.offset * rng.choice([-1.0, 1.0])
        return Case("call", {"function": self.function, "args": [z]},
                    expected=examples.softmax_jacobian(z), notes={"z": z})

    def verdict(self, case: Case, got: object) -> None:
        array = as_float_array(got, "The softmax Jacobian")
        hint = softmax_hint(array, case.notes["z"])
        if hint:
            raise GradingError(f"The softmax Jacobian is wrong. {hint}")
        expect_close(array, case.expected, "The softmax Jacobian",
                     why_shape="each of the n outputs p_i depends on each of the n logits z_j")


class SoftmaxJacobianShape(SoftmaxJacobian):
    aspect = "shape"

    def verdict(self, case: Case, got: object) -> None:
        n = case.notes["z"].size
        expect_shape(as_float_array(got, "The softmax Jacobian"), (n, n), "The softmax Jacobian",
                     "each of the n outputs p_i depends on each of the n logits z_j")


class SoftmaxJacobianValues(SoftmaxJacobian):
    aspect = "values"
    points = 2


class SoftmaxJacobianLargeLogits(SoftmaxJacobian):
    """Logits near +-1e4, where e^z overflows (or all of them underflow to 0) unless shifted."""

    aspect = "large_logits"
    offset = 1e4


# --- linear_model_step ------------------------------------------------------------------

STEP_OUTPUTS = ("loss", "dw", "db", "w_new", "b_new")


def expect_number(got: object, expected: float, name: str, causes: dict[str, float]) -> None:
    """A ``GradingError`` unless ``got`` is the number ``expected``; ``causes`` maps the sentence
    explaining a known wrong value to that value."""
    value = as_float_array(got, name)
    if value.shape != ():
        raise GradingError(f"{name} should be one number, but it has shape {value.shape}.")
    if np.isclose(value, expected, rtol=tolerance_for(got), atol=1e-9):
        return
    cause = next((text for text, wrong in causes.items()
                  if np.isclose(value, wrong, rtol=1e-6, atol=1e-9)), "")
    raise GradingError(f"{name} is {float(value):.6g}, but it should be {expected:.6g}. {cause}".rstrip())


def step_causes(x: float, y: float, w: float, b: float, lr: float, got: tuple) -> dict[str, dict[str, float]]:
    """For each output of ``linear_model_step``, the known wrong values and their causes."""
    r = w * x + b - y
    dw, db = float(np.asarray(got[1])), float(np.asarray(got[2]))
    flipped = "It has the opposite sign: the derivative of (h - y)^2 with respect to h is 2(h - y)."
    no_two = "It misses the factor 2 from differentiating the square."
    own = "It is {0} - lr * d{0} with your d{0}, which is wrong: see the test of the gradients."
    ascent = "It is {0} + lr * d{0}: gradient descent steps against the gradient, {0} - lr * d{0}."
    return {
        "loss": {"It is h - y; the loss is its square.": r},
        "dw": {"It is 2(h - y), without the factor x = dh/dw from the chain rule.": 2 * r,
               flipped: -2 * r * x, no_two: r * x},
        "db": {"It has a factor x, but dh/db = 1.": 2 * r * x, flipped: -2 * r, no_two: r},
        "w_new": {own.format("w"): w - lr * dw, ascent.format("w"): w + 2 * lr * r * x},
        "b_new": {own.format("b"): b - lr * db, ascent.format("b"): b + 2 * lr * r},
    }


class LinearModelStep(Check):
    """``linear_model_step`` on fresh scalars, against the kit's twin."""

    abstract = True
    assignment = ASSIGNMENT
    function = "linear_model_step"
    outputs: tuple[str, ...] = ()

    def case(self, rng: np.random.Generator) -> Case:
        x, y, w, b = (float(v) for v in rng.uniform(-3, 3, 4))
        lr = float(rng.uniform(0.01, 0.5))
        return Case("call", {"function": self.function, "args": [x, y, w, b, lr]},
                    expected=examples.linear_model_step(x, y, w, b, lr))

    def verdict(self, case: Case, got: object) -> None:
        if not isinstance(got, tuple | list) or len(got) != 5:
            raise GradingError("`linear_model_step` should return five numbers, "
                               "(loss, dw, db, w_new, b_new).")
        causes = step_causes(*case.args["args"], got)
        for name in self.outputs:
            index = STEP_OUTPUTS.index(name)
            expect_number(got[index], case.expected[index], name, causes[name])


class LinearModelStepGradients(LinearModelStep):
    aspect = "gradients"
    points = 2
    outputs = ("loss", "dw", "db")


class LinearModelStepUpdate(LinearModelStep):
    aspect = "update"
    outputs = ("w_new", "b_new")
