"""nn.grading: a learner's deltas and gradients graded against the delta rule, each textbook slip
found when it is made, on Mazur's published worked example where possible."""

import math

import pytest

from autograd.teach.handcheck import AnswerError
from nn import MLP
from nn.grading.network import (
    Slip,
    grade,
    network_exercise,
    network_problem,
    network_worksheet,
)
from nn.grading.slips import slipped_deltas
from nn.textbook.deltas import ACTIVATIONS, backprop

# Matt Mazur, "A Step by Step Backpropagation Example": a 2-2-2 sigmoid network, one example,
# E = ½ Σ (y - t)².
MAZUR = [{"w": [[0.15, 0.20], [0.25, 0.30]], "b": [0.35, 0.35], "activation": "sigmoid"},
         {"w": [[0.40, 0.45], [0.50, 0.55]], "b": [0.60, 0.60], "activation": "sigmoid"}]
XS, YS = [[0.05, 0.10]], [[0.01, 0.99]]
R = backprop(MAZUR, XS, YS, "sse")
OUT = R.examples[0].layers[1]
HID = R.examples[0].layers[0]
SIG = ACTIVATIONS["sigmoid"]


def slip_of(answers, key, example=None, **kw):
    report = grade(MAZUR, XS, YS, answers, **kw)
    return report.find(key, example)


def test_mazurs_published_numbers_are_right():
    report = grade(MAZUR, XS, YS, {"layers.1.neurons.0": 0.138498562,
                                   "layers.1.neurons.0.w.0": 0.082167041,
                                   "layers.1.neurons.0.w.1": 0.082667628,
                                   "layers.1.neurons.1.w.0": -0.022602540,
                                   "layers.0.neurons.0.w.0": 0.000438568,
                                   "layers.0.neurons.0.w.1": 0.000877135,
                                   "layers.1.neurons.0.z": 0.75136507,
                                   "layers.0.neurons.0.z": 0.593269992})
    assert report.ok, str(report)


def test_a_full_right_sheet_gets_no_complaint():
    sheet = network_worksheet(MAZUR, XS, YS)
    report = grade(MAZUR, XS, YS, sheet.answers())
    assert report.ok and len(report.grades) == len(sheet.rows)
    assert "WRONG" not in str(report)


def test_h_prime_left_out():
    # Hidden: δ_j = h'(a_j) Σ_k w_kj δ_k, given as the sum alone.
    total = 0.40 * OUT.delta[0] + 0.50 * OUT.delta[1]
    g = slip_of({"layers.0.neurons.0": total}, "layers.0.neurons.0")
    assert g.slip is Slip.H_PRIME_LEFT_OUT and "Σ_k w_kj δ_k" in g.message
    # Output, with cross-entropy: δ_k = ∂E/∂y_k · h'(a_k), given as ∂E/∂y_k.
    r = backprop(MAZUR, XS, YS, "bce")
    y, t = r.examples[0].layers[1].z[0], 0.01
    g = grade(MAZUR, XS, YS, {"layers.1.neurons.0": -t / y + (1 - t) / (1 - y)},
              loss="bce").find("layers.1.neurons.0")
    assert g.slip is Slip.H_PRIME_LEFT_OUT


def test_h_prime_at_z_instead_of_a():
    total = 0.40 * OUT.delta[0] + 0.50 * OUT.delta[1]
    z = HID.z[0]
    at_z = SIG.dh(z, SIG.h(z)) * total
    g = slip_of({"layers.0.neurons.0": at_z}, "layers.0.neurons.0")
    assert g.slip is Slip.H_PRIME_AT_Z and "not at z" in g.message


def test_weights_read_row_wise():
    # δ_0 of the hidden layer from w_0k (row 0 of layer 1) instead of w_k0 (column 0).
    rows = SIG.dh(HID.a[0], HID.z[0]) * (0.40 * OUT.delta[0] + 0.45 * OUT.delta[1])
    assert slip_of({"layers.0.neurons.0": rows}, "layers.0.neurons.0").slip is Slip.ROW_WISE
    # A gradient at the transposed place: ∂E/∂w_ij given for w_ji.
    swapped = R.grad_w[0][1][0]
    g = slip_of({"layers.0.neurons.0.w.1": swapped}, "layers.0.neurons.0.w.1")
    assert g.slip is Slip.ROW_WISE and "layers.0.neurons.1.w.0" in g.message


def test_y_minus_t_for_a_mismatched_output_and_loss():
    # sigmoid output with the sum of squares: the output delta is not y - t.
    y_minus_t = OUT.z[0] - 0.01
    g = slip_of({"layers.1.neurons.0": y_minus_t}, "layers.1.neurons.0")
    assert g.slip is Slip.Y_MINUS_T and "sigmoid and sse" in g.message
    # With the matched pair (sigmoid, bce), y - t is right.
    assert grade(MAZUR, XS, YS, {"layers.1.neurons.0": y_minus_t}, loss="bce").ok


def test_the_half_of_the_sum_of_squares_dropped_or_doubled():
    g = slip_of({"layers.1.neurons.1": 2 * OUT.delta[1]}, "layers.1.neurons.1")
    assert g.slip is Slip.HALF_SSE and "dropped" in g.message
    g = slip_of({"layers.1.neurons.1": OUT.delta[1] / 2}, "layers.1.neurons.1")
    assert g.slip is Slip.HALF_SSE and "twice" in g.message


def test_a_sign_slip_and_a_plain_wrong_number():
    assert slip_of({"layers.1.neurons.0": -OUT.delta[0]}, "layers.1.neurons.0").slip is Slip.SIGN
    g = slip_of({"layers.1.neurons.0": 0.5}, "layers.1.neurons.0")
    assert g.slip is Slip.WRONG and "it is 0.1385" in g.message


def test_a_number_that_follows_from_a_wrong_delta_upstream():
    wrong_out = 0.2
    hidden = SIG.dh(HID.a[0], HID.z[0]) * (0.40 * wrong_out + 0.50 * OUT.delta[1])
    report = grade(MAZUR, XS, YS, {"layers.1.neurons.0": wrong_out,
                                   "layers.1.neurons.1": OUT.delta[1],
                                   "layers.0.neurons.0": hidden,
                                   "layers.1.neurons.0.w.0": wrong_out * HID.z[0]})
    assert report.find("layers.1.neurons.0").slip is Slip.WRONG
    assert report.find("layers.1.neurons.1").ok
    for key in ("layers.0.neurons.0", "layers.1.neurons.0.w.0"):
        g = report.find(key)
        assert g.slip is Slip.UPSTREAM and g.blame == ("layers.1.neurons.0 (example 0)",)


def test_a_slip_made_upstream_and_carried_down_is_found():
    # The learner gave no output deltas, but made them with h'(z) and carried them down.
    out = [g * SIG.dh(z, SIG.h(z)) for g, z in zip(R.examples[0].dE_dy, OUT.z)]
    hidden = SIG.dh(HID.a[0], HID.z[0]) * (0.40 * out[0] + 0.50 * out[1])
    g = slip_of({"layers.0.neurons.0": hidden}, "layers.0.neurons.0")
    assert g.slip is Slip.H_PRIME_AT_Z and "layer 1 (the output)" in g.message
    assert "carried down" in g.message


def test_gradients_not_summed_over_the_examples():
    net = [{"w": [[0.5, -0.3], [0.2, 0.8]], "b": [0.1, -0.2], "activation": "tanh"},
           {"w": [[0.7, -0.6]], "b": [0.05], "activation": "linear"}]
    xs, ys = [[1.0, 0.5], [-0.4, 0.9]], [0.3, -0.2]
    r = backprop(net, xs, ys, "sse")
    first = r.examples[0].layers[1].delta[0] * r.examples[0].layers[0].z[1]
    g = grade(net, xs, ys, {"layers.1.neurons.0.w.1": first}).find("layers.1.neurons.0.w.1")
    assert g.slip is Slip.NOT_SUMMED and "example 0's" in g.message
    mean = r.grad_b[1][0] / 2
    g = grade(net, xs, ys, {"layers.1.neurons.0.b": mean}).find("layers.1.neurons.0.b")
    assert g.slip is Slip.NOT_SUMMED and "mean" in g.message
    # Per-example deltas are given as lists, one per example (None for a blank).
    deltas = [ex.layers[0].delta[1] for ex in r.examples]
    assert grade(net, xs, ys, {"layers.0.neurons.1": deltas}).ok
    report = grade(net, xs, ys, {"layers.0.neurons.1": [None, deltas[1]]})
    assert [g.example for g in report.grades] == [1]


def test_bad_keys_and_non_numbers_are_a_clear_error():
    with pytest.raises(AnswerError) as e:
        grade(MAZUR, XS, YS, {"layers.5.neurons.0": 1, "layers.0.neurons.0.w.7": 1,
                              "w1": 1, "layers.0.neurons.1": "x",
                              "layers.1.neurons.0": [1, 2]})
    text = str(e.value)
    assert "the network has layers 0..1" in text and "weights 0..1" in text
    assert "keys are nn's names" in text and "must be a number" in text
    assert "2 numbers for 1 example" in text
    with pytest.raises(AnswerError, match="one per example"):
        grade(MAZUR, XS * 2, YS * 2, {"layers.0.neurons.0": 0.1})


def test_the_keys_are_the_names_nn_uses():
    model = MLP(2, [2, 1], activation="tanh", seed=0)
    sheet = network_worksheet(model, [[0.5, -1.0]], [0.2])
    keys = {r.key for r in sheet.rows}
    assert {name for name, _ in model.named_parameters()} <= keys
    assert grade(model, [[0.5, -1.0]], [0.2], sheet.answers()).ok


def test_the_slip_free_pass_is_the_delta_rule():
    for n in range(len(R.examples)):
        assert slipped_deltas(network_problem({"network": MAZUR, "inputs": XS, "targets": YS})[0],
                              R, n, None) == [ex.delta for ex in R.examples[n].layers]


@pytest.mark.parametrize("seed", range(6))
def test_every_network_exercise_key_grades_clean(seed):
    problem = network_exercise(seed)
    net, xs, ys, loss = network_problem(problem)
    sheet = network_worksheet(net, xs, ys, loss)
    assert grade(net, xs, ys, sheet.answers(), loss=loss).ok
    assert all(math.isfinite(r.answer) for r in sheet.rows)
    assert network_exercise(seed) == problem and network_exercise(seed + 100) != problem
