"""Fuzzing what a user or a file can hand edgegrad: random bytes and random JSON-shaped
documents as model files; random strings as labels, titles, group names and ops through
``to_dot``, ``save`` and the player; random expressions and NAME=VALUE lists through
``edgegrad draw``. Each ends in the documented error within a time and memory bound, never
another exception, and leaves files on disk and models in memory as they were."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bounds import bounded
from dot_syntax import parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd import Value, save, to_dot
from autograd.drawing.player import Player
from autograd.teach.expr import FUNCTIONS
from nn import MLP, ModelFileError, load_model
from nn.cli import main
from nn.cli.messages import MESSAGE_LIMIT

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    # One folder for every example (hypothesis runs them inside one call of the test).
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


# -- model files ----------------------------------------------------------------------------------

GOOD = MLP(2, [2, 1], seed=0)
GOOD_DOC = json.loads(json.dumps({"format": "edgegrad-model", "version": 1, "kind": "MLP",
                                  "config": GOOD.config(), "parameters": GOOD.state_dict()}))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
sizes = st.one_of(st.integers(-3, 6), st.integers(10**3, 10**13), json_values)


@st.composite
def model_documents(draw: st.DrawFn) -> Any:
    """A model file's JSON: anything at all, or a good file with parts replaced or removed."""
    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    doc = json.loads(json.dumps(GOOD_DOC))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["format", "version", "kind", "config", "parameters",
                                      "nin", "nouts", "width", "activation", "extra",
                                      "parameter", "new parameter", "drop"]))
        config, params = doc.get("config"), doc.get("parameters")
        if where in ("nin", "nouts", "width", "activation", "extra") and isinstance(config,
                                                                                    dict):
            if where == "nin":
                config["nin"] = draw(sizes)
            elif where == "nouts":
                config["nouts"] = draw(st.lists(sizes, max_size=4) | json_values)
            elif where == "width" and isinstance(config.get("nouts"), list) and config["nouts"]:
                config["nouts"][draw(st.integers(0, len(config["nouts"]) - 1))] = draw(sizes)
            elif where == "activation":
                config["activation"] = draw(st.text(max_size=10) | json_values)
            else:
                config[draw(st.text(max_size=8))] = draw(json_values)
        elif where in ("parameter", "new parameter") and isinstance(params, dict):
            key = (draw(st.sampled_from(sorted(params))) if where == "parameter" and params
                   else draw(st.text(max_size=30)))
            params[key] = draw(json_values)
        elif where == "drop":
            doc.pop(draw(st.sampled_from(sorted(doc))), None) if doc else None
        elif where in ("format", "version", "kind", "config", "parameters"):
            doc[where] = draw(json_values)
    return doc


def _loads_or_refuses(path: Path) -> None:
    """load_model and Module.load each load the file or raise ModelFileError, in bounds; a
    model the file does not load into is unchanged."""
    model = MLP(2, [2, 1], seed=7)
    before = model.state_dict()
    with bounded(seconds=10, megabytes=32):
        try:
            load_model(path)
        except ModelFileError as e:
            assert len(str(e)) < 1000 + len(str(path))
        try:
            model.load(path)
        except ModelFileError:
            assert model.state_dict() == before


@given(st.binary(max_size=3000))
def test_random_bytes_as_a_model_file(folder: Path, data: bytes) -> None:
    path = folder / "bytes.json"
    path.write_bytes(data)
    _loads_or_refuses(path)


@given(st.data())
def test_a_good_model_file_cut_or_with_bytes_changed(folder: Path, data: st.DataObject) -> None:
    good = bytearray(json.dumps(GOOD_DOC, indent=1).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(good) - 1))
        if data.draw(st.booleans()):
            good[i] = data.draw(st.integers(0, 255))
        else:
            del good[i:]
            break
    path = folder / "changed.json"
    path.write_bytes(bytes(good))
    _loads_or_refuses(path)


@given(model_documents())
def test_random_json_documents_as_model_files(folder: Path, doc: Any) -> None:
    path = folder / "doc.json"
    path.write_text(json.dumps(doc))
    _loads_or_refuses(path)


# -- strings that reach a drawing -------------------------------------------------------------

UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def shown(text: str) -> str:
    """What a drawing shows of a caller's string: the characters XML cannot hold as U+FFFD,
    tabs and newlines as spaces."""
    return UNSAFE.sub("\ufffd", text).replace("\n", " ").replace("\t", " ")


def hostile_graph(label: str, op: str) -> tuple[Value, Value, Value]:
    a, b = Value(2.0, label), Value(-3.0, "b")
    y = (a * b).tanh()
    y.parents[0].op = op
    y.backward()
    return a, b, y


strings = st.text(max_size=40) | st.sampled_from([
    '<x>] i [label="click" URL="javascript:alert(1)"] graph [label=<y>', "<!--<script>",
    "</script>", "\\N\\G\\", '"; rankdir=', "&amp;&#x27;", "]]>", "\x00\x1b[2J", "\ud800"])


@given(label=strings, title=strings, group=strings, op=strings)
def test_random_strings_in_drawings_stay_text(folder: Path, label: str, title: str, group: str,
                                              op: str) -> None:
    a, b, y = hostile_graph(label, op)
    with bounded(seconds=10, megabytes=32):
        dot = to_dot(y, title=title, groups={a: group, b: f"{group}/{label}"})
        statements = parse(dot)
    assert sum(s.kind == "node" for s in statements) == 4 + 2  # a, b, a*b, tanh; two ops
    texts = [t for s in statements for t in s.labels]
    if label:
        assert any(t.startswith(shown(label)) for t in texts)
    assert shown(op) in texts
    for part in (p for p in f"{group}/{label}".split("/") if p):
        assert shown(part) in texts
    assert save(y, folder / "g.dot", title=title,
                groups={a: group, b: f"{group}/{label}"}).read_text() == dot


@needs_dot
@settings(max_examples=4)
@given(label=strings, title=strings, op=strings)
def test_random_strings_render_without_a_link(folder: Path, label: str, title: str,
                                              op: str) -> None:
    a, _, y = hostile_graph(label, op)
    svg = save(y, folder / "g.svg", title=title, groups={a: label}).read_text()
    for el in ET.fromstring(svg).iter():
        assert el.tag.rsplit("}", 1)[-1] not in ("a", "script", "foreignObject")
        assert not any(k.rsplit("}", 1)[-1] in ("href", "onload") for k in el.attrib)


def _script(page: str) -> str:
    return page[page.index("<script>") + len("<script>"):page.index("</script>")]


@given(label=strings, group=strings, op=strings)
def test_random_strings_in_the_player_page(label: str, group: str, op: str) -> None:
    a, _, y = hostile_graph(label, op)
    player = Player(y, groups={a: group})
    player._svgs[False] = ["<svg></svg>"] * len(player)  # the frames' text is dot's: see below
    page = player.to_html(standalone=True)
    assert page.count("<script>") == page.count("</script>") == 1
    script = _script(page)
    data = script.split("var data = ", 1)[1].split("\n", 1)[0]
    assert "<" not in data and ">" not in data
    assert json.loads(data.rstrip(";"))["captions"] == player.captions
    for source in player.dot_sources():
        parse(source)


@needs_dot
@settings(max_examples=3)
@given(label=strings, group=strings, op=strings)
def test_random_strings_in_rendered_player_frames(label: str, group: str, op: str) -> None:
    a, _, y = hostile_graph(label, op)
    page = Player(y, groups={a: group}).to_html(standalone=True)
    assert page.count("<script>") == page.count("</script>") == 1
    assert "<" not in _script(page).split("var data = ", 1)[1].split("\n", 1)[0]
    for frame in json.loads(_script(page).split("var data = ", 1)[1].split("\n", 1)[0]
                            .rstrip(";"))["frames"]:
        for el in ET.fromstring(frame).iter():
            assert el.tag.rsplit("}", 1)[-1] not in ("a", "script", "foreignObject")


# -- edgegrad draw ------------------------------------------------------------------------------

NAMES = ["a", "b", "x1", "_w"]


def expressions() -> st.SearchStrategy[str]:
    atoms = st.sampled_from([*NAMES, "ａ"]) | st.sampled_from(["2", "0", "-1.5", "1e308", "1e-320",
                                                      "9**9**9", "0.0"])
    ops = ["+", "-", "*", "/", "**"]

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(ops), inner).map(lambda t: f"({''.join(t)})")
        call = st.tuples(st.sampled_from(sorted(FUNCTIONS)), inner).map(
            lambda t: f"{t[0]}({t[1]})")
        return binary | call | inner.map(lambda e: f"-{e}")

    grammar = st.recursive(atoms, extend, max_leaves=12)
    noise = st.text(max_size=30) | st.text(alphabet="ab()*+-/.,=_'\"[]{}#\\ 0123456789e",
                                            max_size=30)
    return grammar | noise | st.tuples(grammar, noise).map("".join)


random_assignments = st.lists(
    st.tuples(st.sampled_from(NAMES) | st.text(max_size=6),
              st.sampled_from(["=", "", "=="]),
              st.sampled_from(["1", "-2.5", "0", "nan", "inf", "1e400", "x", " 3 "])
              | st.text(max_size=6)).map("".join),
    max_size=5)
every_name = st.lists(st.sampled_from(["1", "-2.5", "0.5", "3", "0", "1e-3"]),
                      min_size=len(NAMES), max_size=len(NAMES)).map(
    lambda vs: [f"{n}={v}" for n, v in zip(NAMES, vs)])
assignments = every_name | random_assignments | st.tuples(every_name, random_assignments).map(
    lambda t: t[0] + t[1])

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


# capsys is read out after every example, which is what resetting it would do.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=expressions(), values=assignments, write=st.booleans())
def test_random_expressions_through_edgegrad_draw(folder: Path, capsys: pytest.CaptureFixture[str],
                                                   expression: str, values: list[str],
                                                   write: bool) -> None:
    target = folder / "kept.dot"
    target.write_text("a file the command must not spoil")
    argv = ["draw", "--steps", *(["-o", str(target)] if write else []), "--", expression,
            *values]
    with bounded(seconds=15, megabytes=64):
        status = main(argv)
    out, err = capsys.readouterr()
    assert status in (0, 2), err
    if status == 2:
        assert err.startswith("edgegrad draw: error:") and len(err) < MESSAGE_LIMIT + 200
    if status != 0 or not write:
        assert target.read_text() == "a file the command must not spoil"
    else:
        parse(target.read_text())
    assert not CONTROL.search(out) and not CONTROL.search(err)
    assert not any(name.endswith(".tmp") for name in os.listdir(folder))
