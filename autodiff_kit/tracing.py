"""Tracing: how an ordinary NumPy program is seen by a derivative.

A transformation (reverse mode's ``vjp`` or forward mode's ``jvp``) opens a **trace** and
wraps its inputs in **tracers**. A tracer behaves like an array, but every **primitive**
called on it hands the call to the tracer's trace: reverse mode records a node on a tape,
forward mode pushes a tangent along. Everything else (a loop, an ``if``, a helper
function) is ordinary Python that runs once and is not seen at all.

Why a level per trace: derivatives nest (``grad(grad(f))``, ``jvp(grad(f), ...)``), so
tracers of several traces can meet in one call. Each trace gets a level, its nesting
depth, and the innermost (highest) level handles the call first. It unwraps only its own
tracers and calls the primitive again on what is inside, where the outer traces' tracers
are handled in turn. An inner derivative therefore sees an outer tracer as a constant,
which is exactly what it is for that derivative: this is what keeps the perturbations of
nested derivatives apart (the classic bug called *perturbation confusion*).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable

import numpy as np

_active_traces: list[Trace] = []
# True while a backward sweep runs on plain arrays with no trace open: every primitive is then
# its implementation, so the rules run at NumPy's speed (see ``untraced``).
_untraced = False


class Trace:
    """One differentiation in progress, at a fixed level of nesting.

    Used as a context manager: entering makes it the innermost active trace, leaving
    closes it, after which its tracers are stale and may not be used in new computations.
    """

    def __init__(self) -> None:
        self.level = 0
        self.active = False
        self._was_untraced = False

    def __enter__(self) -> Trace:
        global _untraced
        _active_traces.append(self)
        self.level = len(_active_traces)
        self.active = True
        self._was_untraced, _untraced = _untraced, False
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _untraced
        _active_traces.pop()
        self.active = False
        _untraced = self._was_untraced

    def record(self, primitive: Primitive, ans: object, values: list, unwrapped: list,
               kwargs: dict) -> Tracer:
        """The tracer for ``ans = primitive(*values, **kwargs)``.

        ``values`` are the arguments with this trace's tracers replaced by their values, and
        ``unwrapped`` the ``(position, tracer)`` pairs that were replaced.
        """
        raise NotImplementedError


class Tracer:
    """A value being differentiated: the array ``value`` as seen by ``trace``.

    ``value`` is a NumPy array, or a tracer of an outer trace when derivatives nest. The
    array behaviour (operators, methods) is ``autodiff_kit.numpy.methods.ArrayTracer``'s,
    the class every trace's tracers derive from.
    """

    __slots__ = ("trace", "value")

    def __init__(self, value: object, trace: Trace) -> None:
        self.value = value
        self.trace = trace


def primal_value(x: object) -> object:
    """The plain array under any number of tracers."""
    while isinstance(x, Tracer):
        x = x.value
    return x


class Primitive:
    """A NumPy function the kit can differentiate: the unit that traces see.

    ``impl`` is the NumPy function it runs on plain arrays. ``vjps[i](g, ans, *args,
    **kwargs)`` is the cotangent $\\bar x_i = \\bar y^\\top \\partial f / \\partial x_i$ of
    positional argument ``i`` given the output cotangent ``g`` and the output ``ans``
    (``None`` where there is none); ``jvp(tangents, ans, *args, **kwargs)`` is the output
    tangent given one tangent per argument (``None`` for constants). The rules are written
    with the kit's primitives, so they can be differentiated again; ``defvjp`` and
    ``defjvp`` attach them beside the definition.

    Called with no tracer among its positional arguments, a primitive is just ``impl``;
    otherwise the innermost (highest-level) trace among them handles the call.

    >>> from autodiff_kit import grad
    >>> cube = primitive(lambda x: x ** 3)
    >>> defvjp(cube, lambda g, ans, x: g * 3.0 * x ** 2)
    >>> cube(2.0), float(grad(cube)(2.0))
    (8.0, 12.0)
    """

    def __init__(self, impl: Callable) -> None:
        functools.update_wrapper(self, impl)
        self.impl = impl
        self.vjps: tuple = ()
        self.jvp: Callable | None = None

    def __call__(self, *args, **kwargs):
        if _untraced:
            return self.impl(*args, **kwargs)
        top = None
        for arg in args:
            if isinstance(arg, Tracer) and (top is None or arg.trace.level > top.level):
                top = arg.trace
        if top is None:
            return self.impl(*args, **kwargs)
        if not top.active:
            raise escaped_tracer_error(self.__name__)
        # The innermost trace unwraps its own tracers. If an outer trace's tracer is left among
        # the values, the call goes through this dispatch again, for the outer traces to see.
        values = list(args)
        unwrapped = []
        nested = False
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer):
                if arg.trace is top:
                    values[i] = value = arg.value
                    unwrapped.append((i, arg))
                    nested = nested or isinstance(value, Tracer)
                else:
                    nested = True
        ans = self(*values, **kwargs) if nested else self.impl(*values, **kwargs)
        return top.record(self, ans, values, unwrapped, kwargs)

    def __get__(self, instance: object, owner: type | None = None):
        """Bind to a tracer like a function does, so a primitive can serve as a method."""
        return self if instance is None else types.MethodType(self, instance)

    def __repr__(self) -> str:
        return f"<primitive {self.__name__}>"

    def rule(self, rules, argnum: int) -> Callable | None:
        """The rule for positional argument ``argnum`` among ``rules`` (one per argument)."""
        return rules[argnum] if argnum < len(rules) else None


class VariadicPrimitive(Primitive):
    """A primitive of any number of arrays (``concatenate``, ``einsum``).

    It has one rule of each kind for every argument, which takes the argument's position
    first: ``vjps[0](argnum, g, ans, *args, **kwargs)``.

    >>> from autodiff_kit import grad
    >>> total = variadic_primitive(lambda *xs: sum(xs))
    >>> defvjp(total, lambda argnum, g, ans, *xs: g)  # every argument gets the cotangent
    >>> grad(lambda x: total(x, 2.0 * x, 3.0))(1.0)
    np.float64(3.0)
    """

    def rule(self, rules, argnum: int) -> Callable | None:
        return functools.partial(rules[0], argnum) if rules and rules[0] is not None else None


def primitive(impl: Callable) -> Primitive:
    """Decorator: make ``impl`` (a function on plain arrays) a traceable primitive."""
    return Primitive(impl)


def variadic_primitive(impl: Callable) -> VariadicPrimitive:
    """Decorator: a primitive of any number of arrays, with one rule for every argument."""
    return VariadicPrimitive(impl)


def tracing_now() -> bool:
    """Whether some derivative is being traced (a trace is open), so values may be tracers."""
    return bool(_active_traces)


class untraced:  # a context manager, named and used like a function: ``with untraced():``
    """Run the block with every primitive calling its implementation directly.

    For a backward sweep on plain arrays while no trace is open: nothing it computes can be
    differentiated, so the dispatch (looking for tracers among the arguments) is skipped.
    A trace opened inside the block (a rule that differentiates) switches it off again.
    """

    def __enter__(self) -> None:
        global _untraced
        self._was_untraced, _untraced = _untraced, True

    def __exit__(self, *exc_info: object) -> None:
        global _untraced
        _untraced = self._was_untraced


def escaped_tracer_error(name: str) -> RuntimeError:
    return RuntimeError(
        f"{name} received a traced value from a derivative that has already "
        "finished (a value was kept outside the function being differentiated, for "
        "example in a global variable or a list). Return it from the function instead."
    )


def nondifferentiable(impl: Callable) -> Callable:
    """Decorator: a function with a zero or undefined derivative (comparisons, ``sign``).

    It sees through every tracer and returns a plain array, a constant for all traces.
    """

    @functools.wraps(impl)
    def constant(*args, **kwargs):
        return impl(*(primal_value(a) for a in args), **kwargs)

    return constant


def not_differentiable_error(prim: Primitive, argnum: int) -> TypeError:
    return TypeError(f"{prim.__name__} is not differentiable with respect to argument {argnum}.")


def defvjp(prim: Primitive, *rules: Callable | None) -> None:
    """Attach one VJP rule per positional argument (``None`` where it is not differentiable).

    A variadic primitive takes one rule, ``rule(argnum, g, ans, *args, **kwargs)``.
    """
    prim.vjps = rules


def defjvp(prim: Primitive, *rules: Callable | None) -> None:
    """Attach one JVP rule per positional argument; the output tangent is their sum.

    By linearity of the derivative, $\\dot y = \\sum_i \\partial_i f(x)\\,\\dot x_i$: each
    rule gives one term, and constants (tangent ``None``) contribute nothing. A variadic
    primitive takes one rule, ``rule(argnum, t, ans, *args, **kwargs)``.
    """

    def jvp(tangents, ans, *args, **kwargs):
        out = None
        for argnum, tangent in enumerate(tangents):
            if tangent is not None:
                rule = prim.rule(rules, argnum)
                if rule is None:
                    raise not_differentiable_error(prim, argnum)
                term = rule(tangent, ans, *args, **kwargs)
                out = term if out is None else out + term
        return out

    prim.jvp = jvp


def defjvp_linear(prim: Primitive) -> None:
    """For a primitive linear in all its arrays jointly: its JVP is itself on the tangents."""

    def jvp(tangents, ans, *args, **kwargs):
        filled = (
            np.zeros(np.shape(primal_value(a)), dtype=np.result_type(primal_value(a)))
            if t is None
            else t
            for t, a in zip(tangents, args, strict=True)
        )
        return prim(*filled, **kwargs)

    prim.jvp = jvp
