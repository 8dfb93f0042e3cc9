"""The textbook delta rule (Bishop, PRML 5.3) on plain floats: an oracle independent of the engine.

For a multilayer perceptron with a_j = sum_i w_ji z_i + b_j and z_j = h(a_j), and for each
example n:

1. forward: a_j and z_j for every neuron, layer by layer (z_i = x_i for the first layer);
2. backward: the output deltas delta_k = sum_k' dE_n/dy_k' * dy_k'/da_k = dE_n/dy_k * h'(a_k),
   then each hidden layer from the one above only: delta_j = h'(a_j) * sum_k w_kj delta_k;
3. gradients: dE_n/dw_ji = delta_j * z_i and dE_n/db_j = delta_j;
4. over N examples, repeat and sum: dE/dw = sum_n dE_n/dw. The total loss is E = sum_n E_n
   (a sum, not a mean, so the gradients are the textbook ones).

This module imports nothing from ``autograd`` and nothing from the rest of ``nn`` (a test checks
both), so it can be read next to the book and used to check the engine. It reads a model's
numbers only: an ``nn.MLP`` (through ``.layers``, ``.neurons``, ``.w[i].data``, ``.b.data``,
``.activation``), a :class:`Network`, or nested lists (:meth:`Network.from_lists`).

Conventions shared with the engine: relu'(0) = 0, leaky_relu'(0) = its slope and elu'(0) = alpha,
so results agree even when an activation lands exactly on a kink; tanh'(a) = 1 - z*z,
sigmoid'(a) = z*(1 - z).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

Target = Union[float, int, Sequence[float]]
"""One example's target: a number, a list of numbers (one per output) or a class index."""

LEAKY_SLOPE = 0.01
"""The negative-side slope of "leaky_relu" (the engine's default)."""

ELU_ALPHA = 1.0
"""The negative-side scale alpha of "elu" (the engine's default)."""


# ---------------------------------------------------------------------------------------------
# Activations: h(a) and h'(a), the derivative written with the output z = h(a) where the
# textbook does (tanh, sigmoid, exp).


def _sigmoid(a: float) -> float:
    # Two branches so exp never overflows.
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _softplus(a: float) -> float:
    # log(1 + e^a) = max(a, 0) + log(1 + e^-|a|), which never overflows.
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))


def _normal_cdf(a: float) -> float:
    # Phi(a) = (1 + erf(a / sqrt 2)) / 2, the standard normal distribution function.
    return 0.5 * (1.0 + math.erf(a / math.sqrt(2.0)))


def _normal_pdf(a: float) -> float:
    # phi(a) = e^(-a^2/2) / sqrt(2 pi), its density: Phi' = phi.
    return math.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)


def _elu(a: float) -> float:
    return a if a > 0.0 else ELU_ALPHA * math.expm1(a)


@dataclass(frozen=True)
class Activation:
    """A neuron's nonlinearity z = h(a) with its derivative h'(a), given a and z."""

    name: str
    h: Callable[[float], float]
    dh: Callable[[float, float], float]  # (a, z) -> h'(a)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", lambda a: a, lambda a, z: 1.0),
        Activation("relu", lambda a: a if a > 0.0 else 0.0,
                   lambda a, z: 1.0 if a > 0.0 else 0.0),  # relu'(0) = 0
        Activation("leaky_relu", lambda a: a if a > 0.0 else LEAKY_SLOPE * a,
                   lambda a, z: 1.0 if a > 0.0 else LEAKY_SLOPE),
        Activation("tanh", math.tanh, lambda a, z: 1.0 - z * z),
        Activation("sigmoid", _sigmoid, lambda a, z: z * (1.0 - z)),
        Activation("softplus", _softplus, lambda a, z: _sigmoid(a)),
        Activation("sin", math.sin, lambda a, z: math.cos(a)),
        Activation("exp", math.exp, lambda a, z: z),
        # gelu(a) = a Phi(a): by the product rule, gelu'(a) = Phi(a) + a phi(a).
        Activation("gelu", lambda a: a * _normal_cdf(a),
                   lambda a, z: _normal_cdf(a) + a * _normal_pdf(a)),
        # silu(a) = a sigma(a): silu'(a) = sigma(a) + a sigma(a) (1 - sigma(a)).
        Activation("silu", lambda a: a * _sigmoid(a),
                   lambda a, z: _sigmoid(a) + a * _sigmoid(a) * (1.0 - _sigmoid(a))),
        # elu'(a) = alpha e^a on the negative side, alpha at the kink (the engine's choice).
        Activation("elu", _elu, lambda a, z: 1.0 if a > 0.0 else ELU_ALPHA * math.exp(a)),
    )
}
"""Every activation the delta rule knows, by the names ``nn`` uses."""


# ---------------------------------------------------------------------------------------------
# Losses: one example's E_n(y, t) and dE_n/dy_k. The softmax of "softmax_ce" and the sigmoid of
# "bce_logits" belong to the loss, so the network's last layer is usually "linear" with them.


@dataclass(frozen=True)
class Loss:
    """A per-example loss E_n(y, t) and its gradient dE_n/dy with respect to the outputs y."""

    name: str
    formula: str
    value: Callable[[list[float], list[float]], float]
    grad: Callable[[list[float], list[float]], list[float]]
    classes: bool = False  # the target is one class index, not one number per output


def _sse(y: list[float], t: list[float]) -> float:
    return 0.5 * sum((yk - tk) ** 2 for yk, tk in zip(y, t))


def _mse(y: list[float], t: list[float]) -> float:
    return sum((yk - tk) ** 2 for yk, tk in zip(y, t)) / len(y)


def _bce(y: list[float], t: list[float]) -> float:
    return -sum(tk * math.log(yk) + (1.0 - tk) * math.log(1.0 - yk) for yk, tk in zip(y, t))


def _bce_grad(y: list[float], t: list[float]) -> list[float]:
    return [-tk / yk + (1.0 - tk) / (1.0 - yk) for yk, tk in zip(y, t)]


def _bce_logits(y: list[float], t: list[float]) -> float:
    return sum(_softplus(yk) - tk * yk for yk, tk in zip(y, t))


def _log_sum_exp(y: list[float]) -> float:
    m = max(y)
    return m + math.log(sum(math.exp(yk - m) for yk in y))


def _softmax_ce(y: list[float], t: list[float]) -> float:
    return _log_sum_exp(y) - y[int(t[0])]


def _softmax_ce_grad(y: list[float], t: list[float]) -> list[float]:
    lse = _log_sum_exp(y)
    c = int(t[0])
    return [math.exp(yk - lse) - (1.0 if k == c else 0.0) for k, yk in enumerate(y)]


def _hinge(y: list[float], t: list[float]) -> float:
    return sum(max(1.0 - tk * yk, 0.0) for yk, tk in zip(y, t))


LOSSES: dict[str, Loss] = {
    f.name: f
    for f in (
        Loss("sse", "E = 1/2 sum_k (y_k - t_k)^2", _sse,
             lambda y, t: [yk - tk for yk, tk in zip(y, t)]),
        Loss("mse", "E = 1/K sum_k (y_k - t_k)^2", _mse,
             lambda y, t: [2.0 * (yk - tk) / len(y) for yk, tk in zip(y, t)]),
        Loss("bce", "E = -sum_k [t_k log y_k + (1 - t_k) log(1 - y_k)], y_k in (0, 1)",
             _bce, _bce_grad),
        Loss("bce_logits", "E = sum_k [log(1 + e^y_k) - t_k y_k], y_k a logit", _bce_logits,
             lambda y, t: [_sigmoid(yk) - tk for yk, tk in zip(y, t)]),
        Loss("softmax_ce", "E = log sum_k e^y_k - y_c, c the target class", _softmax_ce,
             _softmax_ce_grad, classes=True),
        # relu'(0) = 0 again: at the margin 1 - t*y = 0 the gradient is 0.
        Loss("hinge", "E = sum_k max(0, 1 - t_k y_k), t_k = -1 or +1", _hinge,
             lambda y, t: [-tk if 1.0 - tk * yk > 0.0 else 0.0 for yk, tk in zip(y, t)]),
    )
}
"""Every per-example loss the delta rule knows, by the names of ``nn.losses.LOSSES``."""


# ---------------------------------------------------------------------------------------------
# The network as plain numbers.


@dataclass(frozen=True)
class LayerWeights:
    """One fully connected layer: ``w[j][i]`` is w_ji (input i to neuron j), ``b[j]`` is b_j."""

    w: list[list[float]]
    b: list[float]
    activation: str

    @property
    def nin(self) -> int:
        """The number of inputs of each neuron."""
        return len(self.w[0])

    @property
    def nout(self) -> int:
        """The number of neurons."""
        return len(self.w)


@dataclass(frozen=True)
class Network:
    """A multilayer perceptron as plain floats, layer by layer."""

    layers: list[LayerWeights]

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return self.layers[0].nin

    @property
    def nout(self) -> int:
        """The number of outputs."""
        return self.layers[-1].nout

    def parameters(self) -> list[float]:
        """Every weight and bias in ``nn``'s order: layer by layer, neuron by neuron, w then b."""
        return [p for layer in self.layers for wj, bj in zip(layer.w, layer.b) for p in (*wj, bj)]

    @staticmethod
    def from_lists(weights: Sequence[Sequence[Sequence[float]]], biases: Sequence[Sequence[float]],
                   activations: str | Sequence[str]) -> Network:
        """Build from ``weights[l][j][i]`` = w_ji of layer l, ``biases[l][j]`` and activations.

        ``activations`` is one name per layer, or one name for every layer.
        """
        if isinstance(activations, str):
            activations = [activations] * len(weights)
        if not (len(weights) == len(biases) == len(activations)):
            raise ValueError(f"Network.from_lists: got {len(weights)} weight matrices, "
                             f"{len(biases)} bias vectors and {len(activations)} activations; "
                             "each needs one entry per layer")
        layers = [
            LayerWeights([[float(v) for v in row] for row in w], [float(v) for v in b], act)
            for w, b, act in zip(weights, biases, activations)
        ]
        return _checked(Network(layers))


def _number(v: Any, where: str) -> float:
    data = getattr(v, "data", v)  # a Value from the engine, or a plain number
    if not isinstance(data, (str, bytes, bool)):
        try:
            return float(data)  # int, float, numpy scalars
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{where}: expected a number (or an object with a numeric .data); "
                    f"got {type(v).__name__}: {v!r}")


def _checked(net: Network) -> Network:
    if not net.layers:
        raise ValueError("the network has no layers")
    nin: int | None = None
    for li, layer in enumerate(net.layers):
        if layer.activation not in ACTIVATIONS:
            raise ValueError(f"layer {li}: unknown activation {layer.activation!r}; the delta rule "
                             f"knows {', '.join(ACTIVATIONS)}")
        if not layer.w:
            raise ValueError(f"layer {li} has no neurons")
        if len(layer.b) != len(layer.w):
            raise ValueError(f"layer {li} has {len(layer.w)} weight rows but {len(layer.b)} biases")
        widths = {len(row) for row in layer.w}
        if len(widths) != 1:
            raise ValueError(f"layer {li}: neurons have different numbers of weights "
                             f"{sorted(widths)}")
        width = widths.pop()
        if width < 1:
            raise ValueError(f"layer {li}: neurons have no weights")
        if nin is not None and width != nin:
            raise ValueError(f"layer {li}'s neurons take {width} inputs but layer {li - 1} has "
                             f"{nin} neurons")
        nin = len(layer.w)
    return net


def as_network(model: Any) -> Network:
    """Read a model's numbers: a :class:`Network`, an ``nn.MLP``, or a list of layer dicts.

    A layer dict is ``{"w": [[w_ji ...] per neuron], "b": [b_j ...], "activation": name}``.
    An ``nn.MLP`` (anything with ``.layers``, each with ``.neurons`` holding ``.w``, ``.b`` and
    ``.activation``) is read through ``.data``; nothing is imported to do so.
    """
    if isinstance(model, Network):
        return _checked(model)
    if isinstance(model, (list, tuple)) and all(isinstance(d, dict) for d in model):
        try:
            return Network.from_lists([d["w"] for d in model], [d["b"] for d in model],
                                      [d["activation"] for d in model])
        except KeyError as e:
            raise ValueError(f"each layer dict needs keys 'w', 'b' and 'activation'; "
                             f"one lacks {e}") from None
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(f"expected an nn.MLP, a deltas.Network or a list of layer dicts "
                        f"{{'w', 'b', 'activation'}}; got {type(model).__name__}")
    out: list[LayerWeights] = []
    for li, layer in enumerate(layers):
        neurons = list(getattr(layer, "neurons", ()))
        if not neurons:
            raise ValueError(f"layer {li} has no neurons (expected a .neurons list)")
        names = {str(getattr(n, "activation", getattr(layer, "activation", "linear")))
                 for n in neurons}
        if len(names) != 1:
            raise ValueError(f"layer {li} mixes activations {sorted(names)}; the delta rule "
                             "here takes one activation per layer")
        w = [[_number(v, f"layer {li} neuron {j} weight {i}") for i, v in enumerate(n.w)]
             for j, n in enumerate(neurons)]
        b = [_number(n.b, f"layer {li} neuron {j} bias") for j, n in enumerate(neurons)]
        out.append(LayerWeights(w, b, names.pop()))
    return _checked(Network(out))


# ---------------------------------------------------------------------------------------------
# The result.


@dataclass(frozen=True)
class LayerStage:
    """One layer for one example: activations a_j, outputs z_j = h(a_j), deltas dE_n/da_j."""

    a: list[float]
    z: list[float]
    delta: list[float]


@dataclass(frozen=True)
class ExampleResult:
    """One example n: its input, target, every layer's stage, dE_n/dy and the loss E_n."""

    x: list[float]
    target: list[float]
    layers: list[LayerStage]
    dE_dy: list[float]
    loss: float

    @property
    def output(self) -> list[float]:
        """The network's outputs y_k (the last layer's z)."""
        return self.layers[-1].z


@dataclass(frozen=True)
class DeltaResult:
    """Everything the delta rule computed over N examples.

    ``examples[n].layers[l]`` holds a, z and delta of layer l for example n. ``grad_w[l][j][i]``
    is dE/dw_ji and ``grad_b[l][j]`` is dE/db_j, both summed over the examples, as is ``loss``
    (E = sum_n E_n). :meth:`gradients` flattens them in ``model.parameters()`` order.
    """

    examples: list[ExampleResult]
    grad_w: list[list[list[float]]]
    grad_b: list[list[float]]
    loss: float
    loss_name: str
    activations: list[str]

    def gradients(self) -> list[float]:
        """dE/dp for every parameter p, in ``model.parameters()`` order (w_j0..w_j,nin-1, b_j)."""
        return [g for gw, gb in zip(self.grad_w, self.grad_b)
                for gwj, gbj in zip(gw, gb) for g in (*gwj, gbj)]

    def deltas(self, layer: int) -> list[list[float]]:
        """``deltas(l)[n][j]``: delta_j of layer l for example n."""
        return [ex.layers[layer].delta for ex in self.examples]


# ---------------------------------------------------------------------------------------------
# The algorithm.


def targets_for(loss: Loss, y: Target, nout: int, n: int) -> list[float]:
    """Normalize one example's target to a list: one number per output, or [class index]."""
    if loss.classes:
        if isinstance(y, Sequence) and not isinstance(y, str):
            if len(y) != 1:
                raise ValueError(f"example {n}: loss {loss.name!r} takes one class index as the "
                                 f"target; got {list(y)!r}")
            y = y[0]
        c = _number(y, f"example {n} target")
        if not c.is_integer() or not 0 <= c < nout:
            raise ValueError(f"example {n}: loss {loss.name!r} needs a class index in "
                             f"0..{nout - 1} (the network has {nout} outputs); got {y!r}")
        return [c]
    if isinstance(y, Sequence) and not isinstance(y, str):
        t = [_number(v, f"example {n} target {k}") for k, v in enumerate(y)]
    else:
        t = [_number(y, f"example {n} target")]
    if len(t) != nout:
        raise ValueError(f"example {n}: the target has {len(t)} value(s) but the network has "
                         f"{nout} output(s)")
    return t


def forward(net: Network, x: Sequence[float]) -> tuple[list[list[float]], list[list[float]]]:
    """The forward stage: per layer, a_j = sum_i w_ji z_i + b_j and z_j = h(a_j)."""
    a_all: list[list[float]] = []
    z_all: list[list[float]] = []
    z = [float(v) for v in x]
    for layer in net.layers:
        h = ACTIVATIONS[layer.activation].h
        # Summed in the order w_j0 z_0 + ... + w_j,n-1 z_n-1 + b_j, so an input on a kink lands
        # exactly on it here too.
        a = []
        for wj, bj in zip(layer.w, layer.b):
            s = wj[0] * z[0]
            for wji, zi in zip(wj[1:], z[1:]):
                s += wji * zi
            a.append(s + bj)
        z = [h(aj) for aj in a]
        a_all.append(a)
        z_all.append(z)
    return a_all, z_all


def backward(net: Network, a: list[list[float]], z: list[list[float]],
             dE_dy: list[float]) -> list[list[float]]:
    """The backward stage: the deltas of every layer, the output layer's first.

    Output: delta_k = dE_n/dy_k * h'(a_k), the general formula, used for every pair. For the
    matching pairs (linear with "sse", sigmoid with "bce") it equals y_k - t_k; for a
    mismatched pair (say sigmoid with "sse") it does not, and the general one is the right one.
    Hidden: delta_j = h'(a_j) * sum_k w_kj delta_k, from the layer immediately above only.
    """
    L = len(net.layers)
    deltas: list[list[float]] = [[] for _ in range(L)]
    dh = ACTIVATIONS[net.layers[-1].activation].dh
    deltas[-1] = [g * dh(ak, zk) for g, ak, zk in zip(dE_dy, a[-1], z[-1])]
    for li in range(L - 2, -1, -1):
        above = net.layers[li + 1]
        d_above = deltas[li + 1]
        dh = ACTIVATIONS[net.layers[li].activation].dh
        deltas[li] = [
            dh(aj, zj) * sum(above.w[k][j] * d_above[k] for k in range(above.nout))
            for j, (aj, zj) in enumerate(zip(a[li], z[li]))
        ]
    return deltas


def backprop(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[Target],
             loss: str = "sse") -> DeltaResult:
    """The delta rule over N examples: per-example stages and dE/dw = sum_n delta_j z_i.

    ``model``: an ``nn.MLP``, a :class:`Network` or a list of layer dicts (see
    :func:`as_network`). ``xs``: N input vectors. ``ys``: N targets (a number or one number per
    output; a class index for "softmax_ce"). ``loss``: a name from :data:`LOSSES`. The total
    loss and the gradients are sums over the examples, not means.
    """
    net = as_network(model)
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; the delta rule knows {', '.join(LOSSES)}")
    f = LOSSES[loss]
    if len(xs) != len(ys):
        raise ValueError(f"got {len(xs)} examples but {len(ys)} targets; they must pair up")
    if not xs:
        raise ValueError("backprop needs at least one example")
    grad_w = [[[0.0] * layer.nin for _ in layer.w] for layer in net.layers]
    grad_b = [[0.0] * layer.nout for layer in net.layers]
    total = 0.0
    examples: list[ExampleResult] = []
    for n, (x, y) in enumerate(zip(xs, ys)):
        if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
            raise TypeError(f"example {n}: the input must be a list of numbers; got {x!r}")
        x = [_number(v, f"example {n} input {i}") for i, v in enumerate(x)]
        if len(x) != net.nin:
            raise ValueError(f"example {n} has {len(x)} input(s) but the network takes "
                             f"{net.nin}")
        t = targets_for(f, y, net.nout, n)
        try:
            a, z = forward(net, x)
        except (ValueError, ArithmeticError) as err:  # exp overflowing
            raise ValueError(f"example {n}: the forward stage failed ({type(err).__name__}: "
                             f"{err}); an activation overflowed float64") from None
        try:
            e = f.value(z[-1], t)
            g = f.grad(z[-1], t)
        except (ValueError, ArithmeticError) as err:  # "bce" on an output of exactly 0 or 1
            raise ValueError(f"example {n}: loss {loss!r} is undefined at the outputs "
                             f"{z[-1]} ({type(err).__name__}: {err})") from None
        deltas = backward(net, a, z, g)
        for li, layer in enumerate(net.layers):
            z_in = x if li == 0 else z[li - 1]
            for j in range(layer.nout):
                dj = deltas[li][j]
                row = grad_w[li][j]
                for i, zi in enumerate(z_in):
                    row[i] += dj * zi
                grad_b[li][j] += dj
        total += e
        examples.append(ExampleResult(x, t, [LayerStage(aa, zz, dd)
                                             for aa, zz, dd in zip(a, z, deltas)], g, e))
    return DeltaResult(examples, grad_w, grad_b, total, loss,
                       [layer.activation for layer in net.layers])
