"""Value: a node of the computation graph. Its dunders only dispatch to the primitive table."""

from __future__ import annotations

import linecache
import numbers
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Union

from .inline import COMPILED, inline
from .ops import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    FLOAT,
    LEAKY_RELU,
    LOG,
    MUL,
    NEG,
    PRIMITIVES,
    RELU,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    SUM,
    TANH,
    VPOW,
    IEEEFloat,
    Primitive,
)

Number = Union[int, float]
Operand = Union["Value", int, float]


class DomainError(ValueError):
    """An op was applied outside its domain (log of 0, division by zero, exp overflow...)."""

    def __init__(self, op: Primitive, operands: tuple[Any, ...], param: Any = None) -> None:
        self.op = op.name
        self.operands = operands
        shown = ", ".join(_describe(v) for v in operands)
        if param is not None:
            shown += f", {op.param}={param!r}"
        super().__init__(f"{op.name}({shown}) is outside the domain of {op.name}: "
                         f"valid inputs are {op.domain}")


def _describe(v: Any) -> str:
    if isinstance(v, Value):
        return f"{v.data!r} (label {v.label!r})" if v.label else repr(v.data)
    return repr(v)


# ---------------------------------------------------------------------------------------------
# Grad mode. The hot path reads one module global, ``_special``: it is non-zero only while some
# thread has a no_grad() or an observing context (anomaly detection) open, so the usual case
# costs a single falsy check per op.

class _Mode(threading.local):
    grad_enabled: bool = True


_mode = _Mode()
_special = 0
_special_lock = threading.Lock()
_node_hooks: list[Callable[[Value], None]] = []
"""Called on every new op node while ``_special`` is set (anomaly detection registers here)."""


def _open_special(delta: int) -> None:
    global _special
    with _special_lock:
        _special += delta


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block (in this thread), results record no parents: they are leaves."""
    previous = _mode.grad_enabled
    _mode.grad_enabled = False
    _open_special(1)
    try:
        yield
    finally:
        _open_special(-1)
        _mode.grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether ops in this thread currently record the graph."""
    return _mode.grad_enabled


@contextmanager
def capture() -> Iterator[list[Value]]:
    """Collect, in creation order, every op node this thread makes inside the block.

    ``with capture() as nodes: y = neuron(x)`` lets a caller tag what a piece of code built
    (nn uses it to group a neuron's nodes for drawings). Costs nothing when no block is open.
    """
    nodes: list[Value] = []
    me = threading.get_ident()

    def hook(v: Value) -> None:
        if threading.get_ident() == me:
            nodes.append(v)

    _node_hooks.append(hook)
    _open_special(1)
    try:
        yield nodes
    finally:
        _open_special(-1)
        _node_hooks.remove(hook)


def _observe(out: Value) -> None:
    if not _mode.grad_enabled:
        out.op = ""
        out.arg = None
        out._a = out._b = out._da = out._db = out._rest = None
    for hook in _node_hooks:
        hook(out)


# ---------------------------------------------------------------------------------------------
# Applying a primitive eagerly: forward on floats, partials recorded on the edges. Each Value
# method is compiled from its Primitive: the source below with the rules' own expressions pasted
# in (autograd/inline.py), so one op is one Python frame and no rule call. When a rule is
# swapped on its Primitive (tests do, to prove a wrong derivative is caught), every method made
# from it is compiled again, so the eager engine always runs the table's current rules.
# ``inspect.getsource(Value.tanh)`` shows what a method was compiled to.

_new = object.__new__


def _ieee(rule: Callable[..., Any], *args: float) -> tuple[float, ...]:
    # Only reached when a partials rule divided by zero at a domain edge (sqrt'(0)).
    return tuple(float(v) for v in rule(FLOAT, *(IEEEFloat(a) for a in args)))


# The method bodies, by kind. {operands} sets a and b for a binary op (which side is self),
# {check} tests the domain where the float forward would not raise, {forward} and {partials}
# are the rules as expressions.
_UNARY = """\
def method(self{default}):
    x = self.data{coerce}{check}
    try:
        y = {forward}
    except (ValueError, ArithmeticError):
        raise DomainError(p, (self,){param}) from None
    out = _new(Value)
    out.data = y
    out.grad = 0.0
    out.label = None
    out.op = {name!r}
    out.arg = {arg}
    out._pending = 0
    out._a = self
    out._b = out._db = out._rest = None
    try:
        (out._da,) = {partials}
    except ZeroDivisionError:
        (out._da,) = _ieee(p.partials, {partial_args})
    if _special:
        _observe(out)
    return out
"""
_BINARY = """\
def method(self, other):
{operands}
    x1 = a.data
    x2 = b.data{check}
    try:
        y = {forward}
    except (ValueError, ArithmeticError):
        raise DomainError(p, (a, b)) from None
    out = _new(Value)
    out.data = y
    out.grad = 0.0
    out.label = None
    out.op = {name!r}
    out.arg = None
    out._pending = 0
    out._a = a
    out._b = b
    out._rest = None
    try:
        out._da, out._db = {partials}
    except ZeroDivisionError:
        out._da, out._db = _ieee(p.partials, {partial_args})
    if _special:
        _observe(out)
    return out
"""
_SELF_FIRST = """\
    if type(other) is Value:
        a = self
        b = other
    else:
        b = _const(other)
        if b is None:
            return NotImplemented
        a = self"""
_SELF_SECOND = """\
    a = _const(other)  # other is never a Value here: Value's own method went first
    if a is None:
        return NotImplemented
    b = self"""
_TAKEN = {"self", "other", "a", "b", "x", "x1", "x2", "c", "y", "out", "p", "m", "Value",
          "DomainError", "_new", "_const", "_observe", "_special", "_ieee", "method"}


_MADE: dict[tuple[Primitive, bool, float | None], Callable[..., Value]] = {}
"""Each method compiled so far, by what it was made from: ``x + y`` and ``apply("add", x, y)``
share one function."""


def _compile(p: Primitive, reflected: bool = False, default: float | None = None
             ) -> Callable[..., Value]:
    """The Value method for primitive ``p`` (``other op self`` when ``reflected``)."""
    made = _MADE.get((p, reflected, default))
    if made is not None:
        return made
    if p.param is not None:
        xs, ys, operands = ["x", "c"], ["x", "y", "c"], "(self,)"
    elif p.arity == 2:
        xs, ys, operands = ["x1", "x2"], ["x1", "x2", "y"], "(a, b)"
    else:
        xs, ys, operands = ["x"], ["x", "y"], "(self,)"
    forward, env = inline(p.forward, ["m", *xs], f"p.forward(m, {', '.join(xs)})", FLOAT, _TAKEN)
    partials, more = inline(p.partials, ["m", *ys], f"p.partials(m, {', '.join(ys)})", FLOAT,
                            _TAKEN)
    env.update(more)
    param = "" if p.param is None else ", c"
    source = (_BINARY if p.arity == 2 else _UNARY).format(
        name=p.name, forward=forward, partials=partials, partial_args=", ".join(ys),
        operands=_SELF_SECOND if reflected else _SELF_FIRST, param=param,
        default="" if p.param is None else f", c={default!r}",
        coerce="" if p.param is None else "\n    c = float(c)  # an int, a numpy scalar...",
        arg="None" if p.param is None else "c",
        check="" if not p.checked else (f"\n    if not p.valid({', '.join(xs)}):"
                                        f"\n        raise DomainError(p, {operands}{param})"),
    )
    # Made inside a factory so the rules' free names (and p, m) are closure cells, while
    # Value, _special and the helpers stay this module's globals.
    lines = [f"def factory(p, m{''.join(', ' + n for n in env)}):\n"]
    lines += [f"    {line}\n" if line else "\n" for line in source.splitlines()]
    lines.append("    return method\n")
    filename = (f"{COMPILED}Value method for {'reflected ' if reflected else ''}{p.name}"
                f"{'' if default is None else f' (default {default})'}>")
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    namespace: dict[str, Any] = {}
    exec(compile("".join(lines), filename, "exec"), globals(), namespace)
    method: Callable[..., Value] = namespace["factory"](p, FLOAT, **env)
    method.__name__ = method.__qualname__ = p.name  # renamed after its attribute below Value
    method.__doc__ = p.doc
    method.made_from = (p, reflected, default)  # type: ignore[attr-defined]
    _MADE[p, reflected, default] = method
    return method


def _const(x: Any) -> Value | None:
    """Wrap a plain number as a constant leaf; None if it is not a real number."""
    if type(x) is int:
        x = float(x)  # what Value(x) does, without its checks
    if type(x) is float:
        v = _new(Value)
        v.data = x
        v.grad = 0.0
        v.label = None
        v.op = ""
        v.arg = None
        v._pending = 0
        v._a = v._b = v._da = v._db = v._rest = None
        return v
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return Value(x)
    return None


def _to_float(data: Any) -> float:
    if isinstance(data, numbers.Real):  # int, bool, Fraction, numpy integer and float scalars
        return float(data)
    raise TypeError(f"Value(data) needs a real number (int, float, bool or a numpy scalar); "
                    f"got {type(data).__name__}: {data!r}")


class Value:
    """A scalar in a computation graph.

    ``data`` is the forward value and ``grad`` the gradient of the last backward's output with
    respect to it. ``parents`` are the operands of the op that made this node, in order and with
    repeats (``a*a`` has two edges to ``a``); ``local_grads[i]`` is d(self)/d(parents[i]),
    recorded when the node was made. ``op`` is the primitive's name ('' for a leaf) and ``arg``
    its static parameter, if any (pow's exponent, leaky_relu's slope).

    ``==`` and hashing are by identity, so Values can key dicts and sets as graph nodes; ``<``,
    ``<=``, ``>``, ``>=`` compare ``data``.
    """

    # The edges live in the node's own slots: the first operand and its local derivative in
    # _a/_da, the second in _b/_db, any further ones (an n-ary sum's) in _rest as a pair of
    # tuples. Most ops have one or two operands, so a node is one object: tuples of parents per
    # node would double what the cyclic garbage collector tracks, which is most of the cost of
    # building a graph. ``parents`` and ``local_grads`` are the public, read-only views.
    __slots__ = ("data", "grad", "label", "op", "arg", "_a", "_b", "_da", "_db", "_rest",
                 "_pending")

    data: float
    grad: Any  # a float; a Value after backward(create_graph=True)
    label: str | None
    op: str
    arg: float | None
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
        self.arg = None
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
        One call instead of zipping the two views, which traversals feel.
        """
        if self._rest is None:
            a = self._a
            if a is None:
                return ()
            b = self._b
            if b is None:
                return ((a, self._da),)
            return ((a, self._da), (b, self._db))
        return tuple(zip(self.parents, self.local_grads))

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    # -- arithmetic: each method is made from its primitive --------------------------------------

    __add__ = _compile(ADD)
    __radd__ = _compile(ADD, reflected=True)
    __sub__ = _compile(SUB)
    __rsub__ = _compile(SUB, reflected=True)
    __mul__ = _compile(MUL)
    __rmul__ = _compile(MUL, reflected=True)
    __truediv__ = _compile(DIV)
    __rtruediv__ = _compile(DIV, reflected=True)
    __neg__ = _compile(NEG)
    __abs__ = _compile(ABS)

    def __pow__(self, other: Operand) -> Value:
        """``x ** c`` with a number c (op 'pow'), or ``x ** v`` with a Value v (op 'vpow')."""
        if isinstance(other, Value):
            return _EAGER["vpow"](self, other)
        if isinstance(other, numbers.Real):
            return _EAGER["pow"](self, other)
        return NotImplemented

    __rpow__ = _compile(VPOW, reflected=True)

    # -- comparisons look at data --------------------------------------------------------------

    def __lt__(self, other: Operand) -> bool:
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= (other.data if isinstance(other, Value) else other)

    # -- functions -----------------------------------------------------------------------------

    exp = _compile(EXP)
    log = _compile(LOG)
    sqrt = _compile(SQRT)
    tanh = _compile(TANH)
    sigmoid = _compile(SIGMOID)
    relu = _compile(RELU)
    softplus = _compile(SOFTPLUS)
    sin = _compile(SIN)
    cos = _compile(COS)

    if TYPE_CHECKING:
        def leaky_relu(self, slope: float = 0.01) -> Value:
            """x for x > 0, slope*x otherwise."""
    else:
        leaky_relu = _compile(LEAKY_RELU, default=0.01)

    @staticmethod
    def sum(terms: Iterable[Operand]) -> Value:
        """One n-ary node x1 + x2 + ... + xn: every local derivative is 1, the graph stays flat."""
        parents: list[Value] = []
        for t in terms:
            v = t if type(t) is Value else _const(t)
            if v is None:
                raise TypeError(f"Value.sum: every term must be a Value or a real number; "
                                f"got {type(t).__name__}: {t!r}")
            parents.append(v)
        if not parents:
            raise ValueError("Value.sum needs at least one term")
        ps = tuple(parents)
        xs = [v.data for v in ps]
        y = SUM.forward(FLOAT, xs)
        out = _new(Value)
        out.data = y
        out.grad = 0.0
        out.label = None
        out.op = SUM.name
        out.arg = None
        out._pending = 0
        ds = SUM.partials(FLOAT, xs, y)
        out._a = ps[0]
        out._da = ds[0]
        if len(ps) == 1:
            out._b = out._db = out._rest = None
        else:
            out._b = ps[1]
            out._db = ds[1]
            out._rest = (ps[2:], tuple(ds[2:])) if len(ps) > 2 else None
        if _special:
            _observe(out)
        return out

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
        from .backward import backward

        backward(self, grad, create_graph)

    def detach(self) -> Value:
        """A new leaf with the same data: gradients do not flow through it."""
        return Value(self.data, self.label)


def _rename(attr: str, f: Callable[..., Value]) -> None:
    f.__name__ = attr  # "__add__", not the primitive's "add"
    f.__qualname__ = f"Value.{attr}"


for _attr, _f in list(vars(Value).items()):
    if hasattr(_f, "made_from"):
        _rename(_attr, _f)

# Every primitive but the n-ary sum as a function of Values, made once: ``apply`` dispatches here.
_EAGER: dict[str, Callable[..., Value]] = {
    p.name: _compile(p) for p in PRIMITIVES.values() if p.arity != -1
}


def _recompile(p: Primitive) -> None:
    """Compile every method made from ``p`` again: one of its rules was just replaced."""
    for made in [made for made in _MADE if made[0] is p]:
        del _MADE[made]
    for attr, f in list(vars(Value).items()):
        spec = getattr(f, "made_from", None)
        if spec is not None and spec[0] is p:
            method = _compile(*spec)
            _rename(attr, method)
            setattr(Value, attr, method)
    if PRIMITIVES.get(p.name) is p:
        _EAGER[p.name] = _compile(p)


Primitive.on_rule_change.append(_recompile)


def apply(name: str, *operands: Operand, param: float | None = None) -> Value:
    """Apply the primitive called ``name`` to Values or numbers: ``apply("tanh", x)``."""
    p = PRIMITIVES.get(name)
    if p is None:
        raise ValueError(f"unknown primitive {name!r}; known: {', '.join(sorted(PRIMITIVES))}")
    vs: list[Value] = []
    for o in operands:
        v = o if isinstance(o, Value) else _const(o)
        if v is None:
            raise TypeError(f"{name}: operands must be Values or real numbers; "
                            f"got {type(o).__name__}")
        vs.append(v)
    if p.arity == -1:
        return Value.sum(vs)
    if len(vs) != p.arity:
        raise TypeError(f"{name} takes {p.arity} operand(s); got {len(vs)}")
    if p.param is None:
        return _EAGER[name](*vs)
    if param is None:
        raise TypeError(f"{name} needs its parameter {p.param}=")
    return _EAGER[name](vs[0], param)
