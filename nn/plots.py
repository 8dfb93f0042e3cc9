"""The pictures of training: its curves, the decision boundary and one example's computation
graph. ``edgegrad train`` writes them; each also works on its own (the notebooks use them).

matplotlib is used through ``matplotlib.figure.Figure`` directly, never pyplot, so nothing
here changes the backend of a notebook; files are written with the Agg renderer.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograd import Value, atomic_write, no_grad, save, to_dot

from .data import Dataset
from .layers import MLP
from .losses import get_loss, threshold
from .train import INSTALL_EXTRAS, History

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(**kwargs: Any) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"plots need matplotlib: {INSTALL_EXTRAS}") from None
    return Figure(**kwargs)


def _save(fig: Figure, path: str | os.PathLike[str]) -> None:
    # Drawn in memory, then written atomically: a full disk or a signal never leaves half a PNG.
    data = io.BytesIO()
    fig.savefig(data, dpi=110, format=Path(path).suffix[1:].lower() or "png")
    atomic_write(path, data.getvalue())


def plot_history(history: History, path: str | os.PathLike[str] | None = None) -> Figure:
    """Loss (log scale) and accuracy per epoch, side by side; saved to ``path`` when given."""
    fig = _figure(figsize=(9, 3.4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = range(1, history.epochs + 1)
    ax_loss.plot(epochs, history.loss, color="#1f5fbf")
    if history.loss and min(history.loss) > 0:
        ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="training loss")
    ax_loss.grid(alpha=0.3)
    accs = [(e, a) for e, a in zip(epochs, history.accuracy) if a is not None]
    if accs:
        ax_acc.plot([e for e, _ in accs], [100 * a for _, a in accs], color="#2a7a2a")
        ax_acc.set_ylim(0, 101)
    else:
        ax_acc.text(0.5, 0.5, "no accuracy for this loss", ha="center", va="center")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="training accuracy")
    ax_acc.grid(alpha=0.3)
    if path is not None:
        _save(fig, path)
    return fig


def classify(outputs: Sequence[Any], loss: str) -> int:
    """The class index of one example's outputs: a threshold for one output, else arg max."""
    ys = [y.data if isinstance(y, Value) else float(y) for y in outputs]
    if len(ys) == 1:
        return 1 if ys[0] > threshold(loss) else 0
    return max(range(len(ys)), key=ys.__getitem__)


def _outputs_at(model: MLP, points: list[tuple[float, float]]) -> list[list[float]]:
    """The model's outputs at every point: replayed as one batch (``compiled.trainer.outputs_of``;
    numpy is there, since matplotlib needs it), else point by point on the eager engine."""
    try:
        from .compiled.trainer import outputs_of

        return outputs_of(model, points)
    except ImportError:
        with no_grad():
            return [[y.data for y in model(list(p))] for p in points]


def plot_boundary(model: MLP, dataset: Dataset, loss: str,
                  path: str | os.PathLike[str] | None = None, resolution: int = 60) -> Figure:
    """The plane coloured by the predicted class, with the data on top (2 features only)."""
    if dataset.n_features != 2:
        raise ValueError(f"a decision boundary needs 2 features; {dataset.name} has "
                         f"{dataset.n_features}")
    xs0 = [p[0] for p in dataset.xs]
    xs1 = [p[1] for p in dataset.xs]
    pad0 = 0.15 * (max(xs0) - min(xs0) or 1.0)
    pad1 = 0.15 * (max(xs1) - min(xs1) or 1.0)
    lo0, hi0 = min(xs0) - pad0, max(xs0) + pad0
    lo1, hi1 = min(xs1) - pad1, max(xs1) + pad1
    g0 = [lo0 + (hi0 - lo0) * i / (resolution - 1) for i in range(resolution)]
    g1 = [lo1 + (hi1 - lo1) * i / (resolution - 1) for i in range(resolution)]
    fig = _figure(figsize=(5.2, 4.4), layout="constrained")
    ax = fig.subplots()
    k = max(dataset.n_classes, 2)
    cmap = "coolwarm" if k == 2 else "tab10"
    flat = _outputs_at(model, [(a, b) for b in g1 for a in g0])
    outs = [flat[i * resolution:(i + 1) * resolution] for i in range(resolution)]
    if len(outs[0][0]) == 1:
        # One output: contour its margin over the threshold, so the boundary is the smooth
        # level curve margin = 0 rather than the staircase of a grid of class labels.
        t = threshold(loss)
        margin = [[row[0] - t for row in line] for line in outs]
        top = max(1e-9, max(max(line) for line in margin))
        bottom = min(-1e-9, min(min(line) for line in margin))
        ax.contourf(g0, g1, margin, levels=[bottom, 0.0, top], colors=_two_colors(cmap),
                    alpha=0.35)
        ax.contour(g0, g1, margin, levels=[0.0], colors="black", linewidths=0.8)
    else:
        grid = [[classify(row, loss) for row in line] for line in outs]
        levels = [c - 0.5 for c in range(k + 1)]
        ax.contourf(g0, g1, grid, levels=levels, cmap=cmap, alpha=0.35, vmin=0, vmax=k - 1)
    ax.scatter(xs0, xs1, c=dataset.labels, cmap=cmap, vmin=0, vmax=k - 1, s=22,
               edgecolors="black", linewidths=0.5)
    ax.set(xlabel=dataset.feature_names[0], ylabel=dataset.feature_names[1],
           title=f"decision boundary on {dataset.name}")
    if path is not None:
        _save(fig, path)
    return fig


def _two_colors(cmap: str) -> list[Any]:
    from matplotlib import colormaps

    c = colormaps[cmap]
    return [c(0.0), c(1.0)]  # the colours scatter uses for classes 0 and 1 (vmin 0, vmax 1)


def hardest_example(model: MLP, xs: Sequence[Sequence[float]], ys: Sequence[Any],
                    loss: str) -> int:
    """The index of the example with the largest loss (the first one on ties)."""
    fn = get_loss(loss)
    with no_grad():
        losses = [fn(model(x), t).data for x, t in zip(xs, ys)]
    return max(range(len(losses)), key=losses.__getitem__)


def draw_example(model: MLP, x: Sequence[float], target: Any, loss: str, out_dir: Path,
                 max_nodes: int | None = 300) -> tuple[Path, str | None]:
    """Draw loss(model(x), target) for one example, after backward, grouped by neuron.

    Writes ``graph.svg`` with autograd.drawing.graph and Graphviz; when rendering fails (no ``dot``
    program, or ``dot`` failed or ran out of time), writes the DOT text to ``graph.dot`` instead.
    Returns the path and a note saying why, if it fell back. A file that cannot be written
    raises its OSError. Parameter grads are overwritten by this example's gradient.
    """
    trace = model.trace(x)
    root = get_loss(loss)(trace.output, target)
    root.label = "loss"
    model.zero_grad()
    root.backward()
    try:
        return save(root, out_dir / "graph.svg", groups=trace.groups,
                        max_nodes=max_nodes), None
    except (ImportError, RuntimeError) as e:  # no dot program (GraphvizNotFound), or it failed
        note = f"could not render SVG ({type(e).__name__}: {str(e).splitlines()[0]})"
    dot = out_dir / "graph.dot"
    atomic_write(dot, to_dot(root, groups=trace.groups, max_nodes=max_nodes))
    return dot, note
