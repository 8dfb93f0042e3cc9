"""What issue 7's features cost, on one MLP-like graph (3 inputs, 4 tanh layers of 60).

    .venv/bin/python benchmarks/higher_order.py        (also run by: make bench)

Each figure is the best of a few runs, with the plain backward as the yardstick, all in one
process: the ratios are what to compare on a shared machine.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograd import Value, detect_anomaly, gradients, hessian, jvp, reverse_order


def build(xs: Sequence[Any], width: int = 60, depth: int = 4, seed: int = 0) -> Value:
    """A dense tanh network's output on the inputs ``xs``, with fixed random weights."""
    rng = random.Random(seed)
    h = list(xs)
    for _ in range(depth):
        h = [Value.sum([rng.uniform(-1, 1) * v for v in h] + [0.1]).tanh() for _ in range(width)]
    return Value.sum(h)


def best(fn: Callable[[], Any], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    xs = [Value(0.3), Value(-0.2), Value(0.5)]
    out = build(xs)
    print(f"graph: {len(reverse_order(out)):,} nodes")
    t_back = best(out.backward)
    t_fwd = best(lambda: build(xs))
    t_both = best(lambda: build(xs).backward(), 3)

    def anomalous() -> None:
        with detect_anomaly():
            build(xs).backward()

    t_an = best(anomalous, 3)
    t_cg = best(lambda: gradients(out, xs), 3)
    grad_nodes = len(reverse_order(Value.sum(list(gradients(out, xs)))))
    t_jvp = best(lambda: jvp(lambda *v: build(v), [0.3, -0.2, 0.5], [1.0, 0.0, 0.0]), 3)
    t_h = best(lambda: hessian(lambda *v: build(v))(0.3, -0.2, 0.5), 2)
    rows = [
        ("backward()", t_back, "the yardstick"),
        ("forward + backward", t_both, ""),
        ("  inside detect_anomaly()", t_an, f"{t_an / t_both:.1f}x forward + backward"),
        ("gradients(create_graph=True)", t_cg,
         f"{t_cg / t_back:.1f}x backward; the gradients' graph has {grad_nodes:,} nodes"),
        ("jvp (forward with tangents)", t_jvp, f"{t_jvp / t_fwd:.1f}x the forward alone"),
        ("hessian, 3 x 3", t_h, f"{t_h / t_both:.1f}x forward + backward"),
    ]
    for name, t, note in rows:
        print(f"{name:<30} {t * 1e3:8.2f} ms  {note}")


if __name__ == "__main__":
    main()
