"""Second derivatives, Hessians and jvp against PyTorch in float64 (run by `make test-torch`)."""

import math
import random

import pytest

from autograd import Value, grad, hessian, jvp

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

UNARY = {
    "exp": (lambda v: v.exp(), torch.exp),
    "log": (lambda v: v.log(), torch.log),
    "sqrt": (lambda v: v.sqrt(), torch.sqrt),
    "tanh": (lambda v: v.tanh(), torch.tanh),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "softplus": (lambda v: v.softplus(), torch.nn.functional.softplus),
    "sin": (lambda v: v.sin(), torch.sin),
    "cos": (lambda v: v.cos(), torch.cos),
    "pow 2.5": (lambda v: v ** 2.5, lambda t: t ** 2.5),
    "pow -1.5": (lambda v: v ** -1.5, lambda t: t ** -1.5),
    "x**x": (lambda v: v ** v, lambda t: t ** t),
    "1/x": (lambda v: 1 / v, lambda t: 1 / t),
    "relu*x": (lambda v: v.relu() * v, lambda t: torch.relu(t) * t),
    "abs*x": (lambda v: abs(v) * v, lambda t: torch.abs(t) * t),
}
POSITIVE = {"log", "sqrt", "pow 2.5", "pow -1.5", "x**x", "1/x"}


def _leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def _torch_second(fn, x):
    t = _leaf(x)
    (first,) = torch.autograd.grad(fn(t), t, create_graph=True)
    (second,) = torch.autograd.grad(first, t)
    return second.item()


@pytest.mark.parametrize("name", sorted(UNARY))
def test_second_derivatives_match_torch(name):
    ours, theirs = UNARY[name]
    rng = random.Random(name)
    for _ in range(15):
        x = rng.uniform(0.1, 3.0) if name in POSITIVE else rng.choice([-1, 1]) * rng.uniform(
            0.1, 3.0)
        assert grad(grad(ours))(x) == pytest.approx(_torch_second(theirs, x), rel=1e-12,
                                                    abs=1e-14), (name, x)


def test_hessian_matches_torch():
    def f(x, y, z):
        return (x * y).tanh() * z.exp() + (x ** 2 + y * z).sin() / (1 + z * z)

    point = (0.3, -0.7, 0.4)
    expected = torch.autograd.functional.hessian(
        lambda t: f(t[0], t[1], t[2]), torch.tensor(point, dtype=torch.float64))
    got = hessian(f)(*point)
    for i in range(3):
        assert got[i] == pytest.approx(expected[i].tolist(), rel=1e-12, abs=1e-14)


def test_jvp_matches_torch_func_jvp():
    def f(x, y):
        return [x * y.sigmoid(), (x - y).softplus() * x.cos()]

    def f_torch(x, y):
        return (x * torch.sigmoid(y), torch.nn.functional.softplus(x - y) * torch.cos(x))

    point, v = (0.8, -0.3), (1.5, 0.25)
    as_tensors = tuple(torch.tensor(p, dtype=torch.float64) for p in point)
    tangents = tuple(torch.tensor(d, dtype=torch.float64) for d in v)
    values, tans = torch.func.jvp(f_torch, as_tensors, tangents)
    ours_values, ours_tans = jvp(f, point, v)
    assert ours_values == pytest.approx([t.item() for t in values], rel=1e-15)
    assert ours_tans == pytest.approx([t.item() for t in tans], rel=1e-13)


def test_backward_create_graph_matches_torch():
    x = Value(0.9)
    y = (x * x.sin()).exp()
    y.backward(create_graph=True)
    slope = x.grad
    x.grad = 0.0
    slope.backward()
    t = _leaf(0.9)
    (first,) = torch.autograd.grad(torch.exp(t * torch.sin(t)), t, create_graph=True)
    first.backward()
    assert slope.data == pytest.approx(first.item(), rel=1e-14)
    assert x.grad == pytest.approx(t.grad.item(), rel=1e-13)
    assert not math.isnan(x.grad)
