"""Unicode in what a user types or a file holds: names are read as Python reads them (NFKC,
the fullwidth ａ is a), but numbers and operators only in ASCII: the fullwidth １ and ＋ are
refused, naming the character, as any other unknown character is (Python's float() and int()
would read them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nn.cli import main


def test_fullwidth_names_are_the_names_python_reads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", "ａ*2", "ａ=2"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ａ*2 = 4", "  d/da = 2"]
    assert main(["draw", "a", "a=1", "ａ=2"]) == 2
    assert "a is given twice ('ａ' is read as a)" in capsys.readouterr().err


@pytest.mark.parametrize("argv, words", [
    (["draw", "a*2", "a=１"], "the value of a must be a number; '１' is not a number: '１' "
                              "(U+FF11 FULLWIDTH DIGIT ONE) is not part of one"),
    (["draw", "a*２", "a=1"], "invalid character '２' (U+FF12)"),
    (["draw", "a＋1", "a=1"], "invalid character '＋' (U+FF0B)"),
    (["draw", "a", "a=٣"], "'٣' (U+0663 ARABIC-INDIC DIGIT THREE) is not part of one"),
    (["draw", "a", "a=1_000"], "'1_000' is not a number"),
    (["train", "--epochs", "５"], "expected a positive integer; got '５'"),
    (["exercise", "--seed", "７"], "expected an integer; got '７'"),
    (["deltas", "--rtol", "１e-3"], "'１' (U+FF11 FULLWIDTH DIGIT ONE)"),
])
def test_fullwidth_digits_and_operators_are_refused(argv: list[str], words: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") <= 3, err


def test_a_fullwidth_answer_in_a_worksheet_is_refused(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps({"expression": ["d = 2*b", "L = c*d"],
                                   "values": {"b": 1, "c": 2}}))
    answers = tmp_path / "a.csv"
    answers.write_text("key,example,answer\nd.data,,２\nL.data,,4\n", encoding="utf-8")
    assert main(["check", str(problem), "--answers", str(answers)]) == 2
    err = capsys.readouterr().err
    assert f"answers file {answers} row 2 (d.data): the answer must be a number" in err
    assert "'２' (U+FF12 FULLWIDTH DIGIT TWO) is not part of one" in err
    answers.write_text("key,example,answer\nd.data,,2\nL.data,,−4\n", encoding="utf-8")
    assert main(["check", str(problem), "--answers", str(answers)]) == 1  # U+2212 is a minus
