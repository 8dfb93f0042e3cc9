"""Grade a learner's hand-worked backpropagation for a network, naming the textbook slips.

``grade(model, xs, ys, answers, loss="sse")`` checks numbers keyed by the names ``nn`` uses:

- ``layers.1.neurons.0``: the delta δ_j = ∂E_n/∂a_j of that neuron, one number per example
  (a list; a plain number when there is one example);
- ``layers.1.neurons.0.a`` and ``.z``: its pre-activation a_j and output z_j, per example;
- ``layers.1.neurons.0.w.2`` and ``layers.1.neurons.0.b``: ∂E/∂w and ∂E/∂b, summed over the
  examples (E = Σ_n E_n, the convention of ``nn.textbook.deltas``).

The right numbers come from ``textbook.deltas.backprop``. A wrong number is diagnosed, in the order
backward runs: it follows from a wrong number upstream (named), or it is one of the slips the
textbooks warn about (``Slip``): h'(a) left out, h' evaluated at z instead of a, the weights
read row-wise (w_jk for w_kj), gradients not summed over the examples, the ½ of the
sum-of-squares loss dropped or doubled, y − t used as the output delta for an output/loss pair
it does not belong to; else a sign slip; else it is just wrong. Where the slip was made
further up and carried down, the whole slipped pass is recomputed to find it.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autograd.teach.formulas import number
from autograd.teach.handcheck import (
    ATOL,
    RTOL,
    AnswerError,
    ReportRow,
    check_tolerances,
    is_close,
    read_number,
    report_html,
    report_summary,
    report_text,
)
from autograd.teach.worksheet import Row, Worksheet

from ..textbook.deltas import (
    ACTIVATIONS,
    LOSSES,
    Activation,
    DeltaResult,
    Network,
    Target,
    as_network,
    backprop,
)

__all__ = ["Grade", "GradeReport", "Slip", "grade", "network_exercise", "network_problem",
           "network_worksheet"]

MATCHED = {("linear", "sse"), ("sigmoid", "bce"), ("linear", "bce_logits"),
           ("linear", "softmax_ce")}
"""Output activation and loss pairs whose output delta is y − t."""


class Slip(enum.Enum):
    """What went wrong with a number: the textbook slips of hand-worked backpropagation."""

    RIGHT = "right"
    UPSTREAM = "follows from a wrong number upstream"
    H_PRIME_LEFT_OUT = "h'(a) left out"
    H_PRIME_AT_Z = "h' evaluated at z instead of a"
    ROW_WISE = "weights read row-wise (w_jk for w_kj)"
    NOT_SUMMED = "not summed over the examples"
    HALF_SSE = "the ½ of the sum of squares dropped or doubled"
    Y_MINUS_T = "y − t for a mismatched output and loss"
    SIGN = "sign slip"
    WRONG = "wrong"


@dataclass(frozen=True)
class Grade:
    """One graded number: its key (and example), the learner's number, the right one, the
    slip found and a sentence saying what happened."""

    key: str
    example: int | None
    what: str
    given: float
    expected: float
    slip: Slip
    message: str = ""
    blame: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the number is right (within the report's tolerance)."""
        return self.slip is Slip.RIGHT

    @property
    def where(self) -> str:
        """The key, with the example when the number is per example."""
        return self.key if self.example is None else f"{self.key} (example {self.example})"


@dataclass(frozen=True)
class GradeReport:
    """The report of ``grade``: one Grade per number, in backward order. Prints as text,
    renders as a table in Jupyter."""

    grades: tuple[Grade, ...]
    rtol: float
    atol: float
    title: str = ""

    @property
    def ok(self) -> bool:
        """Whether every given number is right."""
        return all(g.ok for g in self.grades)

    @property
    def wrong(self) -> list[Grade]:
        """The wrong numbers, in backward order."""
        return [g for g in self.grades if not g.ok]

    def find(self, key: str, example: int | None = None) -> Grade:
        """The grade of ``key`` (for ``example``, for a per-example number)."""
        for g in self.grades:
            if g.key == key and (example is None or g.example == example):
                return g
        raise KeyError(f"no answer {key!r}{'' if example is None else f' for example {example}'}"
                       " in this report")

    def summary(self) -> str:
        """One line: how many were given, right and wrong, and the tolerance."""
        return report_summary(len(self.grades), len(self.wrong), self.rtol, self.atol)

    def _rows(self) -> list[ReportRow]:
        return [ReportRow(g.where, g.what, g.given, g.expected, g.ok, g.slip.value, g.message)
                for g in self.grades]

    def __str__(self) -> str:
        return report_text(self.title, self.summary(), self._rows())

    def _repr_html_(self) -> str:
        return report_html(self.title, self.summary(), self._rows())


# ---------------------------------------------------------------------------------------------
# Reading the keys.

_KEY = re.compile(r"^layers\.(\d+)\.neurons\.(\d+)(?:\.(a|z|b|w\.(\d+)))?$")

Quantity = tuple[str, int, int, int]
"""(kind, layer, neuron, weight): kind "delta", "a", "z", "w" or "b"; weight -1 unless "w"."""


def _quantity(key: str, net: Network) -> Quantity:
    m = _KEY.match(key.strip()) if isinstance(key, str) else None
    if m is None:
        raise AnswerError(f"answer {key!r}: keys are nn's names, layers.L.neurons.J for a delta, "
                          "with .a or .z for a forward value, .w.I or .b for a gradient")
    layer, neuron = int(m.group(1)), int(m.group(2))
    if layer >= len(net.layers):
        raise AnswerError(f"answer {key!r}: the network has layers 0..{len(net.layers) - 1}")
    if neuron >= net.layers[layer].nout:
        raise AnswerError(f"answer {key!r}: layer {layer} has neurons "
                          f"0..{net.layers[layer].nout - 1}")
    suffix = m.group(3)
    if suffix is None:
        return ("delta", layer, neuron, -1)
    if suffix.startswith("w."):
        weight = int(m.group(4))
        if weight >= net.layers[layer].nin:
            raise AnswerError(f"answer {key!r}: neuron {neuron} of layer {layer} has weights "
                              f"0..{net.layers[layer].nin - 1}")
        return ("w", layer, neuron, weight)
    return (suffix, layer, neuron, -1)


def _key(q: Quantity) -> str:
    kind, layer, neuron, weight = q
    base = f"layers.{layer}.neurons.{neuron}"
    return {"delta": base, "a": f"{base}.a", "z": f"{base}.z", "b": f"{base}.b",
            "w": f"{base}.w.{weight}"}[kind]


# ---------------------------------------------------------------------------------------------
# The delta rule with a slip in it (the right rule without one): a learner's pass, recomputed.


@dataclass(frozen=True)
class _Variant:
    slip: Slip
    layers: frozenset[int]  # where a delta slip is made
    factor: float = 1.0  # HALF_SSE: 2 (½ dropped) or 0.5 (doubled)

    def describe(self, n_layers: int) -> str:
        if self.slip is Slip.HALF_SSE:
            return ("with the ½ of E = ½ Σ (y − t)² dropped (every delta doubled)"
                    if self.factor == 2.0 else "with the ½ applied twice (every delta halved)")
        where = ("every layer" if len(self.layers) == n_layers and n_layers > 1 else
                 ", ".join(f"layer {k}" + (" (the output)" if k == n_layers - 1 else "")
                           for k in sorted(self.layers)))
        return f"with {self.slip.value} at {where}"


def _dh(act: Activation, a: float, z: float, slip: Slip | None) -> float:
    if slip is Slip.H_PRIME_LEFT_OUT:
        return 1.0
    if slip is Slip.H_PRIME_AT_Z:
        return act.dh(z, act.h(z))
    return act.dh(a, z)


def _one_hot(t: list[float], nout: int, classes: bool) -> list[float]:
    if not classes:
        return t
    return [1.0 if k == int(t[0]) else 0.0 for k in range(nout)]


def _deltas(net: Network, result: DeltaResult, n: int, variant: _Variant | None,
            y_minus_t: bool = False) -> list[list[float]] | None:
    """Every layer's deltas for example ``n`` under ``variant`` (None: the right rule); None
    where the slip cannot be made (row-wise weights that do not exist)."""
    ex = result.examples[n]
    loss = LOSSES[result.loss_name]
    last = len(net.layers) - 1
    slip: Slip | None = variant.slip if variant is not None else None
    at = variant.layers if variant is not None else frozenset()
    factor = variant.factor if variant is not None else 1.0
    deltas: list[list[float]] = [[] for _ in net.layers]
    out = ex.layers[last]
    act = ACTIVATIONS[net.layers[last].activation]
    if slip is Slip.Y_MINUS_T:
        t = _one_hot(ex.target, net.nout, loss.classes)
        deltas[last] = [y - tk for y, tk in zip(out.z, t)]
    else:
        s: Slip | None = slip if last in at else None
        deltas[last] = [factor * g * _dh(act, a, z, s)
                        for g, a, z in zip(ex.dE_dy, out.a, out.z)]
    for li in range(last - 1, -1, -1):
        above = net.layers[li + 1]
        act = ACTIVATIONS[net.layers[li].activation]
        stage = ex.layers[li]
        s = slip if li in at else None
        row = []
        for j, (a, z) in enumerate(zip(stage.a, stage.z)):
            if s is Slip.ROW_WISE:
                if j >= above.nout or above.nout > above.nin:
                    return None
                total = sum(above.w[j][k] * deltas[li + 1][k] for k in range(above.nout))
            else:
                total = sum(above.w[k][j] * deltas[li + 1][k] for k in range(above.nout))
            row.append(_dh(act, a, z, s) * total)
        deltas[li] = row
    return deltas


@dataclass(frozen=True)
class _Pass:
    """A whole backward pass: deltas[n][l][j], gradients gw[l][j][i] and gb[l][j]."""

    variant: _Variant
    deltas: list[list[list[float]]]
    gw: list[list[list[float]]]
    gb: list[list[float]]


def _inputs(result: DeltaResult, n: int, layer: int) -> list[float]:
    ex = result.examples[n]
    return ex.x if layer == 0 else ex.layers[layer - 1].z


def _pass(net: Network, result: DeltaResult, variant: _Variant) -> _Pass | None:
    per_example = []
    for n in range(len(result.examples)):
        d = _deltas(net, result, n, variant)
        if d is None:
            return None
        per_example.append(d)
    gw = [[[0.0] * layer.nin for _ in range(layer.nout)] for layer in net.layers]
    gb = [[0.0] * layer.nout for layer in net.layers]
    for n, d in enumerate(per_example):
        for li in range(len(net.layers)):
            zin = _inputs(result, n, li)
            for j, dj in enumerate(d[li]):
                gb[li][j] += dj
                for i, zi in enumerate(zin):
                    gw[li][j][i] += dj * zi
    return _Pass(variant, per_example, gw, gb)


def _variants(net: Network, loss: str) -> list[_Variant]:
    n_layers = len(net.layers)
    every = frozenset(range(n_layers))
    hidden = range(n_layers - 1)
    out: list[_Variant] = []
    if _y_minus_t_applies(net, loss):
        out.append(_Variant(Slip.Y_MINUS_T, frozenset({n_layers - 1})))
    for slip in (Slip.H_PRIME_LEFT_OUT, Slip.H_PRIME_AT_Z):
        out += [_Variant(slip, frozenset({k})) for k in reversed(range(n_layers))]
        if n_layers > 1:
            out.append(_Variant(slip, every))
    out += [_Variant(Slip.ROW_WISE, frozenset({k})) for k in reversed(hidden)]
    if n_layers > 2:
        out.append(_Variant(Slip.ROW_WISE, frozenset(hidden)))
    if loss == "sse":
        out += [_Variant(Slip.HALF_SSE, frozenset(), 2.0),
                _Variant(Slip.HALF_SSE, frozenset(), 0.5)]
    return out


def _y_minus_t_applies(net: Network, loss: str) -> bool:
    return loss in ("sse", "bce", "bce_logits", "softmax_ce") and \
        (net.layers[-1].activation, loss) not in MATCHED


# ---------------------------------------------------------------------------------------------
# Grading.


class _Grader:
    def __init__(self, net: Network, result: DeltaResult,
                 answers: dict[tuple[Quantity, int], float], rtol: float, atol: float) -> None:
        self.net = net
        self.r = result
        self.answers = answers  # (quantity, example or -1) -> the learner's number
        self.rtol = rtol
        self.atol = atol
        self.N = len(result.examples)
        self.last = len(net.layers) - 1
        self.loss = LOSSES[result.loss_name]
        self.passes = [p for v in _variants(net, result.loss_name)
                       if (p := _pass(net, result, v)) is not None]

    def close(self, given: float, expected: float) -> bool:
        return is_close(given, expected, self.rtol, self.atol)

    def true(self, q: Quantity, n: int) -> float:
        kind, li, j, i = q
        if kind == "w":
            return self.r.grad_w[li][j][i]
        if kind == "b":
            return self.r.grad_b[li][j]
        stage = self.r.examples[n].layers[li]
        return {"delta": stage.delta, "a": stage.a, "z": stage.z}[kind][j]

    def theirs(self, q: Quantity, n: int) -> float:
        """The learner's number where given, else the right one."""
        return self.answers.get((q, n), self.true(q, n))

    def wrong(self, q: Quantity, n: int) -> bool:
        return (q, n) in self.answers and not self.close(self.answers[(q, n)], self.true(q, n))

    def zin(self, li: int, i: int, n: int) -> float:
        return self.r.examples[n].x[i] if li == 0 else self.theirs(("z", li - 1, i, -1), n)

    def zin_q(self, li: int, i: int) -> Quantity | None:
        return None if li == 0 else ("z", li - 1, i, -1)

    def name(self, q: Quantity, n: int) -> str:
        return _key(q) if q[0] in ("w", "b") else f"{_key(q)} (example {n})"

    # Each kind of number.

    def grade(self, q: Quantity, n: int, given: float) -> Grade:
        kind = q[0]
        right = self.true(q, n)
        what = {"delta": "δ = ∂E_n/∂a", "a": "a", "z": "z = h(a)", "w": "∂E/∂w",
                "b": "∂E/∂b"}[kind]
        g = _Draft(_key(q), None if kind in ("w", "b") else n, what, given, right)
        if self.close(given, right):
            return g.right()
        found = {"delta": self.delta, "a": self.pre, "z": self.post, "w": self.gradient,
                 "b": self.gradient}[kind](q, n, given)
        if found is not None:
            return g.slip(*found)
        if not self.close(0.0, right) and self.close(-given, right):
            return g.slip(Slip.SIGN, f"it is {number(right)}: the size is right, the sign is "
                                     "flipped")
        for p in self.passes:
            value = self.in_pass(p, q, n)
            if value is not None and not self.close(value, right) and self.close(given, value):
                # A delta slip made above this layer reached this number through the deltas.
                above = kind == "delta" and all(k > q[1] for k in p.variant.layers)
                return g.slip(p.variant.slip,
                              f"it matches the delta rule {p.variant.describe(self.last + 1)}"
                              + (", made upstream and carried down" if above else "")
                              + f"; it is {number(right)}")
        return g.slip(Slip.WRONG, f"it is {number(right)}{self.hint(q, n)}")

    def in_pass(self, p: _Pass, q: Quantity, n: int) -> float | None:
        kind, li, j, i = q
        if kind == "delta":
            return p.deltas[n][li][j]
        if kind == "w":
            return p.gw[li][j][i]
        if kind == "b":
            return p.gb[li][j]
        return None  # forward values are the same in every pass

    def upstream(self, given: float, value: float, wrong: list[str]) -> Found | None:
        if wrong and self.close(given, value):
            return (Slip.UPSTREAM, f"it follows correctly from your {_join(wrong)}, which "
                                   f"{'is' if len(wrong) == 1 else 'are'} wrong; fix that first",
                    wrong)
        return None

    def delta(self, q: Quantity, n: int, given: float) -> Found | None:
        _, li, j, _ = q
        layer = self.net.layers[li]
        act = ACTIVATIONS[layer.activation]
        right = self.true(q, n)
        aq, zq = ("a", li, j, -1), ("z", li, j, -1)
        a, z = self.theirs(aq, n), self.theirs(zq, n)
        # The forward values this delta uses: a_j and z_j (at the output, every y_k).
        uses = [aq, zq] + ([("z", li, k, -1) for k in range(layer.nout) if k != j]
                           if li == self.last else [])
        bad = [self.name(x, n) for x in uses if self.wrong(x, n)]
        at_z = f"h' belongs at a = {number(a)}, not at z = {number(z)}"
        slips: list[tuple[Slip, float, str]]
        if li == self.last:
            # The output: δ_k = ∂E_n/∂y_k · h'(a_k), with ∂E_n/∂y at the learner's outputs.
            ys = [self.theirs(("z", li, k, -1), n) for k in range(layer.nout)]
            try:
                upstream = self.loss.grad(ys, self.r.examples[n].target)[j]
            except (ArithmeticError, ValueError):
                upstream = self.r.examples[n].dE_dy[j]
            found = self.upstream(given, upstream * act.dh(a, z), bad)
            if found is not None:
                return found
            slips = []
            if _y_minus_t_applies(self.net, self.r.loss_name):
                # First: with sse, y − t is also ∂E_n/∂y_k with h' left out, the same slip.
                t = _one_hot(self.r.examples[n].target, layer.nout, self.loss.classes)
                pairs = ", ".join(f"{h} with {e}" for h, e in sorted(MATCHED))
                slips.append((Slip.Y_MINUS_T, ys[j] - t[j],
                              f"y − t is the output delta only for {pairs}; with "
                              f"{layer.activation} and {self.r.loss_name} it is ∂E_n/∂y_k · "
                              "h'(a_k)"))
            slips += [(Slip.H_PRIME_LEFT_OUT, upstream,
                       f"δ_k = ∂E_n/∂y_k · h'(a_k), and your number is ∂E_n/∂y_k = "
                       f"{number(upstream)} alone"),
                      (Slip.H_PRIME_AT_Z, upstream * act.dh(z, act.h(z)), at_z)]
            if self.r.loss_name == "sse":
                half = "E = ½ Σ (y − t)² has ∂E/∂y = y − t: the ½ cancels the 2 once"
                slips += [(Slip.HALF_SSE, 2.0 * upstream * act.dh(a, z),
                           f"your number is twice the delta: the ½ was dropped ({half})"),
                          (Slip.HALF_SSE, 0.5 * upstream * act.dh(a, z),
                           f"your number is half the delta: the ½ was applied twice ({half})")]
        else:
            above = self.net.layers[li + 1]
            ups = [self.theirs(("delta", li + 1, k, -1), n) for k in range(above.nout)]
            bad += [self.name(("delta", li + 1, k, -1), n) for k in range(above.nout)
                    if self.wrong(("delta", li + 1, k, -1), n)]
            total = sum(above.w[k][j] * ups[k] for k in range(above.nout))
            found = self.upstream(given, act.dh(a, z) * total, bad)
            if found is not None:
                return found
            slips = [(Slip.H_PRIME_LEFT_OUT, total,
                      f"δ_j = h'(a_j) Σ_k w_kj δ_k, and your number is the sum Σ_k w_kj δ_k = "
                      f"{number(total)} alone"),
                     (Slip.H_PRIME_AT_Z, act.dh(z, act.h(z)) * total, at_z)]
            if j < above.nout <= above.nin:
                rows = sum(above.w[j][k] * ups[k] for k in range(above.nout))
                slips.append((Slip.ROW_WISE, act.dh(a, z) * rows,
                              f"δ_j sums w_kj δ_k over the neurons k of layer {li + 1}, with the "
                              f"weights into them from neuron {j} (column {j} of layer "
                              f"{li + 1}'s w), not row {j}"))
        for slip, value, why in slips:
            if not self.close(value, right) and self.close(given, value):
                return (slip, f"{why}; it is {number(right)}", [])
        return None

    def pre(self, q: Quantity, n: int, given: float) -> Found | None:
        _, li, j, _ = q
        layer = self.net.layers[li]
        zin = [self.zin(li, i, n) for i in range(layer.nin)]
        bad = [self.name(x, n) for i in range(layer.nin)
               if (x := self.zin_q(li, i)) is not None and self.wrong(x, n)]
        value = sum(w * z for w, z in zip(layer.w[j], zin)) + layer.b[j]
        found = self.upstream(given, value, bad)
        if found is not None:
            return found
        right = self.true(q, n)
        if j < layer.nin and layer.nout >= layer.nin:
            rows = sum(layer.w[i][j] * zin[i] for i in range(layer.nin)) + layer.b[j]
            if not self.close(rows, right) and self.close(given, rows):
                return (Slip.ROW_WISE, f"a_j = Σ_i w_ji z_i + b_j uses neuron {j}'s own weights "
                                       f"(its row), not the weights out of input {j}; it is "
                                       f"{number(right)}", [])
        return None

    def post(self, q: Quantity, n: int, given: float) -> Found | None:
        _, li, j, _ = q
        aq = ("a", li, j, -1)
        act = ACTIVATIONS[self.net.layers[li].activation]
        try:
            value = act.h(self.theirs(aq, n))
        except (ArithmeticError, ValueError):
            return None
        return self.upstream(given, value, [self.name(aq, n)] if self.wrong(aq, n) else [])

    def gradient(self, q: Quantity, n: int, given: float) -> Found | None:
        kind, li, j, i = q
        right = self.true(q, 0)
        dq = ("delta", li, j, -1)
        terms = []
        bad = []
        for m in range(self.N):
            zi = 1.0 if kind == "b" else self.zin(li, i, m)
            terms.append(self.theirs(dq, m) * zi)
            if self.wrong(dq, m):
                bad.append(self.name(dq, m))
            zq = self.zin_q(li, i) if kind == "w" else None
            if zq is not None and self.wrong(zq, m):
                bad.append(self.name(zq, m))
        found = self.upstream(given, sum(terms), bad)
        if found is not None:
            return found
        what = "δ_j z_i" if kind == "w" else "δ_j"
        if self.N > 1:
            for m, term in enumerate(terms):
                if not self.close(term, right) and self.close(given, term):
                    return (Slip.NOT_SUMMED, f"that is example {m}'s {what} alone; E = Σ_n E_n, "
                                             f"so ∂E/∂{'w' if kind == 'w' else 'b'} = Σ_n {what} "
                                             f"over all {self.N} examples = {number(right)}", [])
            mean = sum(terms) / self.N
            if not self.close(mean, right) and self.close(given, mean):
                return (Slip.NOT_SUMMED, f"that is the mean over the {self.N} examples; E = "
                                         f"Σ_n E_n is summed, so the gradient is the sum, "
                                         f"{number(right)}", [])
        layer = self.net.layers[li]
        if kind == "w" and i < layer.nout and j < layer.nin:
            swapped = self.r.grad_w[li][i][j]
            if not self.close(swapped, right) and self.close(given, swapped):
                return (Slip.ROW_WISE, f"that is the gradient of layers.{li}.neurons.{i}.w.{j} "
                                       f"(w_ij); w_ji, from input {i} into neuron {j}, has "
                                       f"δ_j z_i summed = {number(right)}", [])
        return None

    def hint(self, q: Quantity, n: int) -> str:
        kind = q[0]
        return {"delta": " (δ_j = h'(a_j) Σ_k w_kj δ_k; at the output ∂E_n/∂y_k · h'(a_k))",
                "a": " (a_j = Σ_i w_ji z_i + b_j)", "z": " (z_j = h(a_j))",
                "w": " (∂E/∂w_ji = Σ_n δ_j z_i)", "b": " (∂E/∂b_j = Σ_n δ_j)"}[kind]


Found = tuple[Slip, str, list[str]]


@dataclass
class _Draft:
    key: str
    example: int | None
    what: str
    given: float
    expected: float

    def right(self) -> Grade:
        return Grade(self.key, self.example, self.what, self.given, self.expected, Slip.RIGHT)

    def slip(self, slip: Slip, message: str, blame: Sequence[str] = ()) -> Grade:
        return Grade(self.key, self.example, self.what, self.given, self.expected, slip,
                     message, tuple(blame))


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _read(answers: Mapping[str, Any], net: Network, n_examples: int
          ) -> dict[tuple[Quantity, int], float]:
    out: dict[tuple[Quantity, int], float] = {}
    problems: list[str] = []
    for key, raw in answers.items():
        try:
            q = _quantity(key, net)
            if q[0] in ("w", "b"):
                if raw is not None:
                    out[(q, -1)] = read_number(raw, f"answer {key!r}")
                continue
            values = raw if isinstance(raw, (list, tuple)) else [raw]
            if not isinstance(raw, (list, tuple)) and n_examples > 1:
                raise AnswerError(f"answer {key!r}: a per-example number; give a list of "
                                  f"{n_examples}, one per example (null for a blank)")
            if len(values) > n_examples:
                raise AnswerError(f"answer {key!r}: {len(values)} numbers for {n_examples} "
                                  "example(s)")
            for n, v in enumerate(values):
                if v is not None:
                    out[(q, n)] = read_number(v, f"answer {key!r} for example {n}")
        except AnswerError as e:
            problems.append(str(e))
    if problems:
        raise AnswerError("cannot grade these answers:\n  " + "\n  ".join(problems))
    return out


def grade(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[Target],
          answers: Mapping[str, Any], loss: str = "sse", rtol: float = RTOL,
          atol: float = ATOL) -> GradeReport:
    """Grade a learner's deltas, forward values and gradients (keys as in the module doc)
    against ``nn.textbook.deltas.backprop(model, xs, ys, loss)``: each right within ``atol +
    rtol·|right|``, each wrong one diagnosed. Bad keys and non-numbers raise ``AnswerError``."""
    rtol, atol = check_tolerances(rtol, atol)
    net = as_network(model)
    if not isinstance(answers, Mapping):
        raise TypeError(f"answers must be a mapping of names to numbers; got "
                        f"{type(answers).__name__}")
    result = backprop(net, xs, ys, loss)
    given = _read(answers, net, len(result.examples))
    grader = _Grader(net, result, given, rtol, atol)
    last = len(net.layers) - 1

    def rank(item: tuple[tuple[Quantity, int], float]) -> tuple[int, ...]:
        (kind, li, j, i), n = item[0]
        if kind in ("a", "z"):
            return (0, li, n, j, 0 if kind == "a" else 1)
        return (1, last - li, 0 if kind == "delta" else 1, j, i if kind == "w" else 1 << 30, n)

    grades = tuple(grader.grade(q, max(n, 0), v) for (q, n), v in sorted(given.items(), key=rank))
    sizes = "-".join(str(k) for k in [net.nin, *(layer.nout for layer in net.layers)])
    acts = ", ".join(layer.activation for layer in net.layers)
    title = (f"your backpropagation through the {sizes} network ({acts}), loss {loss}, "
             f"{len(result.examples)} example(s)")
    return GradeReport(grades, rtol, atol, title)


# ---------------------------------------------------------------------------------------------
# Problems, worksheets and exercises.


def network_problem(problem: Mapping[str, Any]) -> tuple[Network, list[list[float]],
                                                         list[Target], str]:
    """The network, inputs, targets and loss of a problem dict: ``{"network": [{"w": ...,
    "b": ..., "activation": ...}, ...], "inputs": [[...], ...], "targets": [...], "loss":
    "sse"}`` (what ``network_exercise`` makes and ``edgegrad check`` reads)."""
    layers = problem.get("network")
    if not isinstance(layers, list):
        raise AnswerError("a network problem needs \"network\": a list of layers, each "
                          "{\"w\": [[...]], \"b\": [...], \"activation\": name}")
    try:
        net = as_network(layers)
    except (TypeError, ValueError) as e:
        raise AnswerError(f"\"network\": {e}") from None
    xs, ys = problem.get("inputs"), problem.get("targets")
    if not isinstance(xs, list) or not isinstance(ys, list):
        raise AnswerError("a network problem needs \"inputs\" (a list of input lists) and "
                          "\"targets\" (one per input)")
    loss = problem.get("loss", "sse")
    if loss not in LOSSES:
        raise AnswerError(f"unknown loss {loss!r}; one of {', '.join(LOSSES)}")
    return net, xs, ys, str(loss)


def network_worksheet(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[Target],
                      loss: str = "sse", fmt: str = ".4g") -> Worksheet:
    """The worksheet of backpropagation through ``model`` on these examples: every neuron's a
    and z per example, every delta (output layer first), then every gradient summed over the
    examples; the key from ``textbook.deltas.backprop``."""
    net = as_network(model)
    r = backprop(net, xs, ys, loss)
    rows: list[Row] = []
    last = len(net.layers) - 1
    for n, ex in enumerate(r.examples):
        for li, stage in enumerate(ex.layers):
            h = net.layers[li].activation
            for j in range(len(stage.a)):
                base = f"layers.{li}.neurons.{j}"
                rows.append(Row(f"{base}.a", f"a of layer {li} neuron {j}", stage.a[j],
                                "Σ_i w_ji z_i + b_j", n))
                rows.append(Row(f"{base}.z", f"z = {h}(a)", stage.z[j], f"{h}(a_j)", n))
    for li in range(last, -1, -1):
        for n, ex in enumerate(r.examples):
            for j, d in enumerate(ex.layers[li].delta):
                how = "∂E_n/∂y_k · h'(a_k)" if li == last else "h'(a_j) Σ_k w_kj δ_k"
                rows.append(Row(f"layers.{li}.neurons.{j}", f"δ of layer {li} neuron {j}", d,
                                how, n))
        for j in range(net.layers[li].nout):
            for i in range(net.layers[li].nin):
                rows.append(Row(f"layers.{li}.neurons.{j}.w.{i}",
                                f"∂E/∂w, input {i} into layer {li} neuron {j}",
                                r.grad_w[li][j][i], "Σ_n δ_j z_i"))
            rows.append(Row(f"layers.{li}.neurons.{j}.b", f"∂E/∂b of layer {li} neuron {j}",
                            r.grad_b[li][j], "Σ_n δ_j"))
    sizes = "-".join(str(k) for k in [net.nin, *(layer.nout for layer in net.layers)])
    layers = "; ".join(f"layer {li} ({layer.activation}): w = {layer.w}, b = {layer.b}"
                       for li, layer in enumerate(net.layers))
    examples = "; ".join(f"x = {ex.x}, t = {ex.target}" for ex in r.examples)
    given = f"{layers}; examples {examples}; {LOSSES[loss].formula}, E = Σ_n E_n"
    note = ("w[j][i] is the weight from input i into neuron j. Fill in every blank: the forward "
            "values, the deltas from the output back, then the gradients summed over the "
            "examples (keys as `edgegrad check` reads them).")
    return Worksheet(f"the {sizes} network, loss {loss}", given, tuple(rows), note)


def network_exercise(seed: int) -> dict[str, Any]:
    """A fresh small problem for ``seed``: a 2-2-1 network (tanh or sigmoid hidden, linear or
    sigmoid output) with one-decimal weights, two examples and the sum-of-squares loss."""
    rng = random.Random(seed)

    def w() -> float:
        return rng.choice([-1, 1]) * rng.randint(1, 9) / 10

    hidden = rng.choice(["tanh", "sigmoid"])
    output = rng.choice(["linear", "sigmoid"])
    network = [{"w": [[w(), w()], [w(), w()]], "b": [w(), w()], "activation": hidden},
               {"w": [[w(), w()]], "b": [w()], "activation": output}]
    inputs = [[w(), w()] for _ in range(2)]
    targets = [round(rng.uniform(0.1, 0.9), 1) if output == "sigmoid" else w()
               for _ in range(2)]
    return {"kind": "network", "network": network, "loss": "sse", "inputs": inputs,
            "targets": targets}
