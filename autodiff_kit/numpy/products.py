"""Products that contract axes: ``matmul`` (``@``), ``einsum``, ``dot``, ``outer``.

For $C = AB$ the VJPs are $\\bar A = \\bar C B^\\top$ and $\\bar B = A^\\top \\bar C$: each
cotangent is the output cotangent contracted with the *other* factor. ``einsum`` states
this once for every contraction: the cotangent of an operand is the einsum of the output
cotangent with the other operands, written back to that operand's indices.
"""

from __future__ import annotations

import string

import numpy as np

from autodiff_kit.numpy.arithmetic import _documented, multiply
from autodiff_kit.numpy.broadcasting import broadcast_to, ndim_of, shape_of, sum_to, unbroadcast
from autodiff_kit.numpy.shaping import expand_dims, reshape, swapaxes, transpose
from autodiff_kit.tracing import defjvp, defvjp, primitive, variadic_primitive

matmul = _documented(primitive(np.matmul), """
The matrix product $C = AB$, as ``np.matmul`` (the operator ``@``): vectors and stacks of matrices too.

Each cotangent is the output cotangent times the other factor, transposed:
$\\bar A = \\bar C B^\\top$ and $\\bar B = A^\\top \\bar C$ (summed over broadcast stack axes, with a
vector taken as a row on the left and a column on the right); forward,
$\\dot C = \\dot A B + A \\dot B$.

>>> from autodiff_kit import grad
>>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> grad(lambda x: anp.sum(anp.matmul(A, x)))(np.zeros(2))  # A^T 1: the column sums of A
array([4., 6.])
""")


def _as_matrices(g, a, b):
    """View 1-D operands of ``a @ b`` (and the cotangent ``g``) as matrices.

    NumPy treats a vector on the left as a row and on the right as a column; inserting
    those axes lets one formula, $\\bar A = \\bar C B^\\top$, serve every rank.
    """
    if ndim_of(b) == 1:  # first, so that g has the column axis before a's row axis goes in
        b, g = expand_dims(b, -1), expand_dims(g, -1)
    if ndim_of(a) == 1:
        a, g = expand_dims(a, 0), expand_dims(g, -2)
    return g, a, b


def _matmul_vjp_a(g, ans, a, b):
    if ndim_of(a) == ndim_of(b) == 2:  # the common case, with nothing to insert or sum
        return matmul(g, transpose(b))
    g, a2, b2 = _as_matrices(g, a, b)
    return _reshaped(unbroadcast(matmul(g, swapaxes(b2, -1, -2)), shape_of(a2)), shape_of(a))


def _matmul_vjp_b(g, ans, a, b):
    if ndim_of(a) == ndim_of(b) == 2:
        return matmul(transpose(a), g)
    g, a2, b2 = _as_matrices(g, a, b)
    return _reshaped(unbroadcast(matmul(swapaxes(a2, -1, -2), g), shape_of(b2)), shape_of(b))


def _reshaped(x, shape):
    return x if shape_of(x) == shape else reshape(x, shape)


defvjp(matmul, _matmul_vjp_a, _matmul_vjp_b)
defjvp(matmul, lambda t, ans, a, b: matmul(t, b), lambda t, ans, a, b: matmul(a, t))


def _parse_subscripts(subscripts: str, shapes) -> tuple[list[str], str]:
    """Explicit one-letter-per-axis subscripts for every operand and the output.

    ``...`` is spelled out with unused letters (right-aligned, as NumPy broadcasts it) and
    an implicit output (no ``->``) becomes NumPy's: the broadcast axes, then the letters
    used once, in alphabetical order.
    """
    inputs, _, output = subscripts.replace(" ", "").partition("->")
    operands = inputs.split(",")
    unused = [c for c in string.ascii_letters if c not in subscripts]
    width = max((len(s) - len(sub.replace("...", "")) for s, sub in
                 zip(shapes, operands, strict=True) if "..." in sub), default=0)
    broadcast = "".join(unused[:width])

    def spell(sub: str, ndim: int) -> str:
        return sub.replace("...", broadcast[width - (ndim - len(sub) + 3):]) if "..." in sub else sub

    operands = [spell(sub, len(s)) for sub, s in zip(operands, shapes, strict=True)]
    if "->" in subscripts:
        output = output.replace("...", broadcast)
    else:
        letters = "".join(operands)
        output = broadcast + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                            and c not in broadcast))
    return operands, output


@variadic_primitive
def einsum(subscripts, *operands):
    """Einstein summation, as ``np.einsum``, with the subscripts first and then the ``operands``.

    The cotangent of an operand is the einsum of the output cotangent with the other
    operands, written back to that operand's indices: for ``"ij,jk->ik"`` (a matrix product)
    $\\bar A_{ij} = \\sum_k \\bar C_{ik} B_{jk}$. An index repeated within one operand (a
    diagonal, ``"ii->i"``) has no derivative here. Forward, each operand's tangent takes its
    place in the same einsum.

    >>> anp.einsum("ij,j->i", np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    >>> from autodiff_kit import grad
    >>> grad(lambda A: anp.einsum("ij,ij->", A, A))(np.eye(2))  # sum of squares: 2A
    array([[2., 0.],
           [0., 2.]])
    """
    return np.einsum(subscripts, *operands)


def _einsum_vjp(argnum, g, ans, subscripts, *operands):
    """$\\bar X_k$ = einsum of $\\bar Y$ with the other operands, onto $X_k$'s indices."""
    k = argnum - 1
    subs, out = _parse_subscripts(subscripts, [shape_of(x) for x in operands])
    mine = subs[k]
    if len(set(mine)) != len(mine):
        raise NotImplementedError(
            f"einsum '{subscripts}' repeats an index within operand {k} (a diagonal); its "
            "derivative is not supported. Take the diagonal with indexing first."
        )
    others = [s for i, s in enumerate(subs) if i != k]
    reachable = set(out).union(*others)
    kept = "".join(c for c in mine if c in reachable)
    others_ops = [x for i, x in enumerate(operands) if i != k]
    cotangent = einsum(",".join([out, *others]) + "->" + kept, g, *others_ops)
    shape = shape_of(operands[k])
    if kept != mine:  # indices summed inside this operand alone: every entry got the sum
        cotangent = reshape(cotangent, tuple(
            shape_of(cotangent)[kept.index(c)] if c in kept else 1 for c in mine))
    full = np.broadcast_shapes(shape_of(cotangent), shape)  # length-1 axes broadcast either way
    if shape_of(cotangent) != full:
        cotangent = broadcast_to(cotangent, full)
    return sum_to(cotangent, shape) if shape_of(cotangent) != shape else cotangent


def _einsum_jvp(argnum, t, ans, subscripts, *operands):
    return einsum(subscripts, *(t if i == argnum - 1 else x for i, x in enumerate(operands)))


defvjp(einsum, _einsum_vjp)
defjvp(einsum, _einsum_jvp)


def dot(a, b):
    """The dot product, as ``np.dot``: a product for scalars, ``matmul`` up to matrices, else a contraction.

    For ``b`` with more than two axes, ``dot`` sums the last axis of ``a`` against the
    second-to-last of ``b``. It is written with ``multiply``, ``matmul`` and ``einsum``, whose
    rules give its derivative: for vectors, $c = a \\cdot b$ has $\\bar a = \\bar c \\, b$ and
    $\\bar b = \\bar c \\, a$.

    >>> from autodiff_kit import grad
    >>> grad(lambda a: anp.dot(a, np.array([1.0, 2.0])))(np.zeros(2))
    array([1., 2.])
    """
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    if ndim_of(b) <= 2:
        return matmul(a, b)
    letters = iter(string.ascii_letters)
    sa = "".join(next(letters) for _ in range(ndim_of(a)))
    sb = "".join(next(letters) for _ in range(ndim_of(b)))
    sb = sb[:-2] + sa[-1] + sb[-1]
    return einsum(f"{sa},{sb}->{sa[:-1]}{sb[:-2]}{sb[-1]}", a, b)


def outer(a, b):
    """The outer product $C = a b^\\top$, as ``np.outer`` (inputs are flattened first).

    $C_{ij} = a_i b_j$, so $\\bar a_i = \\sum_j \\bar C_{ij} b_j$ and $\\bar b_j = \\sum_i \\bar C_{ij} a_i$:
    $\\bar a = \\bar C b$ and $\\bar b = \\bar C^\\top a$.

    >>> from autodiff_kit import grad
    >>> grad(lambda a: anp.sum(anp.outer(a, np.array([1.0, 2.0, 3.0]))))(np.zeros(2))  # 1 + 2 + 3
    array([6., 6.])
    """
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))

