"""gelu, silu and elu: the delta rule (nn.deltas, its own derivatives) agrees with the engine."""

from __future__ import annotations

import math
import random

import pytest

from nn import compare
from nn.layers import MLP, init_range
from nn.losses import LOSSES
from nn.textbook.deltas import ACTIVATIONS, Network, backprop

NEW = ["gelu", "silu", "elu"]


def _engine(model: MLP, xs: list[list[float]], ys: list[float], loss: str) -> list[float]:
    model.zero_grad()
    for x, y in zip(xs, ys):
        LOSSES[loss](model(x), y).backward()
    return [p.grad for p in model.parameters()]


@pytest.mark.parametrize("act", NEW)
@pytest.mark.parametrize("out_act", ["linear", "tanh", "gelu", "silu", "elu"])
def test_networks_with_the_new_activations_agree_with_the_engine(act: str, out_act: str) -> None:
    for seed in range(3):
        model = MLP(3, [4, 3, 1], activation=act, output_activation=out_act, seed=seed)
        rng = random.Random(seed)
        for p in model.parameters():
            p.data = rng.uniform(-1.5, 1.5)  # weights and biases well into both sides of 0
        xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(4)]
        ys = [rng.uniform(-1, 1) for _ in range(4)]
        rule = backprop(model, xs, ys, loss="sse").gradients()
        engine = _engine(model, xs, ys, "sse")
        assert rule == pytest.approx(engine, rel=1e-10, abs=1e-12)
        report = compare(model, xs, ys, loss="sse")
        assert report.ok, str(report)


def test_elu_on_its_kink_agrees() -> None:
    """Zero inputs and zero biases put every pre-activation exactly on elu's kink (elu'(0) = 1)."""
    model = MLP(2, [3, 1], activation="elu", output_activation="elu", seed=0)
    report = compare(model, [[0.0, 0.0], [0.0, 0.0]], [0.5, -0.5], loss="sse")
    assert report.ok, str(report)


@pytest.mark.parametrize("act", NEW)
def test_the_rules_derivative_matches_central_differences(act: str) -> None:
    a = ACTIVATIONS[act]
    for x in [-3.0, -1.2, -0.3, 0.4, 1.1, 2.9]:
        h = 1e-6
        numeric = (a.h(x + h) - a.h(x - h)) / (2 * h)
        assert a.dh(x, a.h(x)) == pytest.approx(numeric, rel=1e-7, abs=1e-9), (act, x)


def test_forward_values_from_their_definitions() -> None:
    gelu, silu, elu = (ACTIVATIONS[n].h for n in NEW)
    assert gelu(1.0) == pytest.approx(0.8413447460685429)  # 1 * Phi(1), from normal tables
    assert silu(2.0) == pytest.approx(2 / (1 + math.exp(-2)))
    assert elu(-1.0) == pytest.approx(math.exp(-1) - 1) and elu(2.0) == 2.0


def test_the_relu_family_gets_he_initialization() -> None:
    for act in NEW:
        assert init_range(act, 6) == math.sqrt(6 / 6)
    net = Network.from_lists([[[0.5, -0.5]]], [[0.1]], "gelu")
    assert backprop(net, [[1.0, 2.0]], [0.0]).loss >= 0.0
