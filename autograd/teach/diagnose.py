"""What went wrong with a learner's number for an expression: the diagnoses of ``check_by_hand``.

A wrong number is diagnosed in the order backward runs (values first, then from the output
back): it follows correctly from a wrong number upstream (named); the upstream numbers were
right but a local derivative was wrong (which, and what it should be); it follows from a wrong
forward value; one of several paths into the node was left out; a sign slip; else it is wrong.

Every diagnosis looks at the node's own edges, never at the whole graph, and what several
diagnoses share is computed once (``Facts``, and the caches of ``Checker``), so checking a whole
sheet costs time linear in the size of the graph:

- each node's uses (consumer, operand position, local derivative) are listed once;
- "a path left out" tries every proper subset of the uses up to 12 of them (4,096 sums), and
  beyond that each single omission, each in one step from prefix and suffix sums;
- an n-ary op (a sum of many operands) has its local derivatives at the learner's forward
  values evaluated once, with all of them, not once per operand; the hint "that is the other
  operand's derivative" is given for ops of fixed arity only (mul's a for b).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate, combinations
from typing import Any

from ..backends import FLOAT
from ..backward import reverse_order, toposort
from ..ops import PRIMITIVES
from ..value import Value
from .formulas import EdgeFormula, edge_formulas, equation, node_names, number, partial
from .report import ATOL, RTOL, Mark, Marking, is_close, join

__all__ = ["Checker", "Diagnosis", "Facts", "Question"]


class Diagnosis(enum.Enum):
    """What went wrong with a number, from the slips a learner makes working by hand."""

    RIGHT = "right"
    UPSTREAM = "follows from a wrong number upstream"
    FORWARD = "follows from a wrong forward value"
    LOCAL = "a wrong local derivative"
    MISSING_PATH = "a path was left out"
    SIGN = "sign slip"
    WRONG = "wrong"


Use = tuple[Value, int, float]
"""One use of a node: its consumer c, the position i with c.parents[i] the node, and the
local derivative on that edge."""


class Facts:
    """Everything the checker needs about the graph, computed once without touching .grad."""

    def __init__(self, root: Value) -> None:
        self.root = root
        self.order = toposort(root)
        self.names = node_names(root)
        self.grads: dict[Value, float] = {root: 1.0}
        for node in reverse_order(root):
            g = self.grads.get(node, 0.0)
            for parent, local in node.edges():
                self.grads[parent] = self.grads.get(parent, 0.0) + _f(local) * g
        # Each node's consumers, with the local derivative summed over the edges between them;
        # its uses edge by edge (consumers in forward order, then operand order); and for each
        # (consumer, operand) pair the positions of its edges.
        self.consumers: dict[Value, dict[Value, float]] = {v: {} for v in self.order}
        self.uses: dict[Value, list[Use]] = {v: [] for v in self.order}
        self.positions: dict[tuple[Value, Value], list[int]] = {}
        for c in self.order:
            for i, (p, local) in enumerate(c.edges()):
                lf = _f(local)
                self.consumers[p][c] = self.consumers[p].get(c, 0.0) + lf
                self.uses[p].append((c, i, lf))
                self.positions.setdefault((c, p), []).append(i)


@dataclass(frozen=True)
class Question:
    """One answer's question: ``kind`` "gradient", "local" or "value" of ``node`` (for a local:
    the consumer, with ``operand`` the operand)."""

    key: str
    kind: str
    node: Value
    operand: Value | None = None


def _f(x: Any) -> float:
    return float(x.data) if isinstance(x, Value) else float(x)


@dataclass
class Checker:
    """Marks the learner's numbers: their given gradients, local derivatives and values."""

    graph: Facts
    grads: dict[Value, float] = field(default_factory=dict)  # the learner's, by node
    locals: dict[tuple[Value, Value], float] = field(default_factory=dict)  # (consumer, operand)
    values: dict[Value, float] = field(default_factory=dict)
    rtol: float = RTOL
    atol: float = ATOL
    # Computed once per node, when a diagnosis first needs it.
    _operands: dict[Value, tuple[Value, ...]] = field(default_factory=dict)
    _formulas: dict[Value, tuple[EdgeFormula, ...]] = field(default_factory=dict)
    _at_theirs: dict[Value, list[float] | None] = field(default_factory=dict)
    _blame_all: dict[Value, list[Value]] = field(default_factory=dict)

    def mark(self, q: Question, given: float) -> Mark[Diagnosis]:
        """The mark of the learner's number ``given`` for the question ``q``."""
        if q.kind == "gradient":
            return self.gradient(q, given)
        if q.kind == "local":
            return self.local(q, given)
        return self.value(q, given)

    def close(self, given: float, expected: float) -> bool:
        return is_close(given, expected, self.rtol, self.atol)

    def name(self, v: Value) -> str:
        return self.graph.names[v]

    def d(self, v: Value) -> str:
        return partial(self.name(self.graph.root), self.name(v))

    def marking(self, q: Question, what: str, given: float, expected: float
                ) -> Marking[Mark[Diagnosis]]:
        return Marking(Mark, q.key, what, given, expected, Diagnosis.RIGHT, kind=q.kind)

    # The graph's parts, each read once.

    def operands(self, c: Value) -> tuple[Value, ...]:
        """c.parents, kept: the view is built anew at each read, a wide sum's in n steps."""
        got = self._operands.get(c)
        if got is None:
            got = self._operands[c] = c.parents
        return got

    def formulas(self, c: Value) -> tuple[EdgeFormula, ...]:
        """The formulas of the edges into c, rendered once."""
        got = self._formulas.get(c)
        if got is None:
            got = self._formulas[c] = edge_formulas(c, self.graph.names)
        return got

    @staticmethod
    def fixed_arity(c: Value) -> bool:
        prim = PRIMITIVES.get(c.op)
        return prim is not None and prim.arity != -1

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

    def partials_at(self, c: Value, only: Value | None) -> list[float] | None:
        """c's local derivatives at the learner's forward values (``only``: at that one of
        theirs and the right others); None outside the op's domain."""
        prim = PRIMITIVES.get(c.op)
        if prim is None:
            return None

        def value(v: Value) -> float:
            return self.their_value(v) if only is None or v is only else v.data

        operands = [value(v) for v in self.operands(c)]
        try:
            y = (value(c) if c in self.values and (only is None or only is c)
                 else prim.run_forward(FLOAT, operands, c.param))
            return [float(d) for d in prim.run_partials(FLOAT, operands, y, c.param)]
        except (ArithmeticError, ValueError):
            return None

    def local_at_their_values(self, c: Value, p: Value,
                              only: Value | None = None) -> float | None:
        """d c / d p evaluated at the learner's forward values (``only``: at that one of theirs
        and the right others), summed over the edges; None outside the op's domain."""
        if only is None:
            if c not in self._at_theirs:
                self._at_theirs[c] = self.partials_at(c, None)
            partials = self._at_theirs[c]
        else:
            partials = self.partials_at(c, only)
        if partials is None:
            return None
        return sum(partials[i] for i in self.graph.positions[(c, p)])

    def forward_blame(self, c: Value, p: Value) -> list[Value]:
        """The learner's wrong forward values that change the local derivative d c / d p. For
        an n-ary op: all its wrong values together, when they change it (module doc)."""
        right = self.graph.consumers[p][c]
        if not self.fixed_arity(c):
            if c not in self._blame_all:
                self._blame_all[c] = [v for v in dict.fromkeys((*self.operands(c), c))
                                      if self.wrong_value(v)]
            bad = self._blame_all[c]
            x = self.local_at_their_values(c, p) if bad else None
            return bad if x is not None and not self.close(x, right) else []
        out = []
        for v in dict.fromkeys((*self.operands(c), c)):
            if self.wrong_value(v):
                x = self.local_at_their_values(c, p, only=v)
                if x is not None and not self.close(x, right):
                    out.append(v)
        return out

    # One answer each.

    def gradient(self, q: Question, given: float) -> Mark[Diagnosis]:
        n = q.node
        g = self.graph.grads[n]
        mark = self.marking(q, self.d(n), given, g)
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
                              f"it follows correctly from your {join(names)}, which "
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
        edges = self.graph.uses[n]
        if len(edges) >= 2:
            missing = self.missing_paths(n, given, edges, up)
            if missing is not None:
                return mark.wrong(Diagnosis.MISSING_PATH, missing[0], missing[1])
        if self.close(-given, up_right) and not self.close(0.0, up_right):
            return mark.wrong(Diagnosis.SIGN, f"it is {number(g)}: the size is right, the sign "
                                              "is flipped")
        if len(edges) == 1 and not wrong_up:
            c, i, _ = edges[0]
            upstream = up[c]
            if upstream != 0:
                used = given / upstream
                local = self.formulas(c)[i]
                where = (f"with {self.d(c)} = {number(upstream)}, "
                         if c is not self.graph.root else "")
                return mark.wrong(Diagnosis.LOCAL,
                                  f"{where}the local derivative {local.symbol} you used must "
                                  f"have been {number(used)}; it is {local.text()}"
                                  + self.other_operand(c, n, used),
                                  [local.symbol])
        return mark.wrong(Diagnosis.WRONG, self.gradient_hint(n))

    def missing_paths(self, n: Value, given: float, edges: list[Use],
                      up: Mapping[Value, float]) -> tuple[str, list[str]] | None:
        """The message and the consumers left out, when the learner's number is the sum over
        a proper subset of the edges out of ``n``; else None."""
        terms = [up[c] * local for c, _, local in edges]
        k = len(edges)
        for left_out, kept in _omissions(terms):
            if self.close(0.0, sum(terms[j] for j in left_out)) or not self.close(given, kept):
                continue
            names = [self.name(edges[j][0]) for j in left_out]
            shown = [f"{number(terms[j])} through {self.name(edges[j][0])}"
                     for j in range(min(k, SUBSETS_UP_TO))]
            parts = " + ".join(shown) + (f" + ... ({k:,} terms)" if k > len(shown) else "")
            ones = "the one" if len(names) == 1 else "the ones"
            return (f"{self.name(n)} feeds {self.name(self.graph.root)} along {k} edges, "
                    f"{self.d(n)} = {parts} = {number(sum(terms))}; your {number(given)} "
                    f"leaves out {ones} through {join(names)}", names)
        return None

    def local(self, q: Question, given: float) -> Mark[Diagnosis]:
        c, p = q.node, q.operand
        assert p is not None
        right = self.graph.consumers[p][c]
        symbol = partial(self.name(c), self.name(p))
        mark = self.marking(q, symbol, given, right)
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
        formulas = self.formulas(c)
        edges = [formulas[i] for i in self.graph.positions[(c, p)]]
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
        """A hint when the number is another operand's local derivative (mul: a for b); for
        ops of fixed arity (an n-ary sum's derivatives are all alike)."""
        if not self.fixed_arity(c):
            return ""
        for i, (v, local) in enumerate(c.edges()):
            constant = not v.label and not v.op  # no one differentiates by a constant
            if v is not p and not constant and self.close(used, _f(local)) and not self.close(
                    used, self.graph.consumers[p][c]):
                return f"; {number(used)} is {self.formulas(c)[i].text()}, the other operand's"
        return ""

    def forward_message(self, bad: list[Value], right: float) -> str:
        parts = [f"{self.name(v)} = {number(self.values[v])} (it is {number(v.data)})"
                 for v in bad]
        return (f"it follows from your forward value{'s' if len(bad) > 1 else ''} "
                f"{join(parts)}; with the right values it is {number(right)}")

    def gradient_hint(self, n: Value) -> str:
        terms = []
        for c, _, _ in self.graph.uses[n]:
            symbol = partial(self.name(c), self.name(n))
            terms.append(symbol if c is self.graph.root else f"{self.d(c)} · {symbol}")
        rule = " + ".join(terms) if terms else "1"
        return f"it is {number(self.graph.grads[n])} ({self.d(n)} = {rule})"

    def value(self, q: Question, given: float) -> Mark[Diagnosis]:
        n = q.node
        mark = self.marking(q, self.name(n), given, n.data)
        if self.close(given, n.data):
            return mark.right()
        operands = self.operands(n)
        bad = [v for v in operands if self.wrong_value(v)]
        prim = PRIMITIVES.get(n.op)
        if bad and prim is not None:
            try:
                theirs = float(prim.run_forward(FLOAT, [self.their_value(v) for v in operands],
                                                n.param))
            except (ArithmeticError, ValueError):
                theirs = math.nan
            if self.close(given, theirs):
                names = [self.name(v) for v in bad]
                return mark.wrong(Diagnosis.UPSTREAM,
                                  f"{self.name(n)} = {equation(n, self.graph.names)} follows "
                                  f"correctly from your {join(names)}, which "
                                  f"{'is' if len(names) == 1 else 'are'} wrong; with the right "
                                  f"values it is {number(n.data)}", names)
        if self.close(-given, n.data) and not self.close(0.0, n.data):
            return mark.wrong(Diagnosis.SIGN, f"it is {number(n.data)}: the size is right, the "
                                              "sign is flipped")
        what = (f"{self.name(n)} = {equation(n, self.graph.names)} = {number(n.data)}"
                if operands else f"{self.name(n)} is given: {number(n.data)}")
        return mark.wrong(Diagnosis.WRONG, f"it is {number(n.data)} ({what})")


SUBSETS_UP_TO = 12
"""Up to this many uses, every proper subset is tried (4,096 sums); beyond, single omissions."""


def _omissions(terms: list[float]) -> Iterator[tuple[tuple[int, ...], float]]:
    """The sets of uses that may have been left out, the smallest first, each with the sum of
    the others: every proper subset's complement for a few uses; for many, each single use,
    its sum from prefix and suffix sums (one step each, where adding up the rest would make
    the search quadratic)."""
    k = len(terms)
    if k > SUBSETS_UP_TO:
        prefix = list(accumulate(terms, initial=0.0))  # prefix[j] = terms[0] + ... + terms[j-1]
        suffix = list(accumulate(reversed(terms), initial=0.0))[::-1]  # suffix[j]: terms[j:]
        for j in range(k):
            yield (j,), prefix[j] + suffix[j + 1]
        return
    for size in range(k - 1, 0, -1):
        for kept in combinations(range(k), size):
            left_out = tuple(j for j in range(k) if j not in kept)
            yield left_out, sum(terms[j] for j in kept)
