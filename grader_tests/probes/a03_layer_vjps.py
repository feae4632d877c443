"""Probes of 03_layer_vjps: the student-side routines its checks need beyond a plain call.

``mlp_loss_and_grads`` is built from the other graded functions of the assignment. It is
run with the kit's reference for each of them in the notebook's namespace (the globals its
code looks names up in), so a wrong ``linear_vjp`` costs points on ``linear_vjp`` alone;
the student's own definitions are put back afterwards.
"""

import contextlib
from collections.abc import Iterator

from autodiff_kit import layers
from grader_tests.probes import Ask, probe, student_function

BUILDING_BLOCKS = ("linear_vjp", "relu_vjp", "sigmoid_vjp", "tanh_vjp", "softmax_cross_entropy",
                   "softmax_cross_entropy_vjp", "mse_vjp")


@contextlib.contextmanager
def references_in(namespace: dict, names: tuple[str, ...]) -> Iterator[None]:
    """``namespace[name]`` is the kit's reference for every name in ``names``, for a while."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in names}
    namespace.update({name: getattr(layers, name) for name in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


@probe("mlp_loss_and_grads")
def mlp_loss_and_grads(namespace: dict, args: dict, ask: Ask) -> object:
    """The student's ``mlp_loss_and_grads(params, x, labels)``, standing on the reference layers."""
    fn = student_function(namespace, "mlp_loss_and_grads")
    with references_in(namespace, BUILDING_BLOCKS):
        return fn(args["params"], args["x"], args["labels"])
