"""What fit(live=True) costs: the same training with and without the live view, side by side.

    .venv/bin/python benchmarks/live.py            (or: make bench)
    .venv/bin/python benchmarks/live.py --quick    (fewer epochs and rounds)

The workload is micrograd's demo (``make demo``): an MLP 2-16-16-1 on 100 two-moons points,
hinge loss + L2 1e-4, full-batch SGD with lr 1.0 -> 0.1, on the eager engine, and the same
with ``compiled=True``. Runs with and without the live view alternate (ABBA), each the same
training from the same seed; times are medians. The live view draws every frame it would in
a notebook (the figure rendered to PNG by Agg) and hands it to a function that drops it,
instead of an IPython display handle: sending a PNG to the front end is not timed.
matplotlib is imported first, as a notebook's ``%matplotlib inline`` has done.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import matplotlib.figure  # noqa: E402, F401  (a notebook has it loaded)

from nn import MLP, LinearDecay, fit  # noqa: E402
from nn.data import moons  # noqa: E402
from nn.watch.live import LiveView  # noqa: E402


def run(epochs: int, compiled: bool, live: bool) -> tuple[float, LiveView | None, Any]:
    """One training run: its seconds, the live view (or None) and the history."""
    ds = moons(100, noise=0.1, seed=1)
    ys = ds.targets("hinge")
    model = MLP(2, [16, 16, 1], seed=1)
    view = LiveView(show=lambda png: None) if live else None
    t0 = time.perf_counter()
    history = fit(model, ds.xs, ys, loss="hinge", l2=1e-4, epochs=epochs,
                  schedule=LinearDecay(1.0, 0.1, max(epochs - 1, 1)), progress=False,
                  compiled=compiled, live=view if view is not None else False)
    return time.perf_counter() - t0, view, history


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer epochs and rounds")
    args = ap.parse_args()
    rounds = 2 if args.quick else 3
    cases = [("eager", False, 30 if args.quick else 100),
             ("compiled", True, 100 if args.quick else 1000)]
    print(f"fit with and without live=True, MLP 2-16-16-1 on 100 moons points; {rounds} "
          f"rounds of ABBA, medians; load {os.getloadavg()[0]:.1f}")
    head = (f"{'workload':<22}{'steps':>6}{'without':>11}{'with live':>11}{'added':>9}"
            f"{'frames':>8}{'drawing':>10}{'share':>8}")
    print(head)
    print("-" * len(head))
    for name, compiled, epochs in cases:
        run(2, compiled, True)  # warm: imports, the first figure
        plain: list[float] = []
        live: list[float] = []
        views: list[LiveView] = []
        for _ in range(rounds):
            for order in ((False, True), (True, False)):
                for with_live in order:
                    seconds, view, history = run(epochs, compiled, with_live)
                    assert history.steps == epochs
                    if view is not None:
                        live.append(seconds)
                        views.append(view)
                    else:
                        plain.append(seconds)
        a, b = statistics.median(plain), statistics.median(live)
        frames = statistics.median(v.frames for v in views)
        drawing = statistics.median(v.seconds for v in views)
        # The share of the run spent drawing, measured inside the live runs themselves: the
        # same figure as "added" without the noise of comparing separate runs.
        share = statistics.median(v.seconds / (t - v.seconds) for v, t in zip(views, live))
        print(f"{name + f', {epochs} epochs':<22}{epochs:>6}{a:>10.2f}s{b:>10.2f}s"
              f"{(b - a) / a:>+9.1%}{frames:>8.0f}{drawing:>9.2f}s{share:>8.1%}")
    print("added: (with - without) / without; drawing: the seconds the live view spent in "
          "its frames;\nshare: drawing / the training time of the same run")


if __name__ == "__main__":
    main()
