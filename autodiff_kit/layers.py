"""The layers of a neural network as fused primitives, each with the VJP of the textbook.

A network could be written op by op in ``autodiff_kit.numpy`` and differentiated as it
is; here each layer is instead *one* primitive, whose derivative is the formula derived
by hand in the lecture (for an output cotangent $\\bar y$):

- linear, $y = x W^\\top + b$:
  $\\bar x = \\bar y W$, $\\bar W = \\bar y^\\top x$, $\\bar b = \\sum_k \\bar y_k$;
- ReLU, $y = \\max(x, 0)$: $\\bar x = \\bar y \\odot [x > 0]$;
- sigmoid, $y = \\sigma(x)$: $\\bar x = \\bar y \\odot \\sigma(x) (1 - \\sigma(x))$;
- tanh, $y = \\tanh x$: $\\bar x = \\bar y \\odot (1 - \\tanh^2 x)$;
- softmax cross-entropy $L(z, y)$: $\\bar z = \\bar L \\, (\\mathrm{softmax}(z) - \\mathrm{onehot}(y)) / B$;
- mean squared error $L = \\mathrm{mean}((p - t)^2)$:
  $\\bar p = \\bar L \\, 2 (p - t) / N$, $\\bar t = -\\bar p$;
- layer normalization $y = (x - \\mu) / \\sigma$ per row, $\\sigma = \\sqrt{v + \\epsilon}$ ($v$: variance):
  $\\bar x = (\\bar y - \\mathrm{mean}(\\bar y) - y \\, \\mathrm{mean}(\\bar y \\odot y)) / \\sigma$.

Each formula is written once, as a public function ``<layer>_vjp(g, *inputs)`` (the
signature students write in ``03_layer_vjps``), and the same function is attached to the
primitive with ``defvjp``. It is written with the kit's own primitives, so second
derivatives (``hessian``, ``jacfwd(grad(f))``) go through the layers too. The engine asks
for one input's cotangent at a time; ``linear_vjp``, whose cotangents are matrix products,
computes only the one it is asked for (``wanted``), so that no product is spent on a
cotangent nobody needs (the input batch's, typically).

``mlp_loss_and_grads`` strings the VJPs together by hand, the backward pass of the
lecture, with no autodiff at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from autodiff_kit import numpy as anp
from autodiff_kit.numpy.broadcasting import shape_of, unbroadcast
from autodiff_kit.tracing import defjvp, defvjp, primitive

Params = Sequence[tuple[np.ndarray, np.ndarray]]


# --- linear ---------------------------------------------------------------------------------


@primitive
def linear(x, W, b):
    """The affine layer $y = x W^\\top + b$, for a batch of rows ``x``.

    ``x`` is ``(B, n)`` (or ``(n,)`` for one example), ``W`` is ``(m, n)`` and ``b`` is
    ``(m,)``; ``y`` is ``(B, m)`` (or ``(m,)``): row $k$ is $W x_k + b$.

    >>> W = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]])
    >>> linear(np.array([[1.0, 2.0]]), W, np.array([0.0, 0.0, 10.0]))
    array([[1., 3., 8.]])
    """
    _check_linear_shapes(np.shape(x), np.shape(W), np.shape(b))
    return np.matmul(x, np.transpose(W)) + b


def _check_linear_shapes(x: tuple, W: tuple, b: tuple) -> None:
    if len(W) != 2 or len(x) == 0 or x[-1] != W[1] or b != W[:1]:
        raise ValueError(
            f"linear(x, W, b) got x of shape {x}, W of shape {W} and b of shape {b}. It computes "
            "x @ W.T + b, so for m outputs from n inputs it needs x of shape (B, n) or (n,), "
            "W of shape (m, n) and b of shape (m,)."
        )


def _rows(v):
    """``v`` as a matrix of rows: one example is a batch of one."""
    return anp.reshape(v, (-1, shape_of(v)[-1]))


def linear_vjp(g, x, W, b, *, wanted=(0, 1, 2)):
    """The cotangents ``(gx, gW, gb)`` of $y = x W^\\top + b$ for an output cotangent ``g``.

    Row $k$ of the output is $y_k = W x_k + b$, so

    $$\\bar x_k = W^\\top \\bar y_k, \\qquad \\bar W = \\sum_k \\bar y_k x_k^\\top = \\bar Y^\\top X,
    \\qquad \\bar b = \\sum_k \\bar y_k:$$

    $W$ and $b$ are shared by every example of the batch, so their cotangents add up
    over it. In rows: ``gx = g @ W``, ``gW = g.T @ x``, ``gb = g.sum(axis=0)``. Only the
    cotangents of the arguments in ``wanted`` (positions 0, 1, 2) are computed; the others
    are None.

    >>> x, W, b = np.array([[1.0, 2.0]]), np.ones((3, 2)), np.zeros(3)
    >>> gx, gW, gb = linear_vjp(np.array([[1.0, 0.0, -1.0]]), x, W, b)
    >>> gx, gW.tolist(), gb
    (array([[0., 0.]]), [[1.0, 2.0], [0.0, 0.0], [-1.0, -2.0]], array([ 1.,  0., -1.]))
    """
    gx = anp.matmul(g, W) if 0 in wanted else None
    gW = anp.matmul(anp.transpose(_rows(g)), _rows(x)) if 1 in wanted else None
    gb = anp.sum(_rows(g), axis=0) if 2 in wanted else None
    return gx, gW, gb


defvjp(linear,
       lambda g, ans, x, W, b: linear_vjp(g, x, W, b, wanted=(0,))[0],
       lambda g, ans, x, W, b: linear_vjp(g, x, W, b, wanted=(1,))[1],
       lambda g, ans, x, W, b: linear_vjp(g, x, W, b, wanted=(2,))[2])
# Forward mode, by the product rule: dy = dx W^T + x dW^T + db.
defjvp(linear,
       lambda t, ans, x, W, b: anp.matmul(t, anp.transpose(W)),
       lambda t, ans, x, W, b: anp.matmul(x, anp.transpose(t)),
       lambda t, ans, x, W, b: anp.broadcast_to(t, shape_of(ans)))


# --- activations ----------------------------------------------------------------------------
# An elementwise layer has a diagonal Jacobian, which is its own transpose: the JVP of a
# tangent is the same product as the VJP of a cotangent, so one function serves both modes.


@primitive
def relu(x):
    """The rectified linear unit $\\max(x, 0)$, elementwise.

    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    return np.maximum(x, 0.0)


def relu_vjp(g, x):
    """$\\bar x = \\bar y \\odot [x > 0]$: the cotangent passes where the unit is active.

    At the kink $x = 0$ ReLU has no derivative; the subgradient taken there is 0, as in
    PyTorch and JAX (any value in $[0, 1]$ would do).

    >>> relu_vjp(np.ones(3), np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    return g * anp.greater(x, 0.0)


defvjp(relu, lambda g, ans, x: relu_vjp(g, x))
defjvp(relu, lambda t, ans, x: relu_vjp(t, x))


@primitive
def sigmoid(x):
    """The logistic function $\\sigma(x) = 1 / (1 + e^{-x})$, elementwise.

    Computed from $e^{-|x|} \\in (0, 1]$, which never overflows: $\\sigma(x) = 1/(1 + e^{-|x|})$
    for $x \\ge 0$ and $e^{-|x|} / (1 + e^{-|x|})$ for $x < 0$.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_vjp(g, x):
    """$\\bar x = \\bar y \\odot \\sigma(x) (1 - \\sigma(x))$, since $\\sigma' = \\sigma (1 - \\sigma)$.

    >>> sigmoid_vjp(np.array([4.0]), np.array([0.0]))
    array([1.])
    """
    s = sigmoid(x)
    return g * s * (1.0 - s)


defvjp(sigmoid, lambda g, ans, x: sigmoid_vjp(g, x))
defjvp(sigmoid, lambda t, ans, x: sigmoid_vjp(t, x))


@primitive
def tanh(x):
    """The hyperbolic tangent $\\tanh x = (e^x - e^{-x}) / (e^x + e^{-x})$, elementwise.

    Its derivative is $1 - \\tanh^2 x$ (``tanh_vjp``): 1 at 0, and 0 far out, where it is flat.

    >>> tanh(np.array([0.0, 1e4]))
    array([0., 1.])
    >>> from autodiff_kit import grad
    >>> float(grad(tanh)(0.0)), float(grad(tanh)(1e4))
    (1.0, 0.0)
    """
    return np.tanh(x)


def tanh_vjp(g, x):
    """$\\bar x = \\bar y \\odot (1 - \\tanh^2 x)$.

    >>> tanh_vjp(np.array([3.0]), np.array([0.0]))
    array([3.])
    """
    return g * (1.0 - anp.square(tanh(x)))


defvjp(tanh, lambda g, ans, x: tanh_vjp(g, x))
defjvp(tanh, lambda t, ans, x: tanh_vjp(t, x))


# --- losses ---------------------------------------------------------------------------------
# A loss is a scalar L, so its JVP along a tangent t is the inner product <grad L, t>: the
# gradient is the VJP of the cotangent 1.


@primitive
def softmax_cross_entropy(logits, labels):
    """The mean over the batch of $-\\log \\mathrm{softmax}(z_k)_{y_k}$.

    For logits ``z`` of shape ``(B, C)`` and integer labels ``y`` of shape ``(B,)``:

    $$L = \\frac1B \\sum_k \\Big(\\log \\sum_c e^{z_{kc}} - z_{k y_k}\\Big).$$

    Each row is shifted by its maximum $m_k$ first, which changes nothing
    ($\\log \\sum_c e^{z_{kc}} = m_k + \\log \\sum_c e^{z_{kc} - m_k}$) but keeps every
    exponential in $(0, 1]$: the loss is finite and exact for logits of any size.

    >>> float(softmax_cross_entropy(np.array([[1e4, 0.0], [1e4, 0.0]]), np.array([0, 1])))
    5000.0
    """
    labels = _checked_labels(logits, labels)
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_probabilities[np.arange(len(labels)), labels])


def _checked_labels(logits, labels) -> np.ndarray:
    labels = np.asarray(labels)
    shape = np.shape(logits)
    if len(shape) != 2:
        raise ValueError(f"softmax_cross_entropy needs logits of shape (B, C), one row per example, "
                         f"not {shape}. For one example, pass logits[None] and labels[None].")
    if labels.shape != shape[:1] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"softmax_cross_entropy needs integer labels of shape {shape[:1]}, one class "
                         f"index per row of logits, not {labels.dtype} labels of shape {labels.shape}.")
    if labels.size and (labels.min() < 0 or labels.max() >= shape[1]):
        raise ValueError(f"The labels must be class indices in 0..{shape[1] - 1} (logits have "
                         f"{shape[1]} columns), but they range over {labels.min()}..{labels.max()}.")
    return labels


def softmax_cross_entropy_vjp(g, logits, labels):
    """The cotangent of the logits, $\\bar z = \\bar L \\, (\\mathrm{softmax}(z) - \\mathrm{onehot}(y)) / B$.

    Row $k$ of $z$ enters only the term $\\frac1B (\\mathrm{lse}(z_k) - z_{k y_k})$; the
    gradient of log-sum-exp is the softmax, and that of $z_{k y_k}$ is one-hot. The labels
    are class indices and have no cotangent. The softmax is computed from the shifted row
    $s = z - \\max_c z_c$ as $e^{s - \\mathrm{lse}(s)}$, so no large number is ever
    subtracted from another and it is exact for large logits too.

    >>> softmax_cross_entropy_vjp(1.0, np.array([[0.0, 0.0]]), np.array([1]))
    array([[ 0.5, -0.5]])
    """
    batch, classes = shape_of(logits)
    shifted = logits - anp.max(logits, axis=1, keepdims=True)
    probabilities = anp.exp(shifted - anp.logsumexp(shifted, axis=1, keepdims=True))
    one_hot = np.eye(classes)[labels]
    return g * (probabilities - one_hot) / batch


defvjp(softmax_cross_entropy, lambda g, ans, logits, labels: softmax_cross_entropy_vjp(g, logits, labels),
       None)
defjvp(softmax_cross_entropy,
       lambda t, ans, logits, labels: anp.sum(t * softmax_cross_entropy_vjp(1.0, logits, labels)),
       None)


@primitive
def mse(pred, target):
    """The mean squared error $L = \\frac1N \\sum_i (p_i - t_i)^2$ over all $N$ entries.

    ``pred`` and ``target`` have the same shape (or broadcast against each other).

    >>> float(mse(np.array([1.0, 3.0]), np.array([0.0, 0.0])))
    5.0
    """
    return np.mean(np.square(np.subtract(pred, target)))


def mse_vjp(g, pred, target):
    """The cotangents ``(gpred, gtarget)``: $\\bar p = \\bar L \\, \\frac2N (p - t)$, $\\bar t = -\\bar p$.

    (Summed back to each input's shape if they were broadcast.)

    >>> mse_vjp(1.0, np.array([1.0, 3.0]), np.array([0.0, 0.0]))
    (array([1., 3.]), array([-1., -3.]))
    """
    difference = pred - target
    g_difference = g * 2.0 * difference / anp.size(difference)
    return unbroadcast(g_difference, shape_of(pred)), unbroadcast(-g_difference, shape_of(target))


defvjp(mse,
       lambda g, ans, pred, target: mse_vjp(g, pred, target)[0],
       lambda g, ans, pred, target: mse_vjp(g, pred, target)[1])
defjvp(mse,
       lambda t, ans, pred, target: anp.sum(t * mse_vjp(1.0, pred, target)[0]),
       lambda t, ans, pred, target: anp.sum(t * mse_vjp(1.0, pred, target)[1]))


# --- layer normalization --------------------------------------------------------------------
# Unlike the layers above, every output of a row depends on every input of that row, through
# the row's mean and variance: the VJP gathers the cotangent along each of those paths.


def _centred(x):
    """``x`` minus the mean of its row (the last axis), exactly 0 on a constant row.

    The row is first shifted by its own first entry, which changes nothing mathematically
    ($x - \\mu = (x - x_1) - \\mathrm{mean}(x - x_1)$) but makes a constant row exactly 0
    before any rounding: the mean of $n$ copies of $c$ need not be $c$ in floating point
    ($0.1 + 0.1 + 0.1 \\ne 0.3$). It also keeps the variance accurate for rows far from 0.
    """
    shifted = x - x[..., :1]
    return shifted - anp.mean(shifted, axis=-1, keepdims=True)


def _scale(centred, eps):
    """$\\sigma = \\sqrt{v + \\epsilon}$ of each row, $v$ the population variance, from the centred rows."""
    return anp.sqrt(anp.mean(anp.square(centred), axis=-1, keepdims=True) + eps)


@primitive
def layernorm(x, eps=1e-5):
    """Layer normalization without scale or shift, row by row: $y = (x - \\mu) / \\sqrt{v + \\epsilon}$.

    For each row of ``x`` (``(B, n)``, or one row ``(n,)``), $\\mu = \\frac1n \\sum_i x_i$ is its
    mean and $v = \\frac1n \\sum_i (x_i - \\mu)^2$ its population variance (NumPy's
    ``ddof=0``), both over the last axis. ``eps > 0`` keeps the division finite where the
    variance is 0: a constant row normalizes to exactly 0.

    >>> layernorm(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])).round(4)
    array([[-1.2247,  0.    ,  1.2247],
           [ 0.    ,  0.    ,  0.    ]])
    """
    centred = _centred(x)
    return centred / _scale(centred, eps)


def layernorm_vjp(g, x, eps=1e-5):
    """The cotangent ``gx`` of $y = \\mathrm{layernorm}(x)$, shape ``(B, n)`` like ``x``.

    Per row, with $\\sigma = \\sqrt{v + \\epsilon}$ and $y = (x - \\mu) / \\sigma$ (see ``layernorm``):

    $$\\bar x = \\frac1\\sigma \\Big(\\bar y - \\mathrm{mean}(\\bar y) -
    y \\, \\mathrm{mean}(\\bar y \\odot y)\\Big).$$

    Entry $x_i$ reaches the outputs along three paths, and its cotangent is their sum: directly
    through $x_i - \\mu$ (giving $\\bar y_i / \\sigma$); through the mean $\\mu$, which every
    output uses ($\\partial \\mu / \\partial x_i = 1/n$, giving $-\\mathrm{mean}(\\bar y) / \\sigma$);
    and through the variance ($\\partial \\sigma / \\partial x_i = (x_i - \\mu) / (n \\sigma)$, giving
    $-y_i \\, \\mathrm{mean}(\\bar y \\odot y) / \\sigma$; its own path through $\\mu$ adds nothing,
    since the centred row sums to 0). The Jacobian of a row,
    $(I - \\frac1n \\mathbf 1 \\mathbf 1^\\top - \\frac1n y y^\\top) / \\sigma$, is symmetric, so this
    same function is the JVP too. A constant row has $y = 0$, and there
    $\\bar x = (\\bar y - \\mathrm{mean}(\\bar y)) / \\sqrt\\epsilon$ exactly.

    >>> layernorm_vjp(np.array([[3.0, 0.0, 0.0]]), np.array([[5.0, 5.0, 5.0]]), eps=1.0)
    array([[ 2., -1., -1.]])
    """
    centred = _centred(x)
    sigma = _scale(centred, eps)
    y = centred / sigma
    return (g - anp.mean(g, axis=-1, keepdims=True) - y * anp.mean(g * y, axis=-1, keepdims=True)) / sigma


# eps is a hyperparameter, not differentiated. The Jacobian is symmetric (see layernorm_vjp),
# so, as for the elementwise layers, one function serves both modes.
defvjp(layernorm, lambda g, ans, x, eps=1e-5: layernorm_vjp(g, x, eps), None)
defjvp(layernorm, lambda t, ans, x, eps=1e-5: layernorm_vjp(t, x, eps), None)


# --- a multilayer perceptron ----------------------------------------------------------------


def init_mlp(sizes: Sequence[int], rng: np.random.Generator | int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Parameters ``[(W1, b1), ...]`` of an MLP with layer widths ``sizes = [n, m1, ..., mL]``.

    He initialisation: $W_l$ of shape $(m_l, m_{l-1})$ has entries drawn from
    $\\mathcal N(0, 2 / m_{l-1})$, which keeps the scale of the activations about constant
    through ReLU layers; the biases start at 0.

    >>> [(W.shape, b.shape) for W, b in init_mlp([2, 16, 3])]
    [((16, 2), (16,)), ((3, 16), (3,))]
    """
    rng = np.random.default_rng(rng)
    return [(rng.standard_normal((m, n)) * np.sqrt(2.0 / n), np.zeros(m))
            for n, m in itertools.pairwise(sizes)]


def mlp(params: Params, x):
    """The logits of an MLP: linear layers with ReLU after every one but the last.

    Written with the fused layers, so it can be differentiated with ``grad``. For
    ``params = [(W1, b1), ..., (WL, bL)]`` and a batch of rows ``x``: $h_0 = x$,
    $h_l = \\mathrm{relu}(h_{l-1} W_l^\\top + b_l)$ for $l < L$, and the logits are
    $h_{L-1} W_L^\\top + b_L$. Here $h_1 = \\mathrm{relu}(x_0 - x_1)$ and the logit is $2 h_1 + 1$:

    >>> params = [(np.array([[1.0, -1.0]]), np.array([0.0])), (np.array([[2.0]]), np.array([1.0]))]
    >>> mlp(params, np.array([[3.0, 1.0], [1.0, 3.0]]))
    array([[5.],
           [1.]])
    """
    *hidden, (W_last, b_last) = params
    h = x
    for W, b in hidden:
        h = relu(linear(h, W, b))
    return linear(h, W_last, b_last)


def mlp_loss(params: Params, x, labels):
    """The softmax cross-entropy of ``mlp(params, x)`` against ``labels``.

    $L = \\mathrm{CE}(\\mathrm{mlp}(x), y)$, a scalar, so ``grad(mlp_loss)`` gives its gradient
    with respect to every parameter, by reverse mode. Zero weights give equal logits, and a loss
    of $\\log C$ for $C$ classes; the gradient is that of the hand-written backward pass:

    >>> float(mlp_loss([(np.zeros((2, 2)), np.zeros(2))], np.ones((3, 2)), np.array([0, 1, 1])))  # log 2
    0.6931471805599453
    >>> from autodiff_kit import grad
    >>> params, x, labels = init_mlp([2, 3, 2], rng=0), np.ones((4, 2)), np.array([0, 1, 1, 0])
    >>> by_hand = mlp_loss_and_grads(params, x, labels)[1]
    >>> all(np.allclose(a, b) for layer_a, layer_b in zip(grad(mlp_loss)(params, x, labels), by_hand)
    ...     for a, b in zip(layer_a, layer_b))
    True
    """
    return softmax_cross_entropy(mlp(params, x), labels)


def mlp_loss_and_grads(params: Params, x: np.ndarray, labels: np.ndarray):
    """The loss of an MLP and its gradients, by backpropagation written out by hand.

    Forward, for layers $l = 1..L$: $z_l = h_{l-1} W_l^\\top + b_l$ with $h_0 = x$,
    $h_l = \\mathrm{relu}(z_l)$ for $l < L$, and $L = \\mathrm{CE}(z_L, y)$. Every layer's
    input $h_{l-1}$ and pre-activation $z_l$ are stored, because the VJPs need them.

    Backward, from $\\bar L = 1$: $\\bar z_L = \\mathrm{CE}$'s VJP; then for $l = L..1$,
    ``linear_vjp`` gives $(\\bar h_{l-1}, \\bar W_l, \\bar b_l)$ from $\\bar z_l$, and
    ``relu_vjp`` turns $\\bar h_{l-1}$ into $\\bar z_{l-1}$.

    Returns ``(loss, [(gW1, gb1), ..., (gWL, gbL)])``, in the order of ``params``.

    >>> params = init_mlp([2, 3, 2], rng=0)
    >>> loss, grads = mlp_loss_and_grads(params, np.ones((4, 2)), np.array([0, 1, 1, 0]))
    >>> [(gW.shape, gb.shape) for gW, gb in grads]
    [((3, 2), (3,)), ((2, 3), (2,))]
    """
    # Forward pass: keep what the backward pass needs.
    inputs, pre_activations = [], []
    h = x
    for layer, (W, b) in enumerate(params):
        inputs.append(h)
        z = linear(h, W, b)
        pre_activations.append(z)
        is_last = layer == len(params) - 1
        h = z if is_last else relu(z)
    loss = softmax_cross_entropy(h, labels)

    # Backward pass: from the loss to the first layer, one VJP per layer.
    grads = []
    g = softmax_cross_entropy_vjp(1.0, h, labels)  # the cotangent of the logits z_L
    for layer in reversed(range(len(params))):
        W, b = params[layer]
        g_input, gW, gb = linear_vjp(g, inputs[layer], W, b)
        grads.append((gW, gb))
        if layer > 0:
            g = relu_vjp(g_input, pre_activations[layer - 1])  # the cotangent of z_(l-1)
    return loss, grads[::-1]


def accuracy(logits, labels) -> float:
    """The fraction of rows whose largest logit is at the label.

    >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), np.array([0, 1, 1]))
    0.6666666666666666
    """
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(labels)))
