"""A class: its roster, the course secret, and each student's own problem.

A student's problem is a pure function of their id and the course secret: the seed is the
first 8 bytes of HMAC-SHA256(secret, id), so the grader makes the same problem again at
grading time, and a student who knows their own id and problem learns nothing about another
student's (nor about the secret, as long as it is long and random: ``SECRET_MIN_LENGTH``).
The secret is never written onto a sheet; the teacher keeps it, and the sheets folder holds only
``secret_check``, an HMAC of a fixed message, to tell a mistyped secret at grading time.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograd.files import InputError, read_bytes, read_csv
from autograd.teach.worksheet import Worksheet, expression_exercise, worksheet

from .network import network_exercise, network_problem, network_worksheet

__all__ = ["KINDS", "ROSTER_BYTES", "SECRET_MIN_LENGTH", "Student", "make_problem",
           "read_roster", "read_secret", "secret_check", "seed_for"]

KINDS = ("expression", "network")
"""The kinds of problem: an expression graph (``expression_exercise``) or a 2-2-1 network
(``network_exercise``)."""

SECRET_MIN_LENGTH = 16
"""The shortest course secret accepted, in characters. The scheme is public, so a short secret
could be guessed from one student's problem, and with it every student's key."""

ROSTER_BYTES = 4 * 2**20
"""The largest roster read, in bytes (4 MiB: some 50,000 students)."""

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")
"""A student id: a letter or digit, then up to 99 letters, digits and ``_ . @ + -``, without
``..``. Ids name files (``ID.csv``, ``ID.html``), so nothing else is allowed."""


@dataclass(frozen=True)
class Student:
    """One student of the roster: their id (names their files) and name (may be empty)."""

    id: str
    name: str = ""


def check_id(student_id: str, where: str = "student id") -> str:
    """``student_id`` when it is a valid id (``ID_PATTERN``), else a ValueError saying why."""
    if not isinstance(student_id, str) or not ID_PATTERN.fullmatch(student_id) \
            or ".." in student_id:
        raise ValueError(f"{where} {student_id!r} is not a valid id: use 1 to 100 letters, "
                         "digits and _ . @ + - (starting with a letter or digit, no '..')")
    return student_id


def read_roster(path: str | Path) -> list[Student]:
    """The students of a roster CSV: a header row with an ``id`` column (any case) and, when
    present, a ``name`` column; one student per row, blank rows skipped. A missing id column,
    an invalid or repeated id is an ``InputError`` naming the row."""
    rows = read_csv(path, what="roster", limit=ROSTER_BYTES)
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"roster {path} is empty; it needs a header row with an id column")
    header = [cell.strip().lower() for cell in rows[0]]
    if "id" not in header:
        raise InputError(f"roster {path} has no id column (its header is "
                         f"{', '.join(rows[0]) or 'empty'}); the first row must name the "
                         "columns, among them id (and name)")
    i, n = header.index("id"), header.index("name") if "name" in header else -1
    students: list[Student] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        sid = row[i].strip() if i < len(row) else ""
        try:
            check_id(sid, f"roster {path} row {line}: the id")
        except ValueError as e:
            raise InputError(str(e)) from None
        # Ids name files, and some file systems ignore case: ids equal but for case clash.
        if sid.lower() in seen:
            raise InputError(f"roster {path} row {line}: the id {sid!r} is already on row "
                             f"{seen[sid.lower()]} (ids must differ, ignoring case)")
        seen[sid.lower()] = line
        name = row[n].strip() if 0 <= n < len(row) else ""
        students.append(Student(sid, name))
    if not students:
        raise InputError(f"roster {path} has a header but no students")
    return students


def read_secret(secret: str | None = None, path: str | Path | None = None) -> bytes:
    """The course secret as bytes: ``secret`` itself, or the contents of the file ``path``
    (without its trailing newline). It must be at least ``SECRET_MIN_LENGTH`` characters."""
    if (secret is None) == (path is None):
        raise ValueError("give the course secret either as text (--secret) or as a file "
                         "(--secret-file), not both")
    if path is not None:
        raw = read_bytes(path, what="secret file", limit=4096).rstrip(b"\r\n")
    else:
        assert secret is not None
        raw = secret.encode("utf-8")
    if len(raw) < SECRET_MIN_LENGTH:
        raise ValueError(f"the course secret is {len(raw)} characters; use at least "
                         f"{SECRET_MIN_LENGTH}, random (for example the output of: python -c "
                         "\"import secrets; print(secrets.token_hex(16))\")")
    return raw


def seed_for(secret: bytes, student_id: str) -> int:
    """The seed of a student's problem: the first 8 bytes of HMAC-SHA256(secret, id), as an
    unsigned big-endian integer."""
    digest = hmac.new(secret, student_id.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def secret_check(secret: bytes) -> str:
    """HMAC-SHA256(secret, "edgegrad secret check") in hex: written next to the roster, it
    tells at grading time that the secret is the one the sheets were made with."""
    return hmac.new(secret, b"edgegrad secret check", hashlib.sha256).hexdigest()


def make_problem(kind: str, seed: int) -> tuple[dict[str, Any], Worksheet]:
    """The problem dict (what ``edgegrad check`` reads) and its worksheet for one seed."""
    if kind == "expression":
        problem, root = expression_exercise(seed)
        return problem, worksheet(root)
    if kind == "network":
        problem = network_exercise(seed)
        net, xs, ys, loss = network_problem(problem)
        return problem, network_worksheet(net, xs, ys, loss)
    raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")


def roster_csv(students: Sequence[Student]) -> str:
    """The roster as CSV text, columns id and name (what ``read_roster`` reads back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name"])
    writer.writerows([s.id, s.name] for s in students)
    return out.getvalue()
