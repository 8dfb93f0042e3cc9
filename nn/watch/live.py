"""The live view of ``fit(..., live=True)``: one figure in a notebook, redrawn as training runs.

It shows the loss of every step and the accuracy of every epoch so far, the decision boundary
(for 2 inputs; otherwise a note says why there is none), the update-to-data ratio per layer
against the 1e-3 guide, and each layer's share of dead ReLUs or saturated tanh/sigmoid units.

The figure is drawn by matplotlib's Agg renderer into a PNG, and an IPython display handle
is updated with it: no GUI backend, so the same code works in JupyterLab, Notebook 7 and VS
Code, and in a notebook executed without a front end (the last frame is its output).

What it costs is bounded: a frame is drawn during training only when at least ``interval``
seconds passed since the last one and the frames so far, this one and the last one (drawn
when training ends, interrupted or not) together take at most ``budget`` of the training time
so far, judged by the last frame's cost (before the first, ``FIRST_GUESS``). So a run of
``2 * cost / budget`` seconds or more spends at most about ``budget`` drawing, and a shorter
one shows only its last frame. ``benchmarks/live.py`` measures it.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..layers import MLP
from ..losses import LossFn, threshold
from .health import HealthReport, draw_ratios, figure, health, model_layers, png

__all__ = ["LiveView", "in_notebook", "FIRST_GUESS", "HEALTH_SAMPLE"]

FIRST_GUESS = 0.25
"""What a frame is assumed to cost, in seconds, until the first one is drawn: a guess, and an
optimistic one on a busy machine (frames took 1-3 s on a heavily shared one); every later
frame is judged by the cost measured for the one before."""

HEALTH_SAMPLE = 100
"""At most this many examples (evenly spread over the data) for the live view's health panel
when ``fit`` takes no health reports itself (``health=False``)."""


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook 7, VS Code, nbclient), where an
    IPython display handle can be updated; False in a terminal, a script or plain IPython."""
    ipython = sys.modules.get("IPython")  # never imported here: a script has not imported it
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _ipython_show() -> Callable[[bytes], None]:
    """A function that shows PNG bytes in one notebook output, replacing what it showed."""
    import IPython.display

    # Reached through Any: IPython ships no type hints.
    ipd: Any = IPython.display
    handle: Any = None

    def show(data: bytes) -> None:
        nonlocal handle
        if handle is None:
            handle = ipd.display(ipd.Image(data=data, format="png"), display_id=True)
        else:
            handle.update(ipd.Image(data=data, format="png"))
    return show


class LiveView:
    """The figure ``fit(live=...)`` redraws; pass one to ``fit(live=LiveView(...))`` to choose
    how often (``interval`` seconds at least, ``budget`` the share of the time spent drawing;
    None: no limit, a frame after every step once ``interval`` has passed) or where the frames
    go (``show(png_bytes)``; by default an IPython display handle)."""

    def __init__(self, *, interval: float = 0.5, budget: float | None = 0.08, dpi: int = 72,
                 resolution: int = 40, show: Callable[[bytes], None] | None = None) -> None:
        if not (interval >= 0 and (budget is None or 0 < budget <= 1)):
            raise ValueError(f"LiveView: interval >= 0 and budget in (0, 1] or None (no "
                             f"limit); got {interval!r} and {budget!r}")
        self.interval = float(interval)
        self.budget = budget
        self.dpi = int(dpi)
        self.resolution = int(resolution)
        self._show = show
        self.frames = 0
        """How many frames were shown."""
        self.seconds = 0.0
        """How long drawing them took, in all, the figure's set-up included."""
        self._fig: Any = None

    # -- set up by fit -------------------------------------------------------------------------

    def start(self, model: Any, xs: Sequence[Sequence[Any]], ys: Sequence[Any],
              loss: str | LossFn, epochs: int) -> None:
        """Prepare the figure for this training run (``fit`` calls it)."""
        self.model = model
        self.xs, self.ys = xs, ys
        self.loss = loss
        self.epochs = epochs
        self.layers = model_layers(model, "fit(live=True)")
        t0 = time.perf_counter()
        if self._show is None:
            self._show = _ipython_show()
        self._build()
        # Setting the figure up is the view's own cost as much as a frame is: it counts in
        # ``seconds``, so the budget bounds all that live=True adds, not the frames alone.
        self._start, self._last = t0, time.perf_counter()
        self.seconds += self._last - t0
        self._cost = 0.0

    def due(self) -> bool:
        """Whether a frame now keeps the drawing within its budget (see the module doc)."""
        now = time.perf_counter()
        if now - self._last < self.interval:
            return False
        if self.budget is None:
            return True
        training = now - self._start - self.seconds
        cost = self._cost or FIRST_GUESS
        return self.seconds + 2 * cost <= self.budget * training

    def draw(self, history: Any, report: HealthReport | None, note: str = "") -> None:
        """Redraw from ``history`` (History) and the latest health ``report``, and show it."""
        t0 = time.perf_counter()
        if report is None:
            report = self._sample_health()
        self._update(history, report, note)
        assert self._show is not None
        self._show(png(self._fig, self.dpi))
        self._last = time.perf_counter()
        self._cost = self._last - t0
        self.seconds += self._cost
        self.frames += 1

    # -- the figure ----------------------------------------------------------------------------

    def _build(self) -> None:
        # A fixed layout: matplotlib's constrained layout would triple the cost of a frame.
        fig = figure(figsize=(8.4, 5.8))
        fig.subplots_adjust(left=0.08, right=0.92, bottom=0.1, top=0.86, hspace=0.42,
                            wspace=0.32)
        (self.ax_loss, self.ax_b), (self.ax_r, self.ax_h) = fig.subplots(2, 2)
        self.loss_line, = self.ax_loss.plot([], [], color="#1f5fbf", lw=1, label="loss")
        self.ax_loss.set(xlabel="step", ylabel="loss", title="loss per step")
        self.ax_loss.grid(alpha=0.3)
        self.ax_acc = self.ax_loss.twinx()
        self.acc_line, = self.ax_acc.plot([], [], color="#2a7a2a", lw=1.2, label="accuracy")
        self.ax_acc.set_ylim(0, 1.01)
        self.ax_acc.set_ylabel("accuracy (per epoch)", color="#2a7a2a")
        self.boundary = BoundaryPanel(self.ax_b, self.model, self.xs, self.ys, self.loss,
                                      self.resolution)
        self.ax_h.set(title="dead ReLUs / saturated units", ylabel="share of the layer")
        self.ax_h.set_ylim(0, 1)
        names = [f"{i}\n{lay.activation}" for i, lay in enumerate(self.layers)]
        self.bars = self.ax_h.bar(range(len(self.layers)), [0.0] * len(self.layers),
                                  color="#b5462f", tick_label=names)
        self.ax_h.tick_params(labelsize=7)
        self._fig = fig

    def _update(self, history: Any, report: HealthReport, note: str) -> None:
        losses = history.step_loss
        self.loss_line.set_data(range(len(losses)), losses)
        finite = [v for v in losses if math.isfinite(v)]
        if finite:
            self.ax_loss.set_xlim(0, max(len(losses) - 1, 1))
            self.ax_loss.set_ylim(*padded(finite))
        per_epoch = max(history.steps // max(history.epochs, 1), 1)
        accs = [(per_epoch * (e + 1) - 1, a) for e, a in enumerate(history.accuracy)
                if a is not None]
        self.acc_line.set_data([s for s, _ in accs], [a for _, a in accs])
        self.boundary.update()
        self.ax_r.clear()
        draw_ratios(self.ax_r, getattr(history, "update_ratio", []))
        for bar, lay in zip(self.bars, report.layers):
            share = lay.dead if lay.dead is not None else lay.saturated
            bar.set_height(share or 0.0)
        acc = next((a for a in reversed(history.accuracy) if a is not None), None)
        parts = [f"step {history.steps}", f"epoch {history.epochs}/{self.epochs}"]
        if losses:
            parts.append(f"loss {losses[-1]:.4g}")
        if acc is not None:
            parts.append(f"accuracy {acc:.1%}")
        warn = f"\n{report.warnings[0]}" if report.warnings else ""
        self._fig.suptitle(" · ".join(parts) + (f"  ({note})" if note else "") + warn,
                           fontsize=9)

    def _sample_health(self) -> HealthReport:
        n = len(self.xs)
        step = -(-n // HEALTH_SAMPLE)  # at most HEALTH_SAMPLE examples, spread evenly
        idx = range(0, n, step)
        xs = [self.xs[i] for i in idx]
        ys = [self.ys[i] for i in idx]
        return health(self.model, xs, ys, loss=self.loss)


def padded(values: list[float]) -> tuple[float, float]:
    """Axis limits around the values with a tenth of their range to spare. (The loss is drawn
    on a linear axis: a log axis's tick labels are mathtext, whose parsing took half the time
    of a frame.)"""
    lo, hi = min(values), max(values)
    pad = 0.1 * (hi - lo or abs(hi) or 1.0)
    return lo - pad, hi + pad


class BoundaryPanel:
    """The decision boundary on one Axes, redrawn by ``update()`` from the model's current
    parameters: the plane coloured by the predicted class (one batch replay over a grid), the
    level curve where a single output crosses its threshold, the data on top. For inputs that
    are not 2-D it says why there is none (``note``)."""

    def __init__(self, ax: Any, model: Any, xs: Sequence[Sequence[Any]], ys: Sequence[Any],
                 loss: str | LossFn, resolution: int = 40) -> None:
        self.ax, self.model, self.loss, self.resolution = ax, model, loss, resolution
        width = len(xs[0])
        self.note: str | None = None
        if width != 2:
            self.note = (f"no decision boundary: the inputs have {width} features;\n"
                         f"a boundary is drawn for 2")
        elif not isinstance(model, MLP):
            self.note = "no decision boundary: it is drawn for an nn.MLP"
        self._image: Any = None
        self._contour: Any = None
        if self.note is not None:
            ax.text(0.5, 0.5, self.note, ha="center", va="center", fontsize=9,
                    transform=ax.transAxes)
            ax.set_axis_off()
            return
        import numpy as np

        pts = np.asarray([[float(v) for v in x] for x in xs], dtype=np.float64)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = 0.15 * np.where(hi > lo, hi - lo, 1.0)
        lo, hi = lo - pad, hi + pad
        self.g0 = np.linspace(lo[0], hi[0], resolution)
        self.g1 = np.linspace(lo[1], hi[1], resolution)
        self.points = [[a, b] for b in self.g1.tolist() for a in self.g0.tolist()]
        self.extent = (lo[0], hi[0], lo[1], hi[1])
        classes = [class_of(t, loss) for t in ys]
        self.k = max(2, max(classes) + 1)
        self.cmap = "coolwarm" if self.k == 2 else "tab10"
        ax.scatter(pts[:, 0], pts[:, 1], c=classes, cmap=self.cmap, vmin=0, vmax=self.k - 1,
                   s=14, edgecolors="black", linewidths=0.4, zorder=3)
        ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), title="decision boundary")

    def update(self) -> None:
        """Colour the plane by the model's current predictions."""
        if self.note is not None:
            return
        import numpy as np

        from ..compiled.trainer import outputs_of

        out = np.asarray(outputs_of(self.model, self.points), dtype=np.float64)
        r = self.resolution
        margin = None
        if out.shape[1] == 1:
            t = threshold(self.loss) if isinstance(self.loss, str) else 0.0
            margin = (out[:, 0] - t).reshape(r, r)
            grid = (margin > 0).astype(np.float64)
        else:
            grid = out.argmax(axis=1).reshape(r, r).astype(np.float64)
        if self._image is None:
            self._image = self.ax.imshow(grid, origin="lower", extent=self.extent,
                                         cmap=self.cmap, vmin=0, vmax=self.k - 1, alpha=0.35,
                                         aspect="auto", interpolation="nearest")
        else:
            self._image.set_data(grid)
        if self._contour is not None:
            self._contour.remove()
            self._contour = None
        if margin is not None and margin.min() < 0 < margin.max():
            self._contour = self.ax.contour(self.g0, self.g1, margin, levels=[0.0],
                                            colors="black", linewidths=0.8)


def class_of(t: Any, loss: str | LossFn) -> int:
    """The class index of one target in ``loss``'s convention (for colouring the data)."""
    if isinstance(t, Sequence) and not isinstance(t, (str, bytes)):
        values = [float(v) for v in t]
        if len(values) > 1:
            return max(range(len(values)), key=values.__getitem__)
        t = values[0]
    if loss == "softmax_ce":
        return int(t)
    return 1 if float(t) > (threshold(loss) if isinstance(loss, str) else 0.0) else 0
