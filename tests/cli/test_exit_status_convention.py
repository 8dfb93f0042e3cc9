"""One exit-status convention for every subcommand (``nn.cli.EXIT_STATUS``): 0 all right, 1 the
answer or check is wrong or the work failed once its input was accepted, 2 bad input or usage
(also a MemoryError or OverflowError the input causes); a failed write of the output is never
0; and the convention is printed by ``edgegrad --help``."""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nn.cli import EXIT_STATUS, SUBCOMMANDS, main
from nn.cli import check as check_cli
from nn.grading.sheets import make_sheets
from nn.textbook import deltas

ROOT = Path(__file__).resolve().parents[2]
JURAFSKY = {"expression": ["d = 2*b", "e = a + d", "L = c*e"], "values": {"a": 3, "b": 1, "c": -2}}
RIGHT = {"a": -2, "b": -4, "c": 5, "L.data": -10}


def problem(tmp_path: Path, answers: object, name: str = "p.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps({**JURAFSKY, "answers": answers}))
    return str(path)


def cases(tmp_path: Path) -> dict[str, dict[int, list[str]]]:
    """For each subcommand, arguments that exit 0, 1 and 2."""
    out = str(tmp_path / "out")
    return {
        "train": {0: ["train", "--dataset", "xor", "--hidden", "2", "--epochs", "2", "--quiet",
                      "--out", out],
                  1: ["train", "--lr", "1e300", "--lr-end", "1e300", "--epochs", "1",
                      "--quiet", "--out", out],  # diverges
                  2: ["train", "--csv", str(tmp_path / "none.csv"), "--out", out]},
        "draw": {0: ["draw", "a*b", "a=1", "b=2"],
                 1: ["draw", "a*b", "a=1", "b=2", "-o", str(tmp_path / "g.svg"), "--timeout",
                     "1e-9"],  # dot is stopped at once (or is missing): the work failed
                 2: ["draw", "a*", "a=1"]},
        "deltas": {0: ["deltas"],
                   1: ["deltas", "-n", "3"],  # with a wrong derivative in the delta rule
                   2: ["deltas", "--model", str(tmp_path / "none.json")]},
        "check": {0: ["check", problem(tmp_path, RIGHT, "right.json")],
                  1: ["check", problem(tmp_path, {**RIGHT, "a": 2}, "wrong.json")],
                  2: ["check", problem(tmp_path, {"a": None, "b": [None]}, "blank.json")]},
        "exercise": {0: ["exercise", "--seed", "3"],
                     2: ["exercise", "--kind", "matrix"]},
        "grade": grade_cases(tmp_path),
    }


def grade_cases(tmp_path: Path) -> dict[int, list[str]]:
    """A class of two graded (0); its grades written over a file (1, an output that cannot be
    written); a folder that is not a class's sheets (2)."""
    secret = "a secret for the exit statuses"
    (tmp_path / "roster.csv").write_text("id\ns1\ns2\n")
    sheets, handins, blocked = tmp_path / "sheets", tmp_path / "handins", tmp_path / "file"
    make_sheets(tmp_path / "roster.csv", sheets, secret.encode(), "expression")
    handins.mkdir(exist_ok=True)
    blocked.write_text("")
    common = [str(sheets), str(handins), "--secret", secret, "--no-progress", "--workers", "0"]
    return {0: ["grade", *common, "--out", str(tmp_path / "grades")],
            1: ["grade", *common, "--out", str(blocked)],
            2: ["grade", str(tmp_path), str(handins), "--out", str(tmp_path / "grades"),
                "--secret", secret]}


def test_every_subcommand_is_covered(tmp_path: Path) -> None:
    assert set(cases(tmp_path)) == {m.__name__.rsplit(".", 1)[1] for m in SUBCOMMANDS}


@pytest.mark.parametrize("command", ["train", "draw", "deltas", "check", "exercise", "grade"])
def test_each_subcommand_follows_the_convention(command: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for status, argv in cases(tmp_path)[command].items():
        with monkeypatch.context() as patch:
            if command == "deltas" and status == 1:
                wrong = dataclasses.replace(deltas.ACTIVATIONS["tanh"], dh=lambda a, z: 1.0 - z)
                patch.setitem(deltas.ACTIVATIONS, "tanh", wrong)
            assert main(argv) == status, (argv, capsys.readouterr().err)
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if status == 2:
            assert err.startswith(f"edgegrad {command}: error:") or \
                err.startswith("edgegrad: error:"), err


def test_nothing_to_check_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", problem(tmp_path, {"a": None, "L.data": None})]) == 2
    assert "nothing to check: all 2 answers are blank (null)" in capsys.readouterr().err
    answers = tmp_path / "a.csv"
    answers.write_text("key,example,answer\na,,\nb,,\n")
    assert main(["check", problem(tmp_path, RIGHT), "--answers", str(answers)]) == 2
    assert "there are no answers to check" in capsys.readouterr().err


@pytest.mark.parametrize("error", [MemoryError, OverflowError, RecursionError])
def test_memory_and_overflow_from_bad_input_exit_2(error: type[BaseException], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def exhausted(*args: object, **kwargs: object) -> object:
        raise error("int too large to convert to float")

    monkeypatch.setattr(check_cli, "check", exhausted)
    assert main(["check", problem(tmp_path, RIGHT)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgegrad check: error:") and err.count("\n") == 1


def test_the_help_states_the_convention(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert EXIT_STATUS in out
    for line in ("0  all right", "1  the answer or check is wrong", "2  bad input or usage"):
        assert line in out


class _FullDisk(io.StringIO):
    """stdout on a full disk: every flush fails with ENOSPC."""

    name = "<stdout>"

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("argv", [["check", "{problem}"], ["draw", "a*b", "a=1", "b=2"],
                                  ["draw", "a*b", "a=1", "b=2", "--dot"], ["deltas"],
                                  ["exercise"]])
def test_a_failed_write_of_the_output_is_not_0(argv: list[str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("{problem}", problem(tmp_path, RIGHT)) for a in argv]
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.endswith(f"edgegrad {argv[0]}: error: cannot write the output to <stdout>: No "
                        "space left on device\n"), err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_report_written_to_a_full_disk_exits_1(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "nn", "check", problem(tmp_path, RIGHT)],
                           stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                           timeout=120)
    assert r.returncode == 1
    assert r.stderr == ("edgegrad check: error: cannot write the output to <stdout>: No space "
                        "left on device\n")


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    # `edgegrad check ... | head -1`: the reader leaving is not a failure of the command.
    r = subprocess.run(f"{sys.executable} -m nn exercise --kind network | head -c 10",
                       shell=True, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.stderr == "" and len(r.stdout) == 10
