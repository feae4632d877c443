"""Typical mistakes in 06_primitives: overflow, rules that drop g or t, rules in plain NumPy,
a norm recomputed or divided by zero, and a dot-product test that draws, normalizes or calls wrongly."""

from course.mistakes import Mistake

A = "06_primitives"

MISTAKES = [
    # softplus
    Mistake(A, "softplus", "log(1 + exp(x)) as written, which overflows above 709",
            "np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))", "np.log(1.0 + np.exp(x))"),
    Mistake(A, "softplus", "the VJP rule forgets the cotangent g",
            "return g * anp.exp(x - ans)", "return anp.exp(x - ans)"),
    Mistake(A, "softplus", "the JVP rule ignores the tangent t",
            "return t * anp.exp(x - ans)", "return anp.exp(x - ans)"),
    Mistake(A, "softplus", "the VJP rule in plain NumPy, so it cannot be differentiated again",
            "g * anp.exp(x - ans)", "g * np.exp(x - ans)"),
    Mistake(A, "softplus", "forgets @primitive, so the traces see plain NumPy and never the rules",
            "@primitive\ndef softplus(x):", "def softplus(x):"),
    # l2_norm
    Mistake(A, "l2_norm", "the VJP computes the norm again instead of reusing ans",
            "g * x / anp.where(ans > 0, ans, 1.0)",
            "g * x / anp.where(anp.sum(x ** 2) > 0, anp.sqrt(anp.sum(x ** 2)), 1.0)"),
    Mistake(A, "l2_norm", "the VJP divides by ans, nan (0/0) at x = 0",
            "g * x / anp.where(ans > 0, ans, 1.0)", "g * x / ans"),
    Mistake(A, "l2_norm", "the VJP forgets the cotangent g", "return g * x /", "return x /"),
    Mistake(A, "l2_norm", "the JVP ignores the tangent t", "anp.dot(t, x)", "anp.sum(x)"),
    # adjoint_test
    Mistake(A, "adjoint_test", "draws u before v",
            "v, u = rng.standard_normal(n), rng.standard_normal(m)",
            "u, v = rng.standard_normal(m), rng.standard_normal(n)"),
    Mistake(A, "adjoint_test", "forgets the normalization",
            "return gap / (np.linalg.norm(u) * np.linalg.norm(Jv) + np.linalg.norm(uJ) * np.linalg.norm(v))",
            "return gap"),
    Mistake(A, "adjoint_test", "forgets the absolute value", "gap = abs(u @ Jv - uJ @ v)",
            "gap = u @ Jv - uJ @ v"),
    Mistake(A, "adjoint_test", "calls jvp_fn a second time instead of reusing Jv",
            "gap = abs(u @ Jv", "gap = abs(u @ jvp_fn(v)"),
]
