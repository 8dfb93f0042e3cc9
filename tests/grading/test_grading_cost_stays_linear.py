"""nn.grade on a network 3,000 layers deep: every slipped pass was computed over every layer for
every layer, the square of the depth in time and memory (it ran out of memory). Now each is
computed where it is looked for; the child process is bounded in time and memory
(tests/limits.py). Also: what the bounded search still finds, on a deep network."""

from limits import run_limited

from nn import grade
from nn.grading.slips import CARRY, Slip, SlippedPasses, slipped_deltas, variants
from nn.textbook.deltas import as_network, backprop


def deep(depth, width=2):
    """Layers with orthogonal weights (the deltas neither vanish nor explode), tanh and linear
    in turn, one output."""
    layers = []
    for k in range(depth):
        w = [[0.8, 0.6], [-0.6, 0.8]][:width] if k < depth - 1 else [[0.8, 0.6]]
        layers.append({"w": w, "b": [0.9, -0.7][:len(w)],
                       "activation": "tanh" if k % 2 else "linear"})
    return layers, [[1.3, -0.7]], [0.5]


def test_grading_a_network_3000_layers_deep():
    out = run_limited("""
from nn import grade
from nn.textbook.deltas import backprop
# Linear layers but every 500th (tanh): the deltas stay far from 0 all the way down.
layers = [{"w": [[0.8, 0.6], [-0.6, 0.8]], "b": [0.1, 0.1],
           "activation": "tanh" if k % 500 == 1 else "linear"} for k in range(2999)]
layers.append({"w": [[0.8, 0.6]], "b": [0.1], "activation": "tanh"})
xs, ys = [[0.3, -0.2]], [0.5]
r = backprop(layers, xs, ys, "sse")
answers = {"layers.0.neurons.0": 1.1 * r.examples[0].layers[0].delta[0] + 0.01,
           "layers.0.neurons.1.w.0": r.grad_w[0][1][0],
           "layers.2999.neurons.0": -r.examples[0].layers[2999].delta[0],
           "layers.1500.neurons.1.b": 2 * r.grad_b[1500][1]}
report = grade(layers, xs, ys, answers)
print(*(g.slip.name for g in report.grades))
""", seconds=45, megabytes=768)
    # In backward order: the output's delta, layer 1500's bias, layer 0's delta and weight.
    assert out.split() == ["SIGN", "HALF_SSE", "WRONG", "RIGHT"]


def test_the_bounded_passes_agree_with_the_whole_pass():
    net = as_network(deep(14)[0])
    r = backprop(net, *deep(14)[1:], "sse")
    passes = SlippedPasses(net, r)
    for layer in range(14):
        for v in passes.at(layer):
            whole = slipped_deltas(net, r, 0, v)
            got = passes.deltas(v, 0, layer)
            assert (got is None) == (whole is None)
            if whole is not None:
                assert got == whole[layer], (v, layer)
    # A slip made at one layer is looked for within CARRY layers above; made everywhere, at
    # any depth.
    near = {v.layers[0] for v in variants(net, "sse", 2) if v.one_layer}
    assert near == set(range(2, 2 + CARRY + 1))


def test_a_slip_carried_down_through_a_deep_network_is_found():
    layers, xs, ys = deep(12)
    net = as_network(layers)
    r = backprop(net, xs, ys, "sse")
    passes = SlippedPasses(net, r)
    # h' left out at layer 9 and carried down to layer 3 (6 layers, within CARRY).
    (v,) = [v for v in passes.at(3) if v.slip is Slip.H_PRIME_LEFT_OUT and v.layers == range(9, 10)]
    slipped = passes.deltas(v, 0, 3)
    assert slipped is not None
    g = grade(layers, xs, ys, {"layers.3.neurons.0": slipped[0]}).find("layers.3.neurons.0")
    assert g.slip is Slip.H_PRIME_LEFT_OUT and "layer 9" in g.message
    assert "carried down" in g.message
    # h' at z at every layer reaches layer 0 from 11 layers up.
    (every,) = [v for v in passes.at(0) if v.slip is Slip.H_PRIME_AT_Z and len(v.layers) == 12]
    slipped = passes.deltas(every, 0, 0)
    assert slipped is not None
    g = grade(layers, xs, ys, {"layers.0.neurons.1": slipped[1]}).find("layers.0.neurons.1")
    assert g.slip is Slip.H_PRIME_AT_Z and "every layer" in g.message
