"""The one reader of files that come from outside: problems, answers, worksheets, model files
and data CSVs. Every limit is checked before the work it bounds.

- ``read_bytes``: at most ``limit`` bytes. A regular file's size is checked (``fstat``) before
  a byte is read; a pipe, ``/dev/stdin`` or a device such as ``/dev/zero`` is read in chunks of
  at most ``CHUNK_BYTES`` and refused as soon as it passes the limit. A directory, a dangling
  symlink or a socket is refused by name.
- ``read_text``: UTF-8 (a leading byte order mark is dropped); a decode error names its byte
  offset and line.
- ``read_json``: the nesting depth, the number of values and the bracket balance are measured
  by a linear scan (strings skipped) before ``json.loads`` runs, so deep nesting is refused,
  never a ``RecursionError``, a flood of tiny values never fills the memory and a truncated
  file is refused before anything is built; ``NaN`` and ``Infinity`` (not JSON) and integers
  of more than ``MAX_INT_DIGITS`` digits are refused.
- ``read_csv`` (and ``iter_csv``, row by row with line numbers): every field is at most
  ``max_field`` characters and there are at most ``max_rows`` rows; a malformed line
  (``csv.Error``) is refused with its line number.

Bad content raises ``InputError`` (a ``ValueError``); a file that cannot be opened raises the
usual ``OSError`` (``FileNotFoundError``, ``PermissionError``, ...), with a message naming the
file. Each message says what the file is (``what``: "problem file", "answers file", ...), what
was wrong and what would be valid. The limits are module constants; a caller (``edgegrad``'s
``--max-input-bytes``) may raise them for one call.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from typing import Any, NamedTuple

__all__ = ["CHUNK_BYTES", "MAX_CSV_FIELD", "MAX_CSV_ROWS", "MAX_INPUT_BYTES", "MAX_INT_DIGITS",
           "MAX_JSON_DEPTH", "MAX_JSON_VALUES", "InputError", "JsonShape", "iter_csv",
           "json_depth", "json_shape", "parse_float", "parse_json", "read_bytes", "read_csv",
           "read_json", "read_text"]

MAX_INPUT_BYTES = 8 * 2**20
"""The largest file read by default, in bytes (8 MiB): problems, answers and worksheets are a
few kilobytes; model files and data CSVs have their own, larger caps (``nn.module``,
``nn.data``)."""

MAX_JSON_DEPTH = 64
"""The deepest nesting of JSON arrays and objects read by default (a problem nests 4 deep)."""

MAX_JSON_VALUES = 1_000_000
"""The most JSON values read by default (``[{}, {}, ...]`` of 8 MiB would make 2.8 million
objects, about 180 MB)."""

MAX_INT_DIGITS = 100
"""The longest JSON integer read by default, in digits (Python itself refuses 4,301)."""

MAX_CSV_FIELD = 4096
"""The longest CSV field read by default, in characters (a number or a label is far shorter).
At most ``csv.field_size_limit()`` (131,072), which ``read_csv`` never changes: that limit is
shared by the whole process."""

MAX_CSV_ROWS = 1_000_000
"""The most CSV rows read by default."""

CHUNK_BYTES = 1 << 20
"""A pipe or device is read this many bytes at a time (1 MiB)."""


class InputError(ValueError):
    """A file from outside is not valid input: the message names the file, says what was wrong
    and what would be valid."""


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"), (stat.S_ISFIFO, "a pipe"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def _check_limit(limit: int, name: str = "limit") -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"{name} must be a positive int; got {limit!r}")


def _open(path: str | os.PathLike[str], what: str) -> int:
    """A read-only descriptor of ``path``; a missing file, a dangling symlink, a directory or a
    socket is refused with a message naming it."""
    name = os.fspath(path)
    # Each OSError's message is its whole str(): no "[Errno N]" before it.
    try:
        st = os.stat(name)
    except FileNotFoundError:
        if os.path.islink(name):
            raise FileNotFoundError(f"{what} {name} is a symlink to {os.readlink(name)}, "
                                    "which does not exist") from None
        raise FileNotFoundError(f"{what} {name} does not exist") from None
    except OSError as e:
        raise type(e)(f"cannot read {what} {name}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode) or stat.S_ISSOCK(st.st_mode):
        raise InputError(f"{what} {name} is {_kind(st.st_mode)}; expected a file")
    flags = (os.O_RDONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        return os.open(name, flags)
    except OSError as e:
        raise type(e)(f"cannot read {what} {name}: {e.strerror}") from None


def read_bytes(path: str | os.PathLike[str], *, what: str = "input file",
               limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path``, at most ``limit`` of them: a bigger regular file is refused before
    it is read, a longer stream (a pipe, ``/dev/zero``) as soon as it passes the limit."""
    _check_limit(limit)
    name = os.fspath(path)
    fd = _open(path, what)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # swapped for a directory since it was checked
            raise InputError(f"{what} {name} is a directory; expected a file")
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:
            raise InputError(f"{what} {name} is {st.st_size:,} bytes; the most read is "
                             f"{limit:,} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # a regular file may grow while it is read
            try:
                chunk = os.read(fd, min(CHUNK_BYTES, limit + 1 - size))
            except OSError as e:
                raise type(e)(f"cannot read {what} {name}: {e.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        source = "grew" if stat.S_ISREG(st.st_mode) else f"({_kind(st.st_mode)}) goes on"
        raise InputError(f"{what} {name} {source} past {limit:,} bytes, the most read")
    return b"".join(chunks)


def read_text(path: str | os.PathLike[str], *, what: str = "input file",
              limit: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of ``path`` (``read_bytes``; a leading byte order mark dropped)."""
    raw = read_bytes(path, what=what, limit=limit)
    skip = 3 if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        at = skip + e.start
        line = raw.count(b"\n", 0, at) + 1
        raise InputError(f"{what} {os.fspath(path)} is not UTF-8 text: {e.reason} at byte "
                         f"offset {at:,} (line {line}); save it as UTF-8") from None


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b"[]{},")


class JsonShape(NamedTuple):
    """What ``json_shape`` measures of a JSON text without parsing it."""

    depth: int
    """The deepest nesting of arrays and objects (``max_depth + 1`` for anything deeper)."""
    values: int
    """Commas + opening brackets + 1: at least the number of values (keys not counted)."""
    balance: int
    """Opening brackets minus closing ones (0 in valid JSON; > 0 in a truncated file)."""
    matched: bool
    """Every bracket closes one of its kind, in order (not looked for past ``max_depth``)."""


def json_shape(text: str, max_depth: int = MAX_JSON_DEPTH,
               max_values: int | None = None) -> JsonShape:
    """The nesting depth (up to ``max_depth + 1``), a bound on the number of values and the
    bracket balance of the JSON ``text``, brackets and commas inside strings not counted.

    Regular expressions and byte translations of its UTF-8 form (where every byte of a
    non-ASCII character is above 127), each linear and in C: no recursion, no Python step per
    character, nothing built. The depth is the number of passes that remove every innermost
    ``[]`` and ``{}`` until none is left, at most ``max_depth + 1`` passes; none is made when
    there are more than ``max_values`` values (depth 0, matched: a cheap refusal first)."""
    # Escaped backslashes, then escaped quotes, are dropped first (as a left-to-right scan of
    # escapes would: after the first, no backslash is followed by another). A backslash is
    # valid JSON only inside a string, and without them a string is a quote, anything but a
    # quote, a quote. (Invalid JSON may be miscounted after its first stray backslash; it is
    # refused either way.)
    data = text.encode("utf-8", "surrogatepass").replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = _outside_strings(data).translate(None, _NOT_STRUCTURE)
    del data
    commas = structure.count(b",")
    brackets = structure.translate(None, b",")
    opening = brackets.count(b"[") + brackets.count(b"{")
    values, balance = commas + opening + 1, 2 * opening - len(brackets)
    if max_values is not None and values > max_values:
        return JsonShape(0, values, balance, True)
    depth = 0
    while brackets and depth <= max_depth:
        # One pass removes every innermost pair: each kind is replaced by a mark first, so a
        # pair the first replace uncovers ({[]} -> {}) waits for the next pass.
        inner = brackets.replace(b"[]", b"x").replace(b"{}", b"x").translate(None, b"x")
        if len(inner) == len(brackets):  # no pair left to remove: unbalanced or mismatched
            return JsonShape(depth, values, balance, False)
        brackets = inner
        depth += 1
    return JsonShape(depth, values, balance, not brackets or depth > max_depth)


_CHUNK = 1 << 16


def _outside_strings(data: bytes) -> bytes:
    """``data`` (JSON without escapes) with every string, quotes included, removed; an
    unterminated one runs to the end. Done in chunks, so that the pieces of a split stay
    few at a time, however many strings there are."""
    kept: list[bytes] = []
    inside = False
    for start in range(0, len(data), _CHUNK):
        chunk = data[start:start + _CHUNK]
        if inside:  # a string began in an earlier chunk: it ends at the first quote
            end = chunk.find(b'"')
            if end < 0:
                continue
            chunk = chunk[end + 1:]
        # Split at the quotes, the pieces alternate outside and inside; an even number of
        # pieces (an odd number of quotes): the chunk ends inside a string.
        pieces = chunk.split(b'"')
        inside = len(pieces) % 2 == 0
        kept.append(b"".join(pieces[0::2]))
    return b"".join(kept)


def json_depth(text: str, max_depth: int = MAX_JSON_DEPTH) -> int:
    """The deepest nesting of ``[`` and ``{`` in the JSON ``text``, up to ``max_depth + 1``
    (``json_shape``)."""
    return json_shape(text, max_depth).depth


def read_json(path: str | os.PathLike[str], *, what: str = "input file",
              limit: int = MAX_INPUT_BYTES, max_depth: int = MAX_JSON_DEPTH,
              max_values: int = MAX_JSON_VALUES, max_int_digits: int = MAX_INT_DIGITS) -> Any:
    """The JSON document in ``path`` (``read_text``): nested at most ``max_depth`` deep, with
    at most about ``max_values`` values and balanced brackets, all checked before parsing;
    ``NaN``, ``Infinity`` and integers longer than ``max_int_digits`` digits are refused."""
    text = read_text(path, what=what, limit=limit)
    return parse_json(text, f"{what} {os.fspath(path)}", max_depth=max_depth,
                      max_values=max_values, max_int_digits=max_int_digits)


def parse_json(text: str, source: str, *, max_depth: int = MAX_JSON_DEPTH,
               max_values: int = MAX_JSON_VALUES, max_int_digits: int = MAX_INT_DIGITS) -> Any:
    """The JSON document ``text`` (from ``source``, named in errors), bounded as ``read_json``
    bounds it."""
    _check_limit(max_depth, "max_depth")
    _check_limit(max_values, "max_values")
    _check_limit(max_int_digits, "max_int_digits")
    if not text.strip():
        raise InputError(f"{source} is empty; expected a JSON document")
    shape = json_shape(text, max_depth, max_values)
    if shape.values > max_values:  # first: counting is the cheapest measure
        raise InputError(f"{source}: JSON of about {shape.values:,} values; the most read is "
                         f"{max_values:,}")
    if shape.depth > max_depth:
        raise InputError(f"{source}: JSON nested more than {max_depth} deep, the most read")
    if shape.balance > 0:
        raise InputError(f"{source} is not valid JSON: {shape.balance:,} bracket(s) left "
                         "open at the end (is it truncated?)")
    if shape.balance < 0 or not shape.matched:
        raise InputError(f"{source} is not valid JSON: a bracket closes what it did not open")

    def constant(token: str) -> Any:
        raise InputError(f"{source}: {token} is not a number JSON allows (only finite numbers)")

    def integer(digits: str) -> int:
        n = len(digits.lstrip("-"))
        if n > max_int_digits:
            raise InputError(f"{source}: an integer of {n:,} digits; the most read is "
                             f"{max_int_digits}")
        return int(digits)

    try:
        return json.loads(text, parse_constant=constant, parse_int=integer)
    except json.JSONDecodeError as e:
        raise InputError(f"{source} is not valid JSON (line {e.lineno}, column {e.colno}: "
                         f"{e.msg})") from None
    except RecursionError:  # not reached within the depth limit; kept as the last guard
        raise InputError(f"{source}: JSON nested too deeply") from None


_FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)",
                    re.ASCII | re.IGNORECASE)


def parse_float(text: str) -> float:
    """The number ``text`` (spaces around it ignored) written as a plain ASCII decimal, such as
    ``-1.5e3``, or ``inf`` or ``nan``; digits too large for a float (``1e999``) are refused.
    Python's ``float`` also reads fullwidth and other Unicode digits (``１.５``) and
    underscores; those are refused, the first character that is not part of a number named,
    as every other unknown character is."""
    stripped = text.strip()
    if _FLOAT.fullmatch(stripped):
        x = float(stripped)
        if math.isinf(x) and "inf" not in stripped.lower():
            # Digits that overflow: refused, not the inf they would silently become.
            raise ValueError(f"{stripped[:40]!r} is too large for a float (the largest is "
                             "about 1.8e308); write inf for infinity")
        return x
    shown = repr(stripped if len(stripped) <= 40 else stripped[:40] + "...")
    odd = next((c for c in stripped if not c.isascii()), None)
    if odd is not None:
        raise ValueError(f"{shown} is not a number: {_describe(odd)} is not part of one "
                         "(write numbers with the ASCII digits 0-9, '.', 'e', '+', '-')")
    raise ValueError(f"{shown} is not a number (such as 2, -0.5 or 1e-3)")


def _describe(char: str) -> str:
    """A character as a message shows it: ``'１' (U+FF11 FULLWIDTH DIGIT ONE)``."""
    name = unicodedata.name(char, "")
    return f"{char!r} (U+{ord(char):04X}{' ' + name if name else ''})"


def iter_csv(path: str | os.PathLike[str], *, what: str = "input file",
             limit: int = MAX_INPUT_BYTES, max_field: int = MAX_CSV_FIELD
             ) -> Iterator[tuple[int, list[str]]]:
    """``(line, row)`` for each row of the CSV file ``path`` (``read_text``), ``line`` the
    number of the line it starts on; blank lines are skipped. Each field is at most
    ``max_field`` characters; the caller counts the rows and stops where it wants."""
    _check_limit(max_field, "max_field")
    if max_field > csv.field_size_limit():
        raise ValueError(f"max_field is at most csv.field_size_limit() "
                         f"({csv.field_size_limit():,}); got {max_field:,}")
    name = os.fspath(path)
    text = read_text(path, what=what, limit=limit)
    reader = csv.reader(_lines(text))
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not (row and any(c.strip() for c in row)):
                continue
            for field in row:
                if len(field) > max_field:
                    raise InputError(f"{what} {name} line {line}: a field of {len(field):,} "
                                     f"characters; the most read is {max_field:,}")
            yield line, row
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise InputError(f"{what} {name} line {start}: a field longer than "
                             f"{max_field:,} characters, the most read") from None
        raise InputError(f"{what} {name} line {start} is not CSV: {e}") from None


def read_csv(path: str | os.PathLike[str], *, what: str = "input file",
             limit: int = MAX_INPUT_BYTES, max_field: int = MAX_CSV_FIELD,
             max_rows: int = MAX_CSV_ROWS) -> list[list[str]]:
    """The rows of the CSV file ``path`` (``iter_csv``; blank lines skipped): at most
    ``max_rows`` of them, each field at most ``max_field`` characters."""
    _check_limit(max_rows, "max_rows")
    rows: list[list[str]] = []
    for _, row in iter_csv(path, what=what, limit=limit, max_field=max_field):
        if len(rows) >= max_rows:
            raise InputError(f"{what} {os.fspath(path)} has more than {max_rows:,} rows, the "
                             "most read")
        rows.append(row)
    return rows


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text``, each with its line end (\\n, \\r\\n or \\r, as ``open(newline="")``
    splits them), one at a time: no copy of the whole text."""
    return (m.group() for m in _LINE.finditer(text))
