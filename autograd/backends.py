"""The three math backends the primitive table's rules are evaluated with.

A rule in ``ops.py`` calls functions on its backend ``m`` (``m.exp(x)``, ``m.where(c, a, b)``).
The same rule runs on:

- ``FLOAT``: plain Python floats, the eager engine;
- ``numpy_math()``: numpy arrays, one value per example, the compiled tape;
- ``ValueMath``: Values, so a derivative is itself a graph (higher-order gradients).

Each backend offers the same functions (``FUNCTIONS``; a test holds them to it), with the same
formulas, so the three agree to rounding. numpy is imported only when its backend is first used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

FUNCTIONS: tuple[str, ...] = (
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "pow", "hypot",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "erf", "abs", "sign", "floor", "ceil", "round", "floordiv", "maximum", "minimum",
    "sigmoid", "softplus", "where",
)
"""What every backend provides: the vocabulary a rule may use besides arithmetic operators."""


# ---------------------------------------------------------------------------------------------
# Floats.


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


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x  # math.floor(inf) raises


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


def _round(x: float) -> float:
    return round(x, 0)  # a float, halves to even (as numpy and torch)


def _floordiv(a: float, b: float) -> float:
    return a // b


def _maximum(a: float, b: float) -> float:
    return a if a >= b or math.isnan(a) else b  # nan wins, as numpy and torch


def _minimum(a: float, b: float) -> float:
    return a if a <= b or math.isnan(a) else b


def _overflowed(a: float, b: float = 2.0) -> float:
    """The IEEE result of a power a**b (or a growth such as e^a) too large for a float:
    -inf for a negative base to an odd integer power, +inf otherwise."""
    odd = b.is_integer() and b % 2.0 == 1.0
    return -math.inf if a < 0.0 and odd else math.inf


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _expm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def _sinh(x: float) -> float:
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(math.inf, x)


def _cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        return math.inf


def _pow(x: float, c: float) -> float:
    try:
        return math.pow(x, c)
    except OverflowError:
        return _overflowed(x, c)


class FloatMath:
    """Backend for plain Python floats. A result too large for a float is +-inf, as IEEE
    arithmetic (and numpy and PyTorch) give it: ``1e200 * 1e200`` and ``exp(1000)`` alike.
    Outside a function's domain Python's math raises ValueError, which the engine reports."""

    exp = staticmethod(_exp)
    expm1 = staticmethod(_expm1)
    log = staticmethod(math.log)
    log1p = staticmethod(math.log1p)
    log2 = staticmethod(math.log2)
    log10 = staticmethod(math.log10)
    sqrt = staticmethod(math.sqrt)
    pow = staticmethod(_pow)
    hypot = staticmethod(math.hypot)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    tan = staticmethod(math.tan)
    asin = staticmethod(math.asin)
    acos = staticmethod(math.acos)
    atan = staticmethod(math.atan)
    atan2 = staticmethod(math.atan2)
    sinh = staticmethod(_sinh)
    cosh = staticmethod(_cosh)
    tanh = staticmethod(math.tanh)
    asinh = staticmethod(math.asinh)
    acosh = staticmethod(math.acosh)
    atanh = staticmethod(math.atanh)
    erf = staticmethod(math.erf)
    abs = staticmethod(abs)
    sign = staticmethod(_sign)
    floor = staticmethod(_floor)
    ceil = staticmethod(_ceil)
    round = staticmethod(_round)
    floordiv = staticmethod(_floordiv)
    maximum = staticmethod(_maximum)
    minimum = staticmethod(_minimum)
    sigmoid = staticmethod(_sigmoid)
    softplus = staticmethod(_softplus)
    where = staticmethod(_where)


FLOAT = FloatMath()


class IEEEFloat(float):
    """A float whose division and power give IEEE inf/nan instead of raising.

    The eager engine re-evaluates a partials rule with these only when the plain float rule
    raised ZeroDivisionError, i.e. at a domain edge where the derivative is infinite
    (sqrt'(0) = +inf, as in PyTorch). Python tries a subclass's reflected operator first, so
    ``0.5 / IEEEFloat(0.0)`` reaches ``__rtruediv__``. Sums, differences, products and
    negations of IEEEFloats are IEEEFloats too, so ``1 / (x*x + y*y)`` divides the IEEE way.
    """

    def __add__(self, other: Any) -> float:
        return IEEEFloat(float(self) + float(other))

    __radd__ = __add__

    def __sub__(self, other: Any) -> float:
        return IEEEFloat(float(self) - float(other))

    def __rsub__(self, other: Any) -> float:
        return IEEEFloat(float(other) - float(self))

    def __mul__(self, other: Any) -> float:
        return IEEEFloat(float(self) * float(other))

    __rmul__ = __mul__

    def __neg__(self) -> float:
        return IEEEFloat(-float(self))

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
    except OverflowError:
        return _overflowed(a, b)


def ieee_partials(partials: Callable[..., Any], *args: Any) -> tuple[float, ...]:
    """A partials rule evaluated with IEEE arithmetic: inf where the derivative is infinite
    (sqrt'(0)) or too large for a float (2.0 ** 1e4)."""
    return tuple(float(v) for v in partials(FLOAT, *(IEEEFloat(a) for a in args)))


# ---------------------------------------------------------------------------------------------
# numpy arrays.


def numpy_module() -> Any:
    """numpy, or an ImportError that says how to install it."""
    try:
        import numpy
    except ImportError:
        raise ImportError("the compiled tape needs numpy: pip install 'edgegrad[fast]' "
                          "(or pip install numpy)") from None
    return numpy


class NumpyMath:
    """Backend for numpy arrays: the table's rules evaluated elementwise over a batch.

    sigmoid and softplus use the float backend's overflow-free forms, so compiled and eager
    agree to rounding. numpy has no erf: it is ``math.erf`` applied element by element (at
    Python speed, and exactly the eager engine's values).
    """

    def __init__(self) -> None:
        np = numpy_module()
        self._np = np
        self.exp = np.exp
        self.expm1 = np.expm1
        self.log = np.log
        self.log1p = np.log1p
        self.log2 = np.log2
        self.log10 = np.log10
        self.sqrt = np.sqrt
        self.pow = np.power
        self.hypot = np.hypot
        self.sin = np.sin
        self.cos = np.cos
        self.tan = np.tan
        self.asin = np.arcsin
        self.acos = np.arccos
        self.atan = np.arctan
        self.atan2 = np.arctan2
        self.sinh = np.sinh
        self.cosh = np.cosh
        self.tanh = np.tanh
        self.asinh = np.arcsinh
        self.acosh = np.arccosh
        self.atanh = np.arctanh
        self.erf = np.vectorize(math.erf, otypes=[np.float64])
        self.abs = np.abs
        self.sign = np.sign
        self.floor = np.floor
        self.ceil = np.ceil
        self.round = np.round  # halves to even, as round()
        self.floordiv = np.floor_divide  # Python's // on floats, element by element
        self.maximum = np.maximum
        self.minimum = np.minimum
        self.where = np.where

    def sigmoid(self, x: Any) -> Any:
        """1/(1+e^-x) for x >= 0 and e^x/(1+e^x) otherwise, as e = e^-|x| (never overflows)."""
        np = self._np
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus(self, x: Any) -> Any:
        """log(1 + e^x) = max(x, 0) + log1p(e^-|x|)."""
        np = self._np
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


_NUMPY_MATH: NumpyMath | None = None


def numpy_math() -> NumpyMath:
    """The shared numpy backend (made on first use, so importing this module needs no numpy)."""
    global _NUMPY_MATH
    if _NUMPY_MATH is None:
        _NUMPY_MATH = NumpyMath()
    return _NUMPY_MATH


# ---------------------------------------------------------------------------------------------
# Values.


class ValueMath:
    """Backend for Values: every function applies a primitive, so its result is differentiable.

    ``apply(name, *operands, param=None)`` is the engine's ``autograd.apply``, handed in by the
    module that uses this backend (this module comes before ``Value`` and does not know it).
    ``sign``, ``floor``, ``ceil``, ``round``, ``floordiv`` and ``where``'s condition are
    constants: their derivative is 0 almost everywhere, which is exactly what treating them as
    constants gives (abs'' = 0, relu'' = 0, and mod's d/dx2 = -(x1 // x2) has derivative 0).
    """

    def __init__(self, apply: Callable[..., Any]) -> None:
        self._apply = apply

    def exp(self, x: Any) -> Any:
        return self._apply("exp", x)

    def expm1(self, x: Any) -> Any:
        return self._apply("expm1", x)

    def log(self, x: Any) -> Any:
        return self._apply("log", x)

    def log1p(self, x: Any) -> Any:
        return self._apply("log1p", x)

    def log2(self, x: Any) -> Any:
        return self._apply("log2", x)

    def log10(self, x: Any) -> Any:
        return self._apply("log10", x)

    def sqrt(self, x: Any) -> Any:
        return self._apply("sqrt", x)

    def pow(self, x: Any, c: Any) -> Any:
        if isinstance(c, (int, float)):
            return self._apply("pow", x, param=c)
        return self._apply("vpow", x, c)

    def hypot(self, x1: Any, x2: Any) -> Any:
        return self._apply("hypot", x1, x2)

    def sin(self, x: Any) -> Any:
        return self._apply("sin", x)

    def cos(self, x: Any) -> Any:
        return self._apply("cos", x)

    def tan(self, x: Any) -> Any:
        return self._apply("tan", x)

    def asin(self, x: Any) -> Any:
        return self._apply("asin", x)

    def acos(self, x: Any) -> Any:
        return self._apply("acos", x)

    def atan(self, x: Any) -> Any:
        return self._apply("atan", x)

    def atan2(self, x1: Any, x2: Any) -> Any:
        return self._apply("atan2", x1, x2)

    def sinh(self, x: Any) -> Any:
        return self._apply("sinh", x)

    def cosh(self, x: Any) -> Any:
        return self._apply("cosh", x)

    def tanh(self, x: Any) -> Any:
        return self._apply("tanh", x)

    def asinh(self, x: Any) -> Any:
        return self._apply("asinh", x)

    def acosh(self, x: Any) -> Any:
        return self._apply("acosh", x)

    def atanh(self, x: Any) -> Any:
        return self._apply("atanh", x)

    def erf(self, x: Any) -> Any:
        return self._apply("erf", x)

    def abs(self, x: Any) -> Any:
        return self._apply("abs", x)

    def maximum(self, x1: Any, x2: Any) -> Any:
        return self._apply("maximum", x1, x2)

    def minimum(self, x1: Any, x2: Any) -> Any:
        return self._apply("minimum", x1, x2)

    def sigmoid(self, x: Any) -> Any:
        return self._apply("sigmoid", x)

    def softplus(self, x: Any) -> Any:
        return self._apply("softplus", x)

    def sign(self, x: Any) -> float:
        return _sign(float(x))

    def floor(self, x: Any) -> float:
        return _floor(float(x))

    def ceil(self, x: Any) -> float:
        return _ceil(float(x))

    def round(self, x: Any) -> float:
        return _round(float(x))

    def floordiv(self, x1: Any, x2: Any) -> float:
        return _floordiv(float(x1), float(x2))

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b
