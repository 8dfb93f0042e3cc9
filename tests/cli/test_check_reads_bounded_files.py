"""``edgegrad check`` reads its problem and answers through the bounded readers: deep nesting,
a field past the csv module's limit, an endless stream and a huge example index each end in
one line and exit status 2, within time and memory, never a traceback; --max-input-bytes
raises the size limit."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from bounds import bounded

from autograd.files import MAX_INPUT_BYTES
from nn.cli import main

NETWORK = {"network": [{"w": [[0.15, 0.2], [0.25, 0.3]], "b": [0.35, 0.35],
                        "activation": "sigmoid"},
                       {"w": [[0.4, 0.45]], "b": [0.6], "activation": "sigmoid"}],
           "inputs": [[0.05, 0.1], [0.3, -0.2]], "targets": [0.01, 0.9], "loss": "sse"}


@pytest.fixture
def network(tmp_path: Path) -> Path:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(NETWORK))
    return path


def refused(argv: list[str], capsys: pytest.CaptureFixture[str], seconds: float = 10,
            megabytes: float = 64) -> str:
    with bounded(seconds=seconds, megabytes=megabytes):
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgegrad check: error:") and err.count("\n") == 1, err
    return err


def test_deeply_nested_answers_exit_2(network: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    # A few kB of nesting once raised a RecursionError out of json.loads.
    answers = tmp_path / "answers.json"
    answers.write_text("[" * 4000 + "]" * 4000)
    err = refused(["check", str(network), "--answers", str(answers)], capsys)
    assert f"answers file {answers}: JSON nested more than 64 deep, the most read" in err


def test_a_field_past_the_csv_limit_exits_2(network: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # 131,073 characters once raised _csv.Error: field larger than field limit.
    answers = tmp_path / "answers.csv"
    answers.write_text("key,example,answer\nlayers.1.neurons.0,0," + "9" * 131_073 + "\n")
    err = refused(["check", str(network), "--answers", str(answers)], capsys)
    assert f"answers file {answers} line 2: a field longer than 4,096 characters" in err


@pytest.mark.parametrize("index", ["2", "4294967296", "9" * 30])
def test_an_example_index_is_checked_before_anything_is_allocated(
        index: str, network: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # "example 4294967296" once made a list of 4 billion blanks before it was refused.
    answers = tmp_path / "answers.csv"
    answers.write_text(f"key,example,answer\nlayers.1.neurons.0,{index},0.5\n")
    err = refused(["check", str(network), "--answers", str(answers)], capsys, megabytes=8)
    assert (f"answers file {answers} row 2 (layers.1.neurons.0): example {index[:20]}; the "
            "problem has 2 example(s), 0 to 1") in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_device_as_the_problem_or_the_answers_exits_2(
        network: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(["check", "/dev/zero"], capsys, megabytes=3 * MAX_INPUT_BYTES / 2**20)
    assert "problem file /dev/zero (a character device) goes on past 8,388,608 bytes" in err
    err = refused(["check", str(network), "--answers", "/dev/zero"], capsys,
                  megabytes=3 * MAX_INPUT_BYTES / 2**20)
    assert "answers file /dev/zero (a character device) goes on past" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_an_endless_pipe_as_the_answers_exits_2(network: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "answers.csv"
    os.mkfifo(fifo)
    stop = threading.Event()

    def write() -> None:
        try:
            with fifo.open("wb") as f:
                f.write(b"key,example,answer\n")
                while not stop.is_set():
                    f.write(b"layers.1.neurons.0.w.0,,0.08\n" * 1000)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write)
    writer.start()
    try:
        err = refused(["check", str(network), "--answers", str(fifo), "--max-input-bytes",
                       "1000000"], capsys)
    finally:
        stop.set()
        writer.join(timeout=10)
    assert f"answers file {fifo} (a pipe) goes on past 1,000,000 bytes" in err


def test_max_input_bytes_raises_the_limit(network: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"layers.1.neurons.0.w.0": 0.08}) + " " * 400)
    size = answers.stat().st_size
    limit = network.stat().st_size  # the problem fits, the answers do not
    err = refused(["check", str(network), "--answers", str(answers), "--max-input-bytes",
                   str(limit)], capsys)
    assert f"answers file {answers} is {size:,} bytes; the most read is {limit:,} bytes" in err
    assert main(["check", str(network), "--answers", str(answers), "--max-input-bytes",
                 str(size)]) in (0, 1)
    assert "error" not in capsys.readouterr().err
