"""The scalar math of the table, op by op, against independent oracles; and the exact answers
at its edges (kinks, ties, domain edges, division by zero).

Every primitive (operands drawn from ``test_engine_ops.CASES``, kept off kinks and domain edges):
second derivatives through ``backward(create_graph=True)`` against central differences of the
engine's first derivatives; the compiled tape against the eager engine (1e-12); forward mode
(``jvp``) against reverse mode and against a central difference along the tangent. The forward
values and first derivatives are checked in ``test_engine_ops.py``, PyTorch parity in
``test_torch_parity.py`` and ``test_higher_torch.py``.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_ops import CASES

from autograd import (
    PRIMITIVES,
    DomainError,
    Value,
    ZeroDivisionDomainError,
    apply,
    atan2,
    clamp,
    grad,
    gradients,
    hypot,
    jvp,
    maximum,
    minimum,
    to_dot,
)
from autograd.teach.expr import FUNCTIONS, parse

H = 1e-5  # step of the central differences of the first derivative
NAMES = sorted(PRIMITIVES)


def _draw(name: str, data: st.DataObject, c: float | None = None,
          kinks: bool = False) -> tuple[list[float], Any]:
    """Operands inside the op's domain, also at +-10 H (the differences step there), and off
    its kinks unless ``kinks``; the parameter ``c`` is drawn unless given."""
    p = PRIMITIVES[name]
    case = CASES[name]
    if kinks:
        xs = [data.draw(s) for s in case.operands]
        drawn = data.draw(case.param) if case.param is not None else None
    else:
        xs, drawn = case.draw(data)
    c = drawn if c is None else c
    for shift in (-10 * H, 0.0, 10 * H):
        assume(p.inside(*[x + shift for x in xs], *(() if c is None else (c,))))
    return xs, c


def _first(name: str, xs: list[float], c: Any) -> list[float]:
    """The engine's first derivatives at xs: the local derivatives of the one node."""
    return list(apply(name, *[Value(x) for x in xs], param=c).local_grads)


def close(got: float, want: float, rel: float, abs_: float = 0.0) -> bool:
    return got == want or abs(got - want) <= rel * max(abs(got), abs(want)) + abs_


# ---------------------------------------------------------------------------------------------
# Every primitive.

@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_second_derivatives_through_create_graph_match_differences(name: str, data: Any) -> None:
    xs, c = _draw(name, data)
    assume(all(abs(g) < 1e6 for g in _first(name, xs, c)))
    vs = [Value(x, f"x{i + 1}") for i, x in enumerate(xs)]
    y = apply(name, *vs, param=c)
    y.backward(create_graph=True)
    firsts = [v.grad for v in vs]  # Values: d y / d x_i as graphs
    for i, g in enumerate(firsts):
        assert isinstance(g, Value)
        seconds = gradients(g, vs, create_graph=False)
        for j in range(len(xs)):
            up = _first(name, [x + H * (k == j) for k, x in enumerate(xs)], c)[i]
            down = _first(name, [x - H * (k == j) for k, x in enumerate(xs)], c)[i]
            numerical = (up - down) / (2 * H)
            assert seconds[j] == pytest.approx(numerical, rel=1e-5, abs=1e-6), (name, i, j, xs)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_the_compiled_tape_equals_the_eager_engine(name: str, data: Any) -> None:
    np = pytest.importorskip("numpy")
    from autograd.compiled.tape import trace

    # Kinks and ties included: numpy must take the same branch as the floats.
    first, c = _draw(name, data, kinks=True)
    batch = [first] + [_draw(name, data, c, kinks=True)[0] for _ in range(3)]
    leaves = [Value(x, f"x{i + 1}") for i, x in enumerate(first)]
    tape = trace([apply(name, *leaves, param=c)], leaves)
    run = tape.forward(np.array(batch))
    grads = tape.backward(run, wrt_inputs=True)
    for n, xs in enumerate(batch):
        vs = [Value(x) for x in xs]
        y = apply(name, *vs, param=c)
        y.backward()
        # numpy's and libm's functions may differ in the last bit (tanh near 1 then gives a
        # 1 - y*y that differs by 2e-16): hence the absolute floor.
        assert close(float(run.outputs[n, 0]), y.data, 1e-12, 1e-15), (name, xs)
        for i, v in enumerate(vs):
            assert close(float(grads.inputs[n, i]), v.grad, 1e-12, 1e-15), (name, i, xs)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_forward_mode_matches_reverse_mode_and_differences(name: str, data: Any) -> None:
    xs, c = _draw(name, data)
    v = [data.draw(st.floats(-1.0, 1.0), label=f"v{i}") for i in range(len(xs))]
    value, tangent = jvp(lambda *vs: apply(name, *vs, param=c), xs, v)
    firsts = _first(name, xs, c)
    assume(all(abs(g) < 1e6 for g in firsts))
    assert value == apply(name, *xs, param=c).data
    assert tangent == pytest.approx(math.fsum(g * t for g, t in zip(firsts, v)), rel=1e-12,
                                    abs=1e-12)
    # A step of 1e-6 along the largest component, whatever the tangent's length.
    size = max(abs(t) for t in v)
    assume(size > 0.01)
    h = 1e-6 / size
    up = apply(name, *[x + h * t for x, t in zip(xs, v)], param=c).data
    down = apply(name, *[x - h * t for x, t in zip(xs, v)], param=c).data
    assert tangent == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-6), (name, xs, v)


def test_every_function_primitive_is_callable_in_expressions_and_drawn() -> None:
    assert set(FUNCTIONS) == {name for name, p in PRIMITIVES.items()
                              if p.symbol is None and p.arity > 0}
    root = parse("atan2(y, x) + hypot(x, y) % 2 + clamp(x, 0, 1) * maximum(x, y) - minimum(x, y)"
                 " + elu(x, 0.5) + gelu(y) + silu(x) + floor(y) + sign(x)", x=0.3, y=-1.2)
    x, y = 0.3, -1.2
    want = (math.atan2(y, x) + math.hypot(x, y) % 2 + min(max(x, 0), 1) * max(x, y) - min(x, y)
            + x + 0.5 * y * (1 + math.erf(y / math.sqrt(2))) + x / (1 + math.exp(-x))
            + math.floor(y) + 1.0)
    assert root.data == pytest.approx(want, rel=1e-14)
    root.backward()
    dot = to_dot(root)
    assert "atan2" in dot and "clamp" in dot and "%" in dot
    with pytest.raises(ValueError, match="clamp takes exactly three arguments; got 2"):
        parse("clamp(x, 1)", x=0.5)
    with pytest.raises(ValueError, match="outside the domain of mod"):
        parse("x % 0", x=0.5)


# ---------------------------------------------------------------------------------------------
# Powers at zero.

def test_x_to_the_zero_has_derivative_zero_at_zero() -> None:
    """x ** 0 is the constant 1: 0 everywhere, also at 0 (the rule c*x**(c-1) gives 0 * inf)."""
    assert grad(lambda x: x ** 0.0)(0.0) == 0.0
    assert grad(lambda x: x ** 0)(0.0) == 0.0
    assert grad(grad(lambda x: x ** 0.0))(0.0) == 0.0
    assert jvp(lambda x: x ** 0.0, (0.0,), (1.0,)) == (1.0, 0.0)
    assert grad(lambda x: x ** 0.0)(-2.0) == 0.0 and grad(lambda x: x ** 1.0)(0.0) == 1.0


def test_x_to_the_zero_at_zero_in_the_tape() -> None:
    np = pytest.importorskip("numpy")
    from autograd.compiled.tape import trace

    x = Value(0.0, "x")
    tape = trace([x ** 0.0], [x])
    g = tape.backward(tape.forward(np.array([[0.0], [2.0]])), wrt_inputs=True)
    assert g.inputs[:, 0].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("exponent, d_base", [(2.0, 0.0), (1.0, 1.0), (0.5, math.inf)])
def test_zero_to_a_positive_value_power_is_zero_with_zero_exponent_derivative(
        exponent: float, d_base: float) -> None:
    """As PyTorch and HIPS autograd: 0 ** y = 0 for y > 0, and d/dy = 0 there."""
    b, e = Value(0.0, "b"), Value(exponent, "e")
    z = b ** e
    assert (z.op, z.data, z.local_grads) == ("vpow", 0.0, (d_base, 0.0))
    z.backward()
    assert (b.grad, e.grad) == (d_base, 0.0)
    r = 0 ** Value(exponent)  # a number base: __rpow__, the same primitive
    assert (r.op, r.data, r.local_grads[1]) == ("vpow", 0.0, 0.0)


def test_zero_base_in_the_tape_and_in_higher_order() -> None:
    np = pytest.importorskip("numpy")
    from autograd.compiled.tape import trace

    b, e = Value(0.0, "b"), Value(2.0, "e")
    tape = trace([b ** e], [b, e])
    g = tape.backward(tape.forward(np.array([[0.0, 2.0], [2.0, 3.0]])), wrt_inputs=True)
    assert g.inputs.tolist() == [[0.0, 0.0], [12.0, pytest.approx(8 * math.log(2.0))]]
    # d/de of 0 ** e is 0 for e > 0, so is its derivative in e; d2/db2 of b ** 3 at 0 is 0.
    assert grad(grad(lambda e: Value(0.0) ** e))(2.0) == 0.0
    assert grad(grad(lambda b: b ** Value(3.0)))(0.0) == 0.0


def test_zero_to_a_value_power_that_is_not_positive_is_outside_the_domain() -> None:
    with pytest.raises(DomainError, match="base == 0 with exponent > 0") as info:
        Value(0.0) ** Value(0.0)  # 0 ** y jumps at y = 0: no derivative in y there
    assert not isinstance(info.value, ZeroDivisionError)
    with pytest.raises(ZeroDivisionDomainError):
        Value(0.0) ** Value(-1.0)


# ---------------------------------------------------------------------------------------------
# Division by zero: a DomainError that is also a ZeroDivisionError.

@pytest.mark.parametrize("make, op, shown", [
    (lambda: 1 / Value(0.0, "d"), "div", "label 'd'"),
    (lambda: Value(1.0, "p") / 0, "div", "divisor != 0"),
    (lambda: Value(2.0) / Value(-0.0), "div", "-0.0"),
    (lambda: apply("div", 1.0, 0.0), "div", "div(1.0, 0.0)"),
    (lambda: Value(7.0) % Value(0.0, "m"), "mod", "label 'm'"),
    (lambda: 7 % Value(0.0), "mod", "divisor != 0"),
    (lambda: Value(0.0, "b") ** -1, "pow", "exponent=-1.0"),
    (lambda: Value(0.0) ** -2.5, "pow", "base == 0 with exponent >= 0"),
    (lambda: Value(0.0, "b") ** Value(-1.0), "vpow", "label 'b'"),
    (lambda: 0 ** Value(-0.5, "e"), "vpow", "label 'e'"),
])
def test_division_by_zero_is_a_zero_division_error_and_a_domain_error(make: Any, op: str,
                                                                        shown: str) -> None:
    with pytest.raises(ZeroDivisionError) as info:
        make()
    err = info.value
    assert isinstance(err, DomainError) and isinstance(err, ValueError)
    assert isinstance(err, ZeroDivisionDomainError) and err.op == op
    assert str(err).startswith(f"{op}(") and shown in str(err)
    try:  # code written for Python's own 1 / 0.0, or for micrograd, catches it
        make()
    except ZeroDivisionError:
        pass


@pytest.mark.parametrize("make", [
    lambda: Value(0.0).log(),
    lambda: Value(-1.0).sqrt(),
    lambda: Value(-1.0).log1p(),
    lambda: Value(1.0).atanh(),
    lambda: Value(-8.0) ** (1 / 3),
    lambda: Value(-2.0) ** Value(2.0),
])
def test_other_domain_errors_are_not_zero_division_errors(make: Any) -> None:
    with pytest.raises(DomainError) as info:
        make()
    assert not isinstance(info.value, ZeroDivisionError)


# ---------------------------------------------------------------------------------------------
# Domains of the new ops: the error names the op, the operand and the valid inputs.

@pytest.mark.parametrize("make, op, shown", [
    (lambda: Value(-1.0, "a").log1p(), "log1p", "x > -1"),
    (lambda: Value(0.0, "a").log2(), "log2", "x > 0"),
    (lambda: Value(-3.0, "a").log10(), "log10", "label 'a'"),
    (lambda: Value(1.5, "a").asin(), "asin", "-1 <= x <= 1"),
    (lambda: Value(-1.5, "a").acos(), "acos", "-1 <= x <= 1"),
    (lambda: Value(0.5, "a").acosh(), "acosh", "x >= 1"),
    (lambda: Value(1.0, "a").atanh(), "atanh", "-1 < x < 1"),
    (lambda: Value(-1.0, "a").atanh(), "atanh", "-1 < x < 1"),
])
def test_domain_errors_of_the_new_ops(make: Any, op: str, shown: str) -> None:
    with pytest.raises(DomainError) as info:
        make()
    assert info.value.op == op and str(info.value).startswith(f"{op}(")
    assert shown in str(info.value)


# ---------------------------------------------------------------------------------------------
# Domain edges inside the domain: infinite derivatives, as sqrt'(0) = +inf.

def test_inverse_functions_at_their_domain_edges() -> None:
    for x in (-1.0, 1.0):
        y = Value(x).asin()
        assert (y.data, y.local_grads) == (math.copysign(math.pi / 2, x), (math.inf,))
        assert Value(x).acos().local_grads == (-math.inf,)
    y = Value(1.0).acosh()
    assert (y.data, y.local_grads) == (0.0, (math.inf,))


def test_infinite_derivatives_at_an_edge_in_the_tape() -> None:
    np = pytest.importorskip("numpy")
    from autograd.compiled.tape import trace

    x = Value(0.5, "x")
    tape = trace([x.asin() + (x + 1.0).acosh()], [x])
    g = tape.backward(tape.forward(np.array([[1.0], [0.0]])), wrt_inputs=True)
    assert g.inputs[0, 0] == math.inf and g.inputs[1, 0] == pytest.approx(1.0 + math.inf)


# ---------------------------------------------------------------------------------------------
# Kinks and ties: PyTorch's conventions (test_torch_parity.py checks them against torch).

def test_maximum_and_minimum_split_a_tie_evenly() -> None:
    a, b = Value(1.0, "a"), Value(1.0, "b")
    (maximum(a, b) + 3 * minimum(a, b)).backward()
    assert (a.grad, b.grad) == (2.0, 2.0)  # 1/2 + 3/2 each
    a.grad = 0.0
    maximum(a, a).backward()  # both edges lead to a: 1/2 + 1/2
    assert a.grad == 1.0
    assert maximum(Value(2.0), 1.0).local_grads == (1.0, 0.0)
    assert minimum(Value(2.0), 1.0).local_grads == (0.0, 1.0)


@pytest.mark.parametrize("x, lo, hi, data, grads", [
    (0.5, 0.0, 1.0, 0.5, (1.0, 0.0, 0.0)),
    (0.0, 0.0, 1.0, 0.0, (1.0, 0.0, 0.0)),    # on the lower bound: x passes through
    (1.0, 0.0, 1.0, 1.0, (1.0, 0.0, 0.0)),    # on the upper bound too
    (-1.0, 0.0, 1.0, 0.0, (0.0, 1.0, 0.0)),
    (2.0, 0.0, 1.0, 1.0, (0.0, 0.0, 1.0)),
    (1.0, 1.0, 1.0, 1.0, (1.0, 0.0, 0.0)),    # lo == hi == x
    (0.5, 1.0, 1.0, 1.0, (0.0, 0.0, 0.0)),    # lo == hi, x below: torch.clamp gives 0 to all
    (2.0, 1.0, 1.0, 1.0, (0.0, 0.0, 1.0)),
    (0.5, 2.0, 1.0, 1.0, (0.0, 0.0, 1.0)),    # lo > hi: the result is hi
])
def test_clamp_at_and_between_its_bounds(x: float, lo: float, hi: float, data: float,
                                         grads: tuple[float, ...]) -> None:
    y = clamp(Value(x), Value(lo), Value(hi))
    assert (y.data, y.local_grads) == (data, grads)
    assert Value(x).clamp(lo, hi).local_grads == grads


@pytest.mark.parametrize("make, data", [
    (lambda: Value(0.0).sign(), 0.0),
    (lambda: Value(-0.3).sign(), -1.0),
    (lambda: Value(2.0).floor(), 2.0),
    (lambda: Value(-2.5).floor(), -3.0),
    (lambda: Value(2.0).ceil(), 2.0),
    (lambda: Value(-2.5).ceil(), -2.0),
    (lambda: Value(0.5).round(), 0.0),     # halves to even, as round() and torch.round
    (lambda: Value(1.5).round(), 2.0),
    (lambda: Value(2.5).round(), 2.0),
    (lambda: Value(-2.5).round(), -2.0),
])
def test_piecewise_constant_ops_have_derivative_zero_even_at_their_jumps(make: Any,
                                                                          data: float) -> None:
    y = make()
    assert (y.data, y.local_grads) == (data, (0.0,))


@pytest.mark.parametrize("a, b, data, d_b", [
    (6.0, 3.0, 0.0, -2.0),          # at a jump: the quotient % removed, 2
    (-1.0, 3.0, 2.0, 1.0),          # the divisor's sign, as Python
    (5.5, -2.0, -0.5, 3.0),
    (1.0, 0.1, 1.0 % 0.1, -9.0),    # Python's 1 // 0.1 is 9; floor(1 / 0.1) would say 10
])
def test_mod_derivatives_are_one_and_minus_the_floor_quotient(a: float, b: float, data: float,
                                                              d_b: float) -> None:
    y = Value(a) % Value(b)
    assert (y.data, y.local_grads) == (data, (1.0, d_b))


def test_activation_kinks() -> None:
    assert Value(0.0).elu(0.5).local_grads == (0.5,)  # elu'(0) = alpha, as torch
    assert Value(0.0).elu().local_grads == (1.0,)
    assert Value(1000.0).elu().data == 1000.0  # the branch not taken does not overflow
    assert Value(-1000.0).elu(2.0).data == -2.0
    assert (Value(0.0).gelu().data, Value(0.0).gelu().local_grads) == (0.0, (0.5,))
    assert (Value(0.0).silu().data, Value(0.0).silu().local_grads) == (0.0, (0.5,))
    assert Value(-40.0).gelu().data == 0.0 and Value(-800.0).silu().data == 0.0


def test_atan2_and_hypot_at_the_origin() -> None:
    y = atan2(Value(0.0), Value(0.0))
    assert (y.data, y.local_grads) == (0.0, (0.0, 0.0))  # as torch.atan2
    r = hypot(Value(0.0), Value(0.0))
    assert (r.data, r.local_grads) == (0.0, (0.0, 0.0))  # as abs'(0) = 0 and torch's norms
    assert grad(grad(lambda x: hypot(x, 0.0)))(0.0) == 0.0
    assert hypot(3.0, Value(-4.0)).local_grads == (0.6, -0.8)


def test_clamp_takes_three_operands() -> None:
    with pytest.raises(TypeError, match="clamp takes 3 operand"):
        apply("clamp", 1.0, 2.0)
    y = clamp(0.5, Value(0.0, "lo"), 1.0)
    assert [p.label for p in y.parents] == [None, "lo", None] and y.parents[0].data == 0.5


KINKS = [  # (op, operands, parameter): every convention above, and the domain edges
    ("maximum", [1.0, 1.0], None), ("minimum", [-2.0, -2.0], None),
    ("clamp", [0.0, 0.0, 1.0], None), ("clamp", [1.0, 0.0, 1.0], None),
    ("clamp", [0.5, 1.0, 1.0], None), ("clamp", [0.5, 2.0, 1.0], None),
    ("floor", [2.0], None), ("ceil", [-2.0], None), ("round", [2.5], None),
    ("round", [-0.5], None), ("sign", [0.0], None), ("mod", [6.0, 3.0], None),
    ("mod", [1.0, 0.1], None), ("mod", [-1.0, 3.0], None), ("elu", [0.0], 0.5),
    ("abs", [0.0], None), ("relu", [0.0], None), ("hypot", [0.0, 0.0], None),
    ("atan2", [0.0, 0.0], None), ("atan2", [0.0, -1.0], None), ("pow", [0.0], 0.0),
    ("vpow", [0.0, 2.0], None), ("vpow", [0.0, 0.5], None), ("asin", [1.0], None),
    ("acos", [-1.0], None), ("acosh", [1.0], None), ("gelu", [0.0], None),
    ("silu", [0.0], None), ("elu", [1000.0], 1.0), ("elu", [-1000.0], 1.0),
]


@pytest.mark.parametrize("name, xs, c", KINKS, ids=[f"{n}{xs}" for n, xs, _ in KINKS])
def test_the_tape_takes_the_eager_conventions_at_kinks_and_edges(name: str, xs: list[float],
                                                                 c: Any) -> None:
    np = pytest.importorskip("numpy")
    from autograd.compiled.tape import trace

    vs = [Value(x) for x in xs]
    y = apply(name, *vs, param=c)
    y.backward()
    leaves = [Value(x) for x in xs]
    tape = trace([apply(name, *leaves, param=c)], leaves)
    run = tape.forward(np.array([xs]))
    g = tape.backward(run, wrt_inputs=True)
    assert float(run.outputs[0, 0]) == y.data
    assert g.inputs[0].tolist() == [v.grad for v in vs]


# One policy for a result too large for a float: +-inf, as IEEE arithmetic, numpy and PyTorch
# give it (1e200 * 1e200 never raised); anomaly detection then names the op that made it.

@pytest.mark.parametrize("make, expected", [
    (lambda: Value(1e200) * Value(1e200), math.inf),
    (lambda: Value(2.0) ** 10000, math.inf),
    (lambda: Value(-2.0) ** 10001, -math.inf),
    (lambda: Value(2.0) ** Value(10000.0), math.inf),
    (lambda: Value(1000.0).exp(), math.inf),
    (lambda: Value(710.0).expm1(), math.inf),
    (lambda: Value(800.0).sinh(), math.inf),
    (lambda: Value(-800.0).sinh(), -math.inf),
    (lambda: Value(-800.0).cosh(), math.inf),
    (lambda: hypot(Value(1.7e308), 1.7e308), math.inf),
])
def test_a_result_too_large_for_a_float_is_inf(make: Any, expected: float) -> None:
    assert make().data == expected


def test_an_overflowing_derivative_is_inf_and_anomaly_detection_names_the_op() -> None:
    x = Value(2.0, "x")
    (x ** 10000).backward()
    assert x.grad == math.inf  # 10000 * 2**9999, not a DomainError claiming 2 is outside
    from autograd import AnomalyError, detect_anomaly

    with pytest.raises(AnomalyError, match=r"forward of exp produced inf: exp\(1000.0"):
        with detect_anomaly():
            Value(1000.0, "big").exp()


def test_apply_follows_the_same_overflow_policy_as_the_methods() -> None:
    # apply() calls the rules from the table; a partial that overflows is inf there too.
    from autograd import apply

    via_apply = apply("pow", Value(2.0), param=10000.0)
    via_method = Value(2.0) ** 10000
    assert via_apply.data == via_method.data == math.inf
    assert via_apply.local_grads == via_method.local_grads == (math.inf,)
