"""Parity with PyTorch in float64 (run by `make test-torch`; skipped where torch is absent)."""

import math
import random

import pytest

from autograd import Value

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

UNARY = {
    "exp": (lambda v: v.exp(), torch.exp),
    "log": (lambda v: v.log(), torch.log),
    "sqrt": (lambda v: v.sqrt(), torch.sqrt),
    "tanh": (lambda v: v.tanh(), torch.tanh),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "relu": (lambda v: v.relu(), torch.relu),
    "leaky_relu": (lambda v: v.leaky_relu(0.1),
                   lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
    "softplus": (lambda v: v.softplus(), torch.nn.functional.softplus),
    "sin": (lambda v: v.sin(), torch.sin),
    "cos": (lambda v: v.cos(), torch.cos),
    "abs": (lambda v: abs(v), torch.abs),
    "neg": (lambda v: -v, torch.neg),
    "pow": (lambda v: v ** 3, lambda t: t ** 3),
}


def _leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_torch(name):
    ours, theirs = UNARY[name]
    rng = random.Random(name)
    points = [rng.uniform(0.05, 3.0) if name in ("log", "sqrt") else rng.uniform(-3, 3)
              for _ in range(20)]
    points += [0.0] if name not in ("log",) else []  # the kink conventions, too
    for x in points:
        v = Value(x)
        y = ours(v)
        y.backward()
        t = _leaf(x)
        ty = theirs(t)
        ty.backward()
        assert y.data == pytest.approx(ty.item(), rel=1e-14, abs=1e-15)
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-13, abs=1e-15), (name, x)


def test_binary_ops_match_torch():
    rng = random.Random(0)
    for _ in range(30):
        a, b = rng.uniform(0.1, 3.0), rng.uniform(-3.0, 3.0)
        va, vb = Value(a), Value(b)
        ta, tb = _leaf(a), _leaf(b)
        y = va * vb + va / vb - vb ** 2 + va ** vb
        ty = ta * tb + ta / tb - tb ** 2 + ta ** tb
        y.backward()
        ty.backward()
        assert y.data == pytest.approx(ty.item(), rel=1e-13)
        assert (va.grad, vb.grad) == (pytest.approx(ta.grad.item(), rel=1e-12),
                                      pytest.approx(tb.grad.item(), rel=1e-12))


def test_random_expression_graphs_match_torch():
    """Random DAGs over + * tanh exp with reuse, compared node for node on the leaves' grads."""
    rng = random.Random(42)
    for _ in range(20):
        xs = [rng.uniform(-1, 1) for _ in range(4)]
        vs, ts = [Value(x) for x in xs], [_leaf(x) for x in xs]
        nodes_v, nodes_t = list(vs), list(ts)
        for _ in range(40):
            i, j = rng.randrange(len(nodes_v)), rng.randrange(len(nodes_v))
            op = rng.choice(["add", "mul", "tanh", "exp"])
            if op == "add":
                nodes_v.append(nodes_v[i] + nodes_v[j])
                nodes_t.append(nodes_t[i] + nodes_t[j])
            elif op == "mul":
                nodes_v.append(nodes_v[i] * nodes_v[j])
                nodes_t.append(nodes_t[i] * nodes_t[j])
            elif op == "tanh":
                nodes_v.append(nodes_v[i].tanh())
                nodes_t.append(torch.tanh(nodes_t[i]))
            elif abs(nodes_v[i].data) < 5:
                nodes_v.append(nodes_v[i].exp())
                nodes_t.append(torch.exp(nodes_t[i]))
        root_v = Value.sum(nodes_v[-10:])
        root_t = torch.stack(nodes_t[-10:]).sum()
        root_v.backward()
        root_t.backward()
        assert root_v.data == pytest.approx(root_t.item(), rel=1e-12)
        for v, t in zip(vs, ts):
            theirs = 0.0 if t.grad is None else t.grad.item()  # None: the leaf was not reached
            assert math.isclose(v.grad, theirs, rel_tol=1e-10, abs_tol=1e-12)
