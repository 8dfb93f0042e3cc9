"""check_by_hand: a learner's numbers marked right or wrong, each wrong one diagnosed with exactly
the slip it was made with."""

import pytest
from graphs import random_graph
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, check_by_hand, worksheet
from autograd.teach.handcheck import AnswerError, Diagnosis, from_equations
from autograd.teach.worksheet import expression_exercise, from_problem, read_answers_csv

# Jurafsky & Martin's computation graph and its published numbers.
JURAFSKY = ["d = 2*b", "e = a + d", "L = c*e"]
VALUES = {"a": 3, "b": 1, "c": -2}
RIGHT = {"d.data": 2, "e.data": 5, "L.data": -10, "dL/dc": 5, "dL/de": -2, "de/da": 1,
         "de/dd": 1, "dd/db": 2, "e": -2, "d": -2, "a": -2, "b": -4, "c": 5}


def jurafsky():
    return from_equations(JURAFSKY, VALUES)


def used_twice():
    """h feeds L twice: directly and through k, so dL/dh = 1 + c = 4."""
    return from_equations(["h = a + b", "k = h*c", "L = h + k"], {"a": 2, "b": 1, "c": 3})


def diagnoses(report):
    return {m.key: m.diagnosis for m in report.marks}


def test_a_fully_right_sheet_gets_no_complaint():
    report = check_by_hand(jurafsky(), RIGHT)
    assert report.ok and report.wrong == []
    assert set(diagnoses(report).values()) == {Diagnosis.RIGHT}
    assert "13 answers: 13 right, 0 wrong" in str(report)
    assert "WRONG" not in str(report) and "<table>" in report._repr_html_()


def test_the_published_gradients_and_the_tolerance():
    L = jurafsky()
    assert check_by_hand(L, {"a": -2.0, "b": -4.0, "c": 5.0}).ok
    # Rounded hand-worked numbers are right within 0.5%; further off they are wrong.
    assert check_by_hand(L, {"b": -4.01}).ok
    assert not check_by_hand(L, {"b": -4.1}).ok
    assert check_by_hand(L, {"b": -4.1}, rtol=0.05).ok
    assert "within 1e-06 + 0.005·|value|" in check_by_hand(L, {"b": -4}).summary()


def test_a_sign_slip():
    report = check_by_hand(jurafsky(), {"e": 2})
    mark = report["e"]
    assert mark.diagnosis is Diagnosis.SIGN and not mark.ok
    assert "the sign is flipped" in mark.message


def test_a_number_that_follows_from_a_wrong_number_upstream():
    # e's sign slip carried down to d and a: both follow correctly from the wrong e.
    report = check_by_hand(jurafsky(), {"e": 2, "d": 2, "a": 2})
    assert diagnoses(report) == {"e": Diagnosis.SIGN, "d": Diagnosis.UPSTREAM,
                                 "a": Diagnosis.UPSTREAM}
    assert report["a"].blame == ("∂L/∂e",) and "∂L/∂e" in report["a"].message
    # The diagnosis runs in the order backward does: the first wrong number is the cause.
    assert [m.key for m in report.marks] == ["e", "d", "a"]


def test_a_wrong_local_derivative_with_the_upstream_right():
    # ∂d/∂b = 2 (d = 2b); the learner used 1, so ∂L/∂b came out as -2 instead of -4.
    report = check_by_hand(jurafsky(), {"d": -2, "b": -2})
    assert diagnoses(report) == {"d": Diagnosis.RIGHT, "b": Diagnosis.LOCAL}
    message = report["b"].message
    assert "∂d/∂b you used must have been 1" in message and "it is ∂d/∂b = 2" in message


def test_a_wrong_local_derivative_written_down():
    # The learner wrote ∂L/∂e = e (the other operand's derivative) and used it.
    report = check_by_hand(jurafsky(), {"dL/de": 5, "e": 5})
    assert diagnoses(report) == {"dL/de": Diagnosis.LOCAL, "e": Diagnosis.LOCAL}
    assert "it is ∂L/∂e = c = −2" in report["dL/de"].message
    assert "the other operand's" in report["dL/de"].message
    assert "the upstream numbers were right" in report["e"].message


def test_a_path_left_out():
    report = check_by_hand(used_twice(), {"h": 1, "a": 1})
    assert diagnoses(report) == {"h": Diagnosis.MISSING_PATH, "a": Diagnosis.UPSTREAM}
    assert report["h"].blame == ("k",)
    assert "leaves out the one through k" in report["h"].message
    report = check_by_hand(used_twice(), {"h": 3})
    assert report["h"].diagnosis is Diagnosis.MISSING_PATH and report["h"].blame == ("L",)


def test_a_gradient_that_follows_from_a_wrong_forward_value():
    # ∂L/∂c = e; the learner's e was 4, not 5, and ∂L/∂c = 4 follows from it.
    report = check_by_hand(jurafsky(), {"e.data": 4, "L.data": -8, "c": 4})
    assert diagnoses(report) == {"e.data": Diagnosis.WRONG, "L.data": Diagnosis.UPSTREAM,
                                 "c": Diagnosis.FORWARD}
    assert report["c"].blame == ("e",)
    assert "it is 5 (e = a + d = 5)" in report["e.data"].message


def test_a_number_with_no_known_slip_is_just_wrong():
    report = check_by_hand(used_twice(), {"h": 7.5})
    assert report["h"].diagnosis is Diagnosis.WRONG
    assert "it is 4" in report["h"].message


def test_the_gradient_given_for_a_local_derivative():
    # ∂L/∂h on the direct edge is 1; 4 is the gradient over both paths.
    report = check_by_hand(used_twice(), {"dL/dh": 4})
    assert report["dL/dh"].diagnosis is Diagnosis.LOCAL
    assert "is the gradient ∂L/∂h over every path" in report["dL/dh"].message


def test_keys_name_nodes_in_every_accepted_way():
    L = jurafsky()
    same = check_by_hand(L, {"a.grad": -2, "∂L/∂b": -4, "∂e/∂a": 1, "d.data": 2})
    assert same.ok and {m.key: m.kind for m in same.marks} == {
        "a.grad": "gradient", "∂L/∂b": "gradient", "∂e/∂a": "local", "d.data": "value"}
    # ∂L/∂a with a not an operand of L is the gradient, as textbooks write it.
    assert check_by_hand(L, {"dL/da": -2})["dL/da"].kind == "gradient"
    assert check_by_hand(L, {"a": None, "b": -4}).marks[0].key == "b"  # a blank is skipped


def test_unknown_names_and_non_numbers_are_a_clear_error():
    L = jurafsky()
    with pytest.raises(AnswerError) as e:
        check_by_hand(L, {"q": 1, "a": "x", "b": True, "c": float("nan"), "dd/da": 2,
                          "ee": 1})
    text = str(e.value)
    assert "no node named 'q'" in text
    assert "answer 'a': the answer must be a number; got str 'x'" in text
    assert "answer 'b': the answer must be a number; got bool" in text
    assert "finite number" in text
    assert "d does not use a directly" in text
    assert "did you mean e" in text
    with pytest.raises(AnswerError, match="ask the same thing"):
        check_by_hand(L, {"a": -2, "a.grad": -2})
    with pytest.raises(AnswerError, match="2 nodes are named 'x'"):
        check_by_hand(Value(1.0, "x") + Value(2.0, "x"), {"x": 1})
    with pytest.raises(TypeError):
        check_by_hand(L, [("a", 1)])


def test_checking_touches_no_grad():
    L = jurafsky()
    check_by_hand(L, RIGHT)
    assert L.grad == 0.0


def test_equations_build_a_graph_with_every_node_named():
    L = jurafsky()
    assert L.label == "L" and [p.label for p in L.parents] == ["c", "e"]
    assert from_equations("d = 2*b; e = a + d\nL = c*e", VALUES).data == -10.0
    assert from_equations("c*(a + 2*b)", VALUES).data == -10.0
    with pytest.raises(ValueError, match="NAME = EXPRESSION"):
        from_equations(["d = 2*b", "= c"], VALUES)
    with pytest.raises(ValueError, match="only renames"):
        from_equations(["d = a", "L = d*b"], VALUES)
    with pytest.raises(ValueError, match="already has a value"):
        from_equations(["a = 2*b"], VALUES)


def test_a_worksheets_key_fed_back_checks_clean():
    L = jurafsky()
    sheet = worksheet(L)
    assert check_by_hand(L, sheet.answers()).ok
    assert check_by_hand(L, read_answers_csv(sheet.csv(key=True))).ok
    assert len(sheet.rows) == len(RIGHT)
    assert set(sheet.answers()) == set(RIGHT)
    blank = sheet.markdown()
    assert "| `dd/db` | the local derivative ∂d/∂b |   |" in blank
    assert "−10" not in blank and "−10" in sheet.markdown(key=True)
    assert read_answers_csv(sheet.csv()) == {}  # a blank sheet has no answers


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_every_exercise_key_checks_clean(seed):
    problem, root = expression_exercise(seed)
    assert from_problem(problem).data == root.data
    assert check_by_hand(root, worksheet(root).answers()).ok


def test_exercises_differ_by_seed_and_repeat_for_one():
    assert expression_exercise(3)[0] == expression_exercise(3)[0]
    assert len({str(expression_exercise(s)[0]) for s in range(20)}) > 15


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_worksheets_key_checks_clean_on_random_graphs(data):
    root = random_graph(data)
    sheet = worksheet(root)
    report = check_by_hand(root, sheet.answers())
    assert report.ok, str(report)
    assert len(report.marks) == len(sheet.rows)


@pytest.mark.parametrize("rtol, atol, words", [
    (-0.1, 1e-6, "rtol must be a finite number >= 0; got -0.1"),
    (float("nan"), 1e-6, "rtol must be a finite number >= 0; got nan"),
    (0.005, float("inf"), "atol must be a finite number >= 0; got inf"),
])
def test_bad_tolerances_are_refused_wherever_numbers_are_checked(rtol, atol, words):
    import re

    from nn import MLP, compare, grade

    root, answers = jurafsky(), RIGHT
    with pytest.raises(ValueError, match=re.escape(words)):
        check_by_hand(root, answers, rtol=rtol, atol=atol)
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match=re.escape(words)):
        grade(model, [[1.0, 2.0]], [0.5], {}, rtol=rtol, atol=atol)
    with pytest.raises(ValueError, match=re.escape(words)):
        compare(model, [[1.0, 2.0]], [0.5], rtol=rtol, atol=atol)
    with pytest.raises(TypeError, match="rtol must be a number; got str"):
        check_by_hand(root, answers, rtol="0.1")


def test_the_html_report_has_a_row_per_answer_and_a_readable_diagnosis():
    import re

    report = check_by_hand(jurafsky(), {**RIGHT, "e": 2, "a": 2})
    page = report._repr_html_()
    rows = re.findall(r"<tr>(.*?)</tr>", page)[1:]  # after the header
    assert len(rows) == len(RIGHT)
    wrong = [r for r in rows if ">wrong</td>" in r]
    assert len(wrong) == 2 and "<b>sign slip</b>" in wrong[0]
    # Every cell carries its own compact style: a theme's table padding cannot squeeze the
    # diagnosis column, and names never break in the middle.
    assert all(r.count("padding: 2px 10px") == 6 for r in rows)
    assert all(r.count("white-space: nowrap") == 4 and "min-width: 20em" in r for r in rows)
