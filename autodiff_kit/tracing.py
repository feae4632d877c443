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

    Used as a context manager: entering makes it the innermost active trace, with ``level``
    its nesting depth (1 for the outermost); leaving closes it, after which its tracers are
    stale and may not be used in new computations. The transformations open its two kinds,
    ``reverse.ReverseTrace`` (``vjp``) and ``forward.ForwardTrace`` (``jvp``):

    >>> from autodiff_kit.reverse import ReverseTrace
    >>> with ReverseTrace() as outer, ReverseTrace() as inner:
    ...     print(outer.level, inner.level, tracing_now())
    1 2 True
    >>> inner.active, tracing_now()
    (False, False)
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
        """The tracer for ``ans = primitive(*values, **kwargs)``: what this trace makes of one call.

        ``values`` are the arguments with this trace's tracers replaced by their values, and
        ``unwrapped`` the ``(position, tracer)`` pairs that were replaced; ``ans`` is already
        computed. Reverse mode appends a node to its tape here; forward mode computes the
        output tangent $\\dot y = \\sum_i \\partial_i f(x)\\, \\dot x_i$ from the tangents of
        the ``unwrapped`` tracers. A trace that only watches the calls:

        >>> import autodiff_kit.numpy as anp
        >>> class Watching(Trace):
        ...     def record(self, primitive, ans, values, unwrapped, kwargs):
        ...         print(primitive, values, [i for i, _ in unwrapped], ans)
        ...         return Tracer(ans, self)
        >>> with Watching() as trace:
        ...     y = anp.multiply(Tracer(3.0, trace), 2.0)
        <primitive multiply> [3.0, 2.0] [0] 6.0
        >>> float(y.value)
        6.0
        """
        raise NotImplementedError


class Tracer:
    """A value being differentiated: the array ``value`` as seen by ``trace``.

    ``value`` is a NumPy array, or a tracer of an outer trace when derivatives nest. The
    array behaviour (operators, methods) is ``autodiff_kit.numpy.methods.ArrayTracer``'s,
    the class every trace's tracers derive from. Under ``grad``, the function receives a
    tracer of reverse mode (a ``reverse.Node``) in place of its argument:

    >>> from autodiff_kit import grad
    >>> def square(x):
    ...     print(type(x).__name__, isinstance(x, Tracer), x.value)
    ...     return x * x
    >>> float(grad(square)(3.0))
    Node True 3.0
    6.0
    """

    __slots__ = ("trace", "value")

    def __init__(self, value: object, trace: Trace) -> None:
        self.value = value
        self.trace = trace


def primal_value(x: object) -> object:
    """The plain array under any number of tracers (``x`` itself if it is not traced).

    In a second derivative the argument is a tracer of the inner trace holding a tracer of the
    outer one:

    >>> from autodiff_kit import grad
    >>> def cube(x):
    ...     print(type(x).__name__, type(x.value).__name__, primal_value(x))
    ...     return x * x * x
    >>> float(grad(grad(cube))(2.0))  # 6 x
    Node Node 2.0
    12.0
    """
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
        """The rule for positional argument ``argnum`` among ``rules`` (one per argument).

        ``None`` past the end of ``rules``: an argument given no rule is not differentiable.

        >>> cube = primitive(lambda x: x ** 3)
        >>> defvjp(cube, lambda g, ans, x: g * 3.0 * x ** 2)
        >>> cube.rule(cube.vjps, 0) is cube.vjps[0], cube.rule(cube.vjps, 1)
        (True, None)
        """
        return rules[argnum] if argnum < len(rules) else None


class VariadicPrimitive(Primitive):
    """A primitive of any number of arrays (``concatenate``, ``einsum``).

    It has one rule of each kind for every argument, which takes the argument's position
    first: ``vjps[0](argnum, g, ans, *args, **kwargs)``.

    >>> from autodiff_kit import grad
    >>> total = variadic_primitive(lambda *xs: sum(xs))
    >>> defvjp(total, lambda argnum, g, ans, *xs: g)  # every argument gets the cotangent
    >>> float(grad(lambda x: total(x, 2.0 * x, 3.0))(1.0))  # d/dx (x + 2 x + 3)
    3.0
    """

    def rule(self, rules, argnum: int) -> Callable | None:
        """The one rule ``rules[0]`` with ``argnum`` bound as its first argument (``None`` if unset).

        For $y = \\sum_i (i + 1)\\, x_i$, $\\bar x_i = (i + 1)\\, \\bar y$:

        >>> weighted = variadic_primitive(lambda *xs: sum((i + 1) * x for i, x in enumerate(xs)))
        >>> defvjp(weighted, lambda argnum, g, ans, *xs: (argnum + 1) * g)
        >>> weighted.rule(weighted.vjps, 2)(1.0, 6.0, 1.0, 1.0, 1.0)  # rule(2, g, ans, *xs)
        3.0
        """
        return functools.partial(rules[0], argnum) if rules and rules[0] is not None else None


def primitive(impl: Callable) -> Primitive:
    """Decorator: make ``impl`` (a function on plain arrays) a traceable primitive.

    The traces never look inside ``impl``: a derivative through it needs its rules, given with
    ``defvjp`` (reverse mode) and ``defjvp`` (forward mode). Without them it runs, but has no
    derivative:

    >>> from autodiff_kit import grad
    >>> @primitive
    ... def cube(x):
    ...     return x ** 3
    >>> cube(2.0)
    8.0
    >>> grad(cube)(2.0)
    Traceback (most recent call last):
    ...
    TypeError: cube is not differentiable with respect to argument 0.
    >>> defvjp(cube, lambda g, ans, x: g * 3.0 * x ** 2)  # (x^3)' = 3 x^2
    >>> float(grad(cube)(2.0))
    12.0
    """
    return Primitive(impl)


def variadic_primitive(impl: Callable) -> VariadicPrimitive:
    """Decorator: a primitive of any number of arrays, with one rule for every argument.

    The rule takes the argument's position first (see ``VariadicPrimitive``). A sum of any
    number of terms, $y = \\sum_i x_i$, has $\\dot y = \\sum_i \\dot x_i$:

    >>> from autodiff_kit import jvp
    >>> total = variadic_primitive(lambda *xs: sum(xs))
    >>> defjvp(total, lambda argnum, t, ans, *xs: t)
    >>> [float(v) for v in jvp(total, (1.0, 2.0, 3.0), (1.0, 0.0, 10.0))]
    [6.0, 11.0]
    """
    return VariadicPrimitive(impl)


def tracing_now() -> bool:
    """Whether some derivative is being traced (a trace is open), so values may be tracers.

    >>> from autodiff_kit import grad
    >>> def square(x):
    ...     print(tracing_now())
    ...     return x * x
    >>> tracing_now(), float(grad(square)(1.0))
    True
    (False, 2.0)
    """
    return bool(_active_traces)


class untraced:  # a context manager, named and used like a function: ``with untraced():``
    """Run the block with every primitive calling its implementation directly.

    For a backward sweep on plain arrays while no trace is open: nothing it computes can be
    differentiated, so the dispatch (looking for tracers among the arguments) is skipped.
    A trace opened inside the block (a rule that differentiates) switches it off again.

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad
    >>> with untraced():
    ...     print(float(anp.square(3.0)), float(grad(anp.square)(3.0)))  # grad opens a trace
    9.0 6.0
    """

    def __enter__(self) -> None:
        global _untraced
        self._was_untraced, _untraced = _untraced, True

    def __exit__(self, *exc_info: object) -> None:
        global _untraced
        _untraced = self._was_untraced


def escaped_tracer_error(name: str) -> RuntimeError:
    """The error of primitive ``name`` called on a tracer whose trace has closed.

    A tracer is valid only while its derivative runs; kept beyond it, it cannot be used:

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad
    >>> kept = []
    >>> def square(x):
    ...     kept.append(x)  # the tracer escapes
    ...     return x * x
    >>> float(grad(square)(1.0))
    2.0
    >>> anp.sin(kept[0])
    Traceback (most recent call last):
    ...
    RuntimeError: sin received a traced value from a derivative that has already finished ...
    """
    return RuntimeError(
        f"{name} received a traced value from a derivative that has already "
        "finished (a value was kept outside the function being differentiated, for "
        "example in a global variable or a list). Return it from the function instead."
    )


def nondifferentiable(impl: Callable) -> Callable:
    """Decorator: a function with a zero or undefined derivative (comparisons, ``sign``).

    It sees through every tracer and returns a plain array, a constant for all traces.
    $\\operatorname{sign}$ is piecewise constant, so in $\\frac{d}{dx} \\operatorname{sign}(x)\\, x$
    only the factor $x$ is differentiated:

    >>> from autodiff_kit import grad
    >>> sign = nondifferentiable(np.sign)
    >>> float(grad(lambda x: sign(x) * x)(-2.0))  # sign(-2)
    -1.0
    """

    @functools.wraps(impl)
    def constant(*args, **kwargs):
        return impl(*(primal_value(a) for a in args), **kwargs)

    return constant


def not_differentiable_error(prim: Primitive, argnum: int) -> TypeError:
    """The error of a derivative through argument ``argnum`` of ``prim``, which has no rule for it.

    >>> import autodiff_kit.numpy as anp
    >>> not_differentiable_error(anp.square, 1)
    TypeError('square is not differentiable with respect to argument 1.')
    """
    return TypeError(f"{prim.__name__} is not differentiable with respect to argument {argnum}.")


def defvjp(prim: Primitive, *rules: Callable | None) -> None:
    """Attach one VJP rule per positional argument (``None`` where it is not differentiable).

    ``rules[i](g, ans, *args, **kwargs)`` returns the cotangent
    $\\bar x_i = \\bar y^\\top \\partial f / \\partial x_i$ of argument ``i``, shaped like it, from the
    output cotangent $\\bar y$ (``g``) and the output ``ans``. A variadic primitive takes one
    rule, ``rule(argnum, g, ans, *args, **kwargs)``. For $y = x_0 x_1$,
    $\\bar x_0 = \\bar y\\, x_1$ and $\\bar x_1 = \\bar y\\, x_0$:

    >>> from autodiff_kit import grad
    >>> mul = primitive(lambda x0, x1: x0 * x1)
    >>> defvjp(mul, lambda g, ans, x0, x1: g * x1, lambda g, ans, x0, x1: g * x0)
    >>> [float(d) for d in grad(mul, argnums=(0, 1))(3.0, 4.0)]
    [4.0, 3.0]
    """
    prim.vjps = rules


def defjvp(prim: Primitive, *rules: Callable | None) -> None:
    """Attach one JVP rule per positional argument; the output tangent is their sum.

    By linearity of the derivative, $\\dot y = \\sum_i \\partial_i f(x)\\,\\dot x_i$: each
    rule gives one term, and constants (tangent ``None``) contribute nothing. A variadic
    primitive takes one rule, ``rule(argnum, t, ans, *args, **kwargs)``. For $y = x_0 x_1$,
    $\\dot y = x_1 \\dot x_0 + x_0 \\dot x_1$:

    >>> from autodiff_kit import jvp
    >>> mul = primitive(lambda x0, x1: x0 * x1)
    >>> defjvp(mul, lambda t, ans, x0, x1: t * x1, lambda t, ans, x0, x1: x0 * t)
    >>> [float(v) for v in jvp(mul, (3.0, 4.0), (1.0, 1.0))]  # 4 + 3
    [12.0, 7.0]
    >>> [float(v) for v in jvp(lambda x: mul(x, 4.0), (3.0,), (1.0,))]  # 4.0 is a constant
    [12.0, 4.0]
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
    """For a primitive linear in all its arrays jointly: its JVP is itself on the tangents.

    The derivative of a linear $f$ is $f$ itself, $J_f \\dot x = f(\\dot x)$, with zeros for the
    tangents of constants:

    >>> from autodiff_kit import jvp
    >>> double = primitive(lambda x: 2.0 * x)
    >>> defjvp_linear(double)
    >>> [float(v) for v in jvp(double, (1.0,), (3.0,))]
    [2.0, 6.0]
    """

    def jvp(tangents, ans, *args, **kwargs):
        filled = (
            np.zeros(np.shape(primal_value(a)), dtype=np.result_type(primal_value(a)))
            if t is None
            else t
            for t, a in zip(tangents, args, strict=True)
        )
        return prim(*filled, **kwargs)

    prim.jvp = jvp
