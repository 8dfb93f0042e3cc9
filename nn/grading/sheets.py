"""A problem per student: ``make_sheets(roster, out, secret, kind)`` writes the class's sheets.

The folder it writes::

    out/class.json                    the kind of problem and the secret's check (no secret)
    out/roster.csv                    the roster (id, name), as the grader reads it
    out/students/ID/problem.json      the student's problem (what edgegrad check reads)
    out/students/ID/worksheet.md      their blank worksheet, their id and name on it
    out/students/ID/worksheet.csv     the same as CSV: the file they fill in and hand back
    out/keys/ID.md, out/keys/ID.csv   their answer key, for the teacher only

Hand each student their ``students/ID`` folder; keep ``keys`` and the secret. The worksheet CSV
starts with two rows, ``student.id`` and ``student.name``, whose ``what`` column holds the
student's id and name: the grader reads them to tell a sheet handed in under another's id.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograd import atomic_write
from autograd.files import InputError, read_json
from autograd.teach.worksheet import Worksheet

from .roster import (
    KINDS,
    Student,
    check_id,
    make_problem,
    read_roster,
    roster_csv,
    secret_check,
    seed_for,
)

__all__ = ["CLASS_FILE", "Class", "make_sheets", "read_class", "student_csv",
           "student_markdown"]

CLASS_FILE = "class.json"
"""The file in a sheets folder naming the kind of problem and the secret's check."""

ID_ROW, NAME_ROW = "student.id", "student.name"
"""The keys of a student's worksheet CSV rows that carry their id and name."""


@dataclass(frozen=True)
class Class:
    """A sheets folder read back: the kind of problem and the students, in roster order."""

    kind: str
    students: tuple[Student, ...]


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>|#])")


def student_markdown(sheet: Worksheet, student: Student, key: bool = False) -> str:
    """``sheet.markdown(key)`` with the student's name and id under its title."""
    text = sheet.markdown(key=key)
    title, _, rest = text.partition("\n")
    who = _MARKDOWN.sub(r"\\\1", student.name) if student.name else ""
    line = f"**Student:** {who} (id `{student.id}`)" if who else f"**Student id:** `{student.id}`"
    return f"{title}\n\n{line}\n{rest}"


def student_csv(sheet: Worksheet, student: Student, key: bool = False) -> str:
    """``sheet.csv(key)`` with the rows ``student.id`` and ``student.name`` first (their id and
    name in the ``what`` column, the answer left blank, so ``edgegrad check`` skips them)."""
    text = sheet.csv(key=key)
    header, _, rows = text.partition("\n")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    width = len(header.split(","))
    for row_key, value in ((ID_ROW, student.id), (NAME_ROW, student.name)):
        writer.writerow([row_key, "", value, *([""] * (width - 3))])
    return f"{header}\n{out.getvalue()}{rows}"


def _students(roster: str | Path | Sequence[Student]) -> list[Student]:
    if isinstance(roster, (str, Path)):
        return read_roster(roster)
    students = list(roster)
    seen: set[str] = set()
    for s in students:
        check_id(s.id)
        if s.id.lower() in seen:
            raise ValueError(f"the id {s.id!r} is on the roster twice (ids must differ, "
                             "ignoring case)")
        seen.add(s.id.lower())
    if not students:
        raise ValueError("the roster has no students")
    return students


def make_sheets(roster: str | Path | Sequence[Student], out: str | Path, secret: bytes,
                kind: str = "expression") -> list[Path]:
    """Write each student's problem, blank worksheet (Markdown and CSV, their id and name on
    it) and answer key into ``out`` (the layout in the module doc); return the paths written.
    The problem of a student is ``make_problem(kind, seed_for(secret, id))``."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    students = _students(roster)
    where = Path(out)
    (where / "keys").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for s in students:
        problem, sheet = make_problem(kind, seed_for(secret, s.id))
        folder = where / "students" / s.id
        folder.mkdir(parents=True, exist_ok=True)
        files: dict[Path, str] = {
            folder / "problem.json": json.dumps(problem, indent=2) + "\n",
            folder / "worksheet.md": student_markdown(sheet, s),
            folder / "worksheet.csv": student_csv(sheet, s),
            where / "keys" / f"{s.id}.md": student_markdown(sheet, s, key=True),
            where / "keys" / f"{s.id}.csv": student_csv(sheet, s, key=True)}
        # Each file whole but not yet synced (a sync costs milliseconds); one sync below.
        written += [atomic_write(path, text, durable=False) for path, text in files.items()]
    if hasattr(os, "sync"):
        os.sync()
    # Written last: a folder with class.json is whole.
    written.append(atomic_write(where / "roster.csv", roster_csv(students)))
    info = {"format": "edgegrad sheets", "version": 1, "kind": kind,
            "students": len(students), "secret_check": secret_check(secret)}
    written.append(atomic_write(where / CLASS_FILE, json.dumps(info, indent=2) + "\n"))
    return written


def read_class(sheets: str | Path, secret: bytes) -> Class:
    """The kind and the students of a sheets folder written by ``make_sheets``; refused when
    ``secret`` is not the one the sheets were made with."""
    where = Path(sheets)
    path = where / CLASS_FILE
    if not path.exists():
        raise InputError(f"{where} has no {CLASS_FILE}: it is not a sheets folder written by "
                         "edgegrad exercise --roster (or nn.make_sheets)")
    info: Any = read_json(path, what="class file", limit=64 * 1024)
    if not isinstance(info, dict) or info.get("kind") not in KINDS:
        raise InputError(f"{path} is not a class file: it needs \"kind\" (one of "
                         f"{', '.join(KINDS)}) and \"secret_check\"")
    if info.get("secret_check") != secret_check(secret):
        raise InputError(f"the secret is not the one the sheets in {where} were made with; "
                         "give the same --secret (or --secret-file) as edgegrad exercise")
    return Class(str(info["kind"]), tuple(read_roster(where / "roster.csv")))
