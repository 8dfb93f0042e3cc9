"""Higher-order gradients: second derivatives of every op, grad(grad(f)), Hessians, Jacobians."""

import dataclasses
import math
import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_ops import CASES

from autograd import (
    PRIMITIVES,
    GradientCheckError,
    Value,
    apply,
    check_grads,
    grad,
    gradients,
    hessian,
    hvp,
    jacobian,
    no_grad,
    value_and_grad,
)
from autograd.node import VALUE_MATH

H = 1e-5  # step of the central differences of the first derivative


# --- every primitive: d2y/dxi dxj against central differences of the engine's first derivative --

# Operands from each op's case in test_engine_ops.py: inside its domain, off its kinks and jumps.


def _n_operands(name):
    return 3 if PRIMITIVES[name].arity == -1 else PRIMITIVES[name].arity


def _eager_grads(name, xs, c):
    vs = [Value(x) for x in xs]
    apply(name, *vs, param=c).backward()
    return [v.grad for v in vs]


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
@given(data=st.data())
def test_second_derivatives_of_every_op_match_differences_of_the_first(name, data):
    p = PRIMITIVES[name]
    xs, c = CASES[name].draw(data)
    if p.valid is not None:
        # The primitive's own domain, at the point and at both sides of every difference.
        for shift in (-10 * H, 0.0, 10 * H):
            moved = [x + shift for x in xs]
            assume(p.valid(*moved, c) if p.param else p.valid(*moved))
    assume(all(abs(g) < 1e6 for g in _eager_grads(name, xs, c)))
    hess = hessian(lambda *vs: apply(name, *vs, param=c))(*xs)
    for j in range(len(xs)):
        up = _eager_grads(name, [x + H * (k == j) for k, x in enumerate(xs)], c)
        down = _eager_grads(name, [x - H * (k == j) for k, x in enumerate(xs)], c)
        for i in range(len(xs)):
            numerical = (up[i] - down[i]) / (2 * H)
            assert hess[i][j] == pytest.approx(numerical, rel=1e-5, abs=1e-6), (name, i, j)


def test_every_primitive_rule_runs_on_the_value_backend():
    # The table's rules are written for any backend m: on Values they build graph nodes.
    for name, p in PRIMITIVES.items():
        n = _n_operands(name)
        x = Value(0.7 if p.inside(*[0.7] * n, *([2.0] if p.param else [])) else 1.3)
        ys = [x] * n
        out = apply(name, *ys, param=2.0 if p.param else None)
        args = ([ys, out] if p.arity == -1 else [*ys, out]) + ([2.0] if p.param else [])
        local = p.partials(VALUE_MATH, *args)
        assert len(local) == len(ys)
        assert [float(v) for v in local] == pytest.approx(list(out.local_grads), rel=1e-15)


# --- grad(grad(f)) against hand-derived second derivatives -----------------------------------

def _sig(x):
    return 1 / (1 + math.exp(-x))


SECOND = {
    "tanh": (lambda v: v.tanh(), lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2)),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x))),
    "exp": (lambda v: v.exp(), math.exp),
    "log": (lambda v: v.log(), lambda x: -1 / x ** 2),
    "pow 3.5": (lambda v: v ** 3.5, lambda x: 3.5 * 2.5 * x ** 1.5),
    "pow -2": (lambda v: v ** -2, lambda x: 6 / x ** 4),
    "vpow x**x": (lambda v: v ** v, lambda x: x ** x * ((math.log(x) + 1) ** 2 + 1 / x)),
    "2**x": (lambda v: 2 ** v, lambda x: math.log(2) ** 2 * 2 ** x),
    "sqrt": (lambda v: v.sqrt(), lambda x: -0.25 * x ** -1.5),
    "sin": (lambda v: v.sin(), lambda x: -math.sin(x)),
    "cos": (lambda v: v.cos(), lambda x: -math.cos(x)),
    "softplus": (lambda v: v.softplus(), lambda x: _sig(x) * (1 - _sig(x))),
    "div 1/x": (lambda v: 1 / v, lambda x: 2 / x ** 3),
    "relu": (lambda v: v.relu() * v, lambda x: 2.0 if x > 0 else 0.0),
    "abs": (lambda v: abs(v) * v, lambda x: 2.0 if x > 0 else -2.0),
    "x sin x": (lambda v: v * v.sin(), lambda x: 2 * math.cos(x) - x * math.sin(x)),
}


@pytest.mark.parametrize("name", sorted(SECOND))
@pytest.mark.parametrize("x", [0.3, 1.7])
def test_grad_of_grad_matches_the_hand_derived_second_derivative(name, x):
    f, f2 = SECOND[name]
    assert grad(grad(f))(x) == pytest.approx(f2(x), rel=1e-12, abs=1e-14)


def test_third_derivative_of_tanh():
    t = math.tanh(0.4)
    expected = (1 - t * t) * (6 * t * t - 2)
    assert grad(grad(grad(lambda v: v.tanh())))(0.4) == pytest.approx(expected, rel=1e-12)


def test_fourth_derivative_of_a_polynomial_is_exact():
    f = lambda v: v ** 5 - 3 * v ** 4 + v  # f'''' = 120 x - 72
    assert grad(grad(grad(grad(f))))(1.5) == pytest.approx(120 * 1.5 - 72, rel=1e-13)


def test_inner_grad_does_not_confuse_a_closed_over_outer_variable():
    # d/dx [ d/dy (x * y) at y = x ] = d/dx x = 1 (perturbation confusion would give 2).
    assert grad(lambda x: grad(lambda y: x * y)(x))(3.0) == 1.0
    # d/dx [ d/dy (x y^2) at y = x ] = d/dx 2x^2 = 4x.
    assert grad(lambda x: grad(lambda y: x * y * y)(x))(3.0) == pytest.approx(12.0)


def test_nested_value_and_grad_returns_values_and_top_level_floats():
    def f(x):
        value, slope = value_and_grad(lambda v: v ** 3)(x)
        assert isinstance(value, Value) and isinstance(slope, Value)
        return value + slope  # x^3 + 3x^2, derivative 3x^2 + 6x
    value, slope = value_and_grad(f)(2.0)
    assert (value, slope) == (8.0 + 12.0, 12.0 + 12.0)
    assert type(value) is float and type(slope) is float


# --- backward(create_graph=True) and gradients() ---------------------------------------------

def _random_graph(rng, xs, size=25):
    nodes = list(xs)
    safe = ["add", "sub", "mul", "tanh", "sin", "cos", "sigmoid", "softplus", "exp", "sum"]
    while len(nodes) < len(xs) + size:
        name = rng.choice(safe)
        operands = [rng.choice(nodes) for _ in range(_n_operands(name))]
        if name == "exp":
            operands = [operands[0].tanh()]
        nodes.append(apply(name, *operands))
    return Value.sum(nodes[-4:])


@given(seed=st.integers(0, 10_000))
def test_create_graph_gives_the_same_numbers_as_the_plain_backward(seed):
    rng = random.Random(seed)
    point = [rng.uniform(-2, 2) for _ in range(3)]
    xs = [Value(a) for a in point]
    out = _random_graph(rng, xs)
    out.backward()
    plain = [x.grad for x in xs]
    for x in xs:
        x.grad = 0.0
    out.backward(create_graph=True)
    # The same rule evaluated on Values performs the same float operations: bit-identical.
    for x, g in zip(xs, plain):
        # An input the output never reached is untouched by either pass.
        assert x.grad.data == g if isinstance(x.grad, Value) else x.grad == g == 0.0


@given(seed=st.integers(0, 10_000))
def test_hessian_of_random_graphs_matches_differences_and_is_symmetric(seed):
    rng = random.Random(seed)
    point = [rng.uniform(-1.5, 1.5) for _ in range(3)]

    def f(*vs):
        return _random_graph(random.Random(seed), vs, size=12)

    hess = hessian(f)(*point)
    for j in range(3):
        up = [point[k] + H * (k == j) for k in range(3)]
        down = [point[k] - H * (k == j) for k in range(3)]
        g_up, g_down = grad(f, (0, 1, 2))(*up), grad(f, (0, 1, 2))(*down)
        for i in range(3):
            assert hess[i][j] == pytest.approx((g_up[i] - g_down[i]) / (2 * H), rel=1e-5, abs=1e-6)
            assert hess[i][j] == pytest.approx(hess[j][i], rel=1e-12, abs=1e-12)


def test_grad_of_a_grad_with_the_value_api():
    x = Value(0.5, "x")
    y = x.sin() * x
    y.backward(create_graph=True)
    slope = x.grad  # sin x + x cos x, a Value
    assert slope.data == pytest.approx(math.sin(0.5) + 0.5 * math.cos(0.5), rel=1e-15)
    x.grad = 0.0
    slope.backward()
    assert x.grad == pytest.approx(2 * math.cos(0.5) - 0.5 * math.sin(0.5), rel=1e-14)


def test_create_graph_keeps_the_gradient_lifetime():
    x = Value(2.0)
    y = x * x * x
    y.backward(create_graph=True)
    y.backward(create_graph=True)  # leaves accumulate: 2 * 3x^2
    assert isinstance(x.grad, Value) and x.grad.data == 24.0
    x.grad.backward()  # d/dx (2 * 3x^2) = 12x, added to the 24 already in x.grad ...
    # ... and x.grad is itself part of the graph it differentiates: read the new leaf value.
    assert x.grad.data == 24.0 + 12 * 2.0


def test_gradients_leaves_grad_fields_alone_and_gives_zero_for_unused_inputs():
    x, y, z = Value(1.5), Value(-0.5), Value(4.0)
    out = x * y + y.exp()
    gx, gy, gz = gradients(out, [x, y, z])
    assert (gx.data, gy.data, gz.data) == (-0.5, 1.5 + math.exp(-0.5), 0.0)
    assert (x.grad, y.grad, z.grad) == (0.0, 0.0, 0.0)
    assert gradients(out, [x, z], create_graph=False) == (-0.5, 0.0)


def test_a_long_chain_is_differentiated_twice_without_recursion():
    n = 3000
    x = Value(0.75)
    y = x
    for _ in range(n):
        y = y + x * x / n  # y = x + x^2, built n links deep
    (slope,) = gradients(y, [x])
    (curvature,) = gradients(slope, [x])
    assert slope.data == pytest.approx(1 + 2 * 0.75, rel=1e-9)
    assert curvature.data == pytest.approx(2.0, rel=1e-9)


def test_at_an_infinite_derivative_the_recorded_value_is_kept():
    # sqrt'(0) = +inf: no finite rule to differentiate, the float derivative is a constant.
    x = Value(0.0)
    x.sqrt().backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == math.inf
    x2 = Value(0.0)
    (x2 ** 0.5).backward(create_graph=True)
    assert x2.grad.data == math.inf


def test_an_op_outside_the_table_is_refused_with_create_graph():
    x = Value(1.0)
    y = x * 2.0
    y.op = "mystery"
    with pytest.raises(ValueError, match="'mystery' is not in"):
        y.backward(create_graph=True)


# --- Hessians of known functions -----------------------------------------------------------

def test_hessian_of_rosenbrock_at_and_away_from_the_minimum():
    f = lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
    assert hessian(f)(1.0, 1.0) == ((802.0, -400.0), (-400.0, 200.0))
    x, y = -0.5, 0.8
    expected = ((2 - 400 * (y - x * x) + 800 * x * x, -400 * x), (-400 * x, 200.0))
    got = hessian(f)(x, y)
    for i in range(2):
        assert got[i] == pytest.approx(expected[i], rel=1e-13)


def test_hessian_of_a_mixed_function():
    f = lambda x, y: x * x * y + x.sin() * y ** 3
    x, y = 0.6, -1.3
    off = 2 * x + 3 * math.cos(x) * y * y
    expected = ((2 * y - math.sin(x) * y ** 3, off), (off, 6 * math.sin(x) * y))
    got = hessian(f)(x, y)
    for i in range(2):
        assert got[i] == pytest.approx(expected[i], rel=1e-13)


def test_hessian_of_a_quadratic_form_is_its_matrix():
    a = ((2.0, -1.0, 0.5), (-1.0, 3.0, 0.0), (0.5, 0.0, 1.0))
    b = (0.3, -0.7, 1.1)

    def f(*xs):
        quad = Value.sum(a[i][j] * xs[i] * xs[j] for i in range(3) for j in range(3))
        return 0.5 * quad + Value.sum(bi * xi for bi, xi in zip(b, xs))

    assert hessian(f)(0.2, -1.0, 2.5) == a


def test_hessian_argnums_and_shapes():
    f = lambda x, y, z: x ** 3 * y + z
    assert hessian(f, 0)(2.0, 5.0, 1.0) == 60.0  # 6 x y
    assert hessian(f, (0, 1))(2.0, 5.0, 1.0) == ((60.0, 12.0), (12.0, 0.0))


def test_jacobian_shapes_follow_the_outputs_and_argnums():
    f = lambda x, y: [x * y, x + y.sin(), x.exp()]
    x, y = 0.5, 2.0
    assert jacobian(f)(x, y) == ((y, x), (1.0, math.cos(y)), (math.exp(x), 0.0))
    assert jacobian(f, 1)(x, y) == (x, math.cos(y), 0.0)
    assert jacobian(lambda x, y: x * y)(x, y) == (y, x)
    assert jacobian(lambda x, y: x * y, 0)(x, y) == y


def test_jacobian_rejects_non_value_outputs():
    with pytest.raises(TypeError, match="must return a Value or a non-empty sequence"):
        jacobian(lambda x: [x, 3.0])(1.0)


def test_hvp_matches_the_hessian_times_the_vector():
    f = lambda x, y, z: (x * y).tanh() + z.exp() * x + y ** 4
    point, v = (0.3, -0.8, 0.4), (1.0, -2.0, 0.5)
    hess = hessian(f)(*point)
    expected = [sum(hess[i][j] * v[j] for j in range(3)) for i in range(3)]
    assert list(hvp(f, point, v)) == pytest.approx(expected, rel=1e-12)


# --- check_grads(order=2) ------------------------------------------------------------------

def test_check_grads_order_2_passes_on_correct_derivatives():
    f = lambda x, y: (x * y).tanh() + x ** 3 / y
    report = check_grads(f, 0.3, Value(0.7, "y"), order=2)
    assert report.ok and report.order == 2
    assert [r.name for r in report.rows] == ["arg0", "y", "d2/darg0darg0", "d2/darg0dy",
                                             "d2/dydarg0", "d2/dydy"]
    # d2f/dx2 = -2 y^2 t (1 - t^2) + 6 x / y with t = tanh(x y)
    t = math.tanh(0.3 * 0.7)
    assert report.rows[2].analytical == pytest.approx(-2 * 0.49 * t * (1 - t * t) + 1.8 / 0.7)


def test_check_grads_order_2_catches_a_wrong_second_derivative(monkeypatch):
    # Right value, wrong derivative: 1 - y*y with one factor frozen as a constant. First-order
    # checks cannot see it (the eager engine uses the floats); the second-order rows can.
    tanh = PRIMITIVES["tanh"]
    wrong = dataclasses.replace(tanh, partials=lambda m, x, y: (1.0 - y * float(y),))
    monkeypatch.setitem(PRIMITIVES, "tanh", wrong)
    f = lambda x: x.tanh()
    assert check_grads(f, 0.5).ok
    with pytest.raises(GradientCheckError, match="d2/darg0darg0: numerical"):
        check_grads(f, 0.5, order=2)


def test_check_grads_rejects_other_orders():
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        check_grads(lambda x: x, 1.0, order=3)


def test_transforms_and_create_graph_record_even_inside_no_grad():
    with no_grad():
        assert grad(grad(lambda v: v * v * v))(2.0) == 12.0
        assert hessian(lambda v, w: v * w * w)(1.0, 3.0) == ((0.0, 6.0), (6.0, 2.0))
        outside = Value(1.0) * 2.0
    assert outside.parents == ()  # the caller's no_grad still holds outside the transforms
    x = Value(2.0)
    y = x * x * x
    with no_grad():
        y.backward(create_graph=True)
    (curvature,) = gradients(x.grad, [x])
    assert curvature.data == 12.0


def test_create_graph_sums_a_nodes_contributions_as_one_node():
    # x reaches y along three edges: its gradient is one n-ary sum of three terms, not a chain
    # of adds (the gradient graph stays as small as the graph it differentiates).
    x = Value(0.5, "x")
    y = x.sin() + x.cos() + x.exp()
    y.backward(create_graph=True)
    g = x.grad
    assert g.op == "sum" and len(g.parents) == 3
    assert g.data == pytest.approx(math.cos(0.5) - math.sin(0.5) + math.exp(0.5), rel=1e-15)
