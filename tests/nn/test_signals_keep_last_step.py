"""SIGINT, SIGTERM and SIGHUP during `edgegrad train` (a real process): each stops training
cleanly, keeps exactly the last finished step, writes every output and exits 128 + N."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nn import load_model
from nn.cli import main
from nn.cli.train import Signals

ROOT = Path(__file__).resolve().parents[2]
# A constant learning rate: a clean run of N epochs then ends where the stopped one did.
ARGS = ["train", "--dataset", "xor", "--hidden", "4", "--lr", "0.1", "--lr-end", "0.1"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_stops_training_and_the_outputs_are_written(name: str, tmp_path: Path) -> None:
    number = getattr(signal, name)
    out = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-m", "nn", *ARGS, "--epochs", "10000000",
                              "--out", str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None
        while not (line := child.stdout.readline()).startswith("train:"):
            assert line, "the command ended before training"
        _wait_for_cpu(child.pid, 0.3)  # some steps finish, however loaded the machine is
        child.send_signal(number)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 128 + number, stderr
    assert f"stopped by {name}" in stdout and "Traceback" not in stderr
    for file in ("model.json", "history.json", "graph.svg" if "graph.svg" in stdout
                 else "graph.dot"):
        assert (out / file).stat().st_size > 0, file
    history = json.loads((out / "history.json").read_text())
    steps = history["steps"]
    assert history["interrupted"] and steps > 0 and len(history["loss"]) == steps
    assert math.isfinite(history["final_loss"])
    # Exactly the finished steps: a clean run of that many epochs gives the same parameters.
    clean = tmp_path / "clean"
    assert main([*ARGS, "--epochs", str(steps), "--quiet", "--out", str(clean)]) == 0
    assert load_model(out / "model.json").state_dict() == \
        load_model(clean / "model.json").state_dict()


def _wait_for_cpu(pid: int, seconds: float) -> None:
    """Until the process has run ``seconds`` of CPU time more than now (Linux), else sleep."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        time.sleep(4 * seconds)
        return

    def used() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    start, deadline = used(), time.monotonic() + 60
    while used() < start + seconds and time.monotonic() < deadline:
        time.sleep(0.02)


def test_while_the_outputs_are_written_a_first_signal_waits_and_a_second_stops() -> None:
    signals = Signals()
    with pytest.raises(KeyboardInterrupt):
        signals._handle(signal.SIGTERM, None)  # while training: stop it, as Ctrl-C does
    assert signals.first == signal.SIGTERM and signals.name == "SIGTERM"
    writing = Signals()
    writing.training = False
    writing._handle(signal.SIGHUP, None)  # noted: the outputs are finished
    assert writing.first == signal.SIGHUP
    with pytest.raises(KeyboardInterrupt):
        writing._handle(signal.SIGINT, None)  # a second one: stop at once
    assert writing.first == signal.SIGHUP


def test_the_handlers_are_put_back() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    with Signals():
        assert signal.getsignal(signal.SIGTERM) != before[signal.SIGTERM]
    assert {s: signal.getsignal(s) for s in before} == before
