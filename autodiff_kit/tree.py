"""Pytrees: nested tuples, lists and dicts of arrays, such as a network's parameters.

Transformations work on a flat list of leaves (the arrays) and rebuild the structure at
the end, so ``grad`` of a loss of ``{"W": W, "b": b}`` is ``{"W": gW, "b": gb}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple


class TreeDef(NamedTuple):
    """The shape of a pytree without its leaves: a node's type, its keys, its children.

    Returned by ``tree_flatten``, and taken by ``tree_unflatten``. ``kind`` is the node's type
    (``None`` for a leaf), ``keys`` a dict's keys in order, ``children`` one ``TreeDef`` each.
    Two trees with equal ``TreeDef`` differ only in their leaves.

    >>> treedef = tree_flatten({"W": 1.0, "b": (2.0, 3.0)})[1]
    >>> treedef.kind, treedef.keys, [child.kind for child in treedef.children]
    (<class 'dict'>, ('W', 'b'), [None, <class 'tuple'>])
    >>> treedef == tree_flatten({"W": 0.0, "b": (0.0, 0.0)})[1]
    True
    """

    kind: type | None  # None marks a leaf
    keys: tuple = ()
    children: tuple = ()

    @property
    def num_leaves(self) -> int:
        """The number of leaves: 1 for a leaf, the sum over the children for a node.

        >>> tree_flatten({"W": 1.0, "b": (2.0, [3.0, 4.0])})[1].num_leaves
        4
        """
        return 1 if self.kind is None else sum(c.num_leaves for c in self.children)


_LEAF = TreeDef(None)


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """The leaves of ``tree`` in a fixed order, and the structure to rebuild it: ``(leaves, treedef)``.

    Tuples, lists and dicts are nodes (a dict's children in the order of its keys); anything
    else, an array or a number, is a leaf. The leaves come depth first, left to right.

    >>> import numpy as np
    >>> leaves, treedef = tree_flatten({"W": np.eye(2), "b": (1.0, [2.0, 3.0])})
    >>> len(leaves), leaves[1:], treedef.num_leaves
    (4, [1.0, 2.0, 3.0], 4)
    """
    leaves: list = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(node: Any, leaves: list) -> TreeDef:
    # Module-level recursion: a nested function calling itself would be a reference
    # cycle (function -> closure cell -> function) that keeps every leaf alive.
    if not isinstance(node, (tuple, list, dict)):
        leaves.append(node)
        return _LEAF
    keys = tuple(node) if isinstance(node, dict) else ()
    children = [node[k] for k in keys] if keys else node
    return TreeDef(type(node), keys, tuple([_flatten_into(child, leaves) for child in children]))


def tree_unflatten(treedef: TreeDef, leaves: list) -> Any:
    """The tree of structure ``treedef`` holding ``leaves`` (the inverse of ``tree_flatten``).

    >>> leaves, treedef = tree_flatten({"W": 1.0, "b": (2.0, [3.0, 4.0])})
    >>> tree_unflatten(treedef, [10.0 * leaf for leaf in leaves])
    {'W': 10.0, 'b': (20.0, [30.0, 40.0])}
    """
    return _build(treedef, iter(leaves))


def _build(node: TreeDef, remaining: Iterator) -> Any:
    kind = node.kind
    if kind is None:
        return next(remaining)
    children = [_build(child, remaining) for child in node.children]
    if kind is tuple or kind is list:
        return kind(children)
    if issubclass(kind, dict):
        return kind(zip(node.keys, children, strict=True))
    if hasattr(kind, "_fields"):  # a namedtuple
        return kind(*children)
    return kind(children)


def tree_map(fn: Callable, tree: Any, *others: Any) -> Any:
    """``fn`` applied leaf by leaf to ``tree`` and trees of the same structure.

    The result has the structure of ``tree``; leaf $i$ is ``fn`` of leaf $i$ of every tree
    given, so ``others`` must have the structure of ``tree`` exactly (a list is not a tuple).
    A gradient-descent step on a dict of parameters:

    >>> import numpy as np
    >>> params, grads = {"W": np.array([1.0, 2.0]), "b": 0.5}, {"W": np.array([10.0, 0.0]), "b": -5.0}
    >>> tree_map(lambda p, g: p - 0.1 * g, params, grads)
    {'W': array([0., 2.]), 'b': 1.0}
    """
    leaves, treedef = tree_flatten(tree)
    other_leaves = []
    for other in others:
        these, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(f"pytree structures differ: {treedef} and {other_def}")
        other_leaves.append(these)
    return tree_unflatten(treedef, [fn(*xs) for xs in zip(leaves, *other_leaves, strict=True)])
