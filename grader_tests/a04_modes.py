"""Hidden checks of 04_modes: dual numbers, the elementary functions, ``derivative``, ``Var``, ``backward``.

Most checks draw a random *program* (a list of instructions, see
``grader_tests.probes.a04_modes``), have the probe run it with the student's code, and
compare every node with the same probe run on the kit's reference ``autodiff_kit.scalar``.
A program is checked node by node, in the order it runs, so a failure names the first
operation that goes wrong, with its operands, and the rule it breaks. The elementary
functions and the deep chain are judged against closed forms instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from autodiff_kit import scalar
from grader_tests.checks import Case, Check, Oracle
from grader_tests.feedback import GradingError, as_float_array
from grader_tests.probes import StudentError, Unreadable
from grader_tests.probes import a04_modes as probes
from grader_tests.probes.a04_modes import BINARY, FUNCTIONS

ASSIGNMENT = "04_modes"
RTOL, ATOL = 1e-6, 1e-9
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
REVERSED = {"sub": "__rsub__", "div": "__rtruediv__"}
TANGENT_RULES = {
    "add": "The tangent of a sum is the sum of the tangents.",
    "sub": "The tangent of a - b is a' - b'.",
    "mul": "Product rule: (a b)' = a' b + a b'.",
    "div": "Quotient rule: (a / b)' = (a' b - a b') / b**2.",
    "pow": "Power rule: (a**p)' = p a**(p - 1) a' for a number p.",
    "neg": "The tangent of -a is -a'.",
}
LOCAL_RULES = {
    "add": "Both local derivatives of a + b are 1.",
    "sub": "The local derivatives of a - b are 1 (for a) and -1 (for b).",
    "mul": "The local derivatives of a * b are b (for a) and a (for b).",
    "div": "The local derivatives of a / b are 1 / b (for a) and -a / b**2 (for b).",
    "pow": "The local derivative of a**p is p a**(p - 1).",
    "neg": "The local derivative of -a is -1.",
}
DOMAINS = {"sin": (-3.0, 3.0), "cos": (-3.0, 3.0), "exp": (-2.0, 2.0), "log": (0.2, 4.0)}
SLOPES = {"sin": (math.cos, "cos({})"), "cos": (lambda a: -math.sin(a), "-sin({})"),
          "exp": (math.exp, "exp({})"), "log": (lambda a: 1.0 / a, "1 / {}")}
EXPONENTS = (2, 3, -1, -2, 0.5, 1.5, -0.5, 2.5)


# Drawing programs ------------------------------------------------------------------------

def plain_value(op: str, operands: list[float]) -> float:
    if op == "neg":
        return -operands[0]
    if op in FUNCTIONS:
        return getattr(math, op)(operands[0])
    return BINARY[op](*operands)


def is_safe(op: str, operands: list[float]) -> bool:
    """Whether ``op`` is far from its singularities at ``operands``, so derivatives stay moderate."""
    a = operands[0]
    if op == "div":
        return abs(operands[1]) >= 0.25
    if op == "log":
        return a >= 0.25
    if op == "exp":
        return a <= 3.0
    if op == "pow":
        p = operands[1]
        return (p == int(p) or a >= 0.25) and (p >= 0 or abs(a) >= 0.25)
    return True


class Draw:
    """A program drawn at random, with each node's plain value kept to refuse unsafe operations."""

    def __init__(self, rng: np.random.Generator, tangents: bool = False) -> None:
        self.rng = rng
        self.tangents = tangents
        self.program: list[tuple] = []
        self.values: list[float] = []

    def number(self, low: float = 0.5, high: float = 2.0) -> float:
        """A value of magnitude in ``[low, high]``, either sign, short enough to read in a message."""
        return round(float(self.rng.choice([-1, 1]) * self.rng.uniform(low, high)), 3)

    def constant(self) -> float | int:
        """A number for an operand: sometimes an int, as students write ``2 * x``."""
        if self.rng.random() < 0.3:
            return int(self.rng.choice([-3, -2, 2, 3]))
        return round(self.number(0.5, 3.0), 2)

    def input(self, value: float | None = None) -> str:
        value = self.number() if value is None else value
        instruction = ("input", value, self.number(0.3, 2.0)) if self.tangents else ("input", value)
        self.program.append(instruction)
        self.values.append(value)
        return f"v{len(self.values) - 1}"

    def node(self, op: str, *operands: str | float) -> str | None:
        """Append ``op(*operands)`` and return its name, or ``None`` (appending nothing) if unsafe."""
        plain = [self.values[int(x[1:])] if isinstance(x, str) else x for x in operands]
        if not is_safe(op, plain):
            return None
        value = plain_value(op, plain)
        if not abs(value) <= 100.0:
            return None
        self.program.append((op, *operands))
        self.values.append(value)
        return f"v{len(self.values) - 1}"

    def names(self) -> list[str]:
        return [f"v{i}" for i in range(len(self.values))]

    def pick(self, names: list[str] | None = None) -> str:
        names = self.names() if names is None else names
        return names[int(self.rng.integers(len(names)))]

    def random(self, ops: tuple[str, ...], operand: Callable) -> str:
        """A safe node ``op(operands)``, ``op`` drawn from ``ops``, operands from ``operand(op)``."""
        while True:
            op = ops[int(self.rng.integers(len(ops)))]
            name = self.node(op, *operand(op))
            if name is not None:
                return name

    def nodes_or_constant(self, op: str) -> tuple:
        """Operands for ``op``: nodes, or one node and a number on either side."""
        if op in FUNCTIONS or op == "neg":
            return (self.pick(),)
        if op == "pow":
            return (self.pick(), EXPONENTS[int(self.rng.integers(len(EXPONENTS)))])
        if self.rng.random() < 0.5:
            return (self.pick(), self.pick())
        pair = (self.pick(), self.constant())
        return pair if self.rng.random() < 0.5 else pair[::-1]


def render(program: list, k: int) -> str:
    """Instruction ``k`` as Python: ``v3 = v0 * 2.5``."""
    op, *operands = program[k]
    shown = [str(x) for x in operands]
    if op == "input":
        return f"v{k} = input"
    if op == "neg":
        return f"v{k} = -{shown[0]}"
    if op in FUNCTIONS:
        return f"v{k} = {op}({shown[0]})"
    return f"v{k} = {shown[0]} {SYMBOLS[op]} {shown[1]}"


def node_operands(program: list, k: int) -> list[int]:
    """The nodes instruction ``k`` reads, in order, without repeats."""
    indices = [int(x[1:]) for x in program[k][1:] if isinstance(x, str)]
    return list(dict.fromkeys(indices))


def number_rule(op: str, operands: tuple) -> str:
    """The reminder for a number on the left of ``-`` or ``/``, where Python calls the reflected method."""
    if op in REVERSED and not isinstance(operands[0], str):
        return (f" With a number on the left, Python calls `{REVERSED[op]}`: "
                f"c {SYMBOLS[op]} v is not v {SYMBOLS[op]} c.")
    return ""


# Reading results ---------------------------------------------------------------------------

def as_number(value: object, name: str) -> float:
    """``value`` as a float, or a ``GradingError`` saying what it is instead."""
    if isinstance(value, Unreadable):
        raise GradingError(f"{name} is a {value.kind}, not a number.")
    array = as_float_array(value, name)
    if array.size != 1:
        raise GradingError(f"{name} should be one number, but it has shape {array.shape}.")
    return float(array.reshape(()))


def show(x: float) -> str:
    """``x`` in six significant digits, without the sign of a negative zero."""
    return f"{x + 0.0:.6g}"


def close(got: float, expected: float) -> bool:
    return bool(np.isclose(got, expected, rtol=RTOL, atol=ATOL))


def sequence_of(got: object, length: int, name: str) -> list:
    if not isinstance(got, list | tuple) or len(got) != length:
        raise GradingError(f"{name} could not be read: the probe expected {length} results.")
    return list(got)


# Dual ------------------------------------------------------------------------------------

class DualCheck(Check):
    """A program of ``Dual`` inputs: every node's value and tangent, against the reference ``Dual``."""

    abstract = True
    assignment = ASSIGNMENT
    function = "Dual"

    def draw(self, d: Draw) -> None:
        raise NotImplementedError

    def case(self, rng: np.random.Generator) -> Case:
        d = Draw(rng, tangents=True)
        self.draw(d)
        args = {"program": d.program}
        return Case("dual_program", args, expected=probes.dual_program({"Dual": scalar.Dual}, args, None))

    def verdict(self, case: Case, got: object) -> None:
        program, expected = case.args["program"], case.expected
        for k, pair in enumerate(sequence_of(got, len(program), "The nodes")):
            for index, what in enumerate(("value", "tangent")):
                value = as_number(pair[index], f"The {what} of v{k}")
                if not close(value, expected[k][index]):
                    raise GradingError(self.message(program, expected, k, what, value))

    @staticmethod
    def message(program: list, expected: list, k: int, what: str, value: float) -> str:
        op, *operands = program[k]
        given = ", ".join(f"v{i} = Dual({show(expected[i][0])}, {show(expected[i][1])})"
                          for i in node_operands(program, k))
        rule = TANGENT_RULES[op] if what == "tangent" else "The value is the operation on the values alone."
        return (f"With {given}, `{render(program, k)}` gives {what} {show(value)}, but it should be "
                f"{show(expected[k][0 if what == 'value' else 1])}. {rule}{number_rule(op, operands)}")


def draw_arithmetic(d: Draw) -> None:
    """Each of ``+ - * /`` between inputs, then random combinations of any nodes."""
    a, b, c = d.input(), d.input(), d.input()
    for op, x, y in (("add", a, b), ("sub", b, c), ("mul", a, c), ("div", b, a), ("div", c, b)):
        d.node(op, x, y)
    for _ in range(6):
        d.random(("add", "sub", "mul", "div"), lambda op: (d.pick(), d.pick()))


def draw_numbers(d: Draw) -> None:
    """Each of ``+ - * /`` with a number on the left and on the right, and unary minus."""
    a, b = d.input(), d.input()
    for op in ("add", "sub", "mul", "div"):
        d.node(op, a, d.constant())
        d.node(op, d.constant(), b)
    d.node("neg", a)
    for _ in range(4):
        d.random(("add", "sub", "mul", "div", "neg"), d.nodes_or_constant)


def draw_powers(d: Draw) -> None:
    """Integer and fractional exponents of a positive input, integer ones of a negative input."""
    positive, negative = d.input(abs(d.number())), d.input(-abs(d.number()))
    for p in EXPONENTS:
        d.node("pow", positive, p)
    for p in (2, 3, -1):
        d.node("pow", negative, p)
    d.random(("pow",), lambda op: (d.pick(d.names()[-3:]), EXPONENTS[int(d.rng.integers(4))]))


class DualArithmetic(DualCheck):
    aspect = "arithmetic"
    points = 2
    draw = staticmethod(draw_arithmetic)


class DualNumbers(DualCheck):
    aspect = "numbers"
    draw = staticmethod(draw_numbers)


class DualPower(DualCheck):
    aspect = "power"
    draw = staticmethod(draw_powers)


# Elementary functions ------------------------------------------------------------------------

class ElementaryCheck(Check):
    """``sin cos exp log`` (each twice) on one kind of argument, against their closed forms."""

    abstract = True
    assignment = ASSIGNMENT
    function = "elementary_functions"
    kind: ClassVar[str]

    def case(self, rng: np.random.Generator) -> Case:
        cases = []
        for name in FUNCTIONS * 2:
            x = round(float(rng.uniform(*DOMAINS[name])), 3)
            tangent = round(float(rng.choice([-1, 1]) * rng.choice([rng.uniform(0.3, 0.8),
                                                                    rng.uniform(1.3, 2.5)])), 3)
            cases.append((name, x, tangent))
        return Case("elementary", {"kind": self.kind, "cases": cases})

    def verdict(self, case: Case, got: object) -> None:
        for (name, x, tangent), result in zip(case.args["cases"], sequence_of(got, 8, "The results"),
                                              strict=True):
            self.judge_one(name, x, tangent, result)

    def judge_one(self, name: str, x: float, tangent: float, result: object) -> None:
        raise NotImplementedError


class ElementaryNumbers(ElementaryCheck):
    aspect = "numbers"
    kind = "number"

    def judge_one(self, name, x, tangent, result):
        value = as_number(result, f"`{name}({x})`")
        if not close(value, getattr(math, name)(x)):
            raise GradingError(f"`{name}({x})` returned {show(value)}, but it should be the number "
                               f"{show(getattr(math, name)(x))}.")


class ElementaryDual(ElementaryCheck):
    aspect = "dual"
    points = 2
    kind = "dual"

    def judge_one(self, name, x, tangent, result):
        call = f"`{name}(Dual({x}, {tangent}))`"
        value = as_number(result[0], f"The value of {call}")
        got = as_number(result[1], f"The tangent of {call}")
        if not close(value, getattr(math, name)(x)):
            raise GradingError(f"{call} has value {show(value)}, but it should be {name}({x}) = "
                               f"{show(getattr(math, name)(x))}.")
        slope, formula = SLOPES[name]
        expected = slope(x) * tangent
        if close(got, expected):
            return
        message = (f"{call} has tangent {show(got)}, but it should be {show(expected)}: "
                   f"{name}(a + bε) = {name}(a) + {name}'(a) b ε, with {name}'(a) = {formula.format('a')}.")
        if close(got, slope(x)):
            message += " It is f'(a) alone: multiply by the tangent b (the chain rule)."
        elif close(got, -expected):
            message += " It has the opposite sign."
        raise GradingError(message)


class ElementaryVar(ElementaryCheck):
    aspect = "var"
    kind = "var"

    def judge_one(self, name, x, tangent, result):
        value = as_number(result[0], f"The value of `{name}(Var({x}))`")
        got = as_number(result[1], "x.grad")
        if not close(value, getattr(math, name)(x)):
            raise GradingError(f"`{name}(Var({x}))` has value {show(value)}, but it should be {name}({x}) = "
                               f"{show(getattr(math, name)(x))}.")
        slope, formula = SLOPES[name]
        if close(got, slope(x)):
            return
        message = (f"After backward on `out = {name}(x)` with x = Var({x}), x.grad is {show(got)}, but it "
                   f"should be {name}'({x}) = {formula.format(x)} = {show(slope(x))}: the result of "
                   f"{name}(x) is Var({name}(a), ((x, {formula.format('a')}),)) for a = x.value.")
        if close(got, getattr(math, name)(x)):
            message += f" It is {name}(a) itself: the edge stores the derivative."
        elif close(got, -slope(x)):
            message += " It has the opposite sign."
        raise GradingError(message)


# derivative ------------------------------------------------------------------------------

class Watcher(Oracle):
    """Receives what the function handed to the student's code was called with."""

    def on_saw(self, payload: dict) -> None:
        return None

    def seen(self, case: int) -> list:
        return [payload["arg"] for request, payload in self.log
                if request == "saw" and payload["case"] == case]


def derivative_programs(rng: np.random.Generator, count: int) -> list[dict]:
    """``count`` random functions of one variable, through all ten operations."""
    cases = []
    for _ in range(count):
        d = Draw(rng)
        d.input()
        for _ in range(int(rng.integers(4, 8))):
            d.random(("add", "sub", "mul", "div", "pow", "neg", *FUNCTIONS), d.nodes_or_constant)
        program = [("input",), *d.program[1:]]
        cases.append({"program": program, "x": d.values[0]})
    return cases


def reference_derivative(case: dict) -> float:
    return probes.run_program(case["program"], lambda: scalar.Dual(case["x"], 1.0),
                              probes.REFERENCE_FUNCTIONS)[-1].tangent


class DerivativeCheck(Check):
    abstract = True
    assignment = ASSIGNMENT
    function = "derivative"

    def case(self, rng: np.random.Generator) -> Case:
        cases = derivative_programs(rng, 4)
        return Case("derivative", {"cases": cases}, expected=[reference_derivative(c) for c in cases],
                    oracle=Watcher())


class DerivativeValues(DerivativeCheck):
    aspect = "values"
    points = 2

    def verdict(self, case, got):
        for c, result, expected in zip(case.args["cases"], sequence_of(got, 4, "The derivatives"),
                                       case.expected, strict=True):
            value = as_number(result, f"derivative(f, {c['x']})")
            if close(value, expected):
                continue
            program = c["program"]
            steps = "; ".join(render(program, k) for k in range(1, len(program)))
            message = (f"For f(v0) = v{len(program) - 1} with {steps}, derivative(f, {c['x']}) returned "
                       f"{show(value)}, but f'({c['x']}) = {show(expected)}.")
            f_value = probes.run_program(program, lambda c=c: c["x"], probes.REFERENCE_FUNCTIONS)[-1]
            if close(value, f_value):
                message += " That is f(x) itself: return the tangent of the output, not its value."
            elif close(value, 0.0):
                message += " Seed the input with tangent 1: f(Dual(x, 1.0))."
            raise GradingError(message)


class DerivativeOnePass(DerivativeCheck):
    aspect = "one_pass"

    def verdict(self, case, got):
        for i, c in enumerate(case.args["cases"]):
            seen = case.oracle.seen(i)
            if len(seen) != 1:
                raise GradingError(f"`derivative` called f {len(seen)} times; one forward pass on "
                                   f"Dual(x, 1.0) calls it once.")
            kind, *data = seen[0]
            if kind != "Dual":
                what = f"the number {show(data[0])}" if kind == "number" else f"a {data[0]}"
                raise GradingError(f"`derivative` called f with {what}; call it once with Dual(x, 1.0), "
                                   "so that the tangent carries f'(x).")
            if not (close(data[0], c["x"]) and close(data[1], 1.0)):
                raise GradingError(f"`derivative(f, {c['x']})` called f with Dual({show(data[0])}, "
                                   f"{show(data[1])}), but it should be Dual({c['x']}, 1.0): value x, "
                                   "tangent 1.")


class DerivativeConstant(Check):
    """``f`` that ignores its argument returns a plain number, whose derivative is 0."""

    assignment = ASSIGNMENT
    function = "derivative"
    aspect = "constant"

    def case(self, rng: np.random.Generator) -> Case:
        d = Draw(rng)
        cases = [{"program": [("input",), ("add", d.constant(), d.constant())], "x": d.number()},
                 {"program": [("input",), ("mul", d.constant(), d.constant())], "x": d.number()}]
        return Case("derivative", {"cases": cases}, oracle=Watcher())

    def judge(self, case, got):
        if isinstance(got, StudentError):
            where = f" in the line `{got.line}`" if got.line else ""
            raise GradingError(f"`derivative` raised {got.kind}{where} ({got.message}) for an f that "
                               "does not depend on x and so returns a plain number: its derivative is 0, so "
                               "return 0.0 when the output is not a Dual.")
        super().judge(case, got)

    def verdict(self, case, got):
        for c, result in zip(case.args["cases"], sequence_of(got, 2, "The derivatives"), strict=True):
            value = as_number(result, "derivative of a constant function")
            if not close(value, 0.0):
                f_value = probes.run_program(c["program"], lambda: None, {})[-1]
                raise GradingError(f"For f(x) = {f_value} (a constant), derivative(f, {c['x']}) returned "
                                   f"{show(value)}, but it should be 0.")


# Var ----------------------------------------------------------------------------------------

class VarCheck(Check):
    """A program of ``Var`` inputs, differentiated by the reference ``backward`` from every node."""

    abstract = True
    assignment = ASSIGNMENT
    function = "Var"

    def draw(self, d: Draw) -> None:
        raise NotImplementedError

    def case(self, rng: np.random.Generator) -> Case:
        d = Draw(rng)
        self.draw(d)
        args = {"program": d.program}
        return Case("var_program", args, expected=probes.var_program({"Var": scalar.Var}, args, None))

    def verdict(self, case: Case, got: object) -> None:
        program, expected = case.args["program"], case.expected
        if not isinstance(got, dict) or set(got) != {"values", "grads"}:
            raise GradingError("The results of the Var program could not be read.")
        values = sequence_of(got["values"], len(program), "The values")
        grads = sequence_of(got["grads"], len(program), "The gradients")
        for k in range(len(program)):
            value = as_number(values[k], f"The value of v{k}")
            if not close(value, expected["values"][k]):
                raise GradingError(f"{self.given(program, expected, k)}`{render(program, k)}` has value "
                                   f"{show(value)}, but it should be {show(expected['values'][k])}."
                                   f"{number_rule(program[k][0], program[k][1:])}")
            row = sequence_of(grads[k], k + 1, f"The gradients after backward(v{k})")
            read = node_operands(program, k)
            for i in read + [i for i in range(k + 1) if i not in read]:
                grad = as_number(row[i], f"v{i}.grad")
                if not close(grad, expected["grads"][k][i]):
                    raise GradingError(self.message(program, expected, k, i, grad))

    @staticmethod
    def given(program: list, expected: dict, k: int) -> str:
        operands = node_operands(program, k)
        if not operands or program[k][0] == "input":
            return ""
        return "With " + ", ".join(f"v{i} = Var({show(expected['values'][i])})" for i in operands) + ", "

    @classmethod
    def message(cls, program: list, expected: dict, k: int, i: int, grad: float) -> str:
        op, *operands = program[k]
        text = (f"{cls.given(program, expected, k)}after backward on `{render(program, k)}`, v{i}.grad is "
                f"{show(grad)}, but it should be {show(expected['grads'][k][i])}.")
        if op in LOCAL_RULES:
            text += (f" {LOCAL_RULES[op]} They go in `.parents` as (input, local derivative) pairs."
                     f"{number_rule(op, operands)}")
        return text


class VarArithmetic(VarCheck):
    aspect = "arithmetic"
    points = 2
    draw = staticmethod(draw_arithmetic)


class VarNumbers(VarCheck):
    aspect = "numbers"
    draw = staticmethod(draw_numbers)


class VarPower(VarCheck):
    aspect = "power"
    draw = staticmethod(draw_powers)


# backward -------------------------------------------------------------------------------

def uses_of(program: list) -> list[list[tuple[int, float]]]:
    """For each node, ``(user, local derivative)`` for every use, from a reference ``Var`` graph."""
    nodes = probes.run_program(program, scalar.Var, probes.REFERENCE_FUNCTIONS)
    index = {id(node): k for k, node in enumerate(nodes)}
    uses: list[list[tuple[int, float]]] = [[] for _ in nodes]
    for m, node in enumerate(nodes):
        for parent, local in node.parents:
            if id(parent) in index:
                uses[index[id(parent)]].append((m, local))
    return uses


def depth_first(out: scalar.Var, once: bool = True) -> list:
    """Reverse topological order from ``out``; with ``once=False``, a node once per path to it."""
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif not once or id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent, _ in node.parents)
    return order[::-1]


def breadth_first(out: scalar.Var) -> list:
    queue, seen = [out], {id(out)}
    for node in queue:
        for parent, _ in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return queue


def sweep(program: list, visit: Callable, add: bool) -> list[float]:
    """The grads of a backward pass over ``visit(out)`` that adds (or assigns) each contribution."""
    nodes = probes.run_program(program, scalar.Var, probes.REFERENCE_FUNCTIONS)
    nodes[-1].grad = 1.0
    for node in visit(nodes[-1]):
        for parent, local in node.parents:
            parent.grad = (parent.grad if add else 0.0) + node.grad * local
    return [node.grad for node in nodes]


KNOWN_BUGS = (
    (depth_first, False, "each use overwrites `.grad` instead of adding to it (+=)"),
    (breadth_first, True, "it visits the nodes breadth-first from the output, so some pass their "
     "adjoint on before all their uses have added theirs: visit them in reverse topological order"),
    (lambda out: depth_first(out, once=False), True, "shared nodes are visited once per path, so they "
     "pass their adjoint on several times: visit each node once"),
)


class BackwardCheck(Check):
    """The student's ``backward`` on a reference ``Var`` graph: the ``.grad`` of every node."""

    abstract = True
    assignment = ASSIGNMENT
    function = "backward"

    def draw(self, d: Draw) -> None:
        raise NotImplementedError

    def case(self, rng: np.random.Generator) -> Case:
        d = Draw(rng)
        self.draw(d)
        args = {"program": d.program}
        expected = probes.backward_program({"backward": scalar.backward}, args, None)
        return Case("backward_program", args, expected=expected)

    def verdict(self, case: Case, got: object) -> None:
        program, expected = case.args["program"], case.expected
        got = sequence_of(got, len(program), "The grads")
        grads = [as_number(g, f"v{k}.grad") for k, g in enumerate(got)]
        if not all(close(g, e) for g, e in zip(grads, expected, strict=True)):
            raise GradingError(self.message(program, expected, grads))

    @staticmethod
    def message(program: list, expected: list, grads: list[float]) -> str:
        """What is wrong, at the wrong node nearest the output, and the likely bug."""
        k = max(i for i in range(len(program)) if not close(grads[i], expected[i]))
        out = len(program) - 1
        steps = "; ".join(render(program, i) for i in range(len(program)) if program[i][0] != "input")
        graph = (f"On the graph {steps}: backward(v{out}) leaves v{k}.grad = {show(grads[k])}, but it should "
                 f"be {show(expected[k])}.")
        if k == out:
            return f"{graph} The output's own adjoint is 1 (d out / d out): set out.grad = 1.0 to start."
        for visit, add, cause in KNOWN_BUGS:
            if all(close(g, s) for g, s in zip(grads, sweep(program, visit, add), strict=True)):
                return f"{graph} That is what backward gives when {cause}."
        uses = uses_of(program)[k]
        users = ", ".join(f"v{m}" for m, _ in uses)
        if len(uses) > 1 and any(close(grads[k], expected[m] * local) for m, local in uses):
            return (f"{graph} That is the contribution of one of its {len(uses)} uses ({users}): add each "
                    "use's contribution to `.grad` (+=) instead of overwriting it.")
        return (f"{graph} v{k} receives the adjoint of each of its uses ({users}) times the local "
                "derivative; every node must have received all of its adjoint before passing it on, and "
                "pass it on once: visit the nodes once each, in reverse topological order.")


class BackwardChain(BackwardCheck):
    """A chain: each node used once, so order and summing matter little; the basics of the sweep."""

    aspect = "chain"

    def draw(self, d: Draw) -> None:
        last, other = d.input(), d.input()
        join = int(d.rng.integers(2, 8))
        for step in range(10):
            if step == join:
                last = d.node("mul", last, other) or d.node("add", last, other)
            else:
                last = d.random(("add", "sub", "mul", "div", "pow", "neg", *FUNCTIONS),
                                lambda op, last=last: self.unary(d, op, last))

    @staticmethod
    def unary(d: Draw, op: str, last: str) -> tuple:
        if op in FUNCTIONS or op == "neg":
            return (last,)
        if op == "pow":
            return (last, EXPONENTS[int(d.rng.integers(len(EXPONENTS)))])
        return (last, d.constant()) if d.rng.random() < 0.5 else (d.constant(), last)


def use_everything(d: Draw) -> None:
    """Combine the nodes no one uses yet into the output, so the output depends on every node."""
    while True:
        used = {x for _, *operands in d.program for x in operands if isinstance(x, str)}
        unused = [name for name in d.names()[:-1] if name not in used]
        if not unused:
            return
        d.random(("add", "mul", "sub"), lambda op, other=unused[0]: (d.names()[-1], other))


class BackwardShared(BackwardCheck):
    """Nodes used several times (``b = a + a; c = b * b``...): adjoints summed over all uses.

    A random graph, then a fixed one joined to its output that every slip of the sweep gets
    wrong by a wide margin, whatever the draw: ``t = s + s`` (one node using another twice),
    ``u = t * t``, and ``u`` reached both directly and through ``z = 2 (2 u)``, so ``u``'s adjoint
    is 1 + 4: overwriting gives 1 or 4, a breadth-first sweep takes ``u`` at 1, and a sweep
    without a visited set pushes ``u``'s adjoint back twice.
    """

    aspect = "shared"
    points = 2

    def draw(self, d: Draw) -> None:
        a = d.input()
        d.input()
        b = d.node("add", a, a)
        d.node("mul", b, b)
        for _ in range(6):
            d.random(("add", "sub", "mul", "div", "sin", "cos", "exp"), lambda op: tuple(
                d.pick(d.names()[-4:]) for _ in range(1 if op in FUNCTIONS else 2)))
        use_everything(d)
        random_part = d.names()[-1]
        s = d.input(d.number(0.5, 1.0))
        t = d.node("add", s, s)
        u = d.node("mul", t, t)
        z = d.node("mul", d.node("mul", u, 2), 2)
        joined = d.node("add", u, z)  # at most 20, so joining keeps every value within 100
        d.node("sub" if d.values[int(random_part[1:])] > 0 else "add", random_part, joined)


class BackwardOrder(BackwardCheck):
    """A node used near the output and again far from it: only a reverse topological order is right."""

    aspect = "order"

    def draw(self, d: Draw) -> None:
        d.input()
        early = d.random(("sin", "cos", "exp", "mul"),
                         lambda op: ("v0",) if op in FUNCTIONS else ("v0", "v0"))
        for _ in range(int(d.rng.integers(3, 6))):
            d.random(("add", "mul", "sin", "cos", "exp"),
                     lambda op: BackwardChain.unary(d, op, d.names()[-1]))
        d.random(("add", "mul", "sub"), lambda op: (d.names()[-1], early))


class BackwardDeep(Check):
    """A chain 100,000 nodes deep: a recursive graph search exceeds Python's recursion limit."""

    assignment = ASSIGNMENT
    function = "backward"
    aspect = "deep"
    points = 2
    depth = 100_000

    def case(self, rng: np.random.Generator) -> Case:
        slopes = 1.0 + 0.002 * rng.standard_normal(self.depth)
        report = sorted({0, 1, *(int(k) for k in rng.integers(2, self.depth, 3)), self.depth})
        suffix = np.append(np.cumprod(slopes[::-1])[::-1], 1.0)  # suffix[k] = prod(slopes[k:])
        args = {"start": float(rng.uniform(0.5, 2.0)), "slopes": slopes, "report": report}
        return Case("backward_chain", args, expected=[float(suffix[k]) for k in report])

    def judge(self, case, got):
        if isinstance(got, StudentError) and got.kind == "RecursionError":
            raise GradingError("`backward` exceeded Python's recursion limit on a graph 100,000 nodes deep: "
                               "order the nodes with a loop and an explicit stack (a list) instead of a "
                               "recursive function.")
        super().judge(case, got)

    def verdict(self, case, got):
        report = case.args["report"]
        for k, value, expected in zip(report, sequence_of(got, len(report), "The grads"), case.expected,
                                      strict=True):
            grad = as_number(value, f"v{k}.grad")
            if not close(grad, expected):
                raise GradingError(f"On a chain v(k+1) = c(k) * v(k), 100,000 nodes deep, v{k}.grad is "
                                   f"{show(grad)}, but it should be {show(expected)}, the product of the "
                                   f"slopes after v{k}.")
