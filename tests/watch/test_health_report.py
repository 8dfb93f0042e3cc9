"""nn.health: dead ReLUs and saturated tanh found in the right layer, a healthy network without
warnings, the statistics checked against a direct computation, bad input refused."""

from __future__ import annotations

import math
import statistics

import pytest

from autograd import Value
from nn import MLP, Layer, Neuron, health
from nn.data import moons

DATA = moons(100, noise=0.1, seed=0)
YS = DATA.targets("hinge")


@pytest.mark.parametrize("seed", range(4))
def test_biases_of_minus_five_kill_the_relus_of_that_layer_only(seed):
    model = MLP(2, [16, 16, 1], seed=seed)
    for n in model.layers[1].neurons:
        n.b.data = -5.0
    report = health(model, DATA.xs, YS)
    assert report[1].dead is not None and report[1].dead > 0.9
    assert report[0].dead is not None and report[0].dead <= 0.25
    assert [w.split(":")[0] for w in report.warnings] == ["layer 1"]
    assert "ReLUs are dead on this data; lower the learning rate or change the init" \
        in report.warnings[0]
    # Dead means never positive: each dead unit's pre-activation is <= 0 on every example.
    for j in report[1].dead_units:
        neuron = model.layers[1].neurons[j]
        for x in DATA.xs:
            z = [v.data for v in model.layers[0](x)]
            assert neuron.preactivation([Value(v) for v in z]).data <= 0


def test_tanh_with_weights_scaled_by_ten_is_saturated():
    model = MLP(2, [16, 16, 1], activation="tanh", seed=1)
    healthy = health(model, DATA.xs, YS)
    assert healthy.healthy and healthy[0].saturated < 0.1
    for layer in model.layers[:2]:
        for n in layer.neurons:
            for w in n.w:
                w.data *= 10
    report = health(model, DATA.xs, YS)
    assert report[0].saturated > 0.5 and report[1].saturated > 0.5
    assert [w.split(":")[0] for w in report.warnings] == ["layer 0", "layer 1"]
    assert all("saturated" in w for w in report.warnings)
    # The share, counted directly from the activations.
    outs = [[v.data for v in model.layers[0](x)] for x in DATA.xs]
    direct = sum(abs(v) > 0.97 for row in outs for v in row) / (16 * len(DATA.xs))
    assert report[0].saturated == pytest.approx(direct, abs=1e-15)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu"])
@pytest.mark.parametrize("seed", range(3))
def test_a_default_mlp_is_healthy(activation, seed):
    report = health(MLP(2, [16, 16, 1], activation=activation, seed=seed), DATA.xs, YS)
    assert report.warnings == [], report.table()
    assert "no warnings" in str(report)


def test_the_statistics_are_those_of_the_activations():
    model = MLP(2, [4, 3, 1], activation="tanh", seed=3)
    xs = DATA.xs[:20]
    report = health(model, xs)
    pre = [n.preactivation([Value(v) for v in x]).data for x in xs
           for n in model.layers[0].neurons]
    post = [math.tanh(a) for a in pre]
    assert report[0].pre_mean == pytest.approx(statistics.fmean(pre), abs=1e-12)
    assert report[0].pre_std == pytest.approx(statistics.pstdev(pre), abs=1e-12)
    assert report[0].act_mean == pytest.approx(statistics.fmean(post), abs=1e-12)
    assert report[0].act_std == pytest.approx(statistics.pstdev(post), abs=1e-12)
    assert sum(report[0].act_histogram[1]) == len(post)


def test_the_gradient_spread_is_that_of_the_mean_loss_and_grads_are_left_alone():
    model = MLP(2, [5, 1], activation="tanh", seed=2)
    for p in model.parameters():
        p.grad = 7.0  # whatever a caller had there stays
    xs, ys = DATA.xs[:30], YS[:30]
    report = health(model, xs, ys, loss="mse")
    assert all(p.grad == 7.0 for p in model.parameters())
    # Independent oracle: central differences of the mean loss in each first-layer weight.
    from nn.losses import get_loss

    mse = get_loss("mse")

    def mean_loss() -> float:
        return sum(mse(model(x), t).data for x, t in zip(xs, ys)) / len(xs)

    grads = []
    for n in model.layers[0].neurons:
        for w in n.w:
            w0, h = w.data, 1e-6
            w.data = w0 + h
            up = mean_loss()
            w.data = w0 - h
            down = mean_loss()
            w.data = w0
            grads.append((up - down) / (2 * h))
    assert report[0].grad_std == pytest.approx(statistics.pstdev(grads), rel=1e-6)


def test_a_non_finite_activation_is_reported_by_layer_never_averaged():
    model = MLP(2, [3, 1], activation="exp", seed=0)
    model.layers[0].neurons[1].w[0].data = 1000.0  # e^(1000 x) overflows for x > 0.71
    report = health(model, DATA.xs, YS)
    lay = report[0]
    assert lay.nonfinite_activations > 0
    assert math.isfinite(lay.act_mean) and math.isfinite(lay.act_std)
    assert any(w.startswith("layer 0:") and "inf or NaN" in w for w in report.warnings)


@pytest.mark.parametrize("call, words", [
    (lambda: health(MLP(2, [3, 1]), [[1.0, 2.0, 3.0]]), "example 0 has 3 feature(s)"),
    (lambda: health(MLP(2, [3, 1]), []), "the data set is empty"),
    (lambda: health(Neuron(2), [[1.0, 2.0]]), "Neuron has no layers"),
    (lambda: health(MLP(2, [3, 1]), [[1.0, 2.0]], [1.0, 1.0]), "1 examples but 2 targets"),
    (lambda: health(MLP(2, [3, 1]), [[1.0, float("nan")]]), "not finite"),
    (lambda: health(MLP(2, [3, 1]), [[1.0, 2.0]], saturation=0.7), "saturation"),
])
def test_bad_input_is_refused_clearly(call, words):
    with pytest.raises(ValueError) as e:
        call()
    assert words in str(e.value)


def test_a_model_whose_layers_were_emptied_is_refused():
    model = MLP(2, [3, 1])
    model.layers = []
    with pytest.raises(ValueError, match="has no layers"):
        health(model, [[1.0, 2.0]])


def test_a_layer_alone_works():
    report = health(Layer(2, 4, "sigmoid", seed=0), DATA.xs[:10])
    assert len(report) == 1 and report[0].saturated is not None


def test_the_plot_has_a_column_per_layer(tmp_path):
    pytest.importorskip("matplotlib")
    report = health(MLP(2, [4, 4, 1], seed=0), DATA.xs[:30], YS[:30])
    fig = report.plot(tmp_path / "h.png")
    assert len(fig.axes) == 6
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
