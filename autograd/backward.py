"""Topological order and the backward pass: iterative, deterministic, edge by edge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import anomaly as _anomaly

if TYPE_CHECKING:
    from .value import Value


def reverse_order(root: Value) -> list[Value]:
    """Every node reachable from ``root``, each one after all the nodes that consume it.

    Kahn's algorithm on the reversed graph: first count each node's consuming edges, then
    release a node once all of them are processed. No recursion (a million-deep chain is fine)
    and no hashing order: the same graph always gives the same list. ``root`` comes first.
    """
    pending: dict[Value, int] = {root: 0}
    stack = [root]
    while stack:
        for p in stack.pop().parents:
            n = pending.get(p)
            if n is None:
                pending[p] = 1
                stack.append(p)
            else:
                pending[p] = n + 1
    order = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for p in node.parents:
            n = pending[p] - 1
            pending[p] = n
            if n == 0:
                ready.append(p)
    return order


def toposort(root: Value) -> list[Value]:
    """Every node reachable from ``root``, each after all of its parents (``root`` last)."""
    order = reverse_order(root)
    order.reverse()
    return order


def backward(root: Value, grad: Any = 1.0, create_graph: bool = False) -> list[Value]:
    """Apply the chain rule from ``root`` back to the leaves; return the nodes in that order.

    Interior grads are reset first and leaves accumulate (see ``Value.backward``). Each edge
    does exactly ``parent.grad += local * node.grad``. With ``create_graph`` the grads are
    built as differentiable Values (``higher.py``).
    """
    if create_graph:
        from .higher import backward_graph

        return backward_graph(root, grad)
    if _anomaly.checking:  # detect_anomaly() is open somewhere: check every edge
        return _anomaly.checked_backward(root, grad)
    # reverse_order's two passes with the grad reset folded into the first and the chain rule
    # into the second: a node is released only after all its consumers sent their share, so
    # its grad is complete when it is popped. Same order, same sums, one walk fewer.
    pending: dict[Value, int] = {root: 0}
    stack = [root]
    while stack:
        for p in stack.pop().parents:
            n = pending.get(p)
            if n is None:
                pending[p] = 1
                if p.parents:
                    p.grad = 0.0
                    stack.append(p)
            else:
                pending[p] = n + 1
    if root.parents:
        root.grad = 0.0
    root.grad += grad
    order = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        g = node.grad
        for p, local in zip(node.parents, node.local_grads):
            p.grad += local * g
            n = pending[p]
            if n == 1:
                ready.append(p)
            else:
                pending[p] = n - 1
    return order
