"""Anomaly detection: stop at the first op that makes a NaN or an infinity, and say where.

Inside ``detect_anomaly()`` every new op node remembers the line of user code that created it,
its forward result is checked, and backward checks every edge's contribution
``local * upstream``. The first non-finite one raises ``AnomalyError`` naming the op, its
operands (with labels) and that line. Outside the block nothing is recorded or checked: node
creation pays one falsy check and backward one attribute read (``value.watch``).
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..backward import reverse_order
from ..node import describe
from ..recording import building_gradients, watch
from ..value import Value

# autograd/, this file being in autograd/transforms/: frames anywhere below it are the engine's.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Site:
    """Where user code created a node: file, line and function."""

    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno} (in {self.function})"


class _State(threading.local):
    depth: int = 0
    sites: dict[Value, Site] | None = None


_state = _State()


class AnomalyError(FloatingPointError):
    """The first op whose forward result or backward contribution is NaN or infinite.

    ``phase`` is 'forward' or 'backward', ``node`` the op's node, ``op`` its name, ``site``
    where user code created it (None if it was made outside ``detect_anomaly()``).
    """

    def __init__(self, phase: str, node: Value, message: str, site: Site | None) -> None:
        self.phase = phase
        self.node = node
        self.op = node.op
        self.site = site
        where = (f"created at {site}" if site is not None
                 else "created outside detect_anomaly(), so its line was not recorded")
        what = f"the {node.op} node" if node.op else "this leaf"
        super().__init__(f"{message}\n  {what} was {where}")


def _call(node: Value) -> str:
    args = ", ".join(describe(p) for p in node.parents)
    if node.param is not None:
        args += f", {node.param!r}"
    return f"{node.op}({args})"


_in_package: dict[str, bool] = {}  # co_filename -> inside autograd/? (abspath is slow per node)


def _inside(filename: str) -> bool:
    known = _in_package.get(filename)
    if known is None:
        known = _in_package[filename] = (
            os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep))
    return known


def _user_site() -> Site:
    """The innermost frame outside the autograd package: the user's line that made the node."""
    f: Any = sys._getframe(1)
    while f is not None and _inside(f.f_code.co_filename):
        f = f.f_back
    if f is None:  # only autograd frames: e.g. a node made while importing the package
        return Site("<autograd>", 0, "<unknown>")
    return Site(f.f_code.co_filename, f.f_lineno, f.f_code.co_name)


def site_of(node: Value) -> Site | None:
    """Where user code created ``node``, if it was made inside ``detect_anomaly()``."""
    sites = _state.sites
    return None if sites is None else sites.get(node)


def is_active() -> bool:
    """Whether ``detect_anomaly()`` is open in this thread."""
    return _state.depth > 0


def _forward_origin(node: Value) -> bool:
    """A non-finite result that this op made, rather than passed on from an operand."""
    y = node.data
    if math.isnan(y):
        return not any(math.isnan(p.data) for p in node.parents)
    return all(math.isfinite(p.data) for p in node.parents)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``AnomalyError`` at the first op (forward or backward) that makes a NaN or inf.

    An op is flagged when its result is NaN and no operand is NaN, or infinite while every
    operand is finite: the op that created the bad number, not the ones that pass it on.
    Applies to the current thread; nodes made inside the block remember their line of code.
    """
    state = _state
    if state.depth == 0:
        state.sites = {}
    sites = state.sites
    assert sites is not None

    def on_node(node: Value) -> None:
        site = _user_site()
        sites[node] = site
        if (not building_gradients() and not math.isfinite(node.data)
                and _forward_origin(node)):
            raise AnomalyError("forward", node,
                               f"forward of {node.op} produced {node.data!r}: "
                               f"{_call(node)} = {node.data!r}", site)

    state.depth += 1
    try:
        with watch(on_node=on_node, on_edge=check_edge):
            yield
    finally:
        state.depth -= 1
        if state.depth == 0:
            state.sites = None


def check_edge(node: Value, i: int, parent: Value, local: Any, upstream: Any) -> None:
    """Raise before the edge node -> parent (operand ``i``) adds a non-finite value to a grad.

    Either the contribution ``local * upstream`` is itself NaN or infinite, or it is finite and
    the parent's summed gradient overflows with it.
    """
    c = float(local) * float(upstream)
    if not math.isfinite(c):
        which = (f"operand {i} ({describe(parent)})" if len(node.parents) > 1
                 else describe(parent))
        raise AnomalyError(
            "backward", node,
            f"backward of {node.op} produced {c!r} for {which}: local derivative "
            f"{float(local)!r} * upstream gradient {float(upstream)!r} = {c!r}; the node is "
            f"{_call(node)} = {node.data!r}",
            site_of(node))
    before = float(parent.grad)
    total = before + c
    if math.isfinite(before) and not math.isfinite(total):
        raise AnomalyError(
            "backward", parent,
            f"the gradient reaching {describe(parent)} summed to {total!r} (overflow); the node "
            f"is {_call(parent) if parent.parents else 'a leaf'}",
            site_of(parent))


def first_nonfinite(root: Value) -> Value | None:
    """The node where a NaN or infinity first appears in ``root``'s graph, or None.

    Forward values first: the earliest node in topological order whose data is non-finite.
    Otherwise gradients: the earliest node in backward order whose grad is non-finite (the
    op that sent it is one of that node's consumers).
    """
    order = reverse_order(root)
    for node in reversed(order):
        if not math.isfinite(node.data):
            return node
    for node in order:
        if not math.isfinite(float(node.grad)):
            return node
    return None
