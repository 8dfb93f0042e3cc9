"""Every primitive: forward against an independent formula, partials against central differences."""

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd import PRIMITIVES, Value, apply, atan2, clamp, hypot, maximum, minimum


def reals(lo: float, hi: float, away_from: float | None = None, gap: float = 1e-3):
    """Floats in [lo, hi], kept `gap` away from a kink or domain edge."""
    s = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if away_from is not None:
        s = s.filter(lambda x: abs(x - away_from) > gap)
    return s


@dataclass
class Case:
    """How to test one primitive: operand strategies, its parameter, an independent forward,
    and ``keep``: which operands are far enough from a kink or a jump for central differences
    (the operands jointly: maximum's kink is x1 == x2)."""

    operands: tuple[st.SearchStrategy, ...]
    reference: Callable[..., float]
    param: st.SearchStrategy | None = None
    keep: Callable[..., bool] | None = None

    def draw(self, data: st.DataObject) -> tuple[list[float], float | None]:
        """Operands (and the parameter, or None) inside the domain and away from kinks."""
        xs = [data.draw(s) for s in self.operands]
        c = data.draw(self.param) if self.param is not None else None
        assume(self.keep is None or self.keep(*xs))
        return xs, c


def _fraction(x: float) -> float:
    """x minus the largest integer <= x, in [0, 1)."""
    return x - math.floor(x)


def _mod(a: float, b: float) -> float:
    """a mod b with b's sign, from C's fmod (which takes the sign of a) and not from %."""
    r = math.fmod(a, b)
    return r + b if r != 0 and (r < 0) != (b < 0) else r


def _atan2(y: float, x: float) -> float:
    """atan2 from atan and the quadrant."""
    if x > 0:
        return math.atan(y / x)
    if x < 0:
        return math.atan(y / x) + (math.pi if y >= 0 else -math.pi)
    return math.copysign(math.pi / 2, y)


def _erf(x: float) -> float:
    """erf by its Maclaurin series, summed exactly (accurate to ~1e-14 for |x| <= 3)."""
    terms = []
    term = x  # (-1)^n x^(2n+1) / n!
    n = 0
    while abs(term) > 1e-30 or n < 5:
        terms.append(term / (2 * n + 1))
        n += 1
        term *= -x * x / n
    return 2 / math.sqrt(math.pi) * math.fsum(terms)


def _apart(*xs: float, gap: float = 1e-3) -> bool:
    """Every two operands at least ``gap`` apart (no tie, no operand on a bound)."""
    return all(abs(a - b) > gap for i, a in enumerate(xs) for b in xs[i + 1:])


MID = reals(-5.0, 5.0)
UNIT = reals(-0.99, 0.99)
CASES: dict[str, Case] = {
    "add": Case((MID, MID), lambda a, b: a + b),
    "sub": Case((MID, MID), lambda a, b: a - b),
    "mul": Case((MID, MID), lambda a, b: a * b),
    "div": Case((MID, reals(-5.0, 5.0, away_from=0.0, gap=0.05)), lambda a, b: a / b),
    "neg": Case((MID,), lambda a: -a),
    "abs": Case((reals(-5.0, 5.0, away_from=0.0),), lambda a: a if a >= 0 else -a),
    "pow": Case((reals(0.05, 4.0),), lambda a, c: math.exp(c * math.log(a)),
                param=reals(-3.0, 3.0)),
    "vpow": Case((reals(0.05, 4.0), reals(-3.0, 3.0)), lambda a, b: math.exp(b * math.log(a))),
    "exp": Case((reals(-20.0, 20.0),), lambda a: math.e ** a),
    "log": Case((reals(0.01, 100.0),), lambda a: math.log(a)),
    "sqrt": Case((reals(0.01, 100.0),), lambda a: a ** 0.5),
    "tanh": Case((MID,), lambda a: (math.exp(2 * a) - 1) / (math.exp(2 * a) + 1)),
    "sigmoid": Case((reals(-30.0, 30.0),), lambda a: 1 / (1 + math.exp(-a))),
    "relu": Case((reals(-5.0, 5.0, away_from=0.0),), lambda a: max(a, 0.0)),
    "leaky_relu": Case((reals(-5.0, 5.0, away_from=0.0),), lambda a, c: a if a > 0 else c * a,
                       param=reals(0.0, 0.5)),
    "softplus": Case((reals(-30.0, 30.0),), lambda a: math.log(1 + math.exp(a))),
    "sin": Case((MID,), lambda a: math.sin(a)),
    "cos": Case((MID,), lambda a: math.cos(a)),
    "sum": Case((MID, MID, MID, MID), lambda *xs: math.fsum(xs)),
    # -- the rest of the scalar math --
    "mod": Case((MID, reals(-5.0, 5.0, away_from=0.0, gap=0.1)), _mod,
                keep=lambda a, b: 0.01 < _fraction(a / b) < 0.99),  # jumps where b divides a
    "sign": Case((reals(-5.0, 5.0, away_from=0.0),), lambda a: math.copysign(1.0, a)),
    "expm1": Case((reals(-20.0, 20.0),), lambda a: 2 * math.exp(a / 2) * math.sinh(a / 2)),
    "log1p": Case((reals(-0.99, 100.0),), lambda a: 2 * math.atanh(a / (2 + a))),
    "log2": Case((reals(0.01, 100.0),), lambda a: math.log(a) / math.log(2)),
    "log10": Case((reals(0.01, 100.0),), lambda a: math.log(a) / math.log(10)),
    "hypot": Case((MID, MID), lambda a, b: math.sqrt(a * a + b * b),
                  keep=lambda a, b: math.hypot(a, b) > 0.2),
    "tan": Case((reals(-1.5, 1.5),), lambda a: math.sin(a) / math.cos(a)),
    "asin": Case((UNIT,), lambda a: _atan2(a, math.sqrt(1 - a * a))),
    "acos": Case((UNIT,), lambda a: _atan2(math.sqrt(1 - a * a), a)),
    "atan": Case((MID,), lambda a: math.asin(a / math.sqrt(1 + a * a))),
    # Off the origin, and off the negative x axis, where the angle jumps by 2 pi.
    "atan2": Case((MID, MID), _atan2,
                  keep=lambda y, x: math.hypot(x, y) > 0.2 and not (x < 0 and abs(y) < 0.05)),
    "degrees": Case((MID,), lambda a: a * 180 / math.pi),
    "radians": Case((MID,), lambda a: a / 180 * math.pi),
    "sinh": Case((reals(-20.0, 20.0),), lambda a: (math.exp(a) - math.exp(-a)) / 2),
    "cosh": Case((reals(-20.0, 20.0),), lambda a: (math.exp(a) + math.exp(-a)) / 2),
    "asinh": Case((MID,), lambda a: math.copysign(math.log(abs(a) + math.sqrt(a * a + 1)), a)),
    "acosh": Case((reals(1.01, 50.0),), lambda a: math.log(a + math.sqrt(a * a - 1))),
    "atanh": Case((UNIT,), lambda a: 0.5 * math.log((1 + a) / (1 - a))),
    "erf": Case((reals(-3.0, 3.0),), _erf),
    "floor": Case((MID,), lambda a: a - _fraction(a), keep=lambda a: 0.01 < _fraction(a) < 0.99),
    "ceil": Case((MID,), lambda a: -(-a - _fraction(-a)),
                 keep=lambda a: 0.01 < _fraction(a) < 0.99),
    "round": Case((MID,), lambda a: math.floor(a + 0.5),
                  keep=lambda a: abs(_fraction(a) - 0.5) > 0.01),
    "maximum": Case((MID, MID), lambda a, b: a if a > b else b, keep=_apart),
    "minimum": Case((MID, MID), lambda a, b: a if a < b else b, keep=_apart),
    # lo > hi too: the result is then hi, whatever x (torch.clamp).
    "clamp": Case((MID, MID, MID),
                  lambda x, lo, hi: hi if lo > hi else (lo if x < lo else (hi if x > hi else x)),
                  keep=_apart),
    "gelu": Case((MID,), lambda a: a * 0.5 * math.erfc(-a / math.sqrt(2))),
    "silu": Case((reals(-30.0, 30.0),), lambda a: a / (1 + math.exp(-a))),
    "elu": Case((reals(-5.0, 5.0, away_from=0.0),),
                lambda a, c: a if a > 0 else c * (math.exp(a) - 1), param=reals(0.1, 2.0)),
}


def test_every_primitive_has_a_case():
    assert set(CASES) == set(PRIMITIVES)


def _eval(name: str, xs: list[float], c: float | None) -> Value:
    return apply(name, *[Value(x) for x in xs], param=c)


def _central(name: str, xs: list[float], c: float | None, i: int) -> float:
    h = 1e-6 * max(1.0, abs(xs[i]))
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (_eval(name, up, c).data - _eval(name, down, c).data) / (2 * h)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_forward_and_partials(name, data):
    case = CASES[name]
    xs, c = case.draw(data)
    prim = PRIMITIVES[name]
    if prim.valid is not None:
        assume(prim.valid(*xs, c) if c is not None else prim.valid(*xs))
    out = _eval(name, xs, c)
    expected = case.reference(*xs, c) if c is not None else case.reference(*xs)
    assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert out.op == name and len(out.parents) == len(xs) == len(out.local_grads)
    for i in range(len(xs)):
        numeric = _central(name, xs, c, i)
        assert out.local_grads[i] == pytest.approx(numeric, rel=1e-6, abs=1e-7), (name, i, xs)


def test_methods_and_dunders_dispatch_to_the_table():
    x, y = Value(0.7), Value(1.3)
    made = {
        "add": x + y, "sub": x - y, "mul": x * y, "div": x / y, "neg": -x, "abs": abs(x),
        "pow": x ** 3, "vpow": x ** y, "exp": x.exp(), "log": x.log(), "sqrt": x.sqrt(),
        "tanh": x.tanh(), "sigmoid": x.sigmoid(), "relu": x.relu(), "leaky_relu": x.leaky_relu(),
        "softplus": x.softplus(), "sin": x.sin(), "cos": x.cos(), "sum": Value.sum([x, y]),
        "mod": x % y, "sign": x.sign(), "expm1": x.expm1(), "log1p": x.log1p(),
        "log2": x.log2(), "log10": x.log10(), "hypot": x.hypot(y), "tan": x.tan(),
        "asin": x.asin(), "acos": x.acos(), "atan": x.atan(), "atan2": x.atan2(y),
        "degrees": x.degrees(), "radians": x.radians(), "sinh": x.sinh(), "cosh": x.cosh(),
        "asinh": x.asinh(), "acosh": y.acosh(), "atanh": x.atanh(), "erf": x.erf(),
        "floor": x.floor(), "ceil": x.ceil(), "round": x.round(), "maximum": x.maximum(y),
        "minimum": x.minimum(y), "clamp": x.clamp(0, 1), "gelu": x.gelu(), "silu": x.silu(),
        "elu": x.elu(),
    }
    assert set(made) == set(PRIMITIVES)
    for name, v in made.items():
        assert v.op == name


def test_the_binary_functions_take_numbers_on_either_side():
    y, x = Value(1.0, "y"), Value(-1.0, "x")
    assert atan2(y, x).data == math.atan2(1.0, -1.0)
    assert atan2(1.0, x).op == "atan2" and atan2(y, -1.0).parents[0] is y
    assert hypot(3, Value(4.0)).data == 5.0
    assert maximum(2, x).data == 2.0 and minimum(x, 2).data == -1.0
    v = clamp(Value(5.0), 0, 1)
    assert (v.op, v.data, [p.data for p in v.parents]) == ("clamp", 1.0, [5.0, 0.0, 1.0])
    assert (7 % Value(3.0)).data == 1.0 and (Value(-7.0) % 3).data == 2.0  # Python's sign rule
    with pytest.raises(TypeError, match="maximum: expected a Value or a real number; got str"):
        x.maximum("a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="clamp: operands must be Values or real numbers"):
        x.clamp(0, "1")  # type: ignore[arg-type]


def test_numbers_on_either_side_become_constant_leaves():
    x = Value(2.0)
    for v, expected in [(x + 1, 3.0), (1 + x, 3.0), (x - 1, 1.0), (1 - x, -1.0), (x * 3, 6.0),
                        (3 * x, 6.0), (x / 4, 0.5), (4 / x, 2.0), (2 ** x, 4.0)]:
        assert v.data == expected
        const = [p for p in v.parents if p is not x]
        assert len(const) == 1 and const[0].op == "" and const[0].parents == ()


def test_pow_with_a_number_records_the_exponent():
    y = Value(3.0) ** 2
    assert (y.op, y.param, y.parents[0].data, y.local_grads) == ("pow", 2.0, 3.0, (6.0,))
    assert (Value(-2.0) ** 3).data == -8.0  # a negative base with an integer exponent is fine


def test_vpow_differentiates_both_operands():
    b, e = Value(2.0), Value(3.0)
    y = b ** e
    y.backward()
    assert y.data == 8.0
    assert b.grad == pytest.approx(12.0)  # e * b^(e-1)
    assert e.grad == pytest.approx(8.0 * math.log(2.0))  # b^e * ln b


@pytest.mark.parametrize("op", ["relu", "abs"])
def test_kink_derivative_is_zero(op):
    """relu'(0) = abs'(0) = 0, the PyTorch and JAX convention."""
    x = Value(0.0)
    y = apply(op, x)
    y.backward()
    assert y.local_grads == (0.0,) and x.grad == 0.0


def test_leaky_relu_at_zero_uses_the_slope():
    assert Value(0.0).leaky_relu(0.2).local_grads == (0.2,)


def test_sqrt_at_zero_has_infinite_derivative():
    y = Value(0.0).sqrt()
    assert y.data == 0.0 and y.local_grads == (math.inf,)
    assert (Value(0.0) ** 0.5).local_grads == (math.inf,)


def test_stable_sigmoid_and_softplus_at_extremes():
    assert Value(-800.0).sigmoid().data == 0.0
    assert Value(800.0).sigmoid().data == 1.0
    assert Value(800.0).softplus().data == 800.0
    assert Value(-800.0).softplus().data == 0.0
    assert Value(40.0).softplus().local_grads[0] == pytest.approx(1.0)


def test_wide_sum_is_one_node():
    xs = [Value(float(i)) for i in range(1000)]
    s = Value.sum(xs)
    s.backward()
    assert s.data == sum(range(1000)) and len(s.parents) == 1000
    assert all(x.grad == 1.0 for x in xs)
    assert Value.sum([Value(1.0), 2, 3.5]).data == 6.5
