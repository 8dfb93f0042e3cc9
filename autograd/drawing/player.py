"""The backward pass as an animation: a player in Jupyter, an offline HTML file, a GIF.

``animate(root)`` makes a ``Player``: one frame per chain-rule step of ``drawing.steps``, each
drawn by ``autograd.drawing.graph`` with the current edge highlighted and the grads known so far.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import pathlib
from typing import Any

from ..backward import toposort
from ..files.atomic import atomic_write
from ..teach.formulas import edge_formula
from ..value import Value
from . import wasm
from .graph import DrawOptions, _Frame, _graph_size, _h, _lines, _num, _source
from .render import DOT_TIMEOUT, brief, check_renderer, choose_renderer, drawing, run_dot
from .steps import backward_steps, node_names

__all__ = ["Player", "animate", "player_html", "write_gif"]

_players = itertools.count()


class Player:
    """The backward pass of ``root`` as frames: first the seeded root, then one frame per step
    with the current edge highlighted and the grads filled in so far, then the finished pass.

    In Jupyter it shows as a small player (first / previous / play / next, and a slider).
    ``save("backward.html")`` writes it as one offline HTML file, ``save("backward.gif")`` as
    a GIF (needs Pillow). Every frame has the same layout. ``renderer`` (one of
    ``render.RENDERERS``; None: the session's, ``auto`` unless ``render.set_renderer`` changed
    it) draws the frames of the player in Jupyter and in .html: ``dot`` renders them all at
    once, stopped after ``timeout`` seconds (``render.DOT_TIMEOUT``; None: no limit), and
    ``wasm`` leaves them to Graphviz in WebAssembly in the browser, frame by frame as they are
    shown. A GIF always needs ``dot``. ``draw_options`` are ``draw``'s (``DrawOptions``:
    rankdir, fmt, groups, ...).
    """

    def __init__(self, root: Value, grad: float = 1.0, *, interval_ms: int = 900,
                 max_frames: int = 400, timeout: float | None = DOT_TIMEOUT,
                 renderer: str | None = None, **draw_options: Any) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"Player takes the root Value of a graph; got {type(root).__name__}")
        self.root = root
        self.grad = float(grad)
        self.interval_ms = int(interval_ms)
        self.timeout = timeout
        self.renderer = None if renderer is None else check_renderer(renderer)
        self.options = DrawOptions.parse("Player", draw_options)
        # One step per edge: counted before any step is made, so a huge graph costs nothing.
        self.size = _graph_size(root)
        if self.size[1] + 2 > max_frames:
            raise ValueError(f"the backward pass has {self.size[1]} steps, more frames than "
                             f"max_frames={max_frames}: animate a smaller graph (one neuron, "
                             "one example) or raise max_frames")
        self.steps = list(backward_steps(root, grad))
        self.frames = self._frames()
        self._svgs: dict[bool, list[str]] = {}  # by ``captions``

    def _frames(self) -> list[_Frame]:
        fmt = self.options.fmt
        order = toposort(self.root)
        ids = {v: i for i, v in enumerate(order)}
        names = node_names(self.root)
        final: dict[Value, float] = {self.root: self.grad}
        for s in self.steps:
            final[s.parent] = s.after
        numbers = [self.grad, *(v.data for v in order)]
        for s in self.steps:
            numbers += [s.local, s.upstream, s.contribution, s.after]
        width = max(len(_num(x, fmt)) for x in numbers)
        shown: dict[Value, float] = {self.root: self.grad}
        done: list[tuple[int, int]] = []
        frames = [_Frame(dict(shown), final, frozenset(), None, width,
                         f"forward pass done; backward starts with d{names[self.root]}/"
                         f"d{names[self.root]} = {_num(self.grad, fmt)}", names=names)]
        n = len(self.steps)
        for s in self.steps:
            edge = (ids[s.node], s.parent_index)
            shown[s.parent] = s.after
            formula = ""
            if self.options.show_formula:
                f = edge_formula(s.node, s.parent_index, names, fmt)
                formula = f"  [{f.text(fmt, value=False)}]"
            frames.append(_Frame(
                dict(shown), final, frozenset(done), edge, width,
                f"step {s.index + 1}/{n}: {names[s.parent]}.grad += {_num(s.local, fmt)} × "
                f"{_num(s.upstream, fmt)}  ({_num(s.before, fmt)} -> {_num(s.after, fmt)})"
                + formula, names=names))
            done.append(edge)
        frames.append(_Frame(dict(shown), final, frozenset(done), None, width,
                             f"done: {n} steps; every grad is d{names[self.root]}/d(node)",
                             names=names))
        longest = max(len(f.caption) for f in frames)
        return [dataclasses.replace(f, caption_width=longest) for f in frames]

    @property
    def captions(self) -> list[str]:
        """One line per frame saying what it shows."""
        return [f.caption for f in self.frames]

    def dot_sources(self, captions: bool = True) -> list[str]:
        """The DOT text of every frame (no Graphviz program needed). ``captions=False`` leaves
        each frame's caption out of its drawing: the HTML player shows it as text instead."""
        opts = dataclasses.replace(self.options, title=None)
        return [_source(_lines(self.root, opts,
                               f if captions else dataclasses.replace(f, caption="")))
                for f in self.frames]

    def _render_all(self, fmt: str, captions: bool = True) -> list[bytes]:
        # One `dot` process for all frames: it accepts many graphs and writes one output each.
        n, m = self.size
        out = run_dot("".join(self.dot_sources(captions)), fmt, self.timeout,
                       f"the {len(self.frames)} frames of the backward pass ({n} values, "
                       f"{m} edges)")
        if fmt == "svg":
            parts = out.split(b"<svg")[1:]
            chunks = [b"<svg" + p[: p.rindex(b"</svg>") + 6] for p in parts]
        else:
            end = b"IEND\xaeB`\x82"
            chunks = [p + end for p in out.split(end) if p]
        if len(chunks) != len(self.frames):
            raise RuntimeError(f"dot returned {len(chunks)} {fmt} frames for "
                               f"{len(self.frames)} graphs")
        return chunks

    def svg_frames(self, captions: bool = True) -> list[str]:
        """Each frame as an SVG document (rendered once, then cached); ``captions`` as in
        ``dot_sources``."""
        svgs = self._svgs.get(captions)
        if svgs is None:
            svgs = self._svgs[captions] = [c.decode("utf-8")
                                           for c in self._render_all("svg", captions)]
        return svgs

    def png_frames(self) -> list[bytes]:
        """Each frame as PNG bytes."""
        return self._render_all("png")

    def to_html(self, standalone: bool = False) -> str:
        """The player as HTML with a little JavaScript; ``standalone`` gives a whole page that
        works offline. With ``dot`` its frames are inline SVG; with ``wasm`` they are DOT text
        that the page draws with Graphviz in WebAssembly (``player_html``)."""
        title = f"backward pass of {node_names(self.root)[self.root]}" if standalone else None
        if choose_renderer(self.renderer) == "dot":
            # The caption is the text line above each frame, so the frames carry none.
            return player_html(self.svg_frames(captions=False), self.captions, self.interval_ms,
                               title=title)
        return player_html(None, self.captions, self.interval_ms, title=title,
                           dots=self.dot_sources(captions=False))

    def _repr_html_(self) -> str:
        return self.to_html()

    def save_html(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write the player as one self-contained HTML file (atomically, as every output)."""
        return atomic_write(path, self.to_html(standalone=True))

    def save_gif(self, path: str | pathlib.Path, duration_ms: int | None = None) -> pathlib.Path:
        """Write the frames as a looping GIF (needs Pillow); the last frame stays longer."""
        _pillow()  # checked before the frames are rendered, which takes a while
        return write_gif(path, self.png_frames(), duration_ms or self.interval_ms)

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write an .html player or a .gif, by the extension."""
        ext = pathlib.Path(path).suffix.lower()
        if ext in (".html", ".htm"):
            return self.save_html(path)
        if ext == ".gif":
            return self.save_gif(path)
        raise ValueError(f"cannot tell the animation format of {brief(str(path))}; "
                         "use .html (a player that works offline) or .gif")

    def draw(self, frame: int) -> Any:
        """Frame number ``frame`` as a graphviz.Digraph."""
        return drawing(_lines(self.root, self.options, self.frames[frame]), self.renderer)

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        name = node_names(self.root)[self.root]
        return f"<Player: backward of {name}, {len(self.steps)} steps in {len(self.frames)} frames>"


def player_html(frames: list[str] | None, captions: list[str], interval_ms: int = 900, *,
                title: str | None = None, dots: list[str] | None = None) -> str:
    """The player as HTML, one caption per frame shown as text above it. The frames are HTML
    fragments (inline SVG, an <img>) or, with ``dots`` instead, DOT texts that the page draws
    with Graphviz in WebAssembly: a whole page carries the script, a notebook fragment carries
    it once per session (``autograd.drawing.wasm``). With a ``title``, a whole page that works
    offline."""
    shown = frames if dots is None else dots
    if not shown or len(shown) != len(captions) or (frames is not None and dots is not None):
        raise ValueError(f"player_html needs either frames or dots, one caption each and at least "
                         f"one; got {0 if not shown else len(shown)} frame(s) and "
                         f"{len(captions)} caption(s)")
    key = hashlib.sha1("".join(captions).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    pid = f"edgegrad-player-{key}-{next(_players)}"
    data: dict[str, Any] = {"captions": captions, "interval": int(interval_ms)}
    if dots is None:
        data["frames"] = shown
        first = shown[0]
    else:
        data["dots"] = dots
        first = _h(wasm.WAITING, page=True)
    # Inside <script> the data must neither close it nor open a comment (<!--), whatever a
    # label says: wasm.script_json writes no < > & at all, and no JavaScript line separators.
    body = _PLAYER.format(pid=pid, first=first, caption=_h(captions[0], page=True),
                          last=len(shown) - 1, count=len(shown), payload=wasm.script_json(data),
                          when_ready=wasm.WHEN_READY, **_ICONS)
    if title is None:
        return body if dots is None else wasm.notebook_loader() + body
    return wasm.page(_h(title, page=True), body, with_script=dots is not None)


def write_gif(path: str | pathlib.Path, pngs: list[bytes], duration_ms: int) -> pathlib.Path:
    """Write PNG frames as a looping GIF, atomically (needs Pillow); the last frame stays three
    times as long. Frames of different sizes are padded with white to the largest."""
    Image = _pillow()
    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    w = max(im.width for im in images)
    h = max(im.height for im in images)
    padded = []
    for im in images:
        canvas = Image.new("RGB", (w, h), "white")
        canvas.paste(im, (0, 0))
        padded.append(canvas)
    durations = [duration_ms] * (len(padded) - 1) + [duration_ms * 3]
    data = io.BytesIO()
    padded[0].save(data, format="GIF", save_all=True, append_images=padded[1:],
                   duration=durations, loop=0)
    return atomic_write(path, data.getvalue())


def _pillow() -> Any:
    """PIL.Image, or ImportError saying what to install."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("writing a GIF needs Pillow: pip install pillow "
                          "(or save the player as .html)") from None
    return Image


def animate(root: Value, grad: float = 1.0, **options: Any) -> Player:
    """``Player(root, grad, **options)``: the backward pass as frames, one per chain-rule step."""
    return Player(root, grad, **options)


def _shape(style: str) -> str:
    """A small shape drawn with CSS in the button's text colour: no font needs a glyph for it."""
    return (f'<span aria-hidden="true" style="display: inline-block; width: 0; height: 0; '
            f'vertical-align: -1px; {style}"></span>')


# Triangles are boxes of size 0 with one coloured border; bars are narrow filled boxes.
_LEFT = _shape("border-style: solid; border-width: 5px 8px 5px 0; "
               "border-color: transparent currentColor transparent transparent")
_RIGHT = _shape("border-style: solid; border-width: 5px 0 5px 8px; "
                "border-color: transparent transparent transparent currentColor")
_BAR = _shape("width: 3px; height: 10px; margin-right: 2px; background: currentColor")
_ICONS = {"first_icon": _BAR + _LEFT, "prev_icon": _LEFT, "play_icon": _RIGHT,
          "pause_icon": _BAR + _BAR, "next_icon": _RIGHT}

# A frame wider than the page is scaled down to fit it (its viewBox keeps the proportions).
# The buttons are styled here: pages that reset button styles (the docs site's theme does)
# would otherwise show them as bare words.
_PLAYER = """<style>#{pid} .eg-frame svg, #{pid} .eg-frame img {{ max-width: 100%; height: auto; }}
#{pid} button {{ font: 13px sans-serif; color: #222; background: #f3f3f3; cursor: pointer;
  border: 1px solid #999; border-radius: 4px; padding: 2px 8px; margin: 0 2px 0 0; }}
#{pid} button:hover {{ background: #e4e4e4; }}</style>
<div id="{pid}" class="edgegrad-player" style="font-family: sans-serif">
<div style="margin: 4px 0">
<button type="button" data-go="first" title="first frame"
        aria-label="first frame">{first_icon}</button>
<button type="button" data-go="prev" title="previous step">{prev_icon} prev</button>
<button type="button" data-go="play" title="play">
  <span class="eg-play">{play_icon} play</span>
  <span class="eg-pause" hidden>{pause_icon} pause</span>
</button>
<button type="button" data-go="next" title="next step">next {next_icon}</button>
<input type="range" min="0" max="{last}" value="0" aria-label="frame"
       style="vertical-align: middle">
<span class="eg-count">1 / {count}</span>
</div>
<div class="eg-caption" style="font-family: monospace; margin: 4px 0">{caption}</div>
<div class="eg-frame">{first}</div>
</div>
<script>
(function () {{
  var data = {payload};
  var root = document.getElementById("{pid}");
  if (!root) return;
  var frame = root.querySelector(".eg-frame"), caption = root.querySelector(".eg-caption");
  var count = root.querySelector(".eg-count"), slider = root.querySelector("input");
  var playButton = root.querySelector('[data-go="play"]');
  var playLabel = playButton.querySelector(".eg-play");
  var pauseLabel = playButton.querySelector(".eg-pause");
  var n = data.captions.length, k = 0, timer = null;
  // Frames are SVG (drawn by dot), or DOT text drawn here by Graphviz in WebAssembly when
  // first shown, once the renderer has started.
  var svgs = data.frames || [], viz = null;
  function svg(i) {{
    if (svgs[i] === undefined && viz) svgs[i] = viz.renderSVGElement(data.dots[i]).outerHTML;
    return svgs[i];
  }}
  function show(i) {{
    k = Math.max(0, Math.min(n - 1, i));
    var drawn = svg(k);
    if (drawn !== undefined) frame.innerHTML = drawn;
    caption.textContent = data.captions[k];
    count.textContent = (k + 1) + " / " + n;
    slider.value = k;
  }}
  function playing(on) {{
    playLabel.hidden = on;
    pauseLabel.hidden = !on;
    playButton.title = on ? "pause" : "play";
  }}
  function stop() {{
    if (timer) {{ clearInterval(timer); timer = null; }}
    playing(false);
  }}
  function play() {{
    if (timer) {{ stop(); return; }}
    if (k === n - 1) show(0);
    playing(true);
    timer = setInterval(function () {{
      if (k >= n - 1) {{ stop(); return; }}
      show(k + 1);
    }}, data.interval);
  }}
  root.addEventListener("click", function (e) {{
    // The click may land on a button's icon or text: find the button around it.
    var button = e.target.closest("[data-go]");
    if (!button || !root.contains(button)) return;
    var go = button.getAttribute("data-go");
    if (go === "play") {{ play(); return; }}
    stop();
    show(go === "first" ? 0 : go === "prev" ? k - 1 : k + 1);
  }});
  slider.addEventListener("input", function () {{ stop(); show(parseInt(slider.value, 10)); }});
  if (data.dots) {{
    ({when_ready})(function (v) {{ viz = v; show(k); }},
                   function (message) {{ frame.textContent = message; }});
  }}
}})();
</script>"""
