"""Checkpointing: recompute in the backward sweep instead of storing in the forward run.

Reverse mode keeps every intermediate value of the forward run until the backward sweep
has used it, so its memory grows with the length of the program (``chain.stored_activations``).
A *checkpoint* keeps only a few values and recomputes the others from them when the backward
sweep needs them: memory traded for time.

- ``checkpoint(f)``: reverse mode keeps the inputs of ``f`` and nothing of its inside, and
  recomputes ``f`` under a fresh trace in the backward sweep.
- ``checkpointed_chain(step, length, slots)``: $x_L = s(\\cdots s(s(x_0)))$ whose backward
  sweep keeps at most ``slots`` states at once and follows the schedule of least recomputation,
  Griewank's *binomial* schedule (the one of *revolve*); ``chain.checkpoint_cost(length, slots)``
  is its exact number of recomputed steps.
- ``binomial_schedule`` and ``periodic_schedule`` (a checkpoint every ``period`` steps, the
  every-$\\sqrt L$ rule of thumb) return a schedule as data, to print and to count;
  ``scheduled_chain(step, schedule)`` runs the chain by one.

Both are primitives whose rules differentiate the recomputation with ``vjp`` and ``jvp``
themselves, so under an outer derivative (``grad(grad(...))``, ``jvp`` of ``grad``) the
outer trace records the recomputation like any other program, and derivatives nest.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from autodiff_kit.api import jvp, vjp
from autodiff_kit.chain import checked_integer
from autodiff_kit.numpy.broadcasting import dtype_of, shape_of
from autodiff_kit.primitives import defvjp, primitive
from autodiff_kit.tracing import Tracer
from autodiff_kit.tree import tree_flatten, tree_unflatten

# --- One recomputation serves every argument ---------------------------------------------


def _traced_by(x: Any, trace: object) -> bool:
    """Whether ``trace`` is among the traces that ``x`` is wrapped in."""
    while isinstance(x, Tracer):
        if x.trace is trace:
            return True
        x = x.value
    return False


class _SharedCotangents:
    """The cotangents of all arguments from one call of ``joint_vjp``, handed out one at a time.

    A backward sweep asks a primitive for the cotangent of each traced argument in turn
    (``vjps[i](g, ans, *args)``, with the same ``g`` and ``ans``), but a checkpoint gets them
    all from one recomputation. So the first request recomputes, for exactly the arguments
    that sweep will ask for, and the others take their share; nothing is kept once all are
    served, and a later sweep with another ``g`` recomputes.

    Which arguments a trace asks for is known when the call returns: those wrapped in its
    tracers. Each trace that recorded the call hands its rules its own ``ans`` (the value
    inside its tracer of the output), so ``ans`` tells the traces apart.
    """

    def __init__(self, joint_vjp: Callable) -> None:
        self.joint_vjp = joint_vjp
        self.asked: dict[int, list[int]] = {}  # id(ans) -> positions that trace asks for
        self.served: dict[int, tuple[Any, dict[int, Any]]] = {}  # id(ans) -> (g, cotangents left)

    def note_traces(self, args: Sequence, out: Any) -> None:
        """Record, for each trace that wrapped ``out``, which of ``args`` it traced."""
        while isinstance(out, Tracer):
            self.asked[id(out.value)] = [i for i, arg in enumerate(args) if _traced_by(arg, out.trace)]
            out = out.value

    def cotangent(self, position: int, g: Any, ans: Any, *args: Any) -> Any:
        key = id(ans)
        g_served, left = self.served.pop(key, (None, {}))
        if g_served is not g or position not in left:
            positions = self.asked[key]
            left = dict(zip(positions, self.joint_vjp(g, args, positions), strict=True))
        cotangent = left.pop(position)
        if left:
            self.served[key] = (g, left)
        return cotangent


def _call_with_joint_rules(name: str, impl: Callable, joint_vjp: Callable, joint_jvp: Callable,
                           args: Sequence) -> Any:
    """``impl(*args)`` as a primitive whose rules handle all arguments at once.

    ``joint_vjp(g, args, positions)`` returns the cotangents of ``args[i]`` for ``i`` in
    ``positions``; ``joint_jvp(tangents, ans, *args)`` the output tangent (``tangents[i]`` is
    ``None`` for a constant). The primitive is made for this call, so its rules know the call.
    """
    shared = _SharedCotangents(joint_vjp)
    prim = primitive(impl)
    prim.__name__ = prim.__qualname__ = name
    defvjp(prim, *(functools.partial(shared.cotangent, i) for i in range(len(args))))
    prim.jvp = joint_jvp  # the whole tangent at once, as the ``Primitive`` protocol allows
    out = prim(*args)
    shared.note_traces(args, out)
    return out


def _replace(args: Sequence, positions: Sequence[int], values: Sequence) -> list:
    """``args`` with ``args[positions[k]]`` replaced by ``values[k]``."""
    full = list(args)
    for i, value in zip(positions, values, strict=True):
        full[i] = value
    return full


def _of_moving(fn: Callable, args: Sequence, positions: Sequence[int]) -> Callable:
    """``fn`` as a function of ``args[i]``, ``i`` in ``positions``, the others held fixed."""
    return lambda *moving: fn(*_replace(args, positions, moving))


def _joint_jvp(fn: Callable) -> Callable:
    """The JVP rule of a primitive computing ``fn``: ``jvp`` of ``fn`` in the traced arguments."""

    def rule(tangents: Sequence, ans: Any, *args: Any) -> Any:
        positions = [i for i, t in enumerate(tangents) if t is not None]
        moving = _of_moving(fn, args, positions)
        return jvp(moving, [args[i] for i in positions], [tangents[i] for i in positions])[1]

    return rule


def _plain_result(out: Any, who: str, fix: str) -> Any:
    """``out`` if it is one plain value; else the error that says what went wrong."""
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(f"{who} returned a {type(out).__name__}, but a checkpointed function must "
                        "return one array; checkpoint a function for each output instead.")
    if isinstance(out, Tracer):
        raise TypeError(f"{who} used a traced value that is not one of its arguments (a variable of "
                        "an enclosing function, such as the parameters being differentiated), so "
                        f"its derivative would be lost. Pass that value as an argument: {fix}.")
    return out


def _callable(fn: Any, who: str, what: str) -> Callable:
    if not callable(fn):
        raise TypeError(f"{who} takes {what}, but got {fn!r}, which cannot be called. Pass the "
                        "function itself, not the result of calling it.")
    return fn


# --- checkpoint(f) -------------------------------------------------------------------------


def checkpoint(f: Callable) -> Callable:
    """``f``, computed the same, but whose reverse mode stores its inputs only and recomputes it.

    In $y = f(x)$ inside a program, reverse mode needs $\\bar x = J_f(x)^\\top \\bar y$ in the
    backward sweep. Without a checkpoint the tape keeps every intermediate of $f$ from the
    forward run. With one, $f$ is a single primitive: the forward run computes $y$ on plain
    arrays and keeps only $x$ (and $y$); the backward sweep runs $f$ again from $x$ under a
    fresh trace and sweeps that short tape back (``vjp(f, x)``) for $\\bar x$. The memory of
    $f$'s inside is needed during that one step of the sweep only, for one more run of $f$.

    Forward mode stores nothing anyway: there ``jvp`` of $f$ gives the tangent. Both rules
    are the kit's ``vjp`` and ``jvp``, so derivatives of any order nest through a checkpoint.

    ``f`` takes any number of arrays or pytrees of arrays, and returns one array. Whatever
    it differentiates with respect to must be an argument: a traced value it reads from an
    enclosing function would be recomputed as a constant, and is refused.

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad
    >>> layer = checkpoint(lambda x, w: anp.tanh(w * x))
    >>> loss = lambda w: layer(layer(1.0, w), w)           # tanh(w tanh(w))
    >>> plain = lambda w: anp.tanh(w * anp.tanh(w))
    >>> [round(float(d(0.5)), 12) for d in (grad(loss), grad(plain), grad(grad(loss)), grad(grad(plain)))]
    [0.811253492447, 0.811253492447, 0.832048949085, 0.832048949085]
    """
    f = _callable(f, "checkpoint", "the function to checkpoint")
    name = f"checkpoint({getattr(f, '__name__', type(f).__name__)})"

    @functools.wraps(f)
    def checkpointed(*args: Any) -> Any:
        leaves, args_def = tree_flatten(args)
        f_of_leaves = lambda *leaves: f(*tree_unflatten(args_def, list(leaves)))

        def recompute_and_sweep(g: Any, leaves: Sequence, positions: list[int]) -> tuple:
            return vjp(_of_moving(f_of_leaves, leaves, positions), *[leaves[i] for i in positions])[1](g)

        return _call_with_joint_rules(
            name, lambda *leaves: _plain_result(f_of_leaves(*leaves), name, f"{name}(x, params)"),
            recompute_and_sweep, _joint_jvp(f_of_leaves), leaves)

    return checkpointed


# --- Schedules: how to reverse a chain in a few slots -------------------------------------


class Action(NamedTuple):
    """One move of a schedule that reverses the chain $x_0 \\to x_1 \\to \\cdots \\to x_L$.

    - ``store i``: keep $x_i$, the state at hand, in a slot;
    - ``advance i j``: compute $x_j$ from $x_i$ at hand, $j - i$ forward steps;
    - ``reverse i``: with $x_{i-1}$ at hand, run step $i$ under reverse mode and pull the
      cotangent back, $\\bar x_{i-1} = J_i^\\top \\bar x_i$ (the state at hand stays $x_{i-1}$);
    - ``restore i``: take $x_i$ from its slot in hand;
    - ``free i``: release the slot of $x_i$.

    ``kind`` is one of these five words, ``index`` is $i$, and ``to`` is $j$ for ``advance``
    (``None`` otherwise). The moves of the schedules that ``binomial_schedule`` and
    ``periodic_schedule`` return; printed, one reads as above:

    >>> action = binomial_schedule(2, 2).actions[1]
    >>> action, str(action)
    (Action(kind='advance', index=0, to=1), 'advance x0 -> x1')
    >>> str(Action("reverse", 3)), str(Action("store", 2))
    ('reverse step 3', 'store x2')
    """

    kind: str
    index: int
    to: int | None = None

    def __str__(self) -> str:
        if self.kind == "advance":
            return f"advance x{self.index} -> x{self.to}"
        if self.kind == "reverse":
            return f"reverse step {self.index}"
        return f"{self.kind} x{self.index}"


@dataclass(frozen=True)
class Schedule:
    """The actions that reverse a chain of ``length`` steps, starting with $x_0$ alone at hand.

    Returned by ``binomial_schedule`` and ``periodic_schedule``, and run by ``scheduled_chain``;
    printed, one ``Action`` a line. With one slot, only $x_0$ is kept, and each reversal
    recomputes from it: $0 + 1 + 2$ steps for a chain of 3.

    >>> schedule = binomial_schedule(3, 1)
    >>> print(schedule)
    store x0
    advance x0 -> x2
    reverse step 3
    restore x0
    advance x0 -> x1
    reverse step 2
    restore x0
    reverse step 1
    >>> schedule.length, len(schedule.actions), schedule.forward_steps, schedule.peak_slots
    (3, 8, 3, 1)
    """

    length: int
    actions: tuple[Action, ...]

    @property
    def forward_steps(self) -> int:
        """The steps computed outside a reversal: what ``chain.checkpoint_cost`` counts.

        The sum of $j - i$ over the actions ``advance i j``. For the binomial schedule it is
        the least possible, $T(L, s)$:

        >>> from autodiff_kit.chain import checkpoint_cost
        >>> binomial_schedule(10, 3).forward_steps, checkpoint_cost(10, 3)
        (15, 15)
        """
        return sum(action.to - action.index for action in self.actions if action.kind == "advance")

    @property
    def peak_slots(self) -> int:
        """The most states kept in slots at once, $x_0$ included.

        Each ``store`` takes a slot and each ``free`` gives one back; this is the highest count.
        The binomial schedule keeps to its ``slots``; keeping every third state of a chain of 9
        needs 4 at once ($x_0$, $x_3$, $x_6$, then one more inside a segment):

        >>> binomial_schedule(10, 3).peak_slots, periodic_schedule(9, 3).peak_slots
        (3, 4)
        """
        kept = peak = 0
        for action in self.actions:
            kept += (action.kind == "store") - (action.kind == "free")
            peak = max(peak, kept)
        return peak

    def __str__(self) -> str:
        return "\n".join(str(action) for action in self.actions)


def _longest_chain(slots: int, repetitions: int) -> int:
    """$\\beta(s, r) = \\binom{s + r}{s}$: the most steps ``slots`` slots reverse with each step
    computed at most ``repetitions`` times outside its reversal (0 if either is negative)."""
    return math.comb(slots + repetitions, slots) if slots >= 0 and repetitions >= 0 else 0


def _binomial_split(length: int, slots: int) -> int:
    """How many steps to advance before the next checkpoint, by Griewank's binomial rule.

    With $r$ the least repetition number that reaches the chain, $\\beta(s, r - 1) < l \\le
    \\beta(s, r)$, the first $k$ steps (reversed later with all $s$ slots, each step computed
    at most $r - 1$ more times) and the last $l - k$ (with $s - 1$ slots, at most $r$ times)
    must both fit: $k \\le \\beta(s, r - 1)$ and $l - k \\le \\beta(s - 1, r)$, and neither part
    so short that it wastes its repetitions: $k \\ge \\beta(s, r - 2)$, $l - k \\ge \\beta(s - 1, r - 1)$.
    Every such $k$ reaches the least cost $r l - \\beta(s + 1, r - 1)$; this takes the largest.
    """
    r = 1
    while _longest_chain(slots, r) < length:
        r += 1
    return min(_longest_chain(slots, r - 1), length - _longest_chain(slots - 1, r - 1), length - 1)


def _reversal(start: int, length: int, slots: int) -> Iterator[Action]:
    """The binomial actions that reverse steps ``start + 1 .. start + length``, with $x_{start}$
    at hand and in one of ``slots`` slots.

    Advance $k$ steps; keep $x_{start+k}$ (unless one step is left, reversed from the state at
    hand) and reverse the last $l - k$ steps from it with the $s - 1$ other slots; free it,
    restore $x_{start}$ and reverse the first $k$ steps with all $s$ slots: the recurrence of
    ``chain.checkpoint_cost``. An explicit stack of what is left to do, not recursion, so that a
    chain stored whole (a thousand slots deep) is no problem.
    """
    todo: list[Action | tuple[int, int, int]] = [(start, length, slots)]
    while todo:
        item = todo.pop()
        if isinstance(item, Action):
            yield item
            continue
        start, length, slots = item
        if length == 1:
            yield Action("reverse", start + 1)
            continue
        k = _binomial_split(length, slots)
        yield Action("advance", start, start + k)
        todo += [(start, k, slots), Action("restore", start)]
        if length - k > 1:
            yield Action("store", start + k)
            todo.append(Action("free", start + k))
        todo.append((start + k, length - k, slots - 1))


def binomial_schedule(length: int, slots: int) -> Schedule:
    """The schedule of least recomputation reversing ``length`` steps in ``slots`` slots.

    Griewank's binomial checkpointing (the schedule of *revolve*): its ``forward_steps`` are
    ``chain.checkpoint_cost(length, slots)``, and it keeps at most ``slots`` states, $x_0$
    among them. With ``slots >= length`` it stores every state on the way: ``length - 1`` steps.

    >>> schedule = binomial_schedule(4, 2)
    >>> print(schedule)
    store x0
    advance x0 -> x2
    store x2
    advance x2 -> x3
    reverse step 4
    restore x2
    reverse step 3
    free x2
    restore x0
    advance x0 -> x1
    reverse step 2
    restore x0
    reverse step 1
    >>> schedule.forward_steps, schedule.peak_slots
    (4, 2)
    """
    length = checked_integer(length, "length", "the number of steps of the chain", least=0)
    slots = checked_integer(slots, "slots", "the states kept at once, x0 included")
    actions = [Action("store", 0)]
    if length:
        actions += _reversal(0, length, slots)
    return Schedule(length, tuple(actions))


def periodic_schedule(length: int, period: int) -> Schedule:
    """Keep every ``period``-th state on the way, then reverse each segment storing all of it.

    The rule of thumb with ``period`` $\\approx \\sqrt L$: about $2\\sqrt L$ states at once
    ($L / p$ checkpoints, then up to $p - 2$ inside a segment) for about one extra run of the
    chain. The binomial schedule recomputes a little less in as many slots (1937 steps
    below), and 3636 steps in 10 slots.

    >>> schedule = periodic_schedule(1000, 32)
    >>> schedule.forward_steps, schedule.peak_slots
    (1960, 61)
    """
    length = checked_integer(length, "length", "the number of steps of the chain", least=0)
    period = checked_integer(period, "period", "the steps between two stored states")
    starts = range(0, length, period)
    actions = [Action("store", 0)]
    for before, start in itertools.pairwise(starts):
        actions += [Action("advance", before, start), Action("store", start)]
    for start in reversed(starts):
        if start != starts[-1]:
            actions.append(Action("restore", start))
        actions += _reversal(start, min(period, length - start), period)
        if start:
            actions.append(Action("free", start))
    return Schedule(length, tuple(actions))


# --- The chain ---------------------------------------------------------------------------


def checkpointed_chain(step: Callable, length: int, slots: int) -> Callable:
    """$x_0 \\mapsto x_L$, $x_i = s(x_{i-1}, \\theta)$, reversed in ``slots`` slots by the binomial schedule.

    Returns ``chain(x0, *params)``, which calls ``step(x, *params)`` ``length`` times. Reverse
    mode stores only $x_0$ and the parameters $\\theta$ in the forward run. The backward sweep
    starts from them and follows ``binomial_schedule(length, slots)``: it keeps at most
    ``slots`` states, computes exactly ``chain.checkpoint_cost(length, slots)`` steps outside
    a reversal, and reverses each step once (that step is run again under reverse mode):

    $$\\bar x_{i-1} = J_{x,i}^\\top \\bar x_i, \\qquad
      \\bar\\theta = \\sum_{i=1}^{L} J_{\\theta,i}^\\top \\bar x_i.$$

    ``x0`` is one array; ``params`` arrays or pytrees of arrays, constant along the chain.

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit import grad
    >>> from autodiff_kit.chain import CountingFunction, checkpoint_cost
    >>> step = CountingFunction(lambda x, w: anp.sin(w * x))
    >>> chain = checkpointed_chain(step, 100, 5)
    >>> g = grad(lambda w: chain(np.array([0.5, 1.0]), w)[1])(1.1)
    >>> step.calls == 100 + checkpoint_cost(100, 5) + 100     # forward, recomputed, reversed
    True
    """
    step = _callable(step, "checkpointed_chain", "the step function x -> step(x, *params)")
    return scheduled_chain(step, binomial_schedule(length, slots))


def scheduled_chain(step: Callable, schedule: Schedule) -> Callable:
    """$x_0 \\mapsto x_L$ like ``checkpointed_chain``, reversed by any ``schedule`` of this module.

    Returns ``chain(x0, *params)``, which calls ``step(x, *params)`` ``schedule.length`` times;
    its backward sweep follows ``schedule``. For $x_{i} = w\\, x_{i-1}$, $x_4 = w^4 x_0$ and
    $\\partial x_4 / \\partial w = 4 w^3 x_0$:

    >>> from autodiff_kit import grad
    >>> chain = scheduled_chain(lambda x, w: w * x, periodic_schedule(4, 2))
    >>> float(chain(1.0, 2.0)), float(grad(lambda w: chain(1.0, w))(2.0))
    (16.0, 32.0)
    """
    step = _callable(step, "scheduled_chain", "the step function x -> step(x, *params)")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"scheduled_chain takes a Schedule, not {schedule!r}: make one with "
                        "binomial_schedule(length, slots) or periodic_schedule(length, period).")
    name = f"chain({getattr(step, '__name__', type(step).__name__)}, {schedule.length} steps)"

    def chain(x0: Any, *params: Any) -> Any:
        leaves, params_def = tree_flatten(params)
        step_of_leaves = lambda x, *leaves: step(x, *tree_unflatten(params_def, list(leaves)))

        def run(x: Any, *leaves: Any) -> Any:
            for _ in range(schedule.length):
                x = step_of_leaves(x, *leaves)
            return x

        def sweep(g: Any, args: Sequence, positions: list[int]) -> list:
            return _sweep_back(step_of_leaves, schedule, g, args, positions)

        return _call_with_joint_rules(
            name, lambda *args: _plain_result(run(*args), name, "chain(x0, W, b) with step(x, W, b)"),
            sweep, _joint_jvp(run), [x0, *leaves])

    return chain


def _sweep_back(step: Callable, schedule: Schedule, g: Any, args: Sequence, positions: list[int]) -> list:
    """Follow ``schedule`` from $x_0$ = ``args[0]``, with $\\bar x_L = g$: the cotangents of
    ``args[i]`` (``x0``, then the parameters) for ``i`` in ``positions``."""
    x0, *params = args
    moving = [i - 1 for i in positions if i > 0]  # the parameters to differentiate
    step_of_moving = lambda x, *moving_params: step(x, *_replace(params, moving, moving_params))
    kept, state, cotangent = {}, x0, g
    totals: list[Any] = [None] * len(moving)
    for action in schedule.actions:
        if action.kind == "store":
            kept[action.index] = state
        elif action.kind == "free":
            del kept[action.index]
        elif action.kind == "restore":
            state = kept[action.index]
        elif action.kind == "advance":
            for _ in range(action.index, action.to):
                state = step(state, *params)
        else:  # reverse
            cotangent, *parts = _pull_back(step_of_moving, state, [params[j] for j in moving], cotangent)
            totals = [part if total is None else total + part
                      for total, part in zip(totals, parts, strict=True)]
    totals = [np.zeros(shape_of(params[j]), dtype_of(params[j])) if total is None else total
              for j, total in zip(moving, totals, strict=True)]  # a chain of no steps
    by_position = {0: cotangent, **{j + 1: total for j, total in zip(moving, totals, strict=True)}}
    return [by_position[i] for i in positions]


def _pull_back(step: Callable, state: Any, params: list, cotangent: Any) -> tuple:
    """The cotangents of ``step(state, *params)``'s inputs, its tape freed on return."""
    return vjp(step, state, *params)[1](cotangent)
