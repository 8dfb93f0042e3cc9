"""autograd against the delta rule: random networks agree, and a wrong delta is caught and named."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, apply, ops
from nn import deltas
from nn.layers import MLP
from nn.losses import LOSSES
from nn.textbook.compare import DeltaReport, compare, compare_results, engine_backprop
from nn.textbook.deltas import DeltaResult, ExampleResult, LayerStage, backprop

RTOL = 1e-10
ACTS = ["linear", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "sin", "exp", "gelu", "silu",
        "elu"]


def close(a: float, b: float, rtol: float = RTOL, atol: float = 1e-12) -> bool:
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def engine_grads(model: MLP, xs: list[list[float]], ys: list[Any], loss: str) -> tuple[
        list[float], list[list[list[float]]], float]:
    """Straight from the engine, without nn.compare: summed grads, per-example deltas, loss."""
    model.zero_grad()
    per_example = []
    total = 0.0
    for x, y in zip(xs, ys):
        tr = model.trace(x)
        e = LOSSES[loss](tr.output, y)
        e.backward()
        per_example.append([[a.grad for a in layer] for layer in tr.pre])
        total += e.data
    return [p.grad for p in model.parameters()], per_example, total


@st.composite
def problems(draw: st.DrawFn) -> tuple[MLP, list[list[float]], list[Any], str]:
    nin = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    loss = draw(st.sampled_from(sorted(LOSSES)))
    nout = draw(st.integers(2, 3)) if loss == "softmax_ce" else draw(st.integers(1, 2))
    act = draw(st.sampled_from(ACTS))
    out_act = "sigmoid" if loss == "bce" else draw(st.sampled_from(ACTS))
    model = MLP(nin, [*hidden, nout], activation=act, output_activation=out_act,
                seed=draw(st.integers(0, 2**16)))
    rng = random.Random(draw(st.integers(0, 2**16)))
    for layer in model.layers:  # nn starts biases at 0: give them values too
        for neuron in layer.neurons:
            neuron.b.data = rng.uniform(-0.5, 0.5)
    n = draw(st.integers(2, 4))
    coord = st.floats(-2, 2, allow_nan=False) | st.just(0.0)  # 0.0 lands relus on kinks
    xs = draw(st.lists(st.lists(coord, min_size=nin, max_size=nin), min_size=n, max_size=n))
    ys: list[Any]
    if loss == "softmax_ce":
        ys = draw(st.lists(st.integers(0, nout - 1), min_size=n, max_size=n))
    elif loss == "hinge":
        ys = [draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=nout, max_size=nout))
              for _ in range(n)]
    elif loss in ("bce", "bce_logits"):
        ys = [draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=nout, max_size=nout))
              for _ in range(n)]
    else:
        ys = [draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=nout, max_size=nout))
              for _ in range(n)]
    return model, xs, ys, loss


@given(problems())  # the shared profile in conftest.py: 60 examples, derandomized
def test_random_networks_agree_with_autograd(problem: tuple[MLP, list[list[float]], list[Any],
                                                            str]) -> None:
    model, xs, ys, loss = problem
    oracle = backprop(model, xs, ys, loss=loss)
    grads, per_example, total = engine_grads(model, xs, ys, loss)
    assert close(oracle.loss, total)
    for k, (g_engine, g_rule) in enumerate(zip(grads, oracle.gradients(), strict=True)):
        assert close(g_engine, g_rule), f"parameter {k}: autograd {g_engine}, delta rule {g_rule}"
    for n, layers in enumerate(per_example):
        for li, layer in enumerate(layers):
            for j, d in enumerate(layer):
                d_rule = oracle.examples[n].layers[li].delta[j]
                assert close(d, d_rule), f"example {n} layer {li} neuron {j}: {d} vs {d_rule}"
    report = compare(model, xs, ys, loss=loss, rtol=RTOL)
    assert report.ok, str(report)


def test_compare_leaves_the_models_grads_as_they_were() -> None:
    m = MLP(2, [3, 1], activation="tanh", seed=0)
    for i, p in enumerate(m.parameters()):
        p.grad = float(i)
    compare(m, [[0.1, 0.2], [0.3, -0.4]], [1.0, 0.0])
    assert [p.grad for p in m.parameters()] == [float(i) for i in range(len(m.parameters()))]


def test_engine_result_reads_a_z_and_deltas_from_the_trace() -> None:
    m = MLP(2, [2, 1], activation="tanh", seed=4)
    r = engine_backprop(m, [[0.5, -0.5]], [0.25])
    tr = m.trace([0.5, -0.5])
    assert r.examples[0].layers[0].a == [a.data for a in tr.pre[0]]
    assert r.examples[0].layers[0].z == [z.data for z in tr.post[0]]
    # linear output with sse: delta = y - t
    assert r.examples[0].layers[1].delta == [tr.output[0].data - 0.25]


def test_relu_kink_agrees() -> None:
    m = MLP(2, [3, 1], activation="relu", seed=1)
    for n in m.layers[0].neurons:
        n.b.data = 0.0
    report = compare(m, [[0.0, 0.0], [1.0, -1.0]], [1.0, 2.0])
    assert report.ok, str(report)
    ex = backprop(m, [[0.0, 0.0]], [1.0]).examples[0]
    assert ex.layers[0].a == [0.0, 0.0, 0.0] and ex.layers[0].delta == [0.0, 0.0, 0.0]


# --- catching a wrong delta and naming it ---------------------------------------------------

def with_wrong_delta(layer: int, neuron: int, example: int, by: float = 1e-3) -> Any:
    """An oracle whose delta of one neuron in one example is off by ``by``."""
    def oracle(model: Any, xs: Any, ys: Any, loss: str) -> DeltaResult:
        r = backprop(model, xs, ys, loss)
        ex = r.examples[example]
        stage = ex.layers[layer]
        wrong = list(stage.delta)
        wrong[neuron] += by
        layers = list(ex.layers)
        layers[layer] = LayerStage(stage.a, stage.z, wrong)
        examples = list(r.examples)
        examples[example] = ExampleResult(ex.x, ex.target, layers, ex.dE_dy, ex.loss)
        return dataclasses.replace(r, examples=examples)
    return oracle


def small() -> tuple[MLP, list[list[float]], list[float]]:
    return (MLP(2, [4, 3, 1], activation="tanh", seed=2),
            [[0.5, -1.0], [1.2, 0.3], [-0.7, 0.1]], [1.0, -1.0, 0.5])


def test_an_injected_wrong_delta_is_caught_and_named() -> None:
    m, xs, ys = small()
    report = compare(m, xs, ys, oracle=with_wrong_delta(layer=1, neuron=2, example=1))
    assert not report.ok
    assert len(report.mismatches) == 1
    d = report.first_mismatch
    assert d is not None
    assert (d.quantity, d.layer, d.neuron, d.example) == ("delta", 1, 2, 1)
    assert abs(d.oracle - d.engine) == pytest.approx(1e-3)
    assert [r.ok for r in report.rows] == [True, False, True]
    text = str(report)
    assert "MISMATCH" in text and "delta at layer 1, neuron 2, example 1" in text
    assert "layer 1, neuron 2" in report._repr_html_()


def test_an_injected_wrong_weight_gradient_is_named_by_weight() -> None:
    m, xs, ys = small()

    def oracle(model: Any, xs: Any, ys: Any, loss: str) -> DeltaResult:
        r = backprop(model, xs, ys, loss)
        r.grad_w[2][0][1] *= 1.001
        return r

    report = compare(m, xs, ys, oracle=oracle)
    d = report.first_mismatch
    assert d is not None and len(report.mismatches) == 1
    assert (d.quantity, d.layer, d.neuron, d.weight) == ("dE/dw", 2, 0, 1)
    assert d.parameter == "layers.2.neurons.0.w.1"
    assert "weight 1" in str(report) and "layers.2.neurons.0.w.1" in str(report)


def test_a_wrong_activation_derivative_in_the_rule_is_located_at_its_layer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A classic slip: tanh'(a) written as 1 - z instead of 1 - z^2. Only the tanh layers
    # (0 and 1) go wrong; the linear output layer still agrees, and the first mismatch in
    # backward order is the top tanh layer.
    wrong = dataclasses.replace(deltas.ACTIVATIONS["tanh"], dh=lambda a, z: 1.0 - z)
    monkeypatch.setitem(deltas.ACTIVATIONS, "tanh", wrong)
    m, xs, ys = small()
    report = compare(m, xs, ys)
    assert [r.ok for r in report.rows] == [False, False, True]
    d = report.first_mismatch
    assert d is not None and (d.quantity, d.layer) == ("delta", 1)


def test_a_wrong_derivative_in_the_engine_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # Break the engine instead: sigmoid' = y instead of y (1 - y). Value.sigmoid applies a
    # wrong variant of the primitive; the table itself is never changed.
    wrong = dataclasses.replace(ops.SIGMOID, partials=lambda m, x, y: (y,))
    monkeypatch.setattr(Value, "sigmoid", lambda self: apply(wrong, self))
    m = MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", seed=5)
    report = compare(m, [[0.3, 0.4], [-1.0, 0.5]], [1.0, 0.0], loss="bce")
    assert not report.ok
    d = report.first_mismatch
    assert d is not None and (d.quantity, d.layer, d.neuron) == ("delta", 1, 0)


def test_report_table_and_html() -> None:
    m, xs, ys = small()
    report = compare(m, xs, ys)
    text = str(report)
    assert report.ok and text.startswith("Delta rule vs autograd on MLP 2-4-3-1")
    assert "OK: all" in text and "loss: autograd" in text
    lines = text.splitlines()
    assert lines[2].split()[:3] == ["layer", "activation", "neurons"]
    assert len([ln for ln in lines if ln.startswith(("0 ", "1 ", "2 "))]) == 3
    html = report._repr_html_()
    assert html.count("<tr") == 4 and "OK: all" in html


def test_loss_mismatch_alone_fails() -> None:
    m, xs, ys = small()
    o = backprop(m, xs, ys)
    e = engine_backprop(m, xs, ys)
    report = compare_results(e, dataclasses.replace(o, loss=o.loss + 1.0))
    assert not report.ok and not report.mismatches
    assert "loss differs" in report.verdict()


def test_nan_is_never_ok() -> None:
    m, xs, ys = small()
    o = backprop(m, xs, ys)
    o.grad_b[0][0] = float("nan")
    report = compare_results(engine_backprop(m, xs, ys), o)
    assert not report.ok and report.first_mismatch is not None
    assert report.first_mismatch.quantity == "dE/db"


def test_misfits_are_reported_before_running_the_engine() -> None:
    m, xs, ys = small()
    with pytest.raises(ValueError, match="has 3 input"):
        compare(m, [[1.0, 2.0, 3.0]], [1.0])
    with pytest.raises(ValueError, match="unknown loss"):
        compare(m, xs, ys, loss="l1")
    with pytest.raises(TypeError, match=r"needs an nn\.MLP"):
        compare(deltas.as_network(m), xs, ys)


def test_report_is_a_dataclass_with_rows() -> None:
    m, xs, ys = small()
    report = compare(m, xs, ys)
    assert isinstance(report, DeltaReport)
    assert [r.layer for r in report.rows] == [0, 1, 2]
    # a and delta of 8 neurons in 3 examples, then 12 + 15 + 4 parameters
    assert report.compared == 3 * 8 * 2 + 4 * 3 + 3 * 5 + 1 * 4


def test_mazurs_published_example_reproduced_by_the_engine_too() -> None:
    # The same network as textbook/test_delta_rule.py (Mazur's 2-2-2 sigmoid example), run through
    # autograd: its loss, its deltas and its gradients round to the published numbers.
    from test_delta_rule import MAZUR_B, MAZUR_T, MAZUR_W, MAZUR_X, assert_published

    m = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid")
    for layer, w, b in zip(m.layers, MAZUR_W, MAZUR_B):
        for neuron, wj, bj in zip(layer.neurons, w, b):
            for p, v in zip(neuron.w, wj):
                p.data = v
            neuron.b.data = bj
    e = engine_backprop(m, MAZUR_X, MAZUR_T, "sse")
    assert_published(e.loss, "0.298371109")
    assert_published(e.examples[0].layers[1].delta[0], "0.138498562")
    assert_published(e.grad_w[1][0][0], "0.082167041")
    assert_published(e.grad_w[0][0][0], "0.000438568")
    assert_published(0.30 - 0.5 * e.grad_w[0][1][1], "0.29950229")
    assert compare(m, MAZUR_X, MAZUR_T).ok


def test_karpathys_tanh_neuron_reproduced_by_both() -> None:
    """micrograd's lecture neuron: o = tanh(x1 w1 + x2 w2 + b) with x = (2, 0), w = (-3, 1),
    b = 6.8813735870195432 gives o = 0.7071, do/dn = 0.5, do/dw1 = 1.0, do/dw2 = 0.0 and
    do/db = 0.5 (published with the lecture). With sse and the target t = o - 1, dE/do = 1, so
    dE/dw is exactly do/dw."""
    from test_delta_rule import assert_published

    b = 6.8813735870195432
    m = MLP(2, [1], activation="tanh", output_activation="tanh")
    m.layers[0].neurons[0].w[0].data = -3.0
    m.layers[0].neurons[0].w[1].data = 1.0
    m.layers[0].neurons[0].b.data = b
    x = [2.0, 0.0]
    o = m(x)[0].data
    assert_published(o, "0.7071")
    t = [o - 1.0]
    for result in (backprop(m, [x], [t], loss="sse"), engine_backprop(m, [x], [t], "sse")):
        # The lecture's drawings print four decimals.
        assert_published(result.examples[0].layers[0].delta[0], "0.5000")  # n.grad
        assert_published(result.grad_w[0][0][0], "1.0000")  # w1.grad
        assert_published(result.grad_w[0][0][1], "0.0000")  # w2.grad
        assert_published(result.grad_b[0][0], "0.5000")  # b.grad
    assert compare(m, [x], [t]).ok
