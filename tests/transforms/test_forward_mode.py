"""Forward mode: jvp by dual numbers against hand derivatives, differences and reverse mode."""

import math
import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import PRIMITIVES, Value, apply, grad, hessian, hvp, jacobian, jvp


def test_jvp_of_a_known_function():
    # f(x, y) = x y + sin y: J = (y, x + cos y)
    f = lambda x, y: x * y + y.sin()
    value, tangent = jvp(f, (1.0, 2.0), (1.0, 0.5))
    assert value == 2.0 + math.sin(2.0)
    assert tangent == pytest.approx(2.0 * 1.0 + (1.0 + math.cos(2.0)) * 0.5, rel=1e-15)


def test_jvp_with_several_outputs():
    f = lambda x, y: (x * y, x.exp(), y / x)
    values, tangents = jvp(f, (0.5, 3.0), (2.0, -1.0))
    assert values == (1.5, math.exp(0.5), 6.0)
    expected = (3.0 * 2.0 + 0.5 * -1.0, math.exp(0.5) * 2.0, -3.0 / 0.25 * 2.0 + 1 / 0.5 * -1.0)
    assert tangents == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "sqrt", "sin", "softplus"])
def test_jvp_along_a_direction_matches_central_differences(name):
    f = lambda x, y: apply(name, x * x + y * 0.5 + 1.0) * y
    point, v = (0.7, 1.3), (0.4, -1.1)
    _, tangent = jvp(f, point, v)
    h = 1e-6

    def at(t):
        return f(*(Value(p + t * d) for p, d in zip(point, v))).data

    assert tangent == pytest.approx((at(h) - at(-h)) / (2 * h), rel=1e-7)


def test_jvp_with_basis_tangents_gives_the_columns_of_the_jacobian():
    f = lambda x, y, z: [x * y.tanh(), z ** 2 - x, Value.sum([x, y, z]).sigmoid()]
    point = (0.3, -1.2, 2.0)
    jac = jacobian(f)(*point)
    for j in range(3):
        basis = [float(k == j) for k in range(3)]
        _, column = jvp(f, point, basis)
        assert column == pytest.approx(tuple(row[j] for row in jac), rel=1e-14, abs=1e-15)


# --- the dot-product test on random graphs: <v, J^T u> = <J v, u> ---------------------------

SAFE = ["add", "sub", "mul", "div", "tanh", "sin", "cos", "sigmoid", "softplus", "exp", "log",
        "sqrt", "pow", "sum", "abs", "relu", "leaky_relu"]


def _random_outputs(rng, xs, size=30, n_out=3):
    """A random graph over xs built from table ops, each applied inside its valid domain."""
    nodes = list(xs)
    while len(nodes) < len(xs) + size:
        name = rng.choice(SAFE)
        p = PRIMITIVES[name]
        n = 3 if p.arity == -1 else p.arity
        operands = [rng.choice(nodes) for _ in range(n)]
        param = rng.choice([2.0, 3.0, 0.5]) if name == "pow" else (
            0.1 if name == "leaky_relu" else None)
        data = [o.data for o in operands]
        if p.valid is not None and not (p.valid(*data, param) if p.param else p.valid(*data)):
            continue
        if name in ("div", "log", "sqrt", "pow") and min(abs(d) for d in data) < 0.1:
            continue  # keep away from poles, where the numbers would be huge
        out = apply(name, *operands, param=param)
        if abs(out.data) < 1e3:
            nodes.append(out)
    return nodes[-n_out:]


@given(seed=st.integers(0, 100_000))
def test_forward_and_reverse_mode_agree_by_the_dot_product_test(seed):
    rng = random.Random(seed)
    point = [rng.uniform(0.2, 2.0) for _ in range(4)]
    v = [rng.uniform(-1, 1) for _ in range(4)]
    u = [rng.uniform(-1, 1) for _ in range(3)]

    def f(*xs):
        return _random_outputs(random.Random(seed), xs)

    # Forward: J v in one pass.
    _, jv = jvp(f, point, v)
    # Reverse: J^T u by one backward from sum_k u_k out_k.
    xs = [Value(p) for p in point]
    outs = f(*xs)
    Value.sum(uk * ok for uk, ok in zip(u, outs)).backward()
    jtu = [x.grad for x in xs]
    lhs = sum(vi * gi for vi, gi in zip(v, jtu))
    rhs = sum(ti * ui for ti, ui in zip(jv, u))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-12)


# --- composition and edges -----------------------------------------------------------------

def test_jvp_of_a_gradient_is_a_hessian_vector_product():
    f = lambda x, y: x ** 3 * y + (x * y).sin()
    point, v = (0.4, 1.5), (1.0, -0.5)
    _, hv = jvp(grad(f, (0, 1)), point, v)
    hess = hessian(f)(*point)  # reverse over reverse: an independent route
    expected = [hess[i][0] * v[0] + hess[i][1] * v[1] for i in range(2)]
    assert hv == pytest.approx(expected, rel=1e-13)
    assert hvp(f, point, v) == pytest.approx(expected, rel=1e-13)


def test_values_made_outside_f_have_zero_tangent():
    w = Value(3.0, "w")
    assert jvp(lambda x: x * w + w.exp(), (2.0,), (1.0,)) == (6.0 + math.exp(3.0), 3.0)


def test_an_output_that_does_not_depend_on_the_primals_has_zero_tangent():
    assert jvp(lambda x: [x * 2.0, Value(5.0) * 1.0], (1.0,), (1.0,)) == ((2.0, 5.0), (2.0, 0.0))


def test_jvp_records_no_tangent_for_other_threads():
    seen = []

    def other():
        a = Value(1.0)
        seen.append(a * a)

    def f(x):
        t = threading.Thread(target=other)
        t.start()
        t.join()
        return x * 4.0

    assert jvp(f, (1.0,), (1.0,)) == (4.0, 4.0)
    assert len(seen) == 1


def test_jvp_errors_name_the_problem():
    with pytest.raises(ValueError, match="one tangent per primal"):
        jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match="tangent 0 must be a real number"):
        jvp(lambda x: x, (1.0,), ("a",))
    with pytest.raises(ValueError, match="tangent 0 must be finite"):
        jvp(lambda x: x, (1.0,), (math.nan,))
    with pytest.raises(TypeError, match="must return a Value"):
        jvp(lambda x: 3.0, (1.0,), (1.0,))


def test_jvp_leaves_the_engine_quiet_afterwards():
    import autograd.recording as recording

    with pytest.raises(ZeroDivisionError):
        jvp(lambda x: 1 / 0, (1.0,), (1.0,))
    assert recording._thread.node_hooks == () and recording._watched == 0
