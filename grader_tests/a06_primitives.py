"""Hidden checks of 06_primitives: softplus and l2_norm taught to the kit, and the dot-product test.

The student's primitives are differentiated by the kit's own transforms
(``grader_tests.probes.a06_primitives``): ``vjp`` and ``jvp`` exercise the rules the student
registered, and ``jacfwd(grad)`` and reverse over reverse exercise those rules
differentiated again, which works only if they are written with ``autodiff_kit.numpy``.
Every answer is judged against a closed form on the judge's side ($\\sigma = 1/(1 + e^{-x})$
for softplus, $x / \\|x\\|$ for the norm). ``adjoint_test`` receives a ``jvp_fn`` and a
``vjp_fn`` answered with matrices the student never sees, and a generator built from a seed
the judge knows, so the judge can compute the exact value the kit's ``testing.adjoint_test``
gives for the same draws, and count the calls.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from autodiff_kit import testing
from grader_tests.a01_jacobians import MatrixOracle
from grader_tests.checks import Case, Check, Oracle
from grader_tests.feedback import GradingError, as_float_array, expect_close
from grader_tests.probes import StudentError

ASSIGNMENT = "06_primitives"
RTOL, ATOL = 1e-9, 1e-12


# --- closed forms and comparisons ---------------------------------------------------------


def softplus(x: np.ndarray) -> np.ndarray:
    """$\\log(1 + e^x)$, exactly (``logaddexp`` never overflows)."""
    return np.logaddexp(0.0, x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """$\\sigma(x) = 1 / (1 + e^{-x}) = e^{-\\operatorname{softplus}(-x)}$, the derivative of softplus."""
    return np.exp(-np.logaddexp(0.0, -x))


def signed(rng: np.random.Generator, shape, low: float = 0.5, high: float = 2.0) -> np.ndarray:
    """Entries of random sign with magnitudes in ``[low, high]``: never 0, never all 1."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def equal(got: object, wrong: np.ndarray) -> bool:
    """Whether ``got`` has the shape and (to float64 precision) the values of ``wrong``."""
    try:
        got = np.asarray(got, dtype=np.float64)
        return got.shape == np.shape(wrong) and bool(np.allclose(got, wrong, rtol=1e-7, atol=1e-12))
    except (TypeError, ValueError):
        return False


def expect(got: object, expected: np.ndarray, name: str, suspects: dict[str, np.ndarray] | None = None,
           why_shape: str = "") -> None:
    """``expect_close`` to ``RTOL``/``ATOL``, but a wrong answer equal to a known mistake's is named by it."""
    if not equal(got, expected):
        hint = next((hint for hint, wrong in (suspects or {}).items() if equal(got, wrong)), None)
        if hint is not None:
            raise GradingError(f"{name} is wrong. {hint}")
    expect_close(got, expected, name, why_shape=why_shape, rtol=RTOL, atol=ATOL)


def describe(x: np.ndarray) -> str:
    return f"x of shape {x.shape}"


class PrimitiveCheck(Check):
    """A list of requests (``probes.a06_primitives.primitive_derivatives``) on the student's primitive."""

    abstract = True
    assignment = ASSIGNMENT

    def requests(self, rng: np.random.Generator) -> list[dict]:
        raise NotImplementedError

    def case(self, rng: np.random.Generator) -> Case:
        return Case("primitive_derivatives", {"function": self.function, "requests": self.requests(rng)})

    def results(self, case: Case, got: object) -> list:
        if not isinstance(got, list) or len(got) != len(case.args["requests"]):
            raise GradingError(f"The results of `{self.function}` could not be read.")
        return got


# --- softplus ------------------------------------------------------------------------------

NOT_TIMES_G = "It is the derivative alone: a VJP rule returns the cotangent g times the derivative."
OUTPUT_NOT_DERIVATIVE = ("It is g times softplus(x), the output `ans`, where the rule needs g times "
                         "the derivative of softplus.")
G_UNCHANGED = "It is the cotangent g unchanged: the rule must multiply it by the derivative of softplus at x."
NOT_TIMES_T = "It is the derivative alone: a JVP rule returns the derivative times the tangent t."
T_UNCHANGED = "It is the tangent t unchanged: the rule must multiply it by the derivative of softplus at x."


class SoftplusCheck(PrimitiveCheck):
    abstract = True
    function = "softplus"


class SoftplusValues(SoftplusCheck):
    """Values on a vector and on a matrix (softplus is elementwise), for $|x| \\le 30$."""

    aspect = "values"

    def requests(self, rng):
        return [{"kind": "value", "x": rng.uniform(-30.0, 30.0, int(rng.integers(3, 9)))},
                {"kind": "value", "x": rng.uniform(-5.0, 5.0, (2, int(rng.integers(2, 5))))}]

    def verdict(self, case, got):
        for request, result in zip(case.args["requests"], self.results(case, got), strict=True):
            x = request["x"]
            expect(result, softplus(x), f"`softplus(x)` for {describe(x)}", {
                "It is max(x, 0): the smooth part, which matters near 0, is missing.": np.maximum(x, 0.0),
            }, why_shape="softplus is elementwise: its output has the shape of x")


class SoftplusLargeInputs(SoftplusCheck):
    """At $|x|$ between 710 and $10^4$, where $e^x$ overflows: values and the VJP, finite and exact."""

    aspect = "large_inputs"

    def requests(self, rng):
        k = int(rng.integers(2, 4))
        x = np.concatenate([[1e4, -1e4], rng.uniform(710.0, 1e4, k), -rng.uniform(710.0, 1e4, k)])
        rng.shuffle(x)
        return [{"kind": "value", "x": x}, {"kind": "vjp", "x": x, "g": signed(rng, x.shape)}]

    def verdict(self, case, got):
        values, cotangent = self.results(case, got)
        x, g = case.args["requests"][0]["x"], case.args["requests"][1]["g"]
        name = "`softplus(x)` for |x| between 710 and 1e4"
        array = as_float_array(values, name)
        if array.shape == x.shape and not np.all(np.isfinite(array)):
            i = int(np.argmax(~np.isfinite(array)))
            raise GradingError(f"`softplus({x[i]:.6g})` is {array[i]}, but softplus is finite there "
                               f"({softplus(x[i]):.6g}): e^x overflows for x above 709, so compute "
                               "log(1 + e^x) without ever taking e^x of a large positive number.")
        expect(array, softplus(x), name, why_shape="softplus is elementwise: its output has the shape of x")
        expect(cotangent, g * sigmoid(x), "The VJP of softplus (through the kit's vjp) for |x| between 710 "
               "and 1e4", {NOT_TIMES_G: sigmoid(x)})


class SoftplusGrad(SoftplusCheck):
    """The cotangent through the kit's ``vjp`` and ``grad``, against $\\bar y\\, \\sigma(x)$."""

    aspect = "grad"
    points = 2

    def requests(self, rng):
        n = int(rng.integers(3, 9))
        matrix = (2, int(rng.integers(2, 5)))
        return [{"kind": "vjp", "x": rng.uniform(-8.0, 8.0, n), "g": signed(rng, n)},
                {"kind": "vjp", "x": rng.uniform(-8.0, 8.0, matrix), "g": signed(rng, matrix)},
                {"kind": "grad", "x": rng.uniform(-8.0, 8.0, n), "w": signed(rng, n)}]

    def verdict(self, case, got):
        for request, result in zip(case.args["requests"], self.results(case, got), strict=True):
            x = request["x"]
            g = request["g"] if request["kind"] == "vjp" else request["w"]
            name = (f"The VJP of softplus (cotangent g, {describe(x)})" if request["kind"] == "vjp"
                    else "grad(lambda x: anp.sum(w * softplus(x)))(x)")
            suspects = {NOT_TIMES_G: sigmoid(x), OUTPUT_NOT_DERIVATIVE: g * softplus(x), G_UNCHANGED: g}
            expect(result, g * sigmoid(x), name, suspects, why_shape="a cotangent has the shape of its input")


class SoftplusJvp(SoftplusCheck):
    """The tangent through the kit's ``jvp``, against $\\sigma(x)\\, \\dot x$."""

    aspect = "jvp"

    def requests(self, rng):
        n = int(rng.integers(3, 9))
        matrix = (2, int(rng.integers(2, 5)))
        return [{"kind": "jvp", "x": rng.uniform(-8.0, 8.0, n), "t": signed(rng, n)},
                {"kind": "jvp", "x": rng.uniform(-8.0, 8.0, matrix), "t": signed(rng, matrix)}]

    def verdict(self, case, got):
        for request, result in zip(case.args["requests"], self.results(case, got), strict=True):
            x, t = request["x"], request["t"]
            expect(result, t * sigmoid(x), f"The JVP of softplus (tangent t, {describe(x)})",
                   {NOT_TIMES_T: sigmoid(x), T_UNCHANGED: t},
                   why_shape="softplus is elementwise: its tangent has the shape of x")


RULES_WITH_ANP = ("Second derivatives differentiate the rules themselves, so write them with "
                  "autodiff_kit.numpy (anp), never with plain NumPy.")


class SoftplusSecondDerivatives(SoftplusCheck):
    """For $F(x) = \\sum_i w_i \\operatorname{softplus}(x_i)$: ``jacfwd(grad(F))`` and reverse over
    reverse against $\\operatorname{diag}(w\\, \\sigma (1 - \\sigma))$."""

    aspect = "second_derivatives"
    points = 2

    def requests(self, rng):
        n = int(rng.integers(2, 6))
        x, w, v = rng.uniform(-6.0, 6.0, n), signed(rng, n), signed(rng, n)
        return [{"kind": "hessian_fwd_over_rev", "x": x, "w": w},
                {"kind": "hvp_rev_over_rev", "x": x, "w": w, "v": v}]

    def judge(self, case, got):
        try:
            super().judge(case, got)
        except GradingError as error:
            if isinstance(got, StudentError) and "traced value" in got.message:
                raise GradingError(f"{str(error).rstrip('.')}. {RULES_WITH_ANP}") from None
            raise

    def verdict(self, case, got):
        hessian, hvp = self.results(case, got)
        x, w, v = (case.args["requests"][1][key] for key in ("x", "w", "v"))
        s = sigmoid(x)
        H = np.diag(w * s * (1.0 - s))
        expect(hessian, H, f"jacfwd(grad(F))(x) for F(x) = sum(w * softplus(x)) and n = {x.size} (forward "
               "over reverse)", why_shape="the Hessian of a function of n inputs is (n, n)")
        expect(hvp, H @ v, "grad(lambda x: anp.dot(grad(F)(x), v))(x) for F(x) = sum(w * softplus(x)) "
               "(reverse over reverse)", why_shape="a gradient has the shape of x")


class SoftplusPrimitive(SoftplusCheck):
    """``softplus`` is a primitive of the kit, with a VJP and a JVP rule of the student's own."""

    aspect = "primitive"

    def requests(self, rng):
        return [{"kind": "registration", "x": rng.uniform(-3.0, 3.0, int(rng.integers(2, 6)))}]

    def verdict(self, case, got):
        info = self.results(case, got)[0]
        if not isinstance(info, dict):
            raise GradingError("How `softplus` is registered could not be read.")
        if info.get("uses_kit"):
            raise GradingError("`softplus` is, or registers the rules of, the kit's own "
                               "`autodiff_kit.examples.softplus`, which computes what this exercise is "
                               "graded on and earns no credit: define and register your own.")
        if not info.get("primitive"):
            raise GradingError("`softplus` is not a primitive of the kit: decorate a function of plain "
                               "arrays with @primitive (from autodiff_kit.primitives), so the traces see one "
                               "step with your rules, instead of composing kit functions.")
        if not info.get("vjp_rule"):
            raise GradingError("`softplus` has no VJP rule: register one with defvjp(softplus, rule), "
                               "where rule(g, ans, x) returns the cotangent of x.")
        if not info.get("jvp_rule"):
            raise GradingError("`softplus` has no JVP rule: register one with defjvp(softplus, rule), "
                               "where rule(t, ans, x) returns the output tangent.")
        if info.get("own_nodes") != 1:
            raise GradingError("Differentiating `softplus` did not record it as one step: the name "
                               "`softplus` must be the primitive itself, registered with its rules.")


# --- l2_norm -------------------------------------------------------------------------------


def vector(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n) * rng.uniform(0.5, 3.0)


def norm(x: np.ndarray) -> float:
    return float(np.sqrt(np.sum(x**2)))


def sizes(rng: np.random.Generator) -> list[int]:
    """A vector of one entry, and two of 2 to 6."""
    return [1, *(int(n) for n in rng.integers(2, 7, 2))]


ONE_NUMBER = "l2_norm has one output, a number"


class L2NormCheck(PrimitiveCheck):
    abstract = True
    function = "l2_norm"


class L2NormValues(L2NormCheck):
    aspect = "values"

    def requests(self, rng):
        return [{"kind": "value", "x": vector(rng, n)} for n in sizes(rng)]

    def verdict(self, case, got):
        for request, result in zip(case.args["requests"], self.results(case, got), strict=True):
            x = request["x"]
            expect(result, np.array(norm(x)), f"`l2_norm(x)` for n = {x.size}", {
                "It is the sum of squares: take its square root.": np.array(np.sum(x**2)),
                "It is the sum of the absolute values (the 1-norm).": np.array(np.sum(np.abs(x))),
            }, why_shape=ONE_NUMBER)


class L2NormVjp(L2NormCheck):
    """The cotangent through the kit's ``vjp``, against $\\bar y\\, x / \\|x\\|$."""

    aspect = "vjp"
    points = 2

    def requests(self, rng):
        return [{"kind": "vjp", "x": vector(rng, n), "g": signed(rng, ())} for n in sizes(rng)]

    def verdict(self, case, got):
        for request, result in zip(case.args["requests"], self.results(case, got), strict=True):
            x, g = request["x"], request["g"]
            expect(result, g * x / norm(x), f"The VJP of l2_norm (cotangent g = {float(g):.4g}, "
                   f"n = {x.size})", {NOT_TIMES_G: x / norm(x)}, why_shape="a cotangent has the shape of x")


class L2NormZero(L2NormCheck):
    """At $x = 0$, the kink of the norm, the VJP is the subgradient 0, not ``nan``."""

    aspect = "zero"

    def requests(self, rng):
        return [{"kind": "vjp", "x": np.zeros(n), "g": signed(rng, ())} for n in sizes(rng)[:2]]

    def verdict(self, case, got):
        for request, result in zip(case.args["requests"], self.results(case, got), strict=True):
            n = request["x"].size
            name = f"The VJP of l2_norm at x = 0 (n = {n})"
            array = as_float_array(result, name)
            if array.shape == (n,) and not np.all(np.isfinite(array)):
                raise GradingError(f"{name} is nan, from 0/0, but it should be the subgradient 0: the norm "
                                   "has no derivative at 0, so treat ans == 0 on its own (anp.where can "
                                   "choose).")
            expect(array, np.zeros(n), name, why_shape="a cotangent has the shape of x")


class L2NormReusesAns(L2NormCheck):
    """The registered VJP rule, called directly with the true norm and with a different ``ans``,
    must use the ``ans`` it is given: its result scales as the norm it is told."""

    aspect = "reuses_ans"

    def requests(self, rng):
        x = vector(rng, int(rng.integers(2, 7)))
        factor = float(rng.uniform(2.0, 4.0))
        g = float(signed(rng, ()))
        return [{"kind": "vjp_rule", "x": x, "g": g, "answers": [norm(x), factor * norm(x)]}]

    def verdict(self, case, got):
        result = self.results(case, got)[0]
        if not isinstance(result, dict):
            raise GradingError("The VJP rule of `l2_norm` could not be read.")
        if result.get("uses_kit"):
            raise GradingError("`l2_norm` is, or registers the rule of, the kit's own "
                               "`autodiff_kit.examples.l2_norm`, which computes what this exercise is graded "
                               "on and earns no credit: define and register your own.")
        calls = result.get("calls")
        if calls is None:
            raise GradingError("`l2_norm` has no VJP rule to call: make it a primitive (@primitive) and "
                               "register its rule with defvjp(l2_norm, rule), where rule(g, ans, x).")
        if not isinstance(calls, list) or len(calls) != 2:
            raise GradingError("The VJP rule of `l2_norm` could not be called with (g, ans, x).")
        request = case.args["requests"][0]
        n, factor = request["x"].size, request["answers"][1] / request["answers"][0]
        with_norm = as_float_array(calls[0], "The VJP rule's result")
        with_other = as_float_array(calls[1], "The VJP rule's result")
        if with_norm.shape != (n,) or with_other.shape != (n,):
            raise GradingError(f"The VJP rule of `l2_norm` returned shape {with_other.shape}, but a "
                               f"cotangent has the shape of x, ({n},).")
        if equal(with_norm / factor, with_other):
            return
        if equal(with_norm, with_other):
            raise GradingError("The VJP rule of `l2_norm` returns the same cotangent when it is handed a "
                               "different output `ans`: it computes the norm again instead of reusing `ans`, "
                               "the output the kit passes to every rule so that nothing is recomputed.")
        raise GradingError(f"The VJP rule of `l2_norm`, handed an output `ans` {factor:.3g} times the norm "
                           "of x, does not take that `ans` as the norm: the rule should get the norm from "
                           "`ans`.")


class L2NormJvp(L2NormCheck):
    """The tangent through the kit's ``jvp``, against $x \\cdot \\dot x / \\|x\\|$."""

    aspect = "jvp"

    def requests(self, rng):
        return [{"kind": "jvp", "x": vector(rng, n), "t": signed(rng, n)} for n in sizes(rng)]

    def verdict(self, case, got):
        for request, result in zip(case.args["requests"], self.results(case, got), strict=True):
            x, t = request["x"], request["t"]
            expect(result, np.array(x @ t / norm(x)), f"The JVP of l2_norm (tangent t, n = {x.size})",
                   {"It is the derivative along a vector of ones: the tangent t is ignored.":
                        np.array(np.sum(x) / norm(x))},
                   why_shape=f"{ONE_NUMBER}, so its tangent is a number too")


# --- adjoint_test --------------------------------------------------------------------------


class PairOracle(Oracle):
    """Answers ``jvp`` with $J v$ and ``vjp`` with $u^\\top K$; $K = J$ for a consistent pair."""

    def __init__(self, J: np.ndarray, K: np.ndarray) -> None:
        super().__init__()
        self.J, self.K = J, K

    def on_jvp(self, payload: object) -> np.ndarray:
        return self.J @ MatrixOracle._vector(payload, self.J.shape[1], "jvp_fn", "a tangent", "input")

    def on_vjp(self, payload: object) -> np.ndarray:
        return MatrixOracle._vector(payload, self.K.shape[0], "vjp_fn", "a cotangent", "output") @ self.K


def draws(seed: int, n: int, m: int, u_first: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(v, u)`` as ``adjoint_test`` draws them from ``default_rng(seed)`` (or in the wrong order)."""
    rng = np.random.default_rng(seed)
    if u_first:
        u = rng.standard_normal(m)
        return rng.standard_normal(n), u
    v = rng.standard_normal(n)
    return v, rng.standard_normal(m)


def pieces(J: np.ndarray, K: np.ndarray, v: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """The signed gap $u \\cdot Jv - u^\\top K \\cdot v$ and the scale it is divided by."""
    Jv, uK = J @ v, u @ K
    scale = np.linalg.norm(u) * np.linalg.norm(Jv) + np.linalg.norm(uK) * np.linalg.norm(v)
    return float(u @ Jv - uK @ v), float(scale)


class AdjointTestCheck(Check):
    """``adjoint_test(jvp_fn, vjp_fn, n, m, default_rng(seed))``, the maps on the judge's side."""

    abstract = True
    assignment = ASSIGNMENT
    function = "adjoint_test"
    consistent: ClassVar[bool] = True

    def case(self, rng: np.random.Generator) -> Case:
        n, m = (int(k) for k in rng.integers(2, 8, 2))
        seed = int(rng.integers(2**31))
        J = rng.standard_normal((m, n))
        K = J
        if not self.consistent:
            # A wrong VJP u^T (J + E) with u E v >= |u| |v| / 2 for the draws of this seed: the test is
            # of order 1, and the signed gap -u E v is negative, so a missing abs always shows.
            v, u = draws(seed, n, m)
            E = rng.standard_normal((m, n))
            E = (E if u @ E @ v >= 0 else -E) + 0.5 * np.outer(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
            K = J + E
        expected = testing.adjoint_test(lambda v: J @ v, lambda u: u @ K, n, m, np.random.default_rng(seed))
        return Case("adjoint_test", {"n": n, "m": m, "seed": seed}, expected=expected,
                    oracle=PairOracle(J, K), notes={"J": J, "K": K})

    def value(self, got: object) -> float:
        array = as_float_array(got, "The result of `adjoint_test`")
        if array.size != 1:
            raise GradingError(f"`adjoint_test` should return one number, but it returned shape "
                               f"{array.shape}.")
        return float(array.reshape(()))


class AdjointTestConsistent(AdjointTestCheck):
    """A consistent pair: rounding error only, as the kit's ``adjoint_test`` finds for the same draws."""

    aspect = "consistent"

    def verdict(self, case, got):
        value = self.value(got)
        if not np.isfinite(value) or abs(value - case.expected) > 1e-12:
            raise GradingError(f"For a consistent pair (vjp_fn the adjoint of jvp_fn) `adjoint_test` "
                               f"returned {value:.3g}, but it should be rounding error, about "
                               f"{case.expected:.1g} for these draws.")


class AdjointTestInconsistent(AdjointTestCheck):
    """A wrong VJP: the exact value of the kit's ``adjoint_test`` for the same seed, of order 1."""

    aspect = "inconsistent"
    points = 2
    consistent = False

    def verdict(self, case, got):
        value = self.value(got)
        n, m, seed = case.args["n"], case.args["m"], case.args["seed"]
        J, K = case.notes["J"], case.notes["K"]
        gap, scale = pieces(J, K, *draws(seed, n, m))
        swapped_gap, swapped_scale = pieces(J, K, *draws(seed, n, m, u_first=True))
        v, u = draws(seed, n, m)
        suspects = {
            "It is the value for u drawn before v: draw v = rng.standard_normal(n) first, then "
            "u = rng.standard_normal(m), so that the same seed gives the same test.":
                abs(swapped_gap) / swapped_scale,
            "It is the gap |u·Jv - (uᵀJ)·v| without the normalization, which makes the test independent of "
            "the size of J: divide by |u| |Jv| + |uᵀJ| |v|.": abs(gap),
            "It is negative: the test is the absolute value of the gap, divided by the scale.": gap / scale,
            "It is normalized by |u| |v| only: divide by |u| |Jv| + |uᵀJ| |v|.":
                abs(gap) / (np.linalg.norm(u) * np.linalg.norm(v)),
        }
        name = "For a wrong vjp_fn, `adjoint_test`"
        if np.isclose(value, case.expected, rtol=RTOL, atol=1e-15):
            return
        hint = next((hint for hint, wrong in suspects.items()
                     if np.isclose(value, wrong, rtol=1e-7, atol=1e-15)), "")
        raise GradingError(f"{name} returned {value:.6g}, but for these draws it is {case.expected:.6g}. "
                           f"{hint}".rstrip())


class AdjointTestCalls(AdjointTestCheck):
    """Each of ``jvp_fn`` and ``vjp_fn`` is called exactly once."""

    aspect = "calls"

    def verdict(self, case, got):
        for request, name in (("jvp", "jvp_fn"), ("vjp", "vjp_fn")):
            calls = case.oracle.count(request)
            if calls == 0:
                raise GradingError(f"`adjoint_test` never called `{name}`: the test compares its product "
                                   "with the other one.")
            if calls > 1:
                raise GradingError(f"`adjoint_test` called `{name}` {calls} times, but once is enough: keep "
                                   "the product in a variable and reuse it (each call is a whole pass "
                                   "through f).")
