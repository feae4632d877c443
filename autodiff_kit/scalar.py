"""Forward and reverse mode on plain numbers, from scratch: the engine's two ideas, unadorned.

``Dual(value, tangent)`` is a dual number $a + b\\varepsilon$ with $\\varepsilon^2 = 0$:
evaluating $f$ on $x + 1\\varepsilon$ gives $f(x) + f'(x)\\varepsilon$, because every
operation applies the chain rule to the $\\varepsilon$ part as it goes (forward mode).

``Var(value)`` records, for each result, its parents and the local derivative
$\\partial v / \\partial p$ along each edge. ``backward(out)`` then visits the graph in
reverse topological order and accumulates $\\bar p \\mathrel{+}= \\bar v \\, \\partial v / \\partial p$
(reverse mode): adjoints are *summed* over every use of a value.

This is the reference for the course's ``04_modes``; the array engine (``tracing``,
``forward``, ``reverse``) does the same with arrays, VJP rules and nesting.

>>> derivative(lambda x: x * sin(x), 2.0) == sin(2.0) + 2.0 * cos(2.0)
True
>>> x = Var(3.0); y = x * x + x; backward(y); x.grad
7.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real


class Dual:
    """$a + b\\varepsilon$: a value and its tangent (the derivative along one direction).

    Arithmetic follows $\\varepsilon^2 = 0$, so the tangents obey the rules of derivatives:
    $(a + b\\varepsilon)(c + d\\varepsilon) = ac + (ad + bc)\\varepsilon$ (the product rule) and
    $(a + b\\varepsilon)^p = a^p + p a^{p-1} b\\varepsilon$. Seeded with tangent 1, the tangent of
    the result is the derivative:

    >>> x = Dual(3.0, 1.0)
    >>> x * x + 2.0 * x  # x^2 + 2x, and its derivative 2x + 2
    Dual(15.0, 8.0)
    >>> 1.0 / x  # -1 / x^2
    Dual(0.3333333333333333, -0.1111111111111111)
    """

    __slots__ = ("tangent", "value")

    def __init__(self, value: float, tangent: float = 0.0) -> None:
        self.value = float(value)
        self.tangent = float(tangent)

    def __repr__(self) -> str:
        return f"Dual({self.value!r}, {self.tangent!r})"

    def __add__(self, other):
        other = _as_dual(other)
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __sub__(self, other):
        other = _as_dual(other)
        return Dual(self.value - other.value, self.tangent - other.tangent)

    def __mul__(self, other):  # (a + b ε)(c + d ε) = ac + (ad + bc) ε
        other = _as_dual(other)
        return Dual(self.value * other.value, self.value * other.tangent + self.tangent * other.value)

    def __truediv__(self, other):  # d(a/c) = (da c - a dc) / c^2
        other = _as_dual(other)
        quotient = self.value / other.value
        return Dual(quotient, (self.tangent - quotient * other.tangent) / other.value)

    def __radd__(self, other):
        return _as_dual(other) + self

    def __rsub__(self, other):
        return _as_dual(other) - self

    def __rmul__(self, other):
        return _as_dual(other) * self

    def __rtruediv__(self, other):
        return _as_dual(other) / self

    def __neg__(self):
        return Dual(-self.value, -self.tangent)

    def __pow__(self, exponent: float):  # d(a^p) = p a^(p-1) da
        if not isinstance(exponent, Real):
            raise TypeError("Dual ** supports a plain number as the exponent only.")
        return Dual(self.value**exponent, exponent * self.value ** (exponent - 1) * self.tangent)


def _as_dual(x) -> Dual:
    return x if isinstance(x, Dual) else Dual(x, 0.0)


def derivative(f: Callable, x: float) -> float:
    """$f'(x)$ from one forward pass on $x + 1\\varepsilon$.

    >>> derivative(lambda x: 3.0 * x ** 2 + 1.0, 2.0)
    12.0
    """
    out = f(Dual(x, 1.0))
    return out.tangent if isinstance(out, Dual) else 0.0


class Var:
    """A value in a recorded computation: ``parents`` pairs each input with $\\partial v / \\partial p$.

    Each operation makes a ``Var`` that remembers its operands and the local derivative along
    each; ``backward`` then fills ``grad``. For $z = xy + x$:

    >>> x, y = Var(2.0), Var(3.0)
    >>> z = x * y + x
    >>> [(parent.value, local) for parent, local in z.parents]  # x y and x, each with slope 1
    [(6.0, 1.0), (2.0, 1.0)]
    >>> backward(z)
    >>> x.grad, y.grad  # y + 1 and x
    (4.0, 2.0)
    """

    __slots__ = ("grad", "parents", "value")

    def __init__(self, value: float, parents: tuple = ()) -> None:
        self.value = float(value)
        self.parents = parents
        self.grad = 0.0

    def __repr__(self) -> str:
        return f"Var({self.value!r}, grad={self.grad!r})"

    def __add__(self, other):
        other = _as_var(other)
        return Var(self.value + other.value, ((self, 1.0), (other, 1.0)))

    def __sub__(self, other):
        other = _as_var(other)
        return Var(self.value - other.value, ((self, 1.0), (other, -1.0)))

    def __mul__(self, other):
        other = _as_var(other)
        return Var(self.value * other.value, ((self, other.value), (other, self.value)))

    def __truediv__(self, other):
        other = _as_var(other)
        quotient = self.value / other.value
        return Var(quotient, ((self, 1.0 / other.value), (other, -quotient / other.value)))

    def __radd__(self, other):
        return _as_var(other) + self

    def __rsub__(self, other):
        return _as_var(other) - self

    def __rmul__(self, other):
        return _as_var(other) * self

    def __rtruediv__(self, other):
        return _as_var(other) / self

    def __neg__(self):
        return Var(-self.value, ((self, -1.0),))

    def __pow__(self, exponent: float):
        if not isinstance(exponent, Real):
            raise TypeError("Var ** supports a plain number as the exponent only.")
        return Var(self.value**exponent, ((self, exponent * self.value ** (exponent - 1)),))


def _as_var(x) -> Var:
    return x if isinstance(x, Var) else Var(x)


def backward(out: Var) -> None:
    """Set ``.grad`` $= \\partial\\, \\mathrm{out} / \\partial v$ on every ``Var`` that ``out`` depends on.

    Orders the graph by an iterative depth-first search (no recursion, so a graph 100,000
    nodes deep is fine), then walks it from ``out`` back to the inputs, so every node has
    received the adjoint of all its uses before it passes its own on. The adjoints start at 0
    (so ``backward`` can run again), and $\\bar{\\mathrm{out}} = 1$.

    >>> x = Var(3.0)
    >>> y = x * x + x  # x is used three times: dy/dx = 2x + 1
    >>> backward(y)
    >>> x.grad, y.grad
    (7.0, 1.0)
    """
    order = _topological_order(out)
    for node in order:
        node.grad = 0.0
    out.grad = 1.0
    for node in reversed(order):
        for parent, local in node.parents:
            parent.grad += node.grad * local


def _topological_order(out: Var) -> list[Var]:
    """Every node ``out`` depends on, each once, parents before children."""
    order, visited = [], {id(out)}
    stack = [(out, iter(out.parents))]
    while stack:
        node, parents = stack[-1]
        for parent, _ in parents:
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _elementary(name: str, fn: Callable[[float], float], slope: Callable[[float], float],
                doc: str) -> Callable:
    """A function of a number, a ``Dual`` or a ``Var``, with derivative ``slope`` and docstring ``doc``."""

    def apply(x):
        if isinstance(x, Dual):
            return Dual(fn(x.value), slope(x.value) * x.tangent)
        if isinstance(x, Var):
            return Var(fn(x.value), ((x, slope(x.value)),))
        return fn(x)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc
    return apply


sin = _elementary("sin", math.sin, math.cos, """
$\\sin x$ of a number, a ``Dual`` or a ``Var``; its derivative is $\\cos x$.

>>> sin(0.0), sin(Dual(0.0, 2.0))  # sin 0 + (cos 0) 2 ε
(0.0, Dual(0.0, 2.0))
""")
cos = _elementary("cos", math.cos, lambda x: -math.sin(x), """
$\\cos x$ of a number, a ``Dual`` or a ``Var``; its derivative is $-\\sin x$.

>>> x = Var(0.0)
>>> y = x * cos(x)
>>> backward(y)
>>> y.value, x.grad  # (x cos x)' = cos x - x sin x
(0.0, 1.0)
""")
exp = _elementary("exp", math.exp, math.exp, """
$e^x$ of a number, a ``Dual`` or a ``Var``; it is its own derivative.

>>> exp(0.0), exp(Dual(0.0, 3.0))  # e^0 + e^0 3 ε
(1.0, Dual(1.0, 3.0))
""")
log = _elementary("log", math.log, lambda x: 1.0 / x, """
$\\log x$ (natural) of a number, a ``Dual`` or a ``Var``; its derivative is $1/x$.

>>> x = Var(2.0)
>>> y = log(x * x)
>>> backward(y)
>>> x.grad  # (log x^2)' = 2 / x
1.0
>>> derivative(log, 4.0)
0.25
""")
