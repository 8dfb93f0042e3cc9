"""A training run as an animation: the decision boundary and the loss, a frame every N steps.

``Recorder`` is a ``fit`` callback: it keeps every step's loss and, every ``every`` steps (and
before the first), the model's parameters. ``Recorder.save(path)`` draws one frame per kept
state, by the Agg renderer, and writes a GIF (needs Pillow) or an HTML player with its
controls (the project's player, ``autograd.drawing.player``), chosen by the extension.
``edgegrad train --animate run.gif`` is this.
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd import atomic_write
from autograd.drawing.player import player_html, write_gif

from ..losses import LossFn
from ..module import Module
from .health import figure, png
from .live import BoundaryPanel, padded

__all__ = ["Recorder", "check_path", "every_for", "FORMATS", "MAX_FRAMES"]

FORMATS = (".gif", ".html", ".htm")
"""The animation formats, by the file's extension."""

MAX_FRAMES = 60
"""``every_for`` chooses N so that a run makes at most about this many frames."""


def check_path(path: str | os.PathLike[str]) -> str | None:
    """Why an animation cannot be written to ``path`` (by its extension), or None."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        return (f"cannot tell the animation format of {str(path)!r}: give a .gif or an .html "
                f"(a player with controls) file")
    return None


def every_for(steps: int, frames: int = MAX_FRAMES) -> int:
    """The N that gives at most about ``frames`` frames over ``steps`` steps."""
    return max(1, math.ceil(steps / frames))


class Recorder:
    """A ``fit`` callback that records the run for ``save``: each step's loss, and the
    parameters before the first step and after every ``every``-th (and the last)."""

    def __init__(self, model: Module, xs: Sequence[Sequence[Any]], ys: Sequence[Any],
                 loss: str | LossFn, every: int = 1) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive number of steps; got {every!r}")
        self.model, self.xs, self.ys, self.loss = model, xs, ys, loss
        self.every = every
        self.params = model.parameters()
        self.losses: list[float] = []
        self.states: list[tuple[int, list[float]]] = [(0, [p.data for p in self.params])]

    def __call__(self, info: Any) -> None:
        """Record the step ``info`` (fit's StepInfo) has just finished."""
        self.losses.append(info.loss)
        done = info.step + 1
        if done % self.every == 0:
            self.states.append((done, [p.data for p in self.params]))

    def finish(self) -> None:
        """Record the final parameters if the last step was not a multiple of ``every``."""
        done = len(self.losses)
        if self.states[-1][0] != done:
            self.states.append((done, [p.data for p in self.params]))

    def pngs(self, dpi: int = 72) -> tuple[list[bytes], list[str]]:
        """Each recorded state drawn as a PNG, and its caption. The model's parameters are put
        back afterwards."""
        self.finish()
        fig = figure(figsize=(8.4, 3.6))
        fig.subplots_adjust(left=0.07, right=0.97, bottom=0.15, top=0.86, wspace=0.28)
        ax_b, ax_l = fig.subplots(1, 2)
        panel = BoundaryPanel(ax_b, self.model, self.xs, self.ys, self.loss)
        line, = ax_l.plot([], [], color="#1f5fbf", lw=1)
        marker, = ax_l.plot([], [], "o", color="#b5462f", ms=4)
        finite = [v for v in self.losses if math.isfinite(v)]
        ax_l.set(xlabel="step", ylabel="loss", title="loss per step",
                 xlim=(0, max(len(self.losses), 1)))
        if finite:
            ax_l.set_ylim(*padded(finite))
        ax_l.grid(alpha=0.3)
        saved = [p.data for p in self.params]
        frames, captions = [], []
        try:
            for step, values in self.states:
                for p, v in zip(self.params, values):
                    p.data = v
                panel.update()
                line.set_data(range(1, step + 1), self.losses[:step])
                if step:
                    marker.set_data([step], [self.losses[step - 1]])
                caption = f"step {step} of {len(self.losses)}"
                if step:
                    caption += f": loss {self.losses[step - 1]:.4g}"
                fig.suptitle(caption, fontsize=10)
                frames.append(png(fig, dpi))
                captions.append(caption)
        finally:
            for p, v in zip(self.params, saved):
                p.data = v
        return frames, captions

    def save(self, path: str | os.PathLike[str], interval_ms: int = 200) -> Path:
        """Write the animation: a GIF for .gif, an HTML player (offline) for .html."""
        problem = check_path(path)
        if problem:
            raise ValueError(problem)
        frames, captions = self.pngs()
        if Path(path).suffix.lower() == ".gif":
            return write_gif(Path(path), frames, interval_ms)
        images = [f'<img alt="{html.escape(c)}" src="data:image/png;base64,'
                  f'{base64.b64encode(f).decode("ascii")}">' for f, c in zip(frames, captions)]
        return atomic_write(path, player_html(images, captions, interval_ms,
                                              title="edgegrad: a network learning"))
