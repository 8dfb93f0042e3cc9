"""The backward pass one chain-rule step at a time: a generator, a printable trace and an
animation (an HTML player in Jupyter, an offline HTML file, a GIF).

Each step is one edge: ``parent.grad += local * node.grad``, in exactly the order
``autograd.backward`` applies them. The steps run on their own copy of the gradients, so a
Value's ``.grad`` is never touched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import io
import itertools
import json
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .backward import reverse_order, toposort
from .value import Value
from .viz import (
    INSTALL_DOT,
    GraphvizNotFound,
    _digraph,
    _float,
    _Frame,
    _graphviz,
    _lines,
    _num,
    _options_from,
    _source,
    op_text,
)

__all__ = ["Player", "Step", "animate", "backward_steps", "format_trace", "node_names",
           "print_trace"]


@dataclass(frozen=True)
class Step:
    """One edge of the backward pass: ``after = before + local * upstream``.

    ``local`` is d(node)/d(parent) recorded in the forward pass, ``upstream`` is node's grad
    (complete by the time its edges are processed), ``contribution = local * upstream`` and
    ``after`` is the parent's grad once this step is applied.
    """

    index: int  # 0-based position in the pass
    node: Value
    parent: Value
    parent_index: int  # position of ``parent`` among node.parents (a*a has 0 and 1)
    local: float
    upstream: float
    contribution: float
    before: float
    after: float


def backward_steps(root: Value, grad: float = 1.0) -> Iterator[Step]:
    """Yield the chain-rule steps of ``backward(root, grad)`` in the order it applies them.

    Gradients start at 0 everywhere (as for fresh leaves) and live in a private dict: the
    Values' ``.grad`` is not read or written. The last ``after`` of each node equals what
    ``backward`` leaves in its ``.grad`` when its leaves start from zero.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps takes the root Value of a graph; "
                        f"got {type(root).__name__}")
    grads: dict[Value, float] = {root: float(grad)}
    index = 0
    for node in reverse_order(root):
        upstream = grads.get(node, 0.0)
        for i, (parent, local) in enumerate(node.edges()):
            lf = _float(local)
            before = grads.get(parent, 0.0)
            contribution = lf * upstream
            after = before + contribution
            grads[parent] = after
            yield Step(index, node, parent, i, lf, upstream, contribution, before, after)
            index += 1


def node_names(root: Value) -> dict[Value, str]:
    """A readable name per node: its label, else its op and topological id (``mul4``), else
    (an unlabelled leaf) its value."""
    names: dict[Value, str] = {}
    for i, v in enumerate(toposort(root)):
        if v.label:
            names[v] = v.label
        elif v.parents:
            names[v] = f"{v.op}{i}"
        else:
            names[v] = _num(v.data, ".4g")
    return names


def format_trace(root: Value, grad: float = 1.0, fmt: str = ".4g") -> str:
    """The backward pass of ``root`` as a table, one chain-rule step per line."""
    names = node_names(root)
    steps = list(backward_steps(root, grad))
    header = ("step", "node", "parent", "local", "upstream", "contribution", "parent grad")
    rows: list[tuple[str, ...]] = []
    for s in steps:
        edge = op_text(s.node, fmt)
        rows.append((
            str(s.index + 1),
            f"{names[s.node]} ({edge})",
            names[s.parent] + (f" [operand {s.parent_index}]" if len(s.node.parents) > 1 and
                               s.node.parents.count(s.parent) > 1 else ""),
            _num(s.local, fmt),
            _num(s.upstream, fmt),
            _num(s.contribution, fmt),
            f"{_num(s.before, fmt)} -> {_num(s.after, fmt)}",
        ))
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    right = {0, 3, 4, 5}

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if k in right else c.ljust(w)
                         for k, (c, w) in enumerate(zip(r, widths))).rstrip()

    title = (f"backward from {names[root]} = {_num(root.data, fmt)}, seeded with grad "
             f"{_num(grad, fmt)}: {len(steps)} steps, each parent.grad += local * upstream")
    return "\n".join([title, line(header), *(line(r) for r in rows)]) + "\n"


def print_trace(root: Value, grad: float = 1.0, fmt: str = ".4g") -> None:
    """Print ``format_trace(root, grad, fmt)``."""
    print(format_trace(root, grad, fmt), end="")


# ---------------------------------------------------------------------------------------------
# The animation


_players = itertools.count()


class Player:
    """The backward pass of ``root`` as frames: first the seeded root, then one frame per step
    with the current edge highlighted and the grads filled in so far, then the finished pass.

    In Jupyter it shows as a small player (first / previous / play / next, and a slider).
    ``save("backward.html")`` writes it as one offline HTML file, ``save("backward.gif")`` as
    a GIF (needs Pillow). Frames are rendered with Graphviz's ``dot``; every frame has the
    same layout. ``draw_options`` are ``draw``'s (rankdir, fmt, groups, max_nodes, ...).
    """

    def __init__(self, root: Value, grad: float = 1.0, *, interval_ms: int = 900,
                 max_frames: int = 400, **draw_options: Any) -> None:
        self.root = root
        self.grad = float(grad)
        self.interval_ms = int(interval_ms)
        self.options = _options_from("Player", draw_options)
        self.steps = list(backward_steps(root, grad))
        if len(self.steps) + 2 > max_frames:
            raise ValueError(f"the backward pass has {len(self.steps)} steps, more frames than "
                             f"max_frames={max_frames}: animate a smaller graph (one neuron, "
                             "one example) or raise max_frames")
        self.frames = self._frames()
        self._svgs: list[str] | None = None

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
            frames.append(_Frame(
                dict(shown), final, frozenset(done), edge, width,
                f"step {s.index + 1}/{n}: {names[s.parent]}.grad += {_num(s.local, fmt)} × "
                f"{_num(s.upstream, fmt)}  ({_num(s.before, fmt)} -> {_num(s.after, fmt)})",
                names=names))
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

    def dot_sources(self) -> list[str]:
        """The DOT text of every frame (no Graphviz program needed)."""
        opts = dataclasses.replace(self.options, title=None)
        return [_source(_lines(self.root, opts, f)) for f in self.frames]

    def _render_all(self, fmt: str) -> list[bytes]:
        # One `dot` process for all frames: it accepts many graphs and writes one output each.
        gv = _graphviz()
        data = "".join(self.dot_sources()).encode("utf-8")
        try:
            out: bytes = gv.pipe("dot", fmt, data)
        except gv.ExecutableNotFound:
            raise GraphvizNotFound(INSTALL_DOT) from None
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

    def svg_frames(self) -> list[str]:
        """Each frame as an SVG document (rendered once, then cached)."""
        if self._svgs is None:
            self._svgs = [c.decode("utf-8") for c in self._render_all("svg")]
        return self._svgs

    def png_frames(self) -> list[bytes]:
        """Each frame as PNG bytes."""
        return self._render_all("png")

    def to_html(self, standalone: bool = False) -> str:
        """The player as HTML with inline SVG frames and a little JavaScript; ``standalone``
        gives a whole page that works offline."""
        frames = self.svg_frames()
        key = hashlib.sha1("".join(self.captions).encode("utf-8")).hexdigest()[:8]
        pid = f"edgegrad-player-{key}-{next(_players)}"
        payload = json.dumps({"frames": frames, "captions": self.captions,
                              "interval": self.interval_ms})
        payload = payload.replace("</", "<\\/")  # a frame must not close the <script>
        body = _PLAYER.format(pid=pid, first=frames[0], caption=html.escape(self.captions[0]),
                              last=len(frames) - 1, count=len(frames), payload=payload)
        if not standalone:
            return body
        title = html.escape(f"backward pass of {node_names(self.root)[self.root]}")
        return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
                f"</head>\n<body>\n{body}\n</body></html>\n")

    def _repr_html_(self) -> str:
        return self.to_html()

    def save_html(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write the player as one self-contained HTML file."""
        out = pathlib.Path(path)
        out.write_text(self.to_html(standalone=True), encoding="utf-8")
        return out

    def save_gif(self, path: str | pathlib.Path, duration_ms: int | None = None) -> pathlib.Path:
        """Write the frames as a looping GIF (needs Pillow); the last frame stays longer."""
        try:
            from PIL import Image
        except ImportError:
            raise ImportError("writing a GIF needs Pillow: pip install pillow "
                              "(or save the player as .html)") from None
        images = [Image.open(io.BytesIO(png)).convert("RGB") for png in self.png_frames()]
        w = max(im.width for im in images)
        h = max(im.height for im in images)
        padded = []
        for im in images:
            canvas = Image.new("RGB", (w, h), "white")
            canvas.paste(im, (0, 0))
            padded.append(canvas)
        step = duration_ms or self.interval_ms
        durations = [step] * (len(padded) - 1) + [step * 3]
        out = pathlib.Path(path)
        padded[0].save(out, format="GIF", save_all=True, append_images=padded[1:],
                       duration=durations, loop=0)
        return out

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write an .html player or a .gif, by the extension."""
        ext = pathlib.Path(path).suffix.lower()
        if ext in (".html", ".htm"):
            return self.save_html(path)
        if ext == ".gif":
            return self.save_gif(path)
        raise ValueError(f"cannot tell the animation format of {str(path)!r}; "
                         "use .html (a player that works offline) or .gif")

    def draw(self, frame: int) -> Any:
        """Frame number ``frame`` as a graphviz.Digraph."""
        return _digraph(_lines(self.root, self.options, self.frames[frame]))

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        name = node_names(self.root)[self.root]
        return f"<Player: backward of {name}, {len(self.steps)} steps in {len(self.frames)} frames>"


def animate(root: Value, grad: float = 1.0, **options: Any) -> Player:
    """``Player(root, grad, **options)``: the backward pass as frames, one per chain-rule step."""
    return Player(root, grad, **options)


_PLAYER = """<div id="{pid}" class="edgegrad-player" style="font-family: sans-serif">
<div style="margin: 4px 0">
<button type="button" data-go="first" title="first frame">&#x23EE;</button>
<button type="button" data-go="prev" title="previous step">&#x25C0; prev</button>
<button type="button" data-go="play" title="play / pause">&#x25B6; play</button>
<button type="button" data-go="next" title="next step">next &#x25B6;</button>
<input type="range" min="0" max="{last}" value="0" style="vertical-align: middle">
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
  var n = data.frames.length, k = 0, timer = null;
  function show(i) {{
    k = Math.max(0, Math.min(n - 1, i));
    frame.innerHTML = data.frames[k];
    caption.textContent = data.captions[k];
    count.textContent = (k + 1) + " / " + n;
    slider.value = k;
  }}
  function stop() {{
    if (timer) {{ clearInterval(timer); timer = null; }}
    playButton.innerHTML = "&#x25B6; play";
  }}
  function play() {{
    if (timer) {{ stop(); return; }}
    if (k === n - 1) show(0);
    playButton.innerHTML = "&#x23F8; pause";
    timer = setInterval(function () {{
      if (k >= n - 1) {{ stop(); return; }}
      show(k + 1);
    }}, data.interval);
  }}
  root.addEventListener("click", function (e) {{
    var go = e.target.getAttribute("data-go");
    if (go === "play") {{ play(); return; }}
    if (!go) return;
    stop();
    show(go === "first" ? 0 : go === "prev" ? k - 1 : k + 1);
  }});
  slider.addEventListener("input", function () {{ stop(); show(parseInt(slider.value, 10)); }});
}})();
</script>"""
