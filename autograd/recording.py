"""Whether ops record the graph, and who is told: grad mode and hooks, per thread.

The node builder (``node._node``) reads one module global, ``_watched``: it is non-zero only
while some thread has a ``no_grad()`` or a ``watch()`` open, so the usual case costs one falsy
check per op. This module knows nothing of nodes (it sits below them): a hook receives whatever
node the builder made, a Value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

NodeHook = Callable[[Any], None]
"""``on_node(node)``: called with each op node made while its ``watch`` block is open."""
EdgeHook = Callable[[Any, int, Any, Any, Any], None]
"""``on_edge(node, i, parent, local, upstream)``: called before a backward pass adds
``local * upstream`` into ``parent``'s gradient."""


class _ThreadState(threading.local):
    grad_enabled: bool = True
    node_hooks: tuple[NodeHook, ...] = ()
    edge_hooks: tuple[EdgeHook, ...] = ()
    building_gradients: bool = False


_thread = _ThreadState()
_watched = 0
_watched_lock = threading.Lock()


def _add_watch(delta: int) -> None:
    global _watched
    with _watched_lock:
        _watched += delta


@contextmanager
def watch(on_node: NodeHook | None = None, on_edge: EdgeHook | None = None) -> Iterator[None]:
    """Call ``on_node(node)`` for each op node this thread makes inside the block, and
    ``on_edge(node, i, parent, local, upstream)`` before each edge of a backward pass adds
    ``local * upstream`` into ``parent.grad``.

    The one mechanism behind ``capture``, forward mode (``jvp``) and anomaly detection. Blocks
    nest; hooks run in the order their blocks were opened. A hook may raise to stop the op.
    """
    state = _thread
    saved = (state.node_hooks, state.edge_hooks)
    if on_node is not None:
        state.node_hooks = (*state.node_hooks, on_node)
    if on_edge is not None:
        state.edge_hooks = (*state.edge_hooks, on_edge)
    _add_watch(1)
    try:
        yield
    finally:
        _add_watch(-1)
        state.node_hooks, state.edge_hooks = saved


def edge_hooks() -> tuple[EdgeHook, ...]:
    """The ``on_edge`` hooks open in this thread (backward reads them once per pass)."""
    return _thread.edge_hooks


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block (in this thread), results record no parents: they are leaves."""
    previous = _thread.grad_enabled
    _thread.grad_enabled = False
    _add_watch(1)
    try:
        yield
    finally:
        _add_watch(-1)
        _thread.grad_enabled = previous


@contextmanager
def recording(gradients: bool = False) -> Iterator[None]:
    """Record the graph in this block even inside ``no_grad()`` (this thread only).

    ``gradients=True`` marks the nodes as a backward pass's gradients (``create_graph``):
    anomaly detection checks them as backward contributions, not as forward ops.
    """
    state = _thread
    previous = (state.grad_enabled, state.building_gradients)
    state.grad_enabled = True
    state.building_gradients = gradients or state.building_gradients
    try:
        yield
    finally:
        state.grad_enabled, state.building_gradients = previous


def is_grad_enabled() -> bool:
    """Whether ops in this thread currently record the graph."""
    return _thread.grad_enabled


def building_gradients() -> bool:
    """Whether this thread is building a backward pass's gradients (``create_graph=True``)."""
    return _thread.building_gradients


@contextmanager
def capture() -> Iterator[list[Any]]:
    """Collect, in creation order, every op node (a Value) this thread makes inside the block.

    ``with capture() as nodes: y = neuron(x)`` lets a caller tag what a piece of code built
    (nn uses it to group a neuron's nodes for drawings).
    """
    nodes: list[Any] = []
    with watch(on_node=nodes.append):
        yield nodes
