"""Check a learner's own numbers: ``check_by_hand(L, {"a": -2.0, "dd/da": 1, "d.data": 5})``.

Answers are keyed by the nodes' names (labels, else the names drawings use, ``node_names``):

- ``"a"`` or ``"a.grad"``: the gradient ∂L/∂a;
- ``"de/da"`` or ``"∂e/∂a"``: the local derivative of ``e`` with respect to its operand ``a``
  (summed over the edges when ``a`` is used twice, ``a*a``); ``"dL/da"`` with ``L`` the output
  and ``a`` not one of its operands is the gradient, as textbooks write it;
- ``"a.data"``: the forward value.

Every given number is marked right when |yours − right| <= atol + rtol·|right|. A wrong one
is diagnosed, in the order backward runs (values first, then from the output back): it follows
correctly from a wrong number upstream (named); the upstream numbers were right but a local
derivative was wrong (which, and what it should be); one of several paths into the node was left
out; a sign slip. ``from_equations`` builds a graph whose every node a learner can name.
"""

from __future__ import annotations

import difflib
import enum
import html
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, NamedTuple

from ..backends import FLOAT
from ..backward import reverse_order, toposort
from ..ops import PRIMITIVES
from ..value import Value
from .expr import parse
from .formulas import edge_formula, equation, node_names, number, partial

__all__ = ["ATOL", "RTOL", "AnswerError", "Diagnosis", "HandCheck", "Mark", "check_by_hand",
           "ReportRow", "check_tolerances", "from_equations", "is_close", "read_number",
           "report_html", "report_summary", "report_text"]

RTOL = 0.005
"""Default relative tolerance: hand-worked numbers are rounded; 0.5% of the value is allowed."""
ATOL = 1e-6
"""Default absolute tolerance, for values that are zero: small, as a network's gradients are."""


class AnswerError(ValueError):
    """The answers cannot be checked: a name not in the graph, a value that is not a number."""


class Diagnosis(enum.Enum):
    """What went wrong with a number, from the slips a learner makes working by hand."""

    RIGHT = "right"
    UPSTREAM = "follows from a wrong number upstream"
    FORWARD = "follows from a wrong forward value"
    LOCAL = "a wrong local derivative"
    MISSING_PATH = "a path was left out"
    SIGN = "sign slip"
    WRONG = "wrong"


@dataclass(frozen=True)
class Mark:
    """One checked answer: what it is, the learner's number, the right one, the diagnosis."""

    key: str  # as given: "a", "de/da", "e.data"
    kind: str  # "gradient", "local" or "value"
    symbol: str  # what it is, written out: "∂L/∂a", "∂e/∂a", "e"
    given: float
    expected: float
    diagnosis: Diagnosis
    message: str = ""  # for a wrong number: what happened, naming the nodes involved
    blame: tuple[str, ...] = ()  # the keys or nodes the diagnosis points to

    @property
    def ok(self) -> bool:
        """Whether the number is right (within the report's tolerance)."""
        return self.diagnosis is Diagnosis.RIGHT


@dataclass(frozen=True)
class HandCheck:
    """The report of ``check_by_hand``: one Mark per given number, in backward order. Prints as
    text, renders as a table in Jupyter."""

    marks: tuple[Mark, ...]
    rtol: float
    atol: float
    title: str = ""

    @property
    def ok(self) -> bool:
        """Whether every given number is right."""
        return all(m.ok for m in self.marks)

    @property
    def wrong(self) -> list[Mark]:
        """The wrong numbers, in backward order."""
        return [m for m in self.marks if not m.ok]

    def __getitem__(self, key: str) -> Mark:
        for m in self.marks:
            if m.key == key:
                return m
        raise KeyError(f"no answer {key!r} in this report; it has "
                       f"{', '.join(m.key for m in self.marks)}")

    def summary(self) -> str:
        """One line: how many were given, right and wrong, and the tolerance."""
        return report_summary(len(self.marks), len(self.wrong), self.rtol, self.atol)

    def _rows(self) -> list[ReportRow]:
        """The table's rows, one per given number."""
        return [ReportRow(m.key, m.symbol, m.given, m.expected, m.ok, m.diagnosis.value,
                          m.message) for m in self.marks]

    def __str__(self) -> str:
        return report_text(self.title, self.summary(), self._rows())

    def _repr_html_(self) -> str:
        return report_html(self.title, self.summary(), self._rows())


class ReportRow(NamedTuple):
    """One checked number as the reports show it (``check_by_hand``'s and ``nn.grade``'s)."""

    key: str  # as the learner wrote it
    what: str  # what it is: ∂L/∂e, the value of d, ...
    given: float
    expected: float
    ok: bool
    diagnosis: str  # the diagnosis's name; a right number's is not shown
    message: str


def report_summary(n: int, wrong: int, rtol: float, atol: float) -> str:
    """One line: how many numbers were given, right and wrong, and the tolerance."""
    return (f"{n} answer{'s' if n != 1 else ''}: {n - wrong} right, {wrong} wrong "
            f"(right means within {atol:g} + {rtol:g}·|value|)")


def report_text(title: str, summary: str, rows: Sequence[ReportRow]) -> str:
    """A report as text: ``title`` (may be empty), the ``summary`` line, then a column per
    field and under each wrong number its diagnosis."""
    table = [("answer", "is", "yours", "right", "")]
    for r in rows:
        table.append((r.key, r.what, number(r.given, ".6g"), number(r.expected, ".6g"),
                      "ok" if r.ok else "WRONG"))
    widths = [max(len(t[k]) for t in table) for k in range(5)]
    lines = [title] if title else []
    lines.append(summary)
    for k, t in enumerate(table):
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip())
        if k and not rows[k - 1].ok:
            lines.append(f"      {rows[k - 1].diagnosis}: {rows[k - 1].message}")
    return "\n".join(lines) + "\n"


# Compact cells set inline: a page's own table style (the docs site's theme pads every cell
# and gives each column a minimum width) must not squeeze the diagnosis into a sliver.
_CELL = "padding: 2px 10px; min-width: 0; vertical-align: top"


def report_html(title: str, summary: str, rows: Sequence[ReportRow]) -> str:
    """A report as an HTML table for Jupyter: ``title`` (may be empty), the ``summary`` line,
    then one row per number; a right number's diagnosis is left blank."""
    head = "".join(f'<th style="{_CELL}">{h}</th>' for h in ("answer", "is", "yours", "right",
                                                            "", "diagnosis"))
    body = []
    for r in rows:
        colour = "#2a7a2a" if r.ok else "#d62728"
        note = "" if r.ok else f"<b>{html.escape(r.diagnosis)}</b>: {html.escape(r.message)}"
        cells = [f"<code>{html.escape(r.key)}</code>", html.escape(r.what),
                 html.escape(number(r.given, ".6g")), html.escape(number(r.expected, ".6g"))]
        body.append("<tr>" + "".join(f'<td style="{_CELL}; white-space: nowrap">{c}</td>'
                                     for c in cells)
                    + f'<td style="{_CELL}; color: {colour}">{"right" if r.ok else "wrong"}</td>'
                    + f'<td style="{_CELL}; text-align: left; min-width: 20em">{note}</td></tr>')
    heading = f"<p><b>{html.escape(title)}</b></p>" if title else ""
    return (f"{heading}<p>{html.escape(summary)}</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def check_tolerances(rtol: Any, atol: Any) -> tuple[float, float]:
    """(rtol, atol) as floats, or a ValueError naming the bad one: each must be a finite
    number >= 0. NaN is refused, since it compares false with everything (every number would
    be marked wrong), and so is inf (every number would be right)."""
    out = []
    for name, x in (("rtol", rtol), ("atol", atol)):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{name} must be a number; got {type(x).__name__}")
        x = float(x)
        if not (math.isfinite(x) and x >= 0):
            raise ValueError(f"{name} must be a finite number >= 0; got {x}")
        out.append(x)
    return out[0], out[1]


def is_close(given: float, expected: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """|given − expected| <= atol + rtol·|expected| (NaN is never close)."""
    return abs(given - expected) <= atol + rtol * abs(expected)


def read_number(value: Any, where: str) -> float:
    """A learner's answer as a float: an int or float (not a bool), finite; else AnswerError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnswerError(f"{where}: the answer must be a number; got {type(value).__name__} "
                          f"{value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise AnswerError(f"{where}: the answer must be a finite number; got {value!r}")
    return f


# ---------------------------------------------------------------------------------------------
# Building a graph a learner can name.


def from_equations(equations: str | Sequence[str], values: Mapping[str, float]) -> Value:
    """The graph of equations such as ``["d = 2*b", "e = a + d", "L = c*e"]`` (or one string,
    one equation per line or separated by ';'), each node labelled with its name; returns the
    last one. ``values`` gives every input a number. A single expression without ``=`` is
    parsed as ``autograd.teach.expr.parse`` does (sub-expressions labelled with their text)."""
    lines = ([e for part in equations.replace(";", "\n").splitlines() for e in [part.strip()]
              if e] if isinstance(equations, str) else [e.strip() for e in equations])
    if not lines:
        raise ValueError("no equations given")
    env: dict[str, Any] = {}
    for name, v in values.items():
        env[name] = Value(read_number(v, f"the value of {name}"), label=name)
    if len(lines) == 1 and "=" not in lines[0]:
        return parse(lines[0], env)
    root: Value | None = None
    for k, line in enumerate(lines):
        name, sep, rhs = line.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ValueError(f"equation {k + 1} {line!r} must read NAME = EXPRESSION, such as "
                             "'d = 2*b'")
        if name in env:
            raise ValueError(f"equation {k + 1} {line!r}: {name} already has a value")
        node = parse(rhs, env, label=False)
        if node.label is not None:
            raise ValueError(f"equation {k + 1} {line!r} only renames {node.label}: each "
                             "equation must compute something")
        node.label = name
        env[name] = node
        root = node
    assert root is not None
    return root


# ---------------------------------------------------------------------------------------------
# Reading the keys.

_PARTIAL = re.compile(r"^\s*[d∂](.+?)\s*/\s*[d∂](.+?)\s*$")


@dataclass(frozen=True)
class _Question:
    key: str
    kind: str  # "gradient", "local" or "value"
    node: Value  # the node whose gradient or value is asked; for a local: the consumer
    operand: Value | None = None  # for a local: the operand


class _Graph:
    """Everything the checker needs about the graph, computed once without touching .grad."""

    def __init__(self, root: Value) -> None:
        self.root = root
        self.order = toposort(root)
        self.names = node_names(root)
        self.by_name: dict[str, list[Value]] = {}
        for v in self.order:
            self.by_name.setdefault(self.names[v], []).append(v)
        self.grads: dict[Value, float] = {root: 1.0}
        for node in reverse_order(root):
            g = self.grads.get(node, 0.0)
            for parent, local in node.edges():
                self.grads[parent] = self.grads.get(parent, 0.0) + _f(local) * g
        # Each node's consumers, with the local derivative summed over the edges between them.
        self.consumers: dict[Value, dict[Value, float]] = {v: {} for v in self.order}
        for c in self.order:
            for p, local in c.edges():
                self.consumers[p][c] = self.consumers[p].get(c, 0.0) + _f(local)

    def node(self, name: str, key: str) -> Value:
        found = self.by_name.get(name)
        if not found:
            near = difflib.get_close_matches(name, list(self.by_name), n=3)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise AnswerError(f"answer {key!r}: no node named {name!r} in the graph{hint} "
                              f"(the names are {', '.join(self.by_name)})")
        if len(found) > 1:
            raise AnswerError(f"answer {key!r}: {len(found)} nodes are named {name!r}; label "
                              "them apart to ask about one")
        return found[0]

    def question(self, key: str) -> _Question:
        text = key.strip()
        if text in self.by_name:
            return _Question(key, "gradient", self.node(text, key))
        for suffix, kind in ((".grad", "gradient"), (".data", "value")):
            if text.endswith(suffix) and text[:-len(suffix)] in self.by_name:
                return _Question(key, kind, self.node(text[:-len(suffix)], key))
        m = _PARTIAL.match(text)
        if m:
            of, wrt = self.node(m.group(1), key), self.node(m.group(2), key)
            if of in self.consumers[wrt]:
                return _Question(key, "local", of, wrt)
            if of is self.root:
                return _Question(key, "gradient", wrt)
            symbol = partial(self.names[of], self.names[wrt])
            raise AnswerError(f"answer {key!r}: {self.names[of]} does not use "
                              f"{self.names[wrt]} directly, so {symbol} "
                              f"is no local derivative (the operands of {self.names[of]} are "
                              f"{', '.join(self.names[p] for p in of.parents) or 'none'})")
        if text.endswith((".grad", ".data")):
            self.node(text.rsplit(".", 1)[0], key)
        self.node(text, key)  # raises, naming the nearest names
        raise AssertionError("unreachable")


def _f(x: Any) -> float:
    return float(x.data) if isinstance(x, Value) else float(x)


# ---------------------------------------------------------------------------------------------
# The diagnoses.


@dataclass
class _Checker:
    graph: _Graph
    grads: dict[Value, float] = field(default_factory=dict)  # the learner's, by node
    locals: dict[tuple[Value, Value], float] = field(default_factory=dict)  # (consumer, operand)
    values: dict[Value, float] = field(default_factory=dict)
    rtol: float = RTOL
    atol: float = ATOL

    def close(self, given: float, expected: float) -> bool:
        return is_close(given, expected, self.rtol, self.atol)

    def name(self, v: Value) -> str:
        return self.graph.names[v]

    def d(self, v: Value) -> str:
        return partial(self.name(self.graph.root), self.name(v))

    # What the learner used for each quantity: their number where given, else the right one.

    def their_grad(self, v: Value) -> float:
        return self.grads.get(v, self.graph.grads[v])

    def their_value(self, v: Value) -> float:
        return self.values.get(v, v.data)

    def their_local(self, c: Value, p: Value) -> float:
        return self.locals.get((c, p), self.graph.consumers[p][c])

    def wrong_grad(self, v: Value) -> bool:
        return v in self.grads and not self.close(self.grads[v], self.graph.grads[v])

    def wrong_value(self, v: Value) -> bool:
        return v in self.values and not self.close(self.values[v], v.data)

    def wrong_local(self, c: Value, p: Value) -> bool:
        return (c, p) in self.locals and not self.close(self.locals[(c, p)],
                                                        self.graph.consumers[p][c])

    def local_at_their_values(self, c: Value, p: Value,
                              only: Value | None = None) -> float | None:
        """d c / d p evaluated at the learner's forward values (``only``: at that one of theirs
        and the right others); None outside the op's domain."""
        prim = PRIMITIVES.get(c.op)
        if prim is None:
            return None

        def value(v: Value) -> float:
            return self.their_value(v) if only is None or v is only else v.data

        operands = [value(v) for v in c.parents]
        try:
            y = (value(c) if c in self.values and (only is None or only is c)
                 else prim.run_forward(FLOAT, operands, c.param))
            partials = prim.run_partials(FLOAT, operands, y, c.param)
        except (ArithmeticError, ValueError):
            return None
        return sum(float(d) for v, d in zip(c.parents, partials) if v is p)

    def forward_blame(self, c: Value, p: Value) -> list[Value]:
        """The learner's wrong forward values that change the local derivative d c / d p."""
        right = self.graph.consumers[p][c]
        out = []
        for v in dict.fromkeys((*c.parents, c)):
            if self.wrong_value(v):
                x = self.local_at_their_values(c, p, only=v)
                if x is not None and not self.close(x, right):
                    out.append(v)
        return out

    # One answer each.

    def gradient(self, q: _Question, given: float) -> Mark:
        n = q.node
        g = self.graph.grads[n]
        mark = _Marker(q.key, "gradient", self.d(n), given, g)
        if self.close(given, g):
            return mark.right()
        consumers = self.graph.consumers[n]
        up = {c: self.their_grad(c) for c in consumers}
        wrong_up = [c for c in consumers if self.wrong_grad(c)]
        wrong_loc = [c for c in consumers if self.wrong_local(c, n)]
        theirs = sum(up[c] * self.their_local(c, n) for c in consumers)
        if wrong_up and self.close(given, theirs):
            names = [self.d(c) for c in wrong_up]
            return mark.wrong(Diagnosis.UPSTREAM,
                              f"it follows correctly from your {_join(names)}, which "
                              f"{'is' if len(names) == 1 else 'are'} wrong; fix that first "
                              f"(with the right numbers it is {number(g)})", names)
        if wrong_loc and self.close(given, theirs):
            c = wrong_loc[0]
            symbol = partial(self.name(c), self.name(n))
            return mark.wrong(Diagnosis.LOCAL,
                              f"the upstream numbers were right, but your local derivative "
                              f"{symbol} = {number(self.locals[(c, n)])} is wrong: "
                              + self.local_message(c, n, self.locals[(c, n)]), [symbol])
        bad_values = list(dict.fromkeys(v for c in consumers for v in self.forward_blame(c, n)))
        if bad_values:
            at_theirs = [self.local_at_their_values(c, n) for c in consumers]
            if all(x is not None for x in at_theirs):
                value = sum(up[c] * (x or 0.0) for c, x in zip(consumers, at_theirs))
                if self.close(given, value):
                    names = [self.name(v) for v in bad_values]
                    return mark.wrong(Diagnosis.FORWARD, self.forward_message(bad_values, g),
                                      names)
        up_right = sum(up[c] * consumers[c] for c in consumers)
        edges = [(c, i, _f(loc)) for c in consumers for i, (p, loc) in enumerate(c.edges())
                 if p is n]
        if len(edges) >= 2:
            missing = self.missing_paths(n, given, edges, up)
            if missing is not None:
                return mark.wrong(Diagnosis.MISSING_PATH, missing[0], missing[1])
        if self.close(-given, up_right) and not self.close(0.0, up_right):
            return mark.wrong(Diagnosis.SIGN, f"it is {number(g)}: the size is right, the sign "
                                              "is flipped")
        if len(edges) == 1 and not wrong_up:
            c = edges[0][0]
            upstream = up[c]
            if upstream != 0:
                used = given / upstream
                local = edge_formula(c, edges[0][1], self.graph.names)
                where = (f"with {self.d(c)} = {number(upstream)}, "
                         if c is not self.graph.root else "")
                return mark.wrong(Diagnosis.LOCAL,
                                  f"{where}the local derivative {local.symbol} you used must "
                                  f"have been {number(used)}; it is {local.text()}"
                                  + self.other_operand(c, n, used),
                                  [local.symbol])
        return mark.wrong(Diagnosis.WRONG, self.gradient_hint(n))

    def missing_paths(self, n: Value, given: float, edges: list[tuple[Value, int, float]],
                      up: Mapping[Value, float]) -> tuple[str, list[str]] | None:
        """The message and the consumers left out, when the learner's number is the sum over
        a proper subset of the edges out of ``n``; else None."""
        terms = [up[c] * local for c, _, local in edges]
        k = len(edges)
        # 4096 subsets at most; beyond that only single omissions are tried.
        sizes: Iterable[int] = range(k - 1, 0, -1) if k <= 12 else [k - 1]
        for size in sizes:
            for kept in combinations(range(k), size):
                left_out = [j for j in range(k) if j not in kept]
                if self.close(0.0, sum(terms[j] for j in left_out)):
                    continue
                if not self.close(given, sum(terms[j] for j in kept)):
                    continue
                names = [self.name(edges[j][0]) for j in left_out]
                parts = " + ".join(f"{number(terms[j])} through {self.name(edges[j][0])}"
                                   for j in range(k))
                ones = "the one" if len(names) == 1 else "the ones"
                return (f"{self.name(n)} feeds {self.name(self.graph.root)} along {k} edges, "
                        f"{self.d(n)} = {parts} = {number(sum(terms))}; your {number(given)} "
                        f"leaves out {ones} through {_join(names)}", names)
        return None

    def local(self, q: _Question, given: float) -> Mark:
        c, p = q.node, q.operand
        assert p is not None
        right = self.graph.consumers[p][c]
        symbol = partial(self.name(c), self.name(p))
        mark = _Marker(q.key, "local", symbol, given, right)
        if self.close(given, right):
            return mark.right()
        bad = self.forward_blame(c, p)
        at_theirs = self.local_at_their_values(c, p)
        if bad and at_theirs is not None and self.close(given, at_theirs):
            return mark.wrong(Diagnosis.FORWARD, self.forward_message(bad, right),
                              [self.name(v) for v in bad])
        if self.close(-given, right) and not self.close(0.0, right):
            return mark.wrong(Diagnosis.SIGN, f"it is {self.formula(c, p)}: the size is right, "
                                              "the sign is flipped")
        return mark.wrong(Diagnosis.LOCAL, self.local_message(c, p, given))

    def formula(self, c: Value, p: Value) -> str:
        """The local derivative written out, e.g. ``∂e/∂a = b = −3``, summed over repeats."""
        edges = [edge_formula(c, i, self.graph.names) for i, v in enumerate(c.parents) if v is p]
        if len(edges) == 1:
            return edges[0].text()
        total = sum(e.value for e in edges)
        return f"{edges[0].symbol} = {' + '.join(e.formula or number(e.value) for e in edges)}" \
               f" = {number(total)} ({len(edges)} edges: {self.name(p)} is used "\
               f"{len(edges)} times)"

    def local_message(self, c: Value, p: Value, given: float) -> str:
        text = f"it is {self.formula(c, p)}"
        if c is self.graph.root and self.close(given, self.graph.grads[p]):
            text += (f"; {number(given)} is the gradient {self.d(p)} over every path, the local "
                     "derivative is this edge's alone")
        return text + self.other_operand(c, p, given)

    def other_operand(self, c: Value, p: Value, used: float) -> str:
        """A hint when the number is another operand's local derivative (mul: a for b)."""
        for i, (v, local) in enumerate(c.edges()):
            constant = not v.label and not v.parents  # no one differentiates by a constant
            if v is not p and not constant and self.close(used, _f(local)) and not self.close(
                    used, self.graph.consumers[p][c]):
                other = edge_formula(c, i, self.graph.names)
                return f"; {number(used)} is {other.text()}, the other operand's"
        return ""

    def forward_message(self, bad: list[Value], right: float) -> str:
        parts = [f"{self.name(v)} = {number(self.values[v])} (it is {number(v.data)})"
                 for v in bad]
        return (f"it follows from your forward value{'s' if len(bad) > 1 else ''} "
                f"{_join(parts)}; with the right values it is {number(right)}")

    def gradient_hint(self, n: Value) -> str:
        consumers = self.graph.consumers[n]
        terms = []
        for c in consumers:
            for i, v in enumerate(c.parents):
                if v is n:
                    e = edge_formula(c, i, self.graph.names)
                    terms.append(e.symbol if c is self.graph.root
                                 else f"{self.d(c)} · {e.symbol}")
        rule = " + ".join(terms) if terms else "1"
        return f"it is {number(self.graph.grads[n])} ({self.d(n)} = {rule})"

    def value(self, q: _Question, given: float) -> Mark:
        n = q.node
        mark = _Marker(q.key, "value", self.name(n), given, n.data)
        if self.close(given, n.data):
            return mark.right()
        bad = [v for v in n.parents if self.wrong_value(v)]
        prim = PRIMITIVES.get(n.op)
        if bad and prim is not None:
            try:
                theirs = float(prim.run_forward(FLOAT, [self.their_value(v) for v in n.parents],
                                                n.param))
            except (ArithmeticError, ValueError):
                theirs = math.nan
            if self.close(given, theirs):
                names = [self.name(v) for v in bad]
                return mark.wrong(Diagnosis.UPSTREAM,
                                  f"{self.name(n)} = {equation(n, self.graph.names)} follows "
                                  f"correctly from your {_join(names)}, which "
                                  f"{'is' if len(names) == 1 else 'are'} wrong; with the right "
                                  f"values it is {number(n.data)}", names)
        if self.close(-given, n.data) and not self.close(0.0, n.data):
            return mark.wrong(Diagnosis.SIGN, f"it is {number(n.data)}: the size is right, the "
                                              "sign is flipped")
        what = (f"{self.name(n)} = {equation(n, self.graph.names)} = {number(n.data)}"
                if n.parents else f"{self.name(n)} is given: {number(n.data)}")
        return mark.wrong(Diagnosis.WRONG, f"it is {number(n.data)} ({what})")


@dataclass
class _Marker:
    key: str
    kind: str
    symbol: str
    given: float
    expected: float

    def right(self) -> Mark:
        return Mark(self.key, self.kind, self.symbol, self.given, self.expected,
                    Diagnosis.RIGHT)

    def wrong(self, diagnosis: Diagnosis, message: str, blame: Sequence[str] = ()) -> Mark:
        return Mark(self.key, self.kind, self.symbol, self.given, self.expected, diagnosis,
                    message, tuple(blame))


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def check_by_hand(root: Value, answers: Mapping[str, Any], rtol: float = RTOL,
                  atol: float = ATOL) -> HandCheck:
    """Check numbers worked out by hand for the graph of ``root`` (see the module doc for the
    keys): each is marked right or wrong within ``atol + rtol·|right|``, and each wrong one is
    diagnosed. Unknown names and non-numbers raise ``AnswerError``, all of them at once; a
    ``None`` answer is a blank and is skipped. No ``.grad`` is read or written."""
    if not isinstance(root, Value):
        raise TypeError(f"check_by_hand takes the output Value of a graph; got "
                        f"{type(root).__name__}")
    if not isinstance(answers, Mapping):
        raise TypeError(f"answers must be a mapping of names to numbers; got "
                        f"{type(answers).__name__}")
    rtol, atol = check_tolerances(rtol, atol)
    graph = _Graph(root)
    checker = _Checker(graph, rtol=rtol, atol=atol)
    questions: list[tuple[_Question, float]] = []
    problems: list[str] = []
    seen: dict[tuple[str, Value, Value | None], str] = {}
    for key, raw in answers.items():
        if raw is None:
            continue
        try:
            if not isinstance(key, str):
                raise AnswerError(f"answer keys are names (str); got {type(key).__name__} "
                                  f"{key!r}")
            q = graph.question(key)
            given = read_number(raw, f"answer {key!r}")
        except AnswerError as e:
            problems.append(str(e))
            continue
        ident = (q.kind, q.node, q.operand)
        if ident in seen:
            problems.append(f"answers {seen[ident]!r} and {key!r} ask the same thing")
            continue
        seen[ident] = key
        questions.append((q, given))
        if q.kind == "gradient":
            checker.grads[q.node] = given
        elif q.kind == "value":
            checker.values[q.node] = given
        else:
            assert q.operand is not None
            checker.locals[(q.node, q.operand)] = given
    if problems:
        raise AnswerError("cannot check these answers:\n  " + "\n  ".join(problems))
    # Values in forward order, then from the output back: a node's gradient, then the local
    # derivatives on the edges into it (which its operands' gradients use).
    position = {v: i for i, v in enumerate(graph.order)}
    n_nodes = len(graph.order)

    def rank(item: tuple[_Question, float]) -> tuple[int, int, int]:
        q = item[0]
        if q.kind == "value":
            return (0, position[q.node], 0)
        back = n_nodes - position[q.node]
        if q.kind == "gradient":
            return (1, back, -1)
        assert q.operand is not None
        return (1, back, position[q.operand])

    marks = []
    for q, given in sorted(questions, key=rank):
        if q.kind == "gradient":
            marks.append(checker.gradient(q, given))
        elif q.kind == "local":
            marks.append(checker.local(q, given))
        else:
            marks.append(checker.value(q, given))
    title = f"your derivation of {graph.names[root]} = {equation(root, graph.names)}"
    return HandCheck(tuple(marks), rtol, atol, title)
