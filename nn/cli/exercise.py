"""``edgegrad exercise``: a fresh small problem, its blank worksheet and its answer key.

    edgegrad exercise --seed 7 --kind expression --out sheet7/
    edgegrad check sheet7/problem.json --answers returned.csv

Each seed gives a different problem, so a teacher can hand one to each student.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from autograd import atomic_write
from autograd.files import check_writable
from autograd.teach.worksheet import Worksheet, expression_exercise, worksheet

from ..grading.network import network_exercise, network_problem, network_worksheet
from .arguments import integer
from .messages import emit, error

KINDS = ("expression", "network")

OUTPUTS = ("problem.json", "worksheet.md", "worksheet.csv", "key.md", "key.csv")
"""The files ``edgegrad exercise --out`` writes."""


def add_parser(subparsers: Any) -> None:
    """Add the ``exercise`` subcommand to the ``edgegrad`` command (``func=run``)."""
    p = subparsers.add_parser(
        "exercise", help="make a small problem with its worksheet and answer key",
        description="Make a fresh small problem (a different one for each seed): an expression "
                    "of three inputs, or a 2-2-1 network on two examples. With --out, write "
                    "problem.json, worksheet.md and worksheet.csv (the blanks to fill in), and "
                    "key.md and key.csv (the answers); without it, print the problem and the "
                    "blank worksheet. Grade a returned worksheet with: edgegrad check "
                    "problem.json --answers worksheet.csv",
        epilog="example: edgegrad exercise --seed 7 --kind network --out sheet7/")
    p.add_argument("--seed", type=integer, default=0, help="which problem (default 0)")
    p.add_argument("--kind", choices=KINDS, default="expression",
                   help="an expression graph or a network (default expression)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write the problem, worksheet and key into this folder")
    p.set_defaults(func=run)


def exercise(kind: str, seed: int) -> tuple[dict[str, Any], Worksheet]:
    """The problem dict (what ``edgegrad check`` reads) and the worksheet for one seed."""
    if kind == "expression":
        problem, root = expression_exercise(seed)
        return problem, worksheet(root)
    if kind == "network":
        problem = network_exercise(seed)
        net, xs, ys, loss = network_problem(problem)
        return problem, network_worksheet(net, xs, ys, loss)
    raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")


def run(args: argparse.Namespace) -> int:
    """Run ``edgegrad exercise``; 0 on success, 2 when --out cannot take the files (found
    before writing), 1 when a write fails."""
    problem, sheet = exercise(args.kind, args.seed)
    text = json.dumps(problem, indent=2) + "\n"
    if args.out is None:
        emit(text.rstrip("\n"), limit=None)
        emit("")
        emit(sheet.markdown().rstrip("\n"), limit=None)
        return 0
    try:  # where it writes is checked before anything is written
        if args.out.exists() and not args.out.is_dir():
            raise NotADirectoryError(f"--out {args.out} exists and is not a folder")
        args.out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:
            check_writable(args.out / name)
    except OSError as e:
        error("exercise", str(e))
        return 2
    written = [atomic_write(args.out / "problem.json", text), *sheet.save(args.out)]
    for path in written:
        emit(f"wrote {path}")
    emit(f"grade a returned worksheet with: edgegrad check {args.out / 'problem.json'} "
         f"--answers FILLED.csv")
    return 0
