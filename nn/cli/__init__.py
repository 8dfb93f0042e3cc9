"""The ``edgegrad`` command (also ``python -m nn``): one parser, one ``main``.

Each subcommand is a module of this package, ``train``, ``deltas``, ``draw``, ``check``,
``exercise`` and ``grade``: its ``add_parser(subparsers)`` declares the options and sets
``func=run``; its ``run(args)`` returns the exit status. Every message goes through
``messages.clean``: bounded, and safe for a terminal whatever the input echoed in it.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from autograd.drawing.graph import RenderError

from . import check, deltas, draw, exercise, grade, train
from .messages import clean, emit, error

SUBCOMMANDS = (train, deltas, draw, check, exercise, grade)
"""The subcommand modules, in the order ``edgegrad --help`` lists them."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (and a pointer to --help), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, clean(f"{self.prog}: error: {message} (see {self.prog} --help)") + "\n")


def build_parser() -> Parser:
    """The ``edgegrad`` argument parser with every subcommand."""
    parser = Parser(prog="edgegrad",
                    description="edgegrad: see, teach and check backpropagation.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in SUBCOMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``edgegrad`` with ``argv`` (default: the command line); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a bad argument (already reported in one line)
        return e.code if isinstance(e.code, int) else 2
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        status: int = args.func(args)
    except KeyboardInterrupt:
        emit(f"{parser.prog}: interrupted", sys.stderr)
        return 130
    except MemoryError:
        error(args.command, "out of memory; try a smaller model, data set or graph")
        return 1
    except (ValueError, OSError, ImportError, ArithmeticError, RenderError) as e:
        error(args.command, str(e))
        return 1
    return status
