"""Teach the kit a new function: ``primitive``, ``defvjp`` and ``defjvp``.

Every function of ``autodiff_kit.numpy`` is a **primitive**: a NumPy function the traces see
as one step, with rules that say how derivatives pass through it. You can add your own the
same way, as autograd's ``defvjp`` and JAX's ``custom_vjp`` / ``custom_jvp`` let you do. It is
worth it when the composite would be unstable (``log(1 + exp(x))`` overflows long before
its value does), wasteful (a long chain whose derivative is one line), or not written in
traceable operations at all (a call into compiled code).

Three steps:

1. ``@primitive`` on a function of plain arrays (its *implementation*). It runs on NumPy
   arrays only; the traces never look inside it.
2. ``defvjp(f, rule_0, rule_1, ...)``: one VJP rule per positional argument (``None`` for an
   argument that is not differentiable). ``rule_i(g, ans, *args, **kwargs)`` receives the
   output cotangent $\\bar y$ (``g``, shaped like the output), the output ``ans`` $= f(x)$
   and the primal arguments, and returns the cotangent $\\bar x_i = \\bar y^\\top
   \\partial f / \\partial x_i$ shaped like argument ``i``. Reverse mode calls it during the
   backward sweep.
3. ``defjvp(f, rule_0, rule_1, ...)``: one JVP rule per positional argument.
   ``rule_i(t, ans, *args, **kwargs)`` receives the tangent $\\dot x_i$ of argument ``i`` and
   returns its contribution $\\partial f / \\partial x_i \\, \\dot x_i$ to the output tangent,
   shaped like the output; the kit adds the contributions of every differentiated argument
   (constants contribute nothing). Forward mode calls it as the program runs.

Why ``ans`` is passed: many derivatives are cheapest from the output ($e^x$ is its own
derivative, $\\sqrt{x}$ has derivative $1/(2\\sqrt{x})$), and the output has already been
computed, so a rule should reuse it rather than compute it again.

Why the rules are written with ``autodiff_kit.numpy`` (``anp``) and not with NumPy: a rule
is itself a program that may be differentiated. In ``grad(grad(f))`` the inner backward
sweep runs while the outer derivative is tracing, so ``g``, ``ans`` and the arguments a rule
receives may be traced values; a rule written with ``anp`` (and with operators, which
traced values forward to ``anp``) is recorded like any other program, so derivatives nest
to any order, in either mode. A rule written with ``np.exp`` works for first derivatives
and fails with a ``TypeError`` at the second.

A worked example, $f(x) = x^3$ with $f'(x) = 3x^2$:

>>> import numpy as np
>>> import autodiff_kit.numpy as anp
>>> from autodiff_kit import grad, jacfwd, jvp
>>> @primitive
... def cube(x):
...     return np.power(x, 3)
>>> defvjp(cube, lambda g, ans, x: g * 3.0 * anp.square(x))
>>> defjvp(cube, lambda t, ans, x: t * 3.0 * anp.square(x))
>>> float(grad(cube)(2.0))  # 3 x^2
12.0
>>> [float(v) for v in jvp(cube, (2.0,), (0.5,))]  # (x^3, 3 x^2 t)
[8.0, 6.0]
>>> float(grad(grad(cube))(2.0))  # 6 x, reverse over reverse
12.0
>>> jacfwd(grad(lambda x: anp.sum(cube(x))))(np.array([1.0, 2.0]))  # diag(6 x), forward over reverse
array([[ 6.,  0.],
       [ 0., 12.]])

``autodiff_kit.examples`` registers two more (``softplus`` and ``l2_norm``), and every module
of ``autodiff_kit.numpy`` defines its primitives this way, each beside its rules. Check a new
primitive with ``autodiff_kit.testing.check_grads`` (both modes, against finite differences,
to second order) and with the dot-product test ``autodiff_kit.testing.adjoint_test``.
``autodiff_kit.custom`` builds on this API: ``custom_jvp`` (one rule for both modes),
``custom_vjp`` (a forward pass that saves residuals for the backward one) and ``stop_gradient``.
"""

from autodiff_kit.tracing import defjvp, defvjp, primitive

__all__ = ["defjvp", "defvjp", "primitive"]
