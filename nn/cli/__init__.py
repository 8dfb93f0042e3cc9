"""The ``edgegrad`` command (also ``python -m nn``): one parser, one ``main``.

Each subcommand is a module of this package, ``train``, ``deltas``, ``draw``, ``check``,
``exercise`` and ``grade``: its ``add_parser(subparsers)`` declares the options and sets
``func=run``; its ``run(args)`` returns the exit status. Every message goes through
``messages.clean``: bounded, and safe for a terminal whatever the input echoed in it; so do
Python's warnings (a label echoed by matplotlib) while ``main`` runs.

Exit status, the same for every subcommand (``EXIT_STATUS``):

- 0: all right (the answers are right, the gradients agree, the files are written);
- 1: the answer or the check is wrong (``check``, ``deltas``), or the work failed after its
  input was accepted: training diverged, Graphviz failed, an output could not be written (a
  full disk, no permission); the message says which;
- 2: bad input or usage: a bad option, an unreadable, malformed or too big file (also when it
  makes Python run out of memory or overflow), nothing to check; found before any work;
- 128 + N: stopped by signal N (130 for Ctrl-C); ``train`` still writes its last finished step,
  ``draw`` stops Graphviz's ``dot`` with it.

Every refusal is one line on stderr, ``edgegrad COMMAND: error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO

from autograd import InputError
from autograd.drawing.graph import RenderError

from . import check, deltas, draw, exercise, grade, train
from .messages import OutputError, clean, emit, error

SUBCOMMANDS = (train, deltas, draw, check, exercise, grade)
"""The subcommand modules, in the order ``edgegrad --help`` lists them."""


EXIT_STATUS = """exit status (every subcommand):
  0  all right
  1  the answer or check is wrong (check, deltas), or the work failed once its input was
     accepted (training diverged, Graphviz failed, an output could not be written)
  2  bad input or usage: a bad option; a file missing, unreadable, malformed or too big;
     nothing to check
  128+N  stopped by signal N (130: Ctrl-C)"""
"""The exit statuses, as ``edgegrad --help`` prints them (the module docstring explains)."""


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP stopped the command: raised in the main thread, so that every
    ``finally`` runs and a child process (Graphviz's ``dot``) is stopped with it."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (and a pointer to --help), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, clean(f"{self.prog}: error: {message} (see {self.prog} --help)") + "\n")


def build_parser() -> Parser:
    """The ``edgegrad`` argument parser with every subcommand."""
    parser = Parser(prog="edgegrad",
                    description="edgegrad: see, teach and check backpropagation.",
                    epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in SUBCOMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``edgegrad`` with ``argv`` (default: the command line); return the exit status
    (``EXIT_STATUS``)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a bad argument (already reported in one line)
        return e.code if isinstance(e.code, int) else 2
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    with _stopped_by_signals(), _clean_warnings():
        return _run(parser.prog, args)


def _run(prog: str, args: argparse.Namespace) -> int:
    try:
        status: int = args.func(args)
    except Stopped as e:
        emit(f"{prog}: stopped by {signal.Signals(e.number).name}", sys.stderr)
        return 128 + e.number
    except KeyboardInterrupt:
        emit(f"{prog}: interrupted", sys.stderr)
        return 130
    except (MemoryError, RecursionError):
        # What runs out of memory or stack here is the input (a model, data set or graph).
        error(args.command, "out of memory; try a smaller model, data set or graph")
        return 2
    except (InputError, OverflowError) as e:
        error(args.command, str(e))
        return 2
    except OutputError as e:
        error(args.command, str(e))
        return 1
    except (ValueError, OSError, ImportError, ArithmeticError, RenderError) as e:
        error(args.command, str(e))
        return 1
    return status


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """While the command runs, SIGTERM and SIGHUP raise ``Stopped`` (in the main thread only;
    ``train`` installs its own handlers while it trains). The previous handlers come back."""
    previous: dict[int, Any] = {}

    def stop(number: int, frame: object) -> None:
        raise Stopped(number)

    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def _clean_warnings() -> Iterator[None]:
    """Python's warnings (matplotlib's about a glyph in a label, numpy's, ...) printed through
    ``messages.clean``, so no control character of the input reaches the terminal."""
    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        emit(f"{category.__name__}: {message}", sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield
