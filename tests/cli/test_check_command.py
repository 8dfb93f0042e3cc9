"""edgegrad check and edgegrad exercise: exit codes 0 (all right), 1 (something wrong), 2 (bad
input), and an exercise's key, fed back, checking clean."""

import csv
import json
import subprocess
import sys

import pytest

from nn.cli import SUBCOMMANDS, main

JURAFSKY = {"expression": ["d = 2*b", "e = a + d", "L = c*e"], "values": {"a": 3, "b": 1, "c": -2}}


def write(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_the_subcommands_are_registered():
    assert {m.__name__.rsplit(".", 1)[1] for m in SUBCOMMANDS} >= {"check", "exercise"}


def test_all_right_exits_0(tmp_path, capsys):
    path = write(tmp_path / "a.json", {**JURAFSKY, "answers": {"a": -2, "b": -4, "c": 5,
                                                               "L.data": -10}})
    assert main(["check", path]) == 0
    out = capsys.readouterr().out
    assert "4 answers: 4 right, 0 wrong" in out


def test_a_wrong_number_exits_1_with_its_diagnosis(tmp_path, capsys):
    path = write(tmp_path / "a.json", {**JURAFSKY, "answers": {"e": 2, "a": 2}})
    assert main(["check", path]) == 1
    captured = capsys.readouterr()
    assert "sign slip" in captured.out and "follows from a wrong number upstream" in captured.out
    assert "2 wrong" in captured.err


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    (json.dumps(JURAFSKY), "no answers"),
    (json.dumps({**JURAFSKY, "answers": {"q": 1}}), "no node named 'q'"),
    (json.dumps({**JURAFSKY, "answers": {"a": "minus two"}}), "must be a number"),
    (json.dumps({"answers": {"a": 1}}), "needs \"expression\""),
    (json.dumps({"expression": "a +", "values": {"a": 1}, "answers": {"a": 1}}),
     "not a valid expression"),
    (json.dumps({"network": [{"w": [[1.0]], "b": [0.0], "activation": "nope"}],
                 "inputs": [[1.0]], "targets": [1.0], "answers": {"layers.0.neurons.0": 1}}),
     "unknown activation"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_file_and_bad_tolerances_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "none.json")]) == 2
    path = write(tmp_path / "a.json", {**JURAFSKY, "answers": {"a": -2}})
    for bad in ("-1", "nan", "inf"):
        assert main(["check", path, "--rtol", bad]) == 2
        err = capsys.readouterr().err
        assert "--rtol" in err and "finite number >= 0" in err, err


def test_a_network_problem(tmp_path, capsys):
    problem = {"network": [{"w": [[0.15, 0.20], [0.25, 0.30]], "b": [0.35, 0.35],
                            "activation": "sigmoid"},
                           {"w": [[0.40, 0.45], [0.50, 0.55]], "b": [0.60, 0.60],
                            "activation": "sigmoid"}],
               "inputs": [[0.05, 0.10]], "targets": [[0.01, 0.99]], "loss": "sse",
               "answers": {"layers.1.neurons.0": [0.138498562],
                           "layers.1.neurons.0.w.0": 0.082167041}}
    assert main(["check", write(tmp_path / "m.json", problem)]) == 0
    problem["answers"]["layers.1.neurons.0.w.0"] = 0.75136507 - 0.01  # y - t
    assert main(["check", write(tmp_path / "m.json", problem)]) == 1


@pytest.mark.parametrize("kind", ["expression", "network"])
@pytest.mark.parametrize("seed", [0, 7])
def test_an_exercises_key_fed_back_checks_clean(tmp_path, capsys, kind, seed):
    out = tmp_path / "sheet"
    assert main(["exercise", "--seed", str(seed), "--kind", kind, "--out", str(out)]) == 0
    for name in ("problem.json", "worksheet.md", "worksheet.csv", "key.md", "key.csv"):
        assert (out / name).stat().st_size > 0, name
    problem = str(out / "problem.json")
    assert main(["check", problem, "--answers", str(out / "key.csv")]) == 0
    # The blank worksheet has no answers: bad input.
    assert main(["check", problem, "--answers", str(out / "worksheet.csv")]) == 2
    # A student fills in the blank CSV, one number wrong.
    with open(out / "key.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows[-1]["answer"] = str(float(rows[-1]["answer"]) + 1.0)
    filled = tmp_path / "filled.csv"
    with open(filled, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["key", "example", "what", "answer"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    assert main(["check", problem, "--answers", str(filled)]) == 1
    capsys.readouterr()


def test_exercise_without_out_prints_the_problem_and_the_blank_sheet(capsys):
    assert main(["exercise", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert '"expression"' in out and "# Worksheet" in out and "your answer" in out


def test_the_command_line_end_to_end(tmp_path):
    path = write(tmp_path / "a.json", {**JURAFSKY, "answers": {"b": -4}})
    run = subprocess.run([sys.executable, "-m", "nn", "check", path], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    help_text = subprocess.run([sys.executable, "-m", "nn", "check", "--help"],
                               capture_output=True, text=True, timeout=120).stdout
    assert "layers.L.neurons.J" in help_text and "e.data" in help_text
