"""``edgegrad draw``: draw the graph of an expression, its gradients and its backward pass.

    edgegrad draw "c*(a+2*b)" a=3 b=1 c=-2 -o graph.svg
    edgegrad draw "tanh(w*x + b)" w=-3 x=2 b=6.88 --steps -o backward.html
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from autograd import Value, toposort
from autograd.expr import FUNCTIONS, ExpressionError, parse
from autograd.steps import format_trace
from autograd.viz import GraphvizNotFound, save, to_dot

DRAWING_FORMATS = (".svg", ".png", ".pdf", ".dot", ".gv")
ANIMATION_FORMATS = (".html", ".htm", ".gif")


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
    p.set_defaults(func=run)


def _assignments(items: list[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"expected NAME=VALUE, such as a=3; got {item!r}")
        if not name.isidentifier():
            raise ValueError(f"{name!r} in {item!r} is not a valid variable name")
        if name in values:
            raise ValueError(f"{name} is given twice")
        try:
            values[name] = float(text)
        except ValueError:
            raise ValueError(f"the value of {name} must be a number; got {text!r}") from None
    return values


def run(args: argparse.Namespace) -> int:
    """Run ``edgegrad draw``; 0 on success, 2 for a bad expression or argument, 1 when the
    drawing could not be written."""
    err = sys.stderr
    try:
        values = _assignments(args.assignments)
        leaves = {name: Value(x, label=name) for name, x in values.items()}
        root = parse(args.expression, leaves)
        format(1.0, args.fmt)
    except (ExpressionError, ValueError, TypeError) as e:  # a bad expression, value or --fmt
        print(f"edgegrad draw: error: {e}", file=err)
        return 2
    in_graph = set(toposort(root))
    unused = [name for name, v in leaves.items() if v not in in_graph]
    if unused:
        print(f"edgegrad draw: note: not in the expression: {', '.join(unused)}", file=err)
    if not args.no_grad:
        root.backward()
    options: dict[str, Any] = {"rankdir": args.rankdir, "fmt": args.fmt,
                               "show_grad": not args.no_grad,
                               "show_contrib": args.contrib and not args.no_grad}
    if args.dot:
        sys.stdout.write(to_dot(root, **options))
        return 0
    fmt = args.fmt
    print(f"{args.expression.strip()} = {format(root.data, fmt)}")
    if not args.no_grad:
        for name, v in leaves.items():
            if v in in_graph:
                print(f"  d/d{name} = {format(v.grad, fmt)}")
    if args.steps:
        print()
        print(format_trace(root, fmt=fmt), end="")
    if args.out is not None:
        return _write(root, args.out, options, args.no_grad)
    if not args.steps:
        print("(-o graph.svg draws it; --steps shows backward step by step)", file=err)
    return 0


def _write(root: Any, out: Path, options: dict[str, Any], no_grad: bool) -> int:
    err = sys.stderr
    ext = out.suffix.lower()
    if ext not in DRAWING_FORMATS + ANIMATION_FORMATS:
        print(f"edgegrad draw: error: cannot tell the format of {str(out)!r}; use one of "
              f"{', '.join(DRAWING_FORMATS + ANIMATION_FORMATS)}", file=err)
        return 2
    if ext in ANIMATION_FORMATS and no_grad:
        print("edgegrad draw: error: an animation of the backward pass needs gradients; "
              "drop --no-grad", file=err)
        return 2
    if out.parent and not out.parent.exists():
        print(f"edgegrad draw: error: the folder {str(out.parent)!r} does not exist", file=err)
        return 2
    try:
        if ext in ANIMATION_FORMATS:
            # Only an animation needs the player, a page of JavaScript and its frames.
            from autograd.player import Player

            Player(root, rankdir=options["rankdir"], fmt=options["fmt"]).save(out)
        else:
            save(root, out, **options)
    except GraphvizNotFound as e:
        fallback = out.with_suffix(".dot")
        fallback.write_text(to_dot(root, **options), encoding="utf-8")
        print(f"edgegrad draw: error: {e}\nWrote the DOT text to {fallback} instead.", file=err)
        return 1
    except (ImportError, ValueError, OSError) as e:
        print(f"edgegrad draw: error: {e}", file=err)
        return 1
    print(f"wrote {out}")
    return 0
