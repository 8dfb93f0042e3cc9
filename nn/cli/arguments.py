"""Argument types shared by the subcommands: each parses one option's text or says what is valid."""

from __future__ import annotations

import argparse
import math

from autograd.files import InputError, parse_float

from ..grading.roster import read_secret


def _integer(text: str) -> int:
    """``int(text)`` for ASCII digits only (``int`` also reads ``５`` and ``٣``)."""
    if not text.strip().isascii():
        raise ValueError(text)
    return int(text)


def integer(text: str) -> int:
    """An integer in ASCII digits, such as -1 or 42 (seeds, columns)."""
    try:
        return _integer(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None


def _at_least_one(text: str, what: str) -> int:
    """``text`` as an integer >= 1, or an error saying it should be ``what``."""
    try:
        n = _integer(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}")
    return n


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, sizes, counts)."""
    return _at_least_one(text, "a positive integer")


def nonnegative(text: str) -> float:
    """A finite number >= 0 (rates, penalties, tolerances). NaN is refused: it compares false
    with everything, so a NaN tolerance would report a mismatch on equal numbers."""
    try:
        x = parse_float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a number; {e}") from None
    if not (math.isfinite(x) and x >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0; got {text!r}")
    return x


def byte_count(text: str) -> int:
    """A number of bytes >= 1, such as 8000000 or 8_000_000 (``--max-input-bytes``)."""
    return _at_least_one(text, "a positive number of bytes")


def add_input_limit(parser: argparse.ArgumentParser, default: str) -> None:
    """Add ``--max-input-bytes N`` to a subcommand that reads files; ``default`` says what
    limits apply without it."""
    parser.add_argument("--max-input-bytes", type=byte_count, default=None, metavar="N",
                        help=f"read at most N bytes of any input file (default: {default}); "
                             "a bigger file, or a pipe that goes on, is refused before it "
                             "fills the memory")


def add_secret_options(parser: argparse.ArgumentParser) -> None:
    """The course secret's options, --secret TEXT and --secret-file FILE (one of them)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--secret", metavar="TEXT",
                       help="the course secret each student's problem is derived from (at "
                            "least 16 characters; keep it, it is never written on a sheet)")
    group.add_argument("--secret-file", metavar="FILE",
                       help="read the course secret from this file instead")


class UsageError(InputError):
    """Options that do not go together, or one missing: exit status 2, as for a bad option."""


def secret_from(args: argparse.Namespace) -> bytes:
    """The course secret of ``--secret`` or ``--secret-file``; a missing or short one is a
    UsageError."""
    if args.secret is None and args.secret_file is None:
        raise UsageError("the course secret is needed (each student's problem is derived from "
                         "it): --secret TEXT or --secret-file FILE")
    try:
        return read_secret(args.secret, args.secret_file)
    except InputError:
        raise
    except ValueError as e:
        raise UsageError(str(e)) from None
