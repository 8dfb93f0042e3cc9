"""What refusing a hostile JSON file costs: ``json.loads`` first (what the model file reader
did before issue 23) against ``autograd.files.parse_json``, which measures the text first.

    .venv/bin/python benchmarks/refusing_files.py [--megabytes 54]   (also run by: make bench)

For each kind of file, of about ``--megabytes`` MB: the seconds (best of 3) and the peak of
Python's allocations (tracemalloc, one more run) of each, side by side in one process, and
their ratios. Both end in a refusal (json.loads by a decode error or by building what the
caller then refuses); the figures are what a bad file costs before it is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograd.files import InputError, parse_json


def files(megabytes: float) -> dict[str, str]:
    """A truncated model file, a flood of numbers and a flood of empty objects."""
    n = int(megabytes * 1e6)
    width = 1000
    rows = max(1, n // (width * 48))
    params = {f"layers.0.neurons.{j}.w.{i}": 0.123456789012345
              for j in range(rows) for i in range(width)}
    model = json.dumps({"format": "edgegrad-model", "version": 1, "kind": "MLP",
                        "config": {"nin": width, "nouts": [rows]}, "parameters": params})
    return {"truncated model": model[:-10],
            "flood of numbers": "[" + ",".join(["0.5"] * (n // 4)) + "]",
            "flood of objects": "[" + ",".join(["{}"] * (n // 3)) + "]"}


def loads(text: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        pass


def measured(text: str) -> None:
    try:
        parse_json(text, "bench", max_values=1_010_000)
    except InputError:
        pass


def cost(fn: Callable[[str], None], text: str) -> tuple[float, float]:
    """(best seconds of 3, peak MB of Python allocations) of ``fn(text)``."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn(text)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return best, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=54.0)
    args = parser.parse_args()
    print(f"refusing a hostile JSON file of about {args.megabytes:g} MB "
          "(seconds: best of 3; MB: peak of Python's allocations)")
    print(f"{'file':18} {'MB':>5} | {'json.loads':>16} | {'parse_json':>16} | ratio s, MB")
    for name, text in files(args.megabytes).items():
        (t0, m0), (t1, m1) = cost(loads, text), cost(measured, text)
        print(f"{name:18} {len(text) / 1e6:5.0f} | {t0:6.2f} s {m0:6.0f} MB | "
              f"{t1:6.2f} s {m1:6.0f} MB | {t0 / t1:5.1f}x {m0 / max(m1, 1e-9):5.1f}x")


if __name__ == "__main__":
    main()
