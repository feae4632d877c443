"""Probes of 03_layer_vjps: the student-side routines its checks need beyond a plain call.

``mlp_loss_and_grads`` is built from the other graded functions of the assignment. It is
run with the kit's reference for each of them in the notebook's namespace (the globals its
code looks names up in), so a wrong ``linear_vjp`` costs points on ``linear_vjp`` alone;
the student's own definitions are put back afterwards.
"""


from autodiff_kit import layers
from grader_tests.probes import Ask, probe, student_function, substituted

BUILDING_BLOCKS = ("linear_vjp", "relu_vjp", "sigmoid_vjp", "tanh_vjp", "softmax_cross_entropy",
                   "softmax_cross_entropy_vjp", "mse_vjp", "layernorm_vjp")


@probe("mlp_loss_and_grads")
def mlp_loss_and_grads(namespace: dict, args: dict, ask: Ask) -> object:
    """The student's ``mlp_loss_and_grads(params, x, labels)``, standing on the reference layers."""
    fn = student_function(namespace, "mlp_loss_and_grads")
    with substituted(namespace, {name: getattr(layers, name) for name in BUILDING_BLOCKS}):
        return fn(args["params"], args["x"], args["labels"])
