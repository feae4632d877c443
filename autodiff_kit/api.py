"""The transformations: ``vjp`` and ``jvp``, and everything built from them.

``vjp`` runs ``f`` under a reverse trace and returns a function that sweeps the tape
backwards; ``jvp`` runs ``f`` under a forward trace. The rest are compositions:

- ``grad``: one VJP with cotangent 1 on a scalar output;
- ``jacrev``: $m$ VJPs, one row of the $m \\times n$ Jacobian each;
- ``jacfwd``: $n$ JVPs, one column each;
- either, given a sparsity pattern: $\\chi$ products, one per colour (``sparsity``);
- ``hessian``: ``jacfwd(jacrev(f))`` (Hessian-vector products are in ``higher_order``).

Inputs may be arrays, Python floats, or pytrees (tuples, lists, dicts) of them; results
have the same structure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autodiff_kit import numpy as anp
from autodiff_kit import vspace
from autodiff_kit.forward import ForwardTrace, TangentTracer
from autodiff_kit.numpy.broadcasting import dtype_of, shape_of
from autodiff_kit.reverse import Node, ReverseTrace, backward_pass
from autodiff_kit.sparsity import (
    as_pattern,
    colour_columns,
    colour_rows,
    jacobian_from_coloured_jvps,
    jacobian_from_coloured_vjps,
)
from autodiff_kit.tracing import Tracer
from autodiff_kit.tree import TreeDef, tree_flatten, tree_unflatten

ArgNums = int | Sequence[int]


def _differentiable(x: Any, where: str, position: int) -> Any:
    """``x`` as a float array (or as is, if already traced), refusing what has no derivative.

    ``where.format(position)`` names ``x`` in the error (formatted only if there is one).
    """
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the common case, at once
        return x
    if not isinstance(x, Tracer):
        if not isinstance(x, (np.ndarray, np.generic, float, int)):
            raise TypeError(f"{where.format(position)} is a {type(x).__name__}; differentiable inputs are "
                            "float arrays, floats, or tuples, lists and dicts of them.")
        x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{where.format(position)} has dtype {x.dtype}, but derivatives need floating-point inputs: "
            "the derivative with respect to an integer is not defined. Pass a float array "
            "(x.astype(float)) or a float literal (3.0, not 3)."
        )
    return x


def _like_input(derivative: Any, original: Any) -> Any:
    """A derivative shaped and typed like the input ``original`` it belongs to."""
    if type(derivative) is np.ndarray and type(original) is np.ndarray and derivative.dtype == original.dtype:
        return derivative  # the common case, at once
    if derivative is None:
        derivative = np.zeros(shape_of(original), dtype_of(original))
    if isinstance(derivative, Tracer):
        return derivative
    out = np.asarray(derivative, dtype=dtype_of(original))
    return out if isinstance(original, (np.ndarray, Tracer)) else out[()]


def _check_same_structure(given: TreeDef, expected: TreeDef, what: str) -> None:
    if given != expected:
        raise ValueError(f"The {what} must have the structure {expected}, not {given}.")


def _check_shape(x: Any, expected: tuple, what: str) -> None:
    if shape_of(x) != expected:
        raise ValueError(f"The {what} has shape {shape_of(x)}, but it must have shape {expected}, "
                         "the shape of the value it belongs to.")


def vjp(f: Callable, *primals: Any) -> tuple[Any, Callable]:
    """Run ``f`` once and return ``(f(*primals), vjp_fn)``, with ``vjp_fn(u)`` $= u^\\top J_f$.

    ``vjp_fn`` takes a cotangent shaped like the output and returns a tuple with one
    cotangent per primal; it may be called many times (once per row of $J_f$). For
    $f(x, y) = xy$, $J_f = (y \\;\\; x)$:

    >>> out, vjp_fn = vjp(lambda x, y: x * y, 3.0, 4.0)
    >>> float(out), [float(c) for c in vjp_fn(1.0)], [float(c) for c in vjp_fn(2.0)]
    (12.0, [4.0, 3.0], [8.0, 6.0])
    """
    out_values, out_def, pullback = _recorded(f, primals)

    def vjp_fn(cotangent: Any) -> tuple:
        cotangents, cotangent_def = tree_flatten(cotangent)
        _check_same_structure(cotangent_def, out_def, "cotangent")
        for i, (g, y) in enumerate(zip(cotangents, out_values, strict=True)):
            _check_shape(g, shape_of(y), f"cotangent of output {i}")
        return pullback(cotangents)

    return tree_unflatten(out_def, out_values), vjp_fn


def _recorded(f: Callable, primals: tuple) -> tuple[list, TreeDef, Callable]:
    """Run ``f(*primals)`` on a tape: its output's leaves and structure, and the pullback.

    ``pullback(cotangents)`` takes one cotangent per output leaf, of its shape, and sweeps
    the tape back to one cotangent per primal (the structure of ``primals``).
    """
    leaves, treedef = tree_flatten(primals)
    values = [_differentiable(x, "Input {} of vjp", i) for i, x in enumerate(leaves)]
    with ReverseTrace() as trace:
        inputs = [trace.new_input(value) for value in values]
        out = f(*tree_unflatten(treedef, inputs))
    tape = trace.take_tape()
    out_leaves, out_def = tree_flatten(out)
    is_traced = [isinstance(o, Node) and o.trace is trace for o in out_leaves]
    out_values = [o.value if traced else o for o, traced in zip(out_leaves, is_traced, strict=True)]

    def pullback(cotangents: list) -> tuple:
        seeds = [(o, g) for o, g, traced in zip(out_leaves, cotangents, is_traced, strict=True) if traced]
        adjoints = backward_pass(tape, seeds, inputs)
        return tree_unflatten(treedef, [_like_input(a, x) for a, x in zip(adjoints, leaves, strict=True)])

    return out_values, out_def, pullback


def jvp(f: Callable, primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
    """Run ``f`` once, pushing tangents along: ``(f(*primals), J_f @ tangents)``.

    That is $(f(x), J_f(x)\\, \\dot x)$, the derivative of $f$ at $x$ along the direction
    $\\dot x$, given as one tangent per primal (a tuple, like ``primals``). For $f(x) = x^3$,
    $J_f \\dot x = 3x^2 \\dot x$:

    >>> [float(v) for v in jvp(lambda x: x ** 3, (2.0,), (1.0,))]
    [8.0, 12.0]
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp takes the primals and the tangents as tuples: jvp(f, (x,), (v,)).")
    primal_leaves, treedef = tree_flatten(tuple(primals))
    tangent_leaves, tangent_def = tree_flatten(tuple(tangents))
    _check_same_structure(tangent_def, treedef, "tangents")
    values = [_differentiable(x, "Primal {} of jvp", i) for i, x in enumerate(primal_leaves)]
    for i, (t, x) in enumerate(zip(tangent_leaves, values, strict=True)):
        _check_shape(t, shape_of(x), f"tangent for primal {i}")
    tangent_leaves = [t if isinstance(t, Tracer) else np.asarray(t, dtype_of(x))
                      for t, x in zip(tangent_leaves, values, strict=True)]
    with ForwardTrace() as trace:
        tracers = [TangentTracer(x, trace, t) for x, t in zip(values, tangent_leaves, strict=True)]
        out = f(*tree_unflatten(treedef, tracers))
    out_leaves, out_def = tree_flatten(out)
    out_values, out_tangents = [], []
    for o in out_leaves:
        traced = isinstance(o, TangentTracer) and o.trace is trace
        out_values.append(o.value if traced else o)
        out_tangents.append(_like_input(o.tangent if traced else None, out_values[-1]))
    return tree_unflatten(out_def, out_values), tree_unflatten(out_def, out_tangents)


def _fix_other_args(f: Callable, args: tuple, kwargs: dict, argnums: ArgNums):
    """``f`` as a function of the arguments in ``argnums`` only, and their current values."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"argnums={argnums} asks for argument {i}, but the function was "
                             f"called with {len(args)} positional arguments.")

    def f_of_chosen(*chosen):
        full = list(args)
        for i, value in zip(nums, chosen, strict=True):
            full[i] = value
        return f(*full, **kwargs)

    return f_of_chosen, tuple(args[i] for i in nums)


def _check_scalar(out: Any, name: str) -> None:
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(f"{name} needs the function to return one scalar, but it returned a "
                        f"{type(out).__name__}. Use vjp for several outputs.")
    if shape_of(out) != ():
        hint = " (return out[0] or anp.sum(out) if you meant a scalar)" if shape_of(out) == (1,) else ""
        raise TypeError(
            f"{name} needs the function to return a scalar, but it returned an array of shape "
            f"{shape_of(out)}{hint}. For a vector-valued function use jacrev(f) for the whole "
            "Jacobian, or vjp(f, x) for one vector-Jacobian product."
        )


def value_and_grad(f: Callable, argnums: ArgNums = 0) -> Callable:
    """``f`` and its gradient in one pass: returns ``(f(*args), grad(f, argnums)(*args))``.

    One forward run gives the value $f(x)$, which ``grad`` computes anyway, and one backward
    sweep the gradient $\\nabla f(x)$. With a tuple ``argnums``, the gradient is a tuple too.

    >>> import autodiff_kit.numpy as anp
    >>> value, gradient = value_and_grad(lambda x: anp.sum(x ** 2))(np.array([1.0, 2.0]))
    >>> float(value), gradient
    (5.0, array([2., 4.]))
    >>> value, (dx, dy) = value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    >>> float(value), float(dx), float(dy)
    (12.0, 4.0, 3.0)
    """

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        f_of_chosen, chosen = _fix_other_args(f, args, kwargs, argnums)
        out_values, out_def, pullback = _recorded(f_of_chosen, chosen)
        out = tree_unflatten(out_def, out_values)
        _check_scalar(out, "grad")
        grads = pullback([np.ones((), dtype_of(out))])
        return out, grads[0] if isinstance(argnums, int) else grads

    return value_and_grad_f


def grad(f: Callable, argnums: ArgNums = 0) -> Callable:
    """The gradient $\\nabla f$ of a scalar ``f`` with respect to argument(s) ``argnums``.

    By reverse mode: one forward run and one backward sweep, whatever the input size.

    >>> import autodiff_kit.numpy as anp
    >>> grad(lambda x: anp.sum(x ** 2))(np.array([1.0, 2.0]))
    array([2., 4.])
    """

    value_and_grad_f = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def _jacobian_blocks(matrix: Any, out_example: Any, in_example: Any) -> Any:
    """Cut the flat $M \\times N$ Jacobian into one block per (output leaf, input leaf).

    The block of output leaf $i$ and input leaf $j$ has shape ``out_i.shape + in_j.shape``;
    for one array in and one out, the result is just ``matrix`` reshaped that way.
    """
    out_leaves, out_def = tree_flatten(out_example)
    in_leaves, in_def = tree_flatten(in_example)
    out_shapes = [shape_of(leaf) for leaf in out_leaves]
    in_shapes = [shape_of(leaf) for leaf in in_leaves]
    rows = np.cumsum([0] + [int(np.prod(s)) for s in out_shapes])
    cols = np.cumsum([0] + [int(np.prod(s)) for s in in_shapes])
    blocks = [
        tree_unflatten(in_def, [
            anp.reshape(matrix[rows[i]:rows[i + 1], cols[j]:cols[j + 1]], so + si)
            for j, si in enumerate(in_shapes)
        ])
        for i, so in enumerate(out_shapes)
    ]
    return tree_unflatten(out_def, blocks)


def _flat_problem(f: Callable, argnums: ArgNums, args: tuple, kwargs: dict):
    """``f`` as a map from one flat vector to one flat vector, and the point to evaluate at."""
    f_of_chosen, chosen = _fix_other_args(f, args, kwargs, argnums)
    x = chosen[0] if isinstance(argnums, int) else tuple(chosen)
    flat_x, unravel = vspace.ravel(x)
    output_shape: list = []

    def f_flat(v):
        y = f_of_chosen(*((unravel(v),) if isinstance(argnums, int) else unravel(v)))
        output_shape[:] = [vspace.zeros_like(y)]  # the structure only: no traced value escapes
        return vspace.ravel(y)[0]

    return f_flat, flat_x, x, output_shape


def _is_vector(x: Any) -> bool:
    return not isinstance(x, (tuple, list, dict)) and len(shape_of(x)) == 1


def _described(x: Any) -> str:
    """``a tuple``, ``an array of shape (2, 3)``: what a value is, for an error message."""
    if isinstance(x, (tuple, list, dict)):
        return f"a {type(x).__name__}"
    return f"an array of shape {shape_of(x)}"


def _vector_problem(f: Callable, argnums: ArgNums, args: tuple, kwargs: dict, pattern: np.ndarray,
                    name: str):
    """``f`` as a map from one 1-D array to one 1-D array that fit the ``(m, n)`` ``pattern``.

    The scope of a sparse Jacobian: its pattern indexes the entries of one input vector and
    one output vector; pytrees and arrays of other ranks are refused, saying how to flatten.
    """
    flatten = ("Flatten them: with flat, unravel = autodiff_kit.vspace.ravel(x), take the Jacobian "
               "of v -> anp.ravel(f(unravel(v))) at flat, with the pattern of that flat function.")
    needs = f"{name} with a sparsity pattern differentiates one 1-D array to one 1-D array"
    if not isinstance(argnums, int):
        raise TypeError(f"{needs}, but argnums is {argnums}. {flatten}")
    f_of_chosen, (x,) = _fix_other_args(f, args, kwargs, argnums)
    if not _is_vector(x):
        raise TypeError(f"{needs}, but argument {argnums} is {_described(x)}. {flatten}")
    x = _differentiable(x, "Argument {} of " + name, argnums)
    n = shape_of(x)[0]
    one_per_entry = "one row per output entry and one column per input entry"
    if pattern.shape[1] != n:
        raise ValueError(f"The sparsity pattern has shape {pattern.shape}, but f has {n} inputs: the "
                         f"pattern must have {n} columns, {one_per_entry}.")

    def f_vector(v):
        y = f_of_chosen(v)
        if not _is_vector(y):
            raise TypeError(f"{needs}, but f returned {_described(y)}. {flatten}")
        m = shape_of(y)[0]
        if pattern.shape[0] != m:
            raise ValueError(f"The sparsity pattern has shape {pattern.shape}, but f maps {n} inputs to "
                             f"{m} outputs: the pattern must have shape ({m}, {n}), {one_per_entry}.")
        return y

    return f_vector, x


def jacfwd(f: Callable, argnums: ArgNums = 0, *, sparsity: Any = None,
           check_sparsity: bool = False) -> Callable:
    """The Jacobian by forward mode: one JVP per input entry, $J e_j$ is column $j$.

    The result has shape ``out.shape + in.shape`` (nested like the output, then the input,
    for pytrees). Cheapest when inputs are fewer than outputs.

    ``sparsity``, for ``f`` from one 1-D array to one 1-D array, is the ``(m, n)`` boolean
    pattern of where $J$ may be nonzero: then columns that share no row are summed into one
    JVP, $\\chi$ JVPs in all (3 for a tridiagonal $J$, whatever $n$; see ``sparsity``).
    Entries outside the pattern are taken to be zero, so a wrong pattern gives a wrong $J$;
    ``check_sparsity=True`` spends one more JVP, along a random direction, to catch it.

    >>> import autodiff_kit.numpy as anp
    >>> from autodiff_kit.sparsity import band_pattern
    >>> f = lambda x: x * anp.concatenate([x[1:], x[:1] * 0.0])          # x_i x_(i+1)
    >>> jacfwd(f, sparsity=band_pattern(3, 1))(np.array([1.0, 2.0, 3.0]))
    array([[2., 1., 0.],
           [0., 3., 2.],
           [0., 0., 0.]])
    """
    # A copy, so that the caller editing their array later cannot leave these colours stale.
    pattern = None if sparsity is None else as_pattern(sparsity).copy()
    colours = None if pattern is None else colour_columns(pattern)  # once, for every call

    @functools.wraps(f)
    def jacobian(*args, **kwargs):
        if pattern is not None:
            f_vector, x = _vector_problem(f, argnums, args, kwargs, pattern, "jacfwd")
            return jacobian_from_coloured_jvps(lambda v: jvp(f_vector, (x,), (v,))[1], pattern,
                                               colours, check=check_sparsity)
        f_flat, flat_x, x, output = _flat_problem(f, argnums, args, kwargs)
        columns = [jvp(f_flat, (flat_x,), (e,))[1]
                   for e in vspace.standard_basis(shape_of(flat_x)[0], dtype_of(flat_x))]
        return _jacobian_blocks(anp.stack(columns, axis=1), output[0], x)

    return jacobian


def jacrev(f: Callable, argnums: ArgNums = 0, *, sparsity: Any = None,
           check_sparsity: bool = False) -> Callable:
    """The Jacobian by reverse mode: one VJP per output entry, $e_i^\\top J$ is row $i$.

    Same layout as ``jacfwd``. Cheapest when outputs are fewer than inputs. With a
    ``sparsity`` pattern, as in ``jacfwd``: rows that share no column are summed into one
    VJP, $\\chi$ VJPs in all (2 for a dense row over a diagonal, where ``jacfwd`` needs $n$).

    For $f(x) = x_0 x$, the rows are $\\nabla (x_0^2) = (2x_0, 0)$ and $\\nabla (x_0 x_1) = (x_1, x_0)$:

    >>> import autodiff_kit.numpy as anp
    >>> jacrev(lambda x: x[0] * x)(np.array([2.0, 3.0]))
    array([[4., 0.],
           [3., 2.]])

    The sum of $x$ (a dense row) over the squares of its entries (a diagonal), in 2 VJPs:

    >>> f = lambda x: anp.concatenate([anp.sum(x, keepdims=True), x ** 2])
    >>> pattern = np.vstack([np.ones((1, 3), bool), np.eye(3, dtype=bool)])
    >>> jacrev(f, sparsity=pattern)(np.array([1.0, 2.0, 3.0]))
    array([[1., 1., 1.],
           [2., 0., 0.],
           [0., 4., 0.],
           [0., 0., 6.]])
    """
    pattern = None if sparsity is None else as_pattern(sparsity).copy()
    colours = None if pattern is None else colour_rows(pattern)  # once, for every call

    @functools.wraps(f)
    def jacobian(*args, **kwargs):
        if pattern is not None:
            f_vector, x = _vector_problem(f, argnums, args, kwargs, pattern, "jacrev")
            _, vjp_fn = vjp(f_vector, x)
            return jacobian_from_coloured_vjps(lambda u: vjp_fn(u)[0], pattern, colours,
                                               check=check_sparsity)
        f_flat, flat_x, x, output = _flat_problem(f, argnums, args, kwargs)
        flat_y, vjp_fn = vjp(f_flat, flat_x)
        rows = [vjp_fn(e)[0] for e in vspace.standard_basis(shape_of(flat_y)[0], dtype_of(flat_y))]
        return _jacobian_blocks(anp.stack(rows, axis=0), output[0], x)

    return jacobian


def hessian(f: Callable, argnums: ArgNums = 0) -> Callable:
    """The Hessian $\\nabla^2 f$ of a scalar ``f``: forward mode over reverse mode.

    >>> import autodiff_kit.numpy as anp
    >>> hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    return jacfwd(jacrev(f, argnums), argnums)
