"""``edgegrad deltas``: the default run, a saved model, a CSV, a mismatch, and bad input."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from nn import deltas
from nn.cli import main as edgegrad
from nn.layers import MLP

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    return edgegrad(["deltas", *argv])


def test_no_arguments_prints_an_ok_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "5 example(s) from moons (seed 0)" in out
    assert "Delta rule vs autograd on MLP 2-4-1: loss 'sse' summed over 5 example(s)" in out
    assert "OK: all 67 deltas, gradients and activations agree" in out


def test_a_mismatch_exits_1_and_names_the_layer(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    wrong = dataclasses.replace(deltas.ACTIVATIONS["tanh"], dh=lambda a, z: 1.0 - z)
    monkeypatch.setitem(deltas.ACTIVATIONS, "tanh", wrong)
    assert main(["-n", "3"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "first: delta at layer 0, neuron" in out


def test_saved_model_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = MLP(3, [2, 2], activation="sigmoid", seed=9)
    path = tmp_path / "model.json"
    model.save(path)
    csv = tmp_path / "points.csv"
    csv.write_text("a,b,c,label\n0.1,0.2,0.3,cat\n-1,0.5,2,dog\n0.7,0.7,-0.2,cat\n")
    code = main(["--model", str(path), "--csv", str(csv), "--loss", "softmax_ce", "--details"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 example(s) from" in out and "MLP 3-2-2" in out
    assert "example 1:" in out and "target class 1" in out
    assert out.count("layer 0 neuron") == 2 * 3


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "4,x"], "--sizes takes comma-separated positive widths"),
    (["--sizes", "4,2"], "needs 1; try --sizes 4,1"),
    (["--csv", "/nonexistent/points.csv"], "does not exist"),
    (["-n", "0"], "at least 1"),
    (["--model", "/nonexistent/model.json"], "/nonexistent/model.json"),
])
def test_bad_input_exits_2_with_one_line(argv: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgegrad deltas: error:") and message in err
    assert err.count("\n") == 1


def test_model_file_that_does_not_fit_the_data(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.json"
    MLP(3, [1]).save(path)
    assert main(["--model", str(path)]) == 2  # moons has 2 features
    assert "has 2 input(s) but the network takes 3" in capsys.readouterr().err


@pytest.mark.parametrize("argv, bad", [(["--dataset", "mnist"], "mnist"),
                                       (["--activation", "swish"], "swish")])
def test_unknown_choices_are_argparse_errors(argv: list[str], bad: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert f"invalid choice: '{bad}'" in capsys.readouterr().err


def test_output_width_follows_the_data_unless_given(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dataset", "blobs", "--loss", "softmax_ce", "-n", "4"]) == 0
    assert "MLP 2-4-3" in capsys.readouterr().out


def test_edgegrad_deltas_subcommand() -> None:
    out = subprocess.run([sys.executable, "-m", "nn", "deltas", "-n", "3", "--loss", "hinge"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Delta rule vs autograd on MLP 2-4-1" in out.stdout and "OK: all" in out.stdout


@pytest.mark.parametrize("option, value", [("--rtol", "nan"), ("--atol", "-1e-9"),
                                           ("--rtol", "inf"), ("--atol", "x")])
def test_tolerances_are_finite_and_non_negative(option: str, value: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert edgegrad(["deltas", option, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and err.count("\n") == 1
