"""Worksheets: the blank table a learner fills in by hand, and its answer key.

``worksheet(L)`` lists every node's forward value, every edge's local derivative and every
gradient, keyed as ``check_by_hand`` reads them (``e.data``, ``de/da``, ``a``), as Markdown and
CSV. ``expression_exercise(seed)`` makes a fresh small problem, a different one per seed, so a
teacher can give each student their own and grade the returned CSV (``edgegrad check``).
"""

from __future__ import annotations

import csv
import io
import math
import pathlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

from ..backward import chain_rule, reverse_order, toposort
from ..files.atomic import atomic_write
from ..files.read import MAX_INPUT_BYTES, parse_float, read_csv
from ..value import Value
from .formulas import EdgeFormula, edge_formulas, equation, node_names, number, partial
from .handcheck import AnswerError, from_equations, read_number

__all__ = ["MAX_EXAMPLES", "Answers", "Row", "Worksheet", "expression_exercise",
           "from_problem", "read_answers_csv", "worksheet"]

Answers = dict[str, Union[float, list[Union[float, None]]]]
"""Answers by key: a number, or one number per example (None for a blank)."""

COLUMNS = ("key", "example", "what", "answer")
"""The CSV columns of a blank worksheet; the key adds ``how``, the formula."""


@dataclass(frozen=True)
class Row:
    """One blank of a worksheet: its key, what it asks in words, the right answer and how it
    is computed (the key's ``how`` column); ``example`` for a per-example number."""

    key: str
    what: str
    answer: float
    how: str = ""
    example: int | None = None


@dataclass(frozen=True)
class Worksheet:
    """A problem's blank table and answer key, as Markdown and CSV (``save`` writes all four)."""

    title: str
    given: str
    rows: tuple[Row, ...]
    note: str = ""

    def markdown(self, key: bool = False, fmt: str = ".4g") -> str:
        """The worksheet as Markdown: blank, or with ``key`` the answers and how they follow."""
        per_example = any(r.example is not None for r in self.rows)
        head = ["key", *(["example"] if per_example else []), "what",
                *(["how", "answer"] if key else ["your answer"])]
        lines = [f"# {'Answer key' if key else 'Worksheet'}: {self.title}", "",
                 f"Given: {self.given}.", ""]
        if self.note:
            lines += [self.note, ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            example = "" if r.example is None else str(r.example)
            cells = [f"`{r.key}`", *([example] if per_example else []),
                     _md(r.what)]
            cells += [_md(r.how), number(r.answer, fmt)] if key else [" "]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def csv(self, key: bool = False) -> str:
        """The worksheet as CSV (columns key, example, what, answer; the key adds how). The
        key's answers are written in full (``repr``), so they check clean when fed back."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*COLUMNS, *(["how"] if key else [])])
        for r in self.rows:
            example = "" if r.example is None else str(r.example)
            answer = repr(r.answer) if key else ""
            writer.writerow([r.key, example, r.what, answer, *([r.how] if key else [])])
        return out.getvalue()

    def answers(self) -> Answers:
        """The key as answers for ``check_by_hand`` (or ``nn.grading.network.grade``)."""
        out: Answers = {}
        for r in self.rows:
            if r.example is None:
                out[r.key] = r.answer
            else:
                got = out.setdefault(r.key, [])
                assert isinstance(got, list)
                got.extend([None] * (r.example + 1 - len(got)))
                got[r.example] = r.answer
        return out

    def save(self, folder: str | pathlib.Path) -> list[pathlib.Path]:
        """Write worksheet.md, worksheet.csv, key.md and key.csv into ``folder`` (each
        atomically); return their paths."""
        where = pathlib.Path(folder)
        where.mkdir(parents=True, exist_ok=True)
        files = {"worksheet.md": self.markdown(), "worksheet.csv": self.csv(),
                 "key.md": self.markdown(key=True), "key.csv": self.csv(key=True)}
        return [atomic_write(where / name, text) for name, text in files.items()]

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def worksheet(root: Value, fmt: str = ".4g") -> Worksheet:
    """The worksheet of the graph of ``root``: each computed node's value (forward order),
    each edge's local derivative, then each gradient from the output back. Inputs are given;
    unlabelled constants (the 2 of ``2*b``) are neither asked nor differentiated by. Linear in
    the size of the graph: each node's operands and uses are listed once."""
    if not isinstance(root, Value):
        raise TypeError(f"worksheet takes the output Value of a graph; got "
                        f"{type(root).__name__}")
    order = toposort(root)
    names = node_names(root)

    def constant(v: Value) -> bool:
        return not v.label and not v.op  # an unlabelled leaf (a leaf's op is '')

    asked = [v for v in order if not constant(v)]
    seen: dict[str, Value] = {}
    for v in asked:
        if names[v] in seen:
            raise ValueError(f"two nodes are named {names[v]!r}: label them apart so each "
                             "blank names one node")
        seen[names[v]] = v
    grads: dict[Value, float] = {root: 1.0}
    for _, _, p, local, g in chain_rule(reverse_order(root), lambda node: grads.get(node, 0.0)):
        grads[p] = grads.get(p, 0.0) + _f(local) * g
    rows: list[Row] = []
    for v in order:
        if v.op:
            rows.append(Row(f"{names[v]}.data", f"the value of {names[v]} = "
                                                f"{equation(v, names, fmt)}",
                            v.data, equation(v, names, fmt)))
    top = names[root]
    uses: dict[Value, list[Value]] = {v: [] for v in order}  # each node's consumers, edge by edge
    for c in order:
        if not c.op:
            continue
        formulas = edge_formulas(c, names, fmt)
        by_operand: dict[Value, list[EdgeFormula]] = {}  # c's edges, grouped by operand
        for e in formulas:
            by_operand.setdefault(e.parent, []).append(e)
            uses[e.parent].append(c)
        for p, edges in by_operand.items():
            if constant(p):
                continue
            how = " + ".join(e.formula or number(e.value, fmt) for e in edges)
            rows.append(Row(f"d{names[c]}/d{names[p]}",
                            f"the local derivative {edges[0].symbol}",
                            math.fsum(e.value for e in edges), how))
    for v in reverse_order(root):
        if v is root or constant(v):
            continue
        terms = []
        for c in uses[v]:
            local = partial(names[c], names[v])
            terms.append(local if c is root else f"{partial(top, names[c])} · {local}")
        rows.append(Row(names[v], f"the gradient {partial(top, names[v])}", grads[v],
                        " + ".join(terms)))
    given = ", ".join(f"{names[v]} = {number(v.data, fmt)}" for v in
                      sorted((v for v in order if not v.op and v.label),
                             key=lambda v: names[v]))
    note = ("Fill in every blank: first the forward values, then each local derivative, then "
            f"the gradients from {top} back (keys as `edgegrad check` reads them: `e.data` a "
            "value, `de/da` a local derivative, `a` the gradient).")
    return Worksheet(f"{top} = {equation(root, names, fmt)}", given, tuple(rows), note)


def _f(x: Any) -> float:
    return float(x.data) if isinstance(x, Value) else float(x)


MAX_EXAMPLES = 10_000
"""The largest ``example`` index + 1 ``read_answers_csv`` reads when not told the problem's
number of examples (a problem worked by hand has a handful)."""


def read_answers_csv(source: str | pathlib.Path, *, examples: int | None = None,
                     limit: int = MAX_INPUT_BYTES) -> Answers:
    """Answers from a filled-in worksheet CSV (a path, or the CSV text itself when it has a
    newline): the ``key`` and ``answer`` columns, and ``example`` for per-example numbers.

    The file is read by ``autograd.files.read_csv`` (at most ``limit`` bytes, bounded fields).
    Every ``example`` index is checked against ``examples``, the problem's number of examples
    (or ``MAX_EXAMPLES`` when not given), before any list is made for it. Blank answers are
    skipped; a non-number (``１`` and other non-ASCII digits included) is an ``AnswerError``
    naming its row."""
    if examples is not None and (isinstance(examples, bool) or not isinstance(examples, int)
                                 or examples < 1):
        raise ValueError(f"examples must be a positive int or None; got {examples!r}")
    if isinstance(source, str) and "\n" in source:
        name = "the answers"
        try:
            rows = list(csv.reader(io.StringIO(source.removeprefix("\ufeff"))))
        except csv.Error as e:
            raise AnswerError(f"the answers are not CSV: {e}") from None
    else:
        name = f"answers file {source}"
        rows = read_csv(source, what="answers file", limit=limit)
    fields = [f.strip() for f in rows[0]] if rows else []
    missing = [c for c in ("key", "answer") if c not in fields]
    if missing:
        raise AnswerError(f"{name}: the CSV needs the columns key and answer (a worksheet's "
                          f"own); it lacks {', '.join(missing)} (it has "
                          f"{', '.join(repr(f) for f in fields[:10]) or 'none'})")
    column: dict[str, int] = {f: fields.index(f) for f in ("key", "answer", "example")
                              if f in fields}
    most = MAX_EXAMPLES if examples is None else examples

    def cell(row: list[str], field: str) -> str:
        k = column.get(field)
        return row[k].strip() if k is not None and k < len(row) else ""

    out: Answers = {}
    for k, row in enumerate(rows[1:], start=2):
        key, answer = cell(row, "key"), cell(row, "answer")
        if not key or not answer:
            continue
        try:
            value = read_number(parse_float(answer.replace("\u2212", "-")), f"row {k} ({key})")
        except ValueError as e:
            raise AnswerError(f"{name} row {k} ({key}): the answer must be a number; "
                              f"{e}") from None
        example = cell(row, "example")
        if not example:
            if key in out:
                raise AnswerError(f"{name} row {k}: {key} is answered twice")
            out[key] = value
            continue
        if not (example.isascii() and example.isdigit()):
            raise AnswerError(f"{name} row {k} ({key}): example must be 0, 1, ...; got "
                              f"{example[:20]!r}")
        # The index is checked before the list grows to it: "example 10**12" allocates nothing.
        if len(example) > 9 or int(example) >= most:
            of = (f"the problem has {most} example(s), 0 to {most - 1}" if examples is not None
                  else f"at most {MAX_EXAMPLES:,} are read")
            raise AnswerError(f"{name} row {k} ({key}): example {example[:20]}; {of}")
        got = out.setdefault(key, [])
        if not isinstance(got, list):
            raise AnswerError(f"{name} row {k}: {key} is answered both per example and as a "
                              "whole")
        n = int(example)
        got.extend([None] * (n + 1 - len(got)))
        if got[n] is not None:
            raise AnswerError(f"{name} row {k}: {key} for example {n} is answered twice")
        got[n] = value
    return out


# ---------------------------------------------------------------------------------------------
# Exercises.

_NAMES = ("d", "e", "f", "g", "h", "k")


def expression_exercise(seed: int) -> tuple[dict[str, Any], Value]:
    """A fresh small problem for ``seed``: three inputs with small integer values and three
    to five equations of + − * (sometimes a square, sometimes a node used twice), the last named
    L. Returns the problem (``{"expression": [...], "values": {...}}``, what ``edgegrad
    check`` reads) and its graph."""
    rng = random.Random(seed)
    values = {name: float(rng.choice([-3, -2, -1, 1, 2, 3])) for name in ("a", "b", "c")}
    unused = ["a", "b", "c"]
    made: list[str] = []
    equations: list[str] = []
    reused = squared = False
    while len(equations) < 3 or len(unused) > 1:
        name = _NAMES[len(equations)]
        x = unused.pop(rng.randrange(len(unused)))
        late = len(equations) >= 3  # from the fourth equation on, every one joins two
        if not squared and not late and rng.random() < 0.15:
            rhs = f"{x}**2"
            squared = True
        else:
            if unused and (late or rng.random() < 0.8):
                y = unused.pop(rng.randrange(len(unused)))
            elif not reused:
                # A node used twice: its gradient has two paths to add up.
                y = rng.choice([v for v in [*made, "a", "b", "c"] if v != x])
                reused = True
            else:
                y = str(rng.choice([2, 3]))
            op = rng.choice(["+", "-", "*"])
            rhs = f"{x} {op} {y}" if op != "*" else f"{x}*{y}"
        equations.append(f"{name} = {rhs}")
        made.append(name)
        unused.append(name)
    last = equations[-1].split("=", 1)[1].strip()
    equations[-1] = f"L = {last}"
    problem: dict[str, Any] = {"kind": "expression", "expression": equations, "values": values}
    return problem, from_equations(equations, values)


def from_problem(problem: Mapping[str, Any]) -> Value:
    """The graph of an expression problem, ``{"expression": ..., "values": {...}}`` (what
    ``expression_exercise`` makes and ``edgegrad check`` reads); see ``from_equations``."""
    expr = problem.get("expression")
    if not isinstance(expr, (str, list)) or (isinstance(expr, list)
                                             and not all(isinstance(e, str) for e in expr)):
        raise AnswerError("an expression problem needs \"expression\": a string, or a list of "
                          "equations such as [\"d = 2*b\", \"L = c*d\"]")
    values = problem.get("values", {})
    if not isinstance(values, dict):
        raise AnswerError("\"values\" must map each input's name to a number")
    return from_equations(expr, {str(k): read_number(v, f"the value of {k}")
                                 for k, v in values.items()})
