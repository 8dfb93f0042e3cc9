"""Value: a node of the computation graph, its methods written from the primitive table.

``x * y`` runs ``Value.__mul__``: ``MUL``'s forward rule gives the output, its partials rule the
local derivative on each edge, and ``_node`` records both. That is the whole forward pass;
``Value.backward`` (in ``backward.py``) walks the recorded edges back. ``apply`` does the same
for any primitive by calling its rules (``_apply_rules``).
"""

from __future__ import annotations

import math  # the rules' constants (pi, sqrt(2)), pasted into the generated methods
import numbers
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Union

from . import ops
from .backends import FLOAT, ValueMath, ieee_partials
from .ops import PRIMITIVES, SUM, Primitive

Number = Union[int, float]
Operand = Union["Value", int, float]
NodeHook = Callable[["Value"], None]
EdgeHook = Callable[["Value", int, "Value", Any, Any], None]


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
        data = [v.data if isinstance(v, Value) else v for v in operands]
        if zero(*data, *(() if param is None else (param,))):
            return ZeroDivisionDomainError(op, operands, param)
    return DomainError(op, operands, param)


def describe(v: Any) -> str:
    """A Value's data, and its label if it has one, for error messages."""
    if isinstance(v, Value):
        return f"{v.data!r} (label {v.label!r})" if v.label else repr(v.data)
    return repr(v)


# ---------------------------------------------------------------------------------------------
# Watching the graph being built: grad mode and hooks, per thread. Node creation reads one
# module global, ``_watched``: it is non-zero only while some thread has a ``no_grad()`` or a
# ``watch()`` open, so the usual case costs one falsy check per op.

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
def capture() -> Iterator[list[Value]]:
    """Collect, in creation order, every op node this thread makes inside the block.

    ``with capture() as nodes: y = neuron(x)`` lets a caller tag what a piece of code built
    (nn uses it to group a neuron's nodes for drawings).
    """
    nodes: list[Value] = []
    with watch(on_node=nodes.append):
        yield nodes


# ---------------------------------------------------------------------------------------------
# Building a node. A leaf is made by ``Value(...)``, an op's output by ``_node``; nowhere else.

_new = object.__new__
m = FLOAT
"""The float backend, under the name the rules in ops.py give their backend: the generated
methods below are those rules' own expressions."""


def _node(op: str, data: float, param: float | None, a: Value, da: Any,
          b: Value | None = None, db: Any = None,
          rest: tuple[tuple[Value, ...], tuple[Any, ...]] | None = None) -> Value:
    """The output of op ``op``: its data and its edges, operand and local derivative each."""
    out = _new(Value)
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
    if _watched:
        if not _thread.grad_enabled:  # no_grad(): the result is a leaf
            out.op = ""
            out.param = out._a = out._da = out._b = out._db = out._rest = None
        for hook in _thread.node_hooks:
            hook(out)
    return out


def _operand(x: Any) -> Value | None:
    """A Value as itself, a real number as a constant leaf, anything else None."""
    if type(x) is Value:
        return x
    if type(x) is float or type(x) is int:  # the usual constants, without the ABC check below
        return Value(x)
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return Value(x)
    return x if isinstance(x, Value) else None


def _to_float(data: Any) -> float:
    if isinstance(data, numbers.Real):  # int, bool, Fraction, numpy integer and float scalars
        return float(data)
    raise TypeError(f"Value(data) needs a real number (int, float, bool or a numpy scalar); "
                    f"got {type(data).__name__}: {data!r}")


# ---------------------------------------------------------------------------------------------
# Applying a primitive: forward on floats, partials recorded on the edges. One helper per arity.


def _apply_rules(p: Primitive, operands: list[Value], c: float | None = None) -> Value:
    """``p`` applied to Values (with its static parameter ``c``), its rules called from the table.

    The generic path (``apply``, ``Value.sum``, a variant primitive); the generated methods are
    the same steps with the rules' expressions pasted in. Outside the domain: a DomainError.
    A partial that is infinite (sqrt'(0)) or too large for a float is evaluated again with
    IEEE arithmetic, which gives inf.
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


def _node_of(op: str, data: float, param: float | None, parents: list[Value] | tuple[Value, ...],
             local_grads: tuple[Any, ...]) -> Value:
    """``_node`` for any number of edges: the third and later go to the node's tail."""
    if len(parents) == 1:
        return _node(op, data, param, parents[0], local_grads[0])
    rest = (tuple(parents[2:]), tuple(local_grads[2:])) if len(parents) > 2 else None
    return _node(op, data, param, parents[0], local_grads[0], parents[1], local_grads[1], rest)


def _sum(p: Primitive, terms: Iterable[Any]) -> Value:
    """``p`` (the n-ary sum) applied to every term: one node, however many terms."""
    parents: list[Value] = []
    for t in terms:
        v = t if type(t) is Value else _operand(t)
        if v is None:
            raise TypeError(f"{p.name}: every term must be a Value or a real number; "
                            f"got {type(t).__name__}: {t!r}")
        parents.append(v)
    if not parents:
        raise ValueError(f"{p.name} needs at least one term")
    return _apply_rules(p, parents)


class Value:
    """A scalar in a computation graph.

    ``data`` is the forward value and ``grad`` the gradient of the last backward's output with
    respect to it. ``parents`` are the operands of the op that made this node, in order and with
    repeats (``a*a`` has two edges to ``a``); ``local_grads[i]`` is d(self)/d(parents[i]),
    recorded when the node was made. ``op`` is the primitive's name ('' for a leaf) and ``param``
    its static parameter, if any (pow's exponent, leaky_relu's slope).

    ``==`` and hashing are by identity, so Values can key dicts and sets as graph nodes; ``<``,
    ``<=``, ``>``, ``>=`` compare ``data``.
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
    _a: Value | None  # None for a leaf
    _b: Value | None  # None unless there are two operands or more
    _da: Any
    _db: Any
    _rest: tuple[tuple[Value, ...], tuple[Any, ...]] | None  # operands 3.., their partials
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
    def parents(self) -> tuple[Value, ...]:
        """The operands of the op that made this node, in order, repeats kept; () for a leaf."""
        a = self._a
        if a is None:
            return ()
        b = self._b
        if b is None:
            return (a,)
        rest = self._rest
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

    def edges(self) -> tuple[tuple[Value, Any], ...]:
        """(parent, local derivative) for each incoming edge, in operand order.

        The chain rule is ``for parent, local in node.edges(): parent.grad += local * node.grad``.
        """
        a = self._a
        if a is None:
            return ()
        if self._b is None:
            return ((a, self._da),)
        if self._rest is None:
            return ((a, self._da), (self._b, self._db))
        return tuple(zip(self.parents, self.local_grads))

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    # BEGIN GENERATED METHODS: written by `make generate` (tools/generate_methods.py) from the
    # rules in autograd/ops.py. Edit the table, not these lines.

    def __add__(self, other: Operand) -> Value:
        """x1 + x2."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            return NotImplemented
        x1 = a.data
        x2 = b.data
        try:
            y = x1 + x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ADD, (a, b)) from None
        da = 1.0
        db = 1.0
        return _node('add', y, None, a, da, b, db)

    def __radd__(self, other: Operand) -> Value:
        """x1 + x2, x1 a number on the left."""
        a = _operand(other)  # not a Value: Value's own method went first
        if a is None:
            return NotImplemented
        b = self
        x1 = a.data
        x2 = b.data
        try:
            y = x1 + x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ADD, (a, b)) from None
        da = 1.0
        db = 1.0
        return _node('add', y, None, a, da, b, db)

    def __sub__(self, other: Operand) -> Value:
        """x1 - x2."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            return NotImplemented
        x1 = a.data
        x2 = b.data
        try:
            y = x1 - x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SUB, (a, b)) from None
        da = 1.0
        db = -1.0
        return _node('sub', y, None, a, da, b, db)

    def __rsub__(self, other: Operand) -> Value:
        """x1 - x2, x1 a number on the left."""
        a = _operand(other)  # not a Value: Value's own method went first
        if a is None:
            return NotImplemented
        b = self
        x1 = a.data
        x2 = b.data
        try:
            y = x1 - x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SUB, (a, b)) from None
        da = 1.0
        db = -1.0
        return _node('sub', y, None, a, da, b, db)

    def __mul__(self, other: Operand) -> Value:
        """x1 * x2."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            return NotImplemented
        x1 = a.data
        x2 = b.data
        try:
            y = x1 * x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.MUL, (a, b)) from None
        da = x2
        db = x1
        return _node('mul', y, None, a, da, b, db)

    def __rmul__(self, other: Operand) -> Value:
        """x1 * x2, x1 a number on the left."""
        a = _operand(other)  # not a Value: Value's own method went first
        if a is None:
            return NotImplemented
        b = self
        x1 = a.data
        x2 = b.data
        try:
            y = x1 * x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.MUL, (a, b)) from None
        da = x2
        db = x1
        return _node('mul', y, None, a, da, b, db)

    def __truediv__(self, other: Operand) -> Value:
        """x1 / x2, x2 != 0."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            return NotImplemented
        x1 = a.data
        x2 = b.data
        try:
            y = x1 / x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.DIV, (a, b)) from None
        try:
            da = 1.0 / x2
            db = -y / x2
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            da, db = ieee_partials(ops.DIV.partials, x1, x2, y)
        return _node('div', y, None, a, da, b, db)

    def __rtruediv__(self, other: Operand) -> Value:
        """x1 / x2, x2 != 0, x1 a number on the left."""
        a = _operand(other)  # not a Value: Value's own method went first
        if a is None:
            return NotImplemented
        b = self
        x1 = a.data
        x2 = b.data
        try:
            y = x1 / x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.DIV, (a, b)) from None
        try:
            da = 1.0 / x2
            db = -y / x2
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            da, db = ieee_partials(ops.DIV.partials, x1, x2, y)
        return _node('div', y, None, a, da, b, db)

    def __mod__(self, other: Operand) -> Value:
        """x1 mod x2 with the sign of x2 (Python's %), x2 != 0."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            return NotImplemented
        x1 = a.data
        x2 = b.data
        try:
            y = x1 % x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.MOD, (a, b)) from None
        da = 1.0
        db = -m.floordiv(x1, x2)
        return _node('mod', y, None, a, da, b, db)

    def __rmod__(self, other: Operand) -> Value:
        """x1 mod x2 with the sign of x2 (Python's %), x2 != 0, x1 a number on the left."""
        a = _operand(other)  # not a Value: Value's own method went first
        if a is None:
            return NotImplemented
        b = self
        x1 = a.data
        x2 = b.data
        try:
            y = x1 % x2
        except (ValueError, ArithmeticError):
            raise domain_error(ops.MOD, (a, b)) from None
        da = 1.0
        db = -m.floordiv(x1, x2)
        return _node('mod', y, None, a, da, b, db)

    def __neg__(self) -> Value:
        """-x."""
        x = self.data
        try:
            y = -x
        except (ValueError, ArithmeticError):
            raise domain_error(ops.NEG, (self,)) from None
        d = -1.0
        return _node('neg', y, None, self, d)

    def __abs__(self) -> Value:
        """|x|; abs'(0) = 0."""
        x = self.data
        try:
            y = m.abs(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ABS, (self,)) from None
        d = m.sign(x)
        return _node('abs', y, None, self, d)

    def sign(self) -> Value:
        """-1, 0 or 1 as x < 0, x == 0, x > 0; derivative 0 (also at 0, as PyTorch)."""
        x = self.data
        try:
            y = m.sign(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SIGN, (self,)) from None
        d = 0.0
        return _node('sign', y, None, self, d)

    def _pow(self, exponent: float) -> Value:
        """x ** c for a number c (valid where the real power is defined); d/dx of x ** 0 is 0."""
        x = self.data
        c = float(exponent)
        if not ops.POW.inside(x, c):
            raise domain_error(ops.POW, (self,), c)
        try:
            y = m.pow(x, c)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.POW, (self,), c) from None
        try:
            d = c * x ** (c - 1.0) if c != 0.0 else 0.0
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.POW.partials, x, y, c)
        return _node('pow', y, c, self, d)

    def _vpow(self, other: Operand) -> Value:
        """x1 ** x2 for a Value exponent, x1 > 0 or x1 == 0 < x2."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            raise TypeError(f"_vpow: expected a Value or a real number; "
                            f"got {type(other).__name__}")
        x1 = a.data
        x2 = b.data
        if not ops.VPOW.inside(x1, x2):
            raise domain_error(ops.VPOW, (a, b))
        try:
            y = m.pow(x1, x2)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.VPOW, (a, b)) from None
        try:
            da = x2 * x1 ** (x2 - 1.0)
            db = m.log(m.where(x1 > 0, x1, 1.0)) * y
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            da, db = ieee_partials(ops.VPOW.partials, x1, x2, y)
        return _node('vpow', y, None, a, da, b, db)

    def __rpow__(self, other: Operand) -> Value:
        """x1 ** x2 for a Value exponent, x1 > 0 or x1 == 0 < x2, x1 a number on the left."""
        a = _operand(other)  # not a Value: Value's own method went first
        if a is None:
            return NotImplemented
        b = self
        x1 = a.data
        x2 = b.data
        if not ops.VPOW.inside(x1, x2):
            raise domain_error(ops.VPOW, (a, b))
        try:
            y = m.pow(x1, x2)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.VPOW, (a, b)) from None
        try:
            da = x2 * x1 ** (x2 - 1.0)
            db = m.log(m.where(x1 > 0, x1, 1.0)) * y
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            da, db = ieee_partials(ops.VPOW.partials, x1, x2, y)
        return _node('vpow', y, None, a, da, b, db)

    def exp(self) -> Value:
        """e^x."""
        x = self.data
        try:
            y = m.exp(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.EXP, (self,)) from None
        d = y
        return _node('exp', y, None, self, d)

    def expm1(self) -> Value:
        """e^x - 1, exact for small x."""
        x = self.data
        try:
            y = m.expm1(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.EXPM1, (self,)) from None
        d = y + 1.0
        return _node('expm1', y, None, self, d)

    def log(self) -> Value:
        """Natural log, x > 0."""
        x = self.data
        try:
            y = m.log(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.LOG, (self,)) from None
        try:
            d = 1.0 / x
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.LOG.partials, x, y)
        return _node('log', y, None, self, d)

    def log1p(self) -> Value:
        """log(1 + x), exact for small x; x > -1."""
        x = self.data
        try:
            y = m.log1p(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.LOG1P, (self,)) from None
        try:
            d = 1.0 / (1.0 + x)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.LOG1P.partials, x, y)
        return _node('log1p', y, None, self, d)

    def log2(self) -> Value:
        """Base-2 log, x > 0."""
        x = self.data
        try:
            y = m.log2(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.LOG2, (self,)) from None
        try:
            d = 1.0 / (x * math.log(2.0))
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.LOG2.partials, x, y)
        return _node('log2', y, None, self, d)

    def log10(self) -> Value:
        """Base-10 log, x > 0."""
        x = self.data
        try:
            y = m.log10(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.LOG10, (self,)) from None
        try:
            d = 1.0 / (x * math.log(10.0))
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.LOG10.partials, x, y)
        return _node('log10', y, None, self, d)

    def sqrt(self) -> Value:
        """Square root, x >= 0 (the derivative is +inf at 0)."""
        x = self.data
        try:
            y = m.sqrt(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SQRT, (self,)) from None
        try:
            d = 0.5 / y
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.SQRT.partials, x, y)
        return _node('sqrt', y, None, self, d)

    def hypot(self, other: Operand) -> Value:
        """sqrt(x1^2 + x2^2) without overflow or underflow; derivative (0, 0) at the origin."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            raise TypeError(f"hypot: expected a Value or a real number; "
                            f"got {type(other).__name__}")
        x1 = a.data
        x2 = b.data
        try:
            y = m.hypot(x1, x2)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.HYPOT, (a, b)) from None
        try:
            da = m.where(y > 0, x1 / y, 0.0)
            db = m.where(y > 0, x2 / y, 0.0)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            da, db = ieee_partials(ops.HYPOT.partials, x1, x2, y)
        return _node('hypot', y, None, a, da, b, db)

    def sin(self) -> Value:
        """Sine."""
        x = self.data
        try:
            y = m.sin(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SIN, (self,)) from None
        d = m.cos(x)
        return _node('sin', y, None, self, d)

    def cos(self) -> Value:
        """Cosine."""
        x = self.data
        try:
            y = m.cos(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.COS, (self,)) from None
        d = -m.sin(x)
        return _node('cos', y, None, self, d)

    def tan(self) -> Value:
        """Tangent (no float is exactly a pole, so every float is in the domain)."""
        x = self.data
        try:
            y = m.tan(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.TAN, (self,)) from None
        d = 1.0 + y * y
        return _node('tan', y, None, self, d)

    def asin(self) -> Value:
        """Arcsine in [-pi/2, pi/2], -1 <= x <= 1 (the derivative is +inf at -1 and 1)."""
        x = self.data
        try:
            y = m.asin(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ASIN, (self,)) from None
        try:
            d = (1.0 - x * x) ** (-0.5)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.ASIN.partials, x, y)
        return _node('asin', y, None, self, d)

    def acos(self) -> Value:
        """Arccosine in [0, pi], -1 <= x <= 1 (the derivative is -inf at -1 and 1)."""
        x = self.data
        try:
            y = m.acos(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ACOS, (self,)) from None
        try:
            d = -(1.0 - x * x) ** (-0.5)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.ACOS.partials, x, y)
        return _node('acos', y, None, self, d)

    def atan(self) -> Value:
        """Arctangent in (-pi/2, pi/2)."""
        x = self.data
        try:
            y = m.atan(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ATAN, (self,)) from None
        try:
            d = 1.0 / (1.0 + x * x)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.ATAN.partials, x, y)
        return _node('atan', y, None, self, d)

    def atan2(self, other: Operand) -> Value:
        """The angle of the point (x2, x1), as math.atan2(x1, x2); derivative (0, 0) at (0, 0)."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            raise TypeError(f"atan2: expected a Value or a real number; "
                            f"got {type(other).__name__}")
        x1 = a.data
        x2 = b.data
        try:
            y = m.atan2(x1, x2)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ATAN2, (a, b)) from None
        try:
            da = m.where(x1 * x1 + x2 * x2 > 0, x2 / (x1 * x1 + x2 * x2), 0.0)
            db = m.where(x1 * x1 + x2 * x2 > 0, -x1 / (x1 * x1 + x2 * x2), 0.0)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            da, db = ieee_partials(ops.ATAN2.partials, x1, x2, y)
        return _node('atan2', y, None, a, da, b, db)

    def degrees(self) -> Value:
        """x radians in degrees: x * 180/pi."""
        x = self.data
        try:
            y = x * (180.0 / math.pi)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.DEGREES, (self,)) from None
        try:
            d = 180.0 / math.pi
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.DEGREES.partials, x, y)
        return _node('degrees', y, None, self, d)

    def radians(self) -> Value:
        """x degrees in radians: x * pi/180."""
        x = self.data
        try:
            y = x * (math.pi / 180.0)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.RADIANS, (self,)) from None
        try:
            d = math.pi / 180.0
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.RADIANS.partials, x, y)
        return _node('radians', y, None, self, d)

    def sinh(self) -> Value:
        """Hyperbolic sine."""
        x = self.data
        try:
            y = m.sinh(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SINH, (self,)) from None
        d = m.cosh(x)
        return _node('sinh', y, None, self, d)

    def cosh(self) -> Value:
        """Hyperbolic cosine."""
        x = self.data
        try:
            y = m.cosh(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.COSH, (self,)) from None
        d = m.sinh(x)
        return _node('cosh', y, None, self, d)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        x = self.data
        try:
            y = m.tanh(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.TANH, (self,)) from None
        d = 1.0 - y * y
        return _node('tanh', y, None, self, d)

    def asinh(self) -> Value:
        """Inverse hyperbolic sine."""
        x = self.data
        try:
            y = m.asinh(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ASINH, (self,)) from None
        try:
            d = (x * x + 1.0) ** (-0.5)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.ASINH.partials, x, y)
        return _node('asinh', y, None, self, d)

    def acosh(self) -> Value:
        """Inverse hyperbolic cosine, x >= 1 (acosh(1) = 0; the derivative is +inf there)."""
        x = self.data
        try:
            y = m.acosh(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ACOSH, (self,)) from None
        try:
            d = (x * x - 1.0) ** (-0.5)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.ACOSH.partials, x, y)
        return _node('acosh', y, None, self, d)

    def atanh(self) -> Value:
        """Inverse hyperbolic tangent, -1 < x < 1."""
        x = self.data
        try:
            y = m.atanh(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ATANH, (self,)) from None
        try:
            d = 1.0 / (1.0 - x * x)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.ATANH.partials, x, y)
        return _node('atanh', y, None, self, d)

    def erf(self) -> Value:
        """The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to x."""
        x = self.data
        try:
            y = m.erf(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ERF, (self,)) from None
        try:
            d = 2.0 / math.sqrt(math.pi) * m.exp(-x * x)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.ERF.partials, x, y)
        return _node('erf', y, None, self, d)

    def floor(self) -> Value:
        """The largest integer <= x; derivative 0 (also at the jumps, as PyTorch)."""
        x = self.data
        try:
            y = m.floor(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.FLOOR, (self,)) from None
        d = 0.0
        return _node('floor', y, None, self, d)

    def ceil(self) -> Value:
        """The smallest integer >= x; derivative 0 (also at the jumps, as PyTorch)."""
        x = self.data
        try:
            y = m.ceil(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.CEIL, (self,)) from None
        d = 0.0
        return _node('ceil', y, None, self, d)

    def round(self) -> Value:
        """The nearest integer, halves to even (as round() and torch.round); derivative 0."""
        x = self.data
        try:
            y = m.round(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ROUND, (self,)) from None
        d = 0.0
        return _node('round', y, None, self, d)

    def maximum(self, other: Operand) -> Value:
        """The larger of x1 and x2; at a tie, derivative 1/2 to each."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            raise TypeError(f"maximum: expected a Value or a real number; "
                            f"got {type(other).__name__}")
        x1 = a.data
        x2 = b.data
        try:
            y = m.maximum(x1, x2)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.MAXIMUM, (a, b)) from None
        da = 0.5 + 0.5 * m.sign(x1 - x2)
        db = 0.5 - 0.5 * m.sign(x1 - x2)
        return _node('maximum', y, None, a, da, b, db)

    def minimum(self, other: Operand) -> Value:
        """The smaller of x1 and x2; at a tie, derivative 1/2 to each."""
        a = self
        b = other if type(other) is Value else _operand(other)
        if b is None:
            raise TypeError(f"minimum: expected a Value or a real number; "
                            f"got {type(other).__name__}")
        x1 = a.data
        x2 = b.data
        try:
            y = m.minimum(x1, x2)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.MINIMUM, (a, b)) from None
        da = 0.5 - 0.5 * m.sign(x1 - x2)
        db = 0.5 + 0.5 * m.sign(x1 - x2)
        return _node('minimum', y, None, a, da, b, db)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x)."""
        x = self.data
        try:
            y = m.sigmoid(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SIGMOID, (self,)) from None
        d = y * (1.0 - y)
        return _node('sigmoid', y, None, self, d)

    def relu(self) -> Value:
        """max(x, 0); relu'(0) = 0."""
        x = self.data
        try:
            y = m.where(x > 0, x, 0.0)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.RELU, (self,)) from None
        d = m.where(x > 0, 1.0, 0.0)
        return _node('relu', y, None, self, d)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, slope*x otherwise."""
        x = self.data
        c = float(slope)
        try:
            y = m.where(x > 0, x, c * x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.LEAKY_RELU, (self,), c) from None
        d = m.where(x > 0, 1.0, c)
        return _node('leaky_relu', y, c, self, d)

    def softplus(self) -> Value:
        """log(1 + e^x), computed without overflow."""
        x = self.data
        try:
            y = m.softplus(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SOFTPLUS, (self,)) from None
        d = m.sigmoid(x)
        return _node('softplus', y, None, self, d)

    def gelu(self) -> Value:
        """x * Phi(x), Phi the standard normal cdf (torch's exact gelu, the erf form)."""
        x = self.data
        try:
            y = 0.5 * x * (1.0 + m.erf(x / math.sqrt(2)))
        except (ValueError, ArithmeticError):
            raise domain_error(ops.GELU, (self,)) from None
        try:
            d = 0.5 * (1.0 + m.erf(x / math.sqrt(2))) + x * m.exp(-x * x / 2) / math.sqrt(math.tau)
        except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4
            d, = ieee_partials(ops.GELU.partials, x, y)
        return _node('gelu', y, None, self, d)

    def silu(self) -> Value:
        """x * sigmoid(x) (also called swish)."""
        x = self.data
        try:
            y = x * m.sigmoid(x)
        except (ValueError, ArithmeticError):
            raise domain_error(ops.SILU, (self,)) from None
        d = m.sigmoid(x) * (1.0 + x * (1.0 - m.sigmoid(x)))
        return _node('silu', y, None, self, d)

    def elu(self, alpha: float = 1.0) -> Value:
        """x for x > 0, alpha*(e^x - 1) otherwise; elu'(0) = alpha, as PyTorch."""
        x = self.data
        c = float(alpha)
        try:
            y = m.where(x > 0, x, c * m.expm1(m.minimum(x, 0.0)))
        except (ValueError, ArithmeticError):
            raise domain_error(ops.ELU, (self,), c) from None
        d = m.where(x > 0, 1.0, y + c)
        return _node('elu', y, c, self, d)

    # END GENERATED METHODS

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
        # The package's one deferred import: the traversal builds on Value, not the reverse.
        from .backward import backward

        backward(self, grad, create_graph)

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
        v = _operand(o)
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


VALUE_MATH = ValueMath(apply)
"""The Value backend: a rule evaluated with it builds graph nodes (higher-order gradients)."""
