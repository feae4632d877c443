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
    """$N$: the number of entries in the tree."""
    return sum(int(np.prod(shape_of(leaf))) for leaf in tree_flatten(tree)[0])


def zeros_like(tree: Any) -> Any:
    """The zero vector, as a tree of plain arrays."""
    return tree_map(lambda x: np.zeros(shape_of(x), dtype_of(x)), tree)


def random_like(tree: Any, rng: np.random.Generator) -> Any:
    """A standard normal direction, as a tree of plain arrays."""
    return tree_map(lambda x: rng.standard_normal(shape_of(x)).astype(dtype_of(x)), tree)


def standard_basis(n: int, dtype=np.float64) -> Iterator[np.ndarray]:
    """$e_0, \\dots, e_{n-1}$, the one-hot vectors of $\\mathbb{R}^n$."""
    for i in range(n):
        e = np.zeros(n, dtype)
        e[i] = 1.0
        yield e


def inner(a: Any, b: Any) -> Any:
    """$\\langle a, b \\rangle = \\sum$ over all entries of $a \\odot b$ (traceable)."""
    terms = tree_flatten(tree_map(lambda x, y: anp.sum(x * y), a, b))[0]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total
