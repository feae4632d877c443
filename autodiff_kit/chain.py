"""Jacobian products in forward, reverse, mixed and optimal order, and their cost.

A network of $L$ layers, $x \\mapsto f_L(\\cdots f_2(f_1(x)))$, has by the chain rule the
Jacobian

$$J = J_L J_{L-1} \\cdots J_1,$$

$J_k$ the Jacobian of layer $k$ at its input. Matrix products are associative, so every
bracketing of this product is the same $J$, but not the same work: an $(a, b)$ matrix times
a $(b, c)$ one costs $abc$ scalar multiplications.

- Forward mode brackets from the input side, $J_L(\\cdots(J_3(J_2 J_1)))$: every
  intermediate product has $n$ columns, one per input.
- Reverse mode brackets from the output side, $((J_L J_{L-1}) J_{L-2}) \\cdots J_1$: every
  intermediate has $m_L$ rows, one per output. Hence backpropagation for a scalar loss.
- Every other bracketing is a mixed order; ``optimal_order`` finds the cheapest by dynamic
  programming (the matrix-chain problem).

The same two sweeps with one vector instead of a whole matrix are a JVP and a VJP, so the
full Jacobian costs $n$ JVPs (``jacobian_from_jvps``) or $m$ VJPs (``jacobian_from_vjps``).
A VJP keeps every layer's input for its backward sweep (``stored_activations``); keeping only
a few and recomputing the others trades time for memory, at a price ``checkpoint_cost`` gives.

Conventions (the course's, assignment 02_orderings): ``jacobians = [J1, ..., JL]`` in the
order the layers are applied, ``J1`` of shape ``(m1, n)`` and ``Jk`` of shape
``(mk, m(k-1))``; ``dims = [n, m1, ..., mL]``, so that ``jacobians[k]`` has shape
``(dims[k + 1], dims[k])`` and $m_0 = n$. A bracketing is a *tree*: an int ``k`` is the
factor ``jacobians[k]`` (0-based: ``jacobians[0]`` is $J_1$), and a pair ``(left, right)``
is ``product(left) @ product(right)``, ``left`` covering the later layers:

>>> forward_tree(3), reverse_tree(3)
((2, (1, 0)), ((2, 1), 0))

Trees are walked with an explicit stack, never by recursion, so that a chain of thousands
of layers (a forward tree nested thousands deep) is no problem.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy as np

from autodiff_kit.vspace import standard_basis

Tree: TypeAlias = int | tuple["Tree", "Tree"]
Matmul: TypeAlias = Callable[[Any, Any], Any]


# --- The chain and its dims -------------------------------------------------------------


def chain_dims(jacobians: Sequence[Any]) -> list[int]:
    """``dims = [n, m1, ..., mL]`` of a chain of Jacobians, checking that they chain.

    ``jacobians[k]`` must be 2-D, and its columns must match the rows of
    ``jacobians[k - 1]``: layer $k + 1$ takes the outputs of layer $k$.

    >>> chain_dims([np.ones((3, 2)), np.ones((4, 3))])
    [2, 3, 4]
    """
    shapes = [tuple(np.shape(J)) for J in jacobians]
    if not shapes:
        raise ValueError("The chain is empty: give at least one Jacobian, [J1, ..., JL].")
    for k, shape in enumerate(shapes):
        if len(shape) != 2:
            raise ValueError(f"jacobians[{k}] has shape {shape}, but a Jacobian must be a 2-D "
                             "(outputs, inputs) matrix; reshape it, e.g. J.reshape(m, n).")
    for k in range(1, len(shapes)):
        if shapes[k][1] != shapes[k - 1][0]:
            raise ValueError(
                f"jacobians[{k}] of shape {shapes[k]} cannot follow jacobians[{k - 1}] of shape "
                f"{shapes[k - 1]}: its {shapes[k][1]} columns must match the {shapes[k - 1][0]} "
                f"rows of jacobians[{k - 1}] (layer {k + 1} takes the outputs of layer {k}). "
                "The list goes in the order the layers are applied: [J1, J2, ..., JL]."
            )
    return [shapes[0][1]] + [shape[0] for shape in shapes]


def checked_integer(value: int, name: str, meaning: str, least: int = 1) -> int:
    """``value`` as a Python int of at least ``least``, or a ``TypeError``/``ValueError`` naming ``name``.

    ``meaning`` says what the number is, in the error. Any integer type passes (not ``bool``):

    >>> checked_integer(np.int64(3), "slots", "the states kept at once")
    3
    >>> checked_integer(0, "slots", "the states kept at once")
    Traceback (most recent call last):
    ...
    ValueError: slots is 0, but it must be at least 1: the states kept at once.
    >>> checked_integer(2.0, "slots", "the states kept at once")
    Traceback (most recent call last):
    ...
    TypeError: slots is 2.0, but it must be an integer, the states kept at once.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} is {value!r}, but it must be an integer, {meaning}.")
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} is {value!r}, but it must be an integer, {meaning}.") from None
    if count < least:
        raise ValueError(f"{name} is {count}, but it must be at least {least}: {meaning}.")
    return count


def _check_dims(dims: Sequence[int]) -> list[int]:
    """``dims`` as a list of positive Python ints, at least ``[n, m1]``."""
    checked = [checked_integer(d, f"dims[{i}]", "a width of the chain") for i, d in enumerate(dims)]
    if len(checked) < 2:
        raise ValueError(f"dims is {list(dims)}, but a chain of L layers has L + 1 dims "
                         "[n, m1, ..., mL]: at least two, for one layer.")
    return checked


# --- Trees: a bracketing of the chain ---------------------------------------------------

# Type variables of _fold, private: a node of any binary tree, and the value it folds to.
_Node = TypeVar("_Node")
_Value = TypeVar("_Value")


def _fold(root: _Node, children: Callable[[_Node], tuple[_Node, _Node] | None],
          leaf: Callable[[_Node], _Value], pair: Callable[[_Node, _Value, _Value], _Value]) -> _Value:
    """Evaluate a binary tree bottom-up, without recursion.

    ``children(node)`` is ``(left, right)`` for an inner node and ``None`` for a leaf; a
    leaf's value is ``leaf(node)`` and an inner node's ``pair(node, left_value, right_value)``.
    Left subtrees are evaluated before right ones.
    """
    values: list[_Value] = []
    stack: list[tuple[_Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        below = children(node)
        if below is None:
            values.append(leaf(node))
        elif children_done:
            right = values.pop()
            values.append(pair(node, values.pop(), right))
        else:
            left, right = below
            stack += [(node, True), (right, False), (left, False)]
    return values.pop()


def _tree_children(node: Tree) -> tuple[Tree, Tree] | None:
    if isinstance(node, tuple):
        if len(node) != 2:
            raise ValueError(f"The tree has the node {node!r}; an inner node must be a pair "
                             "(left, right), meaning product(left) @ product(right).")
        return node
    return None


def _walk(tree: Tree) -> Iterator[Tree]:
    """Every node of ``tree``, parents before children."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack += reversed(_tree_children(node) or ())


def _span(lo: int, hi: int) -> str:
    return f"jacobians[{lo}]" if lo == hi else f"jacobians[{lo}..{hi}]"


def _check_tree(tree: Tree, length: int) -> None:
    """Raise unless ``tree`` brackets a chain of ``length`` factors: each of
    ``0..length-1`` exactly once, and each pair's left part right after its right part."""
    seen: set[int] = set()
    for node in _walk(tree):
        if isinstance(node, tuple):
            continue
        if not isinstance(node, (int, np.integer)) or isinstance(node, bool):
            raise TypeError(f"The tree has the leaf {node!r}; a tree is an int k (the factor "
                            "jacobians[k]) or a pair (left, right) of trees.")
        if not 0 <= node < length:
            raise ValueError(f"The tree names jacobians[{node}], but the chain has {length} "
                             f"factors, jacobians[0..{length - 1}].")
        if node in seen:
            raise ValueError(f"The tree uses jacobians[{node}] twice; it must use each of "
                             f"jacobians[0..{length - 1}] exactly once.")
        seen.add(int(node))
    missing = sorted(set(range(length)) - seen)
    if missing:
        raise ValueError(f"The tree does not use jacobians{missing}; it must use each of "
                         f"jacobians[0..{length - 1}] exactly once.")

    def covered(node: Tree, left: tuple[int, int], right: tuple[int, int]) -> tuple[int, int]:
        if left[0] != right[1] + 1:
            raise ValueError(
                f"The pair {node!r} multiplies {_span(*left)} (left) by {_span(*right)} (right), "
                f"but (left, right) means product(left) @ product(right) with left covering the "
                f"next layers after right's, so left must start at jacobians[{right[1] + 1}].")
        return right[0], left[1]

    _fold(tree, _tree_children, lambda k: (int(k), int(k)), covered)


def forward_tree(length: int) -> Tree:
    """The forward-mode bracketing of ``length`` factors, $J_L(\\cdots(J_3(J_2 J_1)))$.

    >>> forward_tree(1), forward_tree(4)
    (0, (3, (2, (1, 0))))
    """
    tree: Tree = 0
    for k in range(1, _check_length(length)):
        tree = (k, tree)
    return tree


def reverse_tree(length: int) -> Tree:
    """The reverse-mode bracketing of ``length`` factors, $((J_L J_{L-1}) \\cdots) J_1$.

    >>> reverse_tree(1), reverse_tree(4)
    (0, (((3, 2), 1), 0))
    """
    tree: Tree = _check_length(length) - 1
    for k in range(length - 2, -1, -1):
        tree = (tree, k)
    return tree


def _check_length(length: int) -> int:
    if operator.index(length) < 1:
        raise ValueError(f"A chain has at least one factor, not {length}.")
    return length


# --- Products ---------------------------------------------------------------------------


def forward_accumulate(jacobians: Sequence[Any], matmul: Matmul = np.matmul) -> Any:
    """$J = J_L \\cdots J_1$ from the input side: ``J2 @ J1`` first, then ``J3 @`` that, ...

    Every product goes through ``matmul(a, b)``; a chain of one factor returns that factor.
    Each intermediate $J_k \\cdots J_1$ is $(m_k, n)$: forward mode carries $n$ tangents.

    >>> J1, J2, J3 = np.ones((3, 2)), np.ones((4, 3)), np.ones((1, 4))
    >>> forward_accumulate([J1, J2, J3])
    array([[12., 12.]])
    """
    chain_dims(jacobians)
    product = jacobians[0]
    for J in jacobians[1:]:
        product = matmul(J, product)
    return product


def reverse_accumulate(jacobians: Sequence[Any], matmul: Matmul = np.matmul) -> Any:
    """$J = J_L \\cdots J_1$ from the output side: ``JL @ J(L-1)`` first, then that ``@ J(L-2)``, ...

    Every product goes through ``matmul(a, b)``; a chain of one factor returns that factor.
    Each intermediate $J_L \\cdots J_k$ is $(m_L, m_{k-1})$: reverse mode carries $m_L$
    cotangents.

    >>> J1, J2, J3 = np.ones((3, 2)), np.ones((4, 3)), np.ones((1, 4))
    >>> reverse_accumulate([J1, J2, J3])
    array([[12., 12.]])
    """
    chain_dims(jacobians)
    product = jacobians[-1]
    for J in reversed(jacobians[:-1]):
        product = matmul(product, J)
    return product


def accumulate(jacobians: Sequence[Any], tree: Tree, matmul: Matmul = np.matmul) -> Any:
    """$J = J_L \\cdots J_1$ in the bracketing ``tree``, every product through ``matmul``.

    A pair ``(left, right)`` is ``matmul(product(left), product(right))``; the left part
    is computed before the right one.

    >>> J1, J2, J3 = np.ones((3, 2)), np.ones((4, 3)), np.ones((1, 4))
    >>> accumulate([J1, J2, J3], ((2, 1), 0))  # reverse: (J3 @ J2) @ J1
    array([[12., 12.]])
    """
    _check_tree(tree, len(chain_dims(jacobians)) - 1)
    return _fold(tree, _tree_children, lambda k: jacobians[k],
                 lambda _, left, right: matmul(left, right))


# --- Costs ------------------------------------------------------------------------------


def chain_flops(dims: Sequence[int], order: str) -> int:
    """The scalar multiplications of the full Jacobian in ``order``, ``"forward"`` or ``"reverse"``.

    With $m_0 = n$, $J_k$ of shape $(m_k, m_{k-1})$, and an $(a, b)$ by $(b, c)$ product costing
    $abc$, each sum runs over the $k$ of the factor its product brings in:

    - forward: $J_k (J_{k-1} \\cdots J_1)$ is $(m_k, m_{k-1})$ by $(m_{k-1}, n)$, so
      $\\mathrm{flops} = n \\sum_{k=2}^{L} m_k m_{k-1}$;
    - reverse: $(J_L \\cdots J_{k+1}) J_k$ is $(m_L, m_k)$ by $(m_k, m_{k-1})$, so
      $\\mathrm{flops} = m_L \\sum_{k=1}^{L-1} m_k m_{k-1}$.

    A chain of one factor costs nothing. For any other bracketing, see ``tree_flops``.

    >>> dims = [2, 3, 4, 1]  # three layers down to a scalar
    >>> chain_flops(dims, "forward"), chain_flops(dims, "reverse")
    (32, 18)
    """
    m = _check_dims(dims)
    L = len(m) - 1
    if order == "forward":
        return m[0] * sum(m[k] * m[k - 1] for k in range(2, L + 1))
    if order == "reverse":
        return m[-1] * sum(m[k] * m[k - 1] for k in range(1, L))
    raise ValueError(f"order must be 'forward' or 'reverse', not {order!r}; for another "
                     "bracketing use tree_flops(dims, tree).")


def tree_flops(dims: Sequence[int], tree: Tree) -> int:
    """The scalar multiplications of the full Jacobian in the bracketing ``tree``.

    Each pair multiplies an $(a, b)$ product by a $(b, c)$ one, at $abc$; the leaf ``k``
    is $(m_{k+1}, m_k)$.

    >>> dims = [2, 3, 4, 1]
    >>> tree_flops(dims, forward_tree(3)), tree_flops(dims, reverse_tree(3))
    (32, 18)
    """
    m = _check_dims(dims)
    _check_tree(tree, len(m) - 1)

    def multiply(_: Tree, left: tuple[int, int, int], right: tuple[int, int, int]) -> tuple[int, int, int]:
        (a, b, left_flops), (_b, c, right_flops) = left, right
        return a, c, left_flops + right_flops + a * b * c

    rows_cols_flops = _fold(tree, _tree_children, lambda k: (m[k + 1], m[k], 0), multiply)
    return rows_cols_flops[2]


def optimal_order(dims: Sequence[int]) -> tuple[int, Tree]:
    """The cheapest bracketing of the chain, and its cost: ``(flops, tree)``.

    Dynamic programming over sub-chains. Let $C(i, j)$ be the least cost of the product
    ``jacobians[j] @ ... @ jacobians[i]``, an $(m_{j+1}, m_i)$ matrix. The last product
    splits it after some ``jacobians[s]``, $i \\le s < j$, into
    $(m_{j+1}, m_{s+1})$ by $(m_{s+1}, m_i)$:

    $$C(i, i) = 0, \\qquad C(i, j) = \\min_{i \\le s < j} C(s+1, j) + C(i, s) + m_{j+1} m_{s+1} m_i,$$

    filled in by increasing $j - i$: $O(L^3)$ time, $O(L^2)$ memory. The answer is
    $C(0, L-1)$. Ties go to the smallest $s$ (the shortest right part, as reverse mode).

    >>> optimal_order([2, 3, 4, 1])  # down to a scalar: reverse mode
    (18, ((2, 1), 0))
    >>> optimal_order([1, 4, 3, 2])  # up from a scalar: forward mode
    (18, (2, (1, 0)))
    >>> optimal_order([100, 1, 100, 1, 100])  # neither: (J4 (J3 J2)) J1
    (10200, ((3, (2, 1)), 0))
    """
    m = _check_dims(dims)
    length = len(m) - 1
    cost = [[0] * length for _ in range(length)]
    split = [[0] * length for _ in range(length)]
    for span in range(1, length):
        for i in range(length - span):
            j = i + span
            cost[i][j], split[i][j] = min(
                (cost[s + 1][j] + cost[i][s] + m[j + 1] * m[s + 1] * m[i], s) for s in range(i, j))

    def sub_chains(ij: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]] | None:
        i, j = ij
        return None if i == j else ((split[i][j] + 1, j), (i, split[i][j]))

    tree = _fold((0, length - 1), sub_chains, lambda ij: ij[0], lambda _, left, right: (left, right))
    return cost[0][length - 1], tree


def stored_activations(dims: Sequence[int], mode: str) -> int:
    """The floats kept for the derivative pass, for one VJP (``"reverse"``) or one JVP (``"forward"``).

    - reverse: the backward sweep needs each layer's Jacobian at that layer's input, so the
      forward sweep keeps every input: $\\sum_{k=0}^{L-1} m_k$ (with $m_0 = n$);
    - forward: the tangent moves along with the value, so each activation can be dropped
      once the next layer has it: only the largest single one, $\\max_k m_k$.

    This is why reverse mode is the memory-hungry one, however cheap its flops.

    >>> stored_activations([784, 512, 512, 10], "reverse"), stored_activations([784, 512, 512, 10], "forward")
    (1808, 784)
    """
    m = _check_dims(dims)
    if mode == "reverse":
        return sum(m[:-1])
    if mode == "forward":
        return max(m)
    raise ValueError(f"mode must be 'forward' (one JVP) or 'reverse' (one VJP), not {mode!r}.")


# --- Checkpointing: memory against recomputation ----------------------------------------


def checkpoint_cost(L: int, slots: int) -> int:
    """The least number of forward steps that reversing a chain of ``L`` steps in ``slots`` slots costs.

    The chain is $x_0 \\to x_1 \\to \\cdots \\to x_L$, $x_i = f_i(x_{i-1})$. It is reversed one
    step at a time, step $L$ first, then $L - 1$, down to step $1$: reversing step $i$ (its
    VJP) needs the state $x_{i-1}$ in memory, and evaluates step $i$ itself on the way. At
    most ``slots`` states are kept at once to restart from (*checkpoints*), the input $x_0$
    among them, always; the state being computed from is working memory, not a slot. A
    *forward step* computes $x_i$ from $x_{i-1}$ outside a reversal; the step evaluated
    inside each reversal is not counted (every schedule makes those same $L$).

    Let $T(l, s)$ be the least cost of a chain of $l$ steps with $s$ slots. One step is
    reversed from the state at hand, and one slot means recomputing from $x_0$ before every
    reversal, $0 + 1 + \\cdots + (l - 1)$ steps:

    $$T(1, s) = 0, \\qquad T(l, 1) = \\frac{l (l - 1)}{2}.$$

    Otherwise some state $x_k$, $1 \\le k < l$, is the first one stored after $x_0$: advance
    $k$ steps and store it, reverse the last $l - k$ steps from $x_k$ with the $s - 1$ slots
    left (one holds $x_0$), then free that slot and reverse the first $k$ steps with all $s$:

    $$T(l, s) = \\min_{1 \\le k < l} \\; k + T(l - k, s - 1) + T(k, s).$$

    The table is filled by increasing $l$, in $O(L^2 \\min(L, s))$ time; more slots than the
    $L$ states $x_0, \\dots, x_{L-1}$ cannot help. With enough slots every state is stored on
    the way, $L - 1$ steps; with one, $L (L - 1) / 2$. In between this is Griewank's
    binomial optimum (the schedule of *revolve*): with $s$ slots and every step computed at
    most $r$ times outside its reversal, the longest chain is $\\binom{s + r}{s}$ steps, and
    $T(L, s) = r L - \\binom{s + r}{r - 1}$ for the $r$ with
    $\\binom{s + r - 1}{s} < L \\le \\binom{s + r}{s}$.

    >>> checkpoint_cost(4, 1), checkpoint_cost(4, 2), checkpoint_cost(4, 4)
    (6, 4, 3)
    >>> checkpoint_cost(100, 5)  # instead of 4950 with x0 alone, or 99 with 100 slots
    316
    """
    L = checked_integer(L, "L", "the number of steps of the chain")
    slots = min(checked_integer(slots, "slots", "the states kept at once, x0 included"), L)
    previous = [length * (length - 1) // 2 for length in range(L + 1)]  # T(l, 1) for l = 0..L
    for _ in range(2, slots + 1):
        cost = [0, 0]  # T(0, s) (unused) and T(1, s)
        for length in range(2, L + 1):
            cost.append(min(k + previous[length - k] + cost[k] for k in range(1, length)))
        previous = cost
    return previous[L]


# --- Whole Jacobians from JVPs and VJPs -------------------------------------------------


def jacobian_from_jvps(jvp_fn: Callable[[np.ndarray], Any], n: int) -> np.ndarray:
    """The $(m, n)$ Jacobian from $n$ JVPs: column $j$ is $J e_j$.

    ``jvp_fn(v)`` must return $J v$; it is called exactly ``n`` times, with the one-hot
    vectors $e_0, \\dots, e_{n-1}$ of $\\mathbb{R}^n$ in order. A scalar result counts as
    $m = 1$. The forward way: cheap when the inputs are few.

    >>> J = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> jacobian_from_jvps(lambda v: J @ v, 2)
    array([[1., 2.],
           [3., 4.],
           [5., 6.]])
    """
    columns = _one_result_per_basis_vector(jvp_fn, n, "jvp_fn", "n", "J @ v")
    return np.stack(columns, axis=1)


def jacobian_from_vjps(vjp_fn: Callable[[np.ndarray], Any], m: int) -> np.ndarray:
    """The $(m, n)$ Jacobian from $m$ VJPs: row $i$ is $e_i^\\top J$.

    ``vjp_fn(u)`` must return $u^\\top J$ (``u @ J``); it is called exactly ``m`` times, with
    the one-hot vectors $e_0, \\dots, e_{m-1}$ of $\\mathbb{R}^m$ in order. The reverse way:
    cheap when the outputs are few (one, for the gradient of a loss).

    >>> J = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> jacobian_from_vjps(lambda u: u @ J, 3)
    array([[1., 2.],
           [3., 4.],
           [5., 6.]])
    """
    rows = _one_result_per_basis_vector(vjp_fn, m, "vjp_fn", "m", "u @ J")
    return np.stack(rows, axis=0)


def _one_result_per_basis_vector(fn: Callable, size: int, fn_name: str, size_name: str,
                                 returns: str) -> list[np.ndarray]:
    """``[ravel(fn(e_0)), ..., ravel(fn(e_{size-1}))]``, all of one length."""
    if operator.index(size) < 1:
        raise ValueError(f"{size_name} is {size}, but a Jacobian has at least one row and column.")
    results: list[np.ndarray] = []
    for i, e in enumerate(standard_basis(size)):
        result = np.ravel(np.asarray(fn(e), dtype=float))
        if results and result.shape != results[0].shape:
            raise ValueError(f"{fn_name}(e_{i}) returned {result.size} numbers but {fn_name}(e_0) "
                             f"returned {results[0].size}; {fn_name} must return {returns}, the same "
                             "length for every vector.")
        results.append(result)
    return results


class CountingFunction:
    """``fn``, counting its calls in ``.calls``: how many JVP or VJP passes a result cost.

    >>> J = np.ones((1, 5))
    >>> vjp_fn = CountingFunction(lambda u: u @ J)
    >>> jacobian_from_vjps(vjp_fn, 1).shape, vjp_fn.calls
    ((1, 5), 1)
    """

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"CountingFunction({self.fn!r}, calls={self.calls})"
