"""The edgegrad command: train's happy path and outputs, --help, bad arguments (subprocess)."""

import json
import shutil
import subprocess
import sys

import pytest

from nn import MLP, load_model
from nn.cli import main
from nn.data import moons
from nn.train import evaluate


def edgegrad(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nn", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_train_happy_path_writes_every_file(tmp_path):
    out = tmp_path / "run"
    r = edgegrad("train", "--dataset", "moons", "--samples", "30", "--hidden", "8",
                 "--epochs", "40", "--seed", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "accuracy" in r.stdout and str(out / "model.json") in r.stdout
    assert "training" in r.stderr  # the progress bar
    for name in ("model.json", "history.json", "training.png", "boundary.png"):
        assert (out / name).stat().st_size > 0, name
    graph = out / ("graph.svg" if shutil.which("dot") else "graph.dot")
    assert graph.stat().st_size > 0
    assert (out / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The saved model is the trained one: reloading it gives the printed final numbers.
    hist = json.loads((out / "history.json").read_text())
    assert len(hist["loss"]) == 40 and hist["steps"] == 40 and not hist["interrupted"]
    model = load_model(out / "model.json")
    assert isinstance(model, MLP) and model.nouts == [8, 1]
    ds = moons(30, seed=3)
    loss, acc = evaluate(model, ds.xs, ds.targets("hinge"), "hinge", l2=1e-4)
    assert loss == pytest.approx(hist["final_loss"], rel=1e-12)
    assert acc == hist["final_accuracy"] and acc >= 0.9
    assert f"{acc:.1%}" in r.stdout


def test_train_on_a_csv_quietly_in_process(tmp_path, capsys):
    csv = tmp_path / "pts.csv"
    rows = ["a,b,label"] + [f"{x},{y},{'yes' if x * y > 0 else 'no'}"
                            for x in (-1, -0.5, 0.5, 1) for y in (-1, -0.5, 0.5, 1)]
    csv.write_text("\n".join(rows) + "\n")
    status = main(["train", "--csv", str(csv), "--hidden", "6", "--activation", "tanh",
                   "--loss", "softmax_ce", "--optimizer", "adam", "--lr", "0.05",
                   "--epochs", "60", "--quiet", "--out", str(tmp_path / "o")])
    assert status == 0
    assert capsys.readouterr().out == ""
    model = load_model(tmp_path / "o" / "model.json")
    assert model.nouts == [6, 2] and model.activation == "tanh"
    hist = json.loads((tmp_path / "o" / "history.json").read_text())
    assert hist["final_accuracy"] == 1.0


def test_help_documents_every_option():
    r = edgegrad("train", "--help")
    assert r.returncode == 0
    for opt in ("--dataset", "--csv", "--samples", "--noise", "--hidden", "--activation",
                "--output-activation", "--loss", "--optimizer", "--lr", "--lr-end",
                "--momentum", "--weight-decay", "--l2", "--epochs", "--batch-size", "--seed",
                "--compiled", "--out", "--quiet"):
        assert opt in r.stdout, opt
    top = edgegrad("--help")
    assert top.returncode == 0 and "train" in top.stdout


@pytest.mark.parametrize("args, words", [
    (["train", "--hidden", "16,x"], "--hidden takes comma-separated layer widths"),
    (["train", "--epochs", "0"], "expected a positive integer"),
    (["train", "--lr", "-1"], "finite number >= 0"),
    (["train", "--dataset", "iris"], "invalid choice: 'iris'"),
    (["train", "--loss", "nll"], "invalid choice: 'nll'"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["fly"], "invalid choice: 'fly'"),
])
def test_bad_arguments_give_one_line_and_status_2(args, words):
    r = edgegrad(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and words in lines[0]


def test_bad_input_found_before_training_gives_one_line_and_status_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,0\n3,4\n")
    r = edgegrad("train", "--csv", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"edgegrad train: error: {bad} line 2: found 2 columns; expected 3 like the first line"]
    r = edgegrad("train", "--optimizer", "adam", "--momentum", "0.9", "--out",
                 str(tmp_path / "o"))
    assert r.returncode == 2 and "momentum is an SGD option" in r.stderr


def test_no_command_prints_help():
    assert main([]) == 2


def test_every_subcommand_is_in_the_help():
    from nn.cli import SUBCOMMANDS, build_parser

    text = build_parser().format_help()
    names = [m.__name__.rsplit(".", 1)[-1] for m in SUBCOMMANDS]
    assert names == ["train", "deltas", "draw", "check", "exercise", "grade"]
    for name in names:
        assert name in text
