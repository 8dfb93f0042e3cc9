"""Parity with PyTorch in float64 (run by `make test-torch`; skipped where torch is absent)."""

import math
import random

import pytest

from autograd import DomainError, Value, atan2, clamp, hypot, maximum, minimum

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
F = torch.nn.functional

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
    "pow 0": (lambda v: v ** 0.0, lambda t: t ** 0.0),
    "pow 0.5": (lambda v: v ** 0.5, lambda t: t ** 0.5),
    "expm1": (lambda v: v.expm1(), torch.expm1),
    "log1p": (lambda v: v.log1p(), torch.log1p),
    "log2": (lambda v: v.log2(), torch.log2),
    "log10": (lambda v: v.log10(), torch.log10),
    "tan": (lambda v: v.tan(), torch.tan),
    "asin": (lambda v: v.asin(), torch.asin),
    "acos": (lambda v: v.acos(), torch.acos),
    "atan": (lambda v: v.atan(), torch.atan),
    "degrees": (lambda v: v.degrees(), torch.rad2deg),
    "radians": (lambda v: v.radians(), torch.deg2rad),
    "sinh": (lambda v: v.sinh(), torch.sinh),
    "cosh": (lambda v: v.cosh(), torch.cosh),
    "asinh": (lambda v: v.asinh(), torch.asinh),
    "acosh": (lambda v: v.acosh(), torch.acosh),
    "atanh": (lambda v: v.atanh(), torch.atanh),
    "erf": (lambda v: v.erf(), torch.erf),
    "sign": (lambda v: v.sign(), torch.sign),
    "floor": (lambda v: v.floor(), torch.floor),
    "ceil": (lambda v: v.ceil(), torch.ceil),
    "round": (lambda v: v.round(), torch.round),
    "gelu": (lambda v: v.gelu(), F.gelu),
    "silu": (lambda v: v.silu(), F.silu),
    "elu": (lambda v: v.elu(), F.elu),
    "elu 0.5": (lambda v: v.elu(0.5), lambda t: F.elu(t, 0.5)),
}
DOMAIN = {  # where random points are drawn; elsewhere (-3, 3)
    "log": (0.05, 3.0), "sqrt": (0.05, 3.0), "log2": (0.05, 3.0), "log10": (0.05, 3.0),
    "pow 0.5": (0.05, 3.0), "log1p": (-0.95, 3.0), "asin": (-0.95, 0.95),
    "acos": (-0.95, 0.95), "atanh": (-0.95, 0.95), "acosh": (1.05, 4.0), "tan": (-1.4, 1.4),
}
KINKS = {  # the conventions at kinks, jumps and domain edges; elsewhere 0
    "log": [], "log2": [], "log10": [], "acosh": [1.0], "asin": [-1.0, 1.0],
    "acos": [-1.0, 1.0], "atanh": [], "floor": [0.0, 2.0, -1.0], "ceil": [0.0, 2.0, -1.0],
    "round": [0.5, 1.5, 2.5, -0.5, -2.5, 0.0],
}


def _leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_torch(name):
    ours, theirs = UNARY[name]
    rng = random.Random(name)
    lo, hi = DOMAIN.get(name, (-3.0, 3.0))
    points = [rng.uniform(lo, hi) for _ in range(20)] + KINKS.get(name, [0.0])
    for x in points:
        v = Value(x)
        y = ours(v)
        y.backward()
        t = _leaf(x)
        ty = theirs(t)
        ty.backward()
        assert y.data == pytest.approx(ty.item(), rel=1e-14, abs=1e-15)
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-13, abs=1e-15), (name, x)


def test_atanh_at_plus_and_minus_one_is_a_domain_error_where_torch_gives_inf():
    for x in (-1.0, 1.0):
        assert math.isinf(torch.atanh(torch.tensor(x, dtype=torch.float64)).item())
        with pytest.raises(DomainError, match="-1 < x < 1"):
            Value(x).atanh()


def _both(ours, theirs, *xs):
    """(value, grads) from the engine and from torch, for the same function of xs."""
    vs = [Value(x) for x in xs]
    y = ours(*vs)
    y.backward()
    ts = [_leaf(x) for x in xs]
    ty = theirs(*ts)
    ty.backward()
    theirs_grads = [0.0 if t.grad is None else t.grad.item() for t in ts]
    return (y.data, [v.grad for v in vs]), (ty.item(), theirs_grads)


BINARY = {
    "atan2": (atan2, torch.atan2, [(0.0, 0.0), (0.0, -1.0), (-0.0, -1.0), (1.0, 0.0)]),
    "hypot": (hypot, torch.hypot, [(3.0, -4.0), (0.0, 2.0)]),
    "maximum": (maximum, torch.maximum, [(1.0, 1.0), (0.0, 0.0), (-2.0, -2.0), (1.0, 2.0)]),
    "minimum": (minimum, torch.minimum, [(1.0, 1.0), (0.0, 0.0), (-2.0, -2.0), (1.0, 2.0)]),
    "mod": (lambda a, b: a % b, torch.remainder,
            [(6.0, 3.0), (-6.0, 3.0), (-1.0, 3.0), (1.0, 0.1), (5.5, -2.0), (0.0, 2.0),
             (7.0, -7.0)]),
    "vpow": (lambda a, b: a ** b, lambda a, b: a ** b,
             [(0.0, 2.0), (0.0, 1.0), (0.0, 0.5), (0.0, 3.5)]),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_functions_match_torch_including_ties_and_edges(name):
    ours, theirs, edges = BINARY[name]
    rng = random.Random(name)
    points = [(rng.uniform(-3, 3), rng.uniform(-3, 3)) for _ in range(30)]
    if name == "mod":
        points = [(a, b) for a, b in points if abs(b) > 0.1]
    if name == "vpow":
        points = [(abs(a) + 0.05, b) for a, b in points]
    for a, b in points + edges:
        (y, grads), (ty, tgrads) = _both(ours, theirs, a, b)
        assert y == pytest.approx(ty, rel=1e-14, abs=1e-15), (name, a, b)
        assert grads == pytest.approx(tgrads, rel=1e-13, abs=1e-15), (name, a, b)


def test_hypot_at_the_origin_is_torchs_vector_norm_there():
    """torch.hypot's gradient at (0, 0) is nan; the engine's is the norm's, (0, 0)."""
    (y, grads), (ty, tgrads) = _both(
        hypot, lambda a, b: torch.linalg.vector_norm(torch.stack([a, b])), 0.0, 0.0)
    assert (y, grads) == (ty, tgrads) == (0.0, [0.0, 0.0])
    t = [_leaf(0.0), _leaf(0.0)]
    torch.hypot(*t).backward()
    assert math.isnan(t[0].grad.item())


ELSEWHERE = {  # ops covered by a test of their own, not by UNARY or BINARY
    "add": "test_binary_ops_match_torch", "sub": "test_binary_ops_match_torch",
    "mul": "test_binary_ops_match_torch", "div": "test_binary_ops_match_torch",
    "clamp": "test_clamp_matches_torch_at_and_between_its_bounds",
    "sum": "test_random_expression_graphs_match_torch",
}
"""tests/engine/test_op_lists.py checks that UNARY, BINARY and these cover every op."""

CLAMP_EDGES = [(0.0, 0.0, 1.0), (1.0, 0.0, 1.0), (-1.0, 0.0, 1.0), (2.0, 0.0, 1.0),
               (1.0, 1.0, 1.0), (0.5, 1.0, 1.0), (2.0, 1.0, 1.0), (0.5, 2.0, 1.0),
               (1.5, 2.0, 1.0), (3.0, 2.0, 1.0), (2.0, 2.0, 1.0), (1.0, 2.0, 1.0)]


def test_clamp_matches_torch_at_and_between_its_bounds():
    rng = random.Random(3)
    points = [tuple(rng.uniform(-2, 2) for _ in range(3)) for _ in range(40)] + CLAMP_EDGES
    for x, lo, hi in points:
        (y, grads), (ty, tgrads) = _both(clamp, torch.clamp, x, lo, hi)
        assert (y, grads) == (ty, tgrads), (x, lo, hi)
        # Number bounds: the tensor method with numbers, gradient for x only.
        v, t = Value(x), _leaf(x)
        v.clamp(lo, hi).backward()
        t.clamp(lo, hi).backward()
        assert v.grad == t.grad.item(), (x, lo, hi)


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
