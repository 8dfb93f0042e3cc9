"""How the teaching tools' costs grow with their input (issue 23): each at n, 2n and 4n.

    .venv/bin/python benchmarks/costs.py            (also run by: make bench)
    .venv/bin/python benchmarks/costs.py --scale 0.25 --only check diagnosis

A cost linear in the input doubles when the input doubles (ratio about 2); n log n a little
more; a quadratic cost quadruples (4), a cubic one multiplies by 8. Every size is timed in this
one process, best of ``--repeat`` runs, with the garbage collector on (as users run it) and a
collection before each run. The workloads:

- check: ``edgegrad check`` on a system of n equations ``x_i = x_{i-1}*a + b``: the graph
  built from the text, every number of its worksheet's key checked, the report printed;
- diagnosis: a node used n times (``L = Σ_i h·c_i``), its gradient given wrong: every
  diagnosis is tried, including "a path was left out";
- suggestions: n unknown answer keys against a graph of n named nodes, each refused with its
  "did you mean";
- grade: ``nn.grade`` on a network n layers deep (2 neurons each, linear and tanh in turn),
  the worksheet's key with every delta and gradient a little off (so every slip is tried);
- worksheet, explain: ``worksheet(L)`` and ``explain(L, a)`` for L = Σ_i x_i·a over n terms.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograd import Value, check_by_hand, explain, worksheet
from autograd.teach.handcheck import AnswerError, from_equations
from nn import grade
from nn.grading.network import network_worksheet

Setup = Callable[[int], Callable[[], Any]]
"""Builds the input of size n (untimed) and returns the operation to time on it."""


def check(n: int) -> Callable[[], Any]:
    equations = ["x0 = a*b", *(f"x{i} = x{i - 1}*a + b" for i in range(1, n))]
    values = {"a": 0.5, "b": 1.0}
    answers = worksheet(from_equations(equations, values)).answers()

    def run() -> Any:
        report = check_by_hand(from_equations(equations, values), answers)
        assert report.ok
        return str(report)

    return run


def diagnosis(n: int) -> Callable[[], Any]:
    a, b = Value(2.0, "a"), Value(1.0, "b")
    h = a + b
    h.label = "h"
    L = Value.sum([h * Value(1.0 + (i % 7) / 10, f"c{i}") for i in range(n)])
    L.label = "L"
    right = sum(1.0 + (i % 7) / 10 for i in range(n))

    def run() -> Any:
        report = check_by_hand(L, {"h": right * 1.37 + 0.5})  # matches no slip: all are tried
        assert not report.ok
        return report

    return run


def suggestions(n: int) -> Callable[[], Any]:
    x = Value(0.5, "node0")
    for i in range(1, n):
        x = x * 0.999
        x.label = f"node{i}"
    keys = {f"nod{i}e": 1.0 for i in range(n)}  # each one edit from a name, never a name

    def run() -> Any:
        try:
            check_by_hand(x, keys)
        except AnswerError as e:
            assert "did you mean" in str(e)
            return str(e)
        raise AssertionError("unknown keys were accepted")

    return run


def network(depth: int) -> tuple[list[dict[str, Any]], list[list[float]], list[float]]:
    """A network ``depth`` layers deep: 2 inputs, 2 neurons per layer (the last has 1),
    orthogonal weights so the deltas neither vanish nor explode."""
    layers = []
    for k in range(depth):
        w = [[0.8, 0.6], [-0.6, 0.8]] if k < depth - 1 else [[0.8, 0.6]]
        layers.append({"w": w, "b": [0.0] * len(w),
                       "activation": "tanh" if k % 2 else "linear"})
    return layers, [[0.3, -0.2]], [0.5]


def grading(n: int) -> Callable[[], Any]:
    layers, xs, ys = network(n)
    answers: dict[str, Any] = {}
    for key, v in network_worksheet(layers, xs, ys).answers().items():
        off = key.endswith((".a", ".z"))
        answers[key] = (v if off else [u * 1.1 + 0.01 for u in v]) if isinstance(v, list) \
            else v * 1.1 + 0.01

    def run() -> Any:
        report = grade(layers, xs, ys, answers)
        assert not report.ok
        return report

    return run


def wide_sum(n: int) -> tuple[Value, Value]:
    a = Value(0.5, "a")
    L = Value.sum([Value(0.1 * (i % 10), f"x{i}") * a for i in range(n)])
    L.label = "L"
    return L, a


def sheet(n: int) -> Callable[[], Any]:
    L, _ = wide_sum(n)
    return lambda: worksheet(L).markdown(key=True)


def explanation(n: int) -> Callable[[], Any]:
    L, a = wide_sum(n)
    return lambda: explain(L, a).text()


OPERATIONS: dict[str, tuple[str, Setup, int]] = {
    "check": ("edgegrad check, n equations", check, 2_500),
    "diagnosis": ("a wrong gradient, node used n times", diagnosis, 1_000),
    "suggestions": ("n unknown keys x n nodes", suggestions, 1_000),
    "grade": ("nn.grade, n layers deep", grading, 500),
    "worksheet": ("worksheet(L), n terms", sheet, 2_500),
    "explain": ("explain(L, a), n terms", explanation, 2_500),
}
"""Each operation: what n counts, its setup and its n at scale 1."""


def best(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="n times this (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--only", nargs="+", choices=list(OPERATIONS), default=list(OPERATIONS))
    args = parser.parse_args()
    print(f"{'operation':<12} {'n counts':<38} {'n':>7} {'t(n)':>9} {'t(2n)':>9} {'t(4n)':>9}"
          f"  {'2n/n':>5} {'4n/2n':>5}")
    for name in args.only:
        what, setup, n0 = OPERATIONS[name]
        n = max(1, round(n0 * args.scale))
        times = [best(setup(k), args.repeat) for k in (n, 2 * n, 4 * n)]
        print(f"{name:<12} {what:<38} {n:>7,} {times[0]:>8.3f}s {times[1]:>8.3f}s "
              f"{times[2]:>8.3f}s  {times[1] / times[0]:>5.2f} {times[2] / times[1]:>5.2f}",
              flush=True)


if __name__ == "__main__":
    main()
