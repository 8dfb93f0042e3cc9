"""The backward pass: order the graph, then apply the chain rule edge by edge.

The whole algorithm, as ``chain_rule`` below writes it once::

    for node in reverse_order(root):        # each node after every node that consumes it
        for parent, local in node.edges():  # local = d(node)/d(parent), from the forward pass
            parent.grad += local * node.grad

By the time a node's turn comes, every node that consumes it has sent its share, so its
gradient is complete. Every pass in the package is this loop and differs only in where it keeps
the gradients and how a node's incoming shares are added: ``backward`` keeps them in ``.grad``
(and shows each edge to the ``watch(on_edge=...)`` hooks), ``create_graph=True`` builds them as
Values, ``transforms.higher`` keeps them in a dict, ``drawing.steps`` shows each step to a
learner. ``_propagate`` is the one copy written for speed, on the default path; the readable
loop is its docstring and a test holds the two to identical gradients.

This module sits below ``value.py`` (``Value.backward`` calls ``backward`` here) and knows nodes
only as ``node.Node``: the Values it builds for ``create_graph`` are of the graph's own class.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any, TypeVar

from .node import VALUE_MATH, DomainError, Node, _apply_rules, _operand
from .ops import PRIMITIVES, SUM
from .recording import EdgeHook, edge_hooks, recording

N = TypeVar("N", bound=Node)


def reverse_order(root: N) -> list[N]:
    """Every node reachable from ``root``, each one after all the nodes that consume it.

    Kahn's algorithm on the reversed graph: first count each node's consuming edges, then
    release a node once all of them are processed. No recursion (a million-deep chain is fine)
    and no hashing order: the same graph always gives the same list. ``root`` comes first.
    """
    consumers: dict[N, int] = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        for parent in node.parents:
            if parent in consumers:
                consumers[parent] += 1
            else:
                consumers[parent] = 1
                stack.append(parent)
    order = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in node.parents:
            consumers[parent] -= 1
            if consumers[parent] == 0:
                ready.append(parent)
    return order


def toposort(root: N) -> list[N]:
    """Every node reachable from ``root``, each after all of its parents (``root`` last)."""
    order = reverse_order(root)
    order.reverse()
    return order


def chain_rule(order: Iterable[N], upstream: Callable[[N], Any],
               edges: Callable[[N], Iterable[tuple[N, Any]]] | None = None,
               ) -> Iterator[tuple[N, int, N, Any, Any]]:
    """The chain rule, one edge at a time: ``(node, i, parent, local, g)`` for each edge.

    ``order`` is ``reverse_order(root)``. When a node's turn comes, ``upstream(node)`` gives its
    gradient ``g``, complete by then (None: the node was not reached, it has no steps); each
    edge ``i`` then yields ``local`` = d(node)/d(parent). The caller adds ``local * g`` to the
    parent's gradient, wherever it keeps gradients, before asking for the next step.
    ``edges(node)`` gives the edges (``Node.edges`` by default; the local derivatives as Values
    for ``create_graph``).
    """
    edges_of = edges or Node.edges
    for node in order:
        g = upstream(node)
        if g is None:
            continue
        for i, (parent, local) in enumerate(edges_of(node)):
            yield node, i, parent, local, g


_grad = attrgetter("grad")


def backward(root: Node, grad: Any = 1.0, create_graph: bool = False) -> None:
    """Apply the chain rule from ``root`` back to the leaves (what ``Value.backward`` runs).

    Every node is visited after all the nodes that consume it, so its grad is complete when
    its turn comes; then each of its edges sends ``local * node.grad`` back to the parent.
    Interior grads are reset first and leaves accumulate (see ``Value.backward``).

    With ``create_graph`` each local derivative is the primitive's partials rule evaluated on
    Values (``differentiable_edges``), so every grad is a graph that can be differentiated again.
    ``watch(on_edge=...)`` hooks (anomaly detection) see every edge before it is added. Without
    either, ``_propagate`` runs the same chain rule in the same order, written for speed.
    """
    grad = _seed(grad, create_graph)
    hooks = edge_hooks()
    if not create_graph and not hooks:
        _propagate(root, grad)
        return
    order = reverse_order(root)
    for node in order:
        if node.parents:
            node.grad = 0.0
    if create_graph:
        _backward_graph(order, grad, hooks)
        return
    root.grad += grad
    for node, i, parent, local, g in chain_rule(order, _grad):
        for hook in hooks:
            hook(node, i, parent, local, g)
        parent.grad += local * g


def _seed(grad: Any, create_graph: bool) -> Any:
    """The seed d(root)/d(root) as a float (or a Value, with create_graph); else a TypeError."""
    if isinstance(grad, Node):
        if not create_graph:
            return grad.data
        return grad
    if isinstance(grad, numbers.Real):  # int, float, bool, numpy scalars
        return float(grad)
    raise TypeError(f"backward: grad (the seed d(output)/d(output)) must be a real number"
                    f"{' or a Value' if create_graph else ''}; got {type(grad).__name__}")


def _propagate(root: Node, grad: Any) -> None:
    """``backward``'s chain rule for floats, without hooks: the same order, hence the same sums.

    It does exactly what this does (a test holds the two to identical grads)::

        order = reverse_order(root)
        for node in order:
            if node.parents:
                node.grad = 0.0
        root.grad += grad
        for node, i, parent, local, g in chain_rule(order, lambda node: node.grad):
            parent.grad += local * g

    written for the interpreter's costs, because every training step runs it: each interior
    node counts its consumers in its own ``_pending`` slot (0 at rest) instead of in a dict;
    leaves are never counted, they only accumulate; a node is released to the chain rule when
    its last consumer has sent its share; and a node's first two edges are read straight from
    its slots, with no tuple built per node (``edges()`` builds three).
    """
    stack = [root]
    try:
        while stack:  # 1. count each interior node's consumers, and reset its grad
            node = stack.pop()
            parent, second = node._a, node._b
            while parent is not None:  # the first operand, then the second
                if parent._a is not None:
                    n = parent._pending
                    if n == 0:
                        parent.grad = 0.0
                        stack.append(parent)
                    parent._pending = n + 1
                parent, second = second, None
            if node._rest is not None:  # an n-ary sum's third operand and on
                for parent in node._rest[0]:
                    if parent._a is not None:
                        n = parent._pending
                        if n == 0:
                            parent.grad = 0.0
                            stack.append(parent)
                        parent._pending = n + 1
        if root._a is not None:
            root.grad = 0.0
        root.grad += grad
        ready = [root]
        while ready:  # 2. the chain rule, each node once all its consumers have sent theirs
            node = ready.pop()
            g = node.grad
            parent, local, second = node._a, node._da, node._b
            while parent is not None:  # the first edge, then the second
                parent.grad += local * g
                n = parent._pending
                if n:  # an interior parent, released when its last consumer is done
                    parent._pending = n - 1
                    if n == 1:
                        ready.append(parent)
                parent, local, second = second, node._db, None
            if node._rest is not None:
                for parent, local in zip(*node._rest):
                    parent.grad += local * g
                    n = parent._pending
                    if n:
                        parent._pending = n - 1
                        if n == 1:
                            ready.append(parent)
    except BaseException:  # an interrupt mid-pass: put every count back to 0
        for node in reverse_order(root):
            node._pending = 0
        raise


# ---------------------------------------------------------------------------------------------
# create_graph: the same chain rule with Values for local derivatives and grads.


def differentiable_edges(node: N) -> tuple[tuple[N, Any], ...]:
    """(parent, d(node)/d(parent)) for each edge, the derivative built as a Value.

    The node's partials rule from the table, evaluated with the Value backend. Entries that the
    rule returns as numbers (add's 1, sub's -1) stay numbers: they are constants. At a domain
    edge where the derivative is infinite (sqrt'(0)) the rule cannot be evaluated on Values;
    the recorded float derivatives are used instead.
    """
    parents = node.parents
    if not parents:
        return ()
    p = PRIMITIVES.get(node.op)
    if p is None:
        raise ValueError(
            f"create_graph=True re-evaluates each node's partials rule from the primitive table, "
            f"but this node's op {node.op!r} is not in it (known: {', '.join(sorted(PRIMITIVES))})")
    try:
        locals_ = tuple(p.run_partials(VALUE_MATH, parents, node, node.param))
    except DomainError:  # the first derivative is infinite here: nothing finite to differentiate
        locals_ = node.local_grads
    return tuple(zip(parents, locals_))


def scaled(local: Any, upstream: Any) -> Any:
    """``local * upstream``, without a node when ``local`` is exactly 1 or -1 (add's, sub's)."""
    if type(local) is float:
        if local == 1.0:
            return upstream
        if local == -1.0:
            return -upstream
    return local * upstream


def accumulate(total: Any, contribution: Any) -> Any:
    """``total + contribution``, without a node when ``total`` is still the float 0."""
    if type(total) is float and total == 0.0:
        return contribution
    return total + contribution


def combine(terms: list[Any]) -> Any:
    """The sum of one node's incoming contributions in arrival order, as one n-ary node (the
    eager pass adds them in the same order, so the numbers agree to the last bit)."""
    if len(terms) == 1:
        return terms[0]
    like = next((t for t in terms if isinstance(t, Node)), None)
    if like is None:
        total = terms[0]
        for t in terms[1:]:
            total += t
        return total
    parents: list[Any] = [_operand(type(like), t) for t in terms]
    return _apply_rules(SUM, parents)


def _backward_graph(order: list[N], grad: Any, hooks: tuple[EdgeHook, ...]) -> None:
    """The chain rule with differentiable edges. Each node's contributions are collected and
    summed as one node once all have arrived (reverse topological order guarantees that);
    interior grads are replaced, leaves accumulate. The nodes built here are recorded even
    inside ``no_grad()``: create_graph asks for exactly that graph."""
    arrived: dict[N, list[Any]] = {order[0]: [grad]}

    def upstream(node: N) -> Any:
        g = combine(arrived.pop(node))
        node.grad = g if node.parents else accumulate(node.grad, g)
        return g

    with recording(gradients=True):
        for node, i, parent, local, g in chain_rule(order, upstream, differentiable_edges):
            for hook in hooks:
                hook(node, i, parent, local, g)
            arrived.setdefault(parent, []).append(scaled(local, g))
    for node in order:
        if not isinstance(node.grad, Node):
            node.grad = type(node)(node.grad)  # the graph's own class: Value
