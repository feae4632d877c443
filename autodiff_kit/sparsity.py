"""Sparse Jacobians: $\\chi$ JVPs (or VJPs) instead of $n$, by colouring columns (or rows).

A JVP with tangent $v$ gives $Jv = \\sum_j v_j J_{:,j}$, a combination of columns; with
$v = e_j$ it is column $j$, so the dense Jacobian costs $n$ JVPs. When we know where $J$
may be nonzero (its *sparsity pattern* $P$: $P_{ij}$ false promises $J_{ij} = 0$ at every
$x$), columns whose nonzeros lie in different rows can share one JVP and be pulled apart
afterwards: row $i$ of $J(e_j + e_k)$ is $J_{ij} + J_{ik}$, one of which is zero.

Columns $j$ and $k$ *conflict* when a row $i$ has both $P_{ij}$ and $P_{ik}$; conflicts are
the edges of the **column-intersection graph**, whose vertices are the columns. A
*colouring* gives conflicting columns different colours, so each row meets each colour at
most once. With $\\chi$ colours, one JVP per colour $c$, seeded with
$s_c = \\sum_{j:\\,c(j) = c} e_j$, gives the compressed columns $J s_c$, and

$$J_{ij} = (J s_{c(j)})_i \\quad \\text{wherever } P_{ij},$$

because the only column of colour $c(j)$ that is nonzero in row $i$ is $j$ itself. That is
the recovery (*decompression*): the whole $J$ from $\\chi$ JVPs. On a tridiagonal pattern
the columns $j, j + 3, j + 6, \\dots$ never share a row, so $\\chi = 3$ whatever $n$.

The fewest colours possible, the chromatic number of the graph, is NP-hard to find in
general. The greedy colouring here (columns in order, each taking the smallest colour that
none of its conflicting columns has) needs at least the most nonzeros in one row (those
columns conflict pairwise) and at most one more than the most conflicts of one column; on
a band of half-width $b$ it uses $2b + 1$, the fewest possible.

Reverse mode is the same on $J^\\top$: rows that share no column get one colour, one VJP per
colour with the cotangent $u_c = \\sum_{i:\\,c(i) = c} e_i$, and $J_{ij} = (u_{c(i)}^\\top J)_j$.
Choose the mode with fewer colours: one dense row makes every two columns conflict
($\\chi = n$ for JVPs) but leaves the rows few colours, a dense column the other way round.
An arrowhead (a dense row and a dense column) defeats both; mixing JVPs and VJPs
(bi-colouring) would not, but is not done here.

The pattern is a promise, not a hint. Entries outside it are never computed: a nonzero
$J_{ik}$ outside it is silently dropped or added into another entry of row $i$, so **a
wrong pattern gives a wrong Jacobian**. ``check=True`` spends one more product, along a
random direction, to catch that. (Curtis, Powell and Reid 1974; Coleman and Moré 1983;
Gebremedhin, Manne and Pothen, *What color is your Jacobian?*, SIAM Review 2005.)

>>> pattern = band_pattern(6, half_width=1)        # tridiagonal
>>> colour_columns(pattern)
array([0, 1, 2, 0, 1, 2])
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from autodiff_kit import numpy as anp
from autodiff_kit.numpy.broadcasting import shape_of
from autodiff_kit.tracing import primal_value


def as_pattern(pattern: Any) -> np.ndarray:
    """``pattern`` as a boolean ``(m, n)`` array: True where $J$ may be nonzero.

    Takes booleans, or numbers (nonzero means True, so a Jacobian evaluated at one point
    will do), or anything with ``.toarray()`` such as a ``scipy.sparse`` matrix.

    >>> as_pattern(np.eye(2))
    array([[ True, False],
           [False,  True]])
    """
    if hasattr(pattern, "toarray"):
        pattern = pattern.toarray()
    array = np.asarray(pattern)
    if not (array.dtype == bool or np.issubdtype(array.dtype, np.number)):
        raise TypeError(f"A sparsity pattern holds booleans (or numbers, nonzero meaning True), "
                        f"not {array.dtype}.")
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"A sparsity pattern is a 2-D (m, n) array with at least one row and column, "
                         f"one row per output entry and one column per input entry; this one has "
                         f"shape {array.shape}.")
    return array if array.dtype == bool else array != 0


def band_pattern(n: int, half_width: int) -> np.ndarray:
    """The ``(n, n)`` band $|i - j| \\le$ ``half_width``: 0 diagonal, 1 tridiagonal.

    >>> band_pattern(3, 1).astype(int)
    array([[1, 1, 0],
           [1, 1, 1],
           [0, 1, 1]])
    """
    rows, columns = np.indices((n, n))
    return np.abs(rows - columns) <= half_width


def colour_columns(pattern: Any) -> np.ndarray:
    """A greedy colouring of the columns: ``colours[j]`` for each column, from 0 to $\\chi - 1$.

    Columns in order, each takes the smallest colour not yet used in any of its rows, so that
    no row meets one colour twice: columns that share a row get different colours.

    >>> colour_columns(np.eye(3))                    # diagonal: one JVP does it all
    array([0, 0, 0])
    >>> colour_columns([[1, 1, 1], [0, 0, 1]])       # a dense row: every column conflicts
    array([0, 1, 2])
    """
    pattern = as_pattern(pattern)
    m, n = pattern.shape
    colours_in_row = [set() for _ in range(m)]
    colours = np.empty(n, dtype=int)
    for j in range(n):
        rows = np.flatnonzero(pattern[:, j])
        taken = set().union(*(colours_in_row[i] for i in rows))
        colour = next(c for c in itertools.count() if c not in taken)
        colours[j] = colour
        for i in rows:
            colours_in_row[i].add(colour)
    return colours


def colour_rows(pattern: Any) -> np.ndarray:
    """A greedy colouring of the rows (for VJPs): the columns' colouring of $P^\\top$.

    >>> colour_rows([[1, 1, 1], [0, 0, 1]])          # the rows share column 2
    array([0, 1])
    """
    return colour_columns(as_pattern(pattern).T)


def seed_matrix(colours: Any) -> np.ndarray:
    """The ``(n, χ)`` seeds $S$, column $c$ being $s_c = \\sum_{j:\\,c(j) = c} e_j$.

    $JS$ is then the ``(m, χ)`` compressed Jacobian, one JVP per column of $S$.

    >>> seed_matrix([0, 1, 0])
    array([[1., 0.],
           [0., 1.],
           [1., 0.]])
    """
    colours = np.asarray(colours)
    return (colours[:, None] == np.arange(colours.max() + 1)).astype(float)


def decompress_columns(compressed: Any, pattern: Any, colours: Any) -> Any:
    """$J$ from the compressed $JS$: $J_{ij} = (JS)_{i, c(j)}$ where $P_{ij}$, else 0.

    Traceable, so a Jacobian recovered this way can itself be differentiated.

    >>> J = np.array([[2.0, 3.0, 0.0], [0.0, 4.0, 5.0]])
    >>> colours = np.array([0, 1, 0])                # columns 0 and 2 share no row
    >>> decompress_columns(J @ seed_matrix(colours), J != 0, colours)
    array([[2., 3., 0.],
           [0., 4., 5.]])
    """
    return anp.where(as_pattern(pattern), compressed[:, np.asarray(colours)], 0.0)


def decompress_rows(compressed: Any, pattern: Any, colours: Any) -> Any:
    """$J$ from the compressed $S^\\top J$ of a row colouring: the columns' recovery on $J^\\top$.

    >>> J = np.array([[2.0, 0.0], [3.0, 4.0], [0.0, 5.0]])
    >>> colours = np.array([0, 1, 0])                # rows 0 and 2 share no column
    >>> decompress_rows(seed_matrix(colours).T @ J, J != 0, colours)
    array([[2., 0.],
           [3., 4.],
           [0., 5.]])
    """
    return anp.transpose(decompress_columns(anp.transpose(compressed), as_pattern(pattern).T, colours))


def jacobian_from_coloured_jvps(jvp_fn: Callable[[np.ndarray], Any], pattern: Any,
                                colours: Any = None, *, check: bool = False) -> Any:
    """The $(m, n)$ Jacobian from $\\chi$ JVPs, one per colour of the columns of ``pattern``.

    ``jvp_fn(v)`` must return $Jv$ (length $m$); it is called exactly $\\chi$ times, with the
    seeds $s_0, \\dots, s_{\\chi - 1}$ (``seed_matrix``), then once more if ``check``. Pass
    ``colours`` (from ``colour_columns``) to colour once for many Jacobians.

    ``check=True`` compares $Jv$ along a random $v$ with the recovered $J$ times $v$ and
    raises if they differ: the Jacobian is nonzero outside ``pattern``.

    >>> J = np.diag([1.0, 2.0, 3.0]) + np.diag([4.0, 5.0], k=1)
    >>> jacobian_from_coloured_jvps(lambda v: J @ v, J != 0)      # 2 JVPs, not 3
    array([[1., 4., 0.],
           [0., 2., 5.],
           [0., 0., 3.]])
    """
    pattern = as_pattern(pattern)
    colours = colour_columns(pattern) if colours is None else _checked_colours(colours, pattern, "columns")
    products = [jvp_fn(seed) for seed in seed_matrix(colours).T]
    for product in products:
        _check_length(product, pattern.shape[0], "jvp_fn", "J @ v, one number per row", pattern)
    J = decompress_columns(anp.stack(products, axis=1), pattern, colours)
    if check:
        direction = np.random.default_rng(0).standard_normal(pattern.shape[1])
        _check_one_more_product(primal_value(J), direction, jvp_fn(direction), "rows", "J v")
    return J


def jacobian_from_coloured_vjps(vjp_fn: Callable[[np.ndarray], Any], pattern: Any,
                                colours: Any = None, *, check: bool = False) -> Any:
    """The $(m, n)$ Jacobian from $\\chi$ VJPs, one per colour of the rows of ``pattern``.

    ``vjp_fn(u)`` must return $u^\\top J$ (length $n$); it is called exactly $\\chi$ times,
    then once more if ``check``, as in ``jacobian_from_coloured_jvps``. ``colours`` are
    the rows' (``colour_rows``).

    >>> J = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 4.0]])         # a dense row
    >>> jacobian_from_coloured_vjps(lambda u: u @ J, J != 0)      # 2 VJPs (3 JVPs)
    array([[1., 2., 3.],
           [0., 0., 4.]])
    """
    pattern = as_pattern(pattern)
    colours = colour_rows(pattern) if colours is None else _checked_colours(colours, pattern.T, "rows")
    products = [vjp_fn(seed) for seed in seed_matrix(colours).T]
    for product in products:
        _check_length(product, pattern.shape[1], "vjp_fn", "u @ J, one number per column", pattern)
    J = decompress_rows(anp.stack(products, axis=0), pattern, colours)
    if check:
        direction = np.random.default_rng(0).standard_normal(pattern.shape[0])
        _check_one_more_product(primal_value(J).T, direction, vjp_fn(direction), "columns", "u^T J")
    return J


def _checked_colours(colours: Any, pattern: np.ndarray, coloured: str) -> np.ndarray:
    """``colours`` of the columns of ``pattern``, refused unless no row meets a colour twice.

    ``coloured`` names what the columns of ``pattern`` are to the caller: "columns", or
    "rows" when ``pattern`` is the transposed pattern of a row colouring.
    """
    colours = np.asarray(colours)
    count = pattern.shape[1]
    if colours.shape != (count,) or not np.issubdtype(colours.dtype, np.integer) or colours.min() < 0:
        raise ValueError(f"colours must be {count} non-negative integers, one for each of the {count} "
                         f"{coloured} of the pattern; got {colours!r}.")
    lines, members = np.nonzero(pattern)
    uses = np.zeros((pattern.shape[0], colours.max() + 1), dtype=int)
    np.add.at(uses, (lines, colours[members]), 1)
    if (uses > 1).any():
        line, colour = np.argwhere(uses > 1)[0]
        other = "row" if coloured == "columns" else "column"
        raise ValueError(f"The colouring is not valid for this pattern: {uses[line, colour]} {coloured} "
                         f"of colour {colour} share {other} {line}, so their sum could not be taken "
                         f"apart. Colour with colour_{coloured}(pattern).")
    return colours


def _check_length(product: Any, length: int, fn_name: str, returns: str, pattern: np.ndarray) -> None:
    if shape_of(product) != (length,):
        raise ValueError(f"{fn_name} returned an array of shape {shape_of(product)}, but the sparsity "
                         f"pattern has shape {pattern.shape}: {fn_name} must return {returns}, "
                         f"shape ({length},).")


def _check_one_more_product(recovered: np.ndarray, direction: np.ndarray, exact: Any, lines: str,
                            product: str) -> None:
    """Raise unless ``recovered @ direction`` equals ``exact``, one more product, up to rounding."""
    exact = np.asarray(primal_value(exact))
    difference = np.abs(recovered @ direction - exact)
    scale = np.abs(recovered) @ np.abs(direction) + np.abs(exact)
    wrong = np.flatnonzero(difference > np.sqrt(np.finfo(exact.dtype).eps) * scale)
    if wrong.size:
        raise ValueError(
            f"The Jacobian is not zero outside the sparsity pattern: along a random direction, "
            f"{lines} {wrong[:10].tolist()} of {product} differ from the recovered Jacobian's (by up to "
            f"{difference.max():.3g}). Entries outside the pattern are taken to be zero, so this "
            "Jacobian is wrong: add the missing entries to the pattern (the nonzeros of a dense "
            "Jacobian at a random point show them).")
