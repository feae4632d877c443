"""The hidden checks of 04_modes and 05_higher_order: their messages, and the solutions they accept.

``test_course_checks.py`` proves that the reference passes and that each catalogued mistake
fails its own function only; here: what the student is told, that other correct solutions
pass, and that the probes judge one function at a time and leave the notebook as it was.
"""

import numpy as np
import pytest

from autodiff_kit import grad, hessian
from course import notebooks
from course.mistakes import mistakes_of
from grader_tests import probes
from grader_tests.a04_modes import derivative_programs, reference_derivative
from grader_tests.a05_higher_order import draw_cases, exact_gradient, exact_hessian
from grader_tests.checks import checks_of
from grader_tests.probes.a04_modes import REFERENCE_FUNCTIONS, run_program
from grader_tests.probes.a05_higher_order import build
from grader_tests.runner import failure


def namespace(assignment, replacements=()):
    """The notebook's namespace, with the solution cells in ``replacements`` rewritten."""
    notebook = notebooks.read(notebooks.source_path(assignment))
    for function, source in dict(replacements).items():
        notebook = notebooks.with_cell_source(notebook, function, source)
    return notebooks.namespace_of(notebook)


def with_mistake(assignment, what):
    mistake = next(m for m in mistakes_of(assignment) if m.what == what)
    notebook = notebooks.read(notebooks.source_path(assignment))
    source = mistake.apply(notebooks.cell_by_id(notebook, mistake.function).source)
    return namespace(assignment, {mistake.function: source})


def message(assignment, cell, ns, seed=0):
    return failure(assignment, cell, ns, np.random.default_rng(seed))


def failed(assignment, ns, seed=0, skip=()):
    """The failing checks of ``assignment`` (all but the ``skip``ped cells), with their messages."""
    return {check.cell_id(): text for check in checks_of(assignment) if check.cell_id() not in skip
            if (text := message(assignment, check.cell_id(), ns, seed)) is not None}


# 04_modes: messages ---------------------------------------------------------------------

@pytest.mark.parametrize(("what", "cell", "words"), [
    ("overwrites adjoints instead of summing them", "test_backward_shared", "(+=)"),
    ("recursive graph search", "test_backward_deep", "recursion limit"),
    ("breadth-first order instead of a topological order", "test_backward_order", "breadth-first"),
    ("no visited set: shared nodes are visited once per path", "test_backward_order", "once"),
    ("forgets the seed out.grad = 1", "test_backward_chain", "out.grad = 1.0"),
    ("product rule multiplies the tangents", "test_Dual_arithmetic", "Product rule"),
    ("3 - d computed as d - 3", "test_Dual_numbers", "__rsub__"),
    ("quotient's local derivative without the square", "test_Var_arithmetic", "-a / b**2"),
    ("derivative of cos is +sin", "test_elementary_functions_dual", "opposite sign"),
    ("f'(a) not multiplied by the incoming tangent", "test_elementary_functions_dual", "chain rule"),
    ("returns the value instead of the tangent", "test_derivative_values", "not its value"),
    ("seeds the input with tangent 0", "test_derivative_one_pass", "tangent 1"),
    ("assumes f always returns a Dual", "test_derivative_constant", "return 0.0"),
])
def test_a_mistake_is_told_what_to_fix(what, cell, words):
    text = message("04_modes", cell, with_mistake("04_modes", what))
    assert text is not None and words in text, text


def test_a_wrong_node_is_named_with_its_operands():
    text = message("04_modes", "test_Dual_arithmetic", with_mistake("04_modes", "quotient rule with a plus"))
    assert text.startswith("With v") and "` gives tangent" in text and "/" in text


def test_an_exception_in_student_code_is_named():
    source = notebooks.cell_by_id(notebooks.read(notebooks.source_path("04_modes")), "derivative").source
    broken = source.replace("out = f(Dual(x, 1.0))", "out = f(Dual(x, 1.0) / 0)")
    text = message("04_modes", "test_derivative_values", namespace("04_modes", {"derivative": broken}))
    assert text.startswith("`derivative` raised ZeroDivisionError")


def test_a_var_without_parents_is_told_the_contract():
    micrograd_style = '''
import operator


class Var:
    def __init__(self, value, children=()):
        self.value, self.grad, self._prev = value, 0.0, children

    def _apply(self, other, op):
        other = other if isinstance(other, Var) else Var(other)
        return Var(op(self.value, other.value), (self, other))

    def __add__(self, other):
        return self._apply(other, operator.add)

    def __sub__(self, other):
        return self._apply(other, operator.sub)

    def __mul__(self, other):
        return self._apply(other, operator.mul)

    def __truediv__(self, other):
        return self._apply(other, operator.truediv)
'''
    text = message("04_modes", "test_Var_arithmetic", namespace("04_modes", {"Var": micrograd_style}))
    assert "TypeError" in text and "parents" in text


# 04_modes: other correct solutions pass --------------------------------------------------

DUAL_WITHOUT_HELPER = '''
class Dual:
    def __init__(self, value, tangent=0):
        self.value, self.tangent = value, tangent

    def _lift(self, other):
        return other if isinstance(other, Dual) else Dual(other)

    def __add__(self, other):
        other = self._lift(other)
        return Dual(self.value + other.value, self.tangent + other.tangent)

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return -self + other

    def __mul__(self, other):
        other = self._lift(other)
        return Dual(self.value * other.value, self.value * other.tangent + other.value * self.tangent)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = self._lift(other)
        return self * Dual(1 / other.value, -other.tangent / other.value ** 2)

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __neg__(self):
        return Dual(-self.value, -self.tangent)

    def __pow__(self, p):
        return Dual(self.value ** p, p * self.value ** p / self.value * self.tangent)
'''

VAR_WITH_LISTS = '''
class Var:
    def __init__(self, value, parents=()):
        self.value, self.parents, self.grad = value, parents, 0.0

    def __add__(self, other):
        if isinstance(other, Var):
            return Var(self.value + other.value, [[self, 1], [other, 1]])
        return Var(self.value + other, [[self, 1]])

    __radd__ = __add__

    def __neg__(self):
        return Var(-self.value, [[self, -1]])

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if isinstance(other, Var):
            return Var(self.value * other.value, [[self, other.value], [other, self.value]])
        return Var(self.value * other, [[self, other]])

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self * other ** -1 if isinstance(other, Var) else self * (1 / other)

    def __rtruediv__(self, other):
        return other * self ** -1

    def __pow__(self, p):
        return Var(self.value ** p, [[self, p * self.value ** (p - 1)]])
'''

BACKWARD_KAHN = '''
def backward(out):
    pending, stack, seen = {}, [out], {id(out)}
    while stack:
        node = stack.pop()
        node.grad = 0.0
        for parent, _ in node.parents:
            pending[id(parent)] = pending.get(id(parent), 0) + 1
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    out.grad = 1.0
    ready = [out]
    while ready:
        node = ready.pop()
        for parent, local in node.parents:
            parent.grad = parent.grad + local * node.grad
            pending[id(parent)] -= 1
            if pending[id(parent)] == 0:
                ready.append(parent)
'''

NUMPY_FUNCTIONS = '''
import numpy as np


def sin(x):
    if isinstance(x, Dual):
        return Dual(np.sin(x.value), np.cos(x.value) * x.tangent)
    if isinstance(x, (int, float)):
        return np.sin(x)
    return Var(np.sin(x.value), [(x, np.cos(x.value))])


def cos(x):
    if isinstance(x, Dual):
        return Dual(np.cos(x.value), -np.sin(x.value) * x.tangent)
    if isinstance(x, (int, float)):
        return np.cos(x)
    return Var(np.cos(x.value), [(x, -np.sin(x.value))])


def exp(x):
    if isinstance(x, Dual):
        return Dual(np.exp(x.value), np.exp(x.value) * x.tangent)
    if isinstance(x, (int, float)):
        return np.exp(x)
    return Var(np.exp(x.value), [(x, np.exp(x.value))])


def log(x):
    if isinstance(x, Dual):
        return Dual(np.log(x.value), x.tangent / x.value)
    if isinstance(x, (int, float)):
        return np.log(x)
    return Var(np.log(x.value), [(x, 1 / x.value)])
'''

DERIVATIVE_WITH_GETATTR = '''
def derivative(f, x):
    return getattr(f(Dual(x, 1)), "tangent", 0)
'''


@pytest.mark.parametrize(("function", "source"), [
    ("Dual", DUAL_WITHOUT_HELPER),
    ("Var", VAR_WITH_LISTS),
    ("backward", BACKWARD_KAHN),
    ("elementary_functions", NUMPY_FUNCTIONS),
    ("derivative", DERIVATIVE_WITH_GETATTR),
], ids=["Dual with __radd__ = __add__", "Var with lists and no constant parents", "Kahn's algorithm",
        "NumPy functions", "derivative with getattr"])
def test_another_correct_solution_passes(function, source):
    ns = namespace("04_modes", {function: source})
    skip = () if function == "backward" else ("test_backward_deep",)
    assert failed("04_modes", ns, seed=3, skip=skip) == {}


def test_each_probe_judges_one_function_and_restores_the_namespace():
    ns = with_mistake("04_modes", "product rule multiplies the tangents")
    student_dual, student_sin = ns["Dual"], ns["sin"]
    wrong = set(failed("04_modes", ns, skip=("test_backward_deep",)))
    assert wrong == {"test_Dual_arithmetic", "test_Dual_numbers"}
    assert ns["Dual"] is student_dual and ns["sin"] is student_sin and "Var" in ns


def test_the_derivative_probe_runs_on_the_reference_dual_and_reports_its_calls():
    calls = []
    args = {"cases": [{"program": [("input",), ("mul", "v0", 3.0)], "x": 2.0}]}
    got = probes.PROBES["derivative"]({"derivative": lambda f, x: f(x)}, args,
                                      lambda request, payload: calls.append(payload))
    assert got == [6.0] and calls == [{"case": 0, "arg": ["number", 2.0]}]


# 05_higher_order --------------------------------------------------------------------------

def test_forward_gradient_through_reverse_mode_loses_the_mode_points_only():
    ns = with_mistake("05_higher_order", "the directional derivative from reverse mode")
    result = failed("05_higher_order", ns)
    assert set(result) == {"test_forward_gradient_forward_only"}
    assert "reverse mode" in result["test_forward_gradient_forward_only"]


@pytest.mark.parametrize(("what", "cell", "words"), [
    ("finite differences of the gradient instead of a second reverse pass", "test_hvp_rev_over_rev_mode",
     "reverse mode once"),
    ("reverse over forward: the gradient of a JVP", "test_hvp_fwd_over_rev_mode", "reverse over forward"),
    ("sums the gradient instead of taking its product with v", "test_hvp_rev_over_rev_values",
     "vector of ones"),
    ("keeps the primal output of jvp (the gradient)", "test_hvp_fwd_over_rev_values", "gradient of f"),
    ("a vector of ones instead of each basis vector", "test_hessian_values", "basis vectors"),
    ("columns by reverse over reverse", "test_hessian_mode", "reverse over reverse"),
    ("steps along +H^-1 grad", "test_newton_step_quadratic", "subtract"),
    ("multiplies by H instead of solving with it", "test_newton_step_values", "solve"),
    ("scales v to length 1", "test_forward_gradient_estimate", "biases"),
])
def test_a_higher_order_mistake_is_told_what_to_fix(what, cell, words):
    text = message("05_higher_order", cell, with_mistake("05_higher_order", what))
    assert text is not None and words in text, text


@pytest.mark.parametrize(("function", "source"), [
    ("hvp_rev_over_rev", "from autodiff_kit import vjp\n\ndef hvp_rev_over_rev(f, x, v):\n"
                         "    return vjp(grad(f), x)[1](v)[0]"),
    ("hvp_fwd_over_rev", "def hvp_fwd_over_rev(f, x, v):\n"
                         "    return jvp(lambda t: grad(f)(x + t * v), (0.0,), (1.0,))[1]"),
    ("hessian", "def hessian(f, x):\n    H = np.zeros((len(x), len(x)))\n    for j in range(len(x)):\n"
                "        H[j] = hvp_fwd_over_rev(f, x, np.eye(len(x))[j])\n    return H"),
    ("newton_step", "def newton_step(f, x):\n    return x - np.linalg.inv(hessian(f, x)) @ grad(f)(x)"),
    ("forward_gradient", "def forward_gradient(f, x, rng):\n    v = rng.normal(size=x.shape)\n"
                         "    return jvp(f, [x], [v])[1] * v"),
], ids=["hvp by vjp", "hvp along a line", "hessian from hvps, by rows",
        "newton by inverse", "forward gradient with rng.normal"])
def test_another_correct_higher_order_solution_passes(function, source):
    assert failed("05_higher_order", namespace("05_higher_order", {function: source}), seed=5) == {}


def test_a_hessian_by_the_kits_jacfwd_earns_nothing():
    """The course allows grad, jvp and vjp in 05, never jacfwd (``course-spec.md``)."""
    source = "from autodiff_kit import jacfwd\n\ndef hessian(f, x):\n    return jacfwd(grad(f))(x)"
    failures = failed("05_higher_order", namespace("05_higher_order", {"hessian": source}), seed=5)
    assert set(failures) == {c.cell_id() for c in checks_of("05_higher_order") if c.function == "hessian"}
    assert all("called the kit's own `jacfwd`" in message for message in failures.values())


def test_newton_step_stands_on_the_reference_hessian_and_the_namespace_is_restored():
    ns = with_mistake("05_higher_order", "a vector of ones instead of each basis vector")
    student_hessian = ns["hessian"]
    assert set(failed("05_higher_order", ns)) == {"test_hessian_values"}
    assert ns["hessian"] is student_hessian


def test_float32_answers_are_judged_with_a_looser_tolerance():
    source = ("def hvp_fwd_over_rev(f, x, v):\n"
              "    return jvp(grad(f), (x,), (v,))[1].astype(np.float32)")
    ns = namespace("05_higher_order", {"hvp_fwd_over_rev": source})
    assert message("05_higher_order", "test_hvp_fwd_over_rev_values", ns) is None


# The judges' own references ------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_the_derivative_reference_agrees_with_finite_differences(seed):
    for case in derivative_programs(np.random.default_rng(seed), 10):
        def f(t, program=case["program"]):
            return run_program(program, lambda: t, REFERENCE_FUNCTIONS)[-1]
        h = 1e-6
        central = (f(case["x"] + h) - f(case["x"] - h)) / (2 * h)
        assert reference_derivative(case) == pytest.approx(central, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_the_closed_forms_agree_with_the_kit(seed):
    for case in draw_cases(np.random.default_rng(seed)):
        f, x = build(case["f"]), case["x"]
        np.testing.assert_allclose(exact_gradient(case["f"], x), grad(f)(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(exact_hessian(case["f"], x), hessian(f)(x), rtol=1e-12, atol=1e-10)


def test_a_number_among_the_parents_is_told_the_contract():
    source = notebooks.cell_by_id(notebooks.read(notebooks.source_path("04_modes")), "Var").source
    raw_numbers = source.replace("        other = as_var(other)\n        return Var(self.value * other.value",
                                 "        return Var(self.value * getattr(other, 'value', other)")
    raw_numbers = raw_numbers.replace("((self, other.value), (other, self.value))",
                                      "((self, getattr(other, 'value', other)), (other, self.value))")
    text = message("04_modes", "test_Var_numbers", namespace("04_modes", {"Var": raw_numbers}))
    assert "holds a" in text and "as_var" in text, text
