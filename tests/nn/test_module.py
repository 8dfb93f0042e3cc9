"""nn modules: parameter order and names, initialization, calling, trace, gradients, save/load."""

import json
import math
import os
import random
import stat
from pathlib import Path

import pytest

from autograd import Value, check_grads
from nn import MLP, Layer, ModelFileError, Neuron, load_model
from nn.layers import init_range
from nn.losses import LOSSES


def test_parameter_order_and_dotted_names():
    m = MLP(2, [3, 2], seed=0)
    names = [n for n, _ in m.named_parameters()]
    expected = [f"layers.0.neurons.{j}.{p}" for j in range(3) for p in ("w.0", "w.1", "b")]
    expected += [f"layers.1.neurons.{j}.{p}" for j in range(2)
                 for p in ("w.0", "w.1", "w.2", "b")]
    assert names == expected
    assert m.num_parameters() == 3 * 3 + 2 * 4 == len(m.parameters())
    # The order is literally each neuron's w[0..nin-1] then b, layer by layer.
    manual = [p for layer in m.layers for n in layer.neurons for p in (*n.w, n.b)]
    assert all(a is b for a, b in zip(m.parameters(), manual))
    assert [p.label for p in m.parameters()] == names
    assert [n for n, _ in Layer(2, 1).named_parameters()] == [
        "neurons.0.w.0", "neurons.0.w.1", "neurons.0.b"]
    assert [n for n, _ in Neuron(1).named_parameters()] == ["w.0", "b"]


def test_structure_attributes():
    m = MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", seed=1)
    assert [(la.nin, la.nout, la.activation) for la in m.layers] == [
        (3, 4, "tanh"), (4, 2, "sigmoid")]
    n = m.layers[0].neurons[0]
    assert n.nin == 3 and len(n.w) == 3 and isinstance(n.b, Value) and n.activation == "tanh"


def test_seeded_initialization_is_reproducible_and_documented():
    a = [p.data for p in MLP(2, [5, 1], seed=7).parameters()]
    b = [p.data for p in MLP(2, [5, 1], seed=7).parameters()]
    c = [p.data for p in MLP(2, [5, 1], seed=8).parameters()]
    d = [p.data for p in MLP(2, [5, 1], seed=random.Random(7)).parameters()]
    assert a == b == d and a != c
    # Biases start at 0; weights lie in [-r, r] with the documented r for each activation.
    m = MLP(50, [40, 1], activation="relu", output_activation="tanh", seed=0)
    hidden, out = m.layers
    r_he, r_lecun = math.sqrt(6 / 50), math.sqrt(3 / 40)
    assert init_range("relu", 50) == r_he and init_range("tanh", 40) == r_lecun
    ws = [w.data for n in hidden.neurons for w in n.w]
    assert max(abs(w) for w in ws) <= r_he and max(abs(w) for w in ws) > 0.9 * r_he
    # Uniform on [-r, r] has variance r^2 / 3 = 2 / nin for He: 2000 samples land close.
    var = sum(w * w for w in ws) / len(ws)
    assert abs(var - 2 / 50) < 0.1 * (2 / 50)
    assert max(abs(w.data) for w in out.neurons[0].w) <= r_lecun
    assert all(n.b.data == 0.0 for la in m.layers for n in la.neurons)
    u = MLP(50, [10], init="uniform", seed=0)
    assert max(abs(p.data) for p in u.parameters()) > r_he  # r = 1, micrograd's range


def test_call_returns_a_list_whatever_the_width_and_wraps_inputs_once():
    m = MLP(2, [3, 1], activation="tanh", seed=0)
    out = m([0.5, -1.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    assert isinstance(m.layers[0]([1, 2]), list)
    assert isinstance(Neuron(2)([1, 2]), Value)  # a single neuron is a scalar function
    # Every first-layer product reads the same input leaf: wrapped once per call.
    t = m.trace([0.5, -1.0])
    firsts = {id(a.parents[0].parents[1]) for a in t.pre[0]}
    assert firsts == {id(t.inputs[0])} and t.inputs[0].label == "x0"
    np = pytest.importorskip("numpy")
    assert m(np.array([0.5, -1.0]))[0].data == out[0].data
    # Values pass through untouched, so gradients reach them.
    x = [Value(0.5), Value(-1.0)]
    y = m(x)[0]
    y.backward()
    assert x[0].grad != 0.0


def test_forward_matches_a_hand_computation():
    m = MLP(2, [2, 1], activation="tanh", output_activation="sigmoid", seed=3)
    x = [0.3, -0.7]
    z = x
    for layer in m.layers:
        act = math.tanh if layer.activation == "tanh" else (lambda a: 1 / (1 + math.exp(-a)))
        z = [act(sum(w.data * zi for w, zi in zip(n.w, z)) + n.b.data) for n in layer.neurons]
    assert m(x)[0].data == pytest.approx(z[0], rel=1e-14)


@pytest.mark.parametrize("bad, error, words", [
    ([1.0], ValueError, "expects 2 input(s); got 1"),
    ([1.0, 2.0, 3.0], ValueError, "expects 2"),
    ([1.0, "a"], TypeError, "input 1 must be a number"),
    ([1.0, None], TypeError, "input 1"),
    ("ab", TypeError, "list of 2 numbers"),
    ([1.0, float("nan")], ValueError, "finite"),
])
def test_bad_inputs_name_the_expected_size(bad, error, words):
    m = MLP(2, [1], seed=0)
    with pytest.raises(error) as info:
        m(bad)
    assert words in str(info.value)


@pytest.mark.parametrize("kwargs, words", [
    ({"nin": 2, "nouts": []}, "non-empty list"),
    ({"nin": 0, "nouts": [1]}, "nin must be a positive int"),
    ({"nin": 2, "nouts": [3, 0]}, "nouts[1]"),
    ({"nin": 2, "nouts": [1], "activation": "swish"}, "relu"),
    ({"nin": 2, "nouts": [1], "init": "xavier"}, "lecun"),
    ({"nin": 2, "nouts": [1], "seed": "x"}, "seed"),
])
def test_bad_constructor_arguments(kwargs, words):
    with pytest.raises((ValueError, TypeError)) as info:
        MLP(**kwargs)
    assert words in str(info.value)


def test_trace_exposes_pre_and_post_activations_and_groups():
    m = MLP(2, [3, 2], activation="relu", output_activation="linear", seed=2)
    x = [0.4, -0.9]
    t = m.trace(x)
    assert [len(layer) for layer in t.pre] == [3, 2] == [len(layer) for layer in t.post]
    assert t.output is t.post[-1]
    assert [v.data for v in t.output] == [v.data for v in m(x)]
    z = x
    for li, layer in enumerate(m.layers):
        for j, n in enumerate(layer.neurons):
            a = t.pre[li][j]
            assert a.op == "sum" and len(a.parents) == n.nin + 1 and a.parents[-1] is n.b
            assert all(p.op == "mul" for p in a.parents[:-1])  # every product is its own node
            hand = sum(w.data * zi for w, zi in zip(n.w, z)) + n.b.data
            assert a.data == pytest.approx(hand, rel=1e-14)
            if layer.activation == "linear":
                assert t.post[li][j] is a
            else:
                assert t.post[li][j].parents == (a,)
            group = f"layer {li}/neuron {j}"
            assert t.groups[a] == t.groups[t.post[li][j]] == group
            assert all(t.groups[p] == group for p in n.parameters())
            assert all(t.groups[p] == group for p in a.parents[:-1])
        z = [v.data for v in t.post[li]]
    assert all(t.groups[v] == "inputs" for v in t.inputs)
    # Every node of the forward graph has a group.
    from autograd import toposort
    nodes = {id(v) for out in t.output for v in toposort(out)}
    assert nodes == {id(v) for v in t.groups}


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "softplus", "sin", "relu"])
def test_mlp_gradients_match_central_differences(act):
    model = MLP(2, [3, 2], activation=act, output_activation="linear", seed=5)
    names = [n for n, _ in model.named_parameters()]
    data = [([0.3, -0.8], 1), ([-0.5, 0.2], 0)]
    neurons = [n for layer in model.layers for n in layer.neurons]

    def loss_of_params(*ps):
        # Swap the check's leaves in as the model's weights, then the mean loss of the batch.
        k = 0
        for n in neurons:
            n.w, n.b = list(ps[k:k + n.nin]), ps[k + n.nin]
            k += n.nin + 1
        return Value.sum([LOSSES["softmax_ce"](model(x), t) for x, t in data]) * 0.5

    start = [Value(p.data, label=name) for name, p in zip(names, model.parameters())]
    report = check_grads(loss_of_params, *start, atol=1e-8, rtol=1e-6)
    assert report.ok and len(report.rows) == 17


def test_parameter_grads_from_backward_match_central_differences():
    m = MLP(3, [4, 1], activation="tanh", seed=11)
    x, t = [0.2, -0.4, 0.9], 1.0

    def loss():
        return LOSSES["sse"](m(x), t)

    m.zero_grad()
    loss().backward()
    for p in m.parameters():
        keep, eps = p.data, 1e-6
        p.data = keep + eps
        up = loss().data
        p.data = keep - eps
        down = loss().data
        p.data = keep
        assert p.grad == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-9), p.label


def test_zero_grad_and_state_dict_round_trip():
    a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    a([1.0, 2.0])[0].backward()
    assert any(p.grad for p in a.parameters())
    a.zero_grad()
    assert all(p.grad == 0.0 for p in a.parameters())
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    assert list(a.state_dict()) == [n for n, _ in a.named_parameters()]


def test_save_and_load_round_trip(tmp_path):
    a = MLP(2, [4, 3], activation="tanh", output_activation="sigmoid", seed=0)
    path = a.save(tmp_path / "m.json")
    doc = json.loads(path.read_text())
    assert doc["kind"] == "MLP" and doc["config"]["nouts"] == [4, 3]
    b = MLP(2, [4, 3], activation="tanh", output_activation="sigmoid", seed=99)
    b.load(path)
    assert b.state_dict() == a.state_dict()  # exact: floats round-trip through JSON's repr
    c = load_model(path)
    assert isinstance(c, MLP) and c.config() == a.config()
    assert [v.data for v in c([0.1, 0.2])] == [v.data for v in a([0.1, 0.2])]
    assert [p.label for p in c.parameters()] == [n for n, _ in a.named_parameters()]


def _good(tmp_path):
    src = MLP(2, [2, 1], seed=0)
    path = src.save(tmp_path / "good.json")
    return json.loads(path.read_text())


def _write(tmp_path, doc_or_text, name="bad.json"):
    p = tmp_path / name
    p.write_text(doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text))
    return p


BAD_FILES = {
    "empty": (lambda d: "", "is empty"),
    "truncated": (lambda d: json.dumps(d)[:60], "not valid JSON"),
    "not json": (lambda d: "weights: 1, 2, 3", "not valid JSON"),
    "a json list": (lambda d: [1, 2, 3], "not an edgegrad model file"),
    "wrong version": (lambda d: {**d, "version": 7}, "version 7"),
    "parameters not an object": (lambda d: {**d, "parameters": [1, 2]}, "\"parameters\""),
    "other architecture": (lambda d: {**d, "config": {**d["config"], "nouts": [3, 1]}},
                           "but this model is MLP"),
    "other activation": (lambda d: {**d, "config": {**d["config"], "activation": "tanh"}},
                         "activation='tanh'"),
    "missing key": (lambda d: {**d, "parameters": {k: v for k, v in d["parameters"].items()
                                                   if k != "layers.1.neurons.0.b"}},
                    "missing 1 parameter(s): layers.1.neurons.0.b"),
    "unexpected key": (lambda d: {**d, "parameters": {**d["parameters"], "layers.9.w": 1.0}},
                       "unexpected 1 name(s): layers.9.w"),
    "string value": (lambda d: {**d, "parameters": {**d["parameters"],
                                                    "layers.0.neurons.1.w.0": "0.5"}},
                     "layers.0.neurons.1.w.0 must be a number"),
    "null value": (lambda d: {**d, "parameters": {**d["parameters"],
                                                  "layers.0.neurons.0.b": None}},
                   "layers.0.neurons.0.b must be a number"),
    "bool value": (lambda d: {**d, "parameters": {**d["parameters"],
                                                  "layers.0.neurons.0.b": True}},
                   "must be a number"),
    "NaN token": (lambda d: json.dumps(d).replace("0.0", "NaN", 1), "NaN is not a number"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_raise_and_leave_the_model_unchanged(tmp_path, case):
    make, words = BAD_FILES[case]
    path = _write(tmp_path, make(_good(tmp_path)))
    model = MLP(2, [2, 1], seed=42)
    before = model.state_dict()
    with pytest.raises(ModelFileError) as info:
        model.load(path)
    assert words in str(info.value)
    assert model.state_dict() == before
    if not case.startswith("other"):  # a file for another architecture is valid on its own
        with pytest.raises(ModelFileError):
            load_model(path)


def test_missing_file_and_directory(tmp_path):
    model = MLP(2, [1], seed=0)
    before = model.state_dict()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.load(tmp_path / "nope.json")
    with pytest.raises(ModelFileError, match="is a directory"):
        model.load(tmp_path)
    assert model.state_dict() == before


def test_load_state_dict_validates_before_changing_anything():
    model = MLP(2, [2, 1], seed=0)
    state = model.state_dict()
    before = dict(state)
    bad = {**{k: v + 1 for k, v in state.items()}, "layers.1.neurons.0.w.1": "x"}
    with pytest.raises(ModelFileError, match=r"layers\.1\.neurons\.0\.w\.1 must be a number"):
        model.load_state_dict(bad)
    assert model.state_dict() == before  # the earlier, valid entries were not applied either


def test_save_is_atomic(tmp_path, monkeypatch):
    old = MLP(2, [2, 1], seed=0)
    path = old.save(tmp_path / "m.json")
    original = path.read_text()
    new = MLP(2, [2, 1], seed=1)

    def crash(fd):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C in the middle of the write

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        new.save(path)
    assert path.read_text() == original
    assert os.listdir(tmp_path) == ["m.json"]  # no temporary file left behind


def test_save_refuses_non_finite_parameters(tmp_path):
    m = MLP(2, [1], seed=0)
    m.layers[0].neurons[0].b.data = float("nan")
    with pytest.raises(ValueError, match=r"layers\.0\.neurons\.0\.b is nan"):
        m.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_nn_uses_only_autograds_public_api():
    import ast
    import pathlib

    import autograd

    public = set(autograd.__all__) | {"viz"}  # the drawing module, used when it is installed
    # nn/cli, nn/grading and nn/compiled may use autograd's subpackages (test_imports.py).
    mine = ["__init__", "module", "layers", "losses", "optim", "data", "train", "plots",
            "__main__"]
    root = pathlib.Path(__file__).resolve().parents[2] / "nn"
    for name in mine:
        tree = ast.parse((root / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    node.module == "autograd" or node.module.startswith("autograd.")):
                assert node.module == "autograd", f"nn/{name}.py imports {node.module}"
                assert {a.name for a in node.names} <= public, f"nn/{name}.py"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("autograd") for a in node.names), name


def test_saved_file_is_readable_by_others_and_keeps_an_existing_mode(tmp_path):
    path = tmp_path / "m.json"
    model = MLP(2, [3, 1], seed=0)
    model.save(path)
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    model.save(path)
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_new_model_file_follows_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        path = MLP(2, [1], seed=0).save(tmp_path / "m.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
