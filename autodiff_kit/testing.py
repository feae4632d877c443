"""Checking derivatives against finite differences.

Central differences $\\frac{f(x + \\epsilon v) - f(x - \\epsilon v)}{2\\epsilon}$ approximate
the directional derivative $J_f v$ with error $O(\\epsilon^2)$, and need nothing but ``f``.
``check_grads`` compares both modes with them along *random* directions and cotangents
(a sum with all-ones weights can hide a wrong sign or a transposed Jacobian), then does
the same for the derivative itself, to any order. ``adjoint_test`` checks a hand-written
pair of JVP and VJP against each other, with no finite differences at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autodiff_kit import vspace
from autodiff_kit.api import jvp, vjp
from autodiff_kit.tree import tree_map


def numerical_jvp(f: Callable, args: Sequence, tangents: Sequence, eps: float = 1e-6) -> Any:
    """$J_f v \\approx \\frac{f(x + \\epsilon v) - f(x - \\epsilon v)}{2\\epsilon}$ (args a tuple).

    ``args`` and ``tangents`` are tuples of the same structure, one tangent per argument;
    the error is $O(\\epsilon^2)$, plus rounding of order $10^{-16} / \\epsilon$. For
    $f(x, y) = xy$, $J_f v = y\\, v_x + x\\, v_y$:

    >>> round(float(numerical_jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.5))), 6)  # 4 + 1.5
    5.5
    """
    plus = f(*tree_map(lambda x, v: x + eps * v, tuple(args), tuple(tangents)))
    minus = f(*tree_map(lambda x, v: x - eps * v, tuple(args), tuple(tangents)))
    return tree_map(lambda a, b: (np.asarray(a) - np.asarray(b)) / (2 * eps), plus, minus)


def numerical_jacobian(f: Callable, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian by central differences, one column per input entry.

    Laid out as a matrix: ``(f(x).size, x.size)``, so $f: \\mathbb{R}^n \\to \\mathbb{R}^m$
    gives ``(m, n)`` and a scalar ``f`` gives ``(1, n)``.

    >>> numerical_jacobian(lambda x: x ** 2, np.array([1.0, 3.0])).round(6)
    array([[2., 0.],
           [0., 6.]])
    """
    x = np.asarray(x, dtype=float)
    columns = [np.ravel(numerical_jvp(f, (x,), (e.reshape(x.shape),), eps))
               for e in vspace.standard_basis(x.size)]
    return np.stack(columns, axis=1)


def numerical_grad(f: Callable, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The gradient of a scalar ``f`` by central differences, shaped like ``x``.

    Entry $i$ is $\\frac{f(x + \\epsilon e_i) - f(x - \\epsilon e_i)}{2\\epsilon}$: $n$ pairs of
    evaluations, where reverse mode needs one backward sweep.

    >>> numerical_grad(lambda x: np.sum(x ** 2), np.array([1.0, 2.0])).round(6)  # 2 x
    array([2., 4.])
    """
    x = np.asarray(x, dtype=float)
    return numerical_jacobian(f, x, eps).reshape(x.shape)


class GradientCheckError(AssertionError):
    """A derivative disagrees with finite differences: what ``check_grads`` raises.

    The message names the modes, the order, the function, both numbers, the error and the
    tolerance. A VJP rule that says $2x^2$ where the derivative of $x^3$ is $3x^2$:

    >>> from autodiff_kit import defjvp, defvjp, primitive
    >>> @primitive
    ... def cube(x):
    ...     return x ** 3
    >>> defjvp(cube, lambda t, ans, x: 3.0 * x ** 2 * t)
    >>> defvjp(cube, lambda g, ans, x: 2.0 * x ** 2 * g)
    >>> check_grads(cube, (np.array([1.0, 2.0]),), order=1)
    Traceback (most recent call last):
    ...
    autodiff_kit.testing.GradientCheckError: reverse mode (VJP), derivative of order 1 of cube: ...
    """


def _compare(computed: float, numerical: float, what: str, rtol: float, atol: float) -> None:
    error = abs(computed - numerical)
    tolerance = atol + rtol * abs(numerical)
    if not error <= tolerance:
        raise GradientCheckError(
            f"{what}: autodiff gives {computed:.10g} but central differences give "
            f"{numerical:.10g} (error {error:.3g}, tolerance {tolerance:.3g})."
        )


def check_grads(
    f: Callable,
    args: Any,
    modes: Sequence[str] = ("fwd", "rev"),
    order: int = 2,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    rng: np.random.Generator | None = None,
) -> None:
    """Check ``f``'s JVPs and VJPs at ``args`` against finite differences, up to ``order``.

    For a random tangent $v$ and cotangent $u$:

    - forward mode: $\\langle u, \\mathrm{JVP}(v) \\rangle$ against $\\langle u, J v \\rangle$
      by central differences;
    - reverse mode: $\\langle \\mathrm{VJP}(u), v \\rangle$ against the same number (the
      adjoint identity, which ties the two modes together).

    For ``order > 1`` the derivative maps themselves ($x \\mapsto \\mathrm{JVP}_x(v)$ and
    $x \\mapsto \\mathrm{VJP}_x(u)$) are checked the same way, in every mode, so that
    forward-over-reverse and reverse-over-reverse are covered too. Raises
    ``GradientCheckError`` naming the modes, the order, the error and the tolerance.

    >>> import autodiff_kit.numpy as anp
    >>> check_grads(lambda x: anp.sum(anp.sin(x) * x), (np.array([0.1, 0.7]),))
    """
    for mode in modes:
        if mode not in _MODE_NAMES:
            raise ValueError(f"modes must be 'fwd' and/or 'rev', not {mode!r}.")
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    rng = np.random.default_rng(0) if rng is None else rng
    _check(f, args, tuple(modes), order, (), eps, rtol, atol, rng)


_MODE_NAMES = {"fwd": "forward mode (JVP)", "rev": "reverse mode (VJP)"}


def _check(f, args, modes, order, outer, eps, rtol, atol, rng) -> None:
    """Check every mode of ``f``, then of its derivative maps; ``outer`` lists the modes
    already applied, innermost first, to name the derivative that failed."""
    v = vspace.random_like(args, rng)
    u = vspace.random_like(f(*args), rng)
    numerical = float(vspace.inner(u, numerical_jvp(f, args, v, eps)))
    derivative_maps = {
        "fwd": lambda *xs: jvp(f, xs, v)[1],
        "rev": lambda *xs: vjp(f, *xs)[1](u),
    }
    for mode in modes:
        described = " over ".join(_MODE_NAMES[m] for m in (mode, *outer))
        where = f"{described}, derivative of order {len(outer) + 1} of {_name(f)}"
        if mode == "fwd":
            computed = vspace.inner(u, derivative_maps["fwd"](*args))
        else:
            computed = vspace.inner(derivative_maps["rev"](*args), v)
        _compare(float(computed), numerical, where, rtol, atol)
    if order > 1:
        for mode in modes:
            _check(derivative_maps[mode], args, modes, order - 1, (mode, *outer),
                   eps, rtol, atol, rng)


def _name(f: Callable) -> str:
    return getattr(f, "__name__", "f")


def adjoint_test(jvp_fn: Callable[[np.ndarray], np.ndarray], vjp_fn: Callable[[np.ndarray], np.ndarray],
                 n: int, m: int, rng: np.random.Generator) -> float:
    """The dot-product test: how far a JVP and a VJP are from being adjoint, relative to their size.

    For a linear map $J: \\mathbb{R}^n \\to \\mathbb{R}^m$, $\\langle u, J v \\rangle =
    \\langle u^\\top J, v \\rangle$ for every $v$ and $u$. With $v$ = ``rng.standard_normal(n)``
    drawn first, then $u$ = ``rng.standard_normal(m)``, and each function called once, it returns

    $$\\frac{|u \\cdot J v - u^\\top J \\cdot v|}
    {\\|u\\|\\,\\|J v\\| + \\|u^\\top J\\|\\,\\|v\\|},$$

    about 1e-16 (rounding) when ``vjp_fn`` is the adjoint of ``jvp_fn``, and of order 1 when it is
    not. It needs no finite differences, so it is exact to rounding and cheap; it is how reverse-mode
    libraries test the VJPs of their primitives against the JVPs (and how seismic imaging tests its
    adjoint operators). 0 when both products are 0.

    >>> J = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> adjoint_test(lambda v: J @ v, lambda u: u @ J, 2, 3, np.random.default_rng(0)) < 1e-15
    True
    >>> round(adjoint_test(lambda v: J @ v, lambda u: u @ J[:, ::-1], 2, 3, np.random.default_rng(0)), 3)
    0.085
    """
    v = rng.standard_normal(n)
    u = rng.standard_normal(m)
    Jv = np.asarray(jvp_fn(v), dtype=np.float64)
    uJ = np.asarray(vjp_fn(u), dtype=np.float64)
    scale = np.linalg.norm(u) * np.linalg.norm(Jv) + np.linalg.norm(uJ) * np.linalg.norm(v)
    gap = abs(u @ Jv - uJ @ v)
    return float(gap / scale) if scale > 0 else 0.0


def likely_slip(got: np.ndarray, expected: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9) -> str:
    """A sentence naming the slip a wrong answer most likely comes from, or ``""``.

    The course's one vocabulary of slips, used by the visible checks (``assert_close``) and
    by the hidden tests alike: NaN or inf where the answer is finite (an overflow), the
    opposite sign, the transpose, a constant factor (a sum where a mean belongs, or the
    reverse; a missing factor 2), zero everywhere (a cotangent never multiplied in or never
    returned), and right but for a few entries (a kink, an edge case).

    >>> likely_slip(np.array([-1.0, -2.0]), np.array([1.0, 2.0]))
    'It is the answer with the opposite sign: check the sign of each term.'
    >>> likely_slip(np.array([0.25, 0.5, 0.75]), np.array([1.0, 2.0, 3.0]))[:33]
    'It is the answer times 0.25 every'
    """
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return ""
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        return ("An exponential probably overflowed. Subtract the maximum before exponentiating (the "
                "log-sum-exp trick), or avoid dividing by a value that can be 0.")

    def close(a, b):
        return np.allclose(a, b, rtol=rtol, atol=atol)

    if close(got, -expected):
        return "It is the answer with the opposite sign: check the sign of each term."
    if got.ndim == 2 and got.shape[0] == got.shape[1] and close(got, expected.T):
        return "It is the transpose of the answer: check the order of the matrix product."
    flat_expected, flat_got = expected.ravel(), got.ravel()
    big = np.abs(flat_expected) > atol * 10
    if big.sum() > 1:  # a constant factor shows only across several entries
        ratio = float(np.median(flat_got[big] / flat_expected[big]))
        if abs(ratio) > 1e-12 and not np.isclose(ratio, 1.0) and close(got, ratio * expected):
            return (f"It is the answer times {ratio:.4g} everywhere: a constant factor is off "
                    "(a missing or extra mean over the batch, or a missing factor 2?).")
    if close(got, 0.0):
        return "It is zero everywhere: is the result computed but not returned or not accumulated?"
    wrong = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    if wrong.ndim and 0 < wrong.sum() < wrong.size:
        return "The other entries are right: look for a kink, an edge case, or one missing term."
    return ""


def assert_close(got: Any, expected: Any, name: str = "result", rtol: float = 1e-6,
                 atol: float = 1e-9) -> None:
    """Raise ``AssertionError`` unless ``got`` equals ``expected`` elementwise, $|g - e| \\le a + r|e|$.

    Made for the visible checks of an exercise: the message names the output, compares
    shapes first, then lists up to five wrong entries with the expected and received values,
    and names the likely slip (``likely_slip``, the hidden tests' own diagnosis).

    >>> assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    >>> assert_close(np.array([1.0, 5.0]), np.array([1.0, 2.0]), "dx")
    Traceback (most recent call last):
    ...
    AssertionError: dx: 1 of 2 entries are wrong: at (1,) expected 2 but got 5. The other entries ...
    """
    if got is None:
        raise AssertionError(f"{name} is None: did the function forget to `return` its result?")
    got_array, expected_array = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        raise AssertionError(f"{name} has shape {got_array.shape}, expected {expected_array.shape}.")
    wrong = ~np.isclose(got_array, expected_array, rtol=rtol, atol=atol)
    if not wrong.any():
        return
    indices = np.argwhere(wrong)[:5]
    listed = "; ".join(f"at {tuple(int(i) for i in index)} expected {expected_array[tuple(index)]:.6g} "
                       f"but got {got_array[tuple(index)]:.6g}" for index in indices)
    slip = likely_slip(got_array, expected_array, rtol, atol)
    raise AssertionError(f"{name}: {int(wrong.sum())} of {wrong.size} entries are wrong: {listed}."
                         + (f" {slip}" if slip else ""))
