"""The chain rule written out: ``explain(L, a)`` lists every path from ``a`` to ``L``.

Each path is the product of its edges' local derivatives, in symbols, as formulas in the nodes'
names and in numbers; their sum is ∂L/∂a, what ``a.grad`` holds after ``L.backward()`` (for a
leaf that starts at 0):

    ∂L/∂a = ∂L/∂d · ∂d/∂e · ∂e/∂a = f · 1 · b = (−2)(1)(−3) = 6

The number of paths can grow exponentially with the depth of a graph (a ladder of n rungs has
2^n), so beyond ``max_paths`` the explanation gives their count and the per-node form instead,
∂L/∂n = Σ over consumers c of ∂L/∂c · ∂c/∂n, node by node from ``L`` back to ``a``: the sum
backward computes, with each edge visited once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..backward import chain_rule, reverse_order
from ..ops import PRIMITIVES
from ..value import Value
from .formulas import EdgeFormula, edge_formula, edge_formulas, node_names, number, partial

__all__ = ["Explanation", "NodeTerm", "PathTerm", "count_paths", "explain"]

MAX_PATHS = 20
"""Default: more paths than this are counted, not listed."""


@dataclass(frozen=True)
class PathTerm:
    """One path from the variable to the output: its edges' local derivatives, from the output
    down (∂L/∂d, ∂d/∂e, ∂e/∂a), whose product is this path's share of the gradient."""

    edges: tuple[EdgeFormula, ...]

    @property
    def value(self) -> float:
        """The product of the local derivatives along the path (1 for the empty path)."""
        out = 1.0
        for e in self.edges:
            out *= e.value
        return out

    def parts(self, fmt: str = ".4g", latex: bool = False) -> list[str]:
        """The product three ways, then its value: symbols, formulas, numbers, product."""
        if not self.edges:
            return ["1"]
        dot = r" \cdot " if latex else " · "
        symbols = dot.join(e.symbol_latex if latex else e.symbol for e in self.edges)
        formulas = dot.join(_formula(e, fmt, latex) for e in self.edges)
        if len(self.edges) == 1:
            numbers = number(self.edges[0].value, fmt, latex)
        else:
            numbers = "".join(_paren(number(e.value, fmt, latex), latex) for e in self.edges)
        return _dedupe([symbols, formulas, numbers, number(self.value, fmt, latex)])


@dataclass(frozen=True)
class NodeTerm:
    """The per-node form at one node n: ∂L/∂n = Σ over consumer edges (c, i) of ∂L/∂c · ∂c/∂n.

    ``terms`` pairs each consumer edge's local derivative with ∂L/∂c; ``grad`` is their sum.
    """

    node: Value
    grad: float
    terms: tuple[tuple[EdgeFormula, float], ...]


def _formula(e: EdgeFormula, fmt: str, latex: bool) -> str:
    text = e.formula_latex if latex else e.formula
    return text or number(e.value, fmt, latex)


def _paren(text: str, latex: bool) -> str:
    return rf"\left({text}\right)" if latex else f"({text})"


def _dedupe(parts: list[str]) -> list[str]:
    out: list[str] = []
    for p in parts:
        if not out or out[-1] != p:
            out.append(p)
    return out


def _consumers(order: list[Value]) -> dict[Value, list[tuple[Value, int]]]:
    """Each node's consumer edges (c, i), with c.parents[i] the node, in a stable order."""
    out: dict[Value, list[tuple[Value, int]]] = {v: [] for v in order}
    for c in reversed(order):  # reverse_order is output first; list consumers input side first
        for i, p in enumerate(c.parents):
            out[p].append((c, i))
    return out


def count_paths(root: Value, wrt: Value) -> int:
    """How many paths lead from ``wrt`` to ``root`` (edges counted with repeats: ``a*a`` has
    two). Computed node by node, so a count of 2^100 costs 100 steps, not 2^100."""
    counts = {root: 1}
    for node in reverse_order(root):
        k = counts.get(node, 0)
        for parent in node.parents:
            counts[parent] = counts.get(parent, 0) + k
    if wrt not in counts:
        raise ValueError(f"{wrt!r} is not in the graph of {root!r}: no path leads from it")
    return counts[wrt]


@dataclass(frozen=True)
class Explanation:
    """∂root/∂wrt by the chain rule: every path's product and their sum, or (beyond
    ``max_paths``) the per-node form. Prints as text, renders as math in Jupyter."""

    root: Value
    wrt: Value
    names: dict[Value, str]
    count: int  # the number of paths from wrt to root
    paths: tuple[PathTerm, ...] | None  # None when there are more than max_paths
    nodes: tuple[NodeTerm, ...]  # the per-node form (when paths is None), root side first
    total: float  # the sum of the paths' products (per-node form: the sum backward forms)
    max_paths: int
    fmt: str = ".4g"

    @property
    def symbol(self) -> str:
        """∂L/∂a, in the nodes' names."""
        return partial(self.names[self.root], self.names[self.wrt])

    def rows(self, latex: bool = False) -> list[tuple[str, list[str]]]:
        """The explanation as rows (left side, the chain of equal right sides); a row with an
        empty chain is a line of words."""
        fmt, names = self.fmt, self.names
        head = partial(names[self.root], names[self.wrt], latex)
        root = names[self.root]
        what = (f"{self.count} path{'s' if self.count != 1 else ''} from {names[self.wrt]} "
                f"to {root}")
        if self.paths is None:
            note = (f"{what}, too many to list (max_paths={self.max_paths}); per node instead, "
                    f"from {root} back to {names[self.wrt]}: ∂{root}/∂n = Σ over consumers c "
                    f"of ∂{root}/∂c · ∂c/∂n")
            return [(note, []), *(self._node_row(t, latex) for t in self.nodes)]
        if len(self.paths) == 1:
            return [(what, []), (head, _dedupe([head, *self.paths[0].parts(fmt, latex)])[1:]
                                 or ["1"])]
        out: list[tuple[str, list[str]]] = [(what + "; the chain rule adds them up", [])]
        for k, path in enumerate(self.paths):
            out.append((f"path {k + 1}", path.parts(fmt, latex)))
        terms = " + ".join(_paren(number(p.value, fmt, latex), latex) if p.value < 0
                           else number(p.value, fmt, latex) for p in self.paths)
        out.append((head, _dedupe([terms, number(self.total, fmt, latex)])))
        return out

    def _node_row(self, t: NodeTerm, latex: bool) -> tuple[str, list[str]]:
        fmt = self.fmt
        root = self.names[self.root]
        dot = r" \cdot " if latex else " · "
        symbols, formulas, numbers = [], [], []
        for e, up in t.terms:
            symbol = e.symbol_latex if latex else e.symbol
            formula = _formula(e, fmt, latex)
            if e.node is self.root:  # ∂L/∂L = 1: the term is the local derivative alone
                symbols.append(symbol)
                formulas.append(formula)
                numbers.append(number(e.value, fmt, latex))
            else:
                upstream = partial(root, self.names[e.node], latex)
                symbols.append(upstream + dot + symbol)
                formulas.append(upstream + dot + formula)
                numbers.append(_paren(number(up, fmt, latex), latex)
                               + _paren(number(e.value, fmt, latex), latex))
        head = partial(root, self.names[t.node], latex)
        parts = [head, " + ".join(symbols), " + ".join(formulas), " + ".join(numbers),
                 number(t.grad, fmt, latex)]
        return head, _dedupe(parts)[1:]

    def text(self) -> str:
        """The explanation as plain text."""
        lines = []
        for left, chain in self.rows():
            if not chain:
                lines.append(f"{self.symbol}: {left}")
            elif left.startswith("path "):
                lines.append(f"  {left}: " + " = ".join(chain))
            else:
                lines.append(f"  {left} = " + " = ".join(chain))
        return "\n".join(lines) + "\n"

    def latex(self) -> str:
        """The explanation as LaTeX math (an ``aligned`` block)."""
        lines = []
        for left, chain in self.rows(latex=True):
            if not chain:
                lines.append(r"&\text{" + _tex(left) + "}")
            elif left.startswith("path "):
                lines.append(r"\text{" + left + r"} &\quad " + " = ".join(chain))
            else:
                lines.append(f"{left} &= " + " = ".join(chain))
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"

    def __str__(self) -> str:
        return self.text()

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"


def _tex(s: str) -> str:
    """Words inside ``\\text{}``: LaTeX's special characters escaped, ∂, Σ and · as math."""
    special = {"_": r"\_", "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$", "{": r"\{",
               "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
               "\\": r"\textbackslash{}"}
    s = "".join(special.get(c, c) for c in s)
    return s.replace("∂", r"$\partial$").replace("Σ", r"$\Sigma$").replace("·", r"$\cdot$")


def explain(root: Value, wrt: Value, max_paths: int = MAX_PATHS, fmt: str = ".4g",
            names: dict[Value, str] | None = None) -> Explanation:
    """∂root/∂wrt written out by the chain rule: every path from ``wrt`` to ``root`` as the
    product of its edges' local derivatives (symbols, formulas, numbers), and their sum.

    The sum equals ``wrt.grad`` after ``root.backward()`` (a leaf starting from 0). More than
    ``max_paths`` paths are counted, not listed: the per-node form is given instead. No
    ``.grad`` is read or written. ``names`` (default ``node_names(root)``) names the nodes.
    """
    if not isinstance(root, Value) or not isinstance(wrt, Value):
        raise TypeError(f"explain takes two Values, the output and a node of its graph; got "
                        f"{type(root).__name__} and {type(wrt).__name__}")
    if max_paths < 0:
        raise ValueError(f"max_paths must be >= 0; got {max_paths}")
    format(1.5, fmt)
    count = count_paths(root, wrt)
    names = node_names(root) if names is None else names
    order = reverse_order(root)  # the output first, each node after all its consumers
    grads: dict[Value, float] = {root: 1.0}  # ∂root/∂n for every n: the per-node form's numbers
    for _, _, parent, local, g in chain_rule(order, lambda node: grads.get(node, 0.0)):
        lf = float(local.data) if isinstance(local, Value) else float(local)
        grads[parent] = grads.get(parent, 0.0) + lf * g
    consumers = _consumers(order)
    rendered: dict[Value, tuple[EdgeFormula, ...]] = {}

    def formula(c: Value, i: int) -> EdgeFormula:
        prim = PRIMITIVES.get(c.op)
        if prim is not None and prim.arity != -1:  # one, two or three operands: this edge's
            return edge_formula(c, i, names, fmt)
        # An n-ary op's edges all rendered the first time one is needed: asked edge by edge,
        # a wide sum would copy its n operands n times.
        got = rendered.get(c)
        if got is None:
            got = rendered[c] = edge_formulas(c, names, fmt)
        return got[i]

    paths: tuple[PathTerm, ...] | None = None
    if count <= max_paths:
        found: list[PathTerm] = []
        # Depth first from wrt up to the root, one stack entry per partial path: no recursion.
        # A partial path is a linked list, its last edge first, so extending one copies nothing.
        Link = tuple[tuple[Value, int], Any]
        stack: list[tuple[Value, Link | None]] = [(wrt, None)]
        while stack:
            node, walked = stack.pop()
            if node is root:
                edges = []
                while walked is not None:  # the edge into the root first, down to wrt
                    (c, i), walked = walked
                    edges.append(formula(c, i))
                found.append(PathTerm(tuple(edges)))
                continue
            for c, i in reversed(consumers[node]):
                stack.append((c, ((c, i), walked)))
        paths = tuple(found)
        total = 0.0
        for p in paths:
            total += p.value
        return Explanation(root, wrt, names, count, paths, (), total, max_paths, fmt)
    # The per-node form: every node on a path from wrt to the root, the root's side first.
    above = {wrt}
    for node in reversed(order):  # inputs first: a node is above wrt if a parent is
        if any(p in above for p in node.parents):
            above.add(node)
    nodes = tuple(
        NodeTerm(n, grads[n], tuple((formula(c, i), grads[c])
                                    for c, i in consumers[n] if c in above))
        for n in order if n in above and n is not root)
    total = grads[wrt]
    return Explanation(root, wrt, names, count, paths, nodes, total, max_paths, fmt)
