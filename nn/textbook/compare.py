"""Autograd's gradients next to the textbook delta rule, neuron by neuron and weight by weight.

``compare(model, xs, ys, loss)`` runs both on the same model and examples:

- the engine: for each example, build its graph with ``model.trace(x)``, take the loss from
  ``nn.losses.LOSSES``, call ``backward()``; a neuron's delta is the grad of its pre-activation
  a_j (delta_j = dE_n/da_j), a parameter's gradient is its grad, accumulated over the examples
  (the engine's leaves accumulate: exactly the textbook "repeat and sum");
- the oracle: :func:`nn.textbook.deltas.backprop`, which never touches the engine.

The :class:`DeltaReport` gives per layer the largest absolute and relative differences of the
deltas and of the weight and bias gradients, the total loss E = sum_n E_n from both, and ``ok``
against the tolerance |engine - oracle| <= atol + rtol * max(|engine|, |oracle|). A mismatch is
named by layer, neuron, weight (and example, for a delta). It prints as a table and renders as
HTML in a notebook.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd.teach.report import check_tolerances

from .deltas import DeltaResult, ExampleResult, LayerStage, Target, as_network, backprop

RTOL = 1e-10
"""Default relative tolerance (float64 leaves about 1e-16 per operation)."""
ATOL = 1e-12
"""Default absolute tolerance, for values that are zero up to rounding (cancelling sums)."""

Oracle = Callable[[Any, Sequence[Sequence[float]], Sequence[Target], str], DeltaResult]


def engine_backprop(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[Target],
                    loss: str = "sse") -> DeltaResult:
    """The delta-rule quantities as autograd computes them, in :class:`DeltaResult` form.

    a_j and z_j are the trace's Values' data, delta_j the grad of a_j after ``E_n.backward()``,
    dE/dy the outputs' grads, and each parameter's gradient its grad summed over the examples
    (E = sum_n E_n). The parameters' grads are restored afterwards: calling this changes nothing.
    """
    from ..losses import LOSSES as ENGINE_LOSSES

    if loss not in ENGINE_LOSSES:
        raise ValueError(f"unknown loss {loss!r}; nn.losses knows {', '.join(ENGINE_LOSSES)}")
    loss_fn = ENGINE_LOSSES[loss]
    if not (callable(getattr(model, "trace", None)) and callable(getattr(model, "parameters",
                                                                          None))):
        raise TypeError(f"autograd's side needs an nn.MLP (with .trace(x) and .parameters()); "
                        f"got {type(model).__name__}. nn.deltas.backprop alone takes plain "
                        "weights")
    net = as_network(model)
    if len(xs) != len(ys):
        raise ValueError(f"got {len(xs)} examples but {len(ys)} targets; they must pair up")
    params = model.parameters()
    saved = [p.grad for p in params]
    examples: list[ExampleResult] = []
    total = 0.0
    try:
        for p in params:
            p.grad = 0.0
        for x, y in zip(xs, ys):
            tr = model.trace(x)
            e = loss_fn(tr.output, y)
            e.backward()
            stages = [LayerStage([a.data for a in pre], [z.data for z in post],
                                 [float(a.grad) for a in pre])
                      for pre, post in zip(tr.pre, tr.post)]
            examples.append(ExampleResult([v.data for v in tr.inputs], _as_list(y), stages,
                                          [float(o.grad) for o in tr.output], e.data))
            total += e.data
        grads = [float(p.grad) for p in params]
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    grad_w: list[list[list[float]]] = []
    grad_b: list[list[float]] = []
    k = 0
    for layer in net.layers:
        gw: list[list[float]] = []
        gb: list[float] = []
        for _ in range(layer.nout):
            gw.append(grads[k:k + layer.nin])
            gb.append(grads[k + layer.nin])
            k += layer.nin + 1
        grad_w.append(gw)
        grad_b.append(gb)
    if k != len(grads):
        raise ValueError(f"the model has {len(grads)} parameters but its layers describe {k}; "
                         "compare needs an MLP of fully connected layers")
    return DeltaResult(examples, grad_w, grad_b, total, loss,
                       [layer.activation for layer in net.layers])


def _as_list(y: Any) -> list[float]:
    if isinstance(y, Sequence) and not isinstance(y, str):
        return [float(v) for v in y]
    return [float(y)]


# ---------------------------------------------------------------------------------------------
# The report.


@dataclass(frozen=True)
class Difference:
    """One compared number: what it is, where, and the two values."""

    quantity: str  # "a" (a forward activation), "delta", "dE/dw" or "dE/db"
    layer: int
    neuron: int
    weight: int | None
    example: int | None
    engine: float
    oracle: float

    @property
    def abs_diff(self) -> float:
        """|engine - oracle|."""
        return abs(self.engine - self.oracle)

    @property
    def rel_diff(self) -> float:
        """|engine - oracle| / max(|engine|, |oracle|), 0 when both are 0."""
        scale = max(abs(self.engine), abs(self.oracle))
        return self.abs_diff / scale if scale else (0.0 if self.abs_diff == 0 else float("inf"))

    def ok(self, rtol: float, atol: float) -> bool:
        """Whether |engine - oracle| <= atol + rtol * max(|engine|, |oracle|) (NaN fails)."""
        return self.abs_diff <= atol + rtol * max(abs(self.engine), abs(self.oracle))

    @property
    def parameter(self) -> str | None:
        """The parameter's dotted name in ``nn`` (``layers.1.neurons.0.w.2``), if any."""
        if self.quantity == "dE/dw":
            return f"layers.{self.layer}.neurons.{self.neuron}.w.{self.weight}"
        if self.quantity == "dE/db":
            return f"layers.{self.layer}.neurons.{self.neuron}.b"
        return None

    @property
    def where(self) -> str:
        """Where this number lives, in words: layer, neuron, weight, example."""
        s = f"layer {self.layer}, neuron {self.neuron}"
        if self.weight is not None:
            s += f", weight {self.weight}"
        if self.quantity == "dE/db":
            s += ", bias"
        if self.example is not None:
            s += f", example {self.example}"
        return s

    def describe(self) -> str:
        """One line: what, where, the engine's value and the delta rule's."""
        name = f" ({self.parameter})" if self.parameter else ""
        return (f"{self.quantity} at {self.where}{name}: autograd {self.engine:.12g}, "
                f"delta rule {self.oracle:.12g}, |diff| {self.abs_diff:.3g}")


@dataclass(frozen=True)
class LayerRow:
    """The largest differences in one layer, over every neuron, weight and example."""

    layer: int
    activation: str
    neurons: int
    delta_abs: float
    delta_rel: float
    w_abs: float
    w_rel: float
    b_abs: float
    b_rel: float
    ok: bool


@dataclass(frozen=True, repr=False)
class DeltaReport:
    """autograd against the delta rule: per-layer largest differences, the loss, and verdict.

    ``mismatches`` lists every number outside the tolerance in the order the algorithm makes
    them: forward activations first (input side first), then deltas from the output layer
    down, then the gradients. So ``mismatches[0]`` is where the two first part ways.
    """

    rows: list[LayerRow]
    loss_name: str
    examples: int
    loss_engine: float
    loss_oracle: float
    rtol: float
    atol: float
    mismatches: list[Difference] = field(default_factory=list)
    compared: int = 0
    architecture: str = ""

    @property
    def loss_ok(self) -> bool:
        """Whether the two total losses agree within the tolerance."""
        return abs(self.loss_engine - self.loss_oracle) <= self.atol + self.rtol * max(
            abs(self.loss_engine), abs(self.loss_oracle))

    @property
    def ok(self) -> bool:
        """True when every delta, gradient, activation and the loss agree within tolerance."""
        return not self.mismatches and self.loss_ok

    @property
    def first_mismatch(self) -> Difference | None:
        """Where engine and delta rule first part ways (see the class docstring), or None."""
        return self.mismatches[0] if self.mismatches else None

    def verdict(self) -> str:
        """One line: agreement, or the first mismatch named by layer, neuron and weight."""
        if self.ok:
            return (f"OK: all {self.compared} deltas, gradients and activations agree "
                    f"(|diff| <= {self.atol:g} + {self.rtol:g}*|value|)")
        if not self.mismatches:
            return (f"MISMATCH: the total loss differs: autograd {self.loss_engine:.12g}, "
                    f"delta rule {self.loss_oracle:.12g}")
        first = self.mismatches[0]
        return (f"MISMATCH: {len(self.mismatches)} of {self.compared} numbers differ; first: "
                f"{first.describe()}")

    def assert_ok(self) -> None:
        """Raise AssertionError with the whole report unless everything agrees."""
        if not self.ok:
            raise AssertionError(str(self))

    def _header(self) -> str:
        arch = f" on MLP {self.architecture}" if self.architecture else ""
        return (f"Delta rule vs autograd{arch}: loss {self.loss_name!r} summed over "
                f"{self.examples} example(s)")

    def __str__(self) -> str:
        head = ["layer", "activation", "neurons", "delta |diff|", "delta rel", "dE/dw |diff|",
                "dE/dw rel", "dE/db |diff|", "dE/db rel", "ok"]
        body = [[str(r.layer), r.activation, str(r.neurons), _g(r.delta_abs), _g(r.delta_rel),
                 _g(r.w_abs), _g(r.w_rel), _g(r.b_abs), _g(r.b_rel), "yes" if r.ok else "NO"]
                for r in self.rows]
        widths = [max(len(row[c]) for row in [head, *body]) for c in range(len(head))]

        def line(cells: list[str]) -> str:
            return "  ".join(c.rjust(w) if i > 1 else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        out = [self._header(), "", line(head), line(["-" * w for w in widths])]
        out += [line(r) for r in body]
        out.append("")
        out.append(f"loss: autograd {self.loss_engine:.15g}, delta rule {self.loss_oracle:.15g} "
                   f"({'ok' if self.loss_ok else 'DIFFERS'})")
        out.append(self.verdict())
        for d in self.mismatches[1:10]:
            out.append(f"  also: {d.describe()}")
        if len(self.mismatches) > 10:
            out.append(f"  ... and {len(self.mismatches) - 10} more")
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape
        cols = ["layer", "activation", "neurons", "delta |diff|", "delta rel", "dE/dw |diff|",
                "dE/dw rel", "dE/db |diff|", "dE/db rel", "ok"]
        th = "".join(f"<th>{e(c)}</th>" for c in cols)
        rows = []
        for r in self.rows:
            color = "#e6f4ea" if r.ok else "#fce8e6"
            cells = [str(r.layer), r.activation, str(r.neurons), _g(r.delta_abs),
                     _g(r.delta_rel), _g(r.w_abs), _g(r.w_rel), _g(r.b_abs), _g(r.b_rel),
                     "yes" if r.ok else "NO"]
            rows.append(f'<tr style="background:{color};color:#202124">'
                        + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        verdict_color = "#137333" if self.ok else "#c5221f"
        extra = "".join(f"<li>{e(d.describe())}</li>" for d in self.mismatches[:10])
        return (f"<div><p><b>{e(self._header())}</b></p>"
                f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                f"<p>loss: autograd {self.loss_engine:.15g}, delta rule "
                f"{self.loss_oracle:.15g}</p>"
                f'<p style="color:{verdict_color}"><b>{e(self.verdict())}</b></p>'
                + (f"<ul>{extra}</ul>" if extra else "") + "</div>")


def _g(x: float) -> str:
    return f"{x:.2e}"


def _architecture(result: DeltaResult) -> str:
    if not result.grad_w:
        return ""
    sizes = [len(result.grad_w[0][0]), *(len(gw) for gw in result.grad_w)]
    return "-".join(str(s) for s in sizes)


def compare_results(engine: DeltaResult, oracle: DeltaResult, *, rtol: float = RTOL,
                    atol: float = ATOL) -> DeltaReport:
    """Put two :class:`DeltaResult` side by side (same network, examples and loss)."""
    rtol, atol = check_tolerances(rtol, atol)
    if len(engine.examples) != len(oracle.examples) or len(engine.grad_w) != len(oracle.grad_w):
        raise ValueError("compare_results: the two results come from different examples or "
                         "networks")
    forward: list[Difference] = []
    deltas: list[Difference] = []
    grads: list[Difference] = []
    rows: list[LayerRow] = []
    for li in range(len(oracle.grad_w)):
        layer_deltas: list[Difference] = []
        for n, (ee, eo) in enumerate(zip(engine.examples, oracle.examples)):
            se, so = ee.layers[li], eo.layers[li]
            for j in range(len(so.a)):
                forward.append(Difference("a", li, j, None, n, se.a[j], so.a[j]))
                layer_deltas.append(Difference("delta", li, j, None, n, se.delta[j],
                                               so.delta[j]))
        layer_w = [Difference("dE/dw", li, j, i, None, engine.grad_w[li][j][i], gwj[i])
                   for j, gwj in enumerate(oracle.grad_w[li]) for i in range(len(gwj))]
        layer_b = [Difference("dE/db", li, j, None, None, engine.grad_b[li][j], gbj)
                   for j, gbj in enumerate(oracle.grad_b[li])]
        rows.append(LayerRow(
            li, oracle.activations[li], len(oracle.grad_b[li]),
            _max(d.abs_diff for d in layer_deltas), _max(d.rel_diff for d in layer_deltas),
            _max(d.abs_diff for d in layer_w), _max(d.rel_diff for d in layer_w),
            _max(d.abs_diff for d in layer_b), _max(d.rel_diff for d in layer_b),
            all(d.ok(rtol, atol) for d in (*layer_deltas, *layer_w, *layer_b))))
        deltas[:0] = layer_deltas  # output layer first: the order backward computes them in
        grads.extend(layer_w)
        grads.extend(layer_b)
    compared = len(forward) + len(deltas) + len(grads)
    bad = [d for d in (*forward, *deltas, *grads) if not d.ok(rtol, atol)]
    # Rows already say "NO" for a layer whose forward pass differs through its deltas; make sure
    # a forward-only difference marks its row too.
    bad_layers = {d.layer for d in bad}
    rows = [r if r.layer not in bad_layers or not r.ok else
            LayerRow(r.layer, r.activation, r.neurons, r.delta_abs, r.delta_rel, r.w_abs,
                     r.w_rel, r.b_abs, r.b_rel, False) for r in rows]
    return DeltaReport(rows, oracle.loss_name, len(oracle.examples), engine.loss, oracle.loss,
                       rtol, atol, bad, compared, _architecture(oracle))


def _max(values: Any) -> float:
    # NaN must not hide: max() with a NaN first would keep it, a NaN later would be skipped.
    m = 0.0
    for v in values:
        if v != v:
            return float("nan")
        m = max(m, v)
    return m


def compare(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[Target], loss: str = "sse",
            *, rtol: float = RTOL, atol: float = ATOL,
            oracle: Oracle | None = None) -> DeltaReport:
    """Run autograd and the delta rule on the same model and examples; report the differences.

    ``loss`` names a per-example loss in ``nn.losses.LOSSES`` (and :data:`nn.deltas.LOSSES`);
    the total is E = sum_n E_n, so the gradients are summed over the examples. ``oracle``
    replaces :func:`nn.textbook.deltas.backprop` (to inject a wrong delta in a test, for instance).
    """
    check_tolerances(rtol, atol)  # before any work
    o = (oracle or backprop)(model, xs, ys, loss)  # first: its errors name a misfit clearly
    e = engine_backprop(model, xs, ys, loss)
    return compare_results(e, o, rtol=rtol, atol=atol)
