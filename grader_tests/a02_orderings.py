"""Hidden checks of 02_orderings: the order of the chain rule.

The student's ``forward_accumulate``, ``reverse_accumulate`` and ``accumulate`` are given a
``matmul`` that asks the judge for each product. The judge names each operand by the
sub-chain it equals, ``(i, j)`` for ``jacobians[j] @ ... @ jacobians[i]``, and so sees which
products were made, in which order. Costs and bracketings are judged against
``autodiff_kit.chain``; a bracketing is judged by what it costs, so that any optimal tree is
accepted when several tie.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from autodiff_kit import chain
from grader_tests.checks import Case, Check, Oracle
from grader_tests.feedback import GradingError, as_float_array, expect_close
from grader_tests.probes import StudentError

ASSIGNMENT = "02_orderings"
PRODUCT_LAYOUT = "rows: the outputs of the last layer; columns: the inputs"

Span = tuple[int, int]  # (i, j): the product jacobians[j] @ ... @ jacobians[i]
Product = tuple[Span | None, Span | None]  # the spans of a product's left and right operands


# --- Chains, spans and the products a bracketing makes ----------------------------------


def random_dims(rng: np.random.Generator, layers: int, low: int = 2, high: int = 7) -> list[int]:
    """``[n, m1, ..., mL]`` drawn from ``low..high-1``."""
    return [int(d) for d in rng.integers(low, high, layers + 1)]


def random_chain(rng: np.random.Generator, dims: list[int]) -> list[np.ndarray]:
    return [rng.standard_normal((dims[k + 1], dims[k])) for k in range(len(dims) - 1)]


def random_tree(rng: np.random.Generator, lo: int, hi: int) -> chain.Tree:
    """A random bracketing of ``jacobians[lo..hi]``: split anywhere, then bracket both parts."""
    if lo == hi:
        return lo
    split = int(rng.integers(lo, hi))
    return (random_tree(rng, split + 1, hi), random_tree(rng, lo, split))


def products_of(tree: chain.Tree) -> list[tuple[Span, Span]]:
    """The products that evaluate ``tree``, each as ``(left span, right span)``, children first."""
    made: list[tuple[Span, Span]] = []

    def span(node: chain.Tree) -> Span:
        if isinstance(node, tuple):
            left, right = span(node[0]), span(node[1])
            made.append((left, right))
            return right[0], left[1]
        return node, node

    span(tree)
    return made


def describe(span: Span) -> str:
    """``(2, 4)`` as ``(J5 J4 J3)``, in the course's 1-based names; long spans elided."""
    i, j = span
    if i == j:
        return f"J{i + 1}"
    factors = [f"J{k + 1}" for k in range(j, i - 1, -1)]
    return "(" + (" ".join(factors) if len(factors) <= 3 else f"{factors[0]} ⋯ {factors[-1]}") + ")"


def describe_product(product: tuple[Span, Span]) -> str:
    left, right = product
    return f"{describe(left)} @ {describe(right)}"


class ChainOracle(Oracle):
    """Makes the products of the chain ``jacobians`` for the student's ``matmul``, naming operands.

    Matrices that cannot be multiplied are refused with a ``GradingError``, which reaches the
    student's code as an exception (and, in the sandbox, never takes the judge down).
    """

    def __init__(self, jacobians: list[np.ndarray]) -> None:
        super().__init__()
        self.length = len(jacobians)
        self.spans: dict[Span, np.ndarray] = {}
        for i in range(len(jacobians)):
            product = self.spans[i, i] = jacobians[i].copy()
            for j in range(i + 1, len(jacobians)):
                product = self.spans[i, j] = jacobians[j] @ product
        self.products: list[Product] = []

    @property
    def full(self) -> np.ndarray:
        """$J_L \\cdots J_1$."""
        return self.spans[0, self.length - 1]

    def on_matmul(self, payload: tuple) -> np.ndarray:
        a, b = (as_float_array(x, "An operand of matmul") for x in payload)
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise GradingError(f"matmul cannot multiply shapes {a.shape} and {b.shape}: the columns of the "
                             "first must match the rows of the second.")
        self.products.append((self.span_of(a), self.span_of(b)))
        return a @ b

    def span_of(self, matrix: np.ndarray) -> Span | None:
        for span, product in self.spans.items():
            atol = 1e-9 * max(1.0, float(np.abs(product).max()))
            if product.shape == matrix.shape and np.allclose(matrix, product, rtol=1e-6, atol=atol):
                return span
        return None


def expect_chain_products(function: str, made: list[Product]) -> None:
    """A ``GradingError`` unless every product made is one of the chain's: later layers on the left."""
    for number, (left, right) in enumerate(made, 1):
        if left is None or right is None:
            raise GradingError(f"Product {number} through `matmul` had an operand that is neither one of the "
                               "jacobians nor a product of consecutive ones (a transposed matrix?): multiply "
                               "the Jacobians as they are, the later layers on the left.")
        if left[0] != right[1] + 1:
            raise GradingError(f"Product {number} through `matmul` was {describe_product((left, right))}, "
                               f"which is not part of the chain J_L ⋯ J_1: the left operand must hold the "
                               f"layers right after the right operand's, as in J{right[1] + 2} @ "
                               f"J{right[1] + 1}.")
    if not made:
        raise GradingError(f"`{function}` made no product through `matmul`: multiply with the `matmul` "
                           "argument, `matmul(a, b)`, not with `@` or `np.matmul`, so that the order can "
                           "be checked.")


def expect_order(function: str, made: list[Product], expected: list[tuple[Span, Span]],
                 order: str, start: str) -> None:
    """A ``GradingError`` unless ``made`` is ``expected``, product by product, in ``order``."""
    expect_chain_products(function, made)
    if len(made) != len(expected):
        advice = "make every product with `matmul(a, b)`" if len(made) < len(expected) else "make each once"
        raise GradingError(f"`{function}` made {len(made)} products through `matmul`, but a chain of "
                           f"{len(expected) + 1} factors needs {len(expected)}: {advice}.")
    for number, (product, wanted) in enumerate(zip(made, expected, strict=True), 1):
        if product != wanted:
            where = "first" if number == 1 else f"there, having started with {describe_product(expected[0])}"
            raise GradingError(f"Product {number} through `matmul` was {describe_product(product)}, but "
                               f"{order} makes {describe_product(wanted)} {where}: it starts from the "
                               f"{start} side.")


def expect_tree_products(made: list[Product], tree: chain.Tree) -> None:
    """A ``GradingError`` unless ``made`` are the products of ``tree``, in any order that works."""
    expect_chain_products("accumulate", made)
    wanted, got = Counter(products_of(tree)), Counter(made)
    extra, missing = got - wanted, wanted - got
    if extra:
        raise GradingError(f"`accumulate` made {describe_product(next(iter(extra)))} through `matmul`, which "
                           f"the tree {tree} does not ask for: a pair (left, right) is the single product "
                           "product(left) @ product(right).")
    if missing:
        raise GradingError(f"The tree {tree} asks for {describe_product(next(iter(missing)))}, but it was "
                           "not made through `matmul`: make every product with `matmul`, including in "
                           "recursive calls (pass `matmul` on).")


# --- forward_accumulate, reverse_accumulate and accumulate: products --------------------


class ChainProduct(Check):
    """A check of a function that multiplies a chain: its value, and what a shape error means."""

    abstract = True
    assignment = ASSIGNMENT
    probe = "call"

    def judge(self, case: Case, got: object) -> None:
        if isinstance(got, StudentError) and "matmul" in got.message:  # NumPy's error, or the oracle's
            where = f" in the line `{got.line}`" if got.line else ""
            raise GradingError(f"`{self.function}` multiplied matrices whose shapes do not chain{where}: "
                               "J_k is (m_k, m_(k-1)), so the later layers go on the left, as in J2 @ J1.")
        super().judge(case, got)

    def expect_value(self, case: Case, got: object) -> None:
        expect_close(got, case.expected, "The product J_L ⋯ J_1", why_shape=PRODUCT_LAYOUT)


class Accumulation(ChainProduct):
    """``forward_accumulate(jacobians[, matmul])`` or ``reverse_accumulate``, on a random chain."""

    abstract = True
    layers = (2, 6)  # the chain's length L is drawn from this range
    order: str  # "forward" or "reverse"

    def case(self, rng: np.random.Generator) -> Case:
        dims = random_dims(rng, int(rng.integers(*self.layers)))
        jacobians = random_chain(rng, dims)
        oracle = ChainOracle(jacobians)
        return Case(self.probe, {"function": self.function, "args": [jacobians]}, expected=oracle.full,
                    oracle=oracle)

    def expect_order(self, case: Case) -> None:
        length = len(case.args["args"][0])
        tree = chain.forward_tree(length) if self.order == "forward" else chain.reverse_tree(length)
        start = "input" if self.order == "forward" else "output"
        expect_order(self.function, case.oracle.products, products_of(tree), f"{self.order} accumulation",
                     start)


class AccumulateValues:
    """Three layers or more: with two, every order makes the one product J2 @ J1."""

    aspect = "values"
    layers = (3, 7)

    def verdict(self, case: Case, got: object) -> None:
        self.expect_value(case, got)


class AccumulateOrder:
    aspect = "order"
    points = 2
    probe = "through_matmul"
    layers = (3, 7)

    def verdict(self, case: Case, got: object) -> None:
        self.expect_order(case)


class AccumulateOneLayer:
    """A chain of one factor is that factor: no product at all."""

    aspect = "one_layer"
    probe = "through_matmul"
    layers = (1, 2)

    def verdict(self, case: Case, got: object) -> None:
        self.expect_value(case, got)


class AccumulateTenLayers:
    aspect = "ten_layers"
    probe = "through_matmul"
    layers = (10, 11)

    def verdict(self, case: Case, got: object) -> None:
        self.expect_order(case)
        self.expect_value(case, got)


# The same four checks for both modes: defining each class registers it.
for _order in ("forward", "reverse"):
    for _aspect in (AccumulateValues, AccumulateOrder, AccumulateOneLayer, AccumulateTenLayers):
        type(f"{_order.title()}{_aspect.__name__}", (_aspect, Accumulation),
             {"function": f"{_order}_accumulate", "order": _order, "__module__": __name__})


# --- chain_flops: costs -----------------------------------------------------------------


def expect_count(got: object, expected: int, name: str, known: dict[int, str]) -> None:
    """A ``GradingError`` unless ``got`` is the number ``expected``; ``known`` explains wrong values."""
    value = as_float_array(got, name)
    if value.shape != ():
        raise GradingError(f"{name} should be one number, but it has shape {value.shape}.")
    if value == expected:
        return
    hint = known.get(int(value), "") if float(value).is_integer() else ""
    raise GradingError(f"{name} is {float(value):g}, but it should be {expected}. {hint}".rstrip())


class ChainFlops(Check):
    """``chain_flops(dims, order)``; input and output sizes differ, so the two orders' costs do too."""

    abstract = True
    assignment = ASSIGNMENT
    function = "chain_flops"
    order: str

    def case(self, rng: np.random.Generator) -> Case:
        dims = random_dims(rng, int(rng.integers(2, 8)), 1, 61)
        while dims[-1] == dims[0]:
            dims[-1] = int(rng.integers(1, 61))
        return Case("call", {"function": self.function, "args": [dims, self.order]},
                    expected=chain.chain_flops(dims, self.order), notes={"dims": dims})

    def verdict(self, case: Case, got: object) -> None:
        dims = case.notes["dims"]
        other = "reverse" if self.order == "forward" else "forward"
        if self.order == "forward":  # J_k @ (J_(k-1) ... J_1), and I @ J1 if started from an identity
            products = [dims[k] * dims[k - 1] * dims[0] for k in range(2, len(dims))]
            identity = dims[1] * dims[0] ** 2
        else:  # (J_L ... J_(k+1)) @ J_k, and JL @ I if started from an identity
            products = [dims[-1] * dims[k] * dims[k - 1] for k in range(1, len(dims) - 1)]
            identity = dims[-1] ** 2 * dims[-2]
        too_few = "It leaves out a product: L factors take L - 1 products."
        known = {chain.chain_flops(dims, other): f"That is the cost of {other} order.",
                 case.expected + identity: "It counts one product too many, as if starting from an identity "
                                           "matrix: L factors take L - 1 products.",
                 case.expected - products[0]: too_few, case.expected - products[-1]: too_few}
        expect_count(got, case.expected, f"The cost of {self.order} order", known)


class ChainFlopsForward(ChainFlops):
    aspect = "forward"
    order = "forward"


class ChainFlopsReverse(ChainFlops):
    aspect = "reverse"
    order = "reverse"


class ChainFlopsOneLayer(Check):
    """One layer: its Jacobian is already the answer, at no cost, in either order."""

    assignment = ASSIGNMENT
    function = "chain_flops"
    aspect = "one_layer"

    def case(self, rng: np.random.Generator) -> Case:
        dims = random_dims(rng, 1, 1, 61)
        return Case("call_each", {"function": self.function, "calls": [[dims, "forward"], [dims, "reverse"]]},
                    expected=0)

    def verdict(self, case: Case, got: object) -> None:
        for (_, order), cost in zip(case.args["calls"], got, strict=True):
            expect_count(cost, 0, f"The cost of {order} order for one layer", {})


# --- accumulate -------------------------------------------------------------------------


class Accumulate(ChainProduct):
    """``accumulate(jacobians, tree[, matmul])`` on a random chain and bracketing."""

    abstract = True
    function = "accumulate"
    layers = (2, 7)
    mixed = False  # draw a tree that is neither forward nor reverse order

    def case(self, rng: np.random.Generator) -> Case:
        length = int(rng.integers(*self.layers))
        jacobians = random_chain(rng, random_dims(rng, length))
        tree = random_tree(rng, 0, length - 1)
        while self.mixed and tree in (chain.forward_tree(length), chain.reverse_tree(length)):
            tree = random_tree(rng, 0, length - 1)
        oracle = ChainOracle(jacobians)
        return Case(self.probe, {"function": self.function, "args": [jacobians, tree]}, expected=oracle.full,
                    oracle=oracle, notes={"tree": tree})

    def verdict(self, case: Case, got: object) -> None:
        self.expect_value(case, got)


class AccumulateValues(Accumulate):
    aspect = "values"


class AccumulateOrder(Accumulate):
    """The products made are exactly the tree's pairs, each once (independent ones in any order)."""

    aspect = "order"
    points = 2
    probe = "through_matmul"
    layers = (4, 8)
    mixed = True

    def verdict(self, case: Case, got: object) -> None:
        expect_tree_products(case.oracle.products, case.notes["tree"])


class AccumulateOneLayer(Accumulate):
    """The tree ``0``: a leaf, the one Jacobian itself."""

    aspect = "one_layer"
    layers = (1, 2)


# --- optimal_order ----------------------------------------------------------------------


def as_tree(node: object) -> chain.Tree:
    """The student's tree with Python ints and tuples (lists and NumPy integers accepted)."""
    if isinstance(node, tuple | list):
        if len(node) != 2:
            raise GradingError(f"The tree has the node {node!r}; an inner node must be a pair (left, right).")
        return as_tree(node[0]), as_tree(node[1])
    if type(node) is int:
        return node
    if isinstance(node, np.ndarray) and node.shape == () and float(node).is_integer():
        return int(node)
    raise GradingError(f"The tree has the leaf {node!r}; a leaf must be an int k, the factor jacobians[k].")


def mixed_dims(rng: np.random.Generator) -> list[int]:
    """Wide and narrow layers in turn, whose cheapest bracketing beats both forward and reverse."""
    while True:
        dims = [int(rng.integers(20, 101)) if k % 2 == 0 else int(rng.integers(1, 5))
                for k in range(int(rng.integers(5, 8)))]
        best, _ = chain.optimal_order(dims)
        if best < min(chain.chain_flops(dims, "forward"), chain.chain_flops(dims, "reverse")):
            return dims


def misjudged_orders(dims: list[int]) -> list[tuple[int, chain.Tree]]:
    """``(cost, tree)`` of two plausible wrong dynamic programs: the split priced by its last
    product alone (greedy), and the last product priced with $m_s$ instead of $m_{s+1}$."""
    length = len(dims) - 1
    greedy = lambda cost, i, s, j: dims[j + 1] * dims[s + 1] * dims[i]
    misindexed = lambda cost, i, s, j: cost[s + 1][j] + cost[i][s] + dims[j + 1] * dims[s] * dims[i]
    found = []
    for price in (greedy, misindexed):
        cost = [[0] * length for _ in range(length)]
        split = [[0] * length for _ in range(length)]
        for span in range(1, length):
            for i in range(length - span):
                j = i + span
                cost[i][j], split[i][j] = min((price(cost, i, s, j), s) for s in range(i, j))

        def tree(i: int, j: int, split=split) -> chain.Tree:
            return i if i == j else (tree(split[i][j] + 1, j), tree(i, split[i][j]))

        found.append((cost[0][length - 1], tree(0, length - 1)))
    return found


def separating_dims(rng: np.random.Generator) -> list[int]:
    """A chain of 3 to 7 layers on which both ``misjudged_orders`` miss the least cost and every
    cheapest tree, so those slips fail the cost and tree checks whatever the draw."""
    while True:
        dims = random_dims(rng, int(rng.integers(3, 8)), 1, 41)
        best, _ = chain.optimal_order(dims)
        wrong = misjudged_orders(dims)
        if all(cost != best and chain.tree_flops(dims, tree) != best for cost, tree in wrong):
            return dims


class OptimalOrder(Check):
    """``optimal_order(dims)``: the least cost, and a tree that is a bracketing and achieves it."""

    abstract = True
    assignment = ASSIGNMENT
    function = "optimal_order"

    def dims(self, rng: np.random.Generator) -> list[int]:
        return random_dims(rng, int(rng.integers(2, 8)), 1, 41)

    def case(self, rng: np.random.Generator) -> Case:
        dims = self.dims(rng)
        return Case("call", {"function": self.function, "args": [dims]},
                    expected=chain.optimal_order(dims)[0], notes={"dims": dims})

    def unpack(self, got: object) -> tuple[object, object]:
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise GradingError("`optimal_order` should return a pair (flops, tree).")
        return got[0], got[1]

    def expect_flops(self, case: Case, flops: object) -> None:
        dims = case.notes["dims"]
        known = {chain.chain_flops(dims, order): f"That is the cost of {order} order, which is not the "
                 "cheapest here." for order in ("forward", "reverse")}
        expect_count(flops, case.expected, "The least cost", known)

    def expect_tree(self, case: Case, tree: object) -> None:
        dims = case.notes["dims"]
        tree = as_tree(tree)
        try:
            cost = chain.tree_flops(dims, tree)
        except (TypeError, ValueError) as error:
            reason = str(error)
            raise GradingError(f"The tree {tree} is not a bracketing of the {len(dims) - 1} jacobians: "
                               f"{reason[:1].lower()}{reason[1:]}") from None
        if cost != case.expected:
            raise GradingError(f"The tree {tree} costs {cost} multiplications, but the cheapest bracketing "
                               f"costs {case.expected}.")


class OptimalOrderCost(OptimalOrder):
    aspect = "cost"
    points = 2

    def dims(self, rng: np.random.Generator) -> list[int]:
        return separating_dims(rng)

    def verdict(self, case: Case, got: object) -> None:
        self.expect_flops(case, self.unpack(got)[0])


class OptimalOrderTree(OptimalOrder):
    aspect = "tree"
    points = 2

    def dims(self, rng: np.random.Generator) -> list[int]:
        return separating_dims(rng)

    def verdict(self, case: Case, got: object) -> None:
        self.expect_tree(case, self.unpack(got)[1])


class OptimalOrderMixed(OptimalOrder):
    """A chain whose optimum is neither forward nor reverse: cost and tree."""

    aspect = "mixed"

    def dims(self, rng: np.random.Generator) -> list[int]:
        return mixed_dims(rng)

    def verdict(self, case: Case, got: object) -> None:
        flops, tree = self.unpack(got)
        self.expect_flops(case, flops)
        self.expect_tree(case, tree)


class OptimalOrderOneLayer(OptimalOrder):
    """One layer: nothing to multiply, ``(0, 0)``."""

    aspect = "one_layer"

    def dims(self, rng: np.random.Generator) -> list[int]:
        return random_dims(rng, 1, 1, 41)

    def verdict(self, case: Case, got: object) -> None:
        flops, tree = self.unpack(got)
        expect_count(flops, 0, "The least cost for one layer", {})
        self.expect_tree(case, tree)


# --- stored_activations -----------------------------------------------------------------


class StoredActivations(Check):
    """``stored_activations(dims, mode)`` against the kit."""

    abstract = True
    assignment = ASSIGNMENT
    function = "stored_activations"
    mode: str
    pass_name: str  # the derivative pass that mode makes once: "VJP" or "JVP"

    def dims(self, rng: np.random.Generator) -> list[int]:
        return random_dims(rng, int(rng.integers(1, 8)), 1, 101)

    def case(self, rng: np.random.Generator) -> Case:
        dims = self.dims(rng)
        return Case("call", {"function": self.function, "args": [dims, self.mode]},
                    expected=chain.stored_activations(dims, self.mode), notes={"dims": dims})

    def verdict(self, case: Case, got: object) -> None:
        expect_count(got, case.expected, f"The number of floats stored for one {self.pass_name}",
                     self.known(case.notes["dims"]))

    def known(self, dims: list[int]) -> dict[int, str]:
        """Wrong answers with a known cause, and that cause."""
        raise NotImplementedError


class StoredActivationsReverse(StoredActivations):
    aspect = "reverse"
    mode = "reverse"
    pass_name = "VJP"

    def known(self, dims: list[int]) -> dict[int, str]:
        return {sum(dims): "It counts the output too: the backward pass needs each layer's input, m_0 to "
                           "m_(L-1), not the last output.",
                sum(dims[1:-1]): "It leaves out the input x (m_0 = n): the first layer's Jacobian depends on "
                                 "it too."}


class StoredActivationsForward(StoredActivations):
    """The widest activation is never the input, so keeping the input alone is not enough."""

    aspect = "forward"
    mode = "forward"
    pass_name = "JVP"

    def dims(self, rng: np.random.Generator) -> list[int]:
        dims = super().dims(rng)
        dims[int(rng.integers(1, len(dims)))] = max(dims) + int(rng.integers(1, 50))
        return dims

    def known(self, dims: list[int]) -> dict[int, str]:
        return {sum(dims[:-1]): "That is what reverse mode stores; a JVP carries the tangent along with the "
                                "value, so an activation can be dropped once the next one is computed.",
                dims[0]: "That is the input alone, but a wider activation comes later and must be held too: "
                         "the memory needed is the largest single one."}


# --- checkpoint_cost --------------------------------------------------------------------


def checkpoint_slips(L: int, slots: int) -> dict[int, str]:
    """Wrong values of ``checkpoint_cost(L, slots)`` with a known cause, and that cause.

    When two causes give the same value, the later one in this list (the more telling) wins.
    """
    expected = chain.checkpoint_cost(L, slots)
    slips = [
        (L * (L - 1) // 2, "That is the cost of recomputing from x0 before every reversal, which needs one "
                           "slot only: keep states in the other slots to restart from."),
        (L - 1, "That is the cost of storing every state on the way, for which there are too few slots here: "
                "a stored state keeps its slot while the steps after it are reversed with the others."),
        (L, f"That counts step {L} too, but x_{L} is only ever computed inside the reversal of step {L}, "
            "which is not counted."),
        (chain.checkpoint_cost(L, slots - 1) if slots > 1 else None,
         "That is the least cost with one slot fewer: x0 is one of the `slots` states, not one more."),
        (chain.checkpoint_cost(L, slots + 1), "That is the least cost with one slot more: x0 is always held, "
                                              "and it takes one of the slots."),
        (expected + L, f"That is {L} too many, one per reversal: the step evaluated inside each reversal is "
                       "not counted, only the forward steps that bring its state back."),
    ]
    return {value: hint for value, hint in slips if value is not None and value != expected}


class CheckpointCost(Check):
    """``checkpoint_cost(L, slots)`` on fixed and fresh ``(L, slots)``, each judged against the kit.

    The fixed cases make every catalogued slip fail the same checks whatever the draw: one
    slot with L = 5 tells x0 left out of the slots from the truth, and the in-between cases
    (2 <= slots <= L - 3, where the cost is strictly between L - 1 and L(L - 1)/2 and strictly
    falls with every slot added) tell every slip of the recurrence.
    """

    abstract = True
    assignment = ASSIGNMENT
    function = "checkpoint_cost"
    fixed: tuple[tuple[int, int], ...] = ()

    def draws(self, rng: np.random.Generator) -> list[tuple[int, int]]:
        """Fresh ``(L, slots)`` cases, after the fixed ones."""
        raise NotImplementedError

    def case(self, rng: np.random.Generator) -> Case:
        calls = [[int(L), int(slots)] for L, slots in [*self.fixed, *self.draws(rng)]]
        return Case("call_each", {"function": self.function, "calls": calls},
                    expected=[chain.checkpoint_cost(L, slots) for L, slots in calls])

    def verdict(self, case: Case, got: object) -> None:
        calls = case.args["calls"]
        if not isinstance(got, list | tuple) or len(got) != len(calls):
            raise GradingError("`checkpoint_cost` should return one number for each call.")
        for (L, slots), cost, expected in zip(calls, got, case.expected, strict=True):
            expect_count(cost, expected, f"checkpoint_cost({L}, {slots})", checkpoint_slips(L, slots))


class CheckpointCostLimits(CheckpointCost):
    """The two ends: one slot (recompute from x0 every time) and a slot for every state (store all)."""

    aspect = "limits"
    fixed = ((1, 1), (1, 4), (2, 1), (5, 1), (4, 4), (6, 11))

    def draws(self, rng: np.random.Generator) -> list[tuple[int, int]]:
        alone, every, more = (int(L) for L in rng.integers(2, 61, 3))
        return [(alone, 1), (every, every), (more, more + int(rng.integers(1, 20)))]


class CheckpointCostValues(CheckpointCost):
    """In between the two ends: fewer slots than states, more than one."""

    aspect = "values"
    points = 2
    fixed = ((6, 2), (10, 3), (30, 4))

    def draws(self, rng: np.random.Generator) -> list[tuple[int, int]]:
        cases = []
        for _ in range(3):
            L = int(rng.integers(5, 41))
            cases.append((L, int(rng.integers(2, min(L - 2, 11)))))
        return cases
