"""Gradescope: a student's grade in its autograder results format, and the autograder itself.

``results(grade)`` is the ``results.json`` Gradescope reads from an autograder: the total
``score``, an ``output`` line, and one test per worksheet answer (its ``name``, ``score``,
``max_score``, the diagnosis as ``output``, ``status`` passed or failed). ``check_results``
checks that shape from Gradescope's documented fields.

``autograder_zip(sheets, secret, out, wheel)`` writes the zip Gradescope takes for an
autograder: ``setup.sh`` installs the edgegrad wheel bundled in it into a virtual environment;
``run_autograder`` grades the one worksheet in ``/autograder/submission`` as the student whose
student id (``sid``, or ``email``) ``/autograder/submission_metadata.json`` names, and writes
``/autograder/results/results.json``. The zip holds the roster, the kind of problem and the
course secret (Gradescope keeps an autograder's files from the students; the hand-ins are only
read, never run). ``EDGEGRAD_AUTOGRADER_ROOT`` moves ``/autograder`` (for a test);
``EDGEGRAD_AUTOGRADER_PYTHON`` names the Python that runs it.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

from autograd import atomic_write
from autograd.files import InputError, read_bytes, read_json

from .grading import Job, StudentGrade, grade_student, refused_grade
from .handin import HANDIN_BYTES
from .points import Points
from .roster import read_roster, roster_csv, seed_for
from .sheets import read_class

__all__ = ["ROOT_VARIABLE", "VISIBILITY", "autograde", "autograder_zip", "check_results",
           "results"]

VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
"""The values of Gradescope's ``visibility`` and ``stdout_visibility``."""

ROOT_VARIABLE = "EDGEGRAD_AUTOGRADER_ROOT"
"""The environment variable that moves the autograder's root folder from ``/autograder``."""

ID_FIELDS = ("sid", "email")
"""The fields of Gradescope's submission metadata that may hold the roster's id."""


def results(g: StudentGrade) -> dict[str, Any]:
    """A student's grade as Gradescope's ``results.json``: one test per worksheet answer."""
    tests = []
    for a in g.answers:
        if a.status == "right":
            output = "right"
        elif a.status == "blank":
            output = "blank"
        elif a.status == "not graded":
            output = f"not graded: {a.message}"
        else:
            output = f"{a.diagnosis}: {a.message}" if a.message else a.diagnosis
        tests.append({"name": f"{a.where}: {a.what}", "score": round(a.points, 6),
                      "max_score": round(a.worth, 6), "output": output,
                      "status": "passed" if a.status == "right" else "failed",
                      "visibility": "visible"})
    return {"score": round(g.score, 6), "output": g.summary(), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def _number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x)


def check_results(data: Any) -> list[str]:
    """What is wrong with ``data`` as Gradescope's ``results.json`` (empty: nothing): a number
    ``score`` (or a score on every test), ``tests`` a list of objects each with a number
    ``score`` and ``max_score``, a string ``name`` and ``output``; ``visibility`` and
    ``stdout_visibility``, when present, one of ``VISIBILITY``; ``status`` passed or failed."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return [f"the results must be a JSON object; got {type(data).__name__}"]
    tests = data.get("tests")
    if "score" in data:
        if not _number(data["score"]):
            problems.append(f"score must be a finite number; got {data['score']!r}")
    elif not isinstance(tests, list) or not tests or \
            not all(isinstance(t, dict) and "score" in t for t in tests):
        problems.append("score is missing, and not every test has one")
    for name in ("visibility", "stdout_visibility"):
        if name in data and data[name] not in VISIBILITY:
            problems.append(f"{name} must be one of {', '.join(VISIBILITY)}; got {data[name]!r}")
    if "output" in data and not isinstance(data["output"], str):
        problems.append("output must be a string")
    if tests is None:
        return problems
    if not isinstance(tests, list):
        return [*problems, "tests must be a list"]
    for i, t in enumerate(tests):
        if not isinstance(t, dict):
            problems.append(f"tests[{i}] must be an object")
            continue
        for field in ("score", "max_score"):
            if not _number(t.get(field)):
                problems.append(f"tests[{i}].{field} must be a finite number; got "
                                f"{t.get(field)!r}")
        for field in ("name", "output"):
            if not isinstance(t.get(field), str):
                problems.append(f"tests[{i}].{field} must be a string")
        if "visibility" in t and t["visibility"] not in VISIBILITY:
            problems.append(f"tests[{i}].visibility must be one of {', '.join(VISIBILITY)}")
        if "status" in t and t["status"] not in ("passed", "failed"):
            problems.append(f"tests[{i}].status must be passed or failed")
    return problems


# ---------------------------------------------------------------------------------------------
# The autograder.

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder is built.
set -euo pipefail
ROOT="${EDGEGRAD_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "$0")" && pwd)"
if ! python3 -m venv --help >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
python3 -m venv "$ROOT/edgegrad-venv"
"$ROOT/edgegrad-venv/bin/python" -m pip install --quiet --no-index --no-deps \\
  "$SOURCE"/edgegrad-*.whl
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission: grade it into results/results.json.
set -euo pipefail
ROOT="${EDGEGRAD_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${EDGEGRAD_AUTOGRADER_PYTHON:-$ROOT/edgegrad-venv/bin/python}"
exec "$PYTHON" -m nn.grading.gradescope "$ROOT" "$ROOT/source/class"
"""


def autograder_zip(sheets: str | Path, secret: bytes, out: str | Path, wheel: str | Path,
                   points: Points | None = None, id_field: str = "sid") -> Path:
    """Write Gradescope's autograder zip for the class in ``sheets`` to ``out``: setup.sh,
    run_autograder, the edgegrad ``wheel``, and class/ (the roster, the kind, the secret, the
    points, the metadata field that holds the roster's id)."""
    if id_field not in ID_FIELDS:
        raise ValueError(f"id_field must be one of {', '.join(ID_FIELDS)}; got {id_field!r}")
    klass = read_class(sheets, secret)
    whl = Path(wheel)
    if not (whl.name.startswith("edgegrad-") and whl.suffix == ".whl"):
        raise ValueError(f"{whl} is not an edgegrad wheel (edgegrad-VERSION-...whl); build one "
                         "with: python -m build --wheel")
    data = read_bytes(whl, what="wheel", limit=64 * 2**20)
    info = {"kind": klass.kind, "id_field": id_field,
            "points": (points or Points()).to_json()}
    files: list[tuple[str, bytes, int]] = [
        ("setup.sh", SETUP.encode(), 0o755), ("run_autograder", RUN.encode(), 0o755),
        (whl.name, data, 0o644),
        ("class/class.json", (json.dumps(info, indent=2) + "\n").encode(), 0o644),
        ("class/roster.csv", roster_csv(klass.students).encode(), 0o644),
        ("class/secret", secret, 0o600)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, payload, mode in files:
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = (0o100000 | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, payload)
    return atomic_write(out, buffer.getvalue())


def _submission(folder: Path) -> Path | None:
    """The one worksheet in the submission folder: its only .csv or .json file (worksheet.csv
    when there are several); None when there is none."""
    try:
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".json"))
    except OSError:
        return None
    if len(found) > 1:
        named = [p for p in found if p.name.lower() == "worksheet.csv"]
        if not named:
            names = ", ".join(p.name for p in found)
            raise InputError(f"{len(found)} files were uploaded ({names}); upload one: the "
                             "worksheet's CSV, filled in")
        return named[0]
    return found[0] if found else None


def autograde(root: str | Path, klass: str | Path) -> dict[str, Any]:
    """Grade the submission under ``root`` (Gradescope's /autograder) with the class files in
    ``klass``; write and return ``root/results/results.json``."""
    base, where = Path(root), Path(klass)
    info = read_json(where / "class.json", what="class file", limit=64 * 1024)
    students = {s.id.lower(): s for s in read_roster(where / "roster.csv")}
    secret = read_bytes(where / "secret", what="secret file", limit=4096)
    weights = dict(info.get("points") or {})
    points = Points(weights, weights.pop("upstream_credit", 0.0))
    meta = read_json(base / "submission_metadata.json", what="submission metadata",
                     limit=4 * 2**20)
    users = meta.get("users") if isinstance(meta, dict) else None
    field = str(info.get("id_field", "sid"))
    sid = str(users[0].get(field) or "") if isinstance(users, list) and users and \
        isinstance(users[0], dict) else ""
    student = students.get(sid.lower())
    if student is None:
        out: dict[str, Any] = {
            "score": 0.0, "visibility": "visible", "stdout_visibility": "hidden", "tests": [],
            "output": f"your {field} {sid[:60]!r} is not on the roster of this assignment; "
                      "ask your teacher"}
    else:
        refused = ""
        path: Path | None = None
        try:
            path = _submission(base / "submission")
        except InputError as e:
            refused = str(e)
        if path is None and not refused:
            refused = "no worksheet was uploaded (the worksheet's CSV, filled in)"
        job = Job(student, str(info["kind"]), seed_for(secret, student.id),
                  None if path is None else str(path), refused, points, HANDIN_BYTES)
        try:
            grade = grade_student(job)[0]
        except Exception as e:
            grade = refused_grade(job, f"could not be graded: {e}")[0]
        out = results(grade)
    (base / "results").mkdir(parents=True, exist_ok=True)
    atomic_write(base / "results" / "results.json", json.dumps(out, indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m nn.grading.gradescope ROOT CLASS``: what ``run_autograder`` runs."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else os.environ.get(ROOT_VARIABLE, "/autograder"))
    klass = Path(args[1]) if len(args) > 1 else root / "source" / "class"
    result = autograde(root, klass)
    print(result.get("output", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

