"""Typical mistakes in 01_jacobians, as edits of the reference solutions."""

from course.mistakes import Mistake

A = "01_jacobians"

MISTAKES = [
    # numerical_jacobian
    Mistake(A, "numerical_jacobian", "one-sided forward difference",
            "np.ravel(f(x + step) - f(x - step)) / (2 * eps)", "np.ravel(f(x + step) - f(x)) / eps"),
    Mistake(A, "numerical_jacobian", "columns stacked as rows (the transpose)",
            "np.stack(columns, axis=1)", "np.stack(columns, axis=0)"),
    Mistake(A, "numerical_jacobian", "the eps argument ignored",
            "step[j] = eps\n        columns.append(np.ravel(f(x + step) - f(x - step)) / (2 * eps))",
            "step[j] = 1e-6\n        columns.append(np.ravel(f(x + step) - f(x - step)) / 2e-6)"),
    Mistake(A, "numerical_jacobian", "divided by 2 then multiplied by eps (precedence)",
            "/ (2 * eps)", "/ 2 * eps"),
    Mistake(A, "numerical_jacobian", "no ravel, so a scalar f breaks the stacking",
            "np.ravel(f(x + step) - f(x - step)) / (2 * eps)", "(f(x + step) - f(x - step)) / (2 * eps)"),
    # jacobian_from_jvps
    Mistake(A, "jacobian_from_jvps", "columns stacked as rows (the transpose)",
            "np.stack(columns, axis=1)", "np.stack(columns, axis=0)"),
    Mistake(A, "jacobian_from_jvps", "an extra JVP just to learn m",
            "    columns = []\n"
            "    for j in range(n):\n"
            "        e = np.zeros(n)\n"
            "        e[j] = 1.0\n"
            "        columns.append(jvp_fn(e))\n"
            "    return np.stack(columns, axis=1)",
            "    m = len(jvp_fn(np.zeros(n)))\n"
            "    J = np.zeros((m, n))\n"
            "    for j in range(n):\n"
            "        e = np.zeros(n)\n"
            "        e[j] = 1.0\n"
            "        J[:, j] = jvp_fn(e)\n"
            "    return J"),
    Mistake(A, "jacobian_from_jvps", "the one-hot tangent not reset between calls",
            "    for j in range(n):\n        e = np.zeros(n)\n",
            "    e = np.zeros(n)\n    for j in range(n):\n"),
    # jacobian_from_vjps
    Mistake(A, "jacobian_from_vjps", "rows stacked as columns (the transpose)",
            "np.stack(rows, axis=0)", "np.stack(rows, axis=1)"),
    Mistake(A, "jacobian_from_vjps", "a cotangent of all ones instead of one-hot",
            "e = np.zeros(m)", "e = np.ones(m)"),
    Mistake(A, "jacobian_from_vjps", "an extra VJP just to learn n",
            "    rows = []\n"
            "    for i in range(m):\n"
            "        e = np.zeros(m)\n"
            "        e[i] = 1.0\n"
            "        rows.append(vjp_fn(e))\n"
            "    return np.stack(rows, axis=0)",
            "    n = len(vjp_fn(np.zeros(m)))\n"
            "    J = np.zeros((m, n))\n"
            "    for i in range(m):\n"
            "        e = np.zeros(m)\n"
            "        e[i] = 1.0\n"
            "        J[i] = vjp_fn(e)\n"
            "    return J"),
    # softmax_jacobian
    Mistake(A, "softmax_jacobian", "exponentials not shifted by the maximum (overflow)",
            "np.exp(z - np.max(z))", "np.exp(z)"),
    Mistake(A, "softmax_jacobian", "the diagonal term diag(p) left out",
            "np.diag(p) - np.outer(p, p)", "-np.outer(p, p)"),
    Mistake(A, "softmax_jacobian", "the sign of the whole Jacobian flipped",
            "np.diag(p) - np.outer(p, p)", "np.outer(p, p) - np.diag(p)"),
    # linear_model_step
    Mistake(A, "linear_model_step", "dw without the factor x",
            "dw = 2 * (h - y) * x", "dw = 2 * (h - y)"),
    Mistake(A, "linear_model_step", "the residual's sign flipped in the derivatives",
            "dw = 2 * (h - y) * x\n    db = 2 * (h - y)", "dw = 2 * (y - h) * x\n    db = 2 * (y - h)"),
    Mistake(A, "linear_model_step", "a step up the gradient instead of down",
            "return loss, dw, db, w - lr * dw, b - lr * db", "return loss, dw, db, w + lr * dw, b + lr * db"),
    # what the exercises may use: no kit autodiff, no kit function that computes the answer
    Mistake(A, "linear_model_step", "derivatives taken with the kit's grad instead of by hand",
            "    dw = 2 * (h - y) * x\n    db = 2 * (h - y)\n",
            "    from autodiff_kit import grad\n"
            "    dw, db = grad(lambda w, b: (w * x + b - y) ** 2, argnums=(0, 1))(float(w), float(b))\n"),
    Mistake(A, "linear_model_step", "returns the kit's worked example",
            "    h = w * x + b\n",
            "    from autodiff_kit.examples import linear_model_step as worked\n"
            "    return worked(x, y, w, b, lr)\n    h = w * x + b\n"),
    Mistake(A, "softmax_jacobian", "the Jacobian taken with the kit's jacfwd",
            "    return np.diag(p) - np.outer(p, p)",
            "    import autodiff_kit.numpy as anp\n    from autodiff_kit import jacfwd\n"
            "    return jacfwd(lambda t: anp.exp(t - np.max(z)) / anp.sum(anp.exp(t - np.max(z))))(z)"),
    Mistake(A, "numerical_jacobian", "returns the kit's finite differences",
            "    x = np.asarray(x, dtype=float)\n",
            "    from autodiff_kit.testing import numerical_jacobian as kit\n    return kit(f, x, eps)\n"),
]
