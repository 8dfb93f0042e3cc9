"""A network's health over a data set: what its layers compute, how much of them still works.

``health(model, xs)`` runs every example through the model, keeps each layer's
pre-activations a = Wz + b and activations h(a), backpropagates the mean loss (or, without
targets, the mean of the outputs' sum, so the flow of gradients is seen all the same) and
reports per layer:

- the mean and spread (standard deviation) of a and of h(a), over units and examples;
- for tanh and sigmoid, the share of activations within ``saturation`` of the function's
  limits (|h| > 1 - s for tanh; h < s or h > 1 - s for sigmoid), where h'(a) is nearly 0;
- for relu, the share of units that are dead: never positive on any example, so that neither
  they nor the weights into them get a gradient from this data;
- the spread of the gradients: of the weights' (dL/dw over the layer's weights) and of the
  activations' (d loss_i / d h(a) per example, over units and examples).

Non-finite values (an exp that overflowed, a parameter set to inf) are counted and reported
by layer; every mean and spread is taken over the finite values only. The report's
``warnings`` say what looks wrong and what to try; a healthy network has none.

``fit(..., health=True)`` adds the update-to-data ratio: per layer and step,
log10(|Δw| / |w|), the Euclidean norms of the layer's weight update and of its weights
before the update (the biases are left out: they start at 0). Karpathy's rule of thumb
(makemore, part 3) puts a good learning rate near 1e-3, i.e. -3.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autograd import Value, atomic_write

from ..layers import Layer
from ..losses import LossFn, get_loss
from ..module import Module

__all__ = ["HealthReport", "LayerHealth", "health", "diagnose", "plot_update_ratio",
           "update_ratios", "SATURATION", "SATURATED_WARNING", "DEAD_WARNING", "RATIO_HIGH",
           "RATIO_LOW"]

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SATURATION = 0.03
"""Default distance from a tanh's or sigmoid's limits within which an activation counts as
saturated (|tanh| > 0.97, as in Karpathy's makemore part 3)."""

SATURATED_WARNING = 0.2
"""A layer with more than this share of saturated activations gets a warning."""

DEAD_WARNING = 0.25
"""A relu layer with more than this share of dead units gets a warning."""

RATIO_HIGH = -1.0
"""A layer whose typical update-to-data ratio (log10) is above this gets a warning: each step
moves its weights by more than a tenth of their size."""

RATIO_LOW = -5.0
"""A layer whose typical update-to-data ratio (log10) is below this gets a warning: it
barely moves."""

SATURATING = ("tanh", "sigmoid")
BINS = 30


@dataclass
class LayerHealth:
    """One layer's numbers over the data (see the module doc for each one's definition)."""

    index: int
    activation: str
    units: int
    pre_mean: float
    pre_std: float
    act_mean: float
    act_std: float
    saturated: float | None
    """The share of saturated activations (tanh, sigmoid), else None."""
    dead: float | None
    """The share of units never positive on any example (relu), else None."""
    dead_units: list[int]
    grad_std: float
    """The spread of dL/dw over the layer's weights (L the mean loss)."""
    act_grad_std: float
    """The spread of d loss_i / d h(a) over the layer's units and the examples i."""
    nonfinite_activations: int = 0
    nonfinite_gradients: int = 0
    update_ratio: float | None = None
    """log10(|Δw| / |w|), the median over the steps since the previous report (fit only)."""
    act_histogram: tuple[list[float], list[int]] = field(default_factory=lambda: ([], []),
                                                         repr=False)
    """(bin edges, counts) of the finite activations."""
    grad_histogram: tuple[list[float], list[int]] = field(default_factory=lambda: ([], []),
                                                          repr=False)
    """(bin edges, counts) of the finite activation gradients d loss_i / d h(a)."""


@dataclass(repr=False)
class HealthReport:
    """Per-layer health numbers, and ``warnings`` (empty for a healthy network).

    ``str(report)`` is a table; ``plot()`` draws each layer's histograms of activations and of
    their gradients. ``step`` is the training step it was taken after (None outside ``fit``).
    """

    layers: list[LayerHealth]
    warnings: list[str]
    examples: int
    saturation: float = SATURATION
    step: int | None = None

    def __getitem__(self, i: int) -> LayerHealth:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def healthy(self) -> bool:
        """True when there is no warning."""
        return not self.warnings

    def table(self) -> str:
        """The numbers as a text table, one row per layer, then the warnings."""
        head = ["layer", "act", "units", "pre mean", "pre std", "act mean", "act std",
                "saturated", "dead", "grad std"]
        ratios = any(lay.update_ratio is not None for lay in self.layers)
        if ratios:
            head.append("log10 upd/w")
        rows = [head]
        for lay in self.layers:
            row = [str(lay.index), lay.activation, str(lay.units), _g(lay.pre_mean),
                   _g(lay.pre_std), _g(lay.act_mean), _g(lay.act_std), _share(lay.saturated),
                   _share(lay.dead), _g(lay.grad_std)]
            if ratios:
                row.append("-" if lay.update_ratio is None else f"{lay.update_ratio:.2f}")
            rows.append(row)
        widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths)) for r in rows]
        where = "" if self.step is None else f" after step {self.step}"
        title = f"health of {len(self.layers)} layer(s) over {self.examples} example(s){where}"
        notes = [f"warning: {w}" for w in self.warnings] or ["no warnings"]
        return "\n".join([title, *lines, *notes])

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        where = "" if self.step is None else f" after step {self.step}"
        return (f"<HealthReport{where}: {len(self.layers)} layer(s) over {self.examples} "
                f"example(s), {len(self.warnings)} warning(s)>")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.table())

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure:
        """Histograms per layer: the activations (top row) and their gradients (bottom row)."""
        fig = figure(figsize=(2.6 * max(len(self.layers), 2), 4.6), layout="constrained")
        axes = fig.subplots(2, len(self.layers), squeeze=False)
        for lay, top, bottom in zip(self.layers, axes[0], axes[1]):
            _bars(top, lay.act_histogram, "#1f5fbf")
            note = ""
            if lay.saturated is not None:
                note = f", {lay.saturated:.0%} saturated"
            elif lay.dead is not None:
                note = f", {lay.dead:.0%} dead"
            top.set_title(f"layer {lay.index} ({lay.activation}){note}", fontsize=9)
            _bars(bottom, lay.grad_histogram, "#b5462f")
            bottom.set_title(f"gradient, std {_g(lay.act_grad_std)}", fontsize=9)
        axes[0][0].set_ylabel("activations")
        axes[1][0].set_ylabel("their gradients")
        if path is not None:
            save_figure(fig, path)
        return fig


def health(model: Module, xs: Sequence[Sequence[Any]], ys: Sequence[Any] | None = None, *,
           loss: str | LossFn = "hinge", saturation: float = SATURATION) -> HealthReport:
    """Each layer's statistics over the examples ``xs`` (see the module doc).

    With targets ``ys`` the gradients are those of the mean ``loss``; without, of the mean
    of the outputs' sum. The model's parameters and their grads are left as they were.
    Raises ValueError for an empty data set, an example of the wrong width, targets that do
    not match, or a model that has no layers (an ``nn.MLP`` or an ``nn.Layer`` has).
    """
    layers = model_layers(model, "nn.health")
    xs = check_examples(xs, layers[0].nin, "nn.health")
    if ys is not None and len(ys) != len(xs):
        raise ValueError(f"nn.health: {len(xs)} examples but {len(ys)} targets; give one "
                         f"target per example, or none")
    if not (isinstance(saturation, numbers.Real) and 0 < saturation < 0.5):
        raise ValueError(f"nn.health: saturation is a distance from the limits in (0, 0.5); "
                         f"got {saturation!r}")
    fn = get_loss(loss) if ys is not None else None
    params = [p for layer in layers for p in layer.parameters()]
    saved = [p.grad for p in params]
    try:
        for p in params:
            p.grad = 0.0
        pre, post, total = _forward(layers, xs, ys, fn)
        total.backward()
        found = [_layer_health(i, layer, pre[i], post[i], len(xs), saturation)
                 for i, layer in enumerate(layers)]
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    return HealthReport(found, diagnose(found, saturation), len(xs), float(saturation))


def model_layers(model: Any, who: str) -> list[Layer]:
    """The layers of an ``nn.MLP`` (or the one ``nn.Layer``); ValueError for anything else."""
    if isinstance(model, Layer):
        return [model]
    layers = getattr(model, "layers", None)
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"{who} needs a model made of layers (an nn.MLP or an nn.Layer); "
                         f"{type(model).__name__} has no layers")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise ValueError(f"{who}: layer {i} of the model is a {type(layer).__name__}, "
                             f"not an nn.Layer")
    return list(layers)


def check_examples(xs: Sequence[Sequence[Any]], width: int, who: str) -> list[list[float]]:
    """The examples as lists of finite floats, each of ``width`` features, or ValueError."""
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__len__"):
        raise TypeError(f"{who} takes a list of examples (lists of {width} numbers); "
                        f"got {type(xs).__name__}")
    if len(xs) == 0:
        raise ValueError(f"{who} needs at least one example; the data set is empty")
    out = []
    for i, x in enumerate(xs):
        if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
            raise TypeError(f"{who}: example {i} must be a list of {width} numbers; "
                            f"got {type(x).__name__}")
        if len(x) != width:
            raise ValueError(f"{who}: example {i} has {len(x)} feature(s), but the model's "
                             f"first layer takes {width}")
        row = [v.data if isinstance(v, Value) else float(v) for v in x]
        if not all(math.isfinite(v) for v in row):
            raise ValueError(f"{who}: example {i} holds a value that is not finite: {row}")
        out.append(row)
    return out


def _forward(layers: list[Layer], xs: list[list[float]], ys: Sequence[Any] | None,
             fn: LossFn | None) -> tuple[list[list[list[Value]]], list[list[list[Value]]], Value]:
    """pre[l][i] and post[l][i]: layer l's a and h(a) on example i, and the mean loss."""
    pre: list[list[list[Value]]] = [[] for _ in layers]
    post: list[list[list[Value]]] = [[] for _ in layers]
    terms = []
    for i, x in enumerate(xs):
        z = [Value(v, label=f"x{k}") for k, v in enumerate(x)]
        for li, layer in enumerate(layers):
            a = [n.preactivation(z) for n in layer.neurons]
            z = [n.activate(ai) for n, ai in zip(layer.neurons, a)]
            pre[li].append(a)
            post[li].append(z)
        terms.append(Value.sum(z) if fn is None or ys is None else fn(z, ys[i]))
    return pre, post, Value.sum(terms) * (1.0 / len(xs))


def _layer_health(index: int, layer: Layer, pre: list[list[Value]], post: list[list[Value]],
                  n: int, s: float) -> LayerHealth:
    a = [v.data for row in pre for v in row]
    z = [v.data for row in post for v in row]
    # d loss_i / d z: the graph's grads are of the mean, so n times them.
    dz = [n * float(v.grad) for row in post for v in row]
    gw = [float(w.grad) for neuron in layer.neurons for w in neuron.w]
    za = [v for v in z if math.isfinite(v)]
    saturated = None
    if layer.activation == "tanh":
        saturated = _share_of(za, lambda v: abs(v) > 1.0 - s)
    elif layer.activation == "sigmoid":
        saturated = _share_of(za, lambda v: v < s or v > 1.0 - s)
    dead = None
    dead_units: list[int] = []
    if layer.activation == "relu":
        dead_units = [j for j in range(layer.nout) if not any(row[j].data > 0 for row in pre)]
        dead = len(dead_units) / layer.nout
    span = (-1.0, 1.0) if layer.activation == "tanh" else \
        (0.0, 1.0) if layer.activation == "sigmoid" else None
    return LayerHealth(
        index=index, activation=layer.activation, units=layer.nout,
        pre_mean=_mean(a), pre_std=_std(a), act_mean=_mean(z), act_std=_std(z),
        saturated=saturated, dead=dead, dead_units=dead_units,
        grad_std=_std(gw), act_grad_std=_std(dz),
        nonfinite_activations=_nonfinite(a) + _nonfinite(z),
        nonfinite_gradients=_nonfinite(dz) + _nonfinite(gw),
        act_histogram=histogram(za, span), grad_histogram=histogram(dz))


def diagnose(layers: list[LayerHealth], saturation: float = SATURATION,
             step: int | None = None) -> list[str]:
    """The warnings for these layers' numbers, each naming the layer and what to try."""
    out = []
    for lay in layers:
        name = f"layer {lay.index}" + ("" if step is None else f" at step {step}")
        if lay.nonfinite_activations:
            out.append(f"{name}: {lay.nonfinite_activations} pre-activation(s) or activation(s) "
                       f"are inf or NaN; the statistics leave them out. Look for an "
                       f"overflowing activation (exp) or a parameter that is not finite")
        if lay.nonfinite_gradients:
            out.append(f"{name}: {lay.nonfinite_gradients} gradient(s) are inf or NaN; the "
                       f"statistics leave them out. Lower the learning rate, or look for an "
                       f"activation or parameter that is not finite")
        if lay.dead is not None and lay.dead > DEAD_WARNING:
            out.append(f"{name}: {lay.dead:.0%} of its ReLUs are dead on this data; "
                       f"lower the learning rate or change the init")
        if lay.saturated is not None and lay.saturated > SATURATED_WARNING:
            out.append(f"{name}: {lay.saturated:.0%} of its {lay.activation} activations are "
                       f"saturated (within {saturation:g} of their limits), where the gradient "
                       f"nearly vanishes; lower the learning rate or scale the initial weights "
                       f"down")
        if lay.update_ratio is not None and math.isfinite(lay.update_ratio):
            if lay.update_ratio > RATIO_HIGH:
                out.append(f"{name}: each update moves its weights by 10^{lay.update_ratio:.1f} "
                           f"of their size (about 10^-3 is typical); lower the learning rate")
            elif lay.update_ratio < RATIO_LOW:
                out.append(f"{name}: each update moves its weights by only "
                           f"10^{lay.update_ratio:.1f} of their size (about 10^-3 is typical); "
                           f"raise the learning rate")
    return out


# -- the update-to-data ratio ------------------------------------------------------------------

def weight_slices(model: Module, who: str = "fit(health=True)") -> list[list[int]]:
    """For each layer, the positions of its weights (not its biases) in ``model.parameters()``."""
    layers = model_layers(model, who)
    index = {id(p): i for i, p in enumerate(model.parameters())}
    return [[index[id(w)] for neuron in layer.neurons for w in neuron.w] for layer in layers]


def update_ratios(before: Sequence[float], after: Sequence[float],
                  slices: list[list[int]]) -> list[float]:
    """Per layer, log10(|Δw| / |w|) with the weights ``before`` and ``after`` one update
    (see ``log_ratio``)."""
    out = []
    for idx in slices:
        du = math.sqrt(math.fsum((after[i] - before[i]) ** 2 for i in idx))
        w = math.sqrt(math.fsum(before[i] ** 2 for i in idx))
        out.append(log_ratio(du, w))
    return out


def log_ratio(du: float, w: float) -> float:
    """log10(du / w); -inf when the update du is 0; nan when either is not finite or w is 0."""
    if not (math.isfinite(du) and math.isfinite(w)) or w == 0.0:
        return math.nan
    return -math.inf if du == 0.0 else math.log10(du / w)


def with_ratios(report: HealthReport, ratios: Sequence[Sequence[float]],
                step: int) -> HealthReport:
    """The report, taken after ``step``, with each layer's median update-to-data ratio over
    the steps ``ratios`` (one row per step) and the warnings they call for."""
    for k, lay in enumerate(report.layers):
        column = sorted(r[k] for r in ratios if not math.isnan(r[k]))
        lay.update_ratio = column[len(column) // 2] if column else None
    report.step = step
    report.warnings = diagnose(report.layers, report.saturation, step)
    return report


def plot_update_ratio(ratios: Sequence[Sequence[float]], path: str | os.PathLike[str] | None
                      = None, ax: Any = None) -> Figure:
    """log10(|Δw| / |w|) per layer over the steps (``History.update_ratio``), against the
    1e-3 guide line."""
    fig = None
    if ax is None:
        fig = figure(figsize=(6.4, 3.4), layout="constrained")
        ax = fig.subplots()
    draw_ratios(ax, ratios)
    if path is not None and fig is not None:
        save_figure(fig, path)
    return fig if fig is not None else ax.figure


def draw_ratios(ax: Any, ratios: Sequence[Sequence[float]]) -> None:
    """The ratio curves onto ``ax`` (non-finite points left out) and the guide at -3."""
    width = len(ratios[0]) if ratios else 0
    for k in range(width):
        pts = [(s, r[k]) for s, r in enumerate(ratios) if math.isfinite(r[k])]
        ax.plot([s for s, _ in pts], [v for _, v in pts], lw=1, label=f"layer {k}")
    ax.axhline(-3.0, color="black", ls="--", lw=0.8, label="1e-3 guide")
    ax.set(xlabel="step", ylabel="log10 |update| / |w|", title="update-to-data ratio")
    ax.grid(alpha=0.3)
    if width:
        ax.legend(fontsize=7, loc="best")


# -- small numbers helpers ---------------------------------------------------------------------

def _share_of(values: list[float], test: Any) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _mean(values: list[float]) -> float:
    """The mean of the finite values (nan when there is none), scaled so as not to overflow."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan
    scale = max(abs(v) for v in finite) or 1.0
    return scale * (math.fsum(v / scale for v in finite) / len(finite))


def _std(values: list[float]) -> float:
    """The population standard deviation of the finite values, scaled as ``_mean``."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan
    scale = max(abs(v) for v in finite) or 1.0
    m = math.fsum(v / scale for v in finite) / len(finite)
    return scale * math.sqrt(math.fsum((v / scale - m) ** 2 for v in finite) / len(finite))


def _nonfinite(values: list[float]) -> int:
    return sum(1 for v in values if not math.isfinite(v))


def histogram(values: list[float], span: tuple[float, float] | None = None,
              bins: int = BINS) -> tuple[list[float], list[int]]:
    """(edges, counts) of the finite ``values`` over ``span`` (default: their range)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return [], []
    lo, hi = span if span is not None else (min(finite), max(finite))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in finite:
        counts[min(bins - 1, max(0, int((v - lo) / width)))] += 1
    return [lo + k * width for k in range(bins + 1)], counts


def _bars(ax: Any, hist: tuple[list[float], list[int]], color: str) -> None:
    edges, counts = hist
    if not counts:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes)
        return
    ax.stairs(counts, edges, fill=True, color=color, alpha=0.75)
    ax.tick_params(labelsize=7)


def _g(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.3g}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


# -- figures (matplotlib's Figure directly, never pyplot: a notebook's backend stays) -----------

INSTALL_PLOTS = "pip install matplotlib (or pip install 'edgegrad[all]')"


def figure(**kwargs: Any) -> Figure:
    """A matplotlib Figure, or ImportError saying what to install."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"the health plots need matplotlib: {INSTALL_PLOTS}") from None
    return Figure(**kwargs)


def png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure drawn as PNG bytes by the Agg renderer."""
    import io

    data = io.BytesIO()
    fig.savefig(data, format="png", dpi=dpi)
    return data.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> None:
    """Write the figure (PNG, SVG or PDF by the extension) atomically."""
    import io
    from pathlib import Path

    data = io.BytesIO()
    fig.savefig(data, dpi=110, format=Path(path).suffix[1:].lower() or "png")
    atomic_write(path, data.getvalue())


