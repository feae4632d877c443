"""The kit's twin of every graded function: disabled while that function is judged.

Keys are the ``grade_id`` of a solution cell; values the dotted names of the reference
functions (or classes, or primitives) that compute the same thing. Only the twin of the
function being judged is disabled, so a probe may still lend the student the reference of
*another* function (``mlp_loss_and_grads`` is judged with the kit's ``linear_vjp``).
"""

TWINS: dict[str, tuple[str, ...]] = {
    # 01_jacobians
    "numerical_jacobian": ("autodiff_kit.testing.numerical_jacobian",),
    "jacobian_from_jvps": ("autodiff_kit.chain.jacobian_from_jvps",),
    "jacobian_from_vjps": ("autodiff_kit.chain.jacobian_from_vjps",),
    "softmax_jacobian": ("autodiff_kit.examples.softmax_jacobian",),
    "linear_model_step": ("autodiff_kit.examples.linear_model_step",),
    # 02_orderings
    "forward_accumulate": ("autodiff_kit.chain.forward_accumulate",),
    "reverse_accumulate": ("autodiff_kit.chain.reverse_accumulate",),
    "accumulate": ("autodiff_kit.chain.accumulate",),
    "chain_flops": ("autodiff_kit.chain.chain_flops",),
    "optimal_order": ("autodiff_kit.chain.optimal_order",),
    "stored_activations": ("autodiff_kit.chain.stored_activations",),
    # 03_layer_vjps
    "linear_vjp": ("autodiff_kit.layers.linear_vjp",),
    "relu_vjp": ("autodiff_kit.layers.relu_vjp",),
    "sigmoid_vjp": ("autodiff_kit.layers.sigmoid_vjp",),
    "tanh_vjp": ("autodiff_kit.layers.tanh_vjp",),
    "softmax_cross_entropy": ("autodiff_kit.layers.softmax_cross_entropy",),
    "softmax_cross_entropy_vjp": ("autodiff_kit.layers.softmax_cross_entropy_vjp",),
    "mse_vjp": ("autodiff_kit.layers.mse_vjp",),
    "mlp_loss_and_grads": ("autodiff_kit.layers.mlp_loss_and_grads",),
    # 04_modes
    "Dual": ("autodiff_kit.scalar.Dual",),
    "elementary_functions": ("autodiff_kit.scalar.sin", "autodiff_kit.scalar.cos", "autodiff_kit.scalar.exp",
                             "autodiff_kit.scalar.log"),
    "derivative": ("autodiff_kit.scalar.derivative",),
    "Var": ("autodiff_kit.scalar.Var",),
    "backward": ("autodiff_kit.scalar.backward",),
    # 05_higher_order
    "hvp_rev_over_rev": ("autodiff_kit.higher_order.hvp_rev_over_rev",),
    "hvp_fwd_over_rev": ("autodiff_kit.higher_order.hvp_fwd_over_rev", "autodiff_kit.higher_order.hvp"),
    "hessian": ("autodiff_kit.api.hessian",),
    "newton_step": ("autodiff_kit.higher_order.newton_step",),
    "forward_gradient": ("autodiff_kit.higher_order.forward_gradient",),
}
