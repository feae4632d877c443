"""Sparse Jacobians by colouring (``autodiff_kit.sparsity``, ``jacfwd``/``jacrev`` with ``sparsity=``).

The colourings are valid (no row meets a colour twice, for columns; no column, for rows) and
within their bounds; the Jacobians recovered from $\\chi$ products equal the dense ``jacfwd``
and ``jacrev`` and central differences, on random patterns and functions built to respect
them; the products are counted where they happen, in a primitive's JVP and VJP rules; and
every misuse is refused with a sentence that says what to do.
"""

from collections import Counter

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import seeds

import autodiff_kit.numpy as anp
from autodiff_kit import grad, hessian, jacfwd, jacrev, jvp, vjp
from autodiff_kit.chain import CountingFunction
from autodiff_kit.primitives import defjvp, defvjp, primitive
from autodiff_kit.sparsity import (
    as_pattern,
    band_pattern,
    colour_columns,
    colour_rows,
    decompress_columns,
    decompress_rows,
    jacobian_from_coloured_jvps,
    jacobian_from_coloured_vjps,
    seed_matrix,
)
from autodiff_kit.testing import numerical_jacobian

# --- products counted where they happen ----------------------------------------------------

PASSES: Counter = Counter()


@primitive
def counted(x):
    """The identity, whose rules count the JVPs and VJPs that pass through it in ``PASSES``."""
    return x


def _one_more(kind, value):
    PASSES[kind] += 1
    return value


defvjp(counted, lambda g, ans, x: _one_more("vjp", g))
defjvp(counted, lambda t, ans, x: _one_more("jvp", t))


@pytest.fixture
def passes():
    PASSES.clear()
    return PASSES


# --- patterns and functions that respect them ------------------------------------------------

shapes = st.tuples(st.integers(1, 8), st.integers(1, 8))


@st.composite
def patterns_of_any_density(draw):
    """An ``(m, n)`` pattern whose entries are True with a drawn probability, from sparse to dense."""
    m, n = draw(shapes)
    density = draw(st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0]))
    return np.random.default_rng(draw(seeds)).random((m, n)) < density


patterns = shapes.flatmap(lambda shape: hnp.arrays(bool, shape)) | patterns_of_any_density()


def respecting(pattern: np.ndarray, seed: int):
    """A smooth ``f`` whose Jacobian is nonzero exactly on ``pattern`` (at a generic point).

    $f(x) = (A \\circ P) \\tanh x + ((B \\circ P) x)^2 + c \\circ x_{:k} \\sin x_{:k}$, the last term
    elementwise on the diagonal entries of $P$ ($k = \\min(m, n)$), padded with zeros to $m$.
    """
    rng = np.random.default_rng(seed)
    m, n = pattern.shape
    k = min(m, n)
    A, B = rng.standard_normal((2, m, n)) * pattern
    c = rng.uniform(0.5, 1.5, k) * pattern.diagonal()

    def f(x):
        elementwise = c * x[:k] * anp.sin(x[:k])
        return A @ anp.tanh(x) + (B @ x) ** 2 + anp.concatenate([elementwise, np.zeros(m - k)])

    return f, rng.uniform(-1.5, 1.5, n)


def diffusion(x):
    """$f_i = x_{i-1} - 2x_i + x_{i+1} + \\sin x_i$ (zero outside), tridiagonal; counted."""
    padded = anp.concatenate([np.zeros(1), counted(x), np.zeros(1)])
    return padded[:-2] - 2.0 * x + padded[2:] + anp.sin(x)


def diffusion_jacobian(x):
    n = len(x)
    return np.diag(np.cos(x) - 2.0) + np.eye(n, k=1) + np.eye(n, k=-1)


def assert_valid(pattern, colours, lines: str):
    """No line of ``pattern`` (a row for column colours) meets one colour twice; colours 0..χ-1."""
    members = pattern if lines == "rows" else pattern.T
    one_hot = colours[:, None] == np.arange(colours.max() + 1)
    assert (members.astype(int) @ one_hot <= 1).all(), f"two of one colour share a {lines[:-1]}"
    assert set(colours) == set(range(colours.max() + 1))


# --- the colourings -----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(patterns)
def test_greedy_colourings_are_valid_and_within_their_bounds(pattern):
    for colours, members, lines in ((colour_columns(pattern), pattern, "rows"),
                                    (colour_rows(pattern), pattern.T, "columns")):
        assert colours.shape == (members.shape[1],)
        assert_valid(pattern, colours, lines)
        chi = colours.max() + 1
        conflicts = (members.T.astype(int) @ members.astype(int) > 0) & ~np.eye(members.shape[1], dtype=bool)
        assert max(members.sum(axis=1).max(), 1) <= chi <= conflicts.sum(axis=1).max() + 1


@pytest.mark.parametrize("n", [3, 4, 10, 100, 1000])
def test_a_tridiagonal_pattern_needs_three_colours_whatever_n(n):
    colours = colour_columns(band_pattern(n, 1))
    np.testing.assert_array_equal(colours, np.arange(n) % 3)
    np.testing.assert_array_equal(colour_rows(band_pattern(n, 1)), colours)


@pytest.mark.parametrize(("n", "half_width"), [(1, 0), (9, 0), (9, 2), (30, 4), (5, 4), (3, 7)])
def test_a_band_needs_as_many_colours_as_its_widest_row(n, half_width):
    colours = colour_columns(band_pattern(n, half_width))
    assert colours.max() + 1 == min(2 * half_width + 1, n)


def test_a_dense_row_favours_reverse_mode_and_a_dense_column_forward_mode():
    n = 8
    dense_row = np.eye(n, dtype=bool)
    dense_row[-1] = True
    assert colour_columns(dense_row).max() + 1 == n  # every two columns share the last row
    assert colour_rows(dense_row).max() + 1 == 2
    assert colour_columns(dense_row.T).max() + 1 == 2
    assert colour_rows(dense_row.T).max() + 1 == n
    arrowhead = dense_row | dense_row.T  # defeats both: documented, no bi-colouring here
    assert colour_columns(arrowhead).max() + 1 == colour_rows(arrowhead).max() + 1 == n


def test_an_empty_column_costs_nothing_and_an_empty_pattern_one_product():
    pattern = np.array([[1, 0, 1], [1, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(colour_columns(pattern), [0, 0, 1])
    assert colour_columns(np.zeros((3, 4), bool)).max() == 0


def test_seed_matrix_sums_the_basis_vectors_of_each_colour():
    np.testing.assert_array_equal(seed_matrix([0, 1, 2, 0, 1, 2]),
                                  np.tile(np.eye(3), (2, 1)))


# --- coloured Jacobians equal dense ones -----------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(patterns, seeds)
def test_coloured_jacobians_equal_dense_ones_and_finite_differences(pattern, seed):
    f, x = respecting(pattern, seed)
    dense = jacfwd(f)(x)
    assert (dense[~pattern] == 0).all()
    np.testing.assert_allclose(dense, jacrev(f)(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dense, numerical_jacobian(f, x), rtol=1e-6, atol=1e-8)
    for jacobian in (jacfwd, jacrev):
        coloured = jacobian(f, sparsity=pattern)(x)
        assert coloured.shape == pattern.shape and coloured.dtype == dense.dtype
        np.testing.assert_allclose(coloured, dense, rtol=1e-12, atol=1e-14)


@settings(max_examples=60, deadline=None)
@given(patterns, seeds)
def test_the_products_are_exactly_one_per_colour(pattern, seed):
    f, x = respecting(pattern, seed)
    jvp_fn = CountingFunction(lambda v: jvp(f, (x,), (v,))[1])
    J = jacobian_from_coloured_jvps(jvp_fn, pattern)
    assert jvp_fn.calls == colour_columns(pattern).max() + 1
    _, pullback = vjp(f, x)
    vjp_fn = CountingFunction(lambda u: pullback(u)[0])
    np.testing.assert_allclose(jacobian_from_coloured_vjps(vjp_fn, pattern), J, rtol=1e-12, atol=1e-14)
    assert vjp_fn.calls == colour_rows(pattern).max() + 1


@pytest.mark.parametrize("n", [3, 10, 1000])
def test_a_tridiagonal_jacobian_from_three_jvps_or_three_vjps(n, passes):
    x = np.random.default_rng(n).uniform(-2, 2, n)
    expected = diffusion_jacobian(x)
    np.testing.assert_allclose(jacfwd(diffusion, sparsity=band_pattern(n, 1))(x), expected, rtol=1e-15)
    assert passes == {"jvp": 3}
    passes.clear()
    np.testing.assert_allclose(jacrev(diffusion, sparsity=band_pattern(n, 1))(x), expected, rtol=1e-15)
    assert passes == {"vjp": 3}
    passes.clear()
    first = min(n, 10)
    np.testing.assert_allclose(jacfwd(diffusion)(x[:first]), expected[:first, :first], rtol=1e-15)
    assert passes == {"jvp": first}  # dense: one per column


@pytest.mark.parametrize("shape", ["diagonal", "dense row", "dense column", "arrowhead", "band 2"])
def test_structured_patterns_give_the_dense_jacobian(shape, passes):
    n = 9
    pattern = {"diagonal": np.eye(n, dtype=bool), "dense row": np.eye(n, dtype=bool) | (np.arange(n) == 0),
               "dense column": np.eye(n, dtype=bool) | (np.arange(n) == 0)[:, None],
               "arrowhead": np.eye(n, dtype=bool) | (np.arange(n) == 0) | (np.arange(n) == 0)[:, None],
               "band 2": band_pattern(n, 2)}[shape]
    f, x = respecting(pattern, seed=3)
    g = lambda x: f(counted(x))
    dense = jacfwd(f)(x)
    for jacobian, kind, colouring in ((jacfwd, "jvp", colour_columns), (jacrev, "vjp", colour_rows)):
        passes.clear()
        np.testing.assert_allclose(jacobian(g, sparsity=pattern)(x), dense, rtol=1e-12, atol=1e-14)
        assert passes == {kind: colouring(pattern).max() + 1}


def test_the_decompressions_invert_the_compressions():
    rng = np.random.default_rng(0)
    pattern = rng.random((6, 8)) < 0.3
    J = rng.standard_normal((6, 8)) * pattern
    columns, rows = colour_columns(pattern), colour_rows(pattern)
    np.testing.assert_array_equal(decompress_columns(J @ seed_matrix(columns), pattern, columns), J)
    np.testing.assert_array_equal(decompress_rows(seed_matrix(rows).T @ J, pattern, rows), J)


def test_colours_given_once_serve_many_jacobians():
    pattern = band_pattern(5, 1)
    colours = colour_columns(pattern)
    for scale in (1.0, 2.0):
        J = scale * pattern
        np.testing.assert_array_equal(jacobian_from_coloured_jvps(lambda v, J=J: J @ v, pattern, colours), J)
        np.testing.assert_array_equal(jacobian_from_coloured_vjps(lambda u, J=J: u @ J, pattern, colours), J)


def test_coloured_jacobians_nest_like_dense_ones():
    x = np.random.default_rng(1).uniform(-1, 1, 6)
    tridiagonal = band_pattern(6, 1)
    f = lambda x: diffusion(x) * x
    np.testing.assert_allclose(jacfwd(jacfwd(f, sparsity=tridiagonal))(x), jacfwd(jacfwd(f))(x), atol=1e-14)
    np.testing.assert_allclose(jacrev(jacrev(f, sparsity=tridiagonal))(x), jacrev(jacrev(f))(x), atol=1e-14)
    # a sparse Hessian: the gradient of a chain-coupled loss has a tridiagonal Jacobian
    loss = lambda x: anp.sum((x[1:] - x[:-1] ** 2) ** 2) + anp.sum(anp.sin(x))
    np.testing.assert_allclose(jacfwd(grad(loss), sparsity=tridiagonal)(x), hessian(loss)(x), atol=1e-12)


def test_a_pattern_edited_after_jacfwd_changes_nothing():
    pattern = np.eye(4, dtype=bool)
    jacobian = jacfwd(anp.sin, sparsity=pattern)
    pattern[:] = True
    x = np.linspace(0, 1, 4)
    np.testing.assert_array_equal(jacobian(x), np.diag(np.cos(x)))


def test_a_pattern_may_be_numbers_lists_or_have_toarray():
    class SparseMatrix:  # what as_pattern asks of a scipy.sparse matrix
        def toarray(self):
            return np.array([[0.0, 2.0], [3.0, 0.0]])

    expected = np.array([[False, True], [True, False]])
    for pattern in (SparseMatrix(), [[0, 1], [1, 0]], expected.astype(float), expected):
        np.testing.assert_array_equal(as_pattern(pattern), expected)
    swap = lambda x: x[::-1] * 2.0
    np.testing.assert_array_equal(jacfwd(swap, sparsity=SparseMatrix())(np.ones(2)), 2.0 * expected)


# --- a wrong pattern --------------------------------------------------------------------------------


def test_a_wrong_pattern_gives_a_wrong_jacobian_unless_checked(passes):
    x = np.random.default_rng(2).uniform(-1, 1, 6)
    too_narrow = np.eye(6, dtype=bool)  # diffusion is tridiagonal
    for jacobian, kind in ((jacfwd, "jvp"), (jacrev, "vjp")):
        assert not np.allclose(jacobian(diffusion, sparsity=too_narrow)(x), diffusion_jacobian(x))
        with pytest.raises(ValueError, match=r"not zero outside the sparsity pattern.*\[0, 1, 2, 3, 4, 5\]"
                                             r".*add the missing entries"):
            jacobian(diffusion, sparsity=too_narrow, check_sparsity=True)(x)
        passes.clear()
        right = jacobian(diffusion, sparsity=band_pattern(6, 1), check_sparsity=True)(x)
        np.testing.assert_allclose(right, diffusion_jacobian(x), rtol=1e-15)
        assert passes == {kind: 3 + 1}  # the check is one more product


def test_the_check_names_only_the_lines_that_are_wrong():
    J = np.diag([1.0, 2.0, 3.0])
    J[2, 0] = 5.0  # outside the diagonal pattern, in row 2 and column 0
    with pytest.raises(ValueError, match=r"rows \[2\] of J v"):
        jacobian_from_coloured_jvps(lambda v: J @ v, np.eye(3), check=True)
    with pytest.raises(ValueError, match=r"columns \[0\] of u\^T J"):
        jacobian_from_coloured_vjps(lambda u: u @ J, np.eye(3), check=True)


# --- misuse ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "error", "message"), [
    (np.ones(3), ValueError, r"2-D \(m, n\) array .* shape \(3,\)"),
    (np.ones((2, 2, 2)), ValueError, r"shape \(2, 2, 2\)"),
    (np.ones((0, 3)), ValueError, "at least one row and column"),
    ([["a", "b"]], TypeError, "booleans .* not <U1"),
    (np.array([[None]]), TypeError, "not object"),
])
def test_a_malformed_pattern_is_refused_at_once(pattern, error, message):
    for jacobian in (jacfwd, jacrev):
        with pytest.raises(error, match=message):
            jacobian(anp.sin, sparsity=pattern)


@pytest.mark.parametrize("jacobian", [jacfwd, jacrev])
def test_a_pattern_of_the_wrong_shape_says_which_shape(jacobian):
    x = np.ones(4)
    with pytest.raises(ValueError, match=r"shape \(4, 3\), but f has 4 inputs: the pattern must have 4 col"):
        jacobian(anp.sin, sparsity=np.ones((4, 3)))(x)
    with pytest.raises(ValueError, match=r"shape \(3, 4\), but f maps 4 inputs to 4 outputs: .* shape "
                                         r"\(4, 4\), one row per output entry and one column per input"):
        jacobian(anp.sin, sparsity=np.ones((3, 4)))(x)


@pytest.mark.parametrize(("f", "args", "argnums", "what"), [
    (lambda p: p[0] * p[1], ((np.ones(2), np.ones(2)),), 0, "argument 0 is a tuple"),
    (lambda x: x, (np.ones((2, 2)),), 0, r"argument 0 is an array of shape \(2, 2\)"),
    (lambda x: x, (1.0,), 0, r"argument 0 is an array of shape \(\)"),
    (lambda x, y: x * y, (np.ones(2), np.ones(2)), (0, 1), r"argnums is \(0, 1\)"),
    (lambda x: anp.reshape(x, (2, 2)), (np.ones(4),), 0, r"f returned an array of shape \(2, 2\)"),
    (lambda x: anp.sum(x), (np.ones(4),), 0, r"f returned an array of shape \(\)"),
    (lambda x: (x, x), (np.ones(4),), 0, "f returned a tuple"),
])
def test_only_a_vector_to_vector_function_with_the_way_to_flatten_the_rest(f, args, argnums, what):
    for jacobian in (jacfwd, jacrev):
        with pytest.raises(TypeError, match=f"one 1-D array to one 1-D array, but {what}.*vspace.ravel"):
            jacobian(f, argnums, sparsity=np.ones((4, 4)))(*args)


def test_an_invalid_colouring_or_product_is_refused():
    pattern = band_pattern(4, 1)
    with pytest.raises(ValueError, match=r"2 columns of colour 0 share row 1.*colour_columns"):
        jacobian_from_coloured_jvps(lambda v: v, pattern, np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match=r"2 rows of colour 1 share column 2.*colour_rows"):
        jacobian_from_coloured_vjps(lambda u: u, pattern, np.array([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="colours must be 4 non-negative integers"):
        jacobian_from_coloured_jvps(lambda v: v, pattern, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"jvp_fn returned an array of shape \(3,\), but the sparsity "
                                         r"pattern has shape \(4, 4\): jvp_fn must return J @ v"):
        jacobian_from_coloured_jvps(lambda v: v[:3], pattern)
