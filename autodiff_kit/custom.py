"""Derivatives you tell the kit: ``stop_gradient``, ``custom_jvp`` and ``custom_vjp``.

Sometimes the derivative the kit would work out is not the one you want:

- a value should count as a constant (a target in a loss, the straight-through estimator):
  ``stop_gradient``;
- the derivative of the composite is unstable or wasteful, or the function is not written in
  traceable operations at all (plain NumPy, compiled code): give one JVP rule with ``custom_jvp``;
- the backward sweep should do something other than the derivative (clip the gradient), or reuse
  what the forward pass computed: give a forward and a backward rule with ``custom_vjp``.

**A function with custom rules is a primitive.** ``f`` runs on plain arrays only, never on
tracers, so no trace looks inside it (it may use any NumPy), and every derivative, at every level
of nesting, uses your rule: a second derivative is the derivative of the rule, which is why rules
are written with ``autodiff_kit.numpy``. This is the public primitive API
(``autodiff_kit.primitives``), and the two decorators are built on it: what they add is one rule
for all arguments instead of one per argument, the mode you did not write, residuals, and
mistakes explained in a sentence. (JAX instead runs its forward rule as ordinary code under the
outer derivatives, so there a second derivative depends on how that rule is written; here it
never does.)

**One JVP rule gives both modes.** A JVP rule $t \\mapsto \\dot y = J t$ is linear in the
tangents, and the VJP is its transpose, $\\langle u, J t \\rangle = \\langle J^\\top u, t \\rangle$.
Reverse mode applied to a linear function computes exactly that transpose, so ``custom_jvp`` gets
its VJP by running reverse mode over its own JVP rule, in the tangents.

**A backward rule gives reverse mode only.** ``custom_vjp``'s backward rule may deliberately not
be a derivative (clipping $\\bar y$ is not even linear), so no JVP follows from it, and forward mode
(``jvp``, ``jacfwd``, ``hessian``) refuses it with a sentence. When your rule is the true
derivative, write it as a JVP rule with ``custom_jvp``.

**Residuals.** ``forward`` returns the output and what ``backward`` will need, computed once. In a
derivative of a derivative, though, the residuals depend on inputs that the outer derivative is
tracing: there the rule runs ``forward`` again on the traced inputs (so it must use
``autodiff_kit.numpy``), because numbers saved on plain arrays would hide that dependence.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff_kit import api
from autodiff_kit.numpy.broadcasting import dtype_of, shape_of
from autodiff_kit.tracing import Primitive, Tracer, defjvp, defvjp, primal_value, primitive
from autodiff_kit.tree import tree_map


def stop_gradient(x: Any) -> Any:
    """The value of ``x``, seen as a constant by every derivative.

    $\\operatorname{sg}(x) = x$ with $\\partial \\operatorname{sg}(x) / \\partial x = 0$: its VJP and
    its JVP are zero. It takes off every tracer, so under nested derivatives the value is a
    constant for each of them (``grad(grad(lambda x: x * stop_gradient(x)))`` is 0). ``x`` may be
    a pytree.

    Classic uses: a target that must not move with the parameters (the bootstrapped target of
    temporal-difference learning, $(r + \\gamma\\,\\operatorname{sg}(v(s')) - v(s))^2$), and the
    straight-through estimator, which rounds forward and passes the gradient through unchanged:

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad
    >>> float(grad(lambda x: x * stop_gradient(x))(3.0))   # d/dx (x c) = c, with c = x held constant
    3.0
    >>> def round_straight_through(x):
    ...     return x + stop_gradient(anp.round(x) - x)         # the value of round(x), the slope of x
    >>> x = np.array([0.2, 1.7])
    >>> round_straight_through(x), grad(lambda x: anp.sum(round_straight_through(x)))(x)
    (array([0., 2.]), array([1., 1.]))
    """
    return tree_map(primal_value, x)


class _CustomFunction:
    """What both kinds share: ``f`` itself on plain arrays, under a derivative the primitive that
    the subclass's ``_primitive(num_args)`` builds."""

    def __init__(self, f: Callable) -> None:
        functools.update_wrapper(self, f)
        self.f = f

    def __call__(self, *args, **kwargs):
        for key, value in kwargs.items():
            if isinstance(value, Tracer):
                raise TypeError(
                    f"{self.__name__} received a traced value as keyword argument {key!r}. Keyword "
                    "arguments of a function with custom rules are settings, constants for every "
                    "derivative; pass a value to differentiate positionally."
                )
        if not any(isinstance(arg, Tracer) for arg in args):
            return _checked_output(self.f(*args, **kwargs), self.__name__)
        return self._primitive(len(args))(*args, **kwargs)

    def _implementation(self, compute_output: Callable) -> Callable:
        """``compute_output`` as a primitive's implementation, named like ``f``, its output checked."""

        @functools.wraps(self.f)
        def implementation(*args, **kwargs):
            return _checked_output(compute_output(*args, **kwargs), self.__name__)

        return implementation


class CustomJVPFunction(_CustomFunction):
    """``f`` with a JVP rule you give; see ``custom_jvp``, which makes one.

    Called outside a derivative it is ``f``; under one, a primitive whose JVP is the rule and
    whose VJP is the rule transposed. For $f(x) = x^3$ with $\\dot y = 3x^2 \\dot x$:

    >>> from autodiff_kit import grad, jvp
    >>> cube = CustomJVPFunction(lambda x: x ** 3)  # what @custom_jvp makes
    >>> cube(2.0)
    8.0
    >>> cube.defjvp(lambda tangents, ans, x: 3.0 * x ** 2 * tangents[0])
    >>> [float(v) for v in jvp(cube, (2.0,), (1.0,))], float(grad(cube)(2.0))
    ([8.0, 12.0], 12.0)
    """

    def __init__(self, f: Callable) -> None:
        super().__init__(f)
        self.rule: Callable | None = None
        self._primitives: dict[int, Primitive] = {}

    def defjvp(self, rule: Callable) -> None:
        """Set the JVP rule ``rule(tangents, ans, *args, **kwargs)``, which returns
        $\\dot y = \\sum_i \\partial_i f(x)\\, \\dot x_i$.

        ``tangents`` holds one tangent per positional argument (zeros for the ones not being
        differentiated), ``ans`` is $f(x)$, already computed; the result has the output's shape
        and must be linear in the tangents. Write it with ``autodiff_kit.numpy``: reverse mode
        traces it to transpose it, and higher derivatives differentiate it. For $y = x_0 x_1$,
        $\\dot y = \\dot x_0\\, x_1 + x_0\\, \\dot x_1$, and its transpose gives $\\nabla y = (x_1, x_0)$:

        >>> from autodiff_kit import grad, jvp
        >>> mul = custom_jvp(lambda x0, x1: np.multiply(x0, x1))
        >>> mul.defjvp(lambda tangents, ans, x0, x1: tangents[0] * x1 + x0 * tangents[1])
        >>> [float(v) for v in jvp(mul, (3.0, 4.0), (1.0, 1.0))]
        [12.0, 7.0]
        >>> [float(g) for g in grad(mul, argnums=(0, 1))(3.0, 4.0)]
        [4.0, 3.0]
        """
        _check_callable(rule, "the JVP rule")
        self.rule = rule
        self._primitives.clear()

    def _primitive(self, num_args: int) -> Primitive:
        """One primitive per number of arguments: the rules need nothing but each call's values."""
        if self.rule is None:
            raise TypeError(f"{self.__name__} is a custom_jvp function without a rule: give it one with "
                            f"{self.__name__}.defjvp(rule) before differentiating it.")
        if num_args not in self._primitives:
            prim = primitive(self._implementation(self.f))
            defjvp(prim, *(functools.partial(self._jvp_term, i) for i in range(num_args)))
            defvjp(prim, *(functools.partial(self._vjp_term, i) for i in range(num_args)))
            self._primitives[num_args] = prim
        return self._primitives[num_args]

    def _tangent_out(self, tangents: tuple, ans, args: tuple, kwargs: dict):
        out = self.rule(tangents, ans, *args, **kwargs)
        return _checked_array(out, shape_of(ans), f"The output tangent of {self.__name__}'s JVP rule",
                              "the output", "a tangent has the shape of the value it belongs to")

    def _jvp_term(self, argnum: int, t, ans, *args, **kwargs):
        """Argument ``argnum``'s share of $\\dot y$: the rule with every other tangent zero.

        The kit adds the shares of the arguments being differentiated (linearity)."""
        return self._tangent_out(_only_tangent(argnum, t, args), ans, args, kwargs)

    def _vjp_term(self, argnum: int, g, ans, *args, **kwargs):
        """$\\bar x_i = J_i^\\top \\bar y$: reverse mode over the rule, which is linear in $\\dot x_i$."""
        share = lambda t: self._tangent_out(_only_tangent(argnum, t, args), ans, args, kwargs)
        return _transpose(share, _zero_tangent(args[argnum]), g)


def custom_jvp(f: Callable) -> CustomJVPFunction:
    """Decorator: ``f`` whose derivative is the JVP rule given with ``f.defjvp(rule)``, in both modes.

    ``f`` runs on plain arrays only (any NumPy will do), outside derivatives and inside them; a
    derivative uses ``rule(tangents, ans, *args)`` $= J\\,\\dot x$ for forward mode and its transpose
    $J^\\top \\bar y$, worked out by reverse mode over the rule, for reverse mode. Rules written
    with ``autodiff_kit.numpy`` nest to any order.

    $\\log\\cosh x$ from NumPy's ``logaddexp`` (finite for any $x$), with slope $\\tanh x$:

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad, jvp
    >>> @custom_jvp
    ... def logcosh(x):
    ...     return np.logaddexp(x, -x) - np.log(2.0)
    >>> logcosh.defjvp(lambda tangents, ans, x: tangents[0] * anp.tanh(x))
    >>> x = np.array([-1000.0, 0.0, 0.5])
    >>> grad(lambda x: anp.sum(logcosh(x)))(x)       # reverse mode: the rule, transposed
    array([-1.        ,  0.        ,  0.46211716])
    >>> float(jvp(grad(logcosh), (0.5,), (1.0,))[1])  # forward over reverse: 1 - tanh(x)^2
    0.7864477329659274
    """
    return CustomJVPFunction(f)


@dataclass
class _SavedForBackward:
    """What one call of a custom_vjp function keeps: its residuals, and backward's last answer
    ``(g, args, cotangents)``, since the sweep asks for one argument's cotangent at a time and
    backward gives them all at once."""

    residuals: Any = None
    last: tuple | None = None


class CustomVJPFunction(_CustomFunction):
    """``f`` with a forward and a backward rule you give; see ``custom_vjp``, which makes one.

    Called outside a derivative it is ``f``; under reverse mode, a primitive whose forward
    run is the ``forward`` rule and whose VJP is the ``backward`` rule. It has no forward mode.
    For $f(x) = x^2$, $\\bar x = 2x\\, \\bar y$ from the residual $x$:

    >>> from autodiff_kit import grad, jvp
    >>> def square(x):
    ...     return x * x
    >>> square = CustomVJPFunction(square)  # what @custom_vjp makes
    >>> square.defvjp(lambda x: (x * x, x), lambda g, x: (2.0 * g * x,))
    >>> float(square(3.0)), float(grad(square)(3.0))
    (9.0, 6.0)
    >>> jvp(square, (3.0,), (1.0,))
    Traceback (most recent call last):
    ...
    TypeError: square has a backward rule (custom_vjp) but no JVP rule, so forward mode ...
    """

    def __init__(self, f: Callable) -> None:
        super().__init__(f)
        self.forward: Callable | None = None
        self.backward: Callable | None = None

    def defvjp(self, forward: Callable, backward: Callable) -> None:
        """Set the rules of reverse mode.

        ``forward(*args, **kwargs)`` returns ``(out, residuals)``: the output of ``f`` and whatever
        ``backward`` will need. ``backward(g, residuals)`` returns a tuple with one cotangent
        $\\bar x_i$ per positional argument, shaped like it (``None`` for an argument that is
        not differentiated). Write both with ``autodiff_kit.numpy`` for derivatives to nest.

        $e^x$ is its own derivative, so the output is the residual: $\\bar x = \\bar y\\, e^x$.
        A setting ``k`` that is not differentiated gets ``None``, a zero cotangent:

        >>> import autodiff_kit.numpy as anp
        >>> from autodiff_kit import grad
        >>> @custom_vjp
        ... def exp(x):
        ...     return np.exp(x)
        >>> exp.defvjp(lambda x: (anp.exp(x), anp.exp(x)), lambda g, e: (g * e,))
        >>> float(grad(exp)(0.0)), float(grad(grad(exp))(0.0))
        (1.0, 1.0)
        >>> scale = custom_vjp(lambda x, k: x * k)
        >>> scale.defvjp(lambda x, k: (x * k, k), lambda g, k: (g * k, None))
        >>> float(grad(scale)(2.0, 3.0)), float(grad(scale, argnums=1)(2.0, 3.0))
        (3.0, 0.0)
        """
        _check_callable(forward, "forward")
        _check_callable(backward, "backward")
        self.forward, self.backward = forward, backward

    def _primitive(self, num_args: int) -> Primitive:
        """A primitive for this one call: its rules need the residuals this call's forward saves."""
        if self.backward is None:
            raise TypeError(f"{self.__name__} is a custom_vjp function without rules: give them with "
                            f"{self.__name__}.defvjp(forward, backward) before differentiating it.")
        saved = _SavedForBackward()

        def run_forward(*args, **kwargs):
            out, saved.residuals = self._forward(args, kwargs)
            return out

        prim = primitive(self._implementation(run_forward))
        defvjp(prim, *(functools.partial(self._cotangent, saved, i) for i in range(num_args)))
        defjvp(prim, *[self._refuse_forward_mode] * num_args)
        return prim

    def _forward(self, args: tuple, kwargs: dict) -> tuple:
        pair = self.forward(*args, **kwargs)
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"{self.__name__}'s forward rule must return a pair (output, residuals), "
                            f"but it returned {_described(pair)}.")
        return pair

    def _cotangent(self, saved: _SavedForBackward, argnum: int, g, ans, *args, **kwargs):
        """$\\bar x_{argnum}$ from ``backward``, which runs once per cotangent ``g`` and level (``args``).

        Traced ``args`` mean a derivative of a derivative: the residuals are then computed again
        from them, so that the outer derivative sees how they depend on the inputs."""
        last = saved.last
        if last is None or g is not last[0] or any(a is not b for a, b in zip(args, last[1], strict=True)):
            traced = any(isinstance(arg, Tracer) for arg in args)
            residuals = self._forward(args, kwargs)[1] if traced else saved.residuals
            saved.last = last = (g, args, self._checked_cotangents(self.backward(g, residuals), args))
        return last[2][argnum]

    def _checked_cotangents(self, cotangents, args: tuple) -> tuple:
        name = self.__name__
        if not isinstance(cotangents, (tuple, list)):
            raise TypeError(f"{name}'s backward rule returned {_described(cotangents)}, but it must return "
                            "a tuple with one cotangent per positional argument: (g_x,) for one argument.")
        if len(cotangents) != len(args):
            raise ValueError(f"{name}'s backward rule returned {_count(len(cotangents), 'cotangent')} for "
                             f"{_count(len(args), 'positional argument')}: return one per argument, None "
                             "for an argument that is not differentiated.")
        return tuple(
            _zero_tangent(arg) if cotangent is None else _checked_array(
                cotangent, shape_of(arg), f"The cotangent of argument {i} from {name}'s backward rule",
                f"argument {i}", "sum a broadcast cotangent back with anp.sum_to(g, shape)")
            for i, (cotangent, arg) in enumerate(zip(cotangents, args, strict=True))
        )

    def _refuse_forward_mode(self, t, ans, *args, **kwargs):
        raise TypeError(
            f"{self.__name__} has a backward rule (custom_vjp) but no JVP rule, so forward mode (jvp, "
            "jacfwd, hessian, hvp) cannot differentiate it: a backward rule need not be a derivative, "
            "so no JVP follows from it. If it is the true derivative, write it as a JVP rule with "
            "custom_jvp, which serves both modes; otherwise stay in reverse mode (jacrev(jacrev(f)), "
            "hvp(f, x, v, mode='rev_over_rev'))."
        )


def custom_vjp(f: Callable) -> CustomVJPFunction:
    """Decorator: ``f`` whose reverse mode is the rules given with ``f.defvjp(forward, backward)``.

    ``f`` runs on plain arrays outside derivatives; under reverse mode ``forward(*args)`` gives the
    output and the residuals, and ``backward(g, residuals)`` the cotangents, which need not be the
    true derivative. There is no forward mode (see the module's docstring); a derivative of a
    derivative differentiates both rules, so write them with ``autodiff_kit.numpy``.

    Clipping the cotangent that flows back through a value (the value itself is unchanged):

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad
    >>> @custom_vjp
    ... def clip_gradient(x, bound=1.0):
    ...     return x
    >>> clip_gradient.defvjp(lambda x, bound=1.0: (x, bound),
    ...                      lambda g, bound: (anp.clip(g, -bound, bound),))
    >>> w = np.array([0.5, -3.0, 10.0])
    >>> grad(lambda x: anp.sum(w * clip_gradient(x)))(np.zeros(3))   # w would be the true gradient
    array([ 0.5, -1. ,  1. ])
    """
    return CustomVJPFunction(f)


# ---------------------------------------------------------------------------------------
# Helpers


def _transpose(linear: Callable, example: Any, cotangent: Any) -> Any:
    """$L^\\top u$ for a linear $L$: its VJP, which is the same at every point, here ``example`` (0)."""
    return api.vjp(linear, example)[1](cotangent)[0]


def _zero_tangent(x: Any) -> np.ndarray:
    """Zeros shaped like an argument, float even for an integer one (whose tangent is always 0)."""
    dtype = dtype_of(x) if np.issubdtype(dtype_of(x), np.floating) else np.float64
    return np.zeros(shape_of(x), dtype)


def _only_tangent(argnum: int, t: Any, args: tuple) -> tuple:
    """Tangents for every argument: ``t`` for argument ``argnum``, zero for the others."""
    return tuple(t if i == argnum else _zero_tangent(arg) for i, arg in enumerate(args))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _described(value: Any) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return "None" if value is None else f"a value of type {type(value).__name__}"


def _check_callable(rule: Any, what: str) -> None:
    if not callable(rule):
        raise TypeError(f"{what} must be a function, not {_described(rule)}.")


def _checked_output(out: Any, name: str) -> Any:
    """``f``'s output, or an error: it ran on plain arrays, so it must be one plain float array."""
    if isinstance(out, Tracer):
        raise TypeError(
            f"{name} returned a traced value, although a function with custom rules runs on plain "
            "arrays only: it used a traced value that it did not receive as an argument (a variable "
            f"of a function being differentiated, in a closure or a global). Pass that value to {name} "
            "as an argument."
        )
    if not isinstance(out, (np.ndarray, np.generic, float, int)):
        raise TypeError(f"{name} returned {_described(out)}, but a function with custom rules returns "
                        "one float array; for several outputs, write one function per output.")
    if not np.issubdtype(dtype_of(out), np.floating):
        raise TypeError(f"{name} returned an array of dtype {dtype_of(out)}, but derivatives need a float "
                        "output: return a float array.")
    return out


def _checked_array(value: Any, shape: tuple, what: str, owner: str, hint: str) -> Any:
    """A rule's tangent or cotangent, or an error naming it: ``shape`` is the shape of ``owner``."""
    if value is None:
        raise TypeError(f"{what} is None: did the rule forget to return it?")
    if isinstance(value, Tracer) and not value.trace.active:
        raise RuntimeError(
            f"{what} is a traced value of a derivative that has already finished (kept from an earlier "
            "call, in a global variable, a list or a closure). Compute it from the values the rule "
            "receives."
        )
    if not isinstance(value, (Tracer, np.ndarray, np.generic, float, int)):
        raise TypeError(f"{what} is {_described(value)}; it must be an array.")
    if shape_of(value) != shape:
        raise ValueError(f"{what} has shape {shape_of(value)}, but it must have shape {shape}, the shape "
                         f"of {owner}: {hint}.")
    return value
