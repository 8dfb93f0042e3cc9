"""``edgegrad draw`` renders only graphs within its limits, refuses sizes before it spends
anything on them (``--fmt`` before a number is formatted), reports dot's failures in one line,
stops dot after the timeout, and a stopped draw (SIGTERM) stops its dot."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bounds import bounded
from graphs import tanh_of_product

from autograd import save
from autograd.drawing.graph import DrawOptions, RenderError
from autograd.drawing.player import Player
from nn.cli import draw as draw_cli
from nn.cli import main

ROOT = Path(__file__).resolve().parents[2]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")




def test_draw_renders_only_graphs_within_its_limits(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"x{i}" for i in range(160)]  # 160 leaves and 159 sums: 319 values
    argv = ["draw", "+".join(names), *(f"{n}=1" for n in names)]
    assert main([*argv, "-o", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert "the graph has 319 values and 318 edges" in err and "at most 300 values" in err
    assert f"-o {tmp_path / 'g.dot'}" in err
    assert not (tmp_path / "g.svg").exists()
    assert main([*argv, "-o", str(tmp_path / "g.dot")]) == 0  # text has no limit


@needs_dot
def test_dot_is_stopped_after_the_timeout(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    product = "*".join(["a"] * 60)  # took dot 56 s
    with bounded(seconds=30, megabytes=64):
        assert main(["draw", product, "a=1.01", "-o", str(tmp_path / "p.svg"),
                     "--timeout", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "dot took more than 0.5 s" in err and "--timeout" in err and "groups=" in err
    assert not (tmp_path / "p.svg").exists()
    from autograd.teach.expr import parse as parse_expression

    root = parse_expression(product, a=1.01)
    with bounded(seconds=30, megabytes=64), pytest.raises(RenderError, match=r"0\.5 s"):
        Player(root, timeout=0.5).svg_frames()


def _fake_dot(tmp_path: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dot = bin_dir / "dot"
    dot.write_text(f"#!/bin/sh\n{shutil.which('cat')} > /dev/null\n" + script)
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
def test_when_dot_fails_its_message_is_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _fake_dot(tmp_path, "echo 'Error: <stdin>: syntax error in line 3' >&2\nexit 1\n",
              monkeypatch)
    _, _, y = tanh_of_product()
    with pytest.raises(RenderError, match=r"dot failed on the drawing of .*g\.svg \(4 values, "
                                          r"3 edges\) \(exit status 1\): Error: <stdin>: "
                                          "syntax error in line 3"):
        save(y, tmp_path / "g.svg")
    assert main(["draw", "a*b", "a=1", "b=2", "-o", str(tmp_path / "g.svg")]) == 1
    err = capsys.readouterr().err
    assert "syntax error in line 3" in err and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
def test_when_dot_is_killed_the_message_says_so(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dot(tmp_path, "kill -9 $$\n", monkeypatch)
    with pytest.raises(RenderError, match="stopped by signal 9"):
        save(tanh_of_product()[2], tmp_path / "g.svg")


@pytest.mark.parametrize("argv, words", [
    (["draw", "a", "a=1", "--fmt", ">16400", "-o", "f.svg"], "writes numbers 16400 characters"),
    (["draw", "a", "a=1", "--fmt", ".900f"], "the limit is 64"),
    (["train", "--hidden", "100000000"], "has 400,000,001 parameters; edgegrad train builds"),
    (["train", "--samples", "100000000"], "more than 1,000,000 points"),
    (["deltas", "--sizes", "100000000,1"], "makes an MLP of 400,000,001 parameters"),
])
def test_sizes_beyond_the_limits_are_refused_up_front(
        argv: list[str], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with bounded(seconds=10, megabytes=32):
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_running_out_of_memory_is_one_line_and_exits_2(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def exhausted(args: object) -> int:
        raise MemoryError

    monkeypatch.setattr(draw_cli, "run", exhausted)
    assert main(["draw", "a", "a=1"]) == 2  # bad input: a graph too big for the memory
    assert capsys.readouterr().err == "edgegrad draw: error: out of memory; try a smaller " \
                                      "model, data set or graph\n"


@pytest.mark.parametrize("fmt, words", [
    (">3000000000", "writes numbers 3000000000 characters wide; the limit is 64"),
    (".2000000000f", "writes numbers with 2000000000 digits after the point; the limit is 64"),
    ("0" + "9" * 5000, "writes numbers 09999999999999999999 characters wide"),
])
def test_a_format_too_wide_is_refused_before_a_number_is_formatted(fmt: str, words: str) -> None:
    # format(1/3, ">3000000000") would first make a string of 3 GB.
    with bounded(seconds=5, megabytes=4), pytest.raises(ValueError, match=words):
        DrawOptions(fmt=fmt)


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
def test_a_stopped_draw_stops_its_dot(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file = tmp_path / "dot.pid"
    dot = bin_dir / "dot"
    # A dot that never finishes: it notes its pid, then becomes a long sleep (same process).
    dot.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec {shutil.which('sleep')} 300\n")
    dot.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    draw = subprocess.Popen([sys.executable, "-m", "nn", "draw", "a*b", "a=1", "b=2", "-o",
                             str(tmp_path / "g.svg"), "--timeout", "300"], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        for _ in range(600):
            if pid_file.exists() and pid_file.read_text().strip():
                break
            time.sleep(0.05)
        dot_pid = int(pid_file.read_text())
        draw.send_signal(signal.SIGTERM)
        _, err = draw.communicate(timeout=30)
    finally:
        draw.kill()
    assert draw.returncode == 128 + signal.SIGTERM, err
    assert err.strip().endswith("edgegrad: stopped by SIGTERM") and "Traceback" not in err
    for _ in range(100):  # dot is killed and reaped by the time draw exits; allow a moment
        try:
            os.kill(dot_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(dot_pid, signal.SIGKILL)
        raise AssertionError("dot kept running after edgegrad draw was stopped")
    assert not (tmp_path / "g.svg").exists()
