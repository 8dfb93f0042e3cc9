"""Gradient checking by central differences in float64."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..recording import no_grad
from ..value import Value
from .functional import hessian


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
    order: int = 1  # 2: the rows also hold every second derivative d2f/dxi dxj

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> tuple[GradCheckRow, ...]:
        return tuple(r for r in self.rows if not r.ok)

    def __str__(self) -> str:
        head = (f"gradient check (central differences, eps={self.eps:g}; "
                f"ok when |num - ana| <= {self.atol:g} + {self.rtol:g}*|num|)")
        w = max([12, *(len(r.name) for r in self.rows)])
        lines = [head, f"{'input':<{w}} {'numerical':>22} {'analytical':>22} {'|diff|':>10}  ok"]
        for r in self.rows:
            lines.append(f"{r.name:<{w}} {r.numerical:>22.15g} {r.analytical:>22.15g} "
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


def _first_grads(f: Callable[..., Value], point: Sequence[float]) -> list[float]:
    """The engine's first-order gradient of ``f`` at ``point`` (a fresh graph)."""
    xs = [Value(a) for a in point]
    out = f(*xs)
    _data(out, f)
    out.backward()
    return [float(x.grad) for x in xs]


def _second_rows(f: Callable[..., Value], point: list[float], names: list[str], eps: float,
                 atol: float, rtol: float) -> list[GradCheckRow]:
    """d2f/dxi dxj from create_graph against central differences of the first derivative."""
    n = len(point)
    analytical = hessian(f, tuple(range(n)))(*point)
    columns = []  # columns[j][i] = (df/dxi at x + eps e_j - at x - eps e_j) / (2 eps)
    for j in range(n):
        up = list(point)
        down = list(point)
        up[j] += eps
        down[j] -= eps
        g_up = _first_grads(f, up)
        g_down = _first_grads(f, down)
        columns.append([(u - d) / (2.0 * eps) for u, d in zip(g_up, g_down)])
    rows = []
    for i in range(n):
        for j in range(n):
            num = columns[j][i]
            ana = float(analytical[i][j])
            rows.append(GradCheckRow(f"d2/d{names[i]}d{names[j]}", num, ana,
                                     _close(num, ana, atol, rtol)))
    return rows


def _close(num: float, ana: float, atol: float, rtol: float) -> bool:
    return math.isfinite(num) and math.isfinite(ana) and abs(num - ana) <= atol + rtol * abs(num)


def check_grads(f: Callable[..., Value], *args: Any, eps: float = 1e-6, atol: float = 1e-7,
                rtol: float = 1e-5, raise_: bool = True, order: int = 1) -> GradCheckReport:
    """Compare backward's gradient of ``f`` at ``args`` with central differences.

    ``args`` are numbers or Values (a Value's label names its row; otherwise its position).
    An input passes when ``|numerical - analytical| <= atol + rtol * |numerical|``. On a
    failure this raises GradientCheckError naming each failing input; with ``raise_=False``
    it returns the report instead. ``order=2`` also checks every second derivative
    d2f/dxi dxj (from ``backward(create_graph=True)``) against central differences of the
    first derivative; those rows are named ``d2/dxidxj``.
    """
    if order not in (1, 2):
        raise ValueError(f"check_grads: order must be 1 or 2; got {order!r}")
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
        rows.append(GradCheckRow(names[i], num, ana, _close(num, ana, atol, rtol)))
    if order == 2:
        rows.extend(_second_rows(f, point, names, eps, atol, rtol))
    report = GradCheckReport(tuple(rows), eps, atol, rtol, order)
    if raise_ and not report.ok:
        raise GradientCheckError(report)
    return report
