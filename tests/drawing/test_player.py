"""The backward pass as an animation: frames and captions, one layout for every frame, the
offline HTML player and its controls, the GIF, and what happens without Graphviz."""

import html
import re
import shutil

import pytest
from bounds import bounded

from autograd import Value
from autograd.drawing.player import Player, animate

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")


def neuron():
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2, b = Value(-3.0, "w1"), Value(1.0, "w2"), Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def test_frames_and_captions():
    p = Player(neuron())
    assert len(p) == len(p.steps) + 2 == 11
    assert p.captions[0].startswith("forward pass done")
    assert p.captions[1].startswith("step 1/9: n.grad += 0.5 × 1")
    assert p.captions[-1].startswith("done: 9 steps")
    # Frame k shows the grads of the first k-1 steps: the current edge is drawn thick and red.
    sources = p.dot_sources()
    assert sum('penwidth="3"' in s for s in sources) == 9
    assert 'penwidth="3"' not in sources[0] and 'penwidth="3"' not in sources[-1]


def test_every_frame_has_the_same_text_geometry():
    # The same characters in every frame (unknown numbers are written in the fill colour),
    # so Graphviz lays every frame out identically.
    sources = Player(neuron()).dot_sources()

    def shape(src):
        caption = re.search(r'label=<<FONT FACE="Courier">(.*?)</FONT>>', src).group(1)
        # Captions have their own words but the same number of characters.
        src = src.replace(caption, str(len(html.unescape(caption))))
        src = re.sub(r'(COLOR|color|fillcolor|fontcolor)="[^"]*"', "", src)
        src = re.sub(r' penwidth="\d+"', "", src)
        return re.sub(r" +\]", "]", re.sub(r" +", " ", src))

    assert len({shape(s) for s in sources}) == 1
    assert len(set(sources)) == len(sources)


def test_too_many_frames_is_refused():
    with pytest.raises(ValueError, match="max_frames=5"):
        Player(neuron(), max_frames=5)
    with pytest.raises(ValueError, match=r"\.html .*\.gif"):
        Player(neuron()).save("backward.mp4")


@needs_dot
def test_player_html_is_offline_and_layout_is_fixed(tmp_path):
    p = Player(neuron())
    svgs = p.svg_frames()
    assert len(svgs) == 11 and all(s.startswith("<svg") and s.endswith("</svg>") for s in svgs)

    def boxes(svg):
        return re.findall(r'<path fill="[^"]*" stroke="[^"]*"[^>]*d="([^"]*)"', svg)

    assert boxes(svgs[0]) == boxes(svgs[5]) == boxes(svgs[-1]) != []
    page = p.save_html(tmp_path / "backward.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page and "<script src" not in page
    for control in ("first", "prev", "play", "next"):
        assert f'data-go="{control}"' in page
    # The first frame shown statically, and 11 in the data, where JSON writes < as \u003c.
    assert page.count("<svg") == 1 and page.count("\\u003csvg") == 11
    assert p._repr_html_().count("\\u003csvg") == 11


@needs_dot
def test_player_controls_need_no_special_glyph_and_are_labelled():
    page = animate(neuron()).to_html()
    controls = page[:page.index('class="eg-caption"')]
    # Media-control characters such as U+23EE show as an empty box in fonts that lack them:
    # the icons are CSS shapes and the words are ASCII.
    assert controls.isascii() and "&#x" not in controls
    buttons = re.findall(r"<button[^>]*>(.*?)</button>", controls, re.S)
    assert len(buttons) == 4
    for tag in re.findall(r"<button[^>]*>", controls):
        assert 'title="' in tag
    # A button without words has an accessible name; the icons are hidden from screen readers.
    for tag, inner in zip(re.findall(r"<button[^>]*>", controls), buttons):
        if not re.sub(r"<[^>]*>", "", inner).strip():
            assert 'aria-label="' in tag
    assert controls.count('aria-hidden="true"') == 7  # bar+left, left, right, bar+bar, right


@needs_dot
def test_gif_has_one_frame_per_step(tmp_path):
    image = pytest.importorskip("PIL.Image")
    out = Player(neuron()).save(tmp_path / "backward.gif")
    with image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 11


def test_without_dot_the_frames_text_remains_and_rendering_says_how_to_install(
        tmp_path, monkeypatch):
    from autograd.drawing.graph import GraphvizNotFound

    monkeypatch.setenv("PATH", str(tmp_path))
    p = Player(neuron())
    assert len(p.dot_sources()) == 11
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        p.svg_frames()


@needs_dot
def test_the_html_player_shows_each_caption_once_as_text():
    p = Player(neuron())

    def words(svg):  # the text of an SVG, the padding's no-break spaces as spaces
        return " ".join(re.findall(r">([^<]+)</text>", svg)).replace("\xa0", " ")

    # Drawn frames (GIF, PNG, svg_frames) carry their caption; the player's frames do not,
    # since it shows the caption as the line of text above the picture.
    assert "forward pass done" in words(p.svg_frames()[0])
    assert all("step" not in words(s) and "forward pass" not in words(s)
               for s in p.svg_frames(captions=False))
    page = p.to_html()
    assert page.count("forward pass done") == 2  # the caption line, and the frames' data


def test_the_player_counts_frames_before_making_them() -> None:
    x = Value(1.0, "x")
    y = Value.sum([x * float(i) for i in range(50_000)])
    with bounded(seconds=10, megabytes=16), pytest.raises(ValueError, match="max_frames=400"):
        Player(y)
