"""Drawings and players rendered by Graphviz in WebAssembly, in Chromium with no network: an
.html drawing, an .html player, and a notebook executed with ``dot`` missing from PATH and
exported by nbconvert. Every request outside the machine is blocked and fails the test, as
does any console error (``tests/chromium.py``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chromium import offline_page
from test_in_chromium import (  # how a player is walked through
    PlayerPage,
    engine_grads,
    expected_frames,
    neuron,
    write_notebook,
)

from autograd import Value, save, toposort
from autograd.drawing import wasm
from autograd.drawing.player import animate

pytestmark = pytest.mark.browser

HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'


def drawn_labels(page: Any, selector: str) -> list[list[str]]:
    """The text lines of every node of every SVG under ``selector``, once they are drawn."""
    page.wait_for_selector(f"{selector} svg g.node", timeout=20_000)
    return page.evaluate("""(selector) => Array.from(document.querySelectorAll(selector))
        .map(box => Array.from(box.querySelectorAll('svg g.node text'))
        .map(t => t.textContent))""", selector)


def no_dialogs(page: Any) -> list[str]:
    """Collects any alert a label might have smuggled in."""
    seen: list[str] = []
    page.on("dialog", lambda d: (seen.append(d.message), d.dismiss()))
    return seen


def test_html_drawing_renders_itself_offline(browser: Any, tmp_path: Path) -> None:
    a, b, c = Value(3.0, label="a"), Value(1.0, label="b"), Value(-2.0, label=HOSTILE)
    L = c * (a + 2 * b)
    L.label = "L"
    L.backward()
    out = save(L, tmp_path / "graph.html", renderer="wasm")
    with offline_page(browser) as page:
        dialogs = no_dialogs(page)
        page.goto(out.resolve().as_uri())
        (labels,) = drawn_labels(page, ".edgegrad-drawing")
        for name in ("a", "b", HOSTILE, "L"):
            assert name in labels, labels
        assert "grad -10" not in labels and "grad -2" in labels  # dL/da = c = -2
        assert page.locator("img").count() == 0 and dialogs == []


def test_html_player_renders_itself_offline(browser: Any, tmp_path: Path,
                                            screenshots: list[Path]) -> None:
    root = neuron()
    player = animate(root, renderer="wasm")
    out = player.save(tmp_path / "backward.html")
    with offline_page(browser, clock=True) as page:
        page.goto(out.resolve().as_uri())
        page.wait_for_selector(".eg-frame svg", timeout=20_000)
        view = PlayerPage(page, page.locator(".edgegrad-player"), expected_frames(root),
                          player.captions, screenshots)
        view.walk(engine_grads(root), tmp_path, "wasm")


NOTEBOOK_CELLS = [
    "import shutil\n"
    "assert shutil.which('dot') is None, 'this notebook must run without dot'\n"
    "from autograd import Value, draw\n"
    "from autograd.drawing.player import animate\n"
    "a, b, c = Value(3.0, label='a'), Value(1.0, label='b'), Value(-2.0, label='c')\n"
    "L = c * (a + 2 * b); L.label = 'L'\n"
    "L.backward()",
    "draw(L)",
    "draw(L, show_grad=False, rankdir='TB')",
    "animate(L)",
]


def test_notebook_without_dot_shows_svg_drawings(browser: Any, tmp_path: Path) -> None:
    """Executed with ``dot`` missing from PATH and exported by nbconvert: both drawings and the
    player are SVG drawn in the page, Graphviz's script is in the page once, and the page
    needs no network. (nbconvert's own template asks a CDN for require.js and MathJax; they are
    pointed at an empty local file, since they are not ours.)"""
    notebook = tmp_path / "nodot.ipynb"
    write_notebook(notebook, NOTEBOOK_CELLS)
    empty_bin = tmp_path / "bin"  # PATH: nothing at all, so no dot
    empty_bin.mkdir()
    stub = tmp_path / "empty.js"
    stub.write_text("", encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PATH": str(empty_bin),
           "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute",
                           "--to", "html", f"--HTMLExporter.require_js_url={stub.as_uri()}",
                           f"--HTMLExporter.mathjax_url={stub.as_uri()}", str(notebook)],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    html = tmp_path / "nodot.html"
    text = html.read_text(encoding="utf-8")
    assert text.count(f"Viz.js {wasm.VIZ_VERSION}") == 1  # once, not once per output
    assert not re.search(r'<img[^>]*src="data:image/svg', text)  # nothing was drawn by dot
    with offline_page(browser) as page:
        page.goto(html.resolve().as_uri())
        drawings = drawn_labels(page, ".edgegrad-drawing")
        assert len(drawings) == 2
        names = {"a", "b", "c", "L"}
        assert all(names <= set(d) for d in drawings), drawings
        assert "grad -2" in drawings[0] and not any(t.startswith("grad") for t in drawings[1])
        player = page.locator(".edgegrad-player")
        page.wait_for_selector(".edgegrad-player .eg-frame svg", timeout=20_000)
        frames = expected_frames(_rebuilt())
        view = PlayerPage(page, player, frames, None)
        view.assert_frame(0)
        for k in range(1, len(frames)):
            view.click("next")
            view.assert_frame(k)


def _rebuilt() -> Value:
    """The notebook's graph, built here from the same cell."""
    namespace: dict[str, Any] = {}
    exec(NOTEBOOK_CELLS[0].split("\n", 2)[2], namespace)
    root: Value = namespace["L"]
    for v in toposort(root):
        v.grad = 0.0
    return root
