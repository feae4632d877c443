"""Hidden checks of 05_higher_order: HVPs both ways, the Hessian, Newton's step, forward gradients.

Each case is a function from a plain description (``grader_tests.probes.a05_higher_order``):
a quadratic, Rosenbrock's function, or a sum of sines and exponentials of linear maps, all
with closed-form gradients and Hessians, which are what the answers are judged against.
The *mode* checks look at how ``f`` was differentiated: the probe's ``f`` reports the
tracers around its argument, so the judge sees forward over reverse, reverse over reverse,
or a plain JVP.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from grader_tests.checks import Case, Check, Oracle
from grader_tests.feedback import GradingError, expect_close

ASSIGNMENT = "05_higher_order"
MODES = {
    (): "on a plain array, without differentiating it",
    ("reverse",): "in reverse mode once (a gradient, not a derivative of one)",
    ("forward",): "in forward mode (a JVP)",
    ("reverse", "forward"): "forward over reverse (a JVP of the gradient)",
    ("reverse", "reverse"): "reverse over reverse (a gradient of a gradient)",
    ("forward", "reverse"): "reverse over forward (a gradient of a JVP)",
    ("forward", "forward"): "forward over forward (a JVP of a JVP)",
}


# The functions, and their derivatives in closed form -----------------------------------------

def quadratic(rng: np.random.Generator, n: int, convex: bool = False) -> dict:
    """$\\tfrac12 x^\\top A x + b^\\top x$; with ``convex``, $A$ symmetric positive definite."""
    A = rng.standard_normal((n, n))
    if convex:
        A = A @ A.T + n * np.eye(n)
    return {"kind": "quadratic", "A": A, "b": rng.standard_normal(n)}


def waves(rng: np.random.Generator, n: int) -> dict:
    """$w^\\top \\sin(Mx) + u^\\top \\exp(Kx)$ with three terms of each."""
    return {"kind": "waves", "M": rng.standard_normal((3, n)) / np.sqrt(n), "w": rng.standard_normal(3),
            "K": 0.5 * rng.standard_normal((3, n)) / np.sqrt(n), "u": rng.uniform(0.2, 1.0, 3)}


def exact_gradient(f: dict, x: np.ndarray) -> np.ndarray:
    """$\\nabla f(x)$ by hand: $\\mathrm{sym}(A) x + b$; $M^\\top (w \\cos Mx) + K^\\top (u\\, e^{Kx})$;
    Rosenbrock's, term by term."""
    if f["kind"] == "quadratic":
        return 0.5 * (f["A"] + f["A"].T) @ x + f["b"]
    if f["kind"] == "waves":
        return f["M"].T @ (f["w"] * np.cos(f["M"] @ x)) + f["K"].T @ (f["u"] * np.exp(f["K"] @ x))
    g = np.zeros_like(x)
    t = x[1:] - x[:-1] ** 2
    g[:-1] += -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * t
    return g


def exact_hessian(f: dict, x: np.ndarray) -> np.ndarray:
    """$\\nabla^2 f(x)$ by hand: $\\mathrm{sym}(A)$; $M^\\top \\mathrm{diag}(-w \\sin Mx) M + K^\\top
    \\mathrm{diag}(u\\, e^{Kx}) K$; Rosenbrock's, tridiagonal."""
    if f["kind"] == "quadratic":
        return 0.5 * (f["A"] + f["A"].T)
    if f["kind"] == "waves":
        M, K = f["M"], f["K"]
        return M.T @ np.diag(-f["w"] * np.sin(M @ x)) @ M + K.T @ np.diag(f["u"] * np.exp(K @ x)) @ K
    n = len(x)
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    H[i + 1, i + 1] += 200.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * x[:-1]
    return H


def describe(f: dict, x: np.ndarray) -> str:
    name = {"quadratic": "f(x) = x·Ax/2 + b·x", "rosenbrock": "the Rosenbrock function",
            "waves": "f(x) = w·sin(Mx) + u·exp(Kx)"}[f["kind"]]
    return f"{name} with n = {len(x)}"


def point(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1.5, 1.5, n)


def draw_cases(rng: np.random.Generator) -> list[dict]:
    """A quadratic, Rosenbrock's function and a sum of waves in 2 to 5 dimensions, and waves in one."""
    sizes = rng.integers(2, 6, 3)
    functions = [quadratic(rng, sizes[0]), {"kind": "rosenbrock"}, waves(rng, sizes[2]), waves(rng, 1)]
    return [{"f": f, "x": point(rng, n)} for f, n in zip(functions, [*sizes, 1], strict=True)]


def equal(got: object, wrong: np.ndarray) -> bool:
    """Whether ``got`` has the shape and (to float64 precision) the values of ``wrong``."""
    try:
        return np.shape(got) == np.shape(wrong) and bool(np.allclose(got, wrong, rtol=1e-6, atol=1e-9))
    except (TypeError, ValueError):
        return False


def expect(got: object, expected: np.ndarray, name: str, suspects: dict[str, np.ndarray],
           otherwise: str = "") -> None:
    """``expect_close``, but a wrong answer equal to a known mistake's is named by that mistake's hint.

    ``otherwise`` is added to the message of a wrong answer that matches no suspect.
    """
    if not equal(got, expected):
        hint = next((hint for hint, wrong in suspects.items() if equal(got, wrong)), None)
        if hint is not None:
            raise GradingError(f"{name} is wrong. {hint}")
    try:
        expect_close(got, expected, name)
    except GradingError as error:
        if otherwise:
            raise GradingError(f"{error} {otherwise}") from None
        raise


# Watching how f is differentiated --------------------------------------------------------

class Watcher(Oracle):
    """Receives, for every call of ``f``, the case it belongs to and the tracers around ``x``."""

    def on_saw(self, payload: dict) -> None:
        return None

    def kinds(self, case: int) -> list[tuple[str, ...]]:
        return [tuple(payload["kinds"]) for request, payload in self.log
                if request == "saw" and payload["case"] == case]


def mode(kinds: tuple[str, ...]) -> str:
    return MODES.get(tuple(kinds), " over ".join(reversed(kinds)))


class HigherOrderCheck(Check):
    """One call of the student's function per case, and the calls of ``f`` it made."""

    abstract = True
    assignment = ASSIGNMENT

    def cases(self, rng: np.random.Generator) -> list[dict]:
        return draw_cases(rng)

    def case(self, rng: np.random.Generator) -> Case:
        cases = self.cases(rng)
        return Case("higher_order", {"function": self.function, "cases": cases}, oracle=Watcher())

    def results(self, got: object, count: int) -> list:
        if not isinstance(got, list) or len(got) != count:
            raise GradingError(f"The results of `{self.function}` could not be read.")
        return got


class ModeCheck(HigherOrderCheck):
    """Every case differentiates ``f`` as ``required``, evaluating it ``once`` if so required."""

    abstract = True
    aspect = "mode"
    required: ClassVar[tuple[str, ...]]
    once: ClassVar[bool] = True
    why: ClassVar[str]

    def verdict(self, case: Case, got: object) -> None:
        for i, c in enumerate(case.args["cases"]):
            seen = case.oracle.kinds(i)
            if not seen:
                raise GradingError(f"`{self.function}` never evaluated f.")
            wrong = [kinds for kinds in seen if kinds != self.required]
            if wrong:
                raise GradingError(f"`{self.function}` differentiated f {mode(wrong[0])}, but {self.why}.")
            if self.once and len(seen) > 1:
                raise GradingError(f"`{self.function}` evaluated f {len(seen)} times for "
                                   f"{describe(c['f'], c['x'])}, but {self.why}, which evaluates f once.")


# Hessian-vector products ----------------------------------------------------------------

class HvpCheck(HigherOrderCheck):
    abstract = True

    def cases(self, rng):
        return [dict(c, v=rng.standard_normal(len(c["x"]))) for c in draw_cases(rng)]


class HvpValues(HvpCheck):
    """``H v`` against the closed-form Hessian."""

    abstract = True
    aspect = "values"
    points = 2

    def verdict(self, case, got):
        for c, result in zip(case.args["cases"], self.results(got, len(case.args["cases"])), strict=True):
            f, x, v = c["f"], c["x"], c["v"]
            H = exact_hessian(f, x)
            expect(result, H @ v, f"`{self.function}(f, x, v)` for {describe(f, x)}", {
                "It is the gradient of f, not H v.": exact_gradient(f, x),
                "It is H times a vector of ones: the product with v is missing.": H @ np.ones_like(v),
                "It is H x: use v, not x, in the product.": H @ x,
            })


class HvpRevOverRevValues(HvpValues):
    function = "hvp_rev_over_rev"


class HvpFwdOverRevValues(HvpValues):
    function = "hvp_fwd_over_rev"


class HvpRevOverRevMode(ModeCheck, HvpCheck):
    function = "hvp_rev_over_rev"
    required = ("reverse", "reverse")
    why = "this exercise asks for the gradient of x -> grad(f)(x) · v, reverse over reverse"


class HvpFwdOverRevMode(ModeCheck, HvpCheck):
    function = "hvp_fwd_over_rev"
    required = ("reverse", "forward")
    why = "this exercise asks for one JVP of grad(f) along v, forward over reverse"


# The Hessian ----------------------------------------------------------------------------

class HessianValues(HigherOrderCheck):
    """The whole Hessian against its closed form, for n from 1 to 5."""

    function = "hessian"
    aspect = "values"
    points = 2

    def verdict(self, case, got):
        for c, result in zip(case.args["cases"], self.results(got, len(case.args["cases"])), strict=True):
            f, x = c["f"], c["x"]
            H = exact_hessian(f, x)
            n = len(x)
            expect(result, H, f"`hessian(f, x)` for {describe(f, x)}", {
                "Every column is H times a vector of ones: use the basis vectors e_j, one per column.":
                    np.tile(H @ np.ones(n), (n, 1)).T,
                "Only the diagonal is filled.": np.diag(np.diag(H)),
            })


class HessianMode(ModeCheck):
    function = "hessian"
    required = ("reverse", "forward")
    once = False
    why = "this exercise asks for forward over reverse: JVPs of grad(f)"


# Newton's step --------------------------------------------------------------------------

class NewtonCheck(HigherOrderCheck):
    abstract = True
    function = "newton_step"

    def verdict(self, case, got):
        for c, result in zip(case.args["cases"], self.results(got, len(case.args["cases"])), strict=True):
            f, x = c["f"], c["x"]
            H, g = exact_hessian(f, x), exact_gradient(f, x)
            expect(result, x - np.linalg.solve(H, g), f"`newton_step(f, x)` for {describe(f, x)}", {
                "It is x + H⁻¹ ∇f(x): the step goes against H⁻¹ ∇f(x), so subtract it.":
                    x + np.linalg.solve(H, g),
                "It is a gradient step x - ∇f(x): the step is H⁻¹ ∇f(x), found with np.linalg.solve.": x - g,
                "It is x - H ∇f(x): solve H s = ∇f(x) for the step instead of multiplying by H.": x - H @ g,
                "It is the step H⁻¹ ∇f(x) alone: return x minus it.": np.linalg.solve(H, g),
            })


class NewtonQuadratic(NewtonCheck):
    """On a convex quadratic, one step lands on the minimiser $-A^{-1} b$."""

    aspect = "quadratic"
    points = 2

    def cases(self, rng):
        return [{"f": quadratic(rng, n, convex=True), "x": point(rng, n)}
                for n in (*rng.integers(2, 6, 2), 1)]


class NewtonValues(NewtonCheck):
    """On Rosenbrock's function and on waves, at points where the Hessian is well conditioned."""

    aspect = "values"

    def cases(self, rng):
        cases = []
        for kind in ("rosenbrock", "waves", "waves"):
            while True:
                n = int(rng.integers(2, 6))
                f = {"kind": "rosenbrock"} if kind == "rosenbrock" else waves(rng, n)
                x = point(rng, n)
                if np.linalg.cond(exact_hessian(f, x)) < 1e4:
                    break
            cases.append({"f": f, "x": x})
        return cases


# Forward gradients ------------------------------------------------------------------------

class ForwardGradientCheck(HigherOrderCheck):
    abstract = True
    function = "forward_gradient"

    def cases(self, rng):
        return [dict(c, seed=int(rng.integers(2**31))) for c in draw_cases(rng)]


class ForwardGradientEstimate(ForwardGradientCheck):
    """$(\\nabla f \\cdot v)\\, v$ for the first draw $v$ of the generator it is given."""

    aspect = "estimate"
    points = 2

    def verdict(self, case, got):
        for c, result in zip(case.args["cases"], self.results(got, len(case.args["cases"])), strict=True):
            f, x = c["f"], c["x"]
            g, v = exact_gradient(f, x), np.random.default_rng(c["seed"]).standard_normal(len(x))
            u = v / np.linalg.norm(v)
            along_v = equal(result, np.dot(result, u) * u) if np.shape(result) == v.shape else True
            expect(result, (g @ v) * v, f"`forward_gradient(f, x, rng)` for {describe(f, x)}", {
                "It is the exact gradient: the estimate is (∇f·v) v for one random direction v.": g,
                "It uses v scaled to length 1, which biases the estimate: E[v vᵀ] = I holds for "
                "v = rng.standard_normal(n) as drawn.": (g @ u) * u,
            }, otherwise="" if along_v else "It does not point along v: v must be the first draw from "
                                             "the given rng, rng.standard_normal(n).")


class ForwardGradientForwardOnly(ModeCheck, ForwardGradientCheck):
    aspect = "forward_only"
    required = ("forward",)
    why = "a forward gradient uses one JVP and no reverse mode"
