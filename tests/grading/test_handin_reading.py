"""A hand-in is untrusted text: answers are only matched against a number pattern (never
evaluated), rows are matched to the student's own worksheet, and a file is refused before it
is read when it is too big, a symlink or not a file."""

from __future__ import annotations

import json

import pytest

from autograd.files.read import InputError
from nn.grading.handin import ANSWER_LENGTH, parse_answer, read_handin

ROWS = [("a", None), ("dL/de", None), ("layers.0.neurons.0", 0), ("layers.0.neurons.0", 1)]


@pytest.mark.parametrize("text, value", [
    ("3", 3.0), ("-0.25", -0.25), ("+.5", 0.5), ("1e-3", 1e-3), ("2.5E+2", 250.0),
    ("\u22123", -3.0), ("0,25", 0.25), ("  7.  ", 7.0),
])
def test_numbers_are_read(text, value):
    assert parse_answer(text) == value


@pytest.mark.parametrize("text", [
    "1+1", "2**10", "__import__('os').system('true')", "(3)", "0x10", "1_000", "nan", "inf",
    "-Infinity", "1e999", "1,000,000", "3 4", "", "abc", "½", "1" * (ANSWER_LENGTH + 1),
    "1e99999", "\u0663", "\uff11.5", "1e5000",
])
def test_anything_else_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_answer(text)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_are_matched_to_the_worksheet(tmp_path):
    path = write(tmp_path, "s1.csv", "key,example,what,answer\n"
                 "student.id,,s1,\n"
                 "a,,the gradient,-2\n"
                 "a,,again,5\n"
                 "layers.0.neurons.0,1,δ,0.5\n"
                 "layers.0.neurons.0,7,δ,0.5\n"
                 "evil,,x,1\n"
                 "dL/de,,local,\n")
    handin = read_handin(path, ROWS)
    assert handin.claimed_id == "s1"
    assert handin.answers == {("a", None): "-2", ("layers.0.neurons.0", 1): "0.5"}
    notes = "\n".join(handin.notes)
    assert "a is answered twice" in notes
    assert "'layers.0.neurons.0' example '7' is not on your worksheet" in notes
    assert "'evil' is not on your worksheet" in notes


def test_a_json_hand_in_gives_per_example_lists(tmp_path):
    path = write(tmp_path, "s1.json", json.dumps({
        "student": {"id": "s2"}, "network": "ignored",
        "answers": {"a": -2, "layers.0.neurons.0": [None, "0.5"], "dL/de": True, "x": 1}}))
    handin = read_handin(path, ROWS)
    assert handin.claimed_id == "s2"
    assert handin.answers == {("a", None): "-2", ("layers.0.neurons.0", 1): "0.5",
                              ("dL/de", None): "true"}
    assert any("'x'" in n for n in handin.notes)


def test_refused_files(tmp_path):
    big = write(tmp_path, "big.csv", "key,answer\n" + "a,1\n" * 100)
    with pytest.raises(InputError, match="at most 200"):
        read_handin(big, ROWS, limit=200)
    link = tmp_path / "link.csv"
    link.symlink_to(big)
    with pytest.raises(InputError, match="symlink"):
        read_handin(link, ROWS)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match="not a regular file"):
        read_handin(tmp_path / "dir.csv", ROWS)
    deep = write(tmp_path, "deep.json", '{"answers": ' + "[" * 50 + "]" * 50 + "}")
    with pytest.raises(InputError, match="nested"):
        read_handin(deep, ROWS)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"key,answer\n\0\0")
    with pytest.raises(InputError, match="NUL"):
        read_handin(binary, ROWS)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("key,answer\nä,1\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_handin(latin, ROWS)
    with pytest.raises(InputError, match="no key and answer columns"):
        read_handin(write(tmp_path, "x.csv", "a,b\n1,2\n"), ROWS)
    with pytest.raises(InputError, match="an object of answers"):
        read_handin(write(tmp_path, "x.json", "[1, 2]"), ROWS)
