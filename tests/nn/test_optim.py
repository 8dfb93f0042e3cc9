"""Optimizers against hand-computed steps; schedules; argument checks."""

import math

import pytest

from autograd import Value
from nn.optim import SGD, Adam, AdamW, Constant, LinearDecay, make_optimizer_named


def param(data, grad):
    p = Value(data)
    p.grad = grad
    return p


def test_sgd_plain_step():
    p = param(1.0, 0.5)
    SGD([p], lr=0.1).step()
    assert p.data == pytest.approx(0.95, rel=1e-15)


def test_sgd_momentum_and_weight_decay_two_steps():
    p = param(1.0, 0.5)
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    opt.step()
    # g = 0.5 + 0.01*1 = 0.51, v = 0.51, p = 1 - 0.051
    assert p.data == pytest.approx(0.949, rel=1e-14)
    p.grad = 0.5
    opt.step()
    # g = 0.5 + 0.01*0.949 = 0.50949, v = 0.9*0.51 + 0.50949 = 0.96849, p = 0.949 - 0.096849
    assert p.data == pytest.approx(0.852151, rel=1e-14)


def test_adam_two_steps():
    p = param(1.0, 0.5)
    opt = Adam([p], lr=0.1)
    opt.step()
    # m^ = g, v^ = g^2 on the first step: the step is lr * g / (|g| + eps), i.e. almost lr.
    assert p.data == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), rel=1e-15)
    p.grad = -0.25
    opt.step()
    m = 0.9 * 0.05 + 0.1 * -0.25                  # 0.02
    v = 0.999 * 0.00025 + 0.001 * 0.0625          # 0.00031225
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    expected = (1.0 - 0.1 * 0.5 / (0.5 + 1e-8)) - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    # The optimizer's own moment estimates after two steps are the ones written out above.
    assert opt.m == [pytest.approx(m, rel=1e-14)] and opt.v == [pytest.approx(v, rel=1e-14)]
    assert p.data == pytest.approx(expected, rel=1e-14)
    assert opt.steps == 2


def test_adam_l2_versus_adamw_decoupled_decay():
    p, q = param(1.0, 0.5), param(1.0, 0.5)
    Adam([p], lr=0.1, weight_decay=0.1).step()
    AdamW([q], lr=0.1, weight_decay=0.1).step()
    # Adam: g = 0.5 + 0.1 = 0.6, the normalized step is still ~lr: p = 0.9.
    assert p.data == pytest.approx(1.0 - 0.1 * 0.6 / (0.6 + 1e-8), rel=1e-14)
    # AdamW: p = 1 - lr*wd*1 = 0.99 first, then the Adam step on g = 0.5: 0.89.
    assert q.data == pytest.approx(0.99 - 0.1 * 0.5 / (0.5 + 1e-8), rel=1e-14)


def test_a_value_grad_is_used_as_its_number():
    p = Value(1.0)
    p.grad = Value(0.5)  # as after backward(create_graph=True)
    SGD([p], lr=0.1).step()
    assert p.data == pytest.approx(0.95)


def test_zero_grad_and_state_round_trip():
    p = param(1.0, 0.5)
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    saved = opt.state_dict()
    opt.step()
    opt.load_state_dict(saved)
    assert opt.velocity == [0.5] and opt.steps == 1
    opt.zero_grad()
    assert p.grad == 0.0


def test_linear_decay_is_micrograds_schedule():
    s = LinearDecay(1.0, 0.1, 100)
    for k in (0, 1, 37, 99):
        assert s(k) == pytest.approx(1.0 - 0.9 * k / 100, rel=1e-15)
    assert s(100) == pytest.approx(0.1) and s(500) == pytest.approx(0.1)
    assert Constant(0.3)(1000) == 0.3


@pytest.mark.parametrize("make, words", [
    (lambda: SGD([], lr=0.1), "no parameters"),
    (lambda: SGD([Value(1.0)], lr=-1), "lr must be"),
    (lambda: SGD([Value(1.0)], lr=float("nan")), "lr must be"),
    (lambda: SGD([Value(1.0)], momentum=1.0), "momentum must be in [0, 1)"),
    (lambda: SGD([1.0]), "must be a Value"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), "betas"),
    (lambda: LinearDecay(1.0, 0.1, 0), "steps >= 1"),
    (lambda: make_optimizer_named("rmsprop", [Value(1.0)]), "sgd, adam, adamw"),
    (lambda: make_optimizer_named("adam", [Value(1.0)], momentum=0.9), "SGD option"),
])
def test_bad_arguments(make, words):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert words in str(info.value)
