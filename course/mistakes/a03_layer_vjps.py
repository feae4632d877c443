"""Typical mistakes in 03_layer_vjps, as edits of the reference solutions."""

from course.mistakes import Mistake

A = "03_layer_vjps"

MISTAKES = [
    # linear_vjp
    Mistake(A, "linear_vjp", "transposed gW", "gW = g.T @ x", "gW = x.T @ g"),
    Mistake(A, "linear_vjp", "gx with W transposed", "gx = g @ W", "gx = g @ W.T"),
    Mistake(A, "linear_vjp", "gb without the sum over the batch", "g.sum(axis=0)", "g"),
    Mistake(A, "linear_vjp", "gb as the mean over the batch", "g.sum(axis=0)", "g.mean(axis=0)"),
    # relu_vjp
    Mistake(A, "relu_vjp", "gradient 1 at x == 0", "(x > 0)", "(x >= 0)"),
    Mistake(A, "relu_vjp", "multiplies by relu(x) instead of the step",
            "g * (x > 0)", "g * np.maximum(x, 0.0)"),
    Mistake(A, "relu_vjp", "returns the step without the cotangent", "g * (x > 0)", "1.0 * (x > 0)"),
    # sigmoid_vjp
    Mistake(A, "sigmoid_vjp", "sigma' taken as sigma", "g * s * (1.0 - s)", "g * s"),
    Mistake(A, "sigmoid_vjp", "sigma as e^x / (1 + e^x), which overflows",
            "1.0 / (1.0 + np.exp(-x))", "np.exp(x) / (1.0 + np.exp(x))"),
    Mistake(A, "sigmoid_vjp", "forgets the cotangent", "g * s * (1.0 - s)", "s * (1.0 - s)"),
    # tanh_vjp
    Mistake(A, "tanh_vjp", "1 - tanh without the square", "np.tanh(x) ** 2", "np.tanh(x)"),
    Mistake(A, "tanh_vjp", "squares x instead of tanh x", "np.tanh(x) ** 2", "x ** 2"),
    Mistake(A, "tanh_vjp", "tanh from exponentials, which overflow",
            "np.tanh(x) ** 2", "((np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))) ** 2"),
    # softmax_cross_entropy
    Mistake(A, "softmax_cross_entropy", "no max subtraction, overflows at 1e4",
            "logits - logits.max(axis=1, keepdims=True)", "logits"),
    Mistake(A, "softmax_cross_entropy", "one maximum for the whole batch",
            "logits.max(axis=1, keepdims=True)", "logits.max()"),
    Mistake(A, "softmax_cross_entropy", "sum over the batch instead of the mean", ".mean()", ".sum()"),
    # softmax_cross_entropy_vjp
    Mistake(A, "softmax_cross_entropy_vjp", "forgets the 1/B of the mean", " / batch", ""),
    Mistake(A, "softmax_cross_entropy_vjp", "no max subtraction, overflows at 1e4",
            "logits - logits.max(axis=1, keepdims=True)", "logits"),
    Mistake(A, "softmax_cross_entropy_vjp", "ignores the cotangent g", "g * (p - one_hot)", "(p - one_hot)"),
    Mistake(A, "softmax_cross_entropy_vjp", "onehot - p, the wrong sign", "(p - one_hot)", "(one_hot - p)"),
    # mse_vjp
    Mistake(A, "mse_vjp", "gtarget with the sign of gpred", "return gpred, -gpred", "return gpred, gpred"),
    Mistake(A, "mse_vjp", "mean over the batch size instead of all entries", "/ pred.size", "/ len(pred)"),
    Mistake(A, "mse_vjp", "missing factor 2", "g * 2.0 *", "g *"),
    Mistake(A, "mse_vjp", "ignores the cotangent g", "g * 2.0 *", "2.0 *"),
    # layernorm_vjp
    Mistake(A, "layernorm_vjp", "leaves out the path through the mean",
            "g - g_mean - y * gy_mean", "g - y * gy_mean"),
    Mistake(A, "layernorm_vjp", "leaves out the path through the variance",
            "g - g_mean - y * gy_mean", "g - g_mean"),
    Mistake(A, "layernorm_vjp", "treats the mean and the variance as constants (elementwise)",
            "(g - g_mean - y * gy_mean) / sigma", "g / sigma"),
    Mistake(A, "layernorm_vjp", "the sample variance (ddof=1)",
            "(centred ** 2).mean(axis=-1, keepdims=True)",
            "(centred ** 2).sum(axis=-1, keepdims=True) / (x.shape[-1] - 1)"),
    Mistake(A, "layernorm_vjp", "ignores eps", "np.sqrt(var + eps)", "np.sqrt(var)"),
    # mlp_loss_and_grads
    Mistake(A, "mlp_loss_and_grads", "ReLU after the last layer too",
            "logits = pre_activations[-1]", "logits = h"),
    Mistake(A, "mlp_loss_and_grads", "forgets the bias in the forward pass",
            "z = h @ W.T + b", "z = h @ W.T"),
    Mistake(A, "mlp_loss_and_grads", "skips the ReLU in the backward pass",
            "g = relu_vjp(g_input, pre_activations[layer - 1])", "g = g_input"),
    Mistake(A, "mlp_loss_and_grads", "ReLU mask of the wrong layer",
            "pre_activations[layer - 1]", "pre_activations[layer]"),
    Mistake(A, "mlp_loss_and_grads", "starts the backward pass from the loss instead of 1",
            "softmax_cross_entropy_vjp(1.0, logits, labels)",
            "softmax_cross_entropy_vjp(loss, logits, labels)"),
    Mistake(A, "mlp_loss_and_grads", "gradients listed last layer first", "return loss, grads[::-1]",
            "return loss, grads"),
]
