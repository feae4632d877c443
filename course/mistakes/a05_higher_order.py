"""Typical mistakes in 05_higher_order: the wrong product or mode, the wrong step, a biased estimate."""

from course.mistakes import Mistake

A = "05_higher_order"

MISTAKES = [
    Mistake(A, "hvp_rev_over_rev", "sums the gradient instead of taking its product with v",
            "anp.dot(grad(f)(y), v)", "anp.sum(grad(f)(y))"),
    Mistake(A, "hvp_rev_over_rev", "finite differences of the gradient instead of a second reverse pass",
            "return grad(lambda y: anp.dot(grad(f)(y), v))(x)",
            "eps = 1e-5\n    return (grad(f)(x + eps * v) - grad(f)(x - eps * v)) / (2 * eps)"),
    Mistake(A, "hvp_rev_over_rev", "the product with x instead of v",
            "anp.dot(grad(f)(y), v)", "anp.dot(grad(f)(y), y)"),

    Mistake(A, "hvp_fwd_over_rev", "keeps the primal output of jvp (the gradient)",
            "_, Hv = jvp(grad(f), (x,), (v,))", "Hv, _ = jvp(grad(f), (x,), (v,))"),
    Mistake(A, "hvp_fwd_over_rev", "reverse over forward: the gradient of a JVP",
            "_, Hv = jvp(grad(f), (x,), (v,))", "Hv = grad(lambda y: jvp(f, (y,), (v,))[1])(x)"),
    Mistake(A, "hvp_fwd_over_rev", "the JVP of f instead of its gradient",
            "jvp(grad(f), (x,), (v,))", "jvp(f, (x,), (v,))"),

    Mistake(A, "hessian", "a vector of ones instead of each basis vector",
            "for e in np.eye(n)", "for e in np.ones((n, n))"),
    Mistake(A, "hessian", "columns by reverse over reverse",
            "jvp(grad(f), (x,), (e,))[1] for e in np.eye(n)",
            "grad(lambda y, e=e: anp.dot(grad(f)(y), e))(x) for e in np.eye(n)"),
    Mistake(A, "hessian", "concatenates the columns into one vector",
            "np.stack(columns, axis=1)", "np.concatenate(columns)"),

    Mistake(A, "newton_step", "steps along +H^-1 grad",
            "x - np.linalg.solve(", "x + np.linalg.solve("),
    Mistake(A, "newton_step", "a gradient step, without the Hessian",
            "x - np.linalg.solve(hessian(f, x), grad(f)(x))", "x - grad(f)(x)"),
    Mistake(A, "newton_step", "multiplies by H instead of solving with it",
            "np.linalg.solve(hessian(f, x), grad(f)(x))", "hessian(f, x) @ grad(f)(x)"),

    Mistake(A, "forward_gradient", "the directional derivative from reverse mode",
            "_, directional = jvp(f, (x,), (v,))", "directional = grad(f)(x) @ v"),
    Mistake(A, "forward_gradient", "returns the directional derivative alone",
            "return directional * v", "return directional"),
    Mistake(A, "forward_gradient", "scales v to length 1",
            "v = rng.standard_normal(x.shape[0])\n",
            "v = rng.standard_normal(x.shape[0])\n    v = v / np.linalg.norm(v)\n"),
    # what the exercises may use: grad, jvp and vjp, never the kit's second-order functions
    Mistake(A, "hessian", "the kit's jacfwd of grad",
            "    columns = [jvp(grad(f), (x,), (e,))[1] for e in np.eye(n)]\n"
            "    return np.stack(columns, axis=1)",
            "    from autodiff_kit import jacfwd\n    return jacfwd(grad(f))(x)"),
    Mistake(A, "newton_step", "the kit's hessian instead of one's own",
            "    return x - np.linalg.solve(hessian(f, x), grad(f)(x))",
            "    from autodiff_kit import hessian as kit_hessian\n"
            "    return x - np.linalg.solve(kit_hessian(f)(x), grad(f)(x))"),
]
