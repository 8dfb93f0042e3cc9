"""Local derivatives as formulas people read: ``∂e/∂a = b = −3``.

Each primitive in ``ops.py`` states its local derivatives as Python-syntax text over the rule's
names: ``x`` (a unary op's operand), ``x1`` and ``x2`` (a binary op's), ``y`` (the output), ``c``
(the static parameter), and for an n-ary op ``x`` (the operand the edge comes from) and ``n``
(how many there are). This module turns that text into pretty text (``1 − y²``, ``·``, ``−``) or
LaTeX, with the names of a graph's own nodes put in: the edge from ``a`` into ``e = a*b`` reads
``∂e/∂a = b = −3``. Unlabelled nodes get the names drawings and traces use (``node_names``).
A known static parameter is put in as a number and the result tidied (``c*x**(c - 1)`` with
c = 2 reads ``2·a``).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Union

from ..backward import toposort
from ..ops import PRIMITIVES, Primitive
from ..value import Value

__all__ = ["EdgeFormula", "edge_formula", "edge_formulas", "equation", "formula_text",
           "latex_name", "local_formula", "node_names", "number", "partial", "render"]

MINUS = "−"
"""The minus sign of pretty text (U+2212), wider than a hyphen."""

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_ATOM = re.compile(r"[A-Za-z_][\w.]*|[0-9][\w.]*")  # a name needing no parentheses
_LATEX_SPECIAL = {c: "\\" + c for c in "_#$%&{}"} | {"~": r"\textasciitilde{}",
                                                      "^": r"\textasciicircum{}",
                                                      "\\": r"\textbackslash{}"}
_LATEX_FUNCTIONS = {"exp": r"\exp", "log": r"\log", "tanh": r"\tanh", "sin": r"\sin",
                    "cos": r"\cos", "tan": r"\tan", "sinh": r"\sinh", "cosh": r"\cosh",
                    "arctan": r"\arctan", "arcsin": r"\arcsin", "arccos": r"\arccos"}
_COMPARE_TEXT = {ast.Gt: ">", ast.GtE: "≥", ast.Lt: "<", ast.LtE: "≤", ast.Eq: "=",
                 ast.NotEq: "≠"}
_COMPARE_LATEX = {ast.Gt: ">", ast.GtE: r"\geq", ast.Lt: "<", ast.LtE: r"\leq", ast.Eq: "=",
                  ast.NotEq: r"\neq"}

Name = Union[str, float]
"""What a rule's name stands for: a node's name, or a known number (a parameter, a constant)."""


def number(x: Any, fmt: str = ".4g", latex: bool = False, minus: str = MINUS) -> str:
    """A number as people write it, the one formatter of every drawing, trace and formula:
    ``fmt`` digits, −0 as 0, and ``minus`` for the sign, a real minus sign (U+2212) in pretty
    text (``latex`` and the drawings keep ``-``). ``x`` may be a Value (a grad after
    ``backward(create_graph=True)``): its data is shown."""
    v = float(x.data) if isinstance(x, Value) else float(x)
    if math.isnan(v) or math.isinf(v):
        text = str(v)
    else:
        text = format(v + 0.0, fmt)  # + 0.0 turns -0.0 (w * 0 with w < 0) into a plain 0
    return text if latex or minus == "-" else text.replace("-", minus)


def node_names(root: Value) -> dict[Value, str]:
    """A readable name per node: its label, else its op and topological id (``mul4``), else
    (an unlabelled leaf) its value."""
    names: dict[Value, str] = {}
    for i, v in enumerate(toposort(root)):
        if v.label:
            names[v] = v.label
        elif v.parents:
            names[v] = f"{v.op}{i}"
        else:
            names[v] = number(v.data, minus="-")
    return names


def equation(node: Value, names: Mapping[Value, str] | None = None, fmt: str = ".4g") -> str:
    """The op that made ``node``, in its operands' names: ``a + d``, ``2·b``, ``a²``,
    ``tanh(n)``, ``leaky_relu(a, 0.01)``; a leaf's value for a leaf."""
    if not node.parents:
        return number(node.data, fmt)
    if names is None:
        names = node_names(node)

    def name(v: Value) -> str:
        text = names[v] if v.label or v.op else number(v.data, fmt)  # op: a leaf's is ''
        return text if _ATOM.fullmatch(text) else f"({text})"

    p = PRIMITIVES.get(node.op)
    operands = [name(v) for v in node.parents]
    symbol = p.symbol if p is not None else None
    shown = {"*": "·", "-": MINUS}.get(symbol or "", symbol)
    if node.op == "pow" and node.param is not None:
        k = float(node.param)
        if k.is_integer() and abs(k) < 1e6:
            return operands[0] + str(int(k)).translate(_SUPERSCRIPT)
        return f"{operands[0]}^{number(k, fmt)}"
    if shown and len(operands) == 1:
        return shown + operands[0]
    if shown and len(operands) == 2:
        joiner = shown if shown in ("·", "/", "**") else f" {shown} "
        return joiner.join(operands).replace("**", "^")
    if p is not None and p.arity == -1:
        return " + ".join(operands)
    args = operands + ([number(node.param, fmt)] if node.param is not None else [])
    return f"{node.op}({', '.join(args)})"


def latex_name(name: str) -> str:
    """A node's name in LaTeX: ``a`` stays, ``x1`` becomes ``x_{1}``, longer names upright."""
    if re.fullmatch(r"[A-Za-z]", name):
        return name
    m = re.fullmatch(r"([A-Za-z])_?(\d+)", name)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    if re.fullmatch(r"-?\d+(\.\d*)?(e[+-]?\d+)?", name):
        return name
    return r"\mathrm{" + "".join(_LATEX_SPECIAL.get(c, c) for c in name) + "}"


def partial(of: str, wrt: str, latex: bool = False) -> str:
    """The symbol ∂of/∂wrt (``\\frac{\\partial of}{\\partial wrt}`` in LaTeX)."""
    if latex:
        return rf"\frac{{\partial {latex_name(of)}}}{{\partial {latex_name(wrt)}}}"

    def wrap(name: str) -> str:
        return name if _ATOM.fullmatch(name) else f"({name})"

    return f"∂{wrap(of)}/∂{wrap(wrt)}"


# ---------------------------------------------------------------------------------------------
# Formula text -> a tidied tree -> pretty text or LaTeX. Formulas are a few tokens long, so the
# recursion below is bounded by the formula, never by a graph.


@cache
def _parse(formula: str) -> ast.expr:
    try:
        return ast.parse(formula.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"derivative formula {formula!r} is not a Python expression") from None


def _const(node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return float(node.value)
    return None


def _num_node(v: float) -> ast.expr:
    return ast.Constant(v)


_CONSTANTS = {"pi": ("π", r"\pi")}
"""Names a formula may use for numbers, shown as mathematicians write them."""

_COMPARE: dict[type, Callable[[float, float], bool]] = {
    ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
}


def _truth(node: ast.expr) -> bool | None:
    """A condition's value when its operands are all known numbers (``c == 0`` with c = 2)."""
    if isinstance(node, ast.Compare):
        found = [_const(node.left), *(_const(c) for c in node.comparators)]
        values = [v for v in found if v is not None]
        if len(values) != len(found) or any(type(op) not in _COMPARE for op in node.ops):
            return None
        return all(_COMPARE[type(op)](a, b) for op, a, b in zip(node.ops, values, values[1:]))
    if isinstance(node, ast.BoolOp):
        truths = [_truth(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return False if False in truths else (True if all(truths) else None)
        return True if True in truths else (False if all(t is False for t in truths) else None)
    return None


_FOLD: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b,
}


def _tidy(node: ast.expr, numbers: Mapping[str, float]) -> ast.expr:
    """Put the known numbers in and fold what they make constant: x**1 -> x, 1*x -> x, c - 1
    with c = 2 -> 1, a + -3 -> a - 3."""
    if isinstance(node, ast.Name):
        return _num_node(numbers[node.id]) if node.id in numbers else node
    if isinstance(node, ast.UnaryOp):
        operand = _tidy(node.operand, numbers)
        k = _const(operand)
        if k is not None and isinstance(node.op, ast.USub):
            return _num_node(-k)
        if k is not None and isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub) and isinstance(operand, ast.UnaryOp) \
                and isinstance(operand.op, ast.USub):
            return operand.operand
        return ast.UnaryOp(node.op, operand)
    if isinstance(node, ast.BinOp):
        left, right = _tidy(node.left, numbers), _tidy(node.right, numbers)
        a, b = _const(left), _const(right)
        fold = _FOLD.get(type(node.op))
        if a is not None and b is not None and fold is not None:
            try:
                value = fold(a, b)
            except (ArithmeticError, ValueError):
                value = None
            if isinstance(value, float) and math.isfinite(value):
                return _num_node(value)
        op = node.op
        if isinstance(op, ast.Pow) and b == 1.0:
            return left
        if isinstance(op, ast.Pow) and b == 0.0:
            return _num_node(1.0)
        if isinstance(op, ast.Mult):
            if a == 1.0:
                return right
            if b == 1.0:
                return left
            if a == -1.0:
                return ast.UnaryOp(ast.USub(), right)
            if b == -1.0:
                return ast.UnaryOp(ast.USub(), left)
        if isinstance(op, ast.Div) and b == 1.0:
            return left
        if isinstance(op, (ast.Add, ast.Sub)):
            if b == 0.0:
                return left
            if a == 0.0:
                return right if isinstance(op, ast.Add) else ast.UnaryOp(ast.USub(), right)
            if b is not None and b < 0:
                flipped = ast.Sub() if isinstance(op, ast.Add) else ast.Add()
                return ast.BinOp(left, flipped, _num_node(-b))
        return ast.BinOp(left, op, right)
    if isinstance(node, ast.Call):
        return ast.Call(node.func, [_tidy(a, numbers) for a in node.args], [])
    if isinstance(node, ast.IfExp):
        test = _tidy(node.test, numbers)
        known = _truth(test)
        if known is not None:  # pow's "0 if c == 0 else ...": with c known, one branch stays
            return _tidy(node.body if known else node.orelse, numbers)
        return ast.IfExp(test, _tidy(node.body, numbers), _tidy(node.orelse, numbers))
    if isinstance(node, ast.Compare):
        return ast.Compare(_tidy(node.left, numbers), node.ops,
                           [_tidy(c, numbers) for c in node.comparators])
    if isinstance(node, ast.BoolOp):
        return ast.BoolOp(node.op, [_tidy(v, numbers) for v in node.values])
    return node


# Precedence, loosest first: what needs parentheses inside what.
_COND, _OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _NEG, _POWER, _ATOM_P = range(10)


class _Renderer:
    """Pretty text or LaTeX from a tidied formula tree, names looked up in ``names``."""

    def __init__(self, names: Mapping[str, str], fmt: str, latex: bool) -> None:
        self.names = names
        self.fmt = fmt
        self.latex = latex

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)" if self.latex else f"({text})"

    def at(self, node: ast.expr, least: int) -> str:
        """``node`` rendered, in parentheses unless it binds at least as tightly as ``least``."""
        text, prec = self.render(node)
        return self.paren(text) if prec < least else text

    def render(self, node: ast.expr) -> tuple[str, int]:
        latex = self.latex
        k = _const(node)
        if k is not None:
            return number(k, self.fmt, latex), (_NEG if k < 0 else _ATOM_P)
        if isinstance(node, ast.Name) and node.id in _CONSTANTS and node.id not in self.names:
            return _CONSTANTS[node.id][1 if latex else 0], _ATOM_P
        if isinstance(node, ast.Name):
            name = self.names.get(node.id, node.id)
            shown = latex_name(name) if latex else name
            if re.fullmatch(r"-\d.*", name):  # a constant leaf's name: a negative number
                return (shown if latex else MINUS + name[1:]), _NEG
            return shown, (_ATOM_P if _ATOM.fullmatch(name) else _COND)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return (r"\lnot " if latex else "not ") + self.at(node.operand, _NOT), _NOT
            sign = "-" if latex else MINUS
            if isinstance(node.op, ast.UAdd):
                sign = "+"
            return sign + self.at(node.operand, _PRODUCT), _NEG
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.IfExp):
            return self.cases(node.test, node.body, node.orelse)
        if isinstance(node, ast.Compare):
            ops = _COMPARE_LATEX if latex else _COMPARE_TEXT
            parts = [self.at(node.left, _SUM)]
            for op, right in zip(node.ops, node.comparators):
                parts += [ops.get(type(op), "?"), self.at(right, _SUM)]
            return " ".join(parts), _CMP
        if isinstance(node, ast.BoolOp):
            word = ("and" if isinstance(node.op, ast.And) else "or")
            joiner = (r" \text{ " + word + " } ") if latex else f" {word} "
            prec = _AND if isinstance(node.op, ast.And) else _OR
            return joiner.join(self.at(v, prec + 1) for v in node.values), prec
        return ast.unparse(node), _COND

    def binop(self, node: ast.BinOp) -> tuple[str, int]:
        op, latex = node.op, self.latex
        if isinstance(op, ast.Pow):
            return self.power(node.left, node.right)
        if isinstance(op, (ast.Add, ast.Sub)):
            sign = "+" if isinstance(op, ast.Add) else ("-" if latex else MINUS)
            return f"{self.at(node.left, _SUM)} {sign} {self.at(node.right, _PRODUCT)}", _SUM
        if isinstance(op, ast.Div):
            if latex:
                num, _ = self.render(node.left)
                den, _ = self.render(node.right)
                return rf"\frac{{{num}}}{{{den}}}", _ATOM_P
            return f"{self.at(node.left, _PRODUCT)}/{self.at(node.right, _NEG + 1)}", _PRODUCT
        if isinstance(op, ast.FloorDiv):  # ⌊x1/x2⌋
            num, _ = self.render(node.left)
            den, _ = self.render(node.right)
            if latex:
                return rf"\left\lfloor \frac{{{num}}}{{{den}}} \right\rfloor", _ATOM_P
            return f"⌊{self.at(node.left, _PRODUCT)}/{self.at(node.right, _NEG + 1)}⌋", _ATOM_P
        if isinstance(op, ast.Mult):
            dot = r" \cdot " if latex else "·"
            return f"{self.at(node.left, _PRODUCT)}{dot}{self.at(node.right, _NEG + 1)}", _PRODUCT
        return ast.unparse(node), _COND

    def power(self, base: ast.expr, exponent: ast.expr) -> tuple[str, int]:
        b = self.at(base, _ATOM_P)
        k = _const(exponent)
        if self.latex:
            e, _ = self.render(exponent)
            return f"{{{b}}}^{{{e}}}", _POWER
        if k is not None and k.is_integer() and abs(k) < 1e6:
            return b + str(int(k)).translate(_SUPERSCRIPT), _POWER
        return f"{b}^{self.at(exponent, _ATOM_P)}", _POWER

    def call(self, node: ast.Call) -> tuple[str, int]:
        fn = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        args = node.args
        latex = self.latex
        if fn == "where" and len(args) == 3:
            return self.cases(args[0], args[1], args[2])
        if fn == "pow" and len(args) == 2:
            return self.power(args[0], args[1])
        if fn == "abs" and len(args) == 1:
            inner, _ = self.render(args[0])
            return (rf"\left|{inner}\right|" if latex else f"|{inner}|"), _ATOM_P
        if fn == "sqrt" and len(args) == 1:
            inner, _ = self.render(args[0])
            return (rf"\sqrt{{{inner}}}" if latex else "√" + self.at(args[0], _ATOM_P)), _ATOM_P
        inner = ", ".join(self.render(a)[0] for a in args)
        if latex:
            head = _LATEX_FUNCTIONS.get(fn, r"\operatorname{" + fn.replace("_", r"\_") + "}")
            return rf"{head}\left({inner}\right)", _ATOM_P
        return f"{fn}({inner})", _ATOM_P

    def cases(self, test: ast.expr, body: ast.expr, orelse: ast.expr) -> tuple[str, int]:
        t, b, o = self.render(test)[0], self.render(body)[0], self.render(orelse)[0]
        if self.latex:
            return (rf"\begin{{cases}} {b} & {t} \\ {o} & \text{{otherwise}} \end{{cases}}",
                    _ATOM_P)
        return f"{b} if {t} else {o}", _COND


def render(formula: str, names: Mapping[str, Name] | None = None, fmt: str = ".4g",
           latex: bool = False) -> str:
    """A formula's text (Python syntax over the rule's names) for people: ``1 - y**2`` reads
    ``1 − y²``, or ``1 - y^{2}`` with ``latex``. ``names`` maps a rule's name to the node's
    name (a str) or to a known number, which is put in and folded (``c*x**(c - 1)`` with
    ``c = 2`` reads ``2·x``)."""
    names = names or {}
    numbers = {k: float(v) for k, v in names.items() if not isinstance(v, str)}
    text = {k: v for k, v in names.items() if isinstance(v, str)}
    tree = _tidy(_parse(formula), numbers)
    return _Renderer(text, fmt, latex).render(tree)[0]


def _primitive(op: str | Primitive) -> Primitive:
    if isinstance(op, Primitive):
        return op
    p = PRIMITIVES.get(op)
    if p is None:
        raise ValueError(f"unknown primitive {op!r}; the table has {', '.join(PRIMITIVES)}")
    return p


def formula_text(op: str | Primitive, index: int = 0, latex: bool = False) -> str:
    """The local derivative of primitive ``op`` with respect to operand ``index``, in the
    rule's own names: ``formula_text("tanh")`` is ``1 − y²``, ``formula_text("div", 1)`` is
    ``−x1/x2²``. An n-ary op has one formula for every operand."""
    p = _primitive(op)
    if not p.formulas:
        raise ValueError(f"primitive {p.name!r} states no derivative formulas")
    k = 0 if p.arity == -1 else index
    if not 0 <= k < len(p.formulas):
        raise IndexError(f"{p.name} has {len(p.formulas)} operand(s); no operand {index}")
    return render(p.formulas[k], latex=latex)


def _rule_names(node: Value, index: int, names: Mapping[Value, str],
                parents: Sequence[Value]) -> dict[str, Name]:
    """The rule's names (x, x1, x2, y, c, n) for the edge ``index`` into ``node``."""
    def name_of(v: Value) -> Name:
        # An unlabelled leaf is a constant: its number is put in (and folded). (A leaf's op is
        # ''; v.parents would copy a wide sum's operands at every edge.)
        if not v.label and not v.op:
            return v.data
        return names[v]

    out: dict[str, Name] = {"y": name_of(node)}
    if node.param is not None:
        out["c"] = float(node.param)
    p = PRIMITIVES.get(node.op)
    if p is not None and p.arity == -1:
        out["x"] = name_of(parents[index])
        out["n"] = float(len(parents))
    elif len(parents) == 1:
        out["x"] = name_of(parents[0])
    else:
        out.update({f"x{i + 1}": name_of(v) for i, v in enumerate(parents)})
    return out


def local_formula(node: Value, index: int, names: Mapping[Value, str] | None = None,
                  fmt: str = ".4g", latex: bool = False) -> str:
    """The local derivative d(node)/d(node.parents[index]) as a formula in the nodes' names
    (``b`` for the edge from ``a`` into ``e = a*b``); "" when the op states no formula."""
    return _local_formula(node, index, node.parents, names, fmt, latex)


def _local_formula(node: Value, index: int, parents: Sequence[Value],
                   names: Mapping[Value, str] | None, fmt: str, latex: bool) -> str:
    p = PRIMITIVES.get(node.op)
    if p is None or not p.formulas or not parents:
        return ""
    k = 0 if p.arity == -1 else index
    if k >= len(p.formulas):
        return ""
    if names is None:
        names = node_names(node)
    return render(p.formulas[k], _rule_names(node, index, names, parents), fmt, latex)


@dataclass(frozen=True)
class EdgeFormula:
    """One edge's local derivative three ways: the symbol ∂node/∂parent, the formula in the
    nodes' names, and the number recorded in the forward pass."""

    node: Value
    parent: Value
    index: int  # position of ``parent`` among ``node.parents``
    symbol: str  # ∂e/∂a
    formula: str  # b ("" when the op states none)
    value: float  # the recorded local derivative
    symbol_latex: str
    formula_latex: str

    def text(self, fmt: str = ".4g", value: bool = True) -> str:
        """``∂e/∂a = b = −3`` (a part equal to the one before it is left out: ``∂d/∂e = 1``)."""
        parts = [self.symbol]
        if self.formula:
            parts.append(self.formula)
        if value:
            shown = number(self.value, fmt)
            if shown != parts[-1]:
                parts.append(shown)
        return " = ".join(parts)

    def latex(self, fmt: str = ".4g", value: bool = True) -> str:
        """The same as LaTeX: ``\\frac{\\partial e}{\\partial a} = b = -3``."""
        parts = [self.symbol_latex]
        if self.formula_latex:
            parts.append(self.formula_latex)
        if value:
            shown = number(self.value, fmt, latex=True)
            if shown != parts[-1]:
                parts.append(shown)
        return " = ".join(parts)

    def __str__(self) -> str:
        return self.text()


def edge_formula(node: Value, index: int, names: Mapping[Value, str] | None = None,
                 fmt: str = ".4g") -> EdgeFormula:
    """The local derivative on edge ``index`` into ``node`` (from ``node.parents[index]``) as
    symbol, formula and number. ``names`` (default: ``node_names(node)``) names the nodes;
    pass the root's ``node_names`` so unlabelled nodes read as they do in its drawing."""
    parents = node.parents
    if not 0 <= index < len(parents):
        raise IndexError(f"the node has {len(parents)} incoming edge(s); no edge {index}")
    return _edge_formula(node, index, parents, node.local_grads,
                         node_names(node) if names is None else names, fmt)


def edge_formulas(node: Value, names: Mapping[Value, str] | None = None,
                  fmt: str = ".4g") -> tuple[EdgeFormula, ...]:
    """``edge_formula`` of every edge into ``node``, in operand order. The operands are read
    once (a wide sum's n operands read once per edge would cost n²), and an n-ary op's one
    formula is rendered once for all the edges it reads alike (a sum's ``1``)."""
    parents, local_grads = node.parents, node.local_grads
    names = node_names(node) if names is None else names
    p = PRIMITIVES.get(node.op)
    rendered: dict[tuple[Any, ...], tuple[str, str]] | None = (
        {} if p is not None and p.arity == -1 and p.formulas else None)
    return tuple(_edge_formula(node, i, parents, local_grads, names, fmt, rendered)
                 for i in range(len(parents)))


@cache
def _names_in(formula: str) -> frozenset[str]:
    """The rule's names a formula reads (``x`` and ``n`` in ``x/n``; none in ``1``)."""
    return frozenset(n.id for n in ast.walk(_parse(formula)) if isinstance(n, ast.Name))


def _edge_formula(node: Value, index: int, parents: Sequence[Value],
                  local_grads: Sequence[Any], names: Mapping[Value, str], fmt: str,
                  rendered: dict[tuple[Any, ...], tuple[str, str]] | None = None
                  ) -> EdgeFormula:
    parent = parents[index]
    local = local_grads[index]
    value = float(local.data) if isinstance(local, Value) else float(local)
    if rendered is None:
        formulas = (_local_formula(node, index, parents, names, fmt, latex=False),
                    _local_formula(node, index, parents, names, fmt, latex=True))
    else:
        # An n-ary op: one formula for every edge, read at the names it uses only.
        formula = PRIMITIVES[node.op].formulas[0]
        rule = _rule_names(node, index, names, parents)
        key = tuple(sorted((k, rule[k]) for k in _names_in(formula) if k in rule))
        got = rendered.get(key)
        if got is None:
            got = rendered[key] = (_local_formula(node, index, parents, names, fmt, False),
                                   _local_formula(node, index, parents, names, fmt, True))
        formulas = got
    return EdgeFormula(
        node, parent, index,
        partial(names[node], names[parent]),
        formulas[0],
        value,
        partial(names[node], names[parent], latex=True),
        formulas[1],
    )
