"""The playground's Python (docs/playground/playground.py), run in CPython: what the page shows
is what the engine, the command line and the hand checker say, and bad input gets their
messages. The same module runs in Pyodide in the page (test_playground_in_chromium.py)."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from graphs import jurafsky

from autograd import Value, check_by_hand, toposort
from autograd.drawing.player import Player
from autograd.drawing.steps import backward_steps
from autograd.teach.expr import MAX_LENGTH, ExpressionError, parse
from nn.cli import main as cli

ROOT = Path(__file__).resolve().parents[2]
ISSUE_QUERY = "?expr=c*(a%2B2*b)&a=3&b=1&c=-2"


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    return module


pg = load("playground", ROOT / "docs" / "playground" / "playground.py")


def build(expression: str, values: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(pg.build(expression, values))
    return out


def number(text: str) -> float:
    return float(text.replace("\u2212", "-"))


def test_opens_on_jurafsky_after_backward() -> None:
    expression, values = pg.read_query("")
    r = build(expression, values)
    a, b, c, _, _, L = jurafsky()  # built by hand, not by the parser
    L.backward()
    assert r["ok"] and number(r["value"]) == L.data == -10
    assert {g["name"]: number(g["grad"]) for g in r["grads"]} == {"a": a.grad, "b": b.grad,
                                                                  "c": c.grad}
    assert [g["symbol"] for g in r["grads"]] == ["∂(c*(a+2*b))/∂a", "∂(c*(a+2*b))/∂b",
                                                 "∂(c*(a+2*b))/∂c"]
    assert r["query"] == ISSUE_QUERY
    # Every edge's local derivative, as a formula and as the number the engine recorded.
    root = parse(expression, a=3, b=1, c=-2)
    recorded = [float(x) for v in toposort(root) for x in v.local_grads]
    assert [number(e["value"]) for e in r["edges"]] == recorded
    assert "∂(c*(a+2*b))/∂c = a+2*b = 5" in [e["text"] for e in r["edges"]]
    assert "digraph" in r["dot"] and "a+2*b" in r["dot"]


def test_the_address_reads_as_typed_input() -> None:
    assert pg.read_query(ISSUE_QUERY) == ("c*(a+2*b)", "a=3 b=1 c=-2")
    assert pg.share_query(*pg.read_query(ISSUE_QUERY)) == ISSUE_QUERY
    for expression, values in [("tanh(x*w + b)", "x=2 w=-3 b=6.88"), ("a**2/b", "a=1.5 b=-2"),
                               ("a+", "a=1"), ("a*b", "a=1 a=2"), ("a", "a=x"), ("a", "1a=2"),
                               ("log(a)", "a=0"), ("a % b", "a=5 b=3")]:
        query = pg.share_query(expression, values)
        assert pg.read_query(query) == (expression, values)
        assert build(*pg.read_query(query)) == build(expression, values)


def test_a_refused_expression_gets_the_parsers_message() -> None:
    for expression in ["a+", "a.b", "__import__('os')", "a // b", "x" * (MAX_LENGTH + 1),
                       "log(a - 3)", "foo(a)"]:
        with pytest.raises(ExpressionError) as e:
            parse(expression, a=3, b=1)
        r = build(expression, "a=3 b=1")
        assert r == {"ok": False, "field": "expr", "error": str(e.value)}


def test_values_are_read_as_the_command_line_reads_them() -> None:
    for values in ["a=x", "a", "a=1 a=2", "=3", "1a=2"]:
        r = build("a", values)
        assert r["ok"] is False and r["field"] == "values"
        code = cli(["draw", "a", *values.split()])
        assert code == 2
    assert build("a*b", "a=1, b=2")["ok"]  # commas separate, as spaces do
    for bad in ["nan", "inf", "-inf", "1e400"]:  # the command line takes these; the page not
        r = build("a*2", f"a={bad}")
        assert r["ok"] is False and r["field"] == "values"
        assert ("too large for a float" if bad == "1e400" else "finite number") in r["error"]


def test_the_engines_bounds_are_refused_with_the_reason() -> None:
    wide = "a" + "*a" * 400  # 401 values: more than edgegrad draws
    r = build(wide, "a=1")
    assert r["ok"] is False and "at most 300 values and 600 edges" in r["error"]
    r = build("exp(exp(a))", "a=1000")
    assert r["ok"] and r["value"] == "inf"  # an overflow is the engine's result, shown as is


def test_a_big_graph_is_collapsed_with_a_notice() -> None:
    terms = [f"tanh(x{i}*w{i})" for i in range(20)]
    values = " ".join(f"x{i}={i / 10} w{i}=1" for i in range(20))
    r = build(" + ".join(terms), values)
    assert r["ok"] and r["nodes"] > pg.MAX_DRAWN
    assert "collapsed" in r["notice"]
    assert drawn_boxes(r["dot"]) <= pg.MAX_DRAWN
    assert number(r["value"]) == pytest.approx(sum(math.tanh(i / 10) for i in range(20)),
                                               rel=1e-3)  # shown with 4 digits
    small = build("a*b", "a=1 b=2")
    assert small["notice"] == "" and "collapsed" not in small["dot"]


def drawn_boxes(dot: str) -> int:
    """The values a collapsed drawing still shows, from its title: n - hidden + boxes."""
    found = re.search(r"(\d+) groups? collapsed: (\d+) of (\d+) nodes hidden", dot)
    assert found, "the drawing says nothing collapsed"
    boxes, hidden, n = (int(x) for x in found.groups())
    return n - hidden + boxes


@pytest.mark.parametrize("expression, values", [
    ("a" + "*a" * 250, "a=1.001"),  # a chain: one box hides most of it
    ("+".join(f"(a*{i}+b)" for i in range(40)), "a=1 b=2"),  # many small terms
    ("tanh(" * 100 + "a" + ")" * 100, "a=0.5"),  # nested calls
    (" + ".join(f"exp(x{i})*exp(-x{i})" for i in range(12)),
     " ".join(f"x{i}={i}" for i in range(12))),
])
def test_every_big_shape_fits_the_drawing(expression: str, values: str) -> None:
    r = build(expression, values)
    assert r["ok"] and r["nodes"] > pg.MAX_DRAWN
    assert drawn_boxes(r["dot"]) <= pg.MAX_DRAWN
    root = parse(expression, {k: float(x) for k, x in (v.split("=") for v in values.split())})
    assert r["value"] == f"{root.data:.4g}".replace("-", "\u2212")


def test_steps_follow_backward_edge_by_edge() -> None:
    r = build("a*a + a", "a=3")
    root = parse("a*a + a", a=3)
    steps = list(backward_steps(root))
    player = Player(root, show_formula=True)
    assert r["steps"] == len(steps) == 4
    frames = [json.loads(pg.frame(k)) for k in range(len(steps) + 2)]
    assert [f["caption"] for f in frames] == player.captions
    assert [f["dot"] for f in frames] == player.dot_sources(captions=False)
    assert json.loads(pg.frame(99))["index"] == len(steps) + 1  # clamped to the last frame


def test_hand_checked_numbers_get_edgegrad_checks_diagnosis(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    build("c*(a+2*b)", "a=3 b=1 c=-2")
    answers = {"a+2*b.data": "5", "c.grad": "5", "a+2*b.grad": "2", "a.grad": "2",
               "b.grad": "-2", "dc*(a+2*b)/da+2*b": "-2", "2*b.grad": ""}
    r = json.loads(pg.check(json.dumps(answers)))
    problem = {"expression": "c*(a+2*b)", "values": {"a": 3, "b": 1, "c": -2},
               "answers": {k: float(v) for k, v in answers.items() if v}}
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem), encoding="utf-8")
    capsys.readouterr()
    assert cli(["check", str(path)]) == 1
    assert r["text"].rstrip("\n") == capsys.readouterr().out.rstrip("\n")
    by_key = {row["key"]: row for row in r["rows"]}
    assert "2*b.grad" not in by_key  # a blank box is skipped
    assert by_key["c.grad"]["right"] and by_key["a+2*b.data"]["right"]
    assert by_key["dc*(a+2*b)/da+2*b"]["right"]
    assert by_key["a+2*b.grad"]["diagnosis"] == "sign slip"
    assert by_key["a.grad"]["diagnosis"] == "follows from a wrong number upstream"


def test_a_missing_path_is_diagnosed() -> None:
    build("a*b + a", "a=2 b=5")
    r = json.loads(pg.check(json.dumps({"a.grad": "5"})))  # the path through + a left out
    assert r["rows"][0]["diagnosis"] == "a path was left out"


def test_bad_answers_are_refused_with_a_reason() -> None:
    build("a*b", "a=2 b=5")
    assert json.loads(pg.check(json.dumps({"a.grad": "five"})))["error"] == \
        "a.grad: 'five' is not a number"
    assert "at least one" in json.loads(pg.check(json.dumps({"a.grad": " "})))["error"]
    assert json.loads(pg.check(json.dumps({"a.grad": "\u22125"})))["rows"][0]["given"] == \
        "\u22125"  # the minus sign the page shows is read back


@pytest.mark.parametrize("expression, values", [
    ("c*(a+2*b)", "a=3 b=1 c=-2"), ("a/b + b/a", "a=1 b=2"), ("a*a + a*a", "a=3"),
    ("tanh(x1*w1 + x2*w2 + b)", "x1=2 x2=0 w1=-3 w2=1 b=6.88"), ("(a/b)/(b/a)", "a=2 b=3")])
def test_every_question_is_a_key_check_by_hand_reads(expression: str, values: str) -> None:
    r = build(expression, values)
    graph = pg.Graph(expression, values)
    for q in r["questions"]:
        mark = check_by_hand(graph.root, {q["key"]: 0.0}).marks[0]
        assert mark.kind == q["kind"]
        assert mark.what == q["what"] or q["kind"] == "value"
    asked = {q["key"] for q in r["questions"]}
    assert all(not k.startswith("2.") for k in asked)  # no question about a written number


def test_examples_all_draw() -> None:
    for expression, values in pg.EXAMPLES.values():
        r = build(expression, values)
        assert r["ok"], r


def test_training_lowers_the_loss_and_draws_the_boundary() -> None:
    start = json.loads(pg.train_start("moons", "8,8", 0.5, 100, 1))
    assert start["ok"] and len(start["points"]) == 100 and start["classes"] == 2
    losses = [json.loads(pg.train_epoch(False))["loss"] for _ in range(15)]
    assert losses[-1] < 0.6 * losses[0]
    last = json.loads(pg.train_epoch(True))
    grid = last["grid"]
    assert len(grid) == len(grid[0]) == pg.GRID and {c for row in grid for c in row} == {0, 1}
    # The grid is the model's own prediction at each cell's centre.
    training = pg._state["training"]
    x0, x1, y0, y1 = training.box
    x, y = x0 + (x1 - x0) * 0.5 / pg.GRID, y0 + (y1 - y0) * 0.5 / pg.GRID
    assert grid[0][0] == (1 if training.model([x, y])[0].data > 0 else 0)


def test_bad_training_settings_are_refused() -> None:
    for args, field in [(("moons", "8,x", 0.5, 100, 1), "hidden"),
                        (("moons", "999", 0.5, 100, 1), "hidden"),
                        (("moons", "8,8,8,8", 0.5, 100, 1), "hidden"),
                        (("iris", "8", 0.5, 100, 1), "dataset"),
                        (("moons", "8", float("nan"), 100, 1), "lr"),
                        (("moons", "8", 0.5, 10**6, 1), "samples")]:
        r = json.loads(pg.train_start(*args))
        assert r["ok"] is False and r["field"] == field, r


def test_the_hook_zips_the_packages_sources(tmp_path: Path) -> None:
    hook = load("playground_hook", ROOT / "docs" / "playground_hook.py")
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    names = hook.sources_zip(ROOT, first)
    hook.sources_zip(ROOT, second)
    assert first.read_bytes() == second.read_bytes()  # the same sources, the same zip
    expected = sorted(str(p.relative_to(ROOT)) for pkg in ("autograd", "nn")
                      for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts)
    assert names == expected and "autograd/value.py" in names and "nn/train.py" in names
    with zipfile.ZipFile(first) as z:
        assert z.read("autograd/value.py") == (ROOT / "autograd" / "value.py").read_bytes()


def test_no_value_is_touched_outside_the_graph() -> None:
    # The glue keeps one graph; building another replaces it, and a failed build leaves none.
    build("a*b", "a=2 b=5")
    assert build("a+", "a=1")["ok"] is False
    assert json.loads(pg.frame(0)) == {"ok": False, "field": "expr",
                                       "error": "draw an expression first"}
    assert isinstance(pg.Graph("a*b", "a=2 b=5").root, Value)
