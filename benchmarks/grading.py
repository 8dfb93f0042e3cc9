"""A class graded at once: 1,000 hand-ins through ``nn.grade_folder``, the process pool against
one worker process, side by side in one run.

    .venv/bin/python benchmarks/grading.py            (also run by: make bench)
    .venv/bin/python benchmarks/grading.py --students 200 --repeat 1   (a smoke test)

The class: network problems (2-2-1, two examples, 27 answers each), one per student from the
roster and a secret; the hand-ins are the keys with a slip in every third (a sign flipped, an
answer left blank, a word for a number). Each timing is a whole ``grade_folder`` into a fresh
folder on the disk: the hand-ins read, graded, each student's feedback and results written,
the summary (text and plot) and the grade book. Times are the best of ``--repeat`` runs, the
pool and one process taking turns, so both meet the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nn import grade_folder, make_sheets

SECRET = b"the benchmark's course secret, 42"


def make_class(where: Path, n: int) -> tuple[Path, Path]:
    """A roster of ``n``, its sheets, and a hand-in per student (a slip in every third)."""
    with open(where / "roster.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name"])
        writer.writerows([f"s{i:04d}", f"Student {i}"] for i in range(n))
    sheets, handins = where / "sheets", where / "handins"
    make_sheets(where / "roster.csv", sheets, SECRET, "network")
    handins.mkdir()
    for i in range(n):
        sid = f"s{i:04d}"
        with open(sheets / "keys" / f"{sid}.csv", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        if i % 3 == 1:
            row = rows[3 + i % 27]
            row[3] = repr(-float(row[3]))
        elif i % 3 == 2:
            rows[3 + i % 27][3] = "" if i % 2 else "twelve"
        with open(handins / f"{sid}.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(r[:4] for r in rows)
    return sheets, handins


def cpu() -> float:
    """CPU seconds used by this process and its finished children (the workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(sheets: Path, handins: Path, out: Path, workers: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of grading the class into a fresh ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    start, used = time.perf_counter(), cpu()
    grades = grade_folder(sheets, handins, out, SECRET, workers=workers, progress=False)
    elapsed, used = time.perf_counter() - start, cpu() - used
    assert sum(1 for g in grades if not g.reason) == len(grades), "every hand-in graded"
    return elapsed, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0))
                        if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        start = time.perf_counter()
        sheets, handins = make_class(where, args.students)
        made = time.perf_counter() - start
        print(f"{args.students:,} students' sheets made in {made:.2f} s "
              f"(5 files each); {args.workers} CPUs; load {os.getloadavg()[0]:.1f}")
        pool, one = [], []
        grade_folder(sheets, handins, where / "warm", SECRET, workers=0, progress=False)
        for _ in range(args.repeat):
            pool.append(timed(sheets, handins, where / "grades", args.workers))
            one.append(timed(sheets, handins, where / "grades", 1))
        start, used = time.perf_counter(), cpu()
        grade_folder(sheets, handins, where / "grades", SECRET, workers=args.workers,
                     progress=False)
        rerun = (time.perf_counter() - start, cpu() - used)
        n = args.students
        print(f"{'':34}{'wall (best)':>12}{'CPU':>8}{'ms/hand-in':>12}  wall of each run")
        for name, runs in ((f"pool of {args.workers} worker processes", pool),
                           ("one worker process", one),
                           ("rerun over a finished folder", [rerun])):
            wall, used = min(runs)
            print(f"{name:34}{wall:11.2f}s{used:7.2f}s{1e3 * wall / n:12.2f}  "
                  + " ".join(f"{w:.2f}" for w, _ in runs))
        print(f"speed-up of the pool over one process: {min(one)[0] / min(pool)[0]:.2f}x "
              f"(wall); CPU per hand-in {1e3 * min(pool)[1] / n:.2f} ms; load "
              f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
