"""Reading a hand-in: a filled-in worksheet (CSV) or an answers object (JSON), as untrusted text.

A hand-in is written by someone who may want a better grade, so it is only ever read, within
limits, and its answers only parsed as numbers (``parse_answer``), never evaluated:

- it must be a regular file, not a symlink, at most ``HANDIN_BYTES`` (64 KiB; a worksheet is a
  few kilobytes), UTF-8 text without NUL bytes; JSON at most ``HANDIN_DEPTH`` deep;
- its answers are matched to the rows of the student's own worksheet, made again by the grader:
  a row the worksheet does not have is ignored (and said so), a row answered twice keeps its
  first answer; a problem the hand-in may carry is never read;
- the ``student.id`` row (or a JSON ``"student"``) names whose sheet it is: another student's
  id refuses the hand-in.

A refused hand-in raises ``InputError`` with the reason, which the grade book shows.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograd.files import InputError, parse_float, parse_json, read_bytes

from .sheets import ID_ROW, NAME_ROW

__all__ = ["ANSWER_LENGTH", "HANDIN_BYTES", "HANDIN_DEPTH", "HandIn", "RowKey",
           "parse_answer", "read_handin"]

HANDIN_BYTES = 64 * 1024
"""The largest hand-in read, in bytes: a bigger one is refused before it is read."""

HANDIN_DEPTH = 8
"""The deepest nesting of a JSON hand-in (answers nest 3 deep)."""

ANSWER_LENGTH = 64
"""The longest answer text parsed as a number, in characters."""

RowKey = tuple[str, "int | None"]
"""A worksheet row: its key and, for a per-example number, the example."""

_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")


def parse_answer(text: str) -> float:
    """An answer's text as a number: an ASCII decimal such as ``-0.25`` or ``1e-3``
    (``autograd.files.parse_float``), also with − for minus or a decimal comma (``0,25``);
    anything else (an expression, inf, nan, words) is a ValueError saying so. The text is
    matched against a pattern, never evaluated."""
    t = text.strip().replace("\u2212", "-")
    shown = repr(t if len(t) <= 40 else t[:40] + "...")
    if len(t) > ANSWER_LENGTH:
        raise ValueError(f"{shown} is not a number ({len(t)} characters)")
    if _COMMA.fullmatch(t):
        t = t.replace(",", ".")
    x = parse_float(t)
    if not math.isfinite(x):
        raise ValueError(f"{shown} is not a finite number")
    return x


@dataclass(frozen=True)
class HandIn:
    """What a hand-in says: the answer text of each worksheet row it fills in, the student id
    written on it (None when absent), and notes on the rows it ignored."""

    answers: dict[RowKey, str]
    claimed_id: str | None = None
    notes: tuple[str, ...] = ()


def _show(text: str, most: int = 40) -> str:
    return repr(text if len(text) <= most else text[:most] + "...")


def read_handin(path: str | Path, rows: Collection[RowKey], limit: int = HANDIN_BYTES
                ) -> HandIn:
    """The hand-in at ``path`` (``.csv`` or ``.json``) matched to the worksheet ``rows``; a
    refused file raises ``InputError`` naming the reason."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except OSError as e:
        raise InputError(f"cannot read it: {e.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError("it is a symlink; hand in the file itself")
    if not stat.S_ISREG(st.st_mode):
        raise InputError("it is not a regular file")
    if st.st_size > limit:
        raise InputError(f"it is {st.st_size:,} bytes; a hand-in may have at most {limit:,}")
    try:
        raw = read_bytes(p, what="hand-in", limit=limit)
    except InputError as e:
        raise InputError(str(e).replace(f"hand-in {p} ", "it ")) from None
    except OSError as e:
        raise InputError(f"cannot read it: {e.strerror}") from None
    if b"\0" in raw:
        raise InputError("it holds NUL bytes: a binary file, not a worksheet")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"it is not UTF-8 text (byte {e.start:,}): save the worksheet as CSV "
                         "in UTF-8") from None
    wanted = set(rows)
    if p.suffix.lower() == ".json":
        return _from_json(text, wanted)
    return _from_csv(text, wanted)


def _from_csv(text: str, rows: set[RowKey]) -> HandIn:
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise InputError(f"it is not CSV: {e}") from None
    table = [r for r in table if any(c.strip() for c in r)]
    if not table:
        raise InputError("it is empty")
    header = [c.strip().lower() for c in table[0]]
    if "key" not in header or "answer" not in header:
        raise InputError("it has no key and answer columns: hand in the worksheet's CSV, "
                         "filled in")
    k, a = header.index("key"), header.index("answer")
    x = header.index("example") if "example" in header else -1
    w = header.index("what") if "what" in header else -1
    answers: dict[RowKey, str] = {}
    claimed: str | None = None
    notes: list[str] = []

    def cell(row: list[str], i: int) -> str:
        return row[i].strip() if 0 <= i < len(row) else ""

    for line, row in enumerate(table[1:], start=2):
        key, answer, example = cell(row, k), cell(row, a), cell(row, x)
        if key == ID_ROW:
            claimed = claimed or cell(row, w)
            continue
        if key == NAME_ROW:
            continue
        n: int | None = None
        if example:
            n = int(example) if example.isdigit() and len(example) < 6 else -1
        if (key, n) not in rows:
            if answer:
                notes.append(f"row {line}: {_show(key)}"
                             + (f" example {_show(example)}" if example else "")
                             + " is not on your worksheet; ignored")
            continue
        if not answer:
            continue
        if (key, n) in answers:
            notes.append(f"row {line}: {key} is answered twice; the first answer is graded")
            continue
        answers[(key, n)] = answer
    return HandIn(answers, claimed, tuple(notes))


def _from_json(text: str, rows: set[RowKey]) -> HandIn:
    data = parse_json(text, "it", max_depth=HANDIN_DEPTH)
    if not isinstance(data, dict):
        raise InputError("a JSON hand-in must be an object of answers, {\"answers\": {...}}")
    claimed = data.get("student")
    if isinstance(claimed, dict):
        claimed = claimed.get("id")
    answers_in = data.get("answers", data)
    if not isinstance(answers_in, dict):
        raise InputError("\"answers\" must be an object mapping keys to numbers")
    per_example = {key for key, n in rows if n is not None}
    answers: dict[RowKey, str] = {}
    notes: list[str] = []
    for key, value in answers_in.items():
        if key in ("student", "answers") and answers_in is data:
            continue
        if key in per_example:
            values = value if isinstance(value, list) else [value]
            for n, v in enumerate(values):
                if (key, n) in rows and v is not None and v != "":
                    answers[(key, n)] = _text(v)
        elif (key, None) in rows:
            if value is not None and value != "":
                answers[(key, None)] = _text(value)
        elif not (answers_in is data and key in ("network", "expression", "values", "inputs",
                                                  "targets", "loss", "kind")):
            notes.append(f"{_show(str(key))} is not on your worksheet; ignored")
    return HandIn(answers, claimed if isinstance(claimed, str) else None, tuple(notes))


def _text(value: Any) -> str:
    """A JSON answer as the text ``parse_answer`` reads: a number in full, a string as is."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return "true" if value is True else "false" if value is False else \
            type(value).__name__
    return value if isinstance(value, str) else repr(value)
