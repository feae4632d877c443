"""Typical mistakes in 02_orderings, as edits of the reference solutions."""

from course.mistakes import Mistake

A = "02_orderings"

MISTAKES = [
    # forward_accumulate
    Mistake(A, "forward_accumulate", "the running product on the left (operands swapped)",
            "matmul(J, product)", "matmul(product, J)"),
    Mistake(A, "forward_accumulate", "products made with @ instead of the matmul argument",
            "matmul(J, product)", "J @ product"),
    Mistake(A, "forward_accumulate", "starts from the output side (reverse order)",
            "    product = jacobians[0]\n"
            "    for J in jacobians[1:]:\n"
            "        product = matmul(J, product)\n",
            "    product = jacobians[-1]\n"
            "    for J in reversed(jacobians[:-1]):\n"
            "        product = matmul(product, J)\n"),
    # reverse_accumulate
    Mistake(A, "reverse_accumulate", "the running product on the right (operands swapped)",
            "matmul(product, J)", "matmul(J, product)"),
    Mistake(A, "reverse_accumulate", "products made with @ instead of the matmul argument",
            "matmul(product, J)", "product @ J"),
    Mistake(A, "reverse_accumulate", "walks the layers from the input side",
            "reversed(jacobians[:-1])", "jacobians[:-1]"),
    # chain_flops
    Mistake(A, "chain_flops", "forward order counts a product with an identity matrix",
            "range(2, len(dims))", "range(1, len(dims))"),
    Mistake(A, "chain_flops", "reverse order leaves out the product with J1",
            "range(1, len(dims) - 1)", "range(2, len(dims) - 1)"),
    Mistake(A, "chain_flops", "forward order priced by the outputs instead of the inputs",
            "dims[k] * dims[k - 1] * n", "dims[k] * dims[k - 1] * outputs"),
    # accumulate
    Mistake(A, "accumulate", "a pair multiplied as right @ left",
            "matmul(accumulate(jacobians, left, matmul), accumulate(jacobians, right, matmul))",
            "matmul(accumulate(jacobians, right, matmul), accumulate(jacobians, left, matmul))"),
    Mistake(A, "accumulate", "matmul not passed on to the recursive calls",
            "matmul(accumulate(jacobians, left, matmul), accumulate(jacobians, right, matmul))",
            "matmul(accumulate(jacobians, left), accumulate(jacobians, right))"),
    Mistake(A, "accumulate", "products made with @ instead of the matmul argument",
            "matmul(accumulate(jacobians, left, matmul), accumulate(jacobians, right, matmul))",
            "accumulate(jacobians, left, matmul) @ accumulate(jacobians, right, matmul)"),
    # optimal_order
    Mistake(A, "optimal_order", "the split priced with m_s instead of m_(s+1)",
            "dims[j + 1] * dims[s + 1] * dims[i]", "dims[j + 1] * dims[s] * dims[i]"),
    Mistake(A, "optimal_order", "the parts of each pair swapped in the tree",
            "return (tree(s + 1, j), tree(i, s))", "return (tree(i, s), tree(s + 1, j))"),
    Mistake(A, "optimal_order", "greedy: only the last product's cost counted",
            "(cost[s + 1][j] + cost[i][s] + dims[j + 1] * dims[s + 1] * dims[i], s)",
            "(dims[j + 1] * dims[s + 1] * dims[i], s)"),
    # stored_activations
    Mistake(A, "stored_activations", "reverse mode counts the output too",
            "return sum(dims[:-1])", "return sum(dims)"),
    Mistake(A, "stored_activations", "reverse mode leaves out the input",
            "return sum(dims[:-1])", "return sum(dims[1:-1])"),
    Mistake(A, "stored_activations", "forward mode keeps only the input",
            "return max(dims)", "return dims[0]"),
    Mistake(A, "stored_activations", "forward mode keeps every activation, like reverse",
            "return max(dims)", "return sum(dims[:-1])"),
    # checkpoint_cost
    Mistake(A, "checkpoint_cost", "counts the step evaluated inside each reversal",
            "        cost[length, 1] = length * (length - 1) // 2"
            "  # recompute from the first state each time\n"
            "        for s in range(2, slots + 1):\n"
            "            if length == 1:\n"
            "                cost[length, s] = 0  # the state the one step needs is held\n",
            "        cost[length, 1] = length * (length + 1) // 2\n"
            "        for s in range(2, slots + 1):\n"
            "            if length == 1:\n"
            "                cost[length, s] = 1\n"),
    Mistake(A, "checkpoint_cost", "the stored state does not use up a slot (the later part keeps them all)",
            "cost[length - k, s - 1]", "cost[length - k, s]"),
    Mistake(A, "checkpoint_cost", "x0 not counted among the slots",
            "slots = min(slots, L)", "slots = min(slots + 1, L)"),
]
