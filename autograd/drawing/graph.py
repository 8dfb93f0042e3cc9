"""Graphviz drawings of a computation graph: data and grad on every value, the local derivative
d(node)/d(parent) on every edge.

``draw`` returns a ``graphviz.Digraph`` (rendered inline by Jupyter), ``to_dot`` the DOT text
(no Graphviz program needed) and ``save`` writes .svg, .png, .pdf or .dot by the file's
extension. All three, and ``autograd.drawing.player.animate``, take the options of ``DrawOptions``.
Node ids are topological indices, so the same graph always gives the same text. The
``graphviz`` package is imported only when a Digraph is asked for.
"""

from __future__ import annotations

import dataclasses
import html
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..backward import toposort
from ..files.atomic import atomic_write
from ..ops import PRIMITIVES
from ..teach.formulas import edge_formula, node_names, number
from ..value import Value

if TYPE_CHECKING:
    import graphviz

__all__ = ["DOT_TIMEOUT", "DrawOptions", "GraphvizNotFound", "RenderError", "draw", "save",
           "to_dot"]

INSTALL_PACKAGE = "pip install 'edgegrad[viz]'"
INSTALL_DOT = (
    "Graphviz's `dot` program renders the drawings and was not found. Install it: "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or see "
    "https://graphviz.org/download/. The DOT text needs no program: `to_dot(root)` or "
    "`save(root, 'graph.dot')`."
)
RENDER_FORMATS = (".svg", ".png", ".pdf")
TEXT_FORMATS = (".dot", ".gv")

DOT_TIMEOUT = 30.0
"""Seconds Graphviz's ``dot`` may take to render one drawing (or all the frames of a player)
before it is stopped with a ``RenderError``; ``save`` and ``Player`` take ``timeout=``."""

MAX_NUMBER_WIDTH = 64
"""The widest number ``fmt`` may write (``fmt=">16400"`` would make every box 16,400 wide)."""

# Colours (a light palette that prints well). GHOST is the background: frames of the
# step-through write not-yet-known numbers in it so every frame has the same layout.
BACKGROUND = "white"
GHOST = BACKGROUND
LEAF_FILL = "#eaf2fb"
ROOT_FILL = "#fdf0d5"
VALUE_FILL = "#ffffff"
OP_FILL = "#eeeeee"
GRAD_COLOR = "#1f5fbf"
CONTRIB_COLOR = "#2a7a2a"
HIGHLIGHT = "#d62728"
HIGHLIGHT_FILL = "#fde2e2"
CLUSTER_COLOR = "#9a9a9a"


_SPEC_NUMBER = re.compile(r"(\.?)(\d+)")


def _check_fmt_size(fmt: object) -> None:
    """Refuse a format spec whose width or precision passes ``MAX_NUMBER_WIDTH`` before any
    number is formatted with it (``format(x, '>3000000000')`` would first make 3 GB)."""
    if not isinstance(fmt, str):
        return  # format() says what is wrong with it
    for point, digits in _SPEC_NUMBER.findall(fmt):
        n = int(digits) if len(digits) <= 9 else 10**9
        if n > MAX_NUMBER_WIDTH:
            what = (f"with {digits[:20]} digits after the point" if point
                    else f"{digits[:20]} characters wide")
            raise ValueError(f"fmt {_brief(fmt)} writes numbers {what}; the limit is "
                             f"{MAX_NUMBER_WIDTH} (try '.4g' or '.6f')")


class GraphvizNotFound(RuntimeError):
    """Rendering needed Graphviz's ``dot`` program and it is not installed."""


class RenderError(RuntimeError):
    """Graphviz's ``dot`` failed or ran out of time; the message says why and how to draw the
    graph another way."""


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            f"drawing a graph needs the graphviz Python package: {INSTALL_PACKAGE} "
            "(and the Graphviz `dot` program to render it)"
        ) from None
    return graphviz


# ---------------------------------------------------------------------------------------------
# The options (their one definition) and the per-frame state of the step-through
# (autograd.drawing.player builds the frames).


@dataclass(frozen=True)
class DrawOptions:
    """The options of ``draw``, ``to_dot``, ``save`` and ``animate``, given as keywords:
    ``draw(root, rankdir="TB", fmt=".3f")``. Each field below is one option, with its default."""

    rankdir: str = "LR"
    """Direction of the drawing: "LR" (left to right), "RL", "TB" (top to bottom) or "BT"."""
    show_data: bool = True
    """Write each value's data."""
    show_grad: bool = True
    """Write each value's grad."""
    show_local: bool = True
    """Write on each edge parent -> op the local derivative d(node)/d(parent)."""
    show_contrib: bool = False
    """Also write each edge's contribution to the parent's grad, local × upstream grad
    (meaningful after ``backward``)."""
    show_formula: bool = False
    """Write each edge's local derivative as a formula in the nodes' names, ∂e/∂a = b = −3
    (unlabelled nodes named as in traces: ``mul4``)."""
    fmt: str = ".4g"
    """The format spec of every number."""
    highlight: Iterable[Value] = ()
    """Values to mark."""
    highlight_path: Value | None = None
    """A Value whose every path to the root is marked (where a NaN came from, say)."""
    groups: Mapping[Value, str] | None = None
    """Maps Values to names such as "layer 0/neuron 3": each name is a cluster, "/" nests them."""
    max_nodes: int | None = None
    """Beyond this many values, the biggest groups collapse into one box each, saying how many
    nodes it hides (the finest groups first; coarser ones only if that is still too many)."""
    expand: Iterable[str] = ()
    """Group names to keep open when groups collapse ("layer 1/neuron 0"); one name or many."""
    grads: Mapping[Value, float] | None = None
    """Show these gradients instead of each node's ``.grad`` (a Value absent: no grad line)."""
    title: str | None = None
    """A caption above the drawing."""

    def __post_init__(self) -> None:
        if self.rankdir not in ("LR", "RL", "TB", "BT"):
            raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT'; "
                             f"got {self.rankdir!r}")
        _check_fmt_size(self.fmt)
        try:
            width = max(len(format(x, self.fmt)) for x in (1 / 3, -1 / 3))
        except (ValueError, TypeError):
            raise ValueError(f"fmt must be a float format spec such as '.4g' or '.3f'; "
                             f"got {_brief(self.fmt)}") from None
        if width > MAX_NUMBER_WIDTH:
            raise ValueError(f"fmt {_brief(self.fmt)} writes numbers {width} characters wide; "
                             f"the limit is {MAX_NUMBER_WIDTH} (try '.4g' or '.6f')")
        if self.title is not None and not isinstance(self.title, str):
            raise TypeError(f"title must be a str or None; got {type(self.title).__name__}")
        m = self.max_nodes
        if m is not None and (not isinstance(m, int) or m < 1):
            raise ValueError(f"max_nodes must be a positive int or None; got {m!r}")
        highlight = tuple(self.highlight)
        for v in highlight:
            if not isinstance(v, Value):
                raise TypeError(f"highlight takes Values; got {type(v).__name__}: {v!r}")
        if self.highlight_path is not None and not isinstance(self.highlight_path, Value):
            raise TypeError(f"highlight_path takes a Value; "
                            f"got {type(self.highlight_path).__name__}")
        expand = (self.expand,) if isinstance(self.expand, str) else tuple(self.expand)
        # Kept as tuples: an iterator given as an option would be used up by the first read.
        object.__setattr__(self, "highlight", highlight)
        object.__setattr__(self, "expand", expand)

    @classmethod
    def names(cls) -> list[str]:
        """Every option's name, in the order above."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def parse(cls, who: str, options: Mapping[str, Any]) -> DrawOptions:
        """The options given to ``who`` as keywords; an unknown name is a TypeError that
        names it and lists the valid ones."""
        valid = cls.names()
        for key in options:
            if key not in valid:
                raise TypeError(f"{who}: unknown option {key!r}; the options are "
                                f"{', '.join(sorted(valid))}")
        return cls(**options)


@dataclass(frozen=True)
class _Frame:
    """One frame of the backward animation.

    ``shown`` holds the grads accumulated so far; every other number is written with its
    final text in the fill colour of its box (or the background), and every number is padded
    to ``width`` characters of a monospace font, so all frames share one layout.
    """

    shown: Mapping[Value, float]
    final: Mapping[Value, float]
    done: frozenset[tuple[int, int]]  # (topological id of node, parent index) already applied
    current: tuple[int, int] | None
    width: int
    caption: str = ""
    caption_width: int = 0
    names: Mapping[Value, str] = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Text helpers


def _float(x: Any) -> float:
    # A local derivative or grad is a float, or a Value after backward(create_graph=True).
    return float(x.data) if isinstance(x, Value) else float(x)


def _num(x: Any, fmt: str) -> str:
    """A number in a drawing: ``formulas.number`` with an ASCII minus (the labels' monospace
    columns line up with it)."""
    return number(x, fmt, minus="-")


# What neither XML (dot's HTML-like labels, SVG, the player's page) nor a terminal should get:
# control characters but tab and newline, lone surrogates, and the two non-characters of XML.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _h(text: object, page: bool = False) -> str:
    """The one escaping function: ``text`` as HTML text for dot's HTML-like labels (or, with
    ``page``, for a web page).

    Every string a caller chooses (labels, titles, group names, ops, names in captions) reaches
    a drawing or the player's page only through here: markup characters become entities,
    characters XML cannot hold become U+FFFD, and in a label each backslash is doubled, since
    dot reads ``\\N`` or ``\\G`` in any label as the node's or the graph's name, and a tab
    or a newline is a space (dot would drop it; each statement stays on one line).
    """
    safe = html.escape(_UNSAFE.sub("\ufffd", str(text)), quote=True)
    if page:
        return safe
    return safe.replace("\\", "\\\\").replace("\n", " ").replace("\t", " ")


class _Html(str):
    """A label in dot's HTML-like syntax whose every caller string went through ``_h``."""


def _quote(text: str) -> str:
    # Only the drawing's own constants (colours, shapes, counts) are quoted strings.
    return '"' + _UNSAFE.sub("\ufffd", text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(**attrs: str | None) -> str:
    """DOT attribute list: an ``_Html`` value is written as an HTML-like label, <...>; any other
    value is quoted."""
    parts = []
    for k, v in attrs.items():
        if v is None:
            continue
        parts.append(f"{k}=<{v}>" if isinstance(v, _Html) else f"{k}={_quote(v)}")
    return " [" + " ".join(parts) + "]" if parts else ""


def op_text(node: Value, fmt: str = ".4g") -> str:
    """The text on an op's node: its symbol and static parameter (``**2``, ``leaky_relu 0.01``)."""
    p = PRIMITIVES.get(node.op)
    shown = p.display if p is not None else node.op
    if node.param is None:
        return shown
    arg = _num(node.param, fmt)
    return f"{shown}{arg}" if node.op == "pow" else f"{shown} {arg}"


def _font(text: str, color: str | None = None, mono: bool = False) -> str:
    attrs = (' FACE="Courier"' if mono else "") + (f' COLOR="{color}"' if color else "")
    return f"<FONT{attrs}>{text}</FONT>" if attrs else text


# ---------------------------------------------------------------------------------------------
# Collapsing groups for big graphs


@dataclass
class _Layout:
    """Where each node goes: its cluster path, or the collapsed box that hides it."""

    paths: list[tuple[str, ...]]  # per topological id; () = no group
    box_of: list[int]  # per topological id: index into boxes, or -1 when drawn
    boxes: list[tuple[str, ...]]  # each collapsed group's path
    box_sizes: list[int]


def _layout(order: list[Value], opts: DrawOptions) -> _Layout:
    n = len(order)
    paths: list[tuple[str, ...]] = [()] * n
    if opts.groups:
        for i, v in enumerate(order):
            name = opts.groups.get(v)
            if name:
                paths[i] = tuple(part for part in str(name).split("/") if part)
    layout = _Layout(paths, [-1] * n, [], [])
    if opts.max_nodes is None or n <= opts.max_nodes:
        return layout
    depth = max((len(p) for p in paths), default=0)
    if depth == 0:
        warnings.warn(f"the graph has {n} nodes, more than max_nodes={opts.max_nodes}, but no "
                      "groups to collapse: pass groups= (e.g. model.trace(x).groups)",
                      stacklevel=3)
        return layout
    expanded = {tuple(part for part in e.split("/") if part) for e in opts.expand}
    around = {e[:k] for e in expanded for k in range(1, len(e) + 1)}

    def key(p: tuple[str, ...], d: int) -> tuple[str, ...] | None:
        # The group that hides this node when groups collapse at depth d. Expanded groups stay
        # open, and so do the groups around them: their other members collapse one level finer.
        if any(p[:len(e)] == e for e in expanded):
            return None
        m = d
        while m <= len(p) and p[:m] in around:
            m += 1
        return p[:m] if 0 < m <= len(p) else None

    # Collapse every group at the finest depth first; coarser only if that is still too many.
    # A group of one or two nodes stays open: a box would hide next to nothing.
    keys: list[tuple[str, ...] | None] = []
    sizes: dict[tuple[str, ...], int] = {}
    for d in range(depth, 0, -1):
        keys = [key(p, d) for p in paths]
        sizes = {}
        for k in keys:
            if k is not None:
                sizes[k] = sizes.get(k, 0) + 1
        sizes = {k: c for k, c in sizes.items() if c >= 3}
        if n - sum(c - 1 for c in sizes.values()) <= opts.max_nodes:
            break
    # Boxes are numbered in natural name order (neuron 2 before neuron 10); dot keeps that
    # order within a rank.
    boxes = sorted(sizes, key=_natural)
    index = {k: j for j, k in enumerate(boxes)}
    for i, k in enumerate(keys):
        if k is not None and k in index:
            layout.box_of[i] = index[k]
    layout.boxes = boxes
    layout.box_sizes = [sizes[k] for k in boxes]
    return layout


# ---------------------------------------------------------------------------------------------
# The DOT text


def _natural(path: tuple[str, ...]) -> list[tuple[str, int]]:
    """Sort key for group paths that puts "neuron 2" before "neuron 10"."""
    out = []
    for part in path:
        head = part.rstrip("0123456789")
        tail = part[len(head):]
        out.append((head, int(tail) if tail else -1))
    return out


def _box_outputs(order: list[Value], ids: dict[Value, int], layout: _Layout) -> list[list[int]]:
    """Per collapsed box, the ids of its nodes used outside it (or the root)."""
    outs: list[set[int]] = [set() for _ in layout.boxes]
    if not layout.boxes:
        return []
    root_box = layout.box_of[len(order) - 1]
    if root_box >= 0:
        outs[root_box].add(len(order) - 1)
    for i, v in enumerate(order):
        for p in v.parents:
            pi = ids[p]
            b = layout.box_of[pi]
            if b >= 0 and layout.box_of[i] != b:
                outs[b].add(pi)
    return [sorted(o) for o in outs]


def _on_path(order: list[Value], ids: dict[Value, int], start: Value) -> set[int]:
    """Topological ids of every node on a path from ``start`` to the root."""
    first = ids.get(start)
    if first is None:
        raise ValueError(f"highlight_path: {start!r} is not in the graph being drawn")
    on = {first}
    for i in range(first + 1, len(order)):
        if any(ids[p] in on for p in order[i].parents):
            on.add(i)
    return on


def _lines(root: Value, opts: DrawOptions, frame: _Frame | None = None) -> list[str]:
    """The body of the DOT graph: one string per line, each ending in a newline."""
    if not isinstance(root, Value):
        raise TypeError(f"draw takes the root Value of a graph; got {type(root).__name__}")
    order = toposort(root)
    ids = {v: i for i, v in enumerate(order)}
    fmt = opts.fmt
    hot: set[int] = set()
    for v in opts.highlight:
        i = ids.get(v)
        if i is None:
            raise ValueError(f"highlight: {v!r} is not in the graph being drawn")
        hot.add(i)
    path: set[int] = set()
    if opts.highlight_path is not None:
        path = _on_path(order, ids, opts.highlight_path)
        hot |= path
    layout = _layout(order, opts)
    width = frame.width if frame else 0
    names = node_names(root) if opts.show_formula else None

    def pad(text: str) -> str:
        # Monospace and a fixed width: numbers may change between frames, the layout may not.
        return _h(text.rjust(width)).replace(" ", "&#160;") if frame else _h(text)

    def grad_line(v: Value, fill: str) -> str | None:
        if frame is not None:
            if v in frame.shown:
                return _font("grad " + pad(_num(frame.shown[v], fmt)), GRAD_COLOR, mono=True)
            # Not reached yet: the final text in the fill colour keeps the node's size.
            return _font("grad " + pad(_num(frame.final.get(v, 0.0), fmt)), fill, mono=True)
        if not opts.show_grad:
            return None
        if opts.grads is not None:
            g = opts.grads.get(v)
            return None if g is None else _font("grad " + _h(_num(g, fmt)), GRAD_COLOR)
        return _font("grad " + _h(_num(v.grad, fmt)), GRAD_COLOR)

    def upstream(v: Value) -> Any:
        if frame is not None:
            return frame.final.get(v, 0.0)
        if opts.grads is not None:
            return opts.grads.get(v)
        return v.grad

    out = [
        # Collapsed layers are joined by dense bands of edges: straight lines and more room
        # between ranks keep dot from routing them in long loops around the clusters.
        "\t" + "graph" + _attrs(rankdir=opts.rankdir, bgcolor=BACKGROUND, fontname="Helvetica",
                                fontsize="11", nodesep="0.25",
                                ranksep="0.9" if layout.boxes else "0.35",
                                splines="line" if layout.boxes else None,
                                outputorder="edgesfirst", labelloc="t",
                                label=_title(opts, layout, len(order), frame)) + "\n",
        "\tnode [fontname=\"Helvetica\" fontsize=\"10\" margin=\"0.06,0.03\"]\n",
        "\tedge [fontname=\"Courier\" fontsize=\"9\" arrowsize=\"0.6\"]\n",
    ]
    # Clusters: the tree of group paths, each holding its nodes' lines, in first-seen order.
    tree: dict[tuple[str, ...], list[str]] = {(): []}
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}

    def bucket(p: tuple[str, ...]) -> list[str]:
        for d in range(1, len(p) + 1):
            key = p[:d]
            if key not in tree:
                tree[key] = []
                children[key] = []
                children[key[:-1]].append(key)
        return tree[p]

    outputs = _box_outputs(order, ids, layout)
    for k, key in enumerate(layout.boxes):
        n_hidden = layout.box_sizes[k]
        shown = any(i in hot for i in range(len(order)) if layout.box_of[i] == k)
        rows = [f"<B>{_h(key[-1])}</B>", f"{n_hidden} nodes hidden"]
        if len(outputs[k]) == 1:
            # A group with one way out (a neuron): its output's numbers stay visible.
            v = order[outputs[k][0]]
            rows.append(f"out {_h(_num(v.data, fmt))}")
            g = grad_line(v, OP_FILL) if frame is None else None
            if g is not None:
                rows.append(g)
        label = _Html("<BR/>".join(rows))
        bucket(key[:-1]).append(
            f"\tg{k}" + _attrs(label=label, shape="box3d", style="filled",
                               fillcolor=HIGHLIGHT_FILL if shown else OP_FILL,
                               color=HIGHLIGHT if shown else None) + "\n")
    hot_ops = set(hot)
    if frame is not None and frame.current is not None:
        # The step being applied: the node sending its grad (and its op) and the parent
        # receiving it.
        ci, cj = frame.current
        hot_ops.add(ci)
        hot |= {ci, ids[order[ci].parents[cj]]}
    for i, v in enumerate(order):
        if layout.box_of[i] >= 0:
            continue
        is_hot = i in hot
        fill = HIGHLIGHT_FILL if is_hot else (
            ROOT_FILL if v is root else (LEAF_FILL if not v.parents else VALUE_FILL))
        rows = []
        if v.label:
            rows.append(f"<B>{_h(v.label)}</B>")
        elif frame is not None and v in frame.names:
            # Frames name every node, so the caption's "mul2" can be found in the picture.
            rows.append(_font(f"<I>{_h(frame.names[v])}</I>", "#666666"))
        elif names is not None:
            # So are formulas: ∂mul4/∂b names a node the reader must find.
            rows.append(_font(f"<I>{_h(names[v])}</I>", "#666666"))
        if opts.show_data or frame is not None:
            rows.append(_font("data " + pad(_num(v.data, fmt)), mono=frame is not None))
        g = grad_line(v, fill)
        if g is not None:
            rows.append(g)
        if not rows:
            rows.append("&#160;")
        lines = bucket(layout.paths[i])
        lines.append(f"\tv{i}" + _attrs(
            label=_Html("<BR/>".join(rows)), shape="box", style="rounded,filled",
            fillcolor=fill, color=HIGHLIGHT if is_hot else None,
            penwidth="2" if is_hot else None) + "\n")
        if v.parents:
            lines.append(f"\tv{i}op" + _attrs(
                label=_Html(_h(op_text(v, fmt))), shape="ellipse", style="filled",
                fillcolor=HIGHLIGHT_FILL if i in hot_ops else OP_FILL,
                color=HIGHLIGHT if i in hot_ops else "#888888", fontsize="9", height="0.3",
                margin="0.03,0.01") + "\n")
    # Collapsed groups get one edge per pair of boxes, labelled with how many it stands for.
    merged: dict[tuple[str, str], int] = {}
    edges: list[str] = []
    for i, v in enumerate(order):
        if not v.parents:
            continue
        dst_box = layout.box_of[i]
        if dst_box < 0:
            edges.append(f"\tv{i}op -> v{i}" + _attrs(
                color=HIGHLIGHT if i in path else None,
                penwidth="2" if i in path else None) + "\n")
        for j, (p, local) in enumerate(v.edges()):
            pi = ids[p]
            src_box = layout.box_of[pi]
            src = f"g{src_box}" if src_box >= 0 else f"v{pi}"
            dst = f"g{dst_box}" if dst_box >= 0 else f"v{i}op"
            if src_box >= 0 or dst_box >= 0:
                if src != dst:
                    merged[(src, dst)] = merged.get((src, dst), 0) + 1
                continue
            formula = None if names is None else edge_formula(v, j, names, fmt).text(
                fmt, value=opts.show_local and frame is None)
            edges.append(f"\t{src} -> {dst}" + _edge_attrs(
                i, j, v, local, upstream(v), opts, frame, pad, on_path=i in path and pi in path,
                formula=formula) + "\n")
    for (src, dst), count in merged.items():
        edges.append(f"\t{src} -> {dst}" + _attrs(
            label=f"×{count}" if count > 1 else None, color="#a8a8a8", arrowsize="0.4") + "\n")
    out.extend(_cluster_lines(tree, children))
    out.extend(edges)
    return out


def _edge_attrs(i: int, j: int, v: Value, local: Any, up: Any, opts: DrawOptions,
                frame: _Frame | None, pad: Any, on_path: bool, formula: str | None = None) -> str:
    fmt = opts.fmt
    if frame is not None:
        contrib = _num(_float(local) * _float(up), fmt)
        # A formula is the same in every frame: unpadded, it still keeps the layout fixed.
        head = _h(formula) + "<BR/>" if formula else ""
        text = head + pad(_num(local, fmt)) + "<BR/>" + _font(
            "×" + pad(_num(up, fmt)) + "<BR/>=" + pad(contrib),
            CONTRIB_COLOR if (i, j) in frame.done or frame.current == (i, j) else GHOST)
        is_current = frame.current == (i, j)
        return _attrs(label=_Html(text), color=HIGHLIGHT if is_current else
                      (CONTRIB_COLOR if (i, j) in frame.done else None),
                      penwidth="3" if is_current else None,
                      fontcolor=HIGHLIGHT if is_current else None)
    rows = []
    if formula is not None:
        rows.append(_h(formula))
    elif opts.show_local:
        rows.append(_h(_num(local, fmt)))
    if opts.show_contrib and up is not None:
        product = _float(local) * _float(up)
        rows.append(_font(_h(f"×{_num(up, fmt)} = {_num(product, fmt)}"), CONTRIB_COLOR))
    label = _Html("<BR/>".join(rows)) if rows else None
    return _attrs(label=label, color=HIGHLIGHT if on_path else None,
                  penwidth="2" if on_path else None)


def _cluster_lines(tree: dict[tuple[str, ...], list[str]],
                   children: dict[tuple[str, ...], list[tuple[str, ...]]]) -> list[str]:
    # Clusters nest only as deep as the group names ("layer 0/neuron 3"), never as deep as
    # the graph, so an explicit stack is not needed for safety; it keeps the order simple.
    out: list[str] = []
    counter = 0
    stack: list[tuple[tuple[str, ...], bool]] = [(k, True) for k in reversed(children[()])]
    while stack:
        key, opening = stack.pop()
        indent = "\t" * len(key)
        if not opening:
            out.append(indent + "}\n")
            continue
        out.append(f"{indent}subgraph cluster_{counter} {{\n")
        counter += 1
        out.append(indent + "\t" + "graph" + _attrs(
            label=_Html(_h(key[-1])), style="rounded", color=CLUSTER_COLOR,
            fontcolor="#555555") + "\n")
        out.extend(indent + line for line in tree[key])
        stack.append((key, False))
        stack.extend((k, True) for k in reversed(children[key]))
    # Ungrouped nodes (a loss on top of a model) come after the clusters: listed first, dot
    # tends to pull them to the front and route the clusters' edges around them.
    out.extend(tree[()])
    return out


def _title(opts: DrawOptions, layout: _Layout, n: int, frame: _Frame | None) -> _Html | None:
    parts = []
    if opts.title:
        parts.append(opts.title)
    if frame is not None and frame.caption:
        parts.append(frame.caption)
    if layout.boxes:
        hidden = sum(layout.box_sizes)
        parts.append(f"{len(layout.boxes)} groups collapsed: {hidden} of {n} nodes hidden "
                     f"(max_nodes={opts.max_nodes})")
    if not parts:
        return None
    lines = [line for p in parts for line in p.split("\n")]
    if frame is not None:
        # Captions differ between frames: monospace and padded to one width, like the numbers.
        width = max(frame.caption_width, *(len(line) for line in lines))
        rows = [_h(line.ljust(width)).replace(" ", "&#160;") for line in lines]
        return _Html('<FONT FACE="Courier">' + "<BR/>".join(rows) + "</FONT>")
    return _Html("<BR/>".join(_h(line) for line in lines))


def _source(lines: list[str]) -> str:
    return "digraph {\n" + "".join(lines) + "}\n"


# ---------------------------------------------------------------------------------------------
# Public API


def to_dot(root: Value, **options: Any) -> str:
    """The DOT text of ``draw(root, **options)``; needs neither the graphviz package nor ``dot``."""
    return _source(_lines(root, DrawOptions.parse("to_dot", options)))


def draw(root: Value, **options: Any) -> graphviz.Digraph:
    """Draw the graph of ``root``: a box per value (label, data, grad), a small node per op,
    and on each edge parent -> op the local derivative d(node)/d(parent).

    ``options`` are keywords, each a field of ``DrawOptions``, where they are documented with
    their defaults (``DrawOptions.names()`` lists them).

    Jupyter renders the result inline; ``.source`` is the DOT text (``to_dot``).
    """
    return _digraph(_lines(root, DrawOptions.parse("draw", options)))


_drawing_class: Any = None


def _digraph(lines: list[str]) -> graphviz.Digraph:
    global _drawing_class
    if _drawing_class is None:
        gv = _graphviz()

        class Drawing(gv.Digraph):  # type: ignore[misc,name-defined]
            """A graphviz.Digraph that, shown in Jupyter without ``dot``, says how to install
            it and shows the DOT text instead of a traceback."""

            def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                                  **kwargs: Any) -> dict[str, Any]:
                try:
                    bundle: dict[str, Any] = super()._repr_mimebundle_(include, exclude,
                                                                       **kwargs)
                except gv.ExecutableNotFound:
                    return {"text/plain": f"{INSTALL_DOT}\n\n{self.source}"}
                return bundle

        _drawing_class = Drawing
    graph: graphviz.Digraph = _drawing_class(body=lines)
    return graph


def render(graph: graphviz.Digraph, fmt: str, timeout: float | None = DOT_TIMEOUT) -> bytes:
    """Render a Digraph to bytes in ``fmt`` ("svg", "png", "pdf") with Graphviz's ``dot``,
    stopping it after ``timeout`` seconds (None: no limit)."""
    return _run_dot(graph.source, fmt, timeout, "the drawing")


def save(root: Value, path: str | pathlib.Path, *, timeout: float | None = DOT_TIMEOUT,
         **options: Any) -> pathlib.Path:
    """Write the drawing of ``root`` to ``path``: SVG, PNG or PDF by the extension, or the DOT
    text for .dot/.gv (which needs no Graphviz program). Returns the path written.

    ``options`` are ``draw``'s (``DrawOptions``). ``dot`` is stopped after ``timeout`` seconds
    (``DOT_TIMEOUT``; None for no limit) with a ``RenderError``; it also raises one when
    ``dot`` fails. The file is written atomically (``autograd.atomic_write``): any file already
    at ``path`` stays whole until the new one replaces it."""
    opts = DrawOptions.parse("save", options)
    out = pathlib.Path(path)
    ext = out.suffix.lower()
    if ext in TEXT_FORMATS:
        atomic_write(out, _source(_lines(root, opts)))
        return out
    if ext not in RENDER_FORMATS:
        raise ValueError(f"cannot tell the format of {_brief(str(out))} from its extension; use "
                         f"one of {', '.join(RENDER_FORMATS + TEXT_FORMATS)}")
    source = _source(_lines(root, opts))
    n, m = _graph_size(root)
    atomic_write(out, _run_dot(source, ext[1:], timeout, f"the drawing of {out} ({n} values, "
                                                          f"{m} edges)"))
    return out


def _graph_size(root: Value) -> tuple[int, int]:
    """How many values and edges (parent -> op) the graph of ``root`` has."""
    order = toposort(root)
    return len(order), sum(len(v.parents) for v in order)


def _run_dot(source: str, fmt: str, timeout: float | None, what: str) -> bytes:
    """``source`` rendered by ``dot -T<fmt>``: at most ``timeout`` seconds, and a RenderError
    that quotes dot's own message when it fails."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound(INSTALL_DOT)
    try:
        done = _run_stoppable([exe, f"-T{fmt}"], source.encode("utf-8"), timeout)
    except FileNotFoundError:
        raise GraphvizNotFound(INSTALL_DOT) from None
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"dot took more than {timeout:g} s to lay out {what} and was stopped (a value used "
            "by many ops, as in a*a*a*..., is slow to lay out). To draw it: collapse parts with "
            "groups= and max_nodes=, draw a smaller part, allow more time (timeout=, or "
            "edgegrad draw --timeout), or save it as .dot and run `dot -Tsvg` on it "
            "yourself") from None
    if done.returncode < 0:
        raise RenderError(f"dot was stopped by signal {-done.returncode} while rendering {what} "
                          "(out of memory?); draw a smaller graph, or save it as .dot")
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"dot failed on {what} (exit status {done.returncode}): "
                          f"{_brief(said, 400, quote=False) or 'it printed no message'}")
    return done.stdout


_STOP_SIGNALS = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}


def _run_stoppable(cmd: list[str], data: bytes, timeout: float | None
                   ) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)``, but whatever
    stops this process (Ctrl-C, or SIGTERM and SIGHUP, which ``edgegrad`` turns into
    exceptions) stops the child too, even in the moment while it is being started.

    ``subprocess.run`` kills its child on an exception, but not one raised while ``Popen`` is
    still starting it: the child would be left running. So the stop signals are held (in the
    main thread, where Python runs their handlers) until the child is known, and released
    inside the block that kills it. The child inherits the held mask; it is stopped with
    SIGKILL, which no mask holds."""
    hold = (hasattr(signal, "pthread_sigmask")
            and threading.current_thread() is threading.main_thread())
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS) if hold else None
    try:
        process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        with process:
            try:
                if previous is not None:  # a signal held meanwhile is handled here
                    signal.pthread_sigmask(signal.SIG_SETMASK, previous)
                    previous = None
                out, err = process.communicate(data, timeout=timeout)
            except BaseException:
                process.kill()
                raise
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return subprocess.CompletedProcess(cmd, process.returncode, out, err)


def _brief(text: str, limit: int = 60, quote: bool = True) -> str:
    """``text`` for a message: its repr (or itself, without ``quote``, made safe), cut to about
    ``limit`` characters and saying how much was left out."""
    shown = repr(text[:limit]) if quote else _UNSAFE.sub("\ufffd", text[:limit])
    return shown + (f" ... ({len(text) - limit} more characters)" if len(text) > limit else "")
