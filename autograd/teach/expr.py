"""A safe expression language for building graphs from text: ``parse("c*(a+2*b)", a=3, b=1, c=-2)``.

The text is parsed with Python's ``ast`` and checked against a whitelist: numbers, names, the
operators + - * / % **, unary minus and plus, parentheses and calls to the engine's functions
(``FUNCTIONS``). Anything else is refused with an ``ExpressionError`` pointing at the offending
part. Nothing is ever evaluated by Python: each whitelisted node becomes Value arithmetic.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Union

from ..node import DomainError
from ..ops import PRIMITIVES
from ..primitive import Primitive
from ..value import Value, apply

__all__ = ["FUNCTIONS", "MAX_LENGTH", "ExpressionError", "parse"]

MAX_LENGTH = 1000
"""Longest accepted expression, in characters."""

LABEL_LENGTH = 30
"""Sub-expressions up to this long label their node (``a+2*b``); longer ones stay unlabelled."""


def _is_function(p: Primitive) -> bool:
    """Whether an expression calls ``p`` by name: a primitive of fixed arity that is not an
    operator (``tanh(x)``, ``atan2(y, x)``, ``clamp(x, lo, hi)``)."""
    return p.arity > 0 and p.symbol is None


class _Functions(Mapping[str, Primitive]):
    """The primitives ``_is_function`` selects, read from the table at each use."""

    def __getitem__(self, name: str) -> Primitive:
        p = PRIMITIVES[name]
        if not _is_function(p):
            raise KeyError(name)
        return p

    def __iter__(self) -> Iterator[str]:
        return (name for name, p in PRIMITIVES.items() if _is_function(p))

    def __len__(self) -> int:
        return sum(1 for _ in self)


FUNCTIONS: Mapping[str, Primitive] = _Functions()
"""The functions an expression may call, by name, in table order: every primitive that is not an
operator (``exp``, ``tanh``, ``abs``, ``atan2``, ``maximum``, ``clamp``, ...), so a new one in
``PRIMITIVES`` is callable at once, with one argument per operand. One with a static parameter
takes it as a second, number argument: ``leaky_relu(x, 0.1)``."""


_BINARY: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Mod: lambda a, b: a % b,
}

_REFUSED: dict[type, str] = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "subscripts are",
    ast.Lambda: "lambdas are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "'and' and 'or' are",
    ast.IfExp: "conditional expressions are",
    ast.NamedExpr: "assignments (:=) are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "generator expressions are",
    ast.Tuple: "tuples are",
    ast.List: "lists are",
    ast.Set: "sets are",
    ast.Dict: "dicts are",
    ast.Starred: "starred arguments are",
    ast.JoinedStr: "strings are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
    ast.Slice: "slices are",
}

_OPERATORS: dict[type, str] = {
    ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not",
}


def _allowed() -> str:
    return ("numbers, names, + - * / % **, unary minus, parentheses and the functions "
            + ", ".join(FUNCTIONS))


Operand = Union[Value, float, int]


class ExpressionError(ValueError):
    """An expression was refused; ``col``/``end_col`` (0-based) locate the offending part."""

    def __init__(self, message: str, source: str, line: int = 1, col: int = 0,
                 end_col: int | None = None) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.col = col
        self.end_col = end_col if end_col is not None and end_col > col else col + 1
        lines = source.splitlines() or [""]
        text = lines[min(max(line, 1), len(lines)) - 1]
        if len(text) > 120:  # keep the pointer readable on a huge line
            start = max(0, self.col - 40)
            text = ("..." if start else "") + text[start:start + 120]
            shift = self.col - start - (3 if start else 0)
        else:
            shift = self.col
        width = max(1, min(self.end_col - self.col, len(text) - shift))
        pointer = " " * max(0, shift) + "^" * width
        super().__init__(f"{message}\n  {text}\n  {pointer}")


def _where(node: ast.AST, source: str) -> dict[str, Any]:
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0)
    end_line = getattr(node, "end_lineno", line)
    end = getattr(node, "end_col_offset", None)
    if end_line != line:
        end = None
    return {"source": source, "line": line, "col": col, "end_col": end}


def _literal(node: ast.AST, source: str) -> float | None:
    """The value of a number literal, signed or not (``2``, ``-0.5``, ``+3e2``); else None."""
    sign = 1.0
    inner = node
    while isinstance(inner, ast.UnaryOp) and isinstance(inner.op, (ast.USub, ast.UAdd)):
        if isinstance(inner.op, ast.USub):
            sign = -sign
        inner = inner.operand
    if not isinstance(inner, ast.Constant):
        return None
    return sign * _number(inner, source)


def _number(node: ast.Constant, source: str) -> float:
    v = node.value
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        kind = "a complex number" if isinstance(v, complex) else f"{type(v).__name__} {v!r}"
        raise ExpressionError(f"{kind} is not allowed: only real numbers", **_where(node, source))
    try:
        f = float(v)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ExpressionError("this number is too large for a float (the limit is about 1.8e308)",
                              **_where(node, source))
    return f


def _label(node: ast.AST, source: str) -> str | None:
    text = ast.get_source_segment(source, node)
    if text is None or len(text) > LABEL_LENGTH:
        return None
    return " ".join(text.split())


def parse(source: str, variables: Mapping[str, Operand] | None = None, *,
          label: bool = True, **values: Operand) -> Value:
    """Build the graph of the expression ``source``; return its root Value.

    ``variables`` (or keyword arguments) give each name a number or a Value; a number becomes
    one leaf Value labelled with the name, shared by every use (``a*a`` has two edges to ``a``).
    With ``label``, each operation's node is labelled with its source text when that is short.
    Raises ``ExpressionError`` for anything outside the whitelist, for unknown names and for
    values outside an op's domain (``log(0)``, ``9**9**9``), pointing at the part responsible.
    """
    if not isinstance(source, str):
        raise TypeError(f"parse takes the expression as a str; got {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(source)} characters long; the limit is "
                              f"{MAX_LENGTH}", source, 1, MAX_LENGTH, len(source))
    if not source.strip():
        raise ExpressionError("the expression is empty", source)
    env: dict[str, Value] = {}
    given = dict(variables or {})
    given.update(values)
    for name, v in given.items():
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a valid variable name")
        if name in FUNCTIONS:
            raise ValueError(f"{name!r} is a function name; choose another variable name")
        if isinstance(v, Value):
            env[name] = v
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            env[name] = Value(float(v), label=name)
        else:
            raise TypeError(f"variable {name} must be a number or a Value; "
                            f"got {type(v).__name__}: {v!r}")
    try:
        tree = ast.parse(source.strip() if "\n" not in source else source, mode="eval")
    except SyntaxError as e:
        col = (e.offset or 1) - 1
        end = (e.end_offset or 0) - 1 if e.end_lineno in (None, e.lineno) else None
        raise ExpressionError(f"not a valid expression: {e.msg}", source.strip(), e.lineno or 1,
                              col, end) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply", source) from None
    text = source.strip() if "\n" not in source else source
    return _build(tree.body, text, env, label)


def _build(top: ast.expr, source: str, env: Mapping[str, Value], label: bool) -> Value:
    """Turn the checked tree into Values, children before parents, with an explicit stack."""
    done: dict[int, Value] = {}  # id(ast node) -> its Value
    stack: list[tuple[ast.expr, bool]] = [(top, False)]
    while stack:
        node, ready = stack.pop()
        if not ready:
            kids = _children(node, source, env)
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
            continue
        value = _apply(node, source, env, done)
        if label and value.label is None and value.parents and not isinstance(node, ast.Name):
            value.label = _label(node, source)
        done[id(node)] = value
    return done[id(top)]


def _children(node: ast.expr, source: str, env: Mapping[str, Value]) -> list[ast.expr]:
    """Check one node against the whitelist; return the operands to build first."""
    where = _where(node, source)
    if isinstance(node, ast.Constant):
        _number(node, source)
        return []
    if isinstance(node, ast.Name):
        if node.id not in env:
            if node.id in FUNCTIONS:
                msg = f"{node.id} is a function: call it, as in {node.id}(x)"
            else:
                known = ", ".join(sorted(env)) or "none"
                msg = (f"unknown name {node.id!r}: give it a value ({node.id}=1.5); "
                       f"names with values: {known}")
            raise ExpressionError(msg, **where)
        return []
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return [] if _literal(node, source) is not None else [node.operand]
        raise ExpressionError(f"the operator {_OPERATORS[type(node.op)]!r} is not allowed; "
                              f"allowed: {_allowed()}", **where)
    if isinstance(node, ast.BinOp):
        if type(node.op) in _BINARY:
            return [node.left, node.right]
        if isinstance(node.op, ast.Pow):
            if _literal(node.right, source) is not None:
                return [node.left]  # x ** 2: one edge, the exponent is the op's parameter
            return [node.left, node.right]
        sym = _OPERATORS.get(type(node.op), type(node.op).__name__)
        hint = " (use / for division)" if sym == "//" else ""
        raise ExpressionError(f"the operator {sym!r} is not allowed{hint}; allowed: {_allowed()}",
                              **where)
    if isinstance(node, ast.Call):
        return _call_args(node, source)
    what = _REFUSED.get(type(node), f"{type(node).__name__} is")
    raise ExpressionError(f"{what} not allowed; an expression may use only {_allowed()}", **where)


def _call_args(node: ast.Call, source: str) -> list[ast.expr]:
    where = _where(node, source)
    if not isinstance(node.func, ast.Name):
        raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} can be called, by "
                              "name", **_where(node.func, source))
    name = node.func.id
    if name not in FUNCTIONS:
        raise ExpressionError(f"unknown function {name!r}; the functions are "
                              f"{', '.join(FUNCTIONS)}", **_where(node.func, source))
    if node.keywords:
        raise ExpressionError(f"{name} takes no keyword arguments",
                              **_where(node.keywords[0].value, source))
    for a in node.args:
        if isinstance(a, ast.Starred):
            raise ExpressionError("starred arguments are not allowed", **_where(a, source))
    p = FUNCTIONS[name]
    if p.param is None:
        if len(node.args) != p.arity:
            count = {1: "one argument", 2: "two arguments", 3: "three arguments"}.get(
                p.arity, f"{p.arity} arguments")
            raise ExpressionError(f"{name} takes exactly {count}; got {len(node.args)}",
                                  **where)
        return list(node.args)
    optional = p.default is not None
    counts = (1, 2) if optional else (2,)
    if len(node.args) not in counts:
        raise ExpressionError(f"{name} takes x and {'an optional' if optional else 'a'} number "
                              f"{p.param}; got {len(node.args)} arguments", **where)
    if len(node.args) == 2 and _literal(node.args[1], source) is None:
        raise ExpressionError(f"{name}'s {p.param} must be a number",
                              **_where(node.args[1], source))
    return [node.args[0]]


def _apply(node: ast.expr, source: str, env: Mapping[str, Value],
           done: Mapping[int, Value]) -> Value:
    """Make the Value of a checked node whose operands are built; domain errors point here."""
    try:
        if isinstance(node, ast.Name):
            return env[node.id]
        literal = _literal(node, source)
        if literal is not None:
            return Value(literal)
        if isinstance(node, ast.UnaryOp):
            inner = done[id(node.operand)]
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            left = done[id(node.left)]
            if isinstance(node.op, ast.Pow):
                exponent = _literal(node.right, source)
                if exponent is not None:
                    return left ** exponent
                return left ** done[id(node.right)]
            return _BINARY[type(node.op)](left, done[id(node.right)])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            p = FUNCTIONS[node.func.id]
            x = done[id(node.args[0])]
            if p.param is None:
                return apply(p, *(done[id(a)] for a in node.args))
            given = _literal(node.args[1], source) if len(node.args) == 2 else None
            return apply(p, x, param=p.default if given is None else given)
    except DomainError as e:
        raise ExpressionError(str(e), **_where(node, source)) from None
    raise ExpressionError(f"cannot build {type(node).__name__}", **_where(node, source))
