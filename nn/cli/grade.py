"""``edgegrad grade``: a class's returned worksheets graded at once, or its Gradescope autograder.

    edgegrad grade sheets/ handins/ --out grades/ --secret-file secret.txt
    edgegrad grade sheets/ --autograder-zip autograder.zip --secret-file secret.txt

``sheets/`` is what ``edgegrad exercise --roster`` wrote; ``handins/`` holds one file per
student, ID.csv (the worksheet filled in). See ``nn.grading.batch`` for what is written.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..grading.batch import MEMORY_LIMIT, TIME_LIMIT, grade_folder
from ..grading.gradescope import ID_FIELDS, autograder_zip
from ..grading.handin import HANDIN_BYTES
from ..grading.points import ANSWER_KINDS, read_points
from .arguments import (
    UsageError,
    add_secret_options,
    byte_count,
    nonnegative,
    positive_int,
    secret_from,
)
from .messages import emit

EPILOG = f"""examples:
  edgegrad grade sheets/ handins/ --out grades/ --secret-file secret.txt
  edgegrad grade sheets/ handins/ --out grades/ --secret-file secret.txt --points points.json
  edgegrad grade sheets/ --autograder-zip autograder.zip --secret-file secret.txt

writes grades/gradebook.csv (last), grades/feedback/ID.txt and ID.html, grades/results/ID.json
(Gradescope's format), grades/summary.txt and summary.png. A rerun after an interruption
completes the folder.

--points takes a JSON object weighing the kinds of answer ({", ".join(ANSWER_KINDS)}; 1 each by
default) and "upstream_credit", the share of the points (0 to 1, default 0) for an answer wrong
only because of a wrong number upstream, e.g.
  {{"gradient": 2, "delta": 2, "weight_gradient": 2, "upstream_credit": 0.5}}
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``grade`` subcommand to the ``edgegrad`` command (``func=run``)."""
    p = subparsers.add_parser(
        "grade", help="grade a class's returned worksheets, or write its Gradescope autograder",
        description="Grade every returned worksheet of a class at once, each against the "
                    "student's own problem made again from the roster and the course secret, "
                    "in parallel worker processes; each hand-in is read under a size cap and "
                    "graded under a time and memory limit, and a bad one gets 0 with its "
                    "reason. Or, with --autograder-zip, write the zip Gradescope takes as the "
                    "assignment's autograder.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sheets", type=Path, metavar="SHEETS",
                   help="the folder edgegrad exercise --roster wrote")
    p.add_argument("handins", type=Path, metavar="HANDINS", nargs="?",
                   help="the folder of returned worksheets, one per student: ID.csv")
    p.add_argument("--out", type=Path, metavar="DIR", help="write the grades into this folder")
    add_secret_options(p)
    p.add_argument("--points", type=Path, metavar="FILE.json",
                   help="points per kind of answer and the upstream credit (see below)")
    p.add_argument("--workers", type=worker_count, default=None, metavar="N",
                   help="worker processes (default: one per CPU; 0 grades in this process, "
                        "without the time and memory limits)")
    p.add_argument("--time-limit", type=seconds, default=TIME_LIMIT, metavar="SECONDS",
                   help=f"the longest one hand-in may take (default {TIME_LIMIT:g})")
    p.add_argument("--memory-limit", type=positive_int, default=MEMORY_LIMIT // 2**20,
                   metavar="MB", help="the most memory a worker may add while grading one "
                                      f"hand-in (default {MEMORY_LIMIT // 2**20})")
    p.add_argument("--max-handin-bytes", type=byte_count, default=HANDIN_BYTES,
                   metavar="N", help=f"the largest hand-in read (default {HANDIN_BYTES:,}); "
                                     "a bigger one gets 0")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--autograder-zip", type=Path, metavar="FILE.zip",
                   help="write Gradescope's autograder for this class instead of grading")
    p.add_argument("--wheel", type=Path, metavar="FILE.whl",
                   help="the edgegrad wheel to bundle in the autograder (default: built from "
                        "this source tree with pip wheel)")
    p.add_argument("--id-field", choices=ID_FIELDS, default="sid",
                   help="the field of Gradescope's submission metadata that holds the roster's "
                        "id (default sid, the student id)")
    p.set_defaults(func=run)


def seconds(text: str) -> float:
    """A finite number of seconds > 0 (``--time-limit``)."""
    x = nonnegative(text)
    if x == 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0; got {text!r}")
    return x


def worker_count(text: str) -> int:
    """A number of worker processes: 0 (grade in this process) or more."""
    return 0 if text.strip() == "0" else positive_int(text)


def _wheel(given: Path | None, folder: Path) -> Path:
    """The wheel to bundle: ``given``, or one built from the source tree this runs from."""
    if given is not None:
        return given
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").exists():
        raise ValueError("give --wheel FILE.whl, an edgegrad wheel (pip download edgegrad "
                         "--no-deps), to bundle in the autograder")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                           "--wheel-dir", str(folder), str(root)], capture_output=True,
                          text=True, timeout=600)
    built = sorted(folder.glob("edgegrad-*.whl"))
    if done.returncode != 0 or not built:
        raise ValueError(f"could not build the edgegrad wheel from {root} (give --wheel "
                         f"FILE.whl): {done.stderr.strip()[-500:]}")
    return built[0]


def run(args: argparse.Namespace) -> int:
    """Run ``edgegrad grade``; 0 when every hand-in was graded or given its 0 with a reason."""
    secret = secret_from(args)
    points = read_points(args.points) if args.points is not None else None
    if args.autograder_zip is not None:
        with tempfile.TemporaryDirectory() as tmp:
            wheel = _wheel(args.wheel, Path(tmp))
            path = autograder_zip(args.sheets, secret, args.autograder_zip, wheel, points,
                                  args.id_field)
        emit(f"wrote {path}: upload it as the assignment's autograder on Gradescope (it holds "
             "the course secret: keep it private)")
        return 0
    if args.handins is None or args.out is None:
        raise UsageError("give the folder of hand-ins and --out DIR (or --autograder-zip)")
    grades = grade_folder(args.sheets, args.handins, args.out, secret, points,
                          workers=args.workers, progress=not args.no_progress,
                          time_limit=args.time_limit, memory_limit=args.memory_limit * 2**20,
                          handin_bytes=args.max_handin_bytes)
    graded = sum(1 for g in grades if not g.reason)
    mean = sum(g.score for g in grades) / len(grades)
    emit(f"graded {graded} hand-ins of {len(grades)} students (mean score {mean:.2f}); wrote "
         f"{args.out / 'gradebook.csv'}, feedback/, results/ and summary.txt")
    return 0
