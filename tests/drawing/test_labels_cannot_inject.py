"""A caller's strings (labels, titles, group names, ops) stay text: in the DOT source, in the
SVG dot renders and in the player's page, where a label can neither add a link nor close or
comment out the script."""

from __future__ import annotations

import html.parser
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from dot_syntax import parse
from graphs import tanh_of_product

from autograd import save, to_dot
from autograd.drawing.player import Player

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")


EVIL = '<x>] i [label="click" URL="javascript:alert(1)"] graph [label=<y>'




def links(svg: str) -> list[str]:
    """Every link or script in an SVG document: what an injected attribute would add."""
    found = []
    for el in ET.fromstring(svg).iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag in ("a", "script", "foreignObject"):
            found.append(tag)
        found += [k for k in el.attrib if k.rsplit("}", 1)[-1] in ("href", "onload", "onclick")]
    return found


def test_caller_strings_stay_text_in_the_dot_source() -> None:
    a, b, y = tanh_of_product()
    a.label = EVIL
    y.op = EVIL
    dot = to_dot(y, title=EVIL, groups={a: EVIL, b: f"{EVIL}/{EVIL}"})
    statements = parse(dot)  # only the drawing's own statements, attributes and tags
    nodes = [s for s in statements if s.kind == "node"]
    assert len(nodes) == 4 + 2  # four values, two ops
    labels = [text for s in statements for text in s.labels]
    assert labels.count(EVIL) == 1 + 2 + 1  # the title, a's cluster and b's within it, the op
    assert any(text.startswith(EVIL) for s in nodes for text in s.labels)  # a's box


def test_dot_reads_no_name_escape_in_a_label() -> None:
    a, _, y = tanh_of_product()
    a.label = r"\N \G \L"
    text = [t for s in parse(to_dot(y)) for t in s.labels]
    assert any(t.startswith(r"\N \G \L") for t in text)


@needs_dot
def test_the_rendered_svg_has_no_link_and_renders_markup_as_text(tmp_path: Path) -> None:
    a, _, y = tanh_of_product()
    a.label = "<!--<script>"
    svg = save(y, tmp_path / "x.svg", title=EVIL, groups={a: EVIL}).read_text()
    assert links(svg) == []
    assert "javascript:alert(1)" in svg  # as text, where the title is drawn
    svg = save(y, tmp_path / "b.svg", title="<b>x").read_text()  # dot used to fail on it
    assert "&lt;b&gt;x" in svg


@needs_dot
def test_the_player_page_has_no_link() -> None:
    a, _, y = tanh_of_product()
    page = Player(y, groups={a: EVIL}).to_html(standalone=True)
    for svg in _payload(page)["frames"]:
        assert links(svg) == []


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
def test_a_label_cannot_close_or_comment_out_the_players_script(label: str) -> None:
    a, _, y = tanh_of_product()
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
