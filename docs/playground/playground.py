"""The playground's Python: what the docs site's playground page runs in Pyodide.

The page's worker loads the project's own ``autograd`` and ``nn`` (the same source files) and
this module, and calls the functions below; each returns a JSON text the page reads. Nothing
here is a port: the graph is parsed by ``autograd.teach.expr``, drawn by ``to_dot``, stepped by
``Player``, checked by ``check_by_hand`` and trained by ``nn.fit``. The module needs no
browser, so plain pytest checks its logic in CPython (tests/playground/).

Input is read the way ``edgegrad draw`` reads it: the expression as typed, the values as its
``NAME=VALUE`` arguments, and a URL's query (``?expr=c*(a%2B2*b)&a=3&b=1&c=-2``) is turned into
exactly that typed input before it is read.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

from autograd import Value, check_by_hand, no_grad, reverse_order, to_dot, toposort
from autograd.drawing.player import Player
from autograd.teach.expr import ExpressionError, parse
from autograd.teach.formulas import edge_formula, node_names, number, partial
from autograd.teach.handcheck import AnswerError
from nn import DATASETS, MLP, SGD, fit
from nn.cli.draw import MAX_EDGES, MAX_VALUES, _assignments
from nn.plots import classify

EXAMPLES: dict[str, tuple[str, str]] = {
    "Jurafsky & Martin: L = c·(a + 2b)": ("c*(a+2*b)", "a=3 b=1 c=-2"),
    "Karpathy: L = (a·b + c)·f": ("(a*b + c)*f", "a=2 b=-3 c=10 f=-2"),
    "a neuron: tanh(x1·w1 + x2·w2 + b)": ("tanh(x1*w1 + x2*w2 + b)",
                                          "x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432"),
    "a value used twice: a·a + a": ("a*a + a", "a=3"),
    "sigmoid of a line: 1/(1 + exp(-(w·x + b)))": ("1/(1 + exp(-(w*x + b)))", "w=2 x=0.5 b=-1"),
}
"""Textbook examples by title: (expression, values as ``edgegrad draw`` takes them)."""

FIRST = "Jurafsky & Martin: L = c·(a + 2b)"
"""The example the page opens on."""

MAX_DRAWN = 60
"""Graphs of more values are drawn with sub-expressions collapsed (``to_dot``'s max_nodes)."""

DATASET_NAMES = tuple(DATASETS)
"""The 2-D data sets of ``nn.data`` the page trains on."""

MAX_SAMPLES = 400
"""The most points a data set in the page may have: an epoch stays a few seconds at most."""

MAX_WIDTH = 32
"""The widest hidden layer the page builds."""

MAX_LAYERS = 3
"""The most hidden layers the page builds."""

GRID = 24
"""Cells per side of the decision boundary's grid."""


class InputError(ValueError):
    """Input the page refuses; ``field`` names the box it came from ("expr" or "values")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------
# Reading input: typed, or from the URL


def split_values(text: str) -> list[str]:
    """The values box as ``edgegrad draw``'s arguments: ``"a=3 b=1"`` -> ``["a=3", "b=1"]``
    (commas separate too, so ``a=3, b=1`` reads the same)."""
    return text.replace(",", " ").split()


def read_query(query: str) -> tuple[str, str]:
    """A page address's query (``?expr=...&a=3``) as typed input: the expression and the
    values box. Each parameter but ``expr`` is one ``NAME=VALUE`` argument, in order; an
    address without ``expr`` opens the first example."""
    expression: str | None = None
    values: list[str] = []
    for name, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if name == "expr":
            expression = value
        else:
            values.append(f"{name}={value}")
    if expression is None:
        return EXAMPLES[FIRST]
    return expression, " ".join(values)


def share_query(expression: str, values: str) -> str:
    """The query that reopens this input: ``?expr=c*(a%2B2*b)&a=3&b=1&c=-2``."""

    def q(text: str) -> str:
        return quote(text, safe="*()")

    parts = [f"expr={q(expression)}"]
    for item in split_values(values):
        name, _, value = item.partition("=")
        parts.append(f"{q(name)}={q(value)}")
    return "?" + "&".join(parts)


def read_values(text: str) -> dict[str, float]:
    """The values box read as ``edgegrad draw`` reads its arguments; a value must also be
    finite, since a learner's numbers and the drawing need real numbers."""
    try:
        values = _assignments(split_values(text))
    except ValueError as e:
        raise InputError("values", str(e)) from None
    for name, x in values.items():
        if not math.isfinite(x):
            raise InputError("values", f"the value of {name} must be a finite number; got {x}")
    return values


# ---------------------------------------------------------------------------------------------
# The graph


def _groups(root: Value, names: Mapping[Value, str], most: int) -> dict[Value, str]:
    """``to_dot``'s groups that leave at most ``most`` boxes drawn: the graph's largest
    sub-expressions of at most S values each, with S as small as that allows. Each group is a
    sub-expression whose consumer is bigger than S; a shared node goes with the first."""
    order = toposort(root)
    below: dict[Value, set[Value]] = {}  # every node a node is computed from, itself included
    for v in order:
        below[v] = {v}.union(*(below[p] for p in v.parents))
    size = {v: len(below[v]) for v in order}

    def grouping(limit: int) -> dict[Value, Value]:
        top: dict[Value, Value] = {}  # node -> the sub-expression it is drawn in
        for node in reverse_order(root):  # every consumer comes before its operands
            for p in node.parents:
                if p in top:
                    continue
                if node in top:
                    top[p] = top[node]
                elif size[p] <= limit and p.parents:
                    top[p] = p
        return top

    def drawn(top: dict[Value, Value]) -> int:
        members: dict[Value, int] = {}
        for head in top.values():
            members[head] = members.get(head, 0) + 1
        # a group of one or two stays open (to_dot's rule), so its nodes are drawn
        return (len(order) - len(top) + sum(1 if c >= 3 else c for c in members.values()))

    # Bigger sub-expressions hide more: the smallest S that fits, by bisection.
    lo, hi = 3, len(order)
    while lo < hi:
        mid = (lo + hi) // 2
        if drawn(grouping(mid)) <= most:
            hi = mid
        else:
            lo = mid + 1
    top = grouping(lo)
    seen: dict[str, int] = {}
    label: dict[Value, str] = {}
    for head in dict.fromkeys(top.values()):
        name = names[head].replace("/", "\u2215")  # "/" would nest groups
        seen[name] = seen.get(name, 0) + 1
        label[head] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return {v: label[head] for v, head in top.items()}


class Graph:
    """An expression's graph after backward, as the page shows it."""

    def __init__(self, expression: str, values: str) -> None:
        self.expression = expression
        self.values = values
        numbers = read_values(values)
        self.leaves = {name: Value(x, label=name) for name, x in numbers.items()}
        try:
            self.root = parse(expression, self.leaves)
        except (ExpressionError, ValueError, TypeError) as e:
            raise InputError("expr", str(e)) from None
        except ArithmeticError as e:
            raise InputError("expr", f"the expression overflows a float: {e}") from None
        self.order = toposort(self.root)
        self.edges = sum(len(v.parents) for v in self.order)
        if len(self.order) > MAX_VALUES or self.edges > MAX_EDGES:
            raise InputError("expr", f"the graph has {len(self.order)} values and "
                             f"{self.edges} edges; the playground draws at most {MAX_VALUES} "
                             f"values and {MAX_EDGES} edges (as edgegrad draw does)")
        self.root.backward()
        self.names = node_names(self.root)
        self.options: dict[str, Any] = {}
        if len(self.order) > MAX_DRAWN:
            self.options = {"groups": _groups(self.root, self.names, MAX_DRAWN),
                            "max_nodes": MAX_DRAWN}
        self._player: Player | None = None
        self._frames: list[str] = []

    def notice(self) -> str:
        """What the drawing leaves out, or an empty text."""
        notes = []
        unused = [n for n, v in self.leaves.items() if v not in set(self.order)]
        if unused:
            notes.append(f"not in the expression: {', '.join(unused)}")
        if self.options:
            notes.append(f"the graph has {len(self.order)} values, more than the "
                         f"{MAX_DRAWN} drawn: its largest sub-expressions are collapsed into "
                         "boxes (to_dot's max_nodes)")
        return "; ".join(notes)

    def dot(self) -> str:
        """The drawing's DOT text: values, grads, each edge's local derivative as a formula."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a graph with nothing to collapse is drawn whole
            return to_dot(self.root, show_formula=not self.options, **self.options)

    def summary(self) -> dict[str, Any]:
        """Everything the page shows at once, as JSON-ready data."""
        edges = []
        for node in self.order:
            for i in range(len(node.parents)):
                f = edge_formula(node, i, self.names)
                edges.append({"symbol": f.symbol, "formula": f.formula,
                              "value": number(f.value), "text": f.text()})
        root = self.names[self.root]
        grads = [{"name": name, "symbol": partial(root, name), "grad": number(v.grad)}
                 for name, v in self.leaves.items() if v in set(self.order)]
        return {"ok": True, "expression": self.expression, "values": self.values,
                "query": share_query(self.expression, self.values),
                "name": self.names[self.root], "value": number(self.root.data),
                "grads": grads, "edges": edges, "nodes": len(self.order),
                "steps": self.edges, "notice": self.notice(), "dot": self.dot(),
                "questions": self.questions()}

    def player(self) -> Player:
        """The step-through of the backward pass (made once, on the first step)."""
        if self._player is None:
            try:
                self._player = Player(self.root, show_formula=not self.options, **self.options)
            except ValueError as e:
                raise InputError("expr", str(e)) from None
        return self._player

    def frame(self, k: int) -> dict[str, Any]:
        """Frame ``k`` of the backward pass: its DOT text, its caption and where it is."""
        player = self.player()
        if not self._frames:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # as in dot(): nothing to collapse
                self._frames = player.dot_sources(captions=False)
        n = len(self._frames)
        k = max(0, min(n - 1, int(k)))
        return {"index": k, "count": n, "caption": player.captions[k], "dot": self._frames[k]}

    def questions(self) -> list[dict[str, str]]:
        """The numbers a learner can work out by hand, each with the key ``check_by_hand``
        reads: the forward values of the operations, every local derivative, every grad but
        the output's. A name shared by two nodes (``a*a`` twice) is left out, and so is a
        number written in the expression: no key tells them apart."""
        count: dict[str, int] = {}
        for v in self.order:
            count[self.names[v]] = count.get(self.names[v], 0) + 1
        # A number in the expression (the 2 of 2*b) is no question: it has no name to ask by.
        unique = {v for v in self.order
                  if count[self.names[v]] == 1 and (v.parents or v.label is not None)}
        out: list[dict[str, str]] = []
        for v in self.order:
            if v.parents and v in unique:
                out.append({"key": f"{self.names[v]}.data", "kind": "value",
                            "what": f"value of {self.names[v]}"})
        for v in reversed(self.order):
            for i, p in enumerate(v.parents):
                if v in unique and p in unique and p not in v.parents[:i]:
                    key = f"d{self.names[v]}/d{self.names[p]}"
                    if self._readable(key):
                        out.append({"key": key, "kind": "local",
                                    "what": edge_formula(v, i, self.names).symbol})
        for v in reversed(self.order):
            if v is not self.root and v in unique:
                out.append({"key": f"{self.names[v]}.grad", "kind": "gradient",
                            "what": partial(self.names[self.root], self.names[v])})
        return out

    def _readable(self, key: str) -> bool:
        """Whether ``check_by_hand`` reads ``key`` as meant (a name with "/" may not)."""
        if "/" not in key[1:].replace("/d", "", 1):
            return True
        try:
            check_by_hand(self.root, {key: 0.0})
        except AnswerError:
            return False
        return True

    def check(self, answers: Mapping[str, str]) -> dict[str, Any]:
        """The learner's numbers checked by ``check_by_hand``: a row per number given (blank
        boxes are skipped), each with its diagnosis, as ``edgegrad check`` reports them."""
        given: dict[str, float] = {}
        problems = []
        for key, text in answers.items():
            if not text.strip():
                continue
            try:
                x = float(text.replace("\u2212", "-"))
            except ValueError:
                problems.append(f"{key}: {text!r} is not a number")
                continue
            if not math.isfinite(x):
                problems.append(f"{key}: {text!r} is not a finite number")
                continue
            given[key] = x
        if problems:
            return {"ok": False, "error": "; ".join(problems)}
        if not given:
            return {"ok": False, "error": "fill in at least one number"}
        try:
            report = check_by_hand(self.root, given)
        except AnswerError as e:
            return {"ok": False, "error": str(e)}
        rows = [{"key": m.key, "what": m.what, "given": number(m.given, ".6g"),
                 "expected": number(m.expected, ".6g"), "right": m.ok,
                 "diagnosis": "" if m.ok else m.diagnosis.value, "message": m.message}
                for m in report.marks]
        return {"ok": True, "title": report.title, "summary": report.summary(), "rows": rows,
                "text": str(report)}


# ---------------------------------------------------------------------------------------------
# Training


def read_hidden(text: str) -> list[int]:
    """Hidden layer widths as ``edgegrad train --hidden`` writes them: ``"8,8"``."""
    try:
        widths = [int(w) for w in text.replace(" ", "").split(",") if w]
    except ValueError:
        raise InputError("hidden", f"hidden layers are widths separated by commas, such as "
                         f"8,8; got {text!r}") from None
    if not widths or len(widths) > MAX_LAYERS or not all(1 <= w <= MAX_WIDTH for w in widths):
        raise InputError("hidden", f"give 1 to {MAX_LAYERS} hidden layers of 1 to {MAX_WIDTH} "
                         f"neurons each, such as 8,8; got {text!r}")
    return widths


class Training:
    """An MLP trained on a 2-D data set of ``nn.data`` with the eager engine, an epoch at a
    time (full batch, SGD, hinge loss), so the page can draw between epochs and stop."""

    def __init__(self, dataset: str = "moons", hidden: str = "8,8", lr: float = 0.5,
                 samples: int = 100, seed: int = 1) -> None:
        if dataset not in DATASETS:
            raise InputError("dataset", f"unknown data set {dataset!r}; choose one of "
                             f"{', '.join(DATASETS)}")
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and 0 < lr <= 10):
            raise InputError("lr", f"the learning rate must be a number in (0, 10]; got {lr!r}")
        if not (isinstance(samples, int) and 4 <= samples <= MAX_SAMPLES):
            raise InputError("samples", f"the data set takes 4 to {MAX_SAMPLES} points; "
                             f"got {samples!r}")
        self.data = DATASETS[dataset](n=samples, seed=seed)
        self.loss = "hinge"
        self.ys = self.data.targets(self.loss)
        sizes = [*read_hidden(hidden), self.data.n_outputs(self.loss)]
        self.model = MLP(2, sizes, seed=seed)
        self.optimizer = SGD(self.model.parameters(), lr=float(lr))
        self.epochs = 0
        xs = [p[0] for p in self.data.xs]
        ys = [p[1] for p in self.data.xs]
        pad_x = 0.15 * (max(xs) - min(xs) or 1.0)
        pad_y = 0.15 * (max(ys) - min(ys) or 1.0)
        self.box = (min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y)

    def epoch(self) -> dict[str, Any]:
        """One pass over the data (``nn.fit`` with epochs=1): its loss and accuracy."""
        history = fit(self.model, self.data.xs, self.ys, loss=self.loss,
                      optimizer=self.optimizer, epochs=1, l2=1e-4, progress=False)
        self.epochs += 1
        return {"epoch": self.epochs, "loss": history.loss[-1],
                "accuracy": history.accuracy[-1]}

    def boundary(self, resolution: int = GRID) -> list[list[int]]:
        """The predicted class on a grid over the data (rows from the bottom up)."""
        x0, x1, y0, y1 = self.box
        grid = []
        with no_grad():
            for r in range(resolution):
                y = y0 + (y1 - y0) * (r + 0.5) / resolution
                row = []
                for c in range(resolution):
                    x = x0 + (x1 - x0) * (c + 0.5) / resolution
                    row.append(classify(self.model([x, y]), self.loss))
                grid.append(row)
        return grid

    def picture(self) -> dict[str, Any]:
        """The points, their classes, the box around them and the boundary's grid."""
        return {"points": self.data.xs, "labels": self.data.labels, "box": list(self.box),
                "classes": self.data.n_classes, "grid": self.boundary()}


# ---------------------------------------------------------------------------------------------
# What the worker calls: JSON text in, JSON text out


_state: dict[str, Any] = {}


def _reply(make: Any) -> str:
    try:
        out = make()
    except InputError as e:
        out = {"ok": False, "field": e.field, "error": str(e)}
    return json.dumps(out, allow_nan=True)


def examples() -> str:
    """The examples, in the page's order, and the one it opens on."""
    return json.dumps({"examples": [{"title": t, "expression": e, "values": v}
                                    for t, (e, v) in EXAMPLES.items()], "first": FIRST})


def read_query_json(query: str) -> str:
    """``read_query`` for the page: ``{"expression": ..., "values": ...}``."""
    expression, values = read_query(query)
    return json.dumps({"expression": expression, "values": values})


def time_call(name: str, args_json: str) -> str:
    """How long ``name(*args)`` of this module takes here, in milliseconds (for the
    benchmark, which runs the same call in CPython)."""
    calls: dict[str, Callable[..., str]] = {"build": build, "train_start": train_start,
                                            "train_epoch": train_epoch}
    fn = calls[name]
    args = json.loads(args_json)
    t0 = time.perf_counter()
    reply = json.loads(fn(*args))
    return json.dumps({"ms": (time.perf_counter() - t0) * 1000, "ok": reply.get("ok")})


def build(expression: str, values: str) -> str:
    """Parse, run backward and draw; the page's graph is this one from now on."""

    def make() -> dict[str, Any]:
        _state.pop("graph", None)
        graph = Graph(expression, values)
        _state["graph"] = graph
        return graph.summary()

    return _reply(make)


def _graph() -> Graph:
    graph = _state.get("graph")
    if graph is None:
        raise InputError("expr", "draw an expression first")
    assert isinstance(graph, Graph)
    return graph


def frame(k: int) -> str:
    """Frame ``k`` of the current graph's backward pass."""
    return _reply(lambda: {"ok": True, **_graph().frame(k)})


def check(answers_json: str) -> str:
    """The learner's numbers (a JSON object of key -> text) checked."""
    answers = json.loads(answers_json)
    return _reply(lambda: _graph().check({str(k): str(v) for k, v in answers.items()}))


def train_start(dataset: str, hidden: str, lr: float, samples: int, seed: int) -> str:
    """A fresh model and data set; the picture before the first epoch."""

    def make() -> dict[str, Any]:
        training = Training(dataset, hidden, float(lr), int(samples), int(seed))
        _state["training"] = training
        return {"ok": True, **training.picture()}

    return _reply(make)


def train_epoch(draw: bool = True) -> str:
    """One more epoch; with ``draw``, the boundary's grid after it."""

    def make() -> dict[str, Any]:
        training = _state.get("training")
        if not isinstance(training, Training):
            raise InputError("dataset", "start training first")
        out = {"ok": True, **training.epoch()}
        if draw:
            out["grid"] = training.boundary()
        return out

    return _reply(make)


__all__ = ["EXAMPLES", "Graph", "InputError", "Training", "build", "check", "examples", "frame",
           "read_query", "read_query_json", "read_values", "share_query", "split_values",
           "time_call", "train_epoch", "train_start"]
