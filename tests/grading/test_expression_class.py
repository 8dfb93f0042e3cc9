"""A class on expression problems (each student's graph differs): a sign slip on a gradient, and
a wrong forward value carried into the values computed from it, each diagnosed as written."""

from __future__ import annotations

import re

import pytest
from classroom import SECRET, handin_csv, problem, read_key, write_roster

from autograd import Value
from autograd.teach.expr import parse
from nn import grade_folder, make_sheets
from nn.grading.batch import read_gradebook

UPSTREAM = "follows from a wrong number upstream"


def close(x: float, y: float) -> bool:
    return abs(x - y) <= 1e-6 + 0.005 * abs(y)


def forward_with(p: dict, name: str, shift: float) -> dict[str, float]:
    """Every node's value with ``name``'s own value shifted, the rest computed from it."""
    env: dict[str, Value] = {k: Value(float(v), label=k) for k, v in p["values"].items()}
    out = {}
    for line in p["expression"]:
        node, rhs = (s.strip() for s in line.split("=", 1))
        v = parse(rhs, env, label=False)
        value = v.data + (shift if node == name else 0.0)
        env[node] = Value(value, label=node)
        out[node] = value
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("expr")
    students = write_roster(tmp / "roster.csv", 30)
    sheets, handins = tmp / "sheets", tmp / "in"
    make_sheets(tmp / "roster.csv", sheets, SECRET, "expression")
    handins.mkdir()
    expected = {}
    for i, (sid, _) in enumerate(students):
        order, key = read_key(sheets, sid)
        p = problem(sheets, sid)
        text = {row: repr(v) for row, v in key.items()}
        statuses: dict = {}
        if i % 3 == 1:
            # A gradient with one path (its "how" has one term): only the sign can be wrong.
            with open(sheets / "keys" / f"{sid}.csv", encoding="utf-8") as f:
                hows = {line.split(",")[0]: line for line in f}
            target = next(r for r, _ in order if r[0] in p["values"] and " + " not in hows[r[0]]
                          and abs(key[r]) > 0)
            text[target] = repr(-key[target])
            statuses[target] = "sign slip"
        elif i % 3 == 2:
            first = p["expression"][0].split("=")[0].strip()
            values = forward_with(p, first, 1.0)
            for node, value in values.items():
                row = (f"{node}.data", None)
                text[row] = repr(value)
                if not close(value, key[row]):
                    statuses[row] = "wrong" if node == first else UPSTREAM
        (handins / f"{sid}.csv").write_text(handin_csv(sid, text, order), encoding="utf-8")
        expected[sid] = (order, statuses)
    grades = grade_folder(sheets, handins, tmp / "g", SECRET, workers=0, progress=False)
    return expected, grades, tmp / "g"


def test_each_answer_is_diagnosed_as_written(graded):
    expected, grades, _ = graded
    for g in grades:
        order, statuses = expected[g.student.id]
        assert [(a.key, a.example) for a in g.answers] == [r for r, _ in order]
        for a in g.answers:
            want = statuses.get((a.key, a.example))
            if want is None:
                assert a.status == "right", (g.student.id, a)
            else:
                assert (a.status, a.diagnosis) == ("wrong", want), (g.student.id, a)
        assert g.score == g.right == len(order) - len(statuses)


def test_the_gradebook_names_the_first_diagnosis(graded):
    expected, grades, out = graded
    book = {r["id"]: r for r in read_gradebook(out / "gradebook.csv")}
    for g in grades:
        _, statuses = expected[g.student.id]
        row = book[g.student.id]
        assert int(row["wrong"]) == len(statuses)
        if statuses:
            key, diagnosis = row["first_diagnosis"].split(": ", 1)
            assert statuses[(key, None)] == diagnosis
            # The wrong forward value comes first (values are checked in forward order).
            if "wrong" in statuses.values():
                assert diagnosis == "wrong"
        else:
            assert row["first_diagnosis"] == ""
    assert sum(1 for r in book.values() if r["first_diagnosis"]) >= 15
    assert re.search(r"sign slip", (out / "summary.txt").read_text(encoding="utf-8"))
