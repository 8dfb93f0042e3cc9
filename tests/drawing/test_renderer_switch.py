"""The renderer switch (auto, dot, wasm), Graphviz in WebAssembly's script sent once per notebook
session, and the .html drawing: self-contained, its DOT text intact, no label able to inject
markup or script."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from autograd import Value, draw, save, to_dot
from autograd.drawing import render, wasm
from autograd.drawing.player import Player, animate

SCRIPT_MARK = f"Viz.js {wasm.VIZ_VERSION}"  # the first line of the script's header
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="needs Graphviz's dot")

HOSTILE = ['</script><script>alert("x")</script>', "<!--", "<img src=x onerror=alert(1)>",
           "a\u2028b", "&amp;", "\\N", '"quoted"']


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new kernel session: renderer ``auto``, the script not yet sent."""
    monkeypatch.setattr(render, "_default", "auto")
    monkeypatch.setattr(wasm, "_sent", False)


def no_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name, *a, **k: None)


def graph() -> Value:
    a, b, c = Value(3.0, label="a"), Value(1.0, label="b"), Value(-2.0, label="c")
    L = c * (a + 2 * b)
    L.label = "L"
    L.backward()
    return L


def hostile_graph() -> Value:
    leaves = [Value(float(i + 1), label=text) for i, text in enumerate(HOSTILE)]
    root = Value.sum(leaves) * leaves[0]
    root.label = HOSTILE[0]
    root.backward()
    return root


# ---------------------------------------------------------------------------------------------
# The switch


def test_auto_is_dot_when_installed_and_wasm_when_not(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name, *a, **k: f"/usr/bin/{name}")
    assert render.choose_renderer() == "dot"
    assert render.choose_renderer("auto") == "dot"
    assert render.choose_renderer("wasm") == "wasm"
    no_dot(monkeypatch)
    assert render.choose_renderer() == "wasm"
    assert render.choose_renderer("dot") == "dot"  # asked for: not replaced


@pytest.mark.parametrize("bad", ["svg", "Dot", "", None, 3])
def test_a_bad_renderer_names_the_valid_ones(bad):
    if bad is None:  # None means "the session's" everywhere but set_renderer
        with pytest.raises(ValueError, match="'auto', 'dot', 'wasm'; got None"):
            render.set_renderer(bad)  # type: ignore[arg-type]
        return
    root = graph()
    for call in (lambda: render.set_renderer(bad), lambda: draw(root, renderer=bad),
                 lambda: save(root, "never.html", renderer=bad),
                 lambda: Player(root, renderer=bad)):
        with pytest.raises(ValueError, match=r"renderer must be one of 'auto', 'dot', 'wasm'"):
            call()
    assert not Path("never.html").exists()


def test_set_renderer_is_the_default_of_later_drawings(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name, *a, **k: f"/usr/bin/{name}")
    render.set_renderer("wasm")
    assert list(draw(graph())._repr_mimebundle_()) == ["text/html"]
    # A drawing's own renderer wins over the session's.
    bundle = draw(graph(), renderer="dot")._repr_mimebundle_()
    assert "text/html" not in bundle


def test_jupyter_draws_in_the_browser_when_dot_is_missing(monkeypatch):
    no_dot(monkeypatch)
    root = graph()
    bundle = draw(root)._repr_mimebundle_()
    assert list(bundle) == ["text/html"]
    assert json.dumps(to_dot(root))[1:40] in bundle["text/html"]  # the DOT text, as JSON


def test_without_the_graphviz_package_draw_still_shows(monkeypatch):
    """The wheel alone (no extras): ``draw`` returns a Drawing of the same DOT text."""
    import builtins

    real_import = builtins.__import__

    def refuse_graphviz(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("no graphviz here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse_graphviz)
    no_dot(monkeypatch)
    root = graph()
    drawing = draw(root)
    assert isinstance(drawing, render.Drawing)
    assert drawing.source == to_dot(root)
    assert "text/html" in drawing._repr_mimebundle_()


@needs_dot
def test_dot_renderer_gives_svg():
    bundle = draw(graph(), renderer="dot")._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert bundle["image/svg+xml"].startswith("<svg") and ">L</text>" in bundle["image/svg+xml"]


def test_missing_script_says_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setattr(wasm, "__file__", str(tmp_path / "autograd" / "drawing" / "wasm.py"))
    with pytest.raises(wasm.ScriptNotFound, match=r"run `npm ci` in .*make node_modules"):
        wasm.script_path()
    no_dot(monkeypatch)
    wasm.script.cache_clear()
    try:
        bundle = draw(graph())._repr_mimebundle_()
        assert list(bundle) == ["text/plain"] and "npm ci" in bundle["text/plain"]
        with pytest.raises(wasm.ScriptNotFound):
            save(graph(), tmp_path / "graph.html")
        assert not (tmp_path / "graph.html").exists()
    finally:
        wasm.script.cache_clear()


# ---------------------------------------------------------------------------------------------
# Once per notebook session


def test_the_script_comes_once_per_session_not_once_per_output(monkeypatch):
    no_dot(monkeypatch)
    root = graph()
    outputs = [draw(root)._repr_mimebundle_()["text/html"],
               draw(root, show_grad=False)._repr_mimebundle_()["text/html"],
               animate(root)._repr_html_(),
               draw(root)._repr_mimebundle_()["text/html"]]
    assert [o.count(SCRIPT_MARK) for o in outputs] == [1, 0, 0, 0]
    # Every output draws itself, with the renderer the first one left on the page.
    assert all("Viz.instance()" in o for o in outputs)
    wasm.send_script_again()
    again = animate(root)._repr_html_()
    assert again.count(SCRIPT_MARK) == 1
    assert draw(root)._repr_mimebundle_()["text/html"].count(SCRIPT_MARK) == 0


def test_dot_outputs_do_not_use_up_the_script(monkeypatch):
    if not HAS_DOT:
        pytest.skip("needs Graphviz's dot")
    first = draw(graph(), renderer="dot")._repr_mimebundle_()
    assert SCRIPT_MARK not in json.dumps(first)
    later = draw(graph(), renderer="wasm")._repr_mimebundle_()["text/html"]
    assert later.count(SCRIPT_MARK) == 1


# ---------------------------------------------------------------------------------------------
# The .html files


def script_elements(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)


def test_html_drawing_with_wasm_is_one_self_contained_file(tmp_path):
    root = graph()
    out = save(root, tmp_path / "graph.html", renderer="wasm")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count(SCRIPT_MARK) == 1
    assert wasm.script() in page  # the whole script, inline
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)  # nothing fetched


def test_hostile_labels_in_an_html_drawing_stay_text(tmp_path):
    """Labels that would close the script, open a comment or add an element are data: the page
    has exactly our two script elements, and the DOT text read back from the page's JSON is the
    drawing's DOT text exactly."""
    root = hostile_graph()
    page = save(root, tmp_path / "graph.html", renderer="wasm").read_text(encoding="utf-8")
    scripts = script_elements(page)
    assert len(scripts) == 2 and page.count("<script") == 2 and page.count("</script") == 2
    assert "<img" not in page
    match = re.search(r"var dot = (.*?);\n", scripts[1])
    assert match is not None
    assert json.loads(match.group(1)) == to_dot(root)
    assert not re.search(r"[<>&\u2028\u2029]", match.group(1))
    assert "<!--" not in page


@needs_dot
def test_hostile_labels_in_an_html_drawing_by_dot_stay_text(tmp_path):
    root = hostile_graph()
    page = save(root, tmp_path / "graph.html", renderer="dot",
                title=HOSTILE[2]).read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert page.count(SCRIPT_MARK) == 0  # dot drew it: no script needed
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_hostile_labels_in_an_html_player_stay_text(tmp_path):
    root = hostile_graph()
    player = animate(root, renderer="wasm")
    page = player.save(tmp_path / "backward.html").read_text(encoding="utf-8")
    scripts = script_elements(page)
    assert len(scripts) == 2 and page.count("<script") == 2 and page.count("</script") == 2
    assert "<img" not in page and "<!--" not in page
    match = re.search(r"var data = (.*?);\n", scripts[1])
    assert match is not None
    data = json.loads(match.group(1))
    assert data["dots"] == player.dot_sources(captions=False)
    assert data["captions"] == player.captions


def test_edgegrad_draw_writes_an_html_drawing_without_dot(tmp_path, monkeypatch, capsys):
    from nn.cli import main

    no_dot(monkeypatch)
    out = tmp_path / "graph.html"
    assert main(["draw", "c*(a+2*b)", "a=3", "b=1", "c=-2", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count(SCRIPT_MARK) == 1 and "edgegrad-player" not in page
    player = tmp_path / "backward.html"
    assert main(["draw", "c*(a+2*b)", "a=3", "b=1", "c=-2", "--steps", "-o", str(player)]) == 0
    assert "edgegrad-player" in player.read_text(encoding="utf-8")
    assert main(["draw", "a*b", "a=1", "b=2", "--renderer", "gpu", "-o", str(out)]) == 2
    assert "--renderer: invalid choice: 'gpu'" in capsys.readouterr().err
