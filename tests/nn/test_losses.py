"""Losses against hand computations, their gradients, target checks, L2 and accuracy."""

import math

import pytest

from autograd import Value, check_grads
from nn.losses import LOSSES, accuracy, get_loss, l2, predict


def vs(*xs):
    return [Value(x) for x in xs]


def test_the_names_are_exactly_these():
    assert set(LOSSES) == {"sse", "mse", "hinge", "bce", "bce_logits", "softmax_ce"}


@pytest.mark.parametrize("name, ys, t, hand", [
    ("sse", [2.0, -1.0], [1.0, 1.0], 0.5 * (1.0 + 4.0)),
    ("sse", [0.25], 1.0, 0.5 * 0.75**2),
    ("mse", [2.0, -1.0], [1.0, 1.0], (1.0 + 4.0) / 2),
    ("mse", [2.0, -1.0, 0.0], [1.0, 1.0, 3.0], (1.0 + 4.0 + 9.0) / 3),
    ("hinge", [0.3], 1.0, 0.7),
    ("hinge", [0.3], -1.0, 1.3),
    ("hinge", [-2.0], -1.0, 0.0),
    ("hinge", [0.5, -0.5], [1.0, 1.0], 0.5 + 1.5),
    ("bce", [0.8], 1.0, -math.log(0.8)),
    ("bce", [0.8], 0.0, -math.log(0.2)),
    ("bce", [0.8], 0.25, -(0.25 * math.log(0.8) + 0.75 * math.log(0.2))),
    ("bce", [0.9, 0.3], [1, 0], -math.log(0.9) - math.log(0.7)),
    ("bce_logits", [2.0], 1.0, math.log(1 + math.exp(-2.0))),
    ("bce_logits", [2.0], 0.0, math.log(1 + math.exp(2.0))),
    ("bce_logits", [-0.4], 0.3, -(0.3 * math.log(1 / (1 + math.exp(0.4)))
                                  + 0.7 * math.log(1 - 1 / (1 + math.exp(0.4))))),
    ("softmax_ce", [1.0, 2.0, 3.0], 0, math.log(math.e + math.e**2 + math.e**3) - 1.0),
    ("softmax_ce", [1.0, 2.0, 3.0], 2, math.log(math.e + math.e**2 + math.e**3) - 3.0),
    ("softmax_ce", [0.0, 0.0], 1.0, math.log(2.0)),  # a float index that is an integer
])
def test_losses_match_hand_computations(name, ys, t, hand):
    assert LOSSES[name](vs(*ys), t).data == pytest.approx(hand, rel=1e-13)


def test_stable_losses_stay_finite_for_huge_scores():
    assert LOSSES["bce_logits"](vs(1000.0), 0.0).data == pytest.approx(1000.0)
    assert LOSSES["bce_logits"](vs(-1000.0), 1.0).data == pytest.approx(1000.0)
    assert LOSSES["bce_logits"](vs(1000.0), 1.0).data == pytest.approx(0.0, abs=1e-300)
    assert LOSSES["softmax_ce"](vs(1000.0, 0.0), 1).data == pytest.approx(1000.0)
    assert LOSSES["softmax_ce"](vs(-1000.0, 1000.0), 1).data == pytest.approx(0.0, abs=1e-300)


def test_bce_and_bce_logits_agree_through_a_sigmoid():
    for z, t in [(-3.0, 1.0), (0.2, 0.0), (1.5, 0.6)]:
        p = Value(z).sigmoid()
        assert LOSSES["bce"]([p], t).data == pytest.approx(
            LOSSES["bce_logits"](vs(z), t).data, rel=1e-12)


def test_bce_keeps_a_saturated_sigmoid_finite_for_its_own_label():
    p = Value(40.0).sigmoid()
    assert p.data == 1.0
    assert LOSSES["bce"]([p], 1.0).data == 0.0
    with pytest.raises(ValueError, match="bce_logits"):
        LOSSES["bce"]([p], 0.0)


@pytest.mark.parametrize("name, t", [("sse", [0.5, -1.0, 2.0]), ("mse", [0.5, -1.0, 2.0]),
                                     ("hinge", [1.0, -1.0, 1.0]), ("bce", [1.0, 0.0, 0.3]),
                                     ("bce_logits", [1.0, 0.0, 0.3]), ("softmax_ce", 1)])
def test_loss_gradients_match_central_differences(name, t):
    fn = LOSSES[name]
    point = [0.3, 0.6, 0.2] if name == "bce" else [0.3, -1.2, 0.8]  # probabilities for bce
    report = check_grads(lambda a, b, c: fn([a, b, c], t), *point)
    assert report.ok


def test_softmax_ce_gradient_is_softmax_minus_one_hot():
    ys = vs(0.5, -1.0, 2.0)
    LOSSES["softmax_ce"](ys, 2).backward()
    z = sum(math.exp(y.data) for y in ys)
    for k, y in enumerate(ys):
        assert y.grad == pytest.approx(math.exp(y.data) / z - (k == 2), rel=1e-12)


def test_value_targets_give_the_same_numbers():
    # The compiled path traces the target as an input leaf.
    for name, t in [("sse", 0.5), ("mse", 0.5), ("hinge", -1.0), ("bce", 1.0),
                    ("bce_logits", 0.0), ("bce", 0.0)]:
        y = vs(0.3)
        assert LOSSES[name](y, Value(t)).data == pytest.approx(LOSSES[name](y, t).data)


@pytest.mark.parametrize("name, ys, t, error, words", [
    ("hinge", [0.3], 0.0, ValueError, "-1 or +1"),
    ("sse", [0.3, 0.1], 1.0, ValueError, "2 output(s) but the target has 1"),
    ("mse", [0.3], [1.0, 2.0], ValueError, "1 output(s)"),
    ("bce", [0.3], 2.0, ValueError, "[0, 1]"),
    ("bce_logits", [0.3], -1.0, ValueError, "[0, 1]"),
    ("softmax_ce", [0.3, 0.1], 2, ValueError, "out of range for 2 outputs"),
    ("softmax_ce", [0.3, 0.1], 0.5, TypeError, "class index"),
    ("sse", [0.3], "1", TypeError, "number"),
    ("sse", [0.3], [None], TypeError, "target[0]"),
])
def test_bad_targets_say_what_is_expected(name, ys, t, error, words):
    with pytest.raises(error) as info:
        LOSSES[name](vs(*ys), t)
    assert words in str(info.value)


def test_get_loss():
    assert get_loss("mse") is LOSSES["mse"]
    with pytest.raises(ValueError, match="softmax_ce"):
        get_loss("crossentropy")


def test_l2_is_the_sum_of_squares_with_gradient_2p():
    ps = vs(1.5, -2.0, 0.5)
    r = l2(ps)
    assert r.data == 1.5**2 + 4.0 + 0.25
    r.backward()
    assert [p.grad for p in ps] == [3.0, -4.0, 1.0]


def test_predict_and_accuracy():
    assert predict([0.2], "hinge") == 1.0 and predict([-0.2], "hinge") == -1.0
    assert predict([0.6], "bce") == 1.0 and predict([0.4], "bce") == 0.0
    assert predict([-0.1], "bce_logits") == 0.0
    assert predict([0.1, 0.9, 0.3], "softmax_ce") == 1
    outs = [[0.5], [-0.5], [2.0], [-1.0]]
    assert accuracy(outs, [1.0, -1.0, -1.0, -1.0], "hinge") == 0.75
    assert accuracy([[0.1, 0.7], [0.9, 0.2]], [1, 1], "softmax_ce") == 0.5
    assert accuracy([[0.7], [0.2]], [1.0, 1.0], "sse") == 0.5
    assert accuracy([[0.1, 0.7], [0.9, 0.2]], [[0.0, 1.0], [0.0, 1.0]], "mse") == 0.5
    assert accuracy([[0.7], [0.2]], [3.5, 1.0], "mse") is None  # a regression: no accuracy
    assert accuracy([[Value(0.7)]], [Value(1.0)], "bce") == 1.0
