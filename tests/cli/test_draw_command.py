"""`edgegrad draw`: the happy path (values, gradients, trace, files by extension), hostile
expressions and bad arguments refused with exit status 2, and the fallback without `dot`."""

import argparse
import shutil

import pytest

from autograd import Value
from autograd.drawing.graph import to_dot
from autograd.teach.expr import FUNCTIONS
from nn.cli import draw, main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")


def run(argv, capsys):
    parser = argparse.ArgumentParser(prog="edgegrad")
    draw.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["draw", *argv])
    status = args.func(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_values_and_gradients_are_printed(capsys):
    # c*(a+2*b) at a=3, b=1, c=-2: -10, and by hand d/da = c = -2, d/db = 2c = -4, d/dc = 5.
    status, out, _ = run(["c*(a+2*b)", "a=3", "b=1", "c=-2"], capsys)
    assert status == 0
    assert out.splitlines() == ["c*(a+2*b) = -10", "  d/da = -2", "  d/db = -4", "  d/dc = 5"]


def test_steps_prints_the_trace(capsys):
    status, out, _ = run(["c*(a+2*b)", "a=3", "b=1", "c=-2", "--steps"], capsys)
    assert status == 0
    rows = [line.split() for line in out.splitlines() if line[:4].strip().isdigit()]
    assert len(rows) == 6
    assert rows[0][-3:] == ["0", "->", "5"]  # c.grad: 0 -> 5
    assert rows[-1][-3:] == ["0", "->", "-4"]  # b.grad: 0 -> -4


def test_dot_flag_prints_exactly_the_dot_text(capsys):
    status, out, _ = run(["a*a", "a=3", "--dot"], capsys)
    a = Value(3.0, "a")
    y = a * a
    y.label = "a*a"
    y.backward()
    assert status == 0 and out == to_dot(y)


def test_dot_file_needs_no_graphviz_program(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    out_file = tmp_path / "graph.dot"
    status, out, _ = run(["tanh(w*x + b)", "w=-3", "x=2", "b=6.88", "-o", str(out_file)],
                         capsys)
    assert status == 0 and f"wrote {out_file}" in out
    assert out_file.read_text().startswith("digraph {")


def test_missing_dot_program_writes_dot_instead_and_says_how_to_install(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    status, _, err = run(["a*b", "a=1", "b=2", "-o", str(tmp_path / "g.svg")], capsys)
    assert status == 1
    assert "apt-get install graphviz" in err
    assert (tmp_path / "g.dot").read_text().startswith("digraph {")


@needs_dot
def test_svg_drawing_is_written(tmp_path, capsys):
    out_file = tmp_path / "graph.svg"
    status, _, _ = run(["c*(a+2*b)", "a=3", "b=1", "c=-2", "-o", str(out_file)], capsys)
    assert status == 0
    svg = out_file.read_text()
    assert "</svg>" in svg and svg.count('class="node"') == 10


@needs_dot
def test_html_player_is_written(tmp_path, capsys):
    out_file = tmp_path / "backward.html"
    status, _, _ = run(["c*(a+2*b)", "a=3", "b=1", "c=-2", "--steps", "-o", str(out_file)],
                       capsys)
    assert status == 0
    page = out_file.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1 and page.count("\\u003csvg") == 8  # the first, then 8 frames


@pytest.mark.parametrize("argv, message", [
    (["a.__class__", "a=1"], "attribute access is not allowed"),
    (["__import__('os').system('id')"], "only the functions"),
    (["1e999 * 2"], "too large for a float"),
    (["a+b", "a=1"], "unknown name 'b'"),
    (["a+b", "a=1", "b"], "expected NAME=VALUE"),
    (["a+b", "a=1", "b=x"], "the value of b must be a number"),
    (["a+b", "a=1", "a=2", "b=1"], "a is given twice"),
    (["a", "a=1", "--fmt", "%d"], "error"),
    (["a", "a=1", "-o", "graph.jpeg"], "cannot tell the format"),
    (["a", "a=1", "--no-grad", "-o", "x.gif"], "needs gradients"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(argv, capsys)
    assert status == 2
    assert err.startswith("edgegrad draw: error:") and message in err


def test_pointer_under_the_offending_part(capsys):
    _, _, err = run(["a + b.real", "a=1", "b=2"], capsys)
    lines = err.rstrip("\n").splitlines()
    assert lines[-2].strip() == "a + b.real"
    assert lines[-1].strip() == "^^^^^^"
    assert lines[-1].index("^") == lines[-2].index("b.real")


def test_unused_values_are_noted(capsys):
    status, _, err = run(["a*2", "a=1", "z=4"], capsys)
    assert status == 0 and "not in the expression: z" in err


def test_registered_in_the_edgegrad_command(capsys):
    assert main(["draw", "x*y", "x=2", "y=5"]) == 0
    out = capsys.readouterr().out
    assert "x*y = 10" in out and "d/dx = 5" in out and "d/dy = 2" in out


def test_the_help_lists_the_expression_languages_functions(capsys):
    assert main(["draw", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"the functions {', '.join(FUNCTIONS)}." in text
    assert "leaky_relu" in FUNCTIONS and "abs" in FUNCTIONS
