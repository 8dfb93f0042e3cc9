"""``edgegrad draw``: draw the graph of an expression, its gradients and its backward pass.

    edgegrad draw "c*(a+2*b)" a=3 b=1 c=-2 -o graph.svg
    edgegrad draw "tanh(w*x + b)" w=-3 x=2 b=6.88 --steps -o backward.html
"""

from __future__ import annotations

import argparse
import math
import sys
import unicodedata
from pathlib import Path
from typing import Any

from autograd import Value, atomic_write, toposort
from autograd.drawing.graph import (
    DOT_TIMEOUT,
    DrawOptions,
    GraphvizNotFound,
    RenderError,
    save,
    to_dot,
)
from autograd.drawing.steps import format_trace
from autograd.files import parse_float
from autograd.teach.expr import FUNCTIONS, ExpressionError, parse

from .messages import emit, error, write

DRAWING_FORMATS = (".svg", ".png", ".pdf", ".dot", ".gv")
TEXT_FORMATS = (".dot", ".gv")
ANIMATION_FORMATS = (".html", ".htm", ".gif")

MAX_VALUES = 300
"""The most values (boxes) of a graph ``edgegrad draw`` renders; DOT text has no limit."""

MAX_EDGES = 600
"""The most edges (parent -> op) of a graph ``edgegrad draw`` renders."""


def add_parser(subparsers: Any) -> None:
    """Add the ``draw`` subcommand to the ``edgegrad`` command."""
    p = subparsers.add_parser(
        "draw", help="draw an expression's computation graph and its gradients",
        description="Build the graph of an arithmetic expression, run backward, and print the "
        "value and the gradient with respect to every variable. -o writes the drawing "
        "(.svg, .png, .pdf, or .dot text, which needs no Graphviz) or the step-by-step "
        "animation of the backward pass (.html player that works offline, or .gif). "
        "The expression may use numbers, variables, + - * / **, unary minus and the "
        f"functions {', '.join(FUNCTIONS)}. "
        "Quote it for the shell; an expression starting with '-' goes after '--'.",
        epilog='example: edgegrad draw "c*(a+2*b)" a=3 b=1 c=-2 -o graph.svg --steps')
    p.add_argument("expression", help='the expression, e.g. "c*(a+2*b)"')
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="a value for each variable, e.g. a=3 b=1 c=-2")
    p.add_argument("-o", "--out", type=Path, metavar="PATH",
                   help="write the drawing (.svg .png .pdf .dot) or the backward animation "
                   "(.html .gif) here")
    p.add_argument("--steps", action="store_true",
                   help="print the backward pass one chain-rule step per line")
    p.add_argument("--dot", action="store_true", help="print only the DOT text to stdout")
    p.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                   help="left to right or top to bottom (default LR)")
    p.add_argument("--fmt", default=".4g", help="number format (default .4g)")
    p.add_argument("--contrib", action="store_true",
                   help="also write each edge's contribution local × upstream")
    p.add_argument("--no-grad", action="store_true",
                   help="forward only: do not run backward, draw no gradients")
    p.add_argument("--timeout", type=_seconds, default=DOT_TIMEOUT, metavar="SECONDS",
                   help=f"stop Graphviz's dot after this long (default {DOT_TIMEOUT:g}); "
                   f"graphs of more than {MAX_VALUES} values or {MAX_EDGES} edges are not "
                   "rendered, only written as .dot text")
    p.set_defaults(func=run)


def _assignments(items: list[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        given, sep, text = item.partition("=")
        given = given.strip()
        # Python reads identifiers in NFKC form (the fullwidth ａ is a), and so the parser
        # does: the names given here are read the same way. Numbers are ASCII only, as in
        # the expression, where Python refuses the fullwidth １ and ＋ (parse_float).
        name = unicodedata.normalize("NFKC", given)
        if not sep or not name:
            raise ValueError(f"expected NAME=VALUE, such as a=3; got {item!r}")
        if not name.isidentifier():
            raise ValueError(f"{given!r} in {item!r} is not a valid variable name")
        if name in values:
            same = f" ({given!r} is read as {name})" if given != name else ""
            raise ValueError(f"{name} is given twice{same}")
        try:
            values[name] = parse_float(text)
        except ValueError as e:
            raise ValueError(f"the value of {name} must be a number; {e}") from None
    return values


def _seconds(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds; got {text!r}") from None
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds; got {text!r}")
    return x


def run(args: argparse.Namespace) -> int:
    """Run ``edgegrad draw``; 0 on success, 2 for a bad expression or argument (or a graph too
    big to render), 1 when the drawing could not be written."""
    try:
        values = _assignments(args.assignments)
        leaves = {name: Value(x, label=name) for name, x in values.items()}
        root = parse(args.expression, leaves)
        options: dict[str, Any] = {"rankdir": args.rankdir, "fmt": args.fmt,
                                   "show_grad": not args.no_grad,
                                   "show_contrib": args.contrib and not args.no_grad}
        DrawOptions(**options)  # checks --fmt: a format spec, and numbers of a sane width
    except (ExpressionError, ValueError, TypeError) as e:  # a bad expression, value or --fmt
        error("draw", str(e))
        return 2
    except ArithmeticError as e:  # an overflow the engine reports as such (1e-320**0's slope)
        error("draw", f"the expression overflows a float: {e}")
        return 2
    order = toposort(root)
    in_graph = set(order)
    unused = [name for name, v in leaves.items() if v not in in_graph]
    if unused:
        emit(f"edgegrad draw: note: not in the expression: {', '.join(unused)}", sys.stderr)
    if not args.no_grad:
        root.backward()
    if args.dot:
        write(to_dot(root, **options))
        return 0
    fmt = args.fmt
    emit(f"{args.expression.strip()} = {format(root.data, fmt)}")
    if not args.no_grad:
        for name, v in leaves.items():
            if v in in_graph:
                emit(f"  d/d{name} = {format(v.grad, fmt)}")
    if args.steps:
        emit("")
        emit(format_trace(root, fmt=fmt).rstrip("\n"), limit=None)
    if args.out is not None:
        edges = sum(len(v.parents) for v in order)
        return _write(root, args.out, options, args.no_grad, (len(order), edges), args.timeout)
    if not args.steps:
        emit("(-o graph.svg draws it; --steps shows backward step by step)", sys.stderr)
    return 0


def _write(root: Any, out: Path, options: dict[str, Any], no_grad: bool,
           size: tuple[int, int], timeout: float) -> int:
    ext = out.suffix.lower()
    if ext not in DRAWING_FORMATS + ANIMATION_FORMATS:
        error("draw", f"cannot tell the format of {str(out)!r}; use one of "
                      f"{', '.join(DRAWING_FORMATS + ANIMATION_FORMATS)}")
        return 2
    if ext in ANIMATION_FORMATS and no_grad:
        error("draw", "an animation of the backward pass needs gradients; drop --no-grad")
        return 2
    if out.parent and not out.parent.exists():
        error("draw", f"the folder {str(out.parent)!r} does not exist")
        return 2
    n, m = size
    if ext not in TEXT_FORMATS and (n > MAX_VALUES or m > MAX_EDGES):
        error("draw", f"the graph has {n} values and {m} edges; edgegrad draw renders at most "
                      f"{MAX_VALUES} values and {MAX_EDGES} edges. Write its DOT text instead "
                      f"(-o {out.with_suffix('.dot')}, or --dot) and render that with "
                      "`dot -Tsvg`, or draw it from Python with groups= and max_nodes= to "
                      "collapse parts of it")
        return 2
    try:
        if ext in ANIMATION_FORMATS:
            # Only an animation needs the player, a page of JavaScript and its frames.
            from autograd.drawing.player import Player

            Player(root, rankdir=options["rankdir"], fmt=options["fmt"],
                   timeout=timeout).save(out)
        else:
            save(root, out, timeout=timeout, **options)
    except GraphvizNotFound as e:
        fallback = out.with_suffix(".dot")
        if fallback.exists():
            error("draw", f"{e}\n{fallback} exists, so the DOT text was not written there: "
                          f"-o {fallback} replaces it, --dot prints it")
            return 1
        atomic_write(fallback, to_dot(root, **options))
        error("draw", f"{e}\nWrote the DOT text to {fallback} instead.")
        return 1
    except (ImportError, ValueError, OSError, RenderError) as e:
        error("draw", str(e))
        return 1
    emit(f"wrote {out}")
    return 0
