"""A short tour of the engine, run by the README's first command.

``python -m autodiff_kit.demo`` prints the worked example of the lectures (one step of
gradient descent on a one-neuron model), a gradient check, and nested derivatives.
"""

from __future__ import annotations

import numpy as np

import autodiff_kit.numpy as anp
from autodiff_kit import grad, hessian, jacfwd, jacrev, value_and_grad
from autodiff_kit.testing import check_grads


def squared_error(w, b, x, y):
    """The loss $(h - y)^2$ of the model $h = w x + b$."""
    return (w * x + b - y) ** 2


def main() -> None:
    x, y, w, b, lr = 1.0, 7.0, 2.0, 3.0, 0.1
    loss, (dw, db) = value_and_grad(squared_error, argnums=(0, 1))(w, b, x, y)
    print("One gradient-descent step on h = w*x + b, loss (h - y)^2, at x=1, y=7, w=2, b=3:")
    print(f"  loss = {loss:g}, dL/dw = {dw:g}, dL/db = {db:g}")
    print(f"  after a step of {lr}: w = {w - lr * dw:g}, b = {b - lr * db:g}")

    def f(v):
        return anp.sum(anp.tanh(v) * anp.sin(v) ** 2)

    v = np.array([0.3, -1.2, 0.8])
    check_grads(f, (v,), order=2)
    print("\nf(v) = sum(tanh(v) sin(v)^2): forward and reverse mode agree with finite")
    print("differences to second order; its Hessian by forward over reverse is")
    print(np.array2string(hessian(f)(v), precision=4, suppress_small=True))
    mixed = jacfwd(grad(f))(v) - jacrev(jacrev(f))(v)
    print(f"and jacfwd(grad(f)) - jacrev(jacrev(f)) = {np.max(np.abs(mixed)):.1e} at most.")
    nested = grad(lambda a: a * grad(lambda c: a + c)(1.0))(2.0)
    print(f"\nd/dx [x * d/dy (x + y)] = {nested:g} (no perturbation confusion).")


if __name__ == "__main__":
    main()
