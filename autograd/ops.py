"""The primitive table: each op's forward, its local partials and its valid domain, declared once.

Every rule takes a math backend ``m`` first. The same rule is evaluated on floats (``FLOAT``,
the eager engine), on numpy arrays (the compiled tape) and on Values (higher-order gradients),
so no derivative is ever written twice. Rules use only arithmetic operators, comparisons and
the backend's functions (``m.exp``, ``m.where``, ...), which is what makes them portable.

Signatures, by arity:

- unary:   ``forward(m, x)`` and ``partials(m, x, y)``
- unary with a static parameter ``c`` (pow's exponent, leaky_relu's slope):
  ``forward(m, x, c)`` and ``partials(m, x, y, c)``
- binary:  ``forward(m, x1, x2)`` and ``partials(m, x1, x2, y)``
- n-ary:   ``forward(m, xs)`` and ``partials(m, xs, y)``

``partials`` returns one local derivative per operand: d(output)/d(operand), in operand order.
``y`` is the forward output, so rules such as tanh' = 1 - y*y reuse it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any, ClassVar

Rule = Callable[..., Any]


@dataclass(eq=False)  # compared and hashed by identity: each primitive is one object
class Primitive:
    """One differentiable operation: its name, forward, local partials and valid domain.

    Read-only by convention: every path (eager, tape, higher-order) reads ``forward`` and
    ``partials`` from here at call time, so tests swap a rule to prove the checks catch a
    wrong derivative.
    """

    name: str
    arity: int  # 1, 2, or -1 for any number of operands
    forward: Rule
    partials: Rule
    domain: str = "all real numbers"
    valid: Callable[..., bool] | None = None  # operands (and parameter) -> inside the domain?
    param: str | None = None  # the name of a static parameter, e.g. "exponent"
    symbol: str | None = None  # infix symbol for drawings and traces ("+", "*", ...)
    checked: bool = False  # eager must test ``valid`` itself: the float forward would not raise
    doc: str = ""  # the one-line math, e.g. "e^x" (the docstring of the Value method)

    on_rule_change: ClassVar[list[Callable[[Primitive], None]]] = []
    """Called with the primitive after its forward or partials is replaced (the eager engine
    compiles its Value methods from the rules, and compiles them again then)."""

    def __post_init__(self) -> None:
        self._made = True

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in ("forward", "partials") and self.__dict__.get("_made"):  # not in __init__
            for callback in Primitive.on_rule_change:
                callback(self)

    @property
    def display(self) -> str:
        """The short text drawings put on this op's node."""
        return self.symbol or self.name

    def run_forward(self, m: Any, operands: Sequence[Any], param: Any = None) -> Any:
        """``forward`` with the operands as one sequence, whatever the arity (module doc)."""
        if self.arity == -1:
            return self.forward(m, operands)
        if self.param is not None:
            return self.forward(m, operands[0], param)
        return self.forward(m, *operands)

    def run_partials(self, m: Any, operands: Sequence[Any], y: Any, param: Any = None) -> Any:
        """``partials`` with the operands as one sequence, whatever the arity."""
        if self.arity == -1:
            return self.partials(m, operands, y)
        if self.param is not None:
            return self.partials(m, operands[0], y, param)
        return self.partials(m, *operands, y)


# ---------------------------------------------------------------------------------------------
# The float backend: what the eager engine evaluates the rules with.


def _sigmoid(x: float) -> float:
    # Two branches so exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exact for large |x|, never overflows.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _where(cond: bool, a: Any, b: Any) -> Any:
    return a if cond else b


class FloatMath:
    """Backend for plain Python floats. Domain violations raise (ValueError, OverflowError)."""

    exp = staticmethod(math.exp)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    pow = staticmethod(math.pow)
    abs = staticmethod(abs)
    sigmoid = staticmethod(_sigmoid)
    softplus = staticmethod(_softplus)
    sign = staticmethod(_sign)
    where = staticmethod(_where)


FLOAT = FloatMath()


class IEEEFloat(float):
    """A float whose division and power give IEEE inf/nan instead of raising.

    The eager engine re-evaluates a partials rule with these only when the plain float rule
    raised ZeroDivisionError, i.e. at a domain edge where the derivative is infinite
    (sqrt'(0) = +inf, as in PyTorch). Python tries a subclass's reflected operator first, so
    ``0.5 / IEEEFloat(0.0)`` reaches ``__rtruediv__``.
    """

    def __truediv__(self, other: Any) -> float:
        return _ieee_div(float(self), float(other))

    def __rtruediv__(self, other: Any) -> float:
        return _ieee_div(float(other), float(self))

    def __pow__(self, other: Any) -> float:  # type: ignore[override]
        return _ieee_pow(float(self), float(other))

    def __rpow__(self, other: Any) -> float:  # type: ignore[override]
        return _ieee_pow(float(other), float(self))


def _ieee_div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return math.nan if a == 0.0 or math.isnan(a) else math.copysign(math.inf, a) * (
            math.copysign(1.0, b)
        )


def _ieee_pow(a: float, b: float) -> float:
    try:
        return float(a**b)
    except ZeroDivisionError:  # 0 ** negative
        return math.inf


# ---------------------------------------------------------------------------------------------
# The table. Each entry: forward, then the local partials, then the domain.

_EXP_MAX = math.log(1.7976931348623157e308)
_ONES_2 = (1.0, 1.0)
_ADD_SUB = (1.0, -1.0)
_NEG = (-1.0,)
_ONES: dict[int, tuple[float, ...]] = {}


def ones(n: int) -> tuple[float, ...]:
    """The shared tuple of n local derivatives equal to 1 (an n-ary sum's partials)."""
    t = _ONES.get(n)
    if t is None:
        t = _ONES[n] = (1.0,) * n
    return t


ADD = Primitive(
    "add", 2,
    forward=lambda m, x1, x2: x1 + x2,
    partials=lambda m, x1, x2, y: _ONES_2,
    symbol="+",
    doc="x1 + x2.",
)
SUB = Primitive(
    "sub", 2,
    forward=lambda m, x1, x2: x1 - x2,
    partials=lambda m, x1, x2, y: _ADD_SUB,
    symbol="-",
    doc="x1 - x2.",
)
MUL = Primitive(
    "mul", 2,
    forward=lambda m, x1, x2: x1 * x2,
    partials=lambda m, x1, x2, y: (x2, x1),
    symbol="*",
    doc="x1 * x2.",
)
DIV = Primitive(
    "div", 2,
    forward=lambda m, x1, x2: x1 / x2,
    partials=lambda m, x1, x2, y: (1.0 / x2, -y / x2),
    domain="divisor != 0",
    valid=lambda x1, x2: x2 != 0,
    symbol="/",
    doc="x1 / x2, x2 != 0.",
)
NEG = Primitive(
    "neg", 1,
    forward=lambda m, x: -x,
    partials=lambda m, x, y: _NEG,
    symbol="-",
    doc="-x.",
)
ABS = Primitive(
    "abs", 1,
    forward=lambda m, x: m.abs(x),
    partials=lambda m, x, y: (m.sign(x),),  # abs'(0) = 0, as PyTorch and JAX
    doc="|x|; abs'(0) = 0.",
)
POW = Primitive(
    "pow", 1,
    forward=lambda m, x, c: m.pow(x, c),
    partials=lambda m, x, y, c: (c * x ** (c - 1.0),),
    domain="base > 0, or base == 0 with exponent >= 0, or base < 0 with an integer exponent",
    valid=lambda x, c: x > 0 or (x == 0 and c >= 0) or (x < 0 and float(c).is_integer()),
    param="exponent",
    symbol="**",
    checked=True,
    doc="x ** c for a number c (valid where the real power is defined).",
)
VPOW = Primitive(
    "vpow", 2,
    forward=lambda m, x1, x2: m.pow(x1, x2),
    partials=lambda m, x1, x2, y: (x2 * x1 ** (x2 - 1.0), m.log(x1) * y),
    domain="base > 0 (the exponent's derivative log(base)*y needs it; "
    "for a negative base use a number exponent)",
    valid=lambda x1, x2: x1 > 0,
    symbol="**",
    checked=True,
    doc="x1 ** x2 for a Value exponent, x1 > 0.",
)
EXP = Primitive(
    "exp", 1,
    forward=lambda m, x: m.exp(x),
    partials=lambda m, x, y: (y,),
    domain="x <= 709.78 (log of the largest float64; larger overflows)",
    valid=lambda x: x <= _EXP_MAX,
    doc="e^x.",
)
LOG = Primitive(
    "log", 1,
    forward=lambda m, x: m.log(x),
    partials=lambda m, x, y: (1.0 / x,),
    domain="x > 0",
    valid=lambda x: x > 0,
    doc="Natural log, x > 0.",
)
SQRT = Primitive(
    "sqrt", 1,
    forward=lambda m, x: m.sqrt(x),
    partials=lambda m, x, y: (0.5 / y,),  # +inf at x = 0, as PyTorch
    domain="x >= 0",
    valid=lambda x: x >= 0,
    doc="Square root, x >= 0 (the derivative is +inf at 0).",
)
TANH = Primitive(
    "tanh", 1,
    forward=lambda m, x: m.tanh(x),
    partials=lambda m, x, y: (1.0 - y * y,),
    doc="Hyperbolic tangent.",
)
SIGMOID = Primitive(
    "sigmoid", 1,
    forward=lambda m, x: m.sigmoid(x),
    partials=lambda m, x, y: (y * (1.0 - y),),
    doc="1 / (1 + e^-x).",
)
RELU = Primitive(
    "relu", 1,
    forward=lambda m, x: m.where(x > 0, x, 0.0),
    partials=lambda m, x, y: (m.where(x > 0, 1.0, 0.0),),  # relu'(0) = 0, as PyTorch and JAX
    doc="max(x, 0); relu'(0) = 0.",
)
LEAKY_RELU = Primitive(
    "leaky_relu", 1,
    forward=lambda m, x, c: m.where(x > 0, x, c * x),
    partials=lambda m, x, y, c: (m.where(x > 0, 1.0, c),),  # slope c at 0, like relu'(0) = 0
    param="slope",
    doc="x for x > 0, slope*x otherwise.",
)
SOFTPLUS = Primitive(
    "softplus", 1,
    forward=lambda m, x: m.softplus(x),
    partials=lambda m, x, y: (m.sigmoid(x),),
    doc="log(1 + e^x), computed without overflow.",
)
SIN = Primitive(
    "sin", 1,
    forward=lambda m, x: m.sin(x),
    partials=lambda m, x, y: (m.cos(x),),
    doc="Sine.",
)
COS = Primitive(
    "cos", 1,
    forward=lambda m, x: m.cos(x),
    partials=lambda m, x, y: (-m.sin(x),),
    doc="Cosine.",
)
SUM = Primitive(
    "sum", -1,
    # A plain left fold, the same on every backend. Not sum(): from Python 3.12 it compensates
    # float rounding, so floats, arrays and Values would add up differently.
    forward=lambda m, xs: reduce(add, xs),
    partials=lambda m, xs, y: ones(len(xs)),
    symbol="Σ",
    doc="x1 + x2 + ... + xn as one node: every local derivative is 1.",
)

PRIMITIVES: dict[str, Primitive] = {
    p.name: p
    for p in (ADD, SUB, MUL, DIV, NEG, ABS, POW, VPOW, EXP, LOG, SQRT, TANH, SIGMOID, RELU,
              LEAKY_RELU, SOFTPLUS, SIN, COS, SUM)
}
"""Every primitive by name. The one place an op's derivative is written."""

ACTIVATIONS: tuple[str, ...] = ("linear", "relu", "leaky_relu", "tanh", "sigmoid", "softplus",
                                "sin", "exp")
"""Unary primitives that make sense as a neuron's nonlinearity ("linear" is the identity)."""
