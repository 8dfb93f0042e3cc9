"""A class for the grading tests: a roster, its sheets, and hand-ins written as students would,
right or with the textbook slips, their numbers worked out here from the answer key and the
problem (the delta rule written again), not by the grader."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

SECRET = b"a course secret for the tests, long enough"


def write_roster(path: Path, n: int, prefix: str = "s") -> list[tuple[str, str]]:
    """A roster of ``n`` students (ids s000, s001, ...; names with a comma and an accent)."""
    students = [(f"{prefix}{i:03d}", f"Student {i}, Zoë") for i in range(n)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "id"])  # any column order
        for sid, name in students:
            writer.writerow([name, sid])
    return students


Row = tuple[str, "int | None"]


def read_key(sheets: Path, sid: str) -> tuple[list[tuple[Row, str]], dict[Row, float]]:
    """The rows of a student's answer key (``what``, in sheet order) and its numbers."""
    with open(sheets / "keys" / f"{sid}.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if not r["key"].startswith("student.")]
    order = [((r["key"], int(r["example"]) if r["example"] else None), r["what"]) for r in rows]
    return order, {(r["key"], int(r["example"]) if r["example"] else None): float(r["answer"])
                   for r in rows}


def problem(sheets: Path, sid: str) -> dict:
    return json.loads((sheets / "students" / sid / "problem.json").read_text(encoding="utf-8"))


def handin_csv(sid: str, answers: dict[Row, str], order: list[tuple[Row, str]],
               claimed: str | None = None) -> str:
    """A filled-in worksheet CSV as a student hands it back: their id row, then every row
    (blank where ``answers`` has none)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", "example", "what", "answer"])
    writer.writerow(["student.id", "", claimed or sid, ""])
    for (key, n), what in order:
        writer.writerow([key, "" if n is None else n, what, answers.get((key, n), "")])
    return out.getvalue()


def h_prime_left_out(p: dict, key: dict[Row, float]) -> dict[Row, float]:
    """The hidden deltas with h'(a) left out (δ_j = Σ_k w_kj δ_k), and layer 0's gradients
    summed from them, for a 2-2-1 network on its examples; other numbers as in the key."""
    w1 = p["network"][1]["w"]
    out = dict(key)
    for n, _x in enumerate(p["inputs"]):
        for j in range(2):
            out[(f"layers.0.neurons.{j}", n)] = sum(
                w1[k][j] * key[("layers.1.neurons.0", n)] for k in range(1))
    for j in range(2):
        for i in range(2):
            out[(f"layers.0.neurons.{j}.w.{i}", None)] = sum(
                out[(f"layers.0.neurons.{j}", n)] * x[i] for n, x in enumerate(p["inputs"]))
        out[(f"layers.0.neurons.{j}.b", None)] = sum(
            out[(f"layers.0.neurons.{j}", n)] for n in range(len(p["inputs"])))
    return out


def half_dropped(key: dict[Row, float]) -> dict[Row, float]:
    """E = Σ (y − t)² without the ½: every delta and gradient doubled (forward values kept)."""
    return {(k, n): v * 2 if not k.endswith((".a", ".z")) else v for (k, n), v in key.items()}


def not_summed(p: dict, key: dict[Row, float]) -> dict[Row, float]:
    """The output layer's gradients from example 0 alone (δ z_i, δ)."""
    out = dict(key)
    d = key[("layers.1.neurons.0", 0)]
    for i in range(2):
        out[(f"layers.1.neurons.0.w.{i}", None)] = d * key[(f"layers.0.neurons.{i}.z", 0)]
    out[("layers.1.neurons.0.b", None)] = d
    return out
