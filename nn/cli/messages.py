"""What the ``edgegrad`` command prints about its input: bounded in length, safe for a terminal,
and never a reason to crash.

Messages echo what the user gave (an expression, a file name, a value from a model file). A
terminal runs the escape sequences it is sent, so every message goes through ``clean``; and
once the terminal is gone (SIGHUP) or the pipe is closed, ``emit`` stops printing instead of
raising, so the work in progress still finishes and its files are still written. Any other
failure to write the output (a full disk) is an ``OutputError``: the command exits non-zero.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from typing import TextIO

MESSAGE_LIMIT = 2000
"""The longest message printed, in characters; the rest is counted, not shown."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_INVISIBLE = re.compile(r"[\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "\u2421" if code == 0x7F else chr(0x2400 + code)


def clean(text: str, limit: int | None = MESSAGE_LIMIT) -> str:
    """``text`` safe to print: at most about ``limit`` characters (None: no limit, for reports
    the command writes itself), each control character (but
    tab and newline) shown as its Unicode picture (ESC as ␛) and each C1 control, direction
    override or lone surrogate as U+FFFD. One character stays one character, so a pointer
    under an expression stays in place."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + f" ... ({len(text) - limit} more characters)"
    return _INVISIBLE.sub("\ufffd", _CONTROL.sub(_picture, text))


class OutputError(OSError):
    """The command's own output could not be written (a full disk, a file it may not write):
    the work is not delivered, so the command exits non-zero."""


# A terminal that is gone: the reader left (a closed pipe) or the terminal hung up.
_GONE = (errno.EPIPE, errno.EIO, errno.ENXIO)


def emit(text: str, stream: TextIO | None = None, limit: int | None = MESSAGE_LIMIT) -> None:
    """Print ``clean(text, limit)`` to ``stream`` (stdout by default); see ``write``."""
    write(clean(text, limit) + "\n", stream)


def write(text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` as it is to ``stream`` (stdout by default) and flush it.

    A closed or vanished terminal (a broken pipe, EIO after SIGHUP) silently drops it, and so
    does any failure on stderr (there is nowhere left to say so); any other failure on stdout
    (a full disk, ``> /dev/full``) raises ``OutputError``: the output is the work asked for.
    Either way the stream is pointed at /dev/null, so the interpreter's last flush at exit
    cannot fail again."""
    out = stream or sys.stdout
    try:
        out.write(text)
        out.flush()
    except OSError as e:
        _silence(out)
        if out is sys.stderr or e.errno in _GONE:
            return
        name = getattr(out, "name", "the output")
        failed = OutputError(f"cannot write the output to {name}: {e.strerror or e}")
        failed.errno = e.errno  # set after: the message stays the whole str()
        raise failed from None


def _silence(stream: TextIO) -> None:
    """Point ``stream``'s descriptor at /dev/null (what was buffered is dropped with it)."""
    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def error(command: str, text: str) -> None:
    """Print ``edgegrad COMMAND: error: TEXT`` to stderr."""
    emit(f"edgegrad {command}: error: {text}", sys.stderr)
