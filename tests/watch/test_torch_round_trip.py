"""nn.to_torch and nn.from_torch: the same outputs and gradients as edgegrad to 1e-12 on random
MLPs and inputs, a round trip that keeps every weight, and a clear refusal of what an MLP cannot
be. Run by `make test-torch`."""

from __future__ import annotations

import random

import pytest

from autograd import Value
from nn import MLP, Layer, Neuron, from_torch, to_torch
from nn.torch_bridge.convert import MODULES

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

ACTIVATIONS = ["linear", *MODULES]


def _random_mlp(rng: random.Random) -> MLP:
    sizes = [rng.randint(1, 6) for _ in range(rng.randint(1, 3))]
    return MLP(rng.randint(1, 4), sizes, rng.choice(ACTIVATIONS), rng.choice(ACTIVATIONS),
               seed=rng.randint(0, 10**6), init=rng.choice(["he", "lecun", "uniform"]))


def _edgegrad_outputs_and_grads(model, xs, seeds):
    """The outputs on every example, and the gradient of sum_i <seed_i, y_i> in the order of
    model.parameters()."""
    model.zero_grad()
    outs = [model(x) for x in xs]
    total = Value.sum([s * y for o, seed in zip(outs, seeds) for s, y in zip(seed, o)])
    total.backward()
    return [[y.data for y in o] for o in outs], [p.grad for p in model.parameters()]


def _torch_grads(module):
    """The gradients in edgegrad's order: neuron by neuron, its weights then its bias."""
    out = []
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for lin in linears:
        for row, b in zip(lin.weight.grad.tolist(), lin.bias.grad.tolist()):
            out.extend([*row, b])
    return out


@pytest.mark.parametrize("case", range(40))
def test_outputs_and_gradients_agree_on_random_mlps(case):
    rng = random.Random(case)
    model = _random_mlp(rng)
    xs = [[rng.uniform(-3, 3) for _ in range(model.nin)] for _ in range(5)]
    seeds = [[rng.uniform(-1, 1) for _ in range(model.nouts[-1])] for _ in xs]
    outs, grads = _edgegrad_outputs_and_grads(model, xs, seeds)
    module = to_torch(model)
    y = module(torch.tensor(xs, dtype=torch.float64))
    (y * torch.tensor(seeds, dtype=torch.float64)).sum().backward()
    assert y.dtype == torch.float64
    for a, b in zip([v for o in outs for v in o], y.detach().flatten().tolist()):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12), (model, a, b)
    for a, b in zip(grads, _torch_grads(module)):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12), (model, a, b)
    back = from_torch(module)
    expected = model.config()
    if len(model.nouts) == 1:  # no hidden layer: its activation is not in the torch model
        expected["activation"] = "relu"
    assert back.config() == expected
    assert back.state_dict() == model.state_dict()


def test_a_layer_and_a_neuron_convert_too():
    layer = Layer(3, 2, "tanh", seed=1)
    neuron = Neuron(3, "sigmoid", seed=2)
    x = [0.5, -1.0, 2.0]
    t = torch.tensor([x], dtype=torch.float64)
    assert to_torch(layer)(t).flatten().tolist() == pytest.approx(
        [y.data for y in layer(x)], rel=1e-12)
    assert to_torch(neuron)(t).item() == pytest.approx(neuron(x).data, rel=1e-12)


def test_a_model_trained_in_torch_comes_back_with_its_weights():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(),
                                 torch.nn.Sequential(torch.nn.Linear(8, 1)))
    model = from_torch(module)
    assert model.config() == {"nin": 2, "nouts": [8, 1], "activation": "relu",
                              "output_activation": "linear"}
    x = [0.3, -0.7]
    got = model(x)[0].data
    assert got == pytest.approx(module(torch.tensor([x])).item(), rel=1e-6)  # float32 there


@pytest.mark.parametrize("module, words", [
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.1),
                                 torch.nn.Linear(3, 1)), "layer '1' (Dropout)"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False)), "'0' (Linear without bias)"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)),
     "'1' (BatchNorm1d)"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh()),
     "'2' (Tanh) follows another activation"),
    (lambda: torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 3)), "'0' (ReLU) comes first"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ELU(alpha=0.5)),
     "ELU with alpha=0.5"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.GELU(approximate="tanh")),
     "approximate='tanh'"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3),
                                 torch.nn.Tanh(), torch.nn.Linear(3, 1)),
     "different activations (relu, tanh)"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)),
     "Linear 1 takes 4 inputs"),
    (lambda: torch.nn.Sequential(), "no Linear layer"),
])
def test_what_an_mlp_cannot_be_is_refused_by_name(module, words):
    with pytest.raises(ValueError) as e:
        from_torch(module())
    assert words in str(e.value)


def test_an_activation_without_a_torch_module_is_refused():
    with pytest.raises(ValueError) as e:
        to_torch(MLP(2, [3, 1], activation="sin"))
    assert "layer 0's activation 'sin' has no torch.nn module" in str(e.value)
    with pytest.raises(TypeError) as t:
        to_torch("model")  # type: ignore[arg-type]
    assert "nn.MLP, nn.Layer or nn.Neuron" in str(t.value)
