"""A class of 200 graded at once: right sheets, each textbook slip, blanks, missing and hostile
hand-ins. Every gradebook row is what the slip written into the sheet calls for (its numbers
worked out in tests/classroom.py from the key, not by the grader), and every results file has
Gradescope's shape."""

from __future__ import annotations

import json
import os

import pytest
from classroom import (
    SECRET,
    h_prime_left_out,
    half_dropped,
    handin_csv,
    not_summed,
    problem,
    read_key,
    write_roster,
)

from nn import grade_folder, make_sheets
from nn.grading.batch import read_gradebook
from nn.grading.gradescope import check_results
from nn.grading.points import Points, answer_kind

POINTS = Points({"delta": 2.0}, upstream_credit=0.5)
UPSTREAM = "follows from a wrong number upstream"

# Each category: how its sheet is written, and what the gradebook must say.
CATEGORIES = ["right", "blank", "sign", "h_prime", "half", "not_summed", "not_numbers",
              "half_blank", "missing", "huge", "deep_json", "binary", "not_utf8", "symlink",
              "dotdot", "duplicate", "another", "directory", "not_csv", "right_json"]


def fmt(x: float) -> str:
    return repr(x)


def expected_row(category: str, order, statuses: dict) -> dict:
    """The gradebook row for a graded sheet: counts and score from each row's status."""
    score = 0.0
    right = wrong = blank = 0
    first = ""
    for row, _ in order:
        worth = POINTS.worth(row[0])
        status = statuses.get(row, "right")
        if status == "right":
            right += 1
            score += worth
        elif status == "blank":
            blank += 1
        else:
            wrong += 1
            if status == UPSTREAM:
                score += worth * 0.5
    return {"score": score, "right": right, "wrong": wrong, "blank": blank, "first": first}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("class")
    students = write_roster(tmp / "roster.csv", 200)
    sheets, handins, out = tmp / "sheets", tmp / "handins", tmp / "grades"
    make_sheets(tmp / "roster.csv", sheets, SECRET, kind="network")
    handins.mkdir()
    expected: dict[str, dict] = {}
    for i, (sid, _) in enumerate(students):
        category = CATEGORIES[i % len(CATEGORIES)]
        order, key = read_key(sheets, sid)
        p = problem(sheets, sid)
        text = {row: fmt(v) for row, v in key.items()}
        statuses: dict = {}
        first = ""
        reason = ""
        path = handins / f"{sid}.csv"
        if category == "blank":
            text = {}
            statuses = {row: "blank" for row, _ in order}
        elif category == "sign":
            row = ("layers.1.neurons.0.b", None)
            text[row] = fmt(-key[row])
            statuses[row] = "sign slip"
            first = "layers.1.neurons.0.b: sign slip"
        elif category == "h_prime":
            slipped = h_prime_left_out(p, key)
            text = {row: fmt(v) for row, v in slipped.items()}
            for row, _ in order:
                if row[0] in ("layers.0.neurons.0", "layers.0.neurons.1"):
                    statuses[row] = "h'(a) left out"
                elif row[0].startswith("layers.0.neurons.") and row[1] is None:
                    statuses[row] = UPSTREAM
            first = "layers.0.neurons.0 (example 0): h'(a) left out"
        elif category == "half":
            text = {row: fmt(v) for row, v in half_dropped(key).items()}
            for row, _ in order:
                if row[0] == "layers.1.neurons.0":
                    statuses[row] = "the ½ of the sum of squares dropped or doubled"
                elif not row[0].endswith((".a", ".z")):
                    statuses[row] = UPSTREAM
            first = ("layers.1.neurons.0 (example 0): the ½ of the sum of squares dropped or "
                     "doubled")
        elif category == "not_summed":
            text = {row: fmt(v) for row, v in not_summed(p, key).items()}
            for i_ in ("w.0", "w.1", "b"):
                statuses[(f"layers.1.neurons.0.{i_}", None)] = "not summed over the examples"
            first = "layers.1.neurons.0.w.0: not summed over the examples"
        elif category == "not_numbers":
            a, b = order[3][0], order[20][0]
            text[a], text[b] = "=1+1", "<script>alert(1)</script>"
            statuses[a] = statuses[b] = "not a number"
            first = f"{a[0]} (example {a[1]}): not a number"
        elif category == "half_blank":
            for row, _ in order[len(order) // 2:]:
                del text[row]
                statuses[row] = "blank"
        if category in ("right", "blank", "sign", "h_prime", "half", "not_summed",
                        "not_numbers", "half_blank"):
            path.write_text(handin_csv(sid, text, order), encoding="utf-8")
        elif category == "right_json":
            answers: dict = {}
            for (k, n), v in key.items():
                if n is None:
                    answers[k] = v
                else:
                    answers.setdefault(k, [None, None])[n] = v
            (handins / f"{sid}.json").write_text(json.dumps({"student": sid,
                                                             "answers": answers}))
        elif category == "missing":
            reason = "no hand-in"
        elif category == "huge":
            path.write_text("key,example,what,answer\n" + "x,,y,1\n" * 20000)
            reason = "bytes; a hand-in may have at most 65,536"
        elif category == "deep_json":
            (handins / f"{sid}.json").write_text("[" * 5000 + "]" * 5000)
            reason = "JSON nested"
        elif category == "binary":
            path.write_bytes(os.urandom(3000) + b"\0")
            reason = "NUL bytes"
        elif category == "not_utf8":
            path.write_bytes(b"key,example,what,answer\n\xff\xfe\xfa,,,1\n")
            reason = "not UTF-8"
        elif category == "symlink":
            path.symlink_to(sheets / "keys" / f"{sid}.csv")
            reason = "symlink"
        elif category == "dotdot":
            (handins / f"{sid}..csv").write_text(handin_csv(sid, text, order))
            reason = "no hand-in"
        elif category == "duplicate":
            path.write_text(handin_csv(sid, text, order))
            (handins / f"{sid}.json").write_text("{}")
            reason = "2 hand-ins with this id"
        elif category == "another":
            other = students[(i + 1) % len(students)][0]
            o_order, o_key = read_key(sheets, other)
            path.write_text(handin_csv(other, {r: fmt(v) for r, v in o_key.items()}, o_order))
            reason = f"another student (its student.id is '{other}')"
        elif category == "directory":
            path.mkdir()
            reason = "not a regular file"
        elif category == "not_csv":
            path.write_text("my answers are 1, 2, 3\n4, 5\n")
            reason = "no key and answer columns"
        # A slip that leaves a number within the tolerance (h'(a) near 1, where a is near 0)
        # leaves it right: |yours − right| <= 1e-6 + 0.005·|right|.
        for row in list(statuses):
            if row in key and row in text and statuses[row] != "not a number" and \
                    abs(float(text[row]) - key[row]) <= 1e-6 + 0.005 * abs(key[row]):
                del statuses[row]
        want = expected_row(category, order, statuses) if not reason else \
            {"score": 0.0, "right": 0, "wrong": 0, "blank": 0, "first": ""}
        want.update(first=first, reason=reason, category=category,
                    out_of=sum(POINTS.worth(r[0]) for r, _ in order), statuses=statuses)
        expected[sid] = want
    (handins / "nobody.csv").write_text("key,answer\n")
    (handins / "..csv").write_text("key,answer\n")
    grades = grade_folder(sheets, handins, out, SECRET, POINTS, workers=2, progress=False)
    return students, expected, grades, out


def test_every_gradebook_row_is_as_the_sheet_calls_for(graded):
    students, expected, _grades, out = graded
    book = read_gradebook(out / "gradebook.csv")
    by_id = {r["id"]: r for r in book}
    assert [r["id"] for r in book[:200]] == [sid for sid, _ in students]
    for sid, name in students:
        row, want = by_id[sid], expected[sid]
        what = f"{sid} ({want['category']}): {row}"
        assert row["name"] == name, what
        assert float(row["out_of"]) == pytest.approx(want["out_of"]), what
        assert float(row["score"]) == pytest.approx(want["score"]), what
        assert (int(row["right"]), int(row["wrong"]), int(row["blank"])) == \
            (want["right"], want["wrong"], want["blank"]), what
        assert row["first_diagnosis"] == want["first"], what
        if want["reason"]:
            assert want["reason"] in row["reason"], what
        else:
            assert row["reason"] == "", what
    # The two files that name no student are in the gradebook too, with 0 and the reason.
    strays = {r["id"]: r["reason"] for r in book[200:]}
    assert "not an id on the roster" in strays["nobody.csv"]
    assert "'..'" in strays["..csv"]
    assert all("'..'" in strays[f"{sid}..csv"] for sid, _ in students
               if expected[sid]["category"] == "dotdot")


def test_each_answer_carries_its_diagnosis_and_points(graded):
    _, expected, grades, _out = graded
    for g in grades:
        want = expected[g.student.id]
        if want["reason"]:
            assert all(a.status == "not graded" and a.points == 0 for a in g.answers)
            continue
        for a in g.answers:
            status = want["statuses"].get((a.key, a.example), "right")
            if status in ("right", "blank", "not a number"):
                assert a.status == status, (g.student.id, a)
            else:
                assert (a.status, a.diagnosis) == ("wrong", status), (g.student.id, a)
            kind_weight = 2.0 if answer_kind(a.key) == "delta" else 1.0
            assert a.worth == kind_weight


def test_results_have_gradescopes_shape_and_add_up(graded):
    students, expected, _grades, out = graded
    for sid, _ in students:
        data = json.loads((out / "results" / f"{sid}.json").read_text(encoding="utf-8"))
        assert check_results(data) == [], sid
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
        assert data["score"] == pytest.approx(expected[sid]["score"])
        assert sum(t["max_score"] for t in data["tests"]) == \
            pytest.approx(expected[sid]["out_of"])


def test_feedback_escapes_the_hand_in_and_shows_the_diagnoses(graded):
    students, expected, _grades, out = graded
    for sid, _ in students:
        page = (out / "feedback" / f"{sid}.html").read_text(encoding="utf-8")
        text = (out / "feedback" / f"{sid}.txt").read_text(encoding="utf-8")
        assert "<script>" not in page
        category = expected[sid]["category"]
        if category == "not_numbers":
            assert "&lt;script&gt;" in page and "'=1+1' is not a number" in text
        if category == "h_prime":
            assert "h'(a) left out" in text and "h&#x27;(a) left out" in page
        if expected[sid]["reason"]:
            assert expected[sid]["reason"].split("'")[0] in text


def test_the_summary_names_the_steps_the_class_got_wrong(graded):
    _, _, _, out = graded
    text = (out / "summary.txt").read_text(encoding="utf-8")
    assert "200 students" in text
    for diagnosis in ("h'(a) left out", "not summed over the examples", "sign slip", UPSTREAM):
        assert diagnosis in text
    assert (out / "summary.png").read_bytes().startswith(b"\x89PNG")
