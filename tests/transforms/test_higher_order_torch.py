"""Second derivatives, Hessians and jvp against PyTorch in float64 (run by `make test-torch`)."""

import math
import random

import pytest

from autograd import Value, atan2, clamp, grad, hessian, hypot, jvp, maximum

torch = pytest.importorskip("torch")
from test_torch_parity import UNARY as FIRST_ORDER  # noqa: E402  (it needs torch too)

pytestmark = pytest.mark.torch
F = torch.nn.functional

# Parity's own pairs (test_torch_parity), those smooth enough for a second derivative, and a
# few compositions that exercise a second derivative through a kink or a second use of x.
SMOOTH = ("exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "sin", "cos", "expm1", "log1p",
          "log2", "log10", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
          "atanh", "erf", "gelu", "silu", "elu 0.5")
UNARY = {name: FIRST_ORDER[name] for name in SMOOTH} | {
    "pow 2.5": (lambda v: v ** 2.5, lambda t: t ** 2.5),
    "pow -1.5": (lambda v: v ** -1.5, lambda t: t ** -1.5),
    "x**x": (lambda v: v ** v, lambda t: t ** t),
    "1/x": (lambda v: 1 / v, lambda t: 1 / t),
    "relu*x": (lambda v: v.relu() * v, lambda t: torch.relu(t) * t),
    "abs*x": (lambda v: abs(v) * v, lambda t: torch.abs(t) * t),
    "degrees*x": (lambda v: v.degrees() * v, lambda t: torch.rad2deg(t) * t),
    "x*floor(x)": (lambda v: v * v.floor(), lambda t: t * torch.floor(t)),
    "x**0": (lambda v: v ** 0.0 * v, lambda t: t ** 0.0 * t),
}
POSITIVE = {"log", "sqrt", "pow 2.5", "pow -1.5", "x**x", "1/x", "log2", "log10"}
DOMAIN = {"asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atanh": (-0.9, 0.9), "acosh": (1.1, 4.0),
          "log1p": (-0.9, 3.0), "tan": (-1.4, 1.4)}


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
        if name in DOMAIN:
            x = rng.uniform(*DOMAIN[name])
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


BINARY_HESSIANS = {
    "atan2": (lambda y, x: atan2(y, x) * y, lambda y, x: torch.atan2(y, x) * y),
    "hypot": (lambda a, b: hypot(a, b) * a, lambda a, b: torch.hypot(a, b) * a),
    "mod": (lambda a, b: (a % b) * a * b, lambda a, b: torch.remainder(a, b) * a * b),
    "maximum": (lambda a, b: maximum(a * a, b) * b, lambda a, b: torch.maximum(a * a, b) * b),
    "clamp": (lambda a, b: clamp(a * b, -1.0, b) * a,
              lambda a, b: torch.clamp(a * b, torch.tensor(-1.0, dtype=torch.float64), b) * a),
}


@pytest.mark.parametrize("name", sorted(BINARY_HESSIANS))
def test_hessians_of_the_binary_functions_match_torch(name):
    ours, theirs = BINARY_HESSIANS[name]
    rng = random.Random(name)
    for _ in range(10):
        point = (rng.uniform(0.2, 2.0) * rng.choice([-1, 1]), rng.uniform(0.3, 2.0))
        expected = torch.autograd.functional.hessian(
            lambda t: theirs(t[0], t[1]), torch.tensor(point, dtype=torch.float64))
        got = hessian(ours)(*point)
        for i in range(2):
            assert got[i] == pytest.approx(expected[i].tolist(), rel=1e-12, abs=1e-13), (name,
                                                                                        point)


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


def test_jvp_of_the_new_ops_matches_torch_func_jvp():
    def f(x, y):
        return [atan2(x, y) * x.gelu(), (x % y) + hypot(x, y).log1p() - x.silu() * y.elu(0.5)]

    def f_torch(x, y):
        return (torch.atan2(x, y) * F.gelu(x),
                torch.remainder(x, y) + torch.log1p(torch.hypot(x, y))
                - F.silu(x) * F.elu(y, 0.5))

    point, v = (0.8, -0.3), (1.5, 0.25)
    as_tensors = tuple(torch.tensor(p, dtype=torch.float64) for p in point)
    tangents = tuple(torch.tensor(d, dtype=torch.float64) for d in v)
    values, tans = torch.func.jvp(f_torch, as_tensors, tangents)
    ours_values, ours_tans = jvp(f, point, v)
    assert ours_values == pytest.approx([t.item() for t in values], rel=1e-14)
    assert ours_tans == pytest.approx([t.item() for t in tans], rel=1e-13)
