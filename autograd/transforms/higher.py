"""Gradients without touching ``.grad`` (``gradients``), and the nesting of function transforms.

Differentiable gradients come from ``backward.differentiable_edges``: each edge's local
derivative is the primitive's own partials rule evaluated on Values, so the table in ``ops.py``
serves first, second and n-th order alike.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..backward import chain_rule, combine, differentiable_edges, reverse_order, scaled
from ..recording import edge_hooks, recording
from ..value import Value


def _lift(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _relevant(order: list[Value], targets: set[Value]) -> set[Value]:
    """The nodes of ``order`` (reverse topological) that depend on some target, targets included."""
    keep: set[Value] = set()
    for node in reversed(order):
        if node in targets or any(p in keep for p in node.parents):
            keep.add(node)
    return keep


def _grad_graph(order: list[Value], seed: Any, targets: set[Value]) -> dict[Value, Any]:
    """Every node's gradient d(root)/d(node) as a Value or number, built edge by edge.

    ``Value.backward(create_graph=True)``'s chain rule, kept in a dict instead of ``.grad``,
    and only along edges that lead to a target. ``order`` is ``reverse_order(root)``.
    """
    keep = _relevant(order, targets)
    hooks = edge_hooks()
    arrived: dict[Value, list[Any]] = {order[0]: [seed]}
    grads: dict[Value, Any] = {}

    def upstream(node: Value) -> Any:
        terms = arrived.pop(node, None)
        if terms is None:  # reached only through pruned edges
            return None
        g = grads[node] = combine(terms)
        return g

    def edges(node: Value) -> tuple[tuple[Value, Any], ...]:
        return differentiable_edges(node) if node in keep else ()

    with recording(gradients=True):
        for node, i, parent, local, g in chain_rule(order, upstream, edges):
            if parent not in keep:
                continue
            for hook in hooks:
                hook(node, i, parent, local, g)
            arrived.setdefault(parent, []).append(scaled(local, g))
    return grads


def gradients(root: Value, inputs: Sequence[Value], grad: Any = 1.0,
              create_graph: bool = True) -> tuple[Any, ...]:
    """d(root)/d(input) for each input, without touching any ``.grad`` (like torch.autograd.grad).

    With ``create_graph`` (the default) the results are Values that can be differentiated
    again; otherwise floats. An input that ``root`` does not depend on gets 0.
    """
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"gradients: every input must be a Value; got {type(x).__name__}")
    if not isinstance(root, Value):
        raise TypeError(f"gradients: the output must be a Value; got {type(root).__name__}")
    order = reverse_order(root)
    if create_graph:
        grads = _grad_graph(order, grad, set(inputs))
        return tuple(_lift(grads.get(x, 0.0)) for x in inputs)
    return _float_grads(order, inputs, float(grad))


def _float_grads(order: list[Value], inputs: Sequence[Value], seed: float) -> tuple[float, ...]:
    """First-order gradients from the recorded float partials, kept in a dict.

    The chain rule with float contributions added as they arrive (``jacobian`` and ``hessian``
    run it once per output), not ``_grad_graph``'s bookkeeping for building Values.
    """
    grads: dict[Value, float] = {order[0]: seed}
    for _, _, parent, local, g in chain_rule(order, lambda node: grads.get(node, 0.0)):
        grads[parent] = grads.get(parent, 0.0) + local * g
    return tuple(float(grads.get(x, 0.0)) for x in inputs)


# ---------------------------------------------------------------------------------------------
# Nesting of function transforms. A transform (grad, jacobian, jvp...) calls the user's function
# one level deeper; a gradient asked for at a level > 0 is an intermediate result of an outer
# transform, so it must be built as a graph (create_graph) and returned as Values.

class _Level(threading.local):
    depth: int = 0


_level = _Level()


def nested() -> bool:
    """Whether we are inside the function of an enclosing transform (in this thread)."""
    return _level.depth > 0


@contextmanager
def inner() -> Iterator[None]:
    """Run a transform's function one nesting level deeper, recording its graph.

    A transform needs the graph of its function whatever the caller's grad mode, so an outer
    ``no_grad()`` does not reach inside it (as with torch.func.grad).
    """
    _level.depth += 1
    try:
        with recording():
            yield
    finally:
        _level.depth -= 1
