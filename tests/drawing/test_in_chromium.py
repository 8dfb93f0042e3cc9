"""The HTML the project writes, opened in a real browser: Chromium, driven by Playwright.

The step-through player is HTML and JavaScript. These tests load it as a user does (a page saved
from Python, a page written by ``edgegrad draw``, a notebook executed and exported by nbconvert),
click its buttons, drag its slider, and read what the page shows: the frame counter, the caption,
the highlighted edge and the grads of every frame, against the engine. Any console error or
uncaught exception fails the test. Screenshots of the first and last frames are written under
each test's ``tmp_path``; the run's summary lists their paths.

They need a Chromium or Chrome executable: ``make test`` installs Debian's ``chromium`` when it
is missing, and ``EDGEGRAD_CHROMIUM`` may name another. Without one they are skipped, saying so.
"""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autograd import Value, toposort
from autograd.drawing.graph import GRAD_COLOR, HIGHLIGHT
from autograd.drawing.player import Player, animate
from autograd.drawing.steps import backward_steps, node_names
from autograd.teach.expr import parse

pytestmark = pytest.mark.browser

# The players' own pace; the pages run on Playwright's fake clock, so playing costs no time.
INTERVAL_MS = inspect.signature(Player).parameters["interval_ms"].default
BUTTONS = ("first", "prev", "play", "next")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that fails the test on any console error or uncaught exception. The pages
    are files; anything they ask of the network (nbconvert's CDN scripts) gets an empty reply.
    Its timers run on a fake clock that the test advances."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    tab = context.new_page()
    tab.clock.install()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    tab.route(lambda url: not url.startswith("file:"),
              lambda route: route.fulfill(status=200, content_type="text/javascript", body=""))
    yield tab
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


# ---------------------------------------------------------------------------------------------
# What each frame should show, worked out from the graph


@dataclass(frozen=True)
class Frame:
    count: str  # the counter, "k / n"
    edge: tuple[str, int] | None  # the highlighted edge: its SVG title and rank among twins
    shown: frozenset[str]  # the nodes (SVG titles) whose grad is written in the grad colour
    step: str | None  # how the caption of a step frame starts: "step 3/10: w1.grad += "


def expected_frames(root: Value) -> list[Frame]:
    """Frame 0 is the seeded root, frame k the k-th chain-rule step, the last frame the end.

    A drawing names node i ``v{i}`` (its topological index) and its op ``v{i}op``; the edge
    parent -> op of node i is titled ``v{p}->v{i}op``, and an operand used twice (``a*a``)
    draws two edges with that title, in operand order.
    """
    ids = {v: i for i, v in enumerate(toposort(root))}
    names = node_names(root)
    steps = list(backward_steps(root))
    n = len(steps) + 2
    shown = {f"v{ids[root]}"}
    frames = [Frame(f"1 / {n}", None, frozenset(shown), None)]
    for s in steps:
        title = f"v{ids[s.parent]}->v{ids[s.node]}op"
        twin = sum(1 for p in s.node.parents[: s.parent_index] if p is s.parent)
        shown.add(f"v{ids[s.parent]}")
        frames.append(Frame(f"{s.index + 2} / {n}", (title, twin), frozenset(shown),
                            f"step {s.index + 1}/{len(steps)}: {names[s.parent]}.grad += "))
    frames.append(Frame(f"{n} / {n}", None, frozenset(shown), None))
    return frames


def engine_grads(root: Value) -> dict[str, float]:
    """Every node's grad after ``backward`` from fresh leaves, by SVG title."""
    order = toposort(root)
    for v in order:
        v.grad = 0.0
    root.backward()
    return {f"v{i}": v.grad for i, v in enumerate(order)}


# What one player shows now, read in one round trip.
STATE_JS = """([root, highlight, gradColor]) => {
  const frame = root.querySelector(".eg-frame");
  const edges = Array.from(frame.querySelectorAll("g.edge")).map(g => ({
    title: g.querySelector("title").textContent,
    seq: parseInt(g.id.replace(/\\D/g, ""), 10),
    hot: Array.from(g.querySelectorAll("path")).some(p => p.getAttribute("stroke") === highlight),
  }));
  const hot = edges.filter(e => e.hot).map(e =>
    [e.title, edges.filter(o => o.title === e.title && o.seq < e.seq).length]);
  const grads = {}, shown = [];
  for (const g of frame.querySelectorAll("g.node")) {
    const title = g.querySelector("title").textContent;
    for (const t of g.querySelectorAll("text")) {
      const m = t.textContent.match(/^grad\\s+(\\S+)$/);
      if (!m) continue;
      grads[title] = m[1].replace("\\u2212", "-");
      if (t.getAttribute("fill") === gradColor) shown.push(title);
    }
  }
  return {count: root.querySelector(".eg-count").textContent,
          caption: root.querySelector(".eg-caption").textContent,
          slider: root.querySelector("input[type=range]").value,
          hot, grads, shown};
}"""

# Each button's visible content: its text, and the size of each icon drawn in it (an element
# without text that is rendered: inline SVG, or a box drawn with CSS).
BUTTONS_JS = """(root) => Array.from(root.querySelectorAll("button")).map(b => ({
  go: b.getAttribute("data-go"),
  text: b.innerText.trim(),
  width: b.getBoundingClientRect().width,
  icons: Array.from(b.querySelectorAll("*"))
    .filter(e => e.textContent.trim() === "" && e.getClientRects().length > 0)
    .map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height]),
}))"""


class PlayerPage:
    """One player on a page, and what it shows."""

    def __init__(self, page: Any, root: Any, frames: list[Frame], captions: list[str] | None,
                 screenshots: list[Path] | None = None):
        self.page, self.root, self.frames, self.captions = page, root, frames, captions
        self.screenshots = screenshots if screenshots is not None else []

    def state(self) -> dict[str, Any]:
        handle = self.root.element_handle()
        return self.page.evaluate(STATE_JS, [handle, HIGHLIGHT, GRAD_COLOR])

    def click(self, go: str) -> None:
        self.root.locator(f'[data-go="{go}"]').click()

    def assert_frame(self, k: int) -> dict[str, Any]:
        want, got = self.frames[k], self.state()
        where = f"frame {k}: {got}"
        assert got["count"] == want.count, where
        assert got["slider"] == str(k), where
        assert [tuple(e) for e in got["hot"]] == ([want.edge] if want.edge else []), where
        assert frozenset(got["shown"]) == want.shown, where
        if self.captions is not None:
            assert got["caption"] == self.captions[k], where
        if want.step is not None:
            assert got["caption"].startswith(want.step), where
        return got

    def assert_buttons_visible(self) -> None:
        """Every button shows something every font can draw: ASCII text, or an icon drawn as
        SVG or CSS with a size. (A glyph the page's font lacks, such as U+23EE for "first",
        draws as an empty box.)"""
        for b in self.page.evaluate(BUTTONS_JS, self.root.element_handle()):
            assert b["width"] > 0, b
            assert all(" " <= c <= "~" for c in b["text"]), (
                f"button {b['go']} shows {b['text']!r}: characters outside ASCII may be "
                "missing from the page's font; draw icons as SVG or CSS shapes")
            assert all(w > 0 and h > 0 for w, h in b["icons"]), b
            assert b["text"] or b["icons"], f"button {b['go']} shows nothing: {b}"

    def shot(self, path: Path) -> None:
        self.root.screenshot(path=str(path))
        assert path.stat().st_size > 1000
        self.screenshots.append(path)

    def walk(self, grads: dict[str, float], shots: Path, name: str) -> None:
        """The whole tour: every frame by next, the ends by first and last, back by prev, play
        and pause, the slider dragged and stepped with the keyboard."""
        last = len(self.frames) - 1
        self.assert_buttons_visible()
        self.assert_frame(0)
        self.shot(shots / f"{name}-first.png")
        self.click("prev")  # already at the first frame: stays
        self.assert_frame(0)
        for k in range(1, last + 1):
            self.click("next")
            self.assert_frame(k)
        final = self.assert_frame(last)
        self.shot(shots / f"{name}-last.png")
        assert set(final["grads"]) == set(grads)
        for node, text in final["grads"].items():
            assert math.isclose(float(text), grads[node], rel_tol=5e-4, abs_tol=1e-12), (
                f"{node}: the last frame shows grad {text}, the engine has {grads[node]}")
        self.click("next")  # already at the last frame: stays
        self.assert_frame(last)
        self.click("prev")
        self.assert_frame(last - 1)
        self.click("first")
        self.assert_frame(0)

        # Play: one frame per interval, to the end, where it stops; from the end it starts
        # again at the first frame; a second press pauses.
        play = self.root.locator('[data-go="play"]')
        clock = self.page.clock
        self.click("play")
        assert play.get_attribute("title") == "pause"
        self.assert_buttons_visible()  # with the pause label
        clock.run_for(INTERVAL_MS)
        self.assert_frame(1)
        clock.run_for(INTERVAL_MS * last)
        self.assert_frame(last)
        assert play.get_attribute("title") == "play"
        self.click("play")
        self.assert_frame(0)
        clock.run_for(INTERVAL_MS)
        self.click("play")
        self.assert_frame(1)
        clock.run_for(INTERVAL_MS * 5)
        self.assert_frame(1)
        assert play.get_attribute("title") == "play"

        # The slider: dragged to each end and to the middle, then stepped with the arrow keys.
        slider = self.root.locator("input[type=range]")
        box = slider.bounding_box()
        y = box["y"] + box["height"] / 2
        for x, k in ((box["x"] + box["width"] - 1, last), (box["x"] + 1, 0)):
            self.page.mouse.move(box["x"] + box["width"] / 2, y)
            self.page.mouse.down()
            self.page.mouse.move(x, y, steps=5)
            self.page.mouse.up()
            self.assert_frame(k)
        self.page.mouse.click(box["x"] + box["width"] / 2, y)
        middle = int(self.state()["slider"])
        assert 0 < middle < last
        self.assert_frame(middle)
        slider.press("ArrowRight")
        self.assert_frame(middle + 1)
        slider.press("Home")
        self.assert_frame(0)


def neuron() -> Value:
    """A tanh neuron, squared: an n-ary sum, and an operand used twice (``o*o``)."""
    x1, x2 = Value(1.5, label="x1"), Value(-0.5, label="x2")
    w1, w2 = Value(0.8, label="w1"), Value(-1.2, label="w2")
    b = Value(-0.9, label="b")
    n = Value.sum([x1 * w1, x2 * w2, b])
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    out = o * o
    out.label = "L"
    return out


# ---------------------------------------------------------------------------------------------


def test_saved_player(page: Any, tmp_path: Path, screenshots: list[Path]) -> None:
    root = neuron()
    player = animate(root)
    html = player.save(tmp_path / "backward.html")
    frames = expected_frames(root)
    assert len(player.frames) == len(frames)
    page.goto(html.resolve().as_uri())
    assert page.locator(".edgegrad-player").count() == 1
    view = PlayerPage(page, page.locator(".edgegrad-player"), frames, player.captions,
                      screenshots)
    view.walk(engine_grads(root), tmp_path, "saved")


def test_frame_fits_the_window(page: Any, tmp_path: Path) -> None:
    """A frame wider than the window is scaled down to fit it: the graph's right end (here the
    output L) is on screen without scrolling the page sideways."""
    html = animate(neuron()).save(tmp_path / "backward.html")
    page.goto(html.resolve().as_uri())
    right, width = page.evaluate("() => [document.querySelector('.eg-frame svg')"
                                 ".getBoundingClientRect().right, window.innerWidth]")
    assert right <= width, (f"the frame ends at x={right:.0f}, outside the {width}-pixel "
                            "window: scale it to the player's width (CSS max-width: 100%)")


def test_player_written_by_edgegrad_draw(page: Any, tmp_path: Path,
                                         screenshots: list[Path]) -> None:
    expression, values = "tanh(w*x + b) * w", {"w": -3.0, "x": 2.0, "b": 6.88}
    out = tmp_path / "backward.html"
    done = subprocess.run([sys.executable, "-m", "nn", "draw", expression,
                           *(f"{k}={v}" for k, v in values.items()), "--steps", "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    root = parse(expression, values)
    page.goto(out.resolve().as_uri())
    view = PlayerPage(page, page.locator(".edgegrad-player"), expected_frames(root), None,
                      screenshots)
    view.walk(engine_grads(root), tmp_path, "cli")


NOTEBOOK_CELLS = [
    "from autograd import Value, draw\n"
    "from autograd.drawing.player import animate\n"
    "x1, x2 = Value(1.5, label='x1'), Value(-0.5, label='x2')\n"
    "w1, w2 = Value(0.8, label='w1'), Value(-1.2, label='w2')\n"
    "b = Value(-0.9, label='b')\n"
    "n = Value.sum([x1 * w1, x2 * w2, b]); n.label = 'n'\n"
    "o = n.tanh(); o.label = 'o'\n"
    "L = o * o; L.label = 'L'",
    "draw(L, show_grad=False)",
    "animate(L)",
    "animate(L)",
]


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook of code ``cells``, not yet executed, for ``jupyter nbconvert --execute``."""
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                   "outputs": [], "source": source} for i, source in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")


def test_notebook_exported_to_html(page: Any, tmp_path: Path,
                                   screenshots: list[Path]) -> None:
    """A notebook that shows a drawing and two players of the same graph, executed and exported
    by ``jupyter nbconvert``: the drawing is there, and each player works on its own."""
    notebook = tmp_path / "player.ipynb"
    write_notebook(notebook, NOTEBOOK_CELLS)
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute",
                           "--to", "html", str(notebook)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = tmp_path / "player.html"
    page.goto(html.resolve().as_uri())

    drawings = page.evaluate("() => Array.from(document.images).filter(i => "
                             "i.src.startsWith('data:image/svg+xml')).map(i => i.naturalWidth)")
    assert len(drawings) == 1 and drawings[0] > 100, drawings
    players = page.locator(".edgegrad-player")
    assert players.count() == 2
    ids = players.evaluate_all("roots => roots.map(r => r.id)")
    assert len(set(ids)) == 2, f"two players on one page share an id: {ids}"

    # Rebuild the notebook's graph here: the same numbers, the same frames and grads.
    namespace: dict[str, Any] = {}
    exec(NOTEBOOK_CELLS[0], namespace)
    root = namespace["L"]
    frames = expected_frames(root)
    first = PlayerPage(page, players.nth(0), frames, None, screenshots)
    second = PlayerPage(page, players.nth(1), frames, None)
    first.walk(engine_grads(root), tmp_path, "notebook")
    second.assert_frame(0)  # untouched by the first player's buttons
    second.click("next")
    second.assert_frame(1)
    first.assert_frame(0)


def test_the_player_on_the_documentation_site(page: Any, docs_build: Any, tmp_path: Path,
                                              screenshots: list[Path]) -> None:
    """The docs site executes the notebooks: the backward-pass page has a working player, under
    the site's own scripts and styles (Material for MkDocs)."""
    site, _ = docs_build
    html = site / "notebooks" / "04-watching-backward" / "index.html"
    page.goto(html.resolve().as_uri())
    player = page.locator(".edgegrad-player").first
    count, caption = player.locator(".eg-count"), player.locator(".eg-caption")
    total = int(count.inner_text().split(" / ")[1])
    assert count.inner_text() == f"1 / {total}" and total > 2
    assert caption.inner_text().startswith("forward pass done")
    player.locator('[data-go="next"]').click()
    assert count.inner_text() == f"2 / {total}"
    assert caption.inner_text().startswith(f"step 1/{total - 2}:")
    # The theme resets button styles; the player's own keep a visible border.
    borders = player.locator("button").evaluate_all(
        "bs => bs.map(b => getComputedStyle(b).borderTopWidth)")
    assert len(borders) == 4 and "0px" not in borders, borders
    box = player.locator(".eg-frame svg").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    player.locator('[data-go="play"]').click()
    page.clock.run_for(INTERVAL_MS * (total + 2))
    assert count.inner_text() == f"{total} / {total}"
    shot = tmp_path / "docs-last.png"
    player.screenshot(path=str(shot))
    screenshots.append(shot)


def test_notebook_outputs_on_the_documentation_site_keep_their_shape(page: Any,
                                                                      docs_build: Any) -> None:
    """On the site, compare's report table fits beside the page's text (the theme pads tables
    for prose), and printed reports keep their lines instead of wrapping them."""
    site, _ = docs_build
    page.goto((site / "notebooks" / "02-backprop-deltas" / "index.html").resolve().as_uri())
    tables = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-OutputArea-output table')).map(t => [t.getBoundingClientRect().right,
        t.closest('.jp-Cell').getBoundingClientRect().right])""")
    assert tables, "no table among the notebook's outputs"
    assert all(right <= cell + 1 for right, cell in tables), tables
    wrap = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-RenderedText pre'))
        .map(p => getComputedStyle(p).whiteSpace)""")
    assert wrap and set(wrap) == {"pre"}, wrap
