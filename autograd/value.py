"""Value: a node of the computation graph, as users meet it.

A Value is built in three layers, each in its own module, each importing only the one below:
``node.Node`` holds its number, gradient and edges and ``node._node`` builds every op's output;
``arithmetic.Arithmetic`` adds the arithmetic methods written from the op table (``x * y``,
``x.tanh()``); ``Value``, here, adds what is left: ``**`` with a number or a Value, ``clamp``,
comparisons, ``sum``, ``backward`` (the traversal in ``backward.py``), ``detach``, pickling,
and ``apply`` for any primitive by name.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any, Union

from . import ops
from .arithmetic import Arithmetic
from .backward import backward as _backward
from .node import _apply_rules, _node_of, _operand
from .ops import PRIMITIVES, SUM
from .primitive import Primitive
from .recording import recording

Operand = Union["Value", int, float]


class Value(Arithmetic):
    """A scalar in a computation graph.

    ``data`` is the forward value and ``grad`` the gradient of the last backward's output with
    respect to it. ``parents`` are the operands of the op that made this node, in order and with
    repeats (``a*a`` has two edges to ``a``); ``local_grads[i]`` is d(self)/d(parents[i]),
    recorded when the node was made. ``op`` is the primitive's name ('' for a leaf) and ``param``
    its static parameter, if any (pow's exponent, leaky_relu's slope).

    ``==`` and hashing are by identity, so Values can key dicts and sets as graph nodes; ``<``,
    ``<=``, ``>``, ``>=`` compare ``data``. ``Value(data, label=None)`` makes a leaf; the slots
    and edges are laid out in ``node.Node``, the arithmetic methods in ``arithmetic.py``.
    """

    __slots__ = ()

    def __pow__(self, other: Operand) -> Value:
        """``x ** c`` with a number c (op 'pow'), or ``x ** v`` with a Value v (op 'vpow')."""
        if isinstance(other, Value):
            return self._vpow(other)
        if isinstance(other, numbers.Real):
            return self._pow(other)
        return NotImplemented

    def clamp(self, lo: Operand, hi: Operand) -> Value:
        """min(max(x, lo), hi), lo and hi Values or numbers; d/dx = 1 at both bounds, as
        torch.clamp (op 'clamp', the table's one three-operand primitive)."""
        return apply(ops.CLAMP, self, lo, hi)

    # -- comparisons look at data --------------------------------------------------------------

    def __lt__(self, other: Operand) -> bool:
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= (other.data if isinstance(other, Value) else other)

    @staticmethod
    def sum(terms: Iterable[Operand]) -> Value:
        """One n-ary node x1 + x2 + ... + xn: every local derivative is 1, the graph stays flat."""
        return _sum(SUM, terms)

    # -- gradients -----------------------------------------------------------------------------

    def backward(self, grad: Any = 1.0, create_graph: bool = False) -> None:
        """Backpropagate d(self)/d(node) into every node's ``grad``.

        Gradient lifetime: each call first resets the grads of the interior nodes of this graph
        to 0 and then accumulates into the leaves (nodes with no parents). So calling backward
        twice doubles every leaf's grad, while interior grads always show exactly the last pass.
        Call ``zero_grad`` on the leaves (or set ``grad = 0``) to start afresh.

        With ``create_graph=True`` every grad is a Value built from the primitives' partials
        rules, so it can be differentiated again: ``x.grad.backward()`` adds f'' into x.grad.

        Threads: backward writes the grad of every node it reaches, so two threads must not
        run it at the same time on graphs that share any node (not even a leaf: ``+=`` on a
        shared grad can lose an update). Give each thread its own graph and its own leaves.
        """
        _backward(self, grad, create_graph)

    def detach(self) -> Value:
        """A new leaf with the same data: gradients do not flow through it."""
        return Value(self.data, self.label)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle and deep-copy the graph behind this node as a flat list, without recursion
        (a million-deep chain pickles). Leaves are pickled as objects, so a leaf shared by
        several pickled nodes stays one leaf; interior nodes are rebuilt for each."""
        if self._a is None:
            return (_leaf, (self.data, self.grad, self.label))
        return (_rebuild, (_flatten(self),))


def _leaf(data: float, grad: Any, label: str | None) -> Value:
    v = Value(data, label)
    v.grad = grad
    return v


_Record = tuple[float, Any, Union[str, None], str, Union[float, None], tuple[Any, ...],
                tuple[Any, ...]]


def _flatten(root: Value) -> list[_Record]:
    """The interior nodes under ``root`` as records, each after its operands (``root`` last):
    (data, grad, label, op, param, operands, local derivatives), an operand being a leaf itself
    or the index of an earlier record."""
    index: dict[Value, int] = {}
    records: list[_Record] = []
    stack = [root]
    while stack:
        node = stack[-1]
        waiting = [p for p in node.parents if p._a is not None and p not in index]
        if waiting:
            stack.extend(waiting)
            continue
        stack.pop()
        if node in index:
            continue
        operands = tuple(index.get(p, p) for p in node.parents)
        index[node] = len(records)
        records.append((node.data, node.grad, node.label, node.op, node.param, operands,
                        node.local_grads))
    return records


def _rebuild(records: list[_Record]) -> Value:
    """The inverse of ``_flatten``: the last record's node, with its whole graph."""
    made: list[Value] = []
    with recording():  # the graph as it was, even if unpickled inside no_grad()
        for record in records:
            made.append(_rebuild_one(record, made))
    return made[-1]


def _rebuild_one(record: _Record, made: list[Value]) -> Value:
    data, grad, label, op, param, operands, local_grads = record
    parents = [made[p] if type(p) is int else p for p in operands]
    node = _node_of(op, data, param, parents, local_grads)
    node.grad = grad
    node.label = label
    return node


def _sum(p: Primitive, terms: Iterable[Any]) -> Value:
    """``p`` (the n-ary sum) applied to every term: one node, however many terms."""
    parents: list[Value] = []
    for t in terms:
        v = t if type(t) is Value else _lift(t)
        if v is None:
            raise TypeError(f"{p.name}: every term must be a Value or a real number; "
                            f"got {type(t).__name__}: {t!r}")
        parents.append(v)
    if not parents:
        raise ValueError(f"{p.name} needs at least one term")
    return _apply_rules(p, parents)


def _lift(x: Any) -> Value | None:
    """A Value as itself, a real number as a constant leaf, anything else None."""
    return _operand(Value, x)


def apply(op: str | Primitive, *operands: Operand, param: float | None = None) -> Value:
    """Apply a primitive (by name, or a ``Primitive``) to Values or numbers: ``apply("tanh", x)``.

    A ``Primitive`` that is not in the table works too: tests apply a deliberately wrong
    variant, ``dataclasses.replace(ops.TANH, partials=...)``, to prove a checker catches it.
    """
    if isinstance(op, Primitive):
        p = op
    else:
        found = PRIMITIVES.get(op)
        if found is None:
            raise ValueError(f"unknown primitive {op!r}; known: {', '.join(sorted(PRIMITIVES))}")
        p = found
    vs: list[Value] = []
    for o in operands:
        v = _lift(o)
        if v is None:
            raise TypeError(f"{p.name}: operands must be Values or real numbers; "
                            f"got {type(o).__name__}")
        vs.append(v)
    if p.arity == -1:
        return _sum(p, vs)
    if len(vs) != p.arity:
        raise TypeError(f"{p.name} takes {p.arity} operand(s); got {len(vs)}")
    if p.param is not None and param is None:
        raise TypeError(f"{p.name} needs its parameter {p.param}=")
    if p.param is None and param is not None:
        raise TypeError(f"{p.name} takes no parameter; got {param!r}")
    return _apply_rules(p, vs, None if param is None else float(param))


# The binary primitives as functions, named as in Python's math module and numpy.

def atan2(y: Operand, x: Operand) -> Value:
    """The angle of the point (x, y) in [-pi, pi], as ``math.atan2(y, x)``; derivative (0, 0)
    at the origin, as PyTorch."""
    return apply(ops.ATAN2, y, x)


def hypot(x: Operand, y: Operand) -> Value:
    """sqrt(x^2 + y^2) without overflow, as ``math.hypot``; derivative (0, 0) at the origin."""
    return apply(ops.HYPOT, x, y)


def maximum(a: Operand, b: Operand) -> Value:
    """The larger of a and b; at a tie each gets derivative 1/2, as ``torch.maximum``."""
    return apply(ops.MAXIMUM, a, b)


def minimum(a: Operand, b: Operand) -> Value:
    """The smaller of a and b; at a tie each gets derivative 1/2, as ``torch.minimum``."""
    return apply(ops.MINIMUM, a, b)


def clamp(x: Operand, lo: Operand, hi: Operand) -> Value:
    """min(max(x, lo), hi); d/dx = 1 at both bounds, as ``torch.clamp``."""
    return apply(ops.CLAMP, x, lo, hi)
