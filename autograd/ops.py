"""The primitive table: each op's forward, its local partials and its valid domain, declared once.

Every rule takes a math backend ``m`` first. The same rule is evaluated on floats (the eager
engine), on numpy arrays (the compiled tape) and on Values (higher-order gradients), so no
derivative is ever written twice. Rules use only arithmetic operators, comparisons and the
backend's functions (``m.exp``, ``m.where``, ...: ``backends.FUNCTIONS``), which is what makes
them portable.

Signatures, by arity (these parameter names exactly: Value's methods are written from them):

- unary:   ``forward(m, x)`` and ``partials(m, x, y)``
- unary with a static parameter ``c`` (pow's exponent, leaky_relu's slope):
  ``forward(m, x, c)`` and ``partials(m, x, y, c)``
- binary:  ``forward(m, x1, x2)`` and ``partials(m, x1, x2, y)``
- n-ary:   ``forward(m, xs)`` and ``partials(m, xs, y)``

``partials`` returns a tuple literal with one local derivative per operand: d(output)/d(operand),
in operand order. ``y`` is the forward output, so rules such as tanh' = 1 - y*y reuse it.

Adding an op:

1. Add its ``Primitive`` below: name, arity, forward, partials, domain (and ``valid``), the
   ``methods`` Value gets for it, a one-line ``doc``. Add it to ``PRIMITIVES``.
2. If a rule needs a function the backends lack, add it to all three in ``backends.py`` and to
   ``backends.FUNCTIONS`` (a test holds the three to the same list).
3. Run ``make generate``: it writes the new Value methods into ``value.py`` from the rules.
4. Add a case to ``tests/test_engine_ops.py`` (its forward from an independent formula; its
   partials are then checked against central differences).

The tape, higher-order gradients, forward mode, the expression language, ``edgegrad draw``'s
help and the drawings all read the table, so nothing else changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any

Rule = Callable[..., Any]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: each primitive is one object
class Primitive:
    """One differentiable operation: its name, forward, local partials and valid domain.

    Frozen: the table is read by every path (eager, tape, higher-order, forward mode), so a
    variant (a deliberately wrong derivative in a test) is a new Primitive made with
    ``dataclasses.replace`` and applied with ``autograd.apply``; the table itself never changes.
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
    methods: tuple[str, ...] = ()  # Value's methods for it; a binary op's second is reflected
    default: float | None = None  # the static parameter's default in the Value method
    formulas: tuple[str, ...] = ()
    """The local derivatives as text for people, one per operand (an n-ary op: one for all), in
    the rule's names (x, x1, x2, y, c) and Python syntax: tanh's is "1 - y**2". A test
    evaluates each against the partials rule, so the two cannot drift apart."""

    def inside(self, *operands: Any) -> bool:
        """Whether these operands (then the parameter, if any) are inside the domain."""
        return self.valid is None or self.valid(*operands)

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
# The table. Each entry: forward, then the local partials, then the domain.

_EXP_MAX = math.log(1.7976931348623157e308)
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
    partials=lambda m, x1, x2, y: (1.0, 1.0),
    formulas=("1", "1"),
    symbol="+",
    doc="x1 + x2.",
    methods=("__add__", "__radd__"),
)
SUB = Primitive(
    "sub", 2,
    forward=lambda m, x1, x2: x1 - x2,
    partials=lambda m, x1, x2, y: (1.0, -1.0),
    formulas=("1", "-1"),
    symbol="-",
    doc="x1 - x2.",
    methods=("__sub__", "__rsub__"),
)
MUL = Primitive(
    "mul", 2,
    forward=lambda m, x1, x2: x1 * x2,
    partials=lambda m, x1, x2, y: (x2, x1),
    formulas=("x2", "x1"),
    symbol="*",
    doc="x1 * x2.",
    methods=("__mul__", "__rmul__"),
)
DIV = Primitive(
    "div", 2,
    forward=lambda m, x1, x2: x1 / x2,
    partials=lambda m, x1, x2, y: (1.0 / x2, -y / x2),
    formulas=("1/x2", "-x1/x2**2"),
    domain="divisor != 0",
    valid=lambda x1, x2: x2 != 0,
    symbol="/",
    doc="x1 / x2, x2 != 0.",
    methods=("__truediv__", "__rtruediv__"),
)
NEG = Primitive(
    "neg", 1,
    forward=lambda m, x: -x,
    partials=lambda m, x, y: (-1.0,),
    formulas=("-1",),
    symbol="-",
    doc="-x.",
    methods=("__neg__",),
)
ABS = Primitive(
    "abs", 1,
    forward=lambda m, x: m.abs(x),
    partials=lambda m, x, y: (m.sign(x),),  # abs'(0) = 0, as PyTorch and JAX
    formulas=("sign(x)",),
    doc="|x|; abs'(0) = 0.",
    methods=("__abs__",),
)
POW = Primitive(
    "pow", 1,
    forward=lambda m, x, c: m.pow(x, c),
    partials=lambda m, x, y, c: (c * x ** (c - 1.0),),
    formulas=("c*x**(c - 1)",),
    domain="base > 0, or base == 0 with exponent >= 0, or base < 0 with an integer exponent",
    valid=lambda x, c: x > 0 or (x == 0 and c >= 0) or (x < 0 and float(c).is_integer()),
    param="exponent",
    symbol="**",
    checked=True,
    doc="x ** c for a number c (valid where the real power is defined).",
    methods=("_pow",),
)
VPOW = Primitive(
    "vpow", 2,
    forward=lambda m, x1, x2: m.pow(x1, x2),
    partials=lambda m, x1, x2, y: (x2 * x1 ** (x2 - 1.0), m.log(x1) * y),
    formulas=("x2*x1**(x2 - 1)", "log(x1)*y"),
    domain="base > 0 (the exponent's derivative log(base)*y needs it; "
    "for a negative base use a number exponent)",
    valid=lambda x1, x2: x1 > 0,
    symbol="**",
    checked=True,
    doc="x1 ** x2 for a Value exponent, x1 > 0.",
    methods=("_vpow", "__rpow__"),
)
EXP = Primitive(
    "exp", 1,
    forward=lambda m, x: m.exp(x),
    partials=lambda m, x, y: (y,),
    formulas=("y",),
    domain="x <= 709.78 (log of the largest float64; larger overflows)",
    valid=lambda x: x <= _EXP_MAX,
    doc="e^x.",
    methods=("exp",),
)
LOG = Primitive(
    "log", 1,
    forward=lambda m, x: m.log(x),
    partials=lambda m, x, y: (1.0 / x,),
    formulas=("1/x",),
    domain="x > 0",
    valid=lambda x: x > 0,
    doc="Natural log, x > 0.",
    methods=("log",),
)
SQRT = Primitive(
    "sqrt", 1,
    forward=lambda m, x: m.sqrt(x),
    partials=lambda m, x, y: (0.5 / y,),  # +inf at x = 0, as PyTorch
    formulas=("1/(2*y)",),
    domain="x >= 0",
    valid=lambda x: x >= 0,
    doc="Square root, x >= 0 (the derivative is +inf at 0).",
    methods=("sqrt",),
)
TANH = Primitive(
    "tanh", 1,
    forward=lambda m, x: m.tanh(x),
    partials=lambda m, x, y: (1.0 - y * y,),
    formulas=("1 - y**2",),
    doc="Hyperbolic tangent.",
    methods=("tanh",),
)
SIGMOID = Primitive(
    "sigmoid", 1,
    forward=lambda m, x: m.sigmoid(x),
    partials=lambda m, x, y: (y * (1.0 - y),),
    formulas=("y*(1 - y)",),
    doc="1 / (1 + e^-x).",
    methods=("sigmoid",),
)
RELU = Primitive(
    "relu", 1,
    forward=lambda m, x: m.where(x > 0, x, 0.0),
    partials=lambda m, x, y: (m.where(x > 0, 1.0, 0.0),),  # relu'(0) = 0, as PyTorch and JAX
    formulas=("1 if x > 0 else 0",),
    doc="max(x, 0); relu'(0) = 0.",
    methods=("relu",),
)
LEAKY_RELU = Primitive(
    "leaky_relu", 1,
    forward=lambda m, x, c: m.where(x > 0, x, c * x),
    partials=lambda m, x, y, c: (m.where(x > 0, 1.0, c),),  # slope c at 0, like relu'(0) = 0
    formulas=("1 if x > 0 else c",),
    param="slope",
    doc="x for x > 0, slope*x otherwise.",
    methods=("leaky_relu",),
    default=0.01,
)
SOFTPLUS = Primitive(
    "softplus", 1,
    forward=lambda m, x: m.softplus(x),
    partials=lambda m, x, y: (m.sigmoid(x),),
    formulas=("sigmoid(x)",),
    doc="log(1 + e^x), computed without overflow.",
    methods=("softplus",),
)
SIN = Primitive(
    "sin", 1,
    forward=lambda m, x: m.sin(x),
    partials=lambda m, x, y: (m.cos(x),),
    formulas=("cos(x)",),
    doc="Sine.",
    methods=("sin",),
)
COS = Primitive(
    "cos", 1,
    forward=lambda m, x: m.cos(x),
    partials=lambda m, x, y: (-m.sin(x),),
    formulas=("-sin(x)",),
    doc="Cosine.",
    methods=("cos",),
)
SUM = Primitive(
    "sum", -1,
    # A plain left fold, the same on every backend. Not sum(): from Python 3.12 it compensates
    # float rounding, so floats, arrays and Values would add up differently.
    forward=lambda m, xs: reduce(add, xs),
    partials=lambda m, xs, y: ones(len(xs)),
    formulas=("1",),
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
