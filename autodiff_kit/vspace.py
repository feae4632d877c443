"""The vector space a pytree of arrays lives in: what ``jacfwd``, ``jacrev`` and the checks share.

A pytree of float arrays is a vector of $\\mathbb{R}^N$, $N$ the total number of entries.
This module names the few things done with such vectors: flatten (``ravel``), the zero
vector, a random direction, the standard basis, and the inner product.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autodiff_kit import numpy as anp
from autodiff_kit.numpy.broadcasting import dtype_of, shape_of
from autodiff_kit.tree import tree_flatten, tree_map, tree_unflatten


def ravel(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """The entries of ``tree`` as one vector, and the function that rebuilds a tree from one.

    Both directions are traceable, so a flattened function can still be differentiated.

    >>> flat, unravel = ravel({"W": np.ones((2, 2)), "b": np.zeros(2)})
    >>> flat.shape, unravel(np.arange(6.0))["b"]
    ((6,), array([4., 5.]))
    """
    leaves, treedef = tree_flatten(tree)
    shapes = [shape_of(leaf) for leaf in leaves]
    sizes = [int(np.prod(s)) for s in shapes]
    offsets = np.cumsum([0, *sizes])
    if len(leaves) == 1:
        flat = anp.reshape(leaves[0], (-1,))
    else:
        flat = anp.concatenate([anp.reshape(leaf, (-1,)) for leaf in leaves])

    def unravel(vector):
        pieces = [anp.reshape(vector[offsets[i]:offsets[i + 1]], shapes[i])
                  for i in range(len(leaves))]
        return tree_unflatten(treedef, pieces)

    return flat, unravel


def size(tree: Any) -> int:
    """$N$: the number of entries in the tree, the dimension of its space $\\mathbb{R}^N$.

    >>> size({"W": np.ones((2, 3)), "b": np.zeros(3)}), size(1.0)  # 6 + 3; a float is one entry
    (9, 1)
    """
    return sum(int(np.prod(shape_of(leaf))) for leaf in tree_flatten(tree)[0])


def zeros_like(tree: Any) -> Any:
    """The zero vector, as a tree of plain arrays shaped and typed like the leaves of ``tree``.

    >>> zeros_like({"W": np.ones((1, 2)), "b": 1.0})
    {'W': array([[0., 0.]]), 'b': array(0.)}
    """
    return tree_map(lambda x: np.zeros(shape_of(x), dtype_of(x)), tree)


def random_like(tree: Any, rng: np.random.Generator) -> Any:
    """A standard normal direction $v \\sim \\mathcal{N}(0, I_N)$, as a tree of plain arrays.

    Each leaf is drawn from ``rng`` in the order of ``tree_flatten`` and keeps its leaf's
    shape and dtype, so the same generator state gives the same direction.

    >>> v = random_like({"W": np.ones((2, 2)), "b": np.ones(2, np.float32)}, np.random.default_rng(0))
    >>> v["W"].shape, v["b"].dtype
    ((2, 2), dtype('float32'))
    >>> w = random_like({"W": np.ones((2, 2)), "b": np.ones(2, np.float32)}, np.random.default_rng(0))
    >>> bool(np.array_equal(v["W"], w["W"]))
    True
    """
    return tree_map(lambda x: rng.standard_normal(shape_of(x)).astype(dtype_of(x)), tree)


def standard_basis(n: int, dtype=np.float64) -> Iterator[np.ndarray]:
    """$e_0, \\dots, e_{n-1}$, the one-hot vectors of $\\mathbb{R}^n$, one at a time.

    $J e_j$ is column $j$ of a Jacobian and $e_i^\\top J$ row $i$, which is how ``jacfwd`` and
    ``jacrev`` use them.

    >>> list(standard_basis(3))
    [array([1., 0., 0.]), array([0., 1., 0.]), array([0., 0., 1.])]
    """
    for i in range(n):
        e = np.zeros(n, dtype)
        e[i] = 1.0
        yield e


def inner(a: Any, b: Any) -> Any:
    """$\\langle a, b \\rangle = \\sum$ over all entries of $a \\odot b$ (traceable).

    ``a`` and ``b`` are trees of the same structure. Traceable: the gradient of
    $\\langle a, a \\rangle$ is $2a$.

    >>> a = {"W": np.ones((2, 2)), "b": np.array([1.0, 2.0])}
    >>> float(inner(a, {"W": np.eye(2), "b": np.array([3.0, 4.0])}))  # 1 + 1 + 3 + 8
    13.0
    >>> from autodiff_kit import grad
    >>> grad(lambda t: inner(t, t))(a)["b"]
    array([2., 4.])
    """
    terms = tree_flatten(tree_map(lambda x, y: anp.sum(x * y), a, b))[0]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total
