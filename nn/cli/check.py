"""``edgegrad check``: check numbers worked out by hand, for an expression or a network.

    edgegrad check answers.json
    edgegrad check problem.json --answers filled-in-worksheet.csv

Exit status: 0 when every number is right, 1 when one is wrong, 2 on bad input (a file
missing, malformed or too big, an example the problem does not have, nothing to check).

Both files are read by ``autograd.files`` (problem and answers at most ``MAX_INPUT_BYTES``
each unless --max-input-bytes says otherwise, JSON nested at most ``MAX_JSON_DEPTH`` deep).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from autograd.files import MAX_INPUT_BYTES, InputError, read_json
from autograd.teach.expr import ExpressionError
from autograd.teach.handcheck import ATOL, RTOL, AnswerError, check_by_hand
from autograd.teach.worksheet import from_problem, read_answers_csv

from ..grading.network import grade, network_problem
from .arguments import add_input_limit, nonnegative
from .messages import emit, error

FORMAT = """the JSON file holds the problem and (or --answers gives) the answers:

  an expression, its equations (or one expression) and the inputs' values:
    {"expression": ["d = 2*b", "e = a + d", "L = c*e"],
     "values": {"a": 3, "b": 1, "c": -2},
     "answers": {"e.data": 5, "L.data": -10, "dL/de": -2, "e": -2, "a": -2, "b": -4}}
  keys: "e.data" a forward value, "de/da" (or "∂e/∂a") the local derivative of e with
  respect to its operand a, "a" (or "a.grad", or "dL/da" with L the output) the gradient.

  a network, as layers of weights (w[j][i]: input i into neuron j), examples and a loss:
    {"network": [{"w": [[0.15, 0.2], [0.25, 0.3]], "b": [0.35, 0.35], "activation": "sigmoid"},
                 {"w": [[0.4, 0.45]], "b": [0.6], "activation": "sigmoid"}],
     "inputs": [[0.05, 0.1]], "targets": [0.01], "loss": "sse",
     "answers": {"layers.1.neurons.0": [0.1385], "layers.1.neurons.0.w.0": 0.0822}}
  keys: "layers.L.neurons.J" the delta (a list, one per example), with ".a" or ".z" a
  forward value (per example), ".w.I" or ".b" a gradient summed over the examples.

--answers takes a worksheet CSV filled in (columns key, example, answer; blank answers are
skipped) or a JSON object of answers. `edgegrad exercise` writes problems and worksheets.
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``check`` subcommand to the ``edgegrad`` command (``func=run``)."""
    p = subparsers.add_parser(
        "check", help="check numbers worked out by hand (expression or network)",
        description="Check a learner's hand-worked numbers: forward values, local derivatives "
                    "and gradients of an expression, or the deltas and gradients of a "
                    "network. Each number is marked right or wrong within a tolerance, and "
                    "each wrong one is diagnosed (a wrong number upstream, a wrong local "
                    "derivative, a path left out, a sign slip, and the textbook slips of the "
                    "delta rule). Exit status: 0 all right, 1 something wrong, 2 bad input.",
        epilog=FORMAT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("problem", type=Path, metavar="FILE.json",
                   help="the problem, with its answers unless --answers gives them")
    p.add_argument("--answers", type=Path, metavar="FILE",
                   help="the answers: a filled-in worksheet .csv or a .json object")
    p.add_argument("--rtol", type=nonnegative, default=RTOL,
                   help=f"relative tolerance (default {RTOL:g})")
    p.add_argument("--atol", type=nonnegative, default=ATOL,
                   help=f"absolute tolerance (default {ATOL:g})")
    add_input_limit(p, f"{MAX_INPUT_BYTES:,}")
    p.set_defaults(func=run)


def _answers(problem: dict[str, Any], path: Path | None, limit: int) -> dict[str, Any]:
    if path is None:
        answers = problem.get("answers")
        if answers is None:
            raise AnswerError("no answers: put them under \"answers\" in the JSON file or give "
                              "--answers FILE")
    elif path.suffix.lower() == ".csv":
        answers = read_answers_csv(path, examples=_examples(problem), limit=limit)
    else:
        answers = read_json(path, what="answers file", limit=limit)
        if isinstance(answers, dict) and "answers" in answers:
            answers = answers["answers"]
    if not isinstance(answers, dict):
        raise AnswerError("the answers must be a JSON object mapping keys to numbers")
    if not answers:
        raise AnswerError("there are no answers to check")
    if all(_blank(v) for v in answers.values()):
        raise AnswerError(f"nothing to check: all {len(answers)} answers are blank (null); "
                          "fill in at least one number")
    return answers


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(v is None for v in value))


def _examples(problem: dict[str, Any]) -> int | None:
    """The problem's number of examples: what a worksheet's ``example`` index must be below."""
    if "network" in problem:
        inputs = problem.get("inputs")
        return len(inputs) if isinstance(inputs, list) and inputs else None
    return 1 if "expression" in problem else None


def check(problem: dict[str, Any], answers: dict[str, Any], rtol: float = RTOL,
          atol: float = ATOL) -> Any:
    """The report for a problem dict and its answers: ``check_by_hand`` for an expression,
    ``nn.grading.network.grade`` for a network."""
    if "network" in problem:
        net, xs, ys, loss = network_problem(problem)
        return grade(net, xs, ys, answers, loss=loss, rtol=rtol, atol=atol)
    if "expression" in problem:
        return check_by_hand(from_problem(problem), answers, rtol=rtol, atol=atol)
    raise AnswerError("the problem needs \"expression\" (and \"values\") or \"network\" (and "
                      "\"inputs\", \"targets\"); see edgegrad check --help")


def run(args: argparse.Namespace) -> int:
    """Run ``edgegrad check``: print the report; 0 all right, 1 something wrong, 2 bad input."""
    limit = args.max_input_bytes or MAX_INPUT_BYTES
    try:
        problem = read_json(args.problem, what="problem file", limit=limit)
        if not isinstance(problem, dict):
            raise AnswerError(f"{args.problem} must hold a JSON object (see --help)")
        report = check(problem, _answers(problem, args.answers, limit), args.rtol, args.atol)
    except (InputError, AnswerError, ExpressionError, ValueError, TypeError, OSError) as e:
        error("check", str(e))
        return 2
    emit(str(report).rstrip("\n"), limit=None)
    if not report.ok:
        emit(f"edgegrad check: {len(report.wrong)} wrong", sys.stderr)
    return 0 if report.ok else 1
