"""The bare tape: the least a Python tape can do for the overhead benchmark's chain.

A reference row, not a library: reverse mode for exactly ``sin(x)``, ``x * c``, ``x + c``
(``c`` a constant array) and ``sum(x)``, on one level of tracing. Each operation calls NumPy,
makes one object and appends one tuple to the tape; each VJP rule is one NumPy call.
Everything a real library does beyond that is missing on purpose:

- no nesting (no levels, so no ``grad(grad(f))`` and no forward mode over it),
- no broadcasting (a cotangent is never summed back to an input's shape),
- no keyword arguments, no traced second operand, no other primitive,
- no errors (a finished trace, a missing rule or NumPy called on a tracer go unnoticed).

So its time per operation is a floor under any Python tape that records a node per operation
and calls a Python rule per node on this machine, and the kit's row reads against it: what the
kit pays above the floor is what its generality costs.

>>> import numpy as np
>>> x = np.array([0.5, 1.0])
>>> grad(lambda x: OPS.sum(OPS.sin(x) * 2.0 + 1.0))(x)  # 2 cos x
array([1.75516512, 1.08060461])
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np

NAME = "bare tape"


class Value:
    """A traced array: ``value``, and the ``adjoint`` gathered for it in the backward sweep."""

    __slots__ = ("adjoint", "value")

    def __init__(self, value: np.ndarray) -> None:
        self.value = value
        self.adjoint = None

    def __mul__(self, c: np.ndarray) -> Value:  # d(x c) = c dx
        return _record(np.multiply(self.value, c), self, np.multiply, c)

    def __add__(self, c: np.ndarray) -> Value:  # d(x + c) = dx
        return _record(np.add(self.value, c), self, _identity, None)


_tape: list[tuple[Value, Value, Callable, object]] = []


def _identity(g: np.ndarray, _: object) -> np.ndarray:
    return g


def _record(ans: np.ndarray, parent: Value, vjp: Callable, operand: object) -> Value:
    """Append ``(output, input, rule, operand)``: the input's cotangent is ``rule(g, operand)``."""
    out = Value(ans)
    _tape.append((out, parent, vjp, operand))
    return out


def _sin(x: Value) -> Value:  # d sin x = cos x dx (cos taken now: the NumPy calls of a later rule)
    return _record(np.sin(x.value), x, np.multiply, np.cos(x.value))


def _sum(x: Value) -> Value:  # d sum(x) = sum(dx): every entry gets the cotangent
    return _record(np.sum(x.value), x, np.multiply, np.ones_like(x.value))


OPS = SimpleNamespace(sin=_sin, sum=_sum)


def grad(f: Callable[[Value], Value]) -> Callable[[np.ndarray], np.ndarray]:
    """``x -> ∇f(x)`` for a scalar ``f`` written with ``OPS`` and ``* c``, ``+ c``."""

    def gradient(x: np.ndarray) -> np.ndarray:
        _tape.clear()
        start = Value(x)
        out = f(start)
        out.adjoint = np.ones_like(out.value)
        for node, parent, vjp, operand in reversed(_tape):
            if node.adjoint is not None:
                contribution = vjp(node.adjoint, operand)
                parent.adjoint = contribution if parent.adjoint is None else parent.adjoint + contribution
        _tape.clear()
        return start.adjoint

    return gradient
