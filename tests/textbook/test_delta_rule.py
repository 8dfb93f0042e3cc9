"""nn.deltas on its own: published worked examples, hand computations, central differences,
clear errors, and proof that it does not depend on the engine."""

from __future__ import annotations

import ast
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from nn import deltas
from nn.textbook.deltas import LOSSES, Network, as_network, backprop

DELTAS_PY = Path(deltas.__file__)

# --- Matt Mazur, "A Step by Step Backpropagation Example" (2015) ----------------------------
# 2-2-2, logistic hidden and output units, E = sum 1/2 (target - out)^2, inputs 0.05 and 0.10,
# targets 0.01 and 0.99. net_h1 = w1 i1 + w2 i2 + b1, net_h2 = w3 i1 + w4 i2 + b1,
# net_o1 = w5 out_h1 + w6 out_h2 + b2, net_o2 = w7 out_h1 + w8 out_h2 + b2. The post shares one
# bias per layer (b1 = 0.35, b2 = 0.60): here each neuron has its own bias, set equal.
MAZUR_W = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
MAZUR_B = [[0.35, 0.35], [0.60, 0.60]]
MAZUR_X = [[0.05, 0.10]]
MAZUR_T = [[0.01, 0.99]]
ETA = 0.5  # the post's learning rate; it publishes the updated weights w - eta * dE/dw


def published(text: str, units: float = 0.5) -> tuple[float, float]:
    """A published decimal and ``units`` of its last printed digit (half: its rounding)."""
    decimals = len(text.split(".")[1])
    return float(text), units * 10.0 ** -decimals + 1e-15


def assert_published(value: float, text: str, units: float = 0.5) -> None:
    expected, tol = published(text, units)
    assert abs(value - expected) <= tol, f"{value!r} does not round to the published {text}"


def mazur_result() -> deltas.DeltaResult:
    net = Network.from_lists(MAZUR_W, MAZUR_B, "sigmoid")
    return backprop(net, MAZUR_X, MAZUR_T, loss="sse")


def test_mazur_forward_pass_and_total_error() -> None:
    r = mazur_result()
    ex = r.examples[0]
    assert_published(ex.layers[0].a[0], "0.3775")
    assert_published(ex.layers[0].z[0], "0.593269992")
    assert_published(ex.layers[0].z[1], "0.596884378")
    assert_published(ex.layers[1].a[0], "1.105905967")
    assert_published(ex.output[0], "0.75136507")
    assert_published(ex.output[1], "0.772928465")
    assert_published(r.loss, "0.298371109")


def test_mazur_output_layer_deltas_and_gradients() -> None:
    r = mazur_result()
    ex = r.examples[0]
    assert_published(ex.dE_dy[0], "0.74136507")  # dE/dout_o1
    y = ex.output[0]
    assert_published(y * (1 - y), "0.186815602")  # dout_o1/dnet_o1
    assert_published(ex.layers[1].delta[0], "0.138498562")  # dE/dnet_o1
    assert_published(r.grad_w[1][0][0], "0.082167041")  # dE/dw5
    updated = {"0.35891648": r.grad_w[1][0][0], "0.408666186": r.grad_w[1][0][1],
               "0.511301270": r.grad_w[1][1][0], "0.561370121": r.grad_w[1][1][1]}
    olds = [0.40, 0.45, 0.50, 0.55]
    for (text, g), w in zip(updated.items(), olds):
        assert_published(w - ETA * g, text)


def test_mazur_hidden_layer_deltas_and_gradients() -> None:
    r = mazur_result()
    ex = r.examples[0]
    z_h1 = ex.layers[0].z[0]
    assert_published(z_h1 * (1 - z_h1), "0.241300709")  # dout_h1/dnet_h1
    # dE/dout_h1 = sum_k w_k1 delta_k, from the layer above only.
    assert_published(ex.layers[0].delta[0] / (z_h1 * (1 - z_h1)), "0.036350306")
    assert_published(MAZUR_W[1][0][0] * ex.layers[1].delta[0], "0.055399425")
    # The post multiplies already-rounded factors here, so its last digit is off by one.
    assert_published(MAZUR_W[1][1][0] * ex.layers[1].delta[1], "-0.019049119", units=1.0)
    assert_published(r.grad_w[0][0][0], "0.000438568")  # dE/dw1
    for (j, i), old, text in [((0, 0), 0.15, "0.149780716"), ((0, 1), 0.20, "0.19956143"),
                              ((1, 0), 0.25, "0.24975114"), ((1, 1), 0.30, "0.29950229")]:
        assert_published(old - ETA * r.grad_w[0][j][i], text)


def test_mazur_shared_bias_gradient_is_the_sum_of_the_layers_bias_gradients() -> None:
    # The post's b1 feeds both hidden neurons, so dE/db1 = delta_h1 + delta_h2; a per-neuron
    # bias gradient is each term. Central differences on the shared bias confirm the sum.
    r = mazur_result()

    def loss_with_shared(b1: float) -> float:
        net = Network.from_lists(MAZUR_W, [[b1, b1], MAZUR_B[1]], "sigmoid")
        return backprop(net, MAZUR_X, MAZUR_T).loss

    h = 1e-6
    numeric = (loss_with_shared(0.35 + h) - loss_with_shared(0.35 - h)) / (2 * h)
    assert sum(r.grad_b[0]) == pytest.approx(numeric, rel=1e-7)


# --- hand computations ----------------------------------------------------------------------

def one_layer(w: list[list[float]], b: list[float], act: str) -> Network:
    return Network.from_lists([w], [b], act)


def test_softmax_cross_entropy_output_delta_is_p_minus_onehot() -> None:
    net = one_layer([[1.0, -2.0], [0.5, 0.25], [-1.0, 3.0]], [0.1, 0.0, -0.2], "linear")
    x = [0.3, 0.7]
    r = backprop(net, [x], [2], loss="softmax_ce")
    a = [1.0 * 0.3 - 2.0 * 0.7 + 0.1, 0.5 * 0.3 + 0.25 * 0.7, -1.0 * 0.3 + 3.0 * 0.7 - 0.2]
    s = sum(math.exp(v) for v in a)
    p = [math.exp(v) / s for v in a]
    assert r.examples[0].layers[0].delta == pytest.approx([p[0], p[1], p[2] - 1.0], rel=1e-14)
    assert r.loss == pytest.approx(math.log(s) - a[2], rel=1e-14)
    assert r.grad_w[0][1] == pytest.approx([p[1] * 0.3, p[1] * 0.7], rel=1e-14)


def test_matching_pairs_give_y_minus_t() -> None:
    # sigmoid with binary cross-entropy, linear with sum of squares: delta_k = y_k - t_k.
    w, b, x = [[0.7, -0.4]], [0.2], [1.5, 0.5]
    r = backprop(one_layer(w, b, "sigmoid"), [x], [1.0], loss="bce")
    y = r.examples[0].output[0]
    assert r.examples[0].layers[0].delta[0] == pytest.approx(y - 1.0, rel=1e-12)
    r = backprop(one_layer(w, b, "linear"), [x], [0.25], loss="sse")
    y = r.examples[0].output[0]
    assert r.examples[0].layers[0].delta[0] == pytest.approx(y - 0.25, rel=1e-15)


def test_mismatched_pair_uses_the_general_output_delta() -> None:
    # sigmoid with sum of squares: delta = (y - t) * y * (1 - y), not y - t.
    r = backprop(one_layer([[0.7, -0.4]], [0.2], "sigmoid"), [[1.5, 0.5]], [1.0], loss="sse")
    y = r.examples[0].output[0]
    d = r.examples[0].layers[0].delta[0]
    assert d == pytest.approx((y - 1.0) * y * (1.0 - y), rel=1e-14)
    assert abs(d - (y - 1.0)) > 0.1


def test_relu_at_the_kink_has_zero_derivative() -> None:
    # a = 0 exactly (input 0, bias 0): relu'(0) = 0 blocks the delta, like the engine.
    net = Network.from_lists([[[2.0]], [[3.0]]], [[0.0], [1.0]], ["relu", "linear"])
    r = backprop(net, [[0.0]], [5.0])
    assert r.examples[0].layers[0].a == [0.0]
    assert r.examples[0].layers[0].delta == [0.0]
    assert r.examples[0].layers[1].delta == [1.0 - 5.0]


def test_gradients_are_summed_over_examples_and_flattened_in_parameter_order() -> None:
    net = Network.from_lists([[[0.5, -1.0], [2.0, 0.1]], [[1.0, -1.0]]], [[0.1, 0.2], [0.3]],
                             ["tanh", "linear"])
    xs, ys = [[0.1, 0.2], [-0.5, 1.0], [2.0, -1.0]], [0.5, -0.5, 1.0]
    total = backprop(net, xs, ys)
    parts = [backprop(net, [x], [y]) for x, y in zip(xs, ys)]
    for k, g in enumerate(total.gradients()):
        assert g == pytest.approx(sum(p.gradients()[k] for p in parts), rel=1e-14)
    assert total.loss == pytest.approx(sum(p.loss for p in parts), rel=1e-14)
    # Order: layer 0 neuron 0 (w0, w1, b), layer 0 neuron 1 (w0, w1, b), layer 1 (w0, w1, b).
    g = total.gradients()
    assert g[:3] == [*total.grad_w[0][0], total.grad_b[0][0]]
    assert g[6:] == [*total.grad_w[1][0], total.grad_b[1][0]]
    assert len(g) == len(net.parameters()) == 9


# --- central differences: the delta rule against the definition of a derivative -------------

CASES = [
    (["tanh", "linear"], "sse", [0.3, -1.2]),
    (["sigmoid", "sigmoid"], "bce", [1.0, 0.0]),
    (["softplus", "linear"], "mse", [0.5, 2.0]),
    (["sin", "linear"], "bce_logits", [1.0, 0.0]),
    (["exp", "tanh"], "hinge", [1.0, -1.0]),
    (["leaky_relu", "linear"], "softmax_ce", [1, 0]),
    (["relu", "sigmoid", "linear"], "sse", [0.1, 0.9]),
    (["gelu", "linear"], "sse", [0.3, -1.2]),
    (["silu", "tanh"], "mse", [0.5, -0.4]),
    (["elu", "linear"], "bce_logits", [1.0, 0.0]),
    (["gelu", "silu", "elu"], "sse", [0.1, 0.9]),
]


@pytest.mark.parametrize("acts, loss, ys", CASES)
def test_gradients_match_central_differences(acts: list[str], loss: str, ys: list[float]) -> None:
    rng = random.Random(7)
    sizes = [3, *[4, 3][: len(acts) - 1], 2 if loss == "softmax_ce" else 1]
    weights = [[[rng.uniform(-0.8, 0.8) for _ in range(sizes[li])]
                for _ in range(sizes[li + 1])] for li in range(len(acts))]
    biases = [[rng.uniform(-0.5, 0.5) for _ in range(sizes[li + 1])] for li in range(len(acts))]
    xs = [[rng.uniform(-1, 1) for _ in range(sizes[0])] for _ in ys]
    net = Network.from_lists(weights, biases, acts)
    analytic = backprop(net, xs, ys, loss=loss).gradients()
    flat = net.parameters()

    def loss_at(params: list[float]) -> float:
        # Rebuild from parameters() order: each neuron's weights then its bias.
        it = iter(params)
        w: list[list[list[float]]] = []
        b: list[list[float]] = []
        for layer in weights:
            lw: list[list[float]] = []
            lb: list[float] = []
            for row in layer:
                lw.append([next(it) for _ in row])
                lb.append(next(it))
            w.append(lw)
            b.append(lb)
        return backprop(Network.from_lists(w, b, acts), xs, ys, loss=loss).loss

    h = 1e-6
    for k in range(len(flat)):
        up, down = list(flat), list(flat)
        up[k] += h
        down[k] -= h
        numeric = (loss_at(up) - loss_at(down)) / (2 * h)
        assert analytic[k] == pytest.approx(numeric, rel=1e-6, abs=1e-8), f"parameter {k}"


# --- the model may be an nn.MLP, a Network or a list of layer dicts --------------------------

def test_reads_an_nn_mlp_through_data() -> None:
    from nn.layers import MLP

    m = MLP(2, [3, 1], activation="tanh", seed=3)
    net = as_network(m)
    assert [layer.activation for layer in net.layers] == ["tanh", "linear"]
    assert net.parameters() == [p.data for p in m.parameters()]
    dicts = [{"w": layer.w, "b": layer.b, "activation": layer.activation} for layer in net.layers]
    assert as_network(dicts).parameters() == net.parameters()


# --- errors say what does not fit -----------------------------------------------------------

NET = Network.from_lists([[[1.0, 2.0]]], [[0.0]], "linear")


@pytest.mark.parametrize("call, message", [
    (lambda: backprop(NET, [[1.0, 2.0]], [1.0], loss="cross_entropy"), "unknown loss"),
    (lambda: backprop(NET, [[1.0, 2.0, 3.0]], [1.0]), "has 3 input(s) but the network takes 2"),
    (lambda: backprop(NET, [[1.0, 2.0]], [[1.0, 2.0]]), "2 value(s) but the network has 1"),
    (lambda: backprop(NET, [[1.0, 2.0]], [1.0, 2.0]), "1 examples but 2 targets"),
    (lambda: backprop(NET, [], []), "at least one example"),
    (lambda: backprop(NET, [[1.0, 2.0]], [3], loss="softmax_ce"), "class index in 0..0"),
    (lambda: backprop(NET, [[1.0, "a"]], [1.0]), "example 0 input 1"),
    (lambda: Network.from_lists([[[1.0]]], [[0.0]], "swish").layers, "unknown activation"),
    (lambda: Network.from_lists([[[1.0]], [[1.0, 2.0]]], [[0.0], [0.0]], "tanh"),
     "layer 1's neurons take 2 inputs but layer 0 has 1 neurons"),
    (lambda: Network.from_lists([[[1.0]]], [[0.0], [1.0]], "tanh"), "one entry per layer"),
    (lambda: as_network(42), "expected an nn.MLP"),
    (lambda: backprop(Network.from_lists([[[100.0]]], [[0.0]], "sigmoid"), [[1.0]], [1.0],
                      loss="bce"), "loss 'bce' is undefined at the outputs [1.0]"),
    (lambda: backprop(Network.from_lists([[[1000.0]]], [[0.0]], "exp"), [[1.0]], [1.0]),
     "an activation overflowed"),
])
def test_misfits_raise_clear_errors(call: object, message: str) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        call()  # type: ignore[operator]
    assert message in str(info.value)


# --- independence: nothing from the engine --------------------------------------------------

STDLIB_ONLY = {"__future__", "math", "dataclasses", "collections.abc", "typing"}


def test_deltas_imports_only_the_standard_library() -> None:
    tree = ast.parse(DELTAS_PY.read_text())
    seen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            seen.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import would pull in nn (and so autograd)"
            seen.add(node.module or "")
    assert seen <= STDLIB_ONLY, f"nn/deltas.py imports {sorted(seen - STDLIB_ONLY)}"
    assert not any(name.split(".")[0] in ("autograd", "nn") for name in seen)


def test_deltas_runs_with_the_engine_blocked() -> None:
    # Load the file on its own in a fresh interpreter where `import autograd` fails.
    code = f"""
import importlib.util, sys
sys.modules["autograd"] = None  # any import of the engine now raises ImportError
spec = importlib.util.spec_from_file_location("standalone_deltas", {str(DELTAS_PY)!r})
mod = importlib.util.module_from_spec(spec)
sys.modules["standalone_deltas"] = mod
spec.loader.exec_module(mod)
net = mod.Network.from_lists({MAZUR_W!r}, {MAZUR_B!r}, "sigmoid")
r = mod.backprop(net, {MAZUR_X!r}, {MAZUR_T!r}, loss="sse")
assert sys.modules["autograd"] is None and "nn" not in sys.modules
print(repr(r.loss), repr(r.grad_w[1][0][0]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    loss, g = (float(v) for v in out.stdout.split())
    assert_published(loss, "0.298371109")
    assert_published(g, "0.082167041")


def test_loss_table_names_match_nn_losses() -> None:
    from nn.losses import LOSSES as ENGINE_LOSSES

    assert set(LOSSES) == set(ENGINE_LOSSES)
