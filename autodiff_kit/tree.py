"""Pytrees: nested tuples, lists and dicts of arrays, such as a network's parameters.

Transformations work on a flat list of leaves (the arrays) and rebuild the structure at
the end, so ``grad`` of a loss of ``{"W": W, "b": b}`` is ``{"W": gW, "b": gb}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple


class TreeDef(NamedTuple):
    """The shape of a pytree without its leaves: a node's type, its keys, its children."""

    kind: type | None  # None marks a leaf
    keys: tuple = ()
    children: tuple = ()

    @property
    def num_leaves(self) -> int:
        return 1 if self.kind is None else sum(c.num_leaves for c in self.children)


_LEAF = TreeDef(None)


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """The leaves of ``tree`` in a fixed order, and the structure to rebuild it."""
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
    """The tree of structure ``treedef`` holding ``leaves`` (the inverse of ``tree_flatten``)."""
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
    """``fn`` applied leaf by leaf to ``tree`` and trees of the same structure."""
    leaves, treedef = tree_flatten(tree)
    other_leaves = []
    for other in others:
        these, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(f"pytree structures differ: {treedef} and {other_def}")
        other_leaves.append(these)
    return tree_unflatten(treedef, [fn(*xs) for xs in zip(leaves, *other_leaves, strict=True)])
