"""Collapsing the groups of a big graph (a layer, a neuron) into one box each, so that a
network's drawing stays readable; ``autograd.drawing.graph`` draws what this decides."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..value import Value


@dataclass
class Layout:
    """Where each node goes: its cluster path, or the collapsed box that hides it."""

    paths: list[tuple[str, ...]]  # per topological id; () = no group
    box_of: list[int]  # per topological id: index into boxes, or -1 when drawn
    boxes: list[tuple[str, ...]]  # each collapsed group's path
    box_sizes: list[int]


def layout(order: list[Value], groups: Mapping[Value, str] | None, max_nodes: int | None,
           expand: Iterable[str]) -> Layout:
    """Where each node of ``order`` goes: ``groups`` (``DrawOptions.groups``) make clusters, and
    beyond ``max_nodes`` values the biggest groups collapse, except those in ``expand``."""
    n = len(order)
    paths: list[tuple[str, ...]] = [()] * n
    if groups:
        for i, v in enumerate(order):
            name = groups.get(v)
            if name:
                paths[i] = tuple(part for part in str(name).split("/") if part)
    result = Layout(paths, [-1] * n, [], [])
    if max_nodes is None or n <= max_nodes:
        return result
    depth = max((len(p) for p in paths), default=0)
    if depth == 0:
        warnings.warn(f"the graph has {n} nodes, more than max_nodes={max_nodes}, but no "
                      "groups to collapse: pass groups= (e.g. model.trace(x).groups)",
                      stacklevel=3)
        return result
    expanded = {tuple(part for part in e.split("/") if part) for e in expand}
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
        if n - sum(c - 1 for c in sizes.values()) <= max_nodes:
            break
    # Boxes are numbered in natural name order (neuron 2 before neuron 10); dot keeps that
    # order within a rank.
    boxes = sorted(sizes, key=natural)
    index = {k: j for j, k in enumerate(boxes)}
    for i, k in enumerate(keys):
        if k is not None and k in index:
            result.box_of[i] = index[k]
    result.boxes = boxes
    result.box_sizes = [sizes[k] for k in boxes]
    return result


def natural(path: tuple[str, ...]) -> list[tuple[str, int]]:
    """Sort key for group paths that puts "neuron 2" before "neuron 10"."""
    out = []
    for part in path:
        head = part.rstrip("0123456789")
        tail = part[len(head):]
        out.append((head, int(tail) if tail else -1))
    return out


def box_outputs(order: list[Value], ids: dict[Value, int], layout: Layout) -> list[list[int]]:
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
