"""Bracketings of a Jacobian chain: the formula written out, the largest block it forms,
and a drawing of the tree.

The trees are ``chain``'s (``chain.Tree``), walked with ``chain``'s own helpers, without
recursion.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from autodiff_kit import chain


def _postorder(tree: chain.Tree) -> list[chain.Tree]:
    """Every node of ``tree``, children before parents, left before right (``chain._fold``'s order).

    Nodes are told apart by ``id``: each factor appears once in a bracketing, so every
    node is a distinct object (hashing a nested tuple would walk all of it, every time).
    """
    order: list[chain.Tree] = []

    def visit(node: chain.Tree, *_: object) -> None:
        order.append(node)

    chain._fold(tree, chain._tree_children, visit, visit)
    return order


_children = chain._tree_children


def formula(tree: chain.Tree) -> str:
    """A bracketing written out, ``jacobians[k]`` as $J_{k+1}$: ``'(J4 (J3 J2)) J1'``.

    Products of two or more factors are parenthesised, except the whole one.

    >>> formula(chain.forward_tree(3)), formula(chain.reverse_tree(3))
    ('J3 (J2 J1)', '(J3 J2) J1')
    """
    parts: list[str] = []
    stack: list[chain.Tree | str] = [tree]  # nodes still to write, and text between them
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif (below := _children(item)) is None:
            parts.append(f"J{item + 1}")
        else:
            left, right = (["(", c, ")"] if _children(c) else [c] for c in below)
            stack += reversed([*left, " ", *right])
    return "".join(parts)


def _shapes(dims: Sequence[int], tree: chain.Tree) -> dict[int, tuple[int, int]]:
    """The shape of every node's product, by ``id(node)``: the leaf ``k`` is
    $(m_{k+1}, m_k)$, and a pair is its left part's rows by its right part's columns."""
    shape: dict[int, tuple[int, int]] = {}  # by id(node)
    for node in _postorder(tree):
        below = _children(node)
        if below is None:
            shape[id(node)] = (dims[node + 1], dims[node])
        else:
            shape[id(node)] = (shape[id(below[0])][0], shape[id(below[1])][1])
    return shape


def largest_product(dims: Sequence[int], tree: chain.Tree) -> int:
    """The entries of the largest matrix that a product in ``tree`` forms: $\\max ac$ over
    the pairs that multiply an $(a, b)$ by a $(b, c)$ matrix; 0 for a single factor.

    Forward mode forms $(m_k, n)$ blocks, reverse mode $(m_L, m_k)$ blocks: the memory of
    accumulating the whole Jacobian, as stored activations are that of one sweep.

    >>> dims = [2, 3, 4, 1]
    >>> largest_product(dims, chain.forward_tree(3)), largest_product(dims, chain.reverse_tree(3))
    (8, 3)
    """
    shape = _shapes(dims, tree)
    return max((shape[id(node)][0] * shape[id(node)][1] for node in _postorder(tree) if _children(node)),
               default=0)



def _compact(count: int) -> str:
    """A count short enough for a box of the drawing: exact below 10,000, else 3 digits.

    >>> _compact(9999), _compact(12345), _compact(1928640), _compact(999_999_999), _compact(3 * 10**10)
    ('9,999', '12.3k', '1.93M', '1G', '30G')
    """
    if count < 10_000:
        return f"{count:,}"
    for size, suffix in ((10**9, "G"), (10**6, "M")):
        shown = float(f"{count / size:.3g}")  # rounded first, so that 999,999 is 1M, not 1000k
        if shown >= 1:
            return f"{shown:g}{suffix}"
    return f"{float(f'{count / 10**3:.3g}'):g}k"



_LEAF_WIDTH, _LEVEL_HEIGHT, _NODE_HEIGHT, _MARGIN = 84, 52, 34, 6


def bracketing_svg(dims: Sequence[int], tree: chain.Tree) -> str:
    """A bracketing as a tree: the factors $J_L, \\dots, J_1$ along the bottom (in the order
    they are written), each product above its two parts, labelled with its shape and its
    cost $abc$. One ``<g class="adk-factor">`` per factor and ``adk-product`` per product.

    >>> svg = bracketing_svg([100, 1, 100, 1, 100], ((3, (2, 1)), 0))
    >>> svg.count('class="adk-factor"'), svg.count('class="adk-product"')
    (4, 3)
    """
    dims = [int(d) for d in dims]
    length = len(dims) - 1
    shape = _shapes(dims, tree)
    column: dict[int, float] = {}  # by id(node), as the shapes
    level: dict[int, int] = {}
    for node in _postorder(tree):
        below = _children(node)
        if below is None:
            column[id(node)], level[id(node)] = length - 1 - node, 0  # J_L leftmost, as written
        else:
            column[id(node)] = (column[id(below[0])] + column[id(below[1])]) / 2
            level[id(node)] = 1 + max(level[id(below[0])], level[id(below[1])])
    top = level[id(tree)]
    width = length * _LEAF_WIDTH + 2 * _MARGIN
    height = (top + 1) * _LEVEL_HEIGHT + 2 * _MARGIN

    def centre(node: chain.Tree) -> tuple[float, float]:
        return (_MARGIN + (column[id(node)] + 0.5) * _LEAF_WIDTH,
                _MARGIN + (top - level[id(node)]) * _LEVEL_HEIGHT + _NODE_HEIGHT / 2)

    edges, boxes = [], []
    for node in _postorder(tree):
        x, y = centre(node)
        rows, cols = shape[id(node)]
        below = _children(node)
        if below is None:
            kind, title, note, fill = "adk-factor", f"J{node + 1}", f"{rows}×{cols}", "#e3eefc"
        else:
            inner = shape[id(below[0])][1]
            kind, title, fill = "adk-product", f"{rows}×{cols}", "#fff1cc"
            note = f"{_compact(rows * inner * cols)} flops"
            for child in below:
                cx, cy = centre(child)
                edges.append(f'<line x1="{x}" y1="{y + _NODE_HEIGHT / 2}" x2="{cx}" '
                             f'y2="{cy - _NODE_HEIGHT / 2}" stroke="#8a8a8a"/>')
        half = _LEAF_WIDTH / 2 - 4
        boxes.append(
            f'<g class="{kind}"><rect x="{x - half}" y="{y - _NODE_HEIGHT / 2}" width="{2 * half}" '
            f'height="{_NODE_HEIGHT}" rx="4" fill="{fill}" stroke="#777777"/>'
            f'<text x="{x}" y="{y - 3}" text-anchor="middle" font-weight="bold">{escape(title)}</text>'
            f'<text x="{x}" y="{y + 11}" text-anchor="middle" fill="#555555">{escape(note)}</text></g>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Menlo, Consolas, monospace" font-size="10">'
            f"<title>{escape(formula(tree))}</title>{''.join(edges)}{''.join(boxes)}</svg>")
