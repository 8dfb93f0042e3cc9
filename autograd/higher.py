"""Higher-order gradients: a backward pass whose gradients are themselves Values.

Each edge's local derivative is re-computed by evaluating the primitive's own partials rule
with ``VALUE_MATH``, a backend whose functions build graph nodes. The gradient that comes out
is an ordinary graph over the same inputs, so it can be differentiated again. No derivative is
written a second time: the table in ``ops.py`` serves first, second and n-th order alike.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from . import anomaly
from . import value as _value
from .ops import FLOAT, PRIMITIVES
from .value import DomainError, Value


def _lift(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


class ValueMath:
    """Backend for Values: every function builds a graph node, so its result is differentiable.

    ``sign`` and ``where``'s condition are constants: their derivative is 0 almost everywhere,
    which is exactly what treating them as constants gives (abs'' = 0, relu'' = 0).
    """

    @staticmethod
    def exp(x: Any) -> Value:
        return _lift(x).exp()

    @staticmethod
    def log(x: Any) -> Value:
        return _lift(x).log()

    @staticmethod
    def sqrt(x: Any) -> Value:
        return _lift(x).sqrt()

    @staticmethod
    def tanh(x: Any) -> Value:
        return _lift(x).tanh()

    @staticmethod
    def sin(x: Any) -> Value:
        return _lift(x).sin()

    @staticmethod
    def cos(x: Any) -> Value:
        return _lift(x).cos()

    @staticmethod
    def pow(x: Any, c: Any) -> Value:
        result: Value = _lift(x) ** c
        return result

    @staticmethod
    def abs(x: Any) -> Value:
        return abs(_lift(x))

    @staticmethod
    def sigmoid(x: Any) -> Value:
        return _lift(x).sigmoid()

    @staticmethod
    def softplus(x: Any) -> Value:
        return _lift(x).softplus()

    @staticmethod
    def sign(x: Any) -> float:
        return FLOAT.sign(_data(x))

    @staticmethod
    def where(cond: bool, a: Any, b: Any) -> Any:
        return a if cond else b


VALUE_MATH = ValueMath()


def local_values(node: Value) -> tuple[Any, ...]:
    """d(node)/d(parent_i) for each edge, as Values: the node's partials rule on ``VALUE_MATH``.

    Entries that the rule returns as numbers (add's 1, sub's -1) stay numbers: they are
    constants. At a domain edge where the derivative is infinite (sqrt'(0), x**0.5 at 0) the
    rule cannot be evaluated on Values; the recorded float derivatives are returned instead.
    """
    p = PRIMITIVES.get(node.op)
    if p is None:
        raise ValueError(
            f"create_graph=True re-evaluates each node's partials rule from the primitive table, "
            f"but this node's op {node.op!r} is not in it (known: {', '.join(sorted(PRIMITIVES))})")
    try:
        result = p.run_partials(VALUE_MATH, list(node.parents), node, node.arg)
    except DomainError:
        # The first derivative is infinite here; there is nothing finite to differentiate.
        return node.local_grads
    return tuple(result)


def _scale(local: Any, g: Any) -> Any:
    """local * g, skipping the node when local is exactly +-1 (exact for every float)."""
    if type(local) is float:
        if local == 1.0:
            return g
        if local == -1.0:
            return -g
    return local * g


def _combine(terms: list[Any]) -> Any:
    """The sum of one node's incoming contributions, in arrival order (as eager backward adds)."""
    if len(terms) == 1:
        return terms[0]
    if all(type(t) is float for t in terms):
        total = terms[0]
        for t in terms[1:]:
            total += t
        return total
    return Value.sum(terms)


def _relevant(order: list[Value], targets: set[Value]) -> set[Value]:
    """The nodes of ``order`` (reverse topological) that depend on some target, targets included."""
    keep: set[Value] = set()
    for node in reversed(order):
        if node in targets or any(p in keep for p in node.parents):
            keep.add(node)
    return keep


def _grad_graph(order: list[Value], seed: Any, targets: set[Value] | None) -> dict[Value, Any]:
    """Every node's gradient d(root)/d(node) as a Value or number, built edge by edge.

    ``order`` is ``reverse_order(root)``. With ``targets`` given, only edges leading towards
    them are built.
    """
    root = order[0]
    keep = None if targets is None else _relevant(order, targets)
    checking = anomaly.is_active()
    pending: dict[Value, list[Any]] = {root: [seed]}
    grads: dict[Value, Any] = {}
    # The Value nodes built here are checked as backward contributions below, not as forward ops.
    # They are recorded even inside no_grad(): create_graph asks for exactly that graph.
    with anomaly.suspended(), recording():
        for node in order:
            terms = pending.pop(node, None)
            if terms is None:  # reached only through pruned edges
                continue
            g = _combine(terms)
            grads[node] = g
            if checking:
                anomaly.check_grad(node, g)
            parents = node.parents
            if not parents or (keep is not None and node not in keep):
                continue
            for i, (p, local) in enumerate(zip(parents, local_values(node))):
                if keep is not None and p not in keep:
                    continue
                c = _scale(local, g)
                if checking:
                    anomaly.check_contribution(node, i, local, g, c)
                waiting = pending.get(p)
                if waiting is None:
                    pending[p] = [c]
                else:
                    waiting.append(c)
    return grads


def backward_graph(root: Value, grad: Any = 1.0) -> None:
    """``root.backward(create_graph=True)``: every ``node.grad`` becomes a differentiable Value.

    Same gradient lifetime as the plain backward: interior grads are replaced, leaves
    accumulate (``leaf.grad + new``, itself a Value).
    """
    from .backward import reverse_order

    order = reverse_order(root)
    grads = _grad_graph(order, grad, None)
    for node in order:
        g = _lift(grads[node])
        if node.parents:
            node.grad = g
        else:
            old = node.grad
            node.grad = g if type(old) is float and old == 0.0 else old + g


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
    from .backward import reverse_order

    order = reverse_order(root)
    if create_graph:
        grads = _grad_graph(order, grad, set(inputs))
        return tuple(_lift(grads.get(x, 0.0)) for x in inputs)
    return _float_grads(order, inputs, float(grad))


def _float_grads(order: list[Value], inputs: Sequence[Value], seed: float) -> tuple[float, ...]:
    """First-order gradients from the recorded float partials, kept in a dict.

    Not ``_grad_graph`` with floats: its per-edge and per-node bookkeeping (made for building
    Values) costs twice this loop, which ``jacobian`` and ``hessian`` run once per output.
    """
    grads: dict[Value, float] = {order[0]: seed}
    for node in order:
        g = grads.get(node, 0.0)
        for p, local in node.edges():
            grads[p] = grads.get(p, 0.0) + local * g
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
def recording() -> Iterator[None]:
    """Record the graph in this block even inside ``no_grad()`` (this thread only)."""
    mode = _value._mode
    previous = mode.grad_enabled
    mode.grad_enabled = True
    try:
        yield
    finally:
        mode.grad_enabled = previous


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
