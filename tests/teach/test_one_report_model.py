"""autograd.teach.report: the one report model of check_by_hand and nn.grade (marks right, wrong or
blank, a diagnosis, text and HTML), and the bounded parts around it: the list of problems, the
"did you mean" search, the reading of a "de/da" key, a path left out among many uses."""

import difflib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, check_by_hand
from autograd.teach.diagnose import Diagnosis
from autograd.teach.handcheck import HandCheck, _partial_names
from autograd.teach.report import (
    MAX_PROBLEMS,
    AnswerError,
    Mark,
    Marking,
    Report,
    Verdict,
    answer_error,
)
from autograd.teach.suggest import NameIndex
from nn import GradeReport, grade
from nn.grading.network import Grade
from nn.grading.slips import Slip

MAZUR = [{"w": [[0.15, 0.20], [0.25, 0.30]], "b": [0.35, 0.35], "activation": "sigmoid"},
         {"w": [[0.40, 0.45], [0.50, 0.55]], "b": [0.60, 0.60], "activation": "sigmoid"}]


def test_both_checkers_fill_in_the_same_report():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    L = a * b
    L.label = "L"
    expression = check_by_hand(L, {"a": 3.0, "b": 2.0})
    network = grade(MAZUR, [[0.05, 0.1]], [[0.01, 0.99]], {"layers.1.neurons.0": [0.5]})
    assert isinstance(expression, HandCheck) and isinstance(expression, Report)
    assert isinstance(network, GradeReport) and isinstance(network, Report)
    assert all(isinstance(m, Mark) for m in (*expression.marks, *network.marks))
    assert isinstance(network.grades[0], Grade) and network.grades == network.marks
    assert network.grades[0].slip is network.grades[0].diagnosis is Slip.WRONG
    assert expression["b"].verdict is Verdict.RIGHT and expression["a"].diagnosis is Diagnosis.SIGN
    # One rendering: the same columns, the same words for a wrong number.
    for report in (expression, network):
        text, page = str(report), report._repr_html_()
        assert text.splitlines()[2].split() == ["answer", "is", "yours", "right"]
        assert "WRONG" in text and ">wrong</td>" in page and "1 wrong" in report.summary()


def test_a_blank_is_neither_right_nor_wrong():
    marking = Marking(Mark, "a", "∂L/∂a", 2.0, 2.0, Diagnosis.RIGHT, kind="gradient")
    blank = Marking(Mark, "b", "∂L/∂b", None, 4.0, Diagnosis.RIGHT, kind="gradient").blank()
    wrong = Marking(Mark, "c", "∂L/∂c", 1.0, 5.0, Diagnosis.RIGHT).wrong(
        Diagnosis.SIGN, "it is 5", ["c"])
    report = Report((marking.right(), blank, wrong), 0.005, 1e-6, "a sheet")
    assert blank.verdict is Verdict.BLANK and not blank.ok and blank.given is None
    assert report.blank == [blank] and report.wrong == [wrong]
    assert report.summary().startswith("2 answers: 1 right, 1 wrong, 1 blank")
    assert Report((marking.right(), blank), 0.005, 1e-6).ok  # a blank is not a mistake
    lines = str(report).splitlines()
    assert lines[0] == "a sheet" and lines[4].split() == ["b", "∂L/∂b", "4", "blank"]
    assert "sign slip: it is 5" in str(report)
    assert ">blank</td>" in report._repr_html_()
    assert report["c"] is wrong and report.find("b") is blank
    with pytest.raises(KeyError, match="no answer 'd'"):
        report["d"]


def test_marks_per_example_are_found_by_key_and_example():
    xs, ys = [[0.05, 0.1], [0.2, -0.3]], [[0.01, 0.99], [0.5, 0.5]]
    report = grade(MAZUR, xs, ys, {"layers.1.neurons.0": [0.1, 0.2]})
    first, second = report.find("layers.1.neurons.0", 0), report.find("layers.1.neurons.0", 1)
    assert (first.example, second.example) == (0, 1)
    assert report.find("layers.1.neurons.0") is first
    assert second.where == "layers.1.neurons.0 (example 1)"
    with pytest.raises(KeyError, match="for example 2"):
        report.find("layers.1.neurons.0", 2)


def test_a_long_list_of_problems_is_cut_short():
    error = answer_error("check", [f"problem {k}" for k in range(MAX_PROBLEMS + 5)])
    lines = str(error).splitlines()
    assert isinstance(error, AnswerError) and lines[0] == "cannot check these answers:"
    assert len(lines) == MAX_PROBLEMS + 2 and lines[-1].strip() == "... and 5 more"
    assert len(str(answer_error("grade", ["one"])).splitlines()) == 2


WORDS = st.text("abcxy01_", min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(WORDS, min_size=1, max_size=30, unique=True), query=WORDS)
def test_did_you_mean_finds_the_names_one_edit_away(names, query):
    got = NameIndex(names).suggest(query, n=len(names))
    # Never the query itself, never a name difflib would call far.
    assert query not in got and set(got) <= set(names)
    assert all(difflib.SequenceMatcher(None, g, query).ratio() >= 0.6 for g in got)
    # Every name one deletion, insertion or substitution away that difflib calls close.
    def one_edit(a, b):
        if abs(len(a) - len(b)) > 1 or a == b:
            return False
        short, long_ = sorted((a, b), key=len)
        return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_))) or (
            len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1)
    near = {k for k in names if one_edit(k, query)
            and difflib.SequenceMatcher(None, k, query).ratio() >= 0.6}
    assert near <= set(got)


def test_an_unknown_name_is_suggested_from_a_big_graph():
    x = Value(1.0, "input")
    for k in range(2000):
        x = x * 1.0
        x.label = f"h{k}"
    with pytest.raises(AnswerError) as e:
        check_by_hand(x, {"inptu": 1.0, "h1999x": 2.0})
    text = str(e.value)
    assert "did you mean input" in text and "did you mean h1999" in text
    assert "(2,002 in all)" in text and len(text) < 2000


PARTIAL = re.compile(r"^\s*[d∂](.+?)\s*/\s*[d∂](.+?)\s*$")  # how keys were read before


@settings(max_examples=500, deadline=None)
@given(st.text("d∂/ ab\t", min_size=1, max_size=12))
def test_a_partial_key_is_split_as_the_regular_expression_did(text):
    text = text.strip()
    m = PARTIAL.match(text)
    expected = None if m is None else (m.group(1), m.group(2))
    got = _partial_names(text)
    if expected is not None and expected[0].strip():
        assert got == expected
    elif expected is None:
        assert got is None


def test_a_partial_key_full_of_slashes_is_read_in_one_pass():
    assert _partial_names("d" + " /" * 50_000) is None
    assert _partial_names("d(a/b) / d a") == ("(a/b)", " a")


def test_a_path_left_out_among_many_uses():
    a = Value(2.0, "a")
    cs = [1000.0 if k == 17 else 1.0 for k in range(40)]
    products = [a * Value(c, f"c{k}") for k, c in enumerate(cs)]
    for k, p in enumerate(products):
        p.label = f"p{k}"
    L = Value.sum(products)
    L.label = "L"
    right = sum(cs)
    mark = check_by_hand(L, {"a": right - 1000.0})["a"]  # p17's share left out
    assert mark.diagnosis is Diagnosis.MISSING_PATH and mark.blame == ("p17",)
    assert "+ ... (40 terms)" in mark.message
    assert check_by_hand(L, {"a": right + 100.0})["a"].diagnosis is Diagnosis.WRONG
