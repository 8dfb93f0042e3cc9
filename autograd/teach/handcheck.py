"""Check a learner's own numbers: ``check_by_hand(L, {"a": -2.0, "dd/da": 1, "d.data": 5})``.

Answers are keyed by the nodes' names (labels, else the names drawings use, ``node_names``):

- ``"a"`` or ``"a.grad"``: the gradient ∂L/∂a;
- ``"de/da"`` or ``"∂e/∂a"``: the local derivative of ``e`` with respect to its operand ``a``
  (summed over the edges when ``a`` is used twice, ``a*a``); ``"dL/da"`` with ``L`` the output
  and ``a`` not one of its operands is the gradient, as textbooks write it;
- ``"a.data"``: the forward value.

Every given number is marked right when |yours − right| <= atol + rtol·|right|. A wrong one
is diagnosed (``diagnose``), in the order backward runs (values first, then from the output
back): it follows correctly from a wrong number upstream (named); the upstream numbers were right
but a local derivative was wrong (which, and what it should be); one of several paths into the
node was left out; a sign slip. The report is the shared model of ``report``: ``Mark`` rows in a
``Report``. ``from_equations`` builds a graph whose every node a learner can name.

The cost is linear in the graph and the answers: the equations are parsed one by one, each
with only the names it uses; an unknown name's "did you mean" comes from a bounded search
(``suggest``); each diagnosis looks at the node's own edges (``diagnose``).
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from ..value import Value
from .diagnose import Checker, Diagnosis, Facts, Question
from .expr import FUNCTIONS, ExpressionError, parse
from .formulas import equation, partial
from .report import (
    ATOL,
    RTOL,
    AnswerError,
    Mark,
    Report,
    answer_error,
    check_tolerances,
    is_close,
    read_number,
)
from .suggest import NameIndex, listing

__all__ = ["ATOL", "RTOL", "AnswerError", "Diagnosis", "HandCheck", "Mark", "check_by_hand",
           "check_tolerances", "from_equations", "is_close", "read_number"]


class HandCheck(Report[Mark[Diagnosis]]):
    """The report of ``check_by_hand``: one Mark per given number, in backward order
    (``report["a"]`` is a key's mark). Prints as text, renders as a table in Jupyter."""


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
    _check_names(env)
    root: Value | None = None
    for k, line in enumerate(lines):
        name, sep, rhs = line.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ValueError(f"equation {k + 1} {line!r} must read NAME = EXPRESSION, such as "
                             "'d = 2*b'")
        if name in env:
            raise ValueError(f"equation {k + 1} {line!r}: {name} already has a value")
        _check_names({name: None})
        # parse checks every variable it is given: given only the names this equation uses,
        # the whole system costs linear time instead of equations x names.
        node = parse(rhs, _used(rhs, env), label=False)
        if node.label is not None:
            raise ValueError(f"equation {k + 1} {line!r} only renames {node.label}: each "
                             "equation must compute something")
        node.label = name
        env[name] = node
        root = node
    assert root is not None
    return root


_WORD = re.compile(r"(?<![\w.])[^\W\d]\w*")  # a name; not the e of 1e5, nor a digit run


def _used(rhs: str, env: Mapping[str, Any]) -> dict[str, Any]:
    """The variables of ``env`` that ``rhs`` names; an ExpressionError for a name that is
    neither a variable nor a function (listing a few of the variables)."""
    text = rhs.strip()
    used: dict[str, Any] = {}
    for m in _WORD.finditer(text):
        word = unicodedata.normalize("NFKC", m.group())  # as ast reads names
        if word in env:
            used[word] = env[word]
        elif word not in FUNCTIONS and not keyword.iskeyword(word):
            raise ExpressionError(f"unknown name {word!r}: give it a value ({word}=1.5); names "
                                  f"with values: {listing(sorted(env)) or 'none'}", text, 1,
                                  m.start(), m.end())
    return used


def _check_names(env: Mapping[str, Any]) -> None:
    """The refusals ``parse`` makes of its variables' names, made once for every equation."""
    for name in env:
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a valid variable name")
        if name in FUNCTIONS:
            raise ValueError(f"{name!r} is a function name; choose another variable name")


# ---------------------------------------------------------------------------------------------
# Reading the keys.


class _Keys:
    """The answers' keys read against the graph: each names a node's gradient, value or local
    derivative (module doc)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.by_name: dict[str, list[Value]] = {}
        for v in facts.order:
            self.by_name.setdefault(facts.names[v], []).append(v)
        self._index: NameIndex | None = None

    def node(self, name: str, key: str) -> Value:
        found = self.by_name.get(name)
        if not found:
            if self._index is None:  # built at the first unknown name, then shared
                self._index = NameIndex(self.by_name)
            near = self._index.suggest(name)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise AnswerError(f"answer {key!r}: no node named {name!r} in the graph{hint} "
                              f"(the names are {listing(list(self.by_name))})")
        if len(found) > 1:
            raise AnswerError(f"answer {key!r}: {len(found)} nodes are named {name!r}; label "
                              "them apart to ask about one")
        return found[0]

    def question(self, key: str) -> Question:
        text = key.strip()
        if text in self.by_name:
            return Question(key, "gradient", self.node(text, key))
        for suffix, kind in ((".grad", "gradient"), (".data", "value")):
            if text.endswith(suffix) and text[:-len(suffix)] in self.by_name:
                return Question(key, kind, self.node(text[:-len(suffix)], key))
        pair = _partial_names(text)
        if pair is not None:
            names = self.facts.names
            of, wrt = self.node(pair[0], key), self.node(pair[1], key)
            if of in self.facts.consumers[wrt]:
                return Question(key, "local", of, wrt)
            if of is self.facts.root:
                return Question(key, "gradient", wrt)
            symbol = partial(names[of], names[wrt])
            operands = [names[p] for p in dict.fromkeys(of.parents)]
            raise AnswerError(f"answer {key!r}: {names[of]} does not use {names[wrt]} "
                              f"directly, so {symbol} is no local derivative (the operands of "
                              f"{names[of]} are {listing(operands) or 'none'})")
        if text.endswith((".grad", ".data")):
            self.node(text.rsplit(".", 1)[0], key)
        self.node(text, key)  # raises, naming the nearest names
        raise AssertionError("unreachable")


def _partial_names(text: str) -> tuple[str, str] | None:
    """("e", "a") for "de/da" or "∂e/∂a" (spaces allowed around the slash), else None: the
    first slash followed by d or ∂ and a name splits it. One pass over the text, however many
    slashes and spaces it holds (a regular expression with two lazy groups backtracks)."""
    if len(text) < 4 or text[0] not in "d∂" or "\n" in text:
        return None
    start = 1
    while True:
        slash = text.find("/", start)
        if slash < 0:
            return None
        j = slash + 1
        while j < len(text) and text[j].isspace():
            j += 1
        # The text is stripped: a character after that d ends in a non-blank name.
        if slash > 1 and j + 1 < len(text) and text[j] in "d∂":
            return text[1:slash].rstrip() or text[1:slash], text[j + 1:]
        start = slash + 1


# ---------------------------------------------------------------------------------------------
# Checking.


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
    graph = Facts(root)
    keys = _Keys(graph)
    checker = Checker(graph, rtol=rtol, atol=atol)
    questions: list[tuple[Question, float]] = []
    problems: list[str] = []
    seen: dict[tuple[str, Value, Value | None], str] = {}
    for key, raw in answers.items():
        if raw is None:
            continue
        try:
            if not isinstance(key, str):
                raise AnswerError(f"answer keys are names (str); got {type(key).__name__} "
                                  f"{key!r}")
            q = keys.question(key)
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
        raise answer_error("check", problems)
    # Values in forward order, then from the output back: a node's gradient, then the local
    # derivatives on the edges into it (which its operands' gradients use).
    position = {v: i for i, v in enumerate(graph.order)}
    n_nodes = len(graph.order)

    def rank(item: tuple[Question, float]) -> tuple[int, int, int]:
        q = item[0]
        if q.kind == "value":
            return (0, position[q.node], 0)
        back = n_nodes - position[q.node]
        if q.kind == "gradient":
            return (1, back, -1)
        assert q.operand is not None
        return (1, back, position[q.operand])

    marks = [checker.mark(q, given) for q, given in sorted(questions, key=rank)]
    title = f"your derivation of {graph.names[root]} = {equation(root, graph.names)}"
    return HandCheck(tuple(marks), rtol, atol, title)
