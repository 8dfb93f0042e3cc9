"""The primitive table: each op's forward, its local partials and its valid domain, declared once.

Every rule takes a math backend ``m`` first. The same rule is evaluated on floats (the eager
engine), on numpy arrays (the compiled tape) and on Values (higher-order gradients), so no
derivative is ever written twice. Rules use only arithmetic operators, comparisons and the
backend's functions (``m.exp``, ``m.where``, ...: ``backends.FUNCTIONS``), which is what makes
them portable; a Python ``if`` may test only the static parameter ``c``, the same number on every
backend.

Signatures, by arity (these parameter names exactly: Value's methods are written from them):

- unary:   ``forward(m, x)`` and ``partials(m, x, y)``
- unary with a static parameter ``c`` (pow's exponent, leaky_relu's slope):
  ``forward(m, x, c)`` and ``partials(m, x, y, c)``
- binary:  ``forward(m, x1, x2)`` and ``partials(m, x1, x2, y)``
- ternary: ``forward(m, x1, x2, x3)`` and ``partials(m, x1, x2, x3, y)`` (clamp)
- n-ary:   ``forward(m, xs)`` and ``partials(m, xs, y)``

``partials`` returns a tuple literal with one local derivative per operand: d(output)/d(operand),
in operand order. ``y`` is the forward output, so rules such as tanh' = 1 - y*y reuse it.

A rule runs on floats, so Python evaluates every argument of ``m.where(cond, a, b)``: both
branches must be computable for any operand inside the domain (elu's forward clips the
argument of its ``expm1`` for that reason).

Adding an op: the one place is this file. Write its ``NAME = Primitive(...)`` below (name,
arity, forward, partials, ``formulas``, domain and ``valid``, a one-line ``doc``, and the
``methods`` Value gets for it, if any). ``PRIMITIVES`` collects every Primitive defined here,
so the op cannot be declared and left out; the tape, higher-order gradients, forward mode, the
expression language, the drawings and ``edgegrad draw``'s help all read ``PRIMITIVES``. Then
``make generate`` writes the Value methods it names into ``arithmetic.py``, and the tests name
every list that must hear of it (the test cases in ``tests/engine/test_ops.py``, the docs' op
table, PyTorch parity; ``tests/engine/test_op_lists.py``). A rule that needs a function the
backends lack adds it to all three in ``backends.py`` and to ``backends.FUNCTIONS``.
``tests/engine/test_adding_an_op.py`` adds a throwaway op this way and sees it differentiated,
drawn, compiled and parsed.
"""

from __future__ import annotations

import math
from functools import reduce
from operator import add

from .primitive import Primitive

# ---------------------------------------------------------------------------------------------
# The table. Each entry: forward, then the local partials, then the domain. Conventions at
# kinks and ties are PyTorch's (float64): each is stated in the entry's ``doc``.

_ONES: dict[int, tuple[float, ...]] = {}


def ones(n: int) -> tuple[float, ...]:
    """The shared tuple of n local derivatives equal to 1 (an n-ary sum's partials)."""
    t = _ONES.get(n)
    if t is None:
        t = _ONES[n] = (1.0,) * n
    return t


# -- arithmetic -------------------------------------------------------------------------------

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
    divides_by_zero=lambda x1, x2: x2 == 0,
    symbol="/",
    doc="x1 / x2, x2 != 0.",
    methods=("__truediv__", "__rtruediv__"),
)
MOD = Primitive(
    "mod", 2,
    # Python's %: the result has the divisor's sign (torch.remainder). The quotient in the
    # partial is Python's floor division, the one % removes: floor(x1/x2) taken on the rounded
    # x1/x2 can be 1 too large (1 // 0.1 is 9.0, floor(1/0.1) is 10).
    forward=lambda m, x1, x2: x1 % x2,
    partials=lambda m, x1, x2, y: (1.0, -m.floordiv(x1, x2)),
    formulas=("1", "-(x1 // x2)"),
    domain="divisor != 0",
    valid=lambda x1, x2: x2 != 0,
    divides_by_zero=lambda x1, x2: x2 == 0,
    symbol="%",
    doc="x1 mod x2 with the sign of x2 (Python's %), x2 != 0.",
    methods=("__mod__", "__rmod__"),
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
SIGN = Primitive(
    "sign", 1,
    forward=lambda m, x: m.sign(x),
    partials=lambda m, x, y: (0.0,),
    formulas=("0",),
    doc="-1, 0 or 1 as x < 0, x == 0, x > 0; derivative 0 (also at 0, as PyTorch).",
    methods=("sign",),
)
POW = Primitive(
    "pow", 1,
    forward=lambda m, x, c: m.pow(x, c),
    # x ** 0 is the constant 1: derivative 0 even at x = 0, where c * x**(c - 1) is 0 * inf.
    partials=lambda m, x, y, c: (c * x ** (c - 1.0) if c != 0.0 else 0.0,),
    formulas=("c*x**(c - 1) if c != 0 else 0",),
    domain="base > 0, or base == 0 with exponent >= 0, or base < 0 with an integer exponent",
    valid=lambda x, c: x > 0 or (x == 0 and c >= 0) or (x < 0 and float(c).is_integer()),
    divides_by_zero=lambda x, c: x == 0 and c < 0,
    param="exponent",
    symbol="**",
    checked=True,
    doc="x ** c for a number c (valid where the real power is defined); d/dx of x ** 0 is 0.",
    methods=("_pow",),
)
VPOW = Primitive(
    "vpow", 2,
    forward=lambda m, x1, x2: m.pow(x1, x2),
    # At base 0 (exponent > 0) the power is 0 whatever the exponent: d/dx2 = 0 there, as in
    # PyTorch. log is taken of 1 instead of 0, since a float rule evaluates both branches.
    partials=lambda m, x1, x2, y: (x2 * x1 ** (x2 - 1.0), m.log(m.where(x1 > 0, x1, 1.0)) * y),
    formulas=("x2*x1**(x2 - 1)", "log(x1)*y if x1 > 0 else 0"),
    domain="base > 0, or base == 0 with exponent > 0 (a negative base needs a number exponent: "
    "the exponent's derivative log(base)*y is not real)",
    valid=lambda x1, x2: x1 > 0 or (x1 == 0 and x2 > 0),
    divides_by_zero=lambda x1, x2: x1 == 0 and x2 < 0,
    symbol="**",
    checked=True,
    doc="x1 ** x2 for a Value exponent, x1 > 0 or x1 == 0 < x2.",
    methods=("_vpow", "__rpow__"),
)

# -- exponentials and logarithms --------------------------------------------------------------

EXP = Primitive(
    "exp", 1,
    forward=lambda m, x: m.exp(x),
    partials=lambda m, x, y: (y,),
    formulas=("y",),
    doc="e^x.",
    methods=("exp",),
)
EXPM1 = Primitive(
    "expm1", 1,
    forward=lambda m, x: m.expm1(x),
    partials=lambda m, x, y: (y + 1.0,),
    formulas=("exp(x)",),
    doc="e^x - 1, exact for small x.",
    methods=("expm1",),
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
LOG1P = Primitive(
    "log1p", 1,
    forward=lambda m, x: m.log1p(x),
    partials=lambda m, x, y: (1.0 / (1.0 + x),),
    formulas=("1/(1 + x)",),
    domain="x > -1",
    valid=lambda x: x > -1,
    doc="log(1 + x), exact for small x; x > -1.",
    methods=("log1p",),
)
LOG2 = Primitive(
    "log2", 1,
    forward=lambda m, x: m.log2(x),
    partials=lambda m, x, y: (1.0 / (x * math.log(2.0)),),
    formulas=("1/(x*log(2))",),
    domain="x > 0",
    valid=lambda x: x > 0,
    doc="Base-2 log, x > 0.",
    methods=("log2",),
)
LOG10 = Primitive(
    "log10", 1,
    forward=lambda m, x: m.log10(x),
    partials=lambda m, x, y: (1.0 / (x * math.log(10.0)),),
    formulas=("1/(x*log(10))",),
    domain="x > 0",
    valid=lambda x: x > 0,
    doc="Base-10 log, x > 0.",
    methods=("log10",),
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
HYPOT = Primitive(
    "hypot", 2,
    forward=lambda m, x1, x2: m.hypot(x1, x2),
    # At the origin the derivative is taken as (0, 0), as abs'(0) = 0 and the gradient of
    # torch.linalg.vector_norm at 0 (torch.hypot gives nan there).
    partials=lambda m, x1, x2, y: (m.where(y > 0, x1 / y, 0.0), m.where(y > 0, x2 / y, 0.0)),
    formulas=("x1/y", "x2/y"),
    doc="sqrt(x1^2 + x2^2) without overflow or underflow; derivative (0, 0) at the origin.",
    methods=("hypot",),
)

# -- trigonometric ----------------------------------------------------------------------------

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
TAN = Primitive(
    "tan", 1,
    forward=lambda m, x: m.tan(x),
    partials=lambda m, x, y: (1.0 + y * y,),
    formulas=("1 + y**2",),
    doc="Tangent (no float is exactly a pole, so every float is in the domain).",
    methods=("tan",),
)
ASIN = Primitive(
    "asin", 1,
    forward=lambda m, x: m.asin(x),
    partials=lambda m, x, y: ((1.0 - x * x) ** -0.5,),  # +inf at x = -1 and 1
    formulas=("1/sqrt(1 - x**2)",),
    domain="-1 <= x <= 1",
    valid=lambda x: -1 <= x <= 1,
    doc="Arcsine in [-pi/2, pi/2], -1 <= x <= 1 (the derivative is +inf at -1 and 1).",
    methods=("asin",),
)
ACOS = Primitive(
    "acos", 1,
    forward=lambda m, x: m.acos(x),
    partials=lambda m, x, y: (-((1.0 - x * x) ** -0.5),),  # -inf at x = -1 and 1
    formulas=("-1/sqrt(1 - x**2)",),
    domain="-1 <= x <= 1",
    valid=lambda x: -1 <= x <= 1,
    doc="Arccosine in [0, pi], -1 <= x <= 1 (the derivative is -inf at -1 and 1).",
    methods=("acos",),
)
ATAN = Primitive(
    "atan", 1,
    forward=lambda m, x: m.atan(x),
    partials=lambda m, x, y: (1.0 / (1.0 + x * x),),
    formulas=("1/(1 + x**2)",),
    doc="Arctangent in (-pi/2, pi/2).",
    methods=("atan",),
)
ATAN2 = Primitive(
    "atan2", 2,
    forward=lambda m, x1, x2: m.atan2(x1, x2),
    # atan2 jumps at the origin; there the derivative is taken as (0, 0), as PyTorch does.
    partials=lambda m, x1, x2, y: (
        m.where(x1 * x1 + x2 * x2 > 0, x2 / (x1 * x1 + x2 * x2), 0.0),
        m.where(x1 * x1 + x2 * x2 > 0, -x1 / (x1 * x1 + x2 * x2), 0.0),
    ),
    formulas=("x2/(x1**2 + x2**2)", "-x1/(x1**2 + x2**2)"),
    doc="The angle of the point (x2, x1), as math.atan2(x1, x2); derivative (0, 0) at (0, 0).",
    methods=("atan2",),
)
DEGREES = Primitive(
    "degrees", 1,
    forward=lambda m, x: x * (180.0 / math.pi),
    partials=lambda m, x, y: (180.0 / math.pi,),
    formulas=("180/pi",),
    doc="x radians in degrees: x * 180/pi.",
    methods=("degrees",),
)
RADIANS = Primitive(
    "radians", 1,
    forward=lambda m, x: x * (math.pi / 180.0),
    partials=lambda m, x, y: (math.pi / 180.0,),
    formulas=("pi/180",),
    doc="x degrees in radians: x * pi/180.",
    methods=("radians",),
)

# -- hyperbolic -------------------------------------------------------------------------------

SINH = Primitive(
    "sinh", 1,
    forward=lambda m, x: m.sinh(x),
    partials=lambda m, x, y: (m.cosh(x),),
    formulas=("cosh(x)",),
    doc="Hyperbolic sine.",
    methods=("sinh",),
)
COSH = Primitive(
    "cosh", 1,
    forward=lambda m, x: m.cosh(x),
    partials=lambda m, x, y: (m.sinh(x),),
    formulas=("sinh(x)",),
    doc="Hyperbolic cosine.",
    methods=("cosh",),
)
TANH = Primitive(
    "tanh", 1,
    forward=lambda m, x: m.tanh(x),
    partials=lambda m, x, y: (1.0 - y * y,),
    formulas=("1 - y**2",),
    doc="Hyperbolic tangent.",
    methods=("tanh",),
)
ASINH = Primitive(
    "asinh", 1,
    forward=lambda m, x: m.asinh(x),
    partials=lambda m, x, y: ((x * x + 1.0) ** -0.5,),
    formulas=("1/sqrt(x**2 + 1)",),
    doc="Inverse hyperbolic sine.",
    methods=("asinh",),
)
ACOSH = Primitive(
    "acosh", 1,
    forward=lambda m, x: m.acosh(x),
    partials=lambda m, x, y: ((x * x - 1.0) ** -0.5,),  # +inf at x = 1, as sqrt'(0)
    formulas=("1/sqrt(x**2 - 1)",),
    domain="x >= 1",
    valid=lambda x: x >= 1,
    doc="Inverse hyperbolic cosine, x >= 1 (acosh(1) = 0; the derivative is +inf there).",
    methods=("acosh",),
)
ATANH = Primitive(
    "atanh", 1,
    forward=lambda m, x: m.atanh(x),
    partials=lambda m, x, y: (1.0 / (1.0 - x * x),),
    formulas=("1/(1 - x**2)",),
    domain="-1 < x < 1 (atanh is infinite at -1 and 1)",
    valid=lambda x: -1 < x < 1,
    doc="Inverse hyperbolic tangent, -1 < x < 1.",
    methods=("atanh",),
)

# -- special functions and rounding -----------------------------------------------------------

ERF = Primitive(
    "erf", 1,
    forward=lambda m, x: m.erf(x),
    partials=lambda m, x, y: (2.0 / math.sqrt(math.pi) * m.exp(-x * x),),
    formulas=("2/sqrt(pi)*exp(-x**2)",),
    doc="The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to x.",
    methods=("erf",),
)
FLOOR = Primitive(
    "floor", 1,
    forward=lambda m, x: m.floor(x),
    partials=lambda m, x, y: (0.0,),
    formulas=("0",),
    doc="The largest integer <= x; derivative 0 (also at the jumps, as PyTorch).",
    methods=("floor",),
)
CEIL = Primitive(
    "ceil", 1,
    forward=lambda m, x: m.ceil(x),
    partials=lambda m, x, y: (0.0,),
    formulas=("0",),
    doc="The smallest integer >= x; derivative 0 (also at the jumps, as PyTorch).",
    methods=("ceil",),
)
ROUND = Primitive(
    "round", 1,
    forward=lambda m, x: m.round(x),
    partials=lambda m, x, y: (0.0,),
    formulas=("0",),
    doc="The nearest integer, halves to even (as round() and torch.round); derivative 0.",
    methods=("round",),
)
MAXIMUM = Primitive(
    "maximum", 2,
    forward=lambda m, x1, x2: m.maximum(x1, x2),
    # 1 to the larger operand, 0 to the other, 1/2 to each at a tie (as torch.maximum).
    partials=lambda m, x1, x2, y: (0.5 + 0.5 * m.sign(x1 - x2), 0.5 - 0.5 * m.sign(x1 - x2)),
    formulas=("(1 + sign(x1 - x2))/2", "(1 - sign(x1 - x2))/2"),
    doc="The larger of x1 and x2; at a tie, derivative 1/2 to each.",
    methods=("maximum",),
)
MINIMUM = Primitive(
    "minimum", 2,
    forward=lambda m, x1, x2: m.minimum(x1, x2),
    partials=lambda m, x1, x2, y: (0.5 - 0.5 * m.sign(x1 - x2), 0.5 + 0.5 * m.sign(x1 - x2)),
    formulas=("(1 - sign(x1 - x2))/2", "(1 + sign(x1 - x2))/2"),
    doc="The smaller of x1 and x2; at a tie, derivative 1/2 to each.",
    methods=("minimum",),
)
CLAMP = Primitive(
    "clamp", 3,
    forward=lambda m, x1, x2, x3: m.minimum(m.maximum(x1, x2), x3),
    # As torch.clamp: x1 passes through on [x2, x3], both bounds included; a bound gets the
    # derivative where it is the result (x3 also when x3 < x2, since then the result is x3).
    partials=lambda m, x1, x2, x3, y: (
        m.where((x2 <= x1) & (x1 <= x3), 1.0, 0.0),
        m.where((x1 < x2) & (x2 < x3), 1.0, 0.0),
        m.where((x1 > x3) | (x3 < x2), 1.0, 0.0),
    ),
    formulas=("1 if x2 <= x1 <= x3 else 0", "1 if x1 < x2 < x3 else 0",
              "1 if x1 > x3 or x3 < x2 else 0"),
    doc="x1 clamped to [x2, x3]: min(max(x1, x2), x3); d/dx1 = 1 at both bounds, as torch.clamp.",
    # Value.clamp(lo, hi) is written by hand in value.py: the generator writes unary and binary
    # methods only.
)

# -- activations ------------------------------------------------------------------------------

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
GELU = Primitive(
    "gelu", 1,
    forward=lambda m, x: 0.5 * x * (1.0 + m.erf(x / math.sqrt(2))),
    # Phi(x) + x phi(x): the standard normal cdf, and x times its density.
    partials=lambda m, x, y: (
        0.5 * (1.0 + m.erf(x / math.sqrt(2))) + x * m.exp(-x * x / 2) / math.sqrt(math.tau),
    ),
    formulas=("(1 + erf(x/sqrt(2)))/2 + x*exp(-x**2/2)/sqrt(2*pi)",),
    doc="x * Phi(x), Phi the standard normal cdf (torch's exact gelu, the erf form).",
    methods=("gelu",),
)
SILU = Primitive(
    "silu", 1,
    forward=lambda m, x: x * m.sigmoid(x),
    partials=lambda m, x, y: (m.sigmoid(x) * (1.0 + x * (1.0 - m.sigmoid(x))),),
    formulas=("sigmoid(x)*(1 + x*(1 - sigmoid(x)))",),
    doc="x * sigmoid(x) (also called swish).",
    methods=("silu",),
)
ELU = Primitive(
    "elu", 1,
    # expm1's argument is clipped at 0: both branches are evaluated, and e^x of a large x would
    # overflow in the branch that is not taken.
    forward=lambda m, x, c: m.where(x > 0, x, c * m.expm1(m.minimum(x, 0.0))),
    partials=lambda m, x, y, c: (m.where(x > 0, 1.0, y + c),),  # alpha*e^x = y + alpha
    formulas=("1 if x > 0 else c*exp(x)",),
    param="alpha",
    doc="x for x > 0, alpha*(e^x - 1) otherwise; elu'(0) = alpha, as PyTorch.",
    methods=("elu",),
    default=1.0,
)

# -- n-ary ------------------------------------------------------------------------------------

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


def _collect(namespace: dict[str, object]) -> dict[str, Primitive]:
    """Every Primitive of ``namespace`` by name, in the order they are defined."""
    table: dict[str, Primitive] = {}
    for p in namespace.values():
        if isinstance(p, Primitive):
            if p.name in table:
                raise ValueError(f"two primitives are named {p.name!r} in ops.py")
            table[p.name] = p
    return table


PRIMITIVES: dict[str, Primitive] = _collect(dict(globals()))
"""Every primitive by name, collected from the definitions above: the one place an op's
derivative is written, and the one list of ops."""

ACTIVATIONS: tuple[str, ...] = ("linear", "relu", "leaky_relu", "tanh", "sigmoid", "softplus",
                                "sin", "exp", "gelu", "silu", "elu")
"""Unary primitives that make sense as a neuron's nonlinearity ("linear" is the identity)."""
