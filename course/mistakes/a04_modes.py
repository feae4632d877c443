"""Typical mistakes in 04_modes: dual-number rules, elementary derivatives, the seed, the backward sweep."""

from course.mistakes import Mistake

A = "04_modes"

RECURSIVE_ORDER = """\
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for parent, _ in node.parents:
                visit(parent)
            order.append(node)

    visit(out)
    return order
"""

BREADTH_FIRST_ORDER = """\
    queue, seen = [out], {id(out)}
    for node in queue:
        for parent, _ in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return queue[::-1]
"""

ITERATIVE_ORDER = """\
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent, _ in node.parents)
    return order
"""

MISTAKES = [
    Mistake(A, "Dual", "product rule multiplies the tangents",
            "self.tangent * other.value + self.value * other.tangent)", "self.tangent * other.tangent)"),
    Mistake(A, "Dual", "quotient rule with a plus",
            "(self.tangent * other.value - self.value * other.tangent)",
            "(self.tangent * other.value + self.value * other.tangent)"),
    Mistake(A, "Dual", "3 - d computed as d - 3",
            "return as_dual(other) - self", "return self - as_dual(other)"),
    Mistake(A, "Dual", "power rule without the factor p",
            "exponent * self.value ** (exponent - 1) * self.tangent",
            "self.value ** (exponent - 1) * self.tangent"),

    Mistake(A, "elementary_functions", "derivative of cos is +sin",
            "lambda a: -math.sin(a)", "math.sin"),
    Mistake(A, "elementary_functions", "f'(a) not multiplied by the incoming tangent",
            "df(x.value) * x.tangent", "df(x.value)"),
    Mistake(A, "elementary_functions", "the Var edge stores f(a) instead of f'(a)",
            "((x, df(x.value)),)", "((x, f(x.value)),)"),

    Mistake(A, "derivative", "returns the value instead of the tangent",
            "return out.tangent", "return out.value"),
    Mistake(A, "derivative", "seeds the input with tangent 0",
            "Dual(x, 1.0)", "Dual(x, 0.0)"),
    Mistake(A, "derivative", "assumes f always returns a Dual",
            "    if isinstance(out, Dual):\n        return out.tangent\n    return 0.0",
            "    return out.tangent"),

    Mistake(A, "Var", "local derivatives of a product swapped",
            "((self, other.value), (other, self.value))", "((self, self.value), (other, other.value))"),
    Mistake(A, "Var", "quotient's local derivative without the square",
            "-self.value / other.value ** 2", "-self.value / other.value"),
    Mistake(A, "Var", "3 - v computed as v - 3",
            "return as_var(other) - self", "return self - as_var(other)"),
    Mistake(A, "Var", "power's local derivative without the factor p",
            "exponent * self.value ** (exponent - 1)", "self.value ** (exponent - 1)"),

    Mistake(A, "backward", "overwrites adjoints instead of summing them",
            "parent.grad += node.grad * local", "parent.grad = node.grad * local"),
    Mistake(A, "backward", "recursive graph search", ITERATIVE_ORDER, RECURSIVE_ORDER),
    Mistake(A, "backward", "breadth-first order instead of a topological order", ITERATIVE_ORDER,
            BREADTH_FIRST_ORDER),
    Mistake(A, "backward", "no visited set: shared nodes are visited once per path",
            "        elif id(node) not in seen:\n            seen.add(id(node))\n", "        else:\n"),
    Mistake(A, "backward", "forgets the seed out.grad = 1",
            "    out.grad = 1.0\n", ""),
    Mistake(A, "derivative", "the derivative taken with the kit's grad instead of a dual number",
            "    out = f(Dual(x, 1.0))\n",
            "    from autodiff_kit import grad\n    return grad(f)(float(x))\n    out = f(Dual(x, 1.0))\n"),
]
