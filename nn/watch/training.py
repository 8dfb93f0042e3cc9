"""What ``fit(..., live=..., health=...)`` does around each step: the update-to-data ratio,
the health reports every N steps, and the live view's frames."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from typing import Any

from ..losses import LossFn
from ..module import Module
from .health import HealthReport, health, log_ratio, update_ratios, weight_slices, with_ratios
from .live import LiveView, in_notebook

__all__ = ["TrainingWatch", "watch_for", "HEALTH_REPORTS"]

HEALTH_REPORTS = 10
"""``fit(health=True)`` takes a report before the first step, then every total/10 steps, and
after the last."""


class TrainingWatch:
    """The numbers ``fit`` records with ``health`` or ``live`` on, and the live view.

    ``before(engine)`` and ``after(history, engine)`` go around every step; ``finish`` runs
    when training ends, interrupted or not, and leaves ``history.update_ratio`` with exactly
    one row per counted step (an interrupt between counting a step and recording its ratio
    is made good there: the model then holds that step's parameters).
    """

    def __init__(self, model: Module, xs: Sequence[Sequence[Any]], ys: Sequence[Any],
                 loss: str | LossFn, every: int, live: LiveView | None, epochs: int) -> None:
        self.model = model
        self.params = model.parameters()
        self.slices = weight_slices(model, "fit(live=True)" if live else "fit(health=True)")
        self.xs, self.ys, self.loss = xs, ys, loss
        self.every = every
        self.live = live
        self._before: Any = None  # the parameters before this step: a list, or an array
        self._index: Any = None  # the slices as numpy index arrays (compiled training)
        self._reported = -1  # the step of the last health report
        if live is not None:
            live.start(model, xs, ys, loss, epochs)

    def _read(self, engine: Any) -> Any:
        # Compiled training keeps the parameters in an array: the ratio is taken there, with
        # numpy, so that it costs little next to a step of a millisecond.
        if engine is not None:
            return engine.theta.copy()
        return [p.data for p in self.params]

    def _ratios(self, before: Any, after: Any) -> list[float]:
        if isinstance(before, list):
            return update_ratios(before, after, self.slices)
        import numpy as np

        if self._index is None:
            self._index = [np.asarray(s, dtype=np.intp) for s in self.slices]
        d = after - before
        return [log_ratio(float(np.linalg.norm(d[i])), float(np.linalg.norm(before[i])))
                for i in self._index]

    def start(self, history: Any) -> None:
        """The report before the first step (with ``health`` on)."""
        if self.every:
            self._report(history, None)

    def before(self, engine: Any) -> None:
        """Keep the parameters as they are before this step's update."""
        self._before = self._read(engine)

    def after(self, history: Any, engine: Any) -> None:
        """Record the finished step's ratio; a health report or a frame when one is due."""
        if self._before is not None and len(history.update_ratio) < history.steps:
            history.update_ratio.append(self._ratios(self._before, self._read(engine)))
        self._before = None
        if self.every and history.steps % self.every == 0:
            self._report(history, engine)
        if self.live is not None and self.live.due():
            self._frame(history, engine)

    def finish(self, history: Any, engine: Any) -> None:
        """Exactly one ratio per counted step; the last report and the last frame."""
        del history.update_ratio[history.steps:]
        if len(history.update_ratio) < history.steps and self._before is not None:
            history.update_ratio.append(self._ratios(self._before, self._read(engine)))
        self._before = None
        history.health[:] = [r for r in history.health if (r.step or 0) <= history.steps]
        try:
            if self.every and self._reported != history.steps:
                self._report(history, engine)
            if self.live is not None:
                note = "interrupted" if history.interrupted else "done"
                self._frame(history, engine, note)
        except KeyboardInterrupt:
            # A second Ctrl-C while the last report or frame is drawn: skip them; the history
            # and the model are already whole.
            pass

    def _report(self, history: Any, engine: Any) -> None:
        if engine is not None:
            engine.publish()  # the model's Values get the current parameters
        report = health(self.model, self.xs, self.ys, loss=self.loss)
        ratios = history.update_ratio[max(self._reported, 0):history.steps]
        history.health.append(with_ratios(report, ratios, history.steps))
        self._reported = history.steps

    def _frame(self, history: Any, engine: Any, note: str = "") -> None:
        assert self.live is not None
        if engine is not None:
            engine.publish()
        latest: HealthReport | None = history.health[-1] if history.health else None
        self.live.draw(history, latest, note)


def watch_for(model: Module, xs: Sequence[Sequence[Any]], ys: Sequence[Any],
              loss: str | LossFn, live: bool | LiveView, health: bool | int, epochs: int,
              steps: int) -> TrainingWatch | None:
    """The TrainingWatch for ``fit``'s ``live`` and ``health`` options, or None when both are
    off (or ``live`` cannot show here and ``health`` is off: a warning says why)."""
    if isinstance(health, bool):
        every = max(1, steps // HEALTH_REPORTS) if health else 0
    elif isinstance(health, int) and health > 0:
        every = health
    else:
        raise ValueError(f"health must be True, False or a number of steps between reports; "
                         f"got {health!r}")
    view = live_view(live)
    if view is None and not every:
        return None
    return TrainingWatch(model, xs, ys, loss, every, view, epochs)


def live_view(live: bool | LiveView) -> LiveView | None:
    """The LiveView ``live`` asks for, or None (with a warning when it cannot be shown)."""
    if live is False:
        return None
    if not isinstance(live, (bool, LiveView)):
        raise ValueError(f"live must be True, False or an nn.watch.live.LiveView; got {live!r}")
    view = live if isinstance(live, LiveView) else LiveView()
    if view._show is None and not in_notebook():
        warnings.warn("live=True draws its figure in a Jupyter notebook (JupyterLab, Notebook "
                      "7, VS Code); outside one, training shows the progress bar instead",
                      RuntimeWarning, stacklevel=4)
        return None
    missing = [m for m in ("matplotlib", "numpy") if not _importable(m)]
    if missing:
        warnings.warn(f"live=True needs {' and '.join(missing)} (pip install "
                      f"'edgegrad[all]'); training shows the progress bar instead",
                      RuntimeWarning, stacklevel=4)
        return None
    return view


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
