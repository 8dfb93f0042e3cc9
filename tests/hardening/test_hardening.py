"""Issue 16, a test per finding (the number is the issue's): hostile or broken input ends in the
documented error within a time and memory bound, a drawing cannot be injected into, and a bad
run loses nothing. The full disk, kill -9 and symlink cases are in test_atomic.py, the signals
in test_signals.py, the CSV labels in test_nn_data.py, the fuzzing in test_fuzz.py."""

from __future__ import annotations

import html.parser
import json
import os
import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bounds import bounded
from dot_syntax import parse

from autograd import Value, save, to_dot
from autograd.drawing.graph import RenderError
from autograd.drawing.player import Player
from nn import MLP, ModelFileError, fit, load_model
from nn.cli import draw as draw_cli
from nn.cli import main
from nn.module import MAX_MODEL_BYTES

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")

EVIL = '<x>] i [label="click" URL="javascript:alert(1)"] graph [label=<y>'


def graph() -> tuple[Value, Value, Value]:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    y = (a * b).tanh()
    y.label = "y"
    y.backward()
    return a, b, y


def links(svg: str) -> list[str]:
    """Every link or script in an SVG document: what an injected attribute would add."""
    found = []
    for el in ET.fromstring(svg).iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag in ("a", "script", "foreignObject"):
            found.append(tag)
        found += [k for k in el.attrib if k.rsplit("}", 1)[-1] in ("href", "onload", "onclick")]
    return found


# -- 1. injection through titles, group names, labels and ops ------------------------------------

def test_1_caller_strings_stay_text_in_the_dot_source() -> None:
    a, b, y = graph()
    a.label = EVIL
    y.op = EVIL
    dot = to_dot(y, title=EVIL, groups={a: EVIL, b: f"{EVIL}/{EVIL}"})
    statements = parse(dot)  # only the drawing's own statements, attributes and tags
    nodes = [s for s in statements if s.kind == "node"]
    assert len(nodes) == 4 + 2  # four values, two ops
    labels = [text for s in statements for text in s.labels]
    assert labels.count(EVIL) == 1 + 2 + 1  # the title, a's cluster and b's within it, the op
    assert any(text.startswith(EVIL) for s in nodes for text in s.labels)  # a's box


def test_1_dot_reads_no_name_escape_in_a_label() -> None:
    a, _, y = graph()
    a.label = r"\N \G \L"
    text = [t for s in parse(to_dot(y)) for t in s.labels]
    assert any(t.startswith(r"\N \G \L") for t in text)


@needs_dot
def test_1_the_rendered_svg_has_no_link_and_renders_markup_as_text(tmp_path: Path) -> None:
    a, _, y = graph()
    a.label = "<!--<script>"
    svg = save(y, tmp_path / "x.svg", title=EVIL, groups={a: EVIL}).read_text()
    assert links(svg) == []
    assert "javascript:alert(1)" in svg  # as text, where the title is drawn
    svg = save(y, tmp_path / "b.svg", title="<b>x").read_text()  # dot used to fail on it
    assert "&lt;b&gt;x" in svg


@needs_dot
def test_1_the_player_page_has_no_link() -> None:
    a, _, y = graph()
    page = Player(y, groups={a: EVIL}).to_html(standalone=True)
    for svg in _payload(page)["frames"]:
        assert links(svg) == []


# -- 10. a label cannot break the player's script -------------------------------------------------

class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.starts: list[str] = []
        self.ends: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)


def _payload(page: str) -> dict:
    script = page[page.index("<script>") + len("<script>"):page.index("</script>")]
    line = next(x for x in script.splitlines() if x.strip().startswith("var data = "))
    return json.loads(line.strip()[len("var data = "):-1])


@pytest.mark.parametrize("label", ["<!--<script>", "</script><script>alert(1)</script>",
                                   "]]><!--", "\u2028&amp;"])
def test_10_a_label_cannot_close_or_comment_out_the_players_script(label: str) -> None:
    a, _, y = graph()
    a.label = label
    player = Player(y)
    player._svgs[False] = [f"<svg>{i}</svg>" for i in range(len(player))]  # no dot needed
    page = player.to_html(standalone=True)
    script = page[page.index("<script>") + len("<script>"):page.index("</script>")]
    assert "<" not in script.split("var data = ", 1)[1].split("\n", 1)[0]
    tags = _Tags()
    tags.feed(page)
    assert tags.starts.count("script") == tags.ends.count("script") == 1
    assert any(label in c for c in _payload(page)["captions"])


# -- 2. the model file reader: bounded, regular files only, sizes before building ------------------

def _doc(**changes: object) -> dict:
    doc = {"format": "edgegrad-model", "version": 1, "kind": "MLP",
           "config": {"nin": 2, "nouts": [1], "activation": "relu",
                      "output_activation": "linear"},
           "parameters": {"layers.0.neurons.0.w.0": 0.5, "layers.0.neurons.0.w.1": 0.5,
                          "layers.0.neurons.0.b": 0.0}}
    doc.update(changes)
    return doc


def _refused(path: Path, words: str) -> None:
    model = MLP(2, [1], seed=0)
    before = model.state_dict()
    for load in (load_model, model.load):
        with bounded(seconds=10, megabytes=16), pytest.raises(ModelFileError) as info:
            load(path)
        assert words in str(info.value) and str(path) in str(info.value)
    assert model.state_dict() == before


@pytest.mark.parametrize("nouts, words", [
    ([20000, 20000, 1], "describes a MLP model of 400,100,001 parameters; a model file holds "
                         "at most"),
    ([500, 1], "describes a MLP model of 2,001 parameters, but the file holds 3"),
])
def test_2_a_small_file_cannot_ask_for_a_big_model(tmp_path: Path, nouts: list[int],
                                                   words: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(_doc(config={**_doc()["config"], "nouts": nouts})))
    model = MLP(2, [1], seed=0)
    with bounded(seconds=5, megabytes=4), pytest.raises(ModelFileError, match=words):
        load_model(path)
    with pytest.raises(ModelFileError, match="but this model is"):
        model.load(path)  # Module.load compares configs: it builds nothing either


def test_2_a_device_or_a_fifo_is_refused_without_reading_it(tmp_path: Path) -> None:
    if os.path.exists("/dev/zero"):
        zero = tmp_path / "zero.json"
        zero.symlink_to("/dev/zero")
        _refused(zero, "is a character device, not a model file")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # with no writer, reading it would wait forever
    _refused(fifo, "is a FIFO, not a model file")


def test_2_a_file_too_big_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(MAX_MODEL_BYTES + 1)  # sparse: costs no disk
    _refused(big, "a model file is at most")


# -- 4. corrupt files that escaped as other exceptions ------------------------------------------

CORRUPT = {
    "401-digit int": json.dumps(_doc()).replace('"layers.0.neurons.0.b": 0.0',
                                                '"layers.0.neurons.0.b": ' + "9" * 401),
    "5001-digit int": json.dumps(_doc()).replace('"layers.0.neurons.0.b": 0.0',
                                                 '"layers.0.neurons.0.b": ' + "9" * 5001),
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "an object nested 100,000 deep": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "1e999": json.dumps(_doc()).replace('"layers.0.neurons.0.b": 0.0',
                                        '"layers.0.neurons.0.b": 1e999'),
    "not UTF-8": "\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_4_corrupt_files_end_in_model_file_error_and_exit_2(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(CORRUPT[case].encode("latin-1" if case == "not UTF-8" else "utf-8"))
    _refused(path, "")
    assert main(["deltas", "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgegrad deltas: error:") and err.count("\n") == 1


# -- 5. divergence, even in the last step -----------------------------------------------------

def test_5_divergence_in_the_last_step_writes_nothing_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t"
    assert main(["train", "--lr", "1e300", "--lr-end", "1e300", "--epochs", "1", "--quiet",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "training diverged" in err and "Try a smaller --lr" in err
    assert list(out.iterdir()) == []


def test_5_an_update_that_overflows_is_undone() -> None:
    model = MLP(1, [1], activation="linear", seed=0)
    before = model.state_dict()
    with pytest.raises(FloatingPointError, match="training diverged: the update of step 0"):
        fit(model, [[100.0]], [1.0], loss="mse", lr=1e308, epochs=3, progress=False)
    assert model.state_dict() == before


def test_5_history_json_is_strict_json(tmp_path: Path) -> None:
    out = tmp_path / "t"
    assert main(["train", "--dataset", "xor", "--hidden", "2", "--epochs", "3", "--quiet",
                 "--out", str(out)]) == 0

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} in history.json")

    json.loads((out / "history.json").read_text(), parse_constant=refuse)


# -- 6. --out is checked before training --------------------------------------------------------

def test_6_a_bad_out_fails_before_training(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "FILE"
    file.write_text("mine")
    long_run = ["train", "--epochs", "10000000", "--quiet"]
    with bounded(seconds=20, megabytes=64):
        assert main([*long_run, "--out", str(file)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert file.read_text() == "mine"
    out = tmp_path / "run"
    (out / "model.json").mkdir(parents=True)
    with bounded(seconds=20, megabytes=64):
        assert main([*long_run, "--out", str(out)]) == 2
    assert f"cannot write {out / 'model.json'}: it is a directory" in capsys.readouterr().err


# -- 7. file modes ------------------------------------------------------------------------------

def test_7_a_new_model_file_follows_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        path = MLP(2, [1], seed=0).save(tmp_path / "m.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- 3 and 9. rendering: limits, a timeout, and dot's own messages --------------------------------

def test_3_draw_renders_only_graphs_within_its_limits(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"x{i}" for i in range(160)]  # 160 leaves and 159 sums: 319 values
    argv = ["draw", "+".join(names), *(f"{n}=1" for n in names)]
    assert main([*argv, "-o", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert "the graph has 319 values and 318 edges" in err and "at most 300 values" in err
    assert f"-o {tmp_path / 'g.dot'}" in err
    assert not (tmp_path / "g.svg").exists()
    assert main([*argv, "-o", str(tmp_path / "g.dot")]) == 0  # text has no limit


def test_3_the_player_counts_frames_before_making_them() -> None:
    x = Value(1.0, "x")
    y = Value.sum([x * float(i) for i in range(50_000)])
    with bounded(seconds=10, megabytes=16), pytest.raises(ValueError, match="max_frames=400"):
        Player(y)


@needs_dot
def test_3_dot_is_stopped_after_the_timeout(tmp_path: Path,
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
def test_9_when_dot_fails_its_message_is_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _fake_dot(tmp_path, "echo 'Error: <stdin>: syntax error in line 3' >&2\nexit 1\n",
              monkeypatch)
    _, _, y = graph()
    with pytest.raises(RenderError, match=r"dot failed on the drawing of .*g\.svg \(4 values, "
                                          r"3 edges\) \(exit status 1\): Error: <stdin>: "
                                          "syntax error in line 3"):
        save(y, tmp_path / "g.svg")
    assert main(["draw", "a*b", "a=1", "b=2", "-o", str(tmp_path / "g.svg")]) == 1
    err = capsys.readouterr().err
    assert "syntax error in line 3" in err and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
def test_9_when_dot_is_killed_the_message_says_so(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dot(tmp_path, "kill -9 $$\n", monkeypatch)
    with pytest.raises(RenderError, match="stopped by signal 9"):
        save(graph()[2], tmp_path / "g.svg")


@pytest.mark.parametrize("argv, words", [
    (["draw", "a", "a=1", "--fmt", ">16400", "-o", "f.svg"], "writes numbers 16400 characters"),
    (["draw", "a", "a=1", "--fmt", ".900f"], "the limit is 64"),
    (["train", "--hidden", "100000000"], "has 400,000,001 parameters; edgegrad train builds"),
    (["train", "--samples", "100000000"], "more than 1,000,000 points"),
    (["deltas", "--sizes", "100000000,1"], "makes an MLP of 400,000,001 parameters"),
])
def test_9_sizes_beyond_the_limits_are_refused_up_front(
        argv: list[str], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with bounded(seconds=10, megabytes=32):
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_9_running_out_of_memory_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def exhausted(args: object) -> int:
        raise MemoryError

    monkeypatch.setattr(draw_cli, "run", exhausted)
    assert main(["draw", "a", "a=1"]) == 1
    assert capsys.readouterr().err == "edgegrad draw: error: out of memory; try a smaller " \
                                      "model, data set or graph\n"


# -- 12. NAME=VALUE keys are read as Python reads names (NFKC) ------------------------------------

def test_12_fullwidth_names_are_the_names_python_reads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", "ａ*2", "ａ=2"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ａ*2 = 4", "  d/da = 2"]
    assert main(["draw", "a", "a=1", "ａ=2"]) == 2
    assert "a is given twice ('ａ' is read as a)" in capsys.readouterr().err


# -- 14. tolerances ------------------------------------------------------------------------------

@pytest.mark.parametrize("option, value", [("--rtol", "nan"), ("--atol", "-1e-9"),
                                           ("--rtol", "inf"), ("--atol", "x")])
def test_14_tolerances_are_finite_and_non_negative(option: str, value: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deltas", option, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and err.count("\n") == 1


# -- 17. messages are bounded and safe for a terminal ----------------------------------------------

def test_17_a_huge_string_in_a_model_file_gives_a_short_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(_doc(kind="K" * 2_000_000)))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert "unknown model kind" in str(info.value) and len(str(info.value)) < 300
    path.write_text(json.dumps(_doc(config={"nin": 2, "nouts": ["x" * 2_000_000]})))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert len(str(info.value)) < 600
    path.write_text(json.dumps(_doc(version="v" * 2_000_000)))
    assert main(["deltas", "--model", str(path)]) == 2
    assert len(capsys.readouterr().err) < 600


def test_17_terminal_escapes_in_input_are_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["draw", "a\x1b[2J+1", "a=1"], ["draw", "a # \x1b]0;owned\x07", "a=1"],
                 ["draw", "a", "a=1", "\x1b[31m=2"], ["draw", "a", "a=\x1b[31m"],
                 ["draw", "a\u202e+1", "a=1"], ["deltas", "--csv", "\x1b[2J.csv"]):
        main(argv)
        out, err = capsys.readouterr()
        for text in (out, err):
            assert not any(c in text for c in "\x1b\x07\u202e"), (argv, text)
    assert main(["draw", "a", "a=1", "b=" + "x" * 100_000]) == 2
    assert len(capsys.readouterr().err) < 2200
