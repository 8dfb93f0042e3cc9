"""The node core: a graph node's slots and edges, and ``_node``, the one place an op node is made.

``x * y`` runs ``Value.__mul__`` (written from the table into ``arithmetic.py``): ``MUL``'s
forward rule gives the output, its partials rule the local derivative on each edge, and
``_node`` records both. ``_apply_rules`` does the same for any primitive by calling its rules.

Why a module of its own, below ``value.py``: ``Value`` inherits its arithmetic methods from
``arithmetic.Arithmetic``, so ``arithmetic.py`` cannot import ``value.py``, yet every method
ends by building a node. The builder therefore lives here, below both, and never names
``Value``: a new node is an instance of its first operand's class (always ``Value``), and a
number operand becomes a constant leaf of the class of the node it meets. The class chain is
``Node`` (this module: data, grad, edges) -> ``Arithmetic`` (the generated methods) -> ``Value``
(``value.py``: backward, sum, pickling, the public surface). No module imports one above it.
"""

from __future__ import annotations

import numbers
from typing import Any, TypeVar

from . import recording
from .backends import FLOAT, ValueMath, ieee_partials
from .ops import PRIMITIVES
from .primitive import Primitive

N = TypeVar("N", bound="Node")


class DomainError(ValueError):
    """An op was applied outside its domain (log of 0, division by zero, exp overflow...)."""

    def __init__(self, op: Primitive, operands: tuple[Any, ...], param: Any = None) -> None:
        self.op = op.name
        self.operands = operands
        shown = ", ".join(describe(v) for v in operands)
        if param is not None:
            shown += f", {op.param}={param!r}"
        super().__init__(f"{op.name}({shown}) is outside the domain of {op.name}: "
                         f"valid inputs are {op.domain}")


class ZeroDivisionDomainError(DomainError, ZeroDivisionError):
    """A division by zero (x / 0, x % 0, 0 ** -1): a DomainError that is also the
    ZeroDivisionError Python's own ``1 / 0.0`` raises, so code written for either catches it."""


def domain_error(op: Primitive, operands: tuple[Any, ...], param: Any = None) -> DomainError:
    """The error for ``op`` applied outside its domain: a ZeroDivisionDomainError where the op
    would divide by zero (``op.divides_by_zero``), a DomainError otherwise."""
    zero = op.divides_by_zero
    if zero is not None:
        data = [v.data if isinstance(v, Node) else v for v in operands]
        if zero(*data, *(() if param is None else (param,))):
            return ZeroDivisionDomainError(op, operands, param)
    return DomainError(op, operands, param)


def describe(v: Any) -> str:
    """A Value's data, and its label if it has one, for error messages."""
    if isinstance(v, Node):
        return f"{v.data!r} (label {v.label!r})" if v.label else repr(v.data)
    return repr(v)


class Node:
    """What every Value is made of: its number, its gradient and its incoming edges.

    ``parents`` are the operands of the op that made the node, in order and with repeats
    (``a*a`` has two edges to ``a``); ``local_grads[i]`` is d(node)/d(parents[i]), recorded when
    the node was made. ``op`` is the primitive's name ('' for a leaf) and ``param`` its static
    parameter, if any (pow's exponent, leaky_relu's slope).
    """

    # The edges live in the node's own slots: the first operand and its local derivative in
    # _a/_da, the second in _b/_db, any further ones (an n-ary sum's) in _rest as a pair of
    # tuples. Most ops have one or two operands, so a node is one object for the garbage
    # collector, not three. ``parents``, ``local_grads`` and ``edges()`` are the public views.
    __slots__ = ("data", "grad", "label", "op", "param", "_a", "_b", "_da", "_db", "_rest",
                 "_pending")

    data: float
    grad: Any  # a float; a Value after backward(create_graph=True)
    label: str | None
    op: str
    param: float | None
    _a: Node | None  # None for a leaf
    _b: Node | None  # None unless there are two operands or more
    _da: Any
    _db: Any
    _rest: tuple[tuple[Node, ...], tuple[Any, ...]] | None  # operands 3.., their partials
    _pending: int  # consumers not yet done, during a backward pass only (0 at rest)

    def __init__(self, data: Any, label: str | None = None) -> None:
        if type(data) is not float:
            data = _to_float(data)
        if label is not None and not isinstance(label, str):
            raise TypeError(f"Value label must be a str or None; got {type(label).__name__}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.param = None
        self._pending = 0
        self._a = self._b = self._da = self._db = self._rest = None

    @property
    def parents(self: N) -> tuple[N, ...]:
        """The operands of the op that made this node, in order, repeats kept; () for a leaf."""
        a: Any = self._a
        if a is None:
            return ()
        b: Any = self._b
        if b is None:
            return (a,)
        rest: Any = self._rest
        return (a, b) if rest is None else (a, b, *rest[0])

    @property
    def local_grads(self) -> tuple[Any, ...]:
        """d(self)/d(parents[i]) for each edge, recorded when the node was made."""
        if self._a is None:
            return ()
        if self._b is None:
            return (self._da,)
        rest = self._rest
        return (self._da, self._db) if rest is None else (self._da, self._db, *rest[1])

    def edges(self: N) -> tuple[tuple[N, Any], ...]:
        """(parent, local derivative) for each incoming edge, in operand order.

        The chain rule is ``for parent, local in node.edges(): parent.grad += local * node.grad``.
        """
        a: Any = self._a
        if a is None:
            return ()
        b: Any = self._b
        if b is None:
            return ((a, self._da),)
        if self._rest is None:
            return ((a, self._da), (b, self._db))
        return tuple(zip(self.parents, self.local_grads))

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"{type(self).__name__}(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data


def _to_float(data: Any) -> float:
    if isinstance(data, numbers.Real):  # int, bool, Fraction, numpy integer and float scalars
        return float(data)
    raise TypeError(f"Value(data) needs a real number (int, float, bool or a numpy scalar); "
                    f"got {type(data).__name__}: {data!r}")


# ---------------------------------------------------------------------------------------------
# Building a node. A leaf is made by ``Value(...)``, an op's output by ``_node``; nowhere else.

_new = object.__new__


def _node(op: str, data: float, param: float | None, a: N, da: Any,
          b: N | None = None, db: Any = None,
          rest: tuple[tuple[N, ...], tuple[Any, ...]] | None = None) -> N:
    """The output of op ``op``: its data and its edges, operand and local derivative each.

    The node is of its first operand's class: this module sits below ``Value`` (module doc).
    """
    out = _new(type(a))
    out.data = data
    out.grad = 0.0
    out.label = None
    out.op = op
    out.param = param
    out._pending = 0
    out._a = a
    out._da = da
    out._b = b
    out._db = db
    out._rest = rest
    if recording._watched:
        state = recording._thread
        if not state.grad_enabled:  # no_grad(): the result is a leaf
            out.op = ""
            out.param = out._a = out._da = out._b = out._db = out._rest = None
        for hook in state.node_hooks:
            hook(out)
    return out


def _node_of(op: str, data: float, param: float | None, parents: list[N] | tuple[N, ...],
             local_grads: tuple[Any, ...]) -> N:
    """``_node`` for any number of edges: the third and later go to the node's tail."""
    if len(parents) == 1:
        return _node(op, data, param, parents[0], local_grads[0])
    rest = (tuple(parents[2:]), tuple(local_grads[2:])) if len(parents) > 2 else None
    return _node(op, data, param, parents[0], local_grads[0], parents[1], local_grads[1], rest)


def _operand(cls: type[N], x: Any) -> N | None:
    """A node of class ``cls`` as itself, a real number as a constant leaf of ``cls``, else None."""
    if type(x) is cls:
        return x
    if type(x) is float or type(x) is int:  # the usual constants, without the ABC check below
        return cls(x)
    if isinstance(x, numbers.Real) and not isinstance(x, Node):
        return cls(x)
    return x if isinstance(x, cls) else None


# ---------------------------------------------------------------------------------------------
# Applying a primitive by calling its rules: the generic path (``apply``, ``Value.sum``, a
# variant primitive, the Value backend). The generated methods are the same steps with the
# rules' expressions pasted in.


def _apply_rules(p: Primitive, operands: list[N], c: float | None = None) -> N:
    """``p`` applied to nodes (with its static parameter ``c``), its rules called from the table.

    Outside the domain: a DomainError. A partial that is infinite (sqrt'(0)) or too large for a
    float is evaluated again with IEEE arithmetic, which gives inf.
    """
    xs = [v.data for v in operands]
    extra = () if c is None else (c,)
    if p.checked and not p.inside(*xs, *extra):
        raise domain_error(p, tuple(operands), c)
    try:
        y = p.run_forward(FLOAT, xs, c)
    except (ValueError, ArithmeticError):
        raise domain_error(p, tuple(operands), c) from None
    try:
        ds = tuple(p.run_partials(FLOAT, xs, y, c))
    except (ZeroDivisionError, OverflowError):
        ds = ieee_partials(p.partials, *xs, y, *extra)  # (an n-ary sum never divides)
    return _node_of(p.name, y, c, operands, ds)


def _apply_by_name(name: str, *operands: Any, param: float | None = None) -> Any:
    """The primitive ``name`` on nodes and numbers, for the Value backend (a rule evaluated on
    Values). A number meets a node as a constant leaf; numbers alone give a number (a
    constant: its derivative is 0), outside the domain a DomainError all the same."""
    p = PRIMITIVES[name]
    like = next((o for o in operands if isinstance(o, Node)), None)
    if like is None:
        try:
            return p.run_forward(FLOAT, operands, param)
        except (ValueError, ArithmeticError):
            raise domain_error(p, operands, param) from None
    nodes: list[Any] = [_operand(type(like), o) for o in operands]
    return _apply_rules(p, nodes, param)


VALUE_MATH = ValueMath(_apply_by_name)
"""The Value backend: a rule evaluated with it builds graph nodes (higher-order gradients)."""
