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

FUNCTIONS: tuple[str, ...] = ("exp", "log", "sqrt", "tanh", "sin", "cos", "pow", "abs",
                              "sigmoid", "softplus", "sign", "where")
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


def ieee_partials(partials: Callable[..., Any], *args: Any) -> tuple[float, ...]:
    """A partials rule evaluated with IEEE division: inf where the derivative is infinite."""
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
    agree to rounding.
    """

    def __init__(self) -> None:
        np = numpy_module()
        self._np = np
        self.exp = np.exp
        self.log = np.log
        self.sqrt = np.sqrt
        self.tanh = np.tanh
        self.sin = np.sin
        self.cos = np.cos
        self.pow = np.power
        self.abs = np.abs
        self.sign = np.sign
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
    ``sign`` and ``where``'s condition are constants: their derivative is 0 almost everywhere,
    which is exactly what treating them as constants gives (abs'' = 0, relu'' = 0).
    """

    def __init__(self, apply: Callable[..., Any]) -> None:
        self._apply = apply

    def exp(self, x: Any) -> Any:
        return self._apply("exp", x)

    def log(self, x: Any) -> Any:
        return self._apply("log", x)

    def sqrt(self, x: Any) -> Any:
        return self._apply("sqrt", x)

    def tanh(self, x: Any) -> Any:
        return self._apply("tanh", x)

    def sin(self, x: Any) -> Any:
        return self._apply("sin", x)

    def cos(self, x: Any) -> Any:
        return self._apply("cos", x)

    def pow(self, x: Any, c: Any) -> Any:
        if isinstance(c, (int, float)):
            return self._apply("pow", x, param=c)
        return self._apply("vpow", x, c)

    def abs(self, x: Any) -> Any:
        return self._apply("abs", x)

    def sigmoid(self, x: Any) -> Any:
        return self._apply("sigmoid", x)

    def softplus(self, x: Any) -> Any:
        return self._apply("softplus", x)

    def sign(self, x: Any) -> float:
        return _sign(float(x))

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b
