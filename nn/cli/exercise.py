"""``edgegrad exercise``: a fresh small problem, its blank worksheet and its answer key.

    edgegrad exercise --seed 7 --kind expression --out sheet7/
    edgegrad check sheet7/problem.json --answers returned.csv
    edgegrad exercise --roster roster.csv --kind network --secret-file secret.txt --out sheets/

Each seed gives a different problem, so a teacher can hand one to each student; with a roster,
each student's seed is derived from their id and the course secret (``nn.make_sheets``), and
``edgegrad grade`` grades the returned worksheets.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from autograd import atomic_write
from autograd.files import check_writable
from autograd.teach.worksheet import Worksheet

from ..grading.roster import KINDS, make_problem
from ..grading.sheets import make_sheets
from .arguments import UsageError, add_secret_options, integer, secret_from
from .messages import emit, error

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
    p.add_argument("--seed", type=integer, default=None, help="which problem (default 0)")
    p.add_argument("--kind", choices=KINDS, default="expression",
                   help="an expression graph or a network (default expression)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write the problem, worksheet and key into this folder")
    p.add_argument("--roster", type=Path, metavar="FILE.csv",
                   help="a problem per student of this roster (a CSV with an id column and a "
                        "name column when present), derived from their id and the course "
                        "secret: writes DIR/students/ID/ (their problem and blank worksheet, "
                        "their id and name on it) and DIR/keys/ID.md and .csv (for you); "
                        "grade the returned worksheets with edgegrad grade")
    add_secret_options(p)
    p.set_defaults(func=run)


def exercise(kind: str, seed: int) -> tuple[dict[str, Any], Worksheet]:
    """The problem dict (what ``edgegrad check`` reads) and the worksheet for one seed."""
    return make_problem(kind, seed)


def run_roster(args: argparse.Namespace) -> int:
    """``edgegrad exercise --roster``: the sheets of a class."""
    if args.out is None:
        raise UsageError("--roster needs --out DIR, the folder of the class's sheets")
    if args.seed is not None:
        raise UsageError("--roster derives each student's seed from their id and the secret; "
                         "leave out --seed")
    secret = secret_from(args)
    written = make_sheets(args.roster, args.out, secret, args.kind)
    students = sum(1 for p in written if p.name == "worksheet.csv")
    emit(f"wrote the sheets of {students} students into {args.out}: hand each student their "
         f"folder {args.out / 'students' / 'ID'}; keep {args.out / 'keys'} and the secret")
    emit(f"grade the returned worksheets with: edgegrad grade {args.out} HANDINS/ --out "
         "GRADES/ (with the same secret)")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``edgegrad exercise``; 0 on success, 2 when --out cannot take the files (found
    before writing), 1 when a write fails."""
    if args.roster is not None:
        return run_roster(args)
    if args.secret is not None or args.secret_file is not None:
        raise UsageError("the course secret is for --roster (a problem per student)")
    problem, sheet = exercise(args.kind, 0 if args.seed is None else args.seed)
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
