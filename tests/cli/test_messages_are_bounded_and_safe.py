"""What ``edgegrad`` prints about its input is bounded in length and safe for a terminal: no
escape sequence of the input reaches it, whether echoed in a message or in a library's warning
(matplotlib's about a glyph in a CSV header)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nn.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_terminal_escapes_in_input_are_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["draw", "a\x1b[2J+1", "a=1"], ["draw", "a # \x1b]0;owned\x07", "a=1"],
                 ["draw", "a", "a=1", "\x1b[31m=2"], ["draw", "a", "a=\x1b[31m"],
                 ["draw", "a\u202e+1", "a=1"], ["deltas", "--csv", "\x1b[2J.csv"]):
        main(argv)
        out, err = capsys.readouterr()
        for text in (out, err):
            assert not any(c in text for c in "\x1b\x07\u202e"), (argv, text)
    assert main(["draw", "a", "a=1", "b=" + "x" * 100_000]) == 2
    assert len(capsys.readouterr().err) < 2200


def test_an_escape_in_a_csv_header_does_not_reach_the_terminal_through_a_warning(
        tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    data = tmp_path / "d.csv"
    data.write_text("x\x1b[31mred\x1b]0;owned\x07,y,label\n0,0,a\n1,1,b\n0,1,a\n1,0,b\n")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "always"}
    r = subprocess.run([sys.executable, "-m", "nn", "train", "--csv", str(data), "--epochs", "2",
                        "--hidden", "2", "--quiet", "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Glyph 27" in r.stderr  # matplotlib did warn about the label...
    assert "\x1b" not in r.stderr + r.stdout and "\x07" not in r.stderr + r.stdout  # ...safely
    assert "\u241b" in r.stderr  # ESC shown as its picture
