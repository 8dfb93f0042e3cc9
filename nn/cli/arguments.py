"""Argument types shared by the subcommands: each parses one option's text or says what is valid."""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, sizes, counts)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return n


def nonnegative(text: str) -> float:
    """A finite number >= 0 (rates, penalties, tolerances). NaN is refused: it compares false
    with everything, so a NaN tolerance would report a mismatch on equal numbers."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not (math.isfinite(x) and x >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0; got {text!r}")
    return x


def add_secret_options(parser: argparse.ArgumentParser) -> None:
    """The course secret's options, --secret TEXT and --secret-file FILE (one of them)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--secret", metavar="TEXT",
                       help="the course secret each student's problem is derived from (at "
                            "least 16 characters; keep it, it is never written on a sheet)")
    group.add_argument("--secret-file", metavar="FILE",
                       help="read the course secret from this file instead")
