"""Gradient checking by central differences in float64."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .value import Value, no_grad


@dataclass(frozen=True)
class GradCheckRow:
    """One input: the numerical and analytical derivative and whether they agree."""

    name: str
    numerical: float
    analytical: float
    ok: bool

    @property
    def abs_diff(self) -> float:
        return abs(self.numerical - self.analytical)


@dataclass(frozen=True)
class GradCheckReport:
    """The outcome of ``check_grads``: one row per input, and the tolerances used."""

    rows: tuple[GradCheckRow, ...]
    eps: float
    atol: float
    rtol: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> tuple[GradCheckRow, ...]:
        return tuple(r for r in self.rows if not r.ok)

    def __str__(self) -> str:
        head = (f"gradient check (central differences, eps={self.eps:g}; "
                f"ok when |num - ana| <= {self.atol:g} + {self.rtol:g}*|num|)")
        lines = [head, f"{'input':<12} {'numerical':>22} {'analytical':>22} {'|diff|':>10}  ok"]
        for r in self.rows:
            lines.append(f"{r.name:<12} {r.numerical:>22.15g} {r.analytical:>22.15g} "
                         f"{r.abs_diff:>10.3g}  {'yes' if r.ok else 'NO'}")
        return "\n".join(lines)


class GradientCheckError(AssertionError):
    """Analytical and numerical gradients disagree; ``.report`` holds every input's row."""

    def __init__(self, report: GradCheckReport) -> None:
        self.report = report
        bad = "; ".join(
            f"{r.name}: numerical {r.numerical!r}, analytical {r.analytical!r}, "
            f"|diff| {r.abs_diff:.3g}" for r in report.failures)
        super().__init__(f"gradient check failed for {bad} "
                         f"(atol={report.atol:g}, rtol={report.rtol:g}, eps={report.eps:g})\n"
                         f"{report}")


def numerical_grad(f: Callable[..., Value], args: Sequence[float], i: int,
                   eps: float = 1e-6) -> float:
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps), evaluated with no graph recorded."""
    def at(xi: float) -> float:
        xs = [Value(a) for a in args]
        xs[i] = Value(xi)
        with no_grad():
            return _data(f(*xs), f)
    return (at(args[i] + eps) - at(args[i] - eps)) / (2.0 * eps)


def _data(out: Any, f: Callable[..., Any]) -> float:
    if not isinstance(out, Value):
        raise TypeError(f"{getattr(f, '__name__', 'f')} must return a Value; "
                        f"got {type(out).__name__}")
    return out.data


def check_grads(f: Callable[..., Value], *args: Any, eps: float = 1e-6, atol: float = 1e-7,
                rtol: float = 1e-5, raise_: bool = True) -> GradCheckReport:
    """Compare backward's gradient of ``f`` at ``args`` with central differences.

    ``args`` are numbers or Values (a Value's label names its row; otherwise its position).
    An input passes when ``|numerical - analytical| <= atol + rtol * |numerical|``. On a
    failure this raises GradientCheckError naming each failing input; with ``raise_=False``
    it returns the report instead.
    """
    names = [a.label if isinstance(a, Value) and a.label else f"arg{i}"
             for i, a in enumerate(args)]
    point = [float(a.data if isinstance(a, Value) else a) for a in args]
    xs = [Value(x, label=n) for x, n in zip(point, names)]
    out = f(*xs)
    _data(out, f)
    out.backward()
    rows = []
    for i, x in enumerate(xs):
        num = numerical_grad(f, point, i, eps)
        ana = float(x.grad)
        ok = math.isfinite(num) and math.isfinite(ana) and abs(num - ana) <= atol + rtol * abs(num)
        rows.append(GradCheckRow(names[i], num, ana, ok))
    report = GradCheckReport(tuple(rows), eps, atol, rtol)
    if raise_ and not report.ok:
        raise GradientCheckError(report)
    return report
