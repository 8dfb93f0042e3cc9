"""Grade a learner's hand-worked backpropagation for a network, naming the textbook slips.

``grade(model, xs, ys, answers, loss="sse")`` checks numbers keyed by the names ``nn`` uses:

- ``layers.1.neurons.0``: the delta δ_j = ∂E_n/∂a_j of that neuron, one number per example
  (a list; a plain number when there is one example);
- ``layers.1.neurons.0.a`` and ``.z``: its pre-activation a_j and output z_j, per example;
- ``layers.1.neurons.0.w.2`` and ``layers.1.neurons.0.b``: ∂E/∂w and ∂E/∂b, summed over the
  examples (E = Σ_n E_n, the convention of ``nn.textbook.deltas``).

The right numbers come from ``textbook.deltas.backprop``. A wrong number is diagnosed, in the order
backward runs: it follows from a wrong number upstream (named), or it is one of the slips the
textbooks warn about (``slips.Slip``): h'(a) left out, h' evaluated at z instead of a, the
weights read row-wise (w_jk for w_kj), gradients not summed over the examples, the ½ of the
sum-of-squares loss dropped or doubled, y − t used as the output delta for an output/loss pair
it does not belong to; else a sign slip; else it is just wrong. Where the slip was made
further up and carried down, the slipped pass is recomputed to find it (``slips``: within a
few layers above the number, so grading is linear in the depth).

The report is autograd's shared model (``autograd.teach.report``): a ``GradeReport`` of
``Grade`` marks, each a ``Mark`` with its ``Slip`` as the diagnosis. This module holds the
network problem: its keys, the grading, its worksheet and its exercises.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from autograd.teach.formulas import number
from autograd.teach.report import (
    ATOL,
    RTOL,
    AnswerError,
    Mark,
    Marking,
    Report,
    answer_error,
    check_tolerances,
    is_close,
    join,
    read_number,
)
from autograd.teach.worksheet import Row, Worksheet

from ..textbook.deltas import (
    ACTIVATIONS,
    LOSSES,
    DeltaResult,
    Network,
    Target,
    as_network,
    backprop,
)
from .slips import MATCHED, Slip, SlippedPasses, Variant, one_hot, y_minus_t_applies

__all__ = ["Grade", "GradeReport", "Slip", "grade", "network_exercise", "network_problem",
           "network_worksheet"]


class Grade(Mark[Slip]):
    """One graded number: a Mark whose diagnosis is the ``Slip`` found (``slip``)."""

    @property
    def slip(self) -> Slip:
        """The slip found (``Slip.RIGHT`` for a right number): the mark's diagnosis."""
        return self.diagnosis


class GradeReport(Report[Grade]):
    """The report of ``grade``: one Grade per number, in backward order (``find(key,
    example)`` is a number's grade). Prints as text, renders as a table in Jupyter."""

    @property
    def grades(self) -> tuple[Grade, ...]:
        """The grades, in backward order (the report's marks)."""
        return self.marks

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
        self.passes = SlippedPasses(net, result)

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
        g = Marking(Grade, _key(q), what, given, right, Slip.RIGHT,
                    None if kind in ("w", "b") else n, kind)
        if self.close(given, right):
            return g.right()
        found = {"delta": self.delta, "a": self.pre, "z": self.post, "w": self.gradient,
                 "b": self.gradient}[kind](q, n, given)
        if found is not None:
            return g.wrong(*found)
        if not self.close(0.0, right) and self.close(-given, right):
            return g.wrong(Slip.SIGN, f"it is {number(right)}: the size is right, the sign is "
                                     "flipped")
        for v in self.passes.at(q[1]) if kind in ("delta", "w", "b") else ():
            value = self.in_pass(v, q, n)
            if value is not None and not self.close(value, right) and self.close(given, value):
                # A delta slip made above this layer reached this number through the deltas.
                above = kind == "delta" and (not v.layers or v.layers[0] > q[1])
                return g.wrong(v.slip, f"it matches the delta rule {v.describe(self.last + 1)}"
                               + (", made upstream and carried down" if above else "")
                               + f"; it is {number(right)}")
        return g.wrong(Slip.WRONG, f"it is {number(right)}{self.hint(q, n)}")

    def in_pass(self, v: Variant, q: Quantity, n: int) -> float | None:
        """The number ``q`` in the pass made with slip ``v`` (forward values are the same in
        every pass)."""
        kind, li, j, i = q
        if kind == "delta":
            d = self.passes.deltas(v, n, li)
            return None if d is None else d[j]
        return self.passes.gradient(v, li, j, i if kind == "w" else None)

    def upstream(self, given: float, value: float, wrong: list[str]) -> Found | None:
        if wrong and self.close(given, value):
            return (Slip.UPSTREAM, f"it follows correctly from your {join(wrong)}, which "
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
            if y_minus_t_applies(self.net, self.r.loss_name):
                # First: with sse, y − t is also ∂E_n/∂y_k with h' left out, the same slip.
                t = one_hot(self.r.examples[n].target, layer.nout, self.loss.classes)
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
        raise answer_error("grade", problems)
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
