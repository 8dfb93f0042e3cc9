"""The training loop: ``fit`` a model to data with a loss, an optimizer and mini-batches.

The loss of a batch B is  L = 1/|B| sum_{(x,t) in B} loss(model(x), t) + l2 * sum_p p^2,
the mean per-example loss plus the L2 penalty. One step: forward over the batch, backward,
one optimizer update. Ctrl-C (KeyboardInterrupt) stops cleanly: the model keeps the
parameters of the last finished step and ``fit`` returns the history so far.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from autograd import Value, no_grad

from .layers import Seed, make_rng
from .losses import LossFn, accuracy, get_loss
from .losses import l2 as l2_penalty
from .module import Module
from .optim import OPTIMIZERS, Optimizer, make_optimizer_named

INSTALL_EXTRAS = "pip install 'edgegrad[all]'"
"""How to install the optional packages, among them tqdm (the progress bar) and matplotlib (the
plots of ``nn.plots``)."""


@dataclass
class History:
    """What ``fit`` measured, one entry per finished epoch (and per step for ``step_loss``).

    ``loss[e]`` is the mean over epoch e's steps of the batch loss L (weighted by batch size),
    measured before each step's update; ``accuracy[e]`` is the fraction of the epoch's
    examples classified right at that moment (None when the loss has no notion of a class).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    steps: int = 0
    interrupted: bool = False
    compiled: bool = False

    @property
    def epochs(self) -> int:
        """How many epochs finished."""
        return len(self.loss)

    def _count(self, loss: float, epoch: EpochRecord | None) -> None:
        """Count one finished step and, with an epoch's last step, that epoch's record.

        They are written together so that an interrupt between them cannot leave a history
        whose step count says an epoch finished while its record is missing; the callers undo
        this with ``_truncate`` when the interrupt lands inside."""
        self.step_loss.append(loss)
        if epoch is not None:
            self.loss.append(epoch.loss)
            self.accuracy.append(epoch.accuracy)
            self.lr.append(epoch.lr)
        self.steps += 1

    def _truncate(self, steps: int, epochs: int) -> None:
        """Back to ``steps`` finished steps and ``epochs`` finished epochs."""
        del self.step_loss[steps:]
        del self.loss[epochs:]
        del self.accuracy[epochs:]
        del self.lr[epochs:]
        self.steps = steps


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch's entries of ``History``: its mean loss, accuracy and learning rate."""

    loss: float
    accuracy: float | None
    lr: float


@dataclass(frozen=True)
class StepInfo:
    """Passed to ``fit``'s callback after each finished step."""

    step: int
    epoch: int
    loss: float
    lr: float


def batch_loss(model: Module, xs: Sequence[Sequence[Any]], ys: Sequence[Any],
               loss: str | LossFn, l2: float = 0.0) -> tuple[Value, list[list[Value]]]:
    """L = mean over the batch of loss(model(x), t) + l2 * sum_p p^2, and the outputs."""
    fn = get_loss(loss)
    outs = [model(x) for x in xs]
    total = Value.sum([fn(o, t) for o, t in zip(outs, ys)]) * (1.0 / len(outs))
    if l2:
        total = total + l2 * l2_penalty(model.parameters())
    return total, outs


def evaluate(model: Module, xs: Sequence[Sequence[Any]], ys: Sequence[Any],
             loss: str | LossFn = "hinge", l2: float = 0.0) -> tuple[float, float | None]:
    """(L, accuracy) over all of ``xs`` without recording a graph."""
    _check_data(xs, ys)
    with no_grad():
        total, outs = batch_loss(model, xs, ys, loss, l2)
    acc = accuracy(outs, ys, loss) if isinstance(loss, str) else None
    return total.data, acc


def _check_data(xs: Sequence[Any], ys: Sequence[Any]) -> None:
    if len(xs) != len(ys):
        raise ValueError(f"xs has {len(xs)} examples but ys has {len(ys)}; they must match")
    if not xs:
        raise ValueError("no training examples (xs is empty)")


def make_optimizer(optimizer: Optimizer | str | None, params: list[Value],
                   lr: float | None) -> Optimizer:
    """An Optimizer instance from one, from a name in OPTIMIZERS, or SGD when None."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer is None:
        optimizer = "sgd"
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(OPTIMIZERS)} or pass an nn.optim.Optimizer")
    return make_optimizer_named(optimizer, params, lr=lr)


def fit(model: Module, xs: Sequence[Sequence[Any]], ys: Sequence[Any], *,
        loss: str | LossFn = "hinge", optimizer: Optimizer | str | None = None,
        lr: float | None = None, schedule: Callable[[int], float] | None = None,
        epochs: int = 100, batch_size: int | None = None, l2: float = 0.0,
        shuffle: bool = True, seed: Seed = None, progress: bool = True,
        compiled: bool = False, callback: Callable[[StepInfo], None] | None = None) -> History:
    """Minimize the batch loss L (see the module doc) over ``epochs`` passes through the data.

    ``ys`` are targets in the loss's convention (``Dataset.targets(loss)`` encodes labels).
    ``optimizer`` is an Optimizer over ``model.parameters()``, a name ("sgd", "adam",
    "adamw", created with ``lr``), or None for SGD. ``schedule(step) -> lr`` sets the learning
    rate before every step (e.g. ``nn.optim.LinearDecay``). ``batch_size=None`` means full
    batch; otherwise the data is reshuffled each epoch with ``seed``. ``compiled=True`` runs
    forward and backward through ``nn.compiled.trainer`` (numpy) when the graph allows it, and falls
    back to the eager engine with a warning otherwise. ``progress`` shows a tqdm bar (none, with
    a warning, without tqdm). ``callback(StepInfo)`` runs after each finished step. Returns
    the History; on Ctrl-C it stops, keeping the last finished step.
    """
    _check_data(xs, ys)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int; got {epochs!r}")
    n = len(xs)
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None (full batch); "
                         f"got {batch_size!r}")
    if not math.isfinite(l2) or l2 < 0:
        raise ValueError(f"l2 must be a non-negative number; got {l2!r}")
    loss_fn = get_loss(loss)
    loss_name = loss if isinstance(loss, str) else None
    params = model.parameters()
    opt = make_optimizer(optimizer, params, lr)
    rng = make_rng(seed)
    order = list(range(n))
    history = History()

    engine: Any = None
    if compiled:
        engine = _compile(model, loss_fn, xs, ys, l2, opt)
        history.compiled = engine is not None

    bar = _progress(epochs) if progress else None
    step = 0
    wrapped = False
    try:
        for epoch in range(epochs):
            if shuffle and batch_size < n:
                rng.shuffle(order)
            epoch_loss = 0.0
            epoch_outs: list[Sequence[Any]] = []
            epoch_ys: list[Any] = []
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                if schedule is not None:
                    opt.lr = float(schedule(step))
                if engine is not None:  # the batch stays in arrays (nn.compiled.trainer)
                    value = engine.grads(idx)
                else:
                    bx = [xs[i] for i in idx]
                    by = [ys[i] for i in idx]
                    value, outs = _eager_grads(model, bx, by, loss, l2)
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"the loss became {value!r} at step {step} (epoch {epoch}); the model "
                        f"keeps its last finite parameters. Try a smaller learning rate "
                        f"(it was {opt.lr:g}).")
                epoch_loss += value * len(idx)
                if engine is None:
                    epoch_outs.extend(outs)
                    epoch_ys.extend(by)
                # Every number of the epoch's record is measured before its last update, so
                # the record is counted with that step, all or nothing (History._count).
                record = None
                if start + batch_size >= n:
                    if engine is not None:
                        acc = engine.accuracy(loss_name)
                    else:
                        acc = accuracy(epoch_outs, epoch_ys, loss_name) if loss_name else None
                    record = EpochRecord(epoch_loss / n, acc, opt.lr)
                if engine is not None:
                    engine.step(history, value, record,
                                partial(_atomic_step, opt, params, history, value, record))
                else:
                    _atomic_step(opt, params, history, value, record)
                step = history.steps
                if callback is not None:
                    if engine is not None:
                        engine.publish()  # the callback sees the model as it is now
                    callback(StepInfo(step - 1, epoch, value, opt.lr))
                    if engine is not None:
                        engine.reload()
            if bar is not None:
                post = {"loss": f"{epoch_loss / n:.4g}"}
                if history.accuracy[-1] is not None:
                    post["acc"] = f"{history.accuracy[-1]:.1%}"
                bar.set_postfix(post, refresh=False)
                bar.update(1)
        # The wrapping up runs inside the try too: an interrupt that lands in it (tqdm's close
        # is Python code, where a signal can be delivered) is then caught like any other.
        _wrap_up(engine, bar)
        wrapped = True
    except KeyboardInterrupt:
        history.interrupted = True
        msg = (f"interrupted: stopped after {history.steps} finished step(s); the model keeps "
               f"the parameters of the last finished step")
        if bar is not None:
            try:
                bar.write(msg)
            except OSError:
                pass  # the terminal is gone (SIGHUP): the history still returns
        else:
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
    finally:
        if not wrapped:
            _wrap_up(engine, bar)
    return history


def _wrap_up(engine: Any, bar: Any) -> None:
    """The model's Values get the last finished step's parameters; the progress bar closes."""
    if engine is not None:
        engine.publish()
    if bar is not None:
        try:
            bar.close()
        except OSError:
            pass  # the terminal is gone (SIGHUP)


def _eager_grads(model: Module, bx: list[Any], by: list[Any], loss: str | LossFn,
                 l2: float) -> tuple[float, list[Any]]:
    total, outs = batch_loss(model, bx, by, loss, l2)
    model.zero_grad()
    total.backward()
    return total.data, [[y.data for y in o] for o in outs]


def _atomic_step(opt: Optimizer, params: list[Value], history: History, value: float,
                 record: EpochRecord | None = None) -> None:
    """Update the parameters and count the step (with ``record`` when it ends an epoch), all
    or nothing.

    An interrupt in the middle would leave some parameters moved and others not, or a step
    taken but not counted: restore the parameters, the optimizer state and the count, then let
    the interrupt through. Counting is the try block's last act, so the step counts exactly
    when it took effect. An update that makes a parameter inf or NaN (divergence) is undone
    the same way and raises FloatingPointError.
    """
    before = [p.data for p in params]
    state = opt.state_dict()
    finished, epochs = history.steps, history.epochs
    try:
        opt.step()
        bad = next((i for i, p in enumerate(params) if not math.isfinite(p.data)), None)
        if bad is not None:
            raise FloatingPointError(
                f"training diverged: the update of step {finished} (lr {opt.lr:g}) made "
                f"parameter {bad} {params[bad].data!r}; the model keeps the parameters from "
                f"before that step. Try a smaller learning rate.")
        history._count(value, record)
    except (KeyboardInterrupt, FloatingPointError):
        for p, x in zip(params, before):
            p.data = x
        opt.load_state_dict(state)
        history._truncate(finished, epochs)
        raise


def _compile(model: Module, loss_fn: LossFn, xs: Sequence[Any], ys: Sequence[Any], l2: float,
             opt: Optimizer) -> Any:
    try:
        # numpy first: the trainer and the tape import it only inside their methods, where
        # its absence would surface mid-training instead of here, as this fallback.
        import numpy  # noqa: F401

        from nn.compiled.trainer import CompiledTraining, NotCompilable, compile_loss
    except ImportError as e:
        warnings.warn(f"compiled=True needs numpy and nn.compiled.trainer ({e}); training with the "
                      f"eager engine instead. Install numpy with: pip install 'edgegrad[fast]'",
                      RuntimeWarning, stacklevel=3)
        return None
    try:
        # With the training data as the sample, a data-dependent graph is found here, up front,
        # rather than at the first batch.
        return CompiledTraining(compile_loss(model, loss_fn, xs, ys), xs, ys, l2, opt)
    except NotCompilable as e:
        warnings.warn(f"this model and loss cannot be compiled ({e}); training with the eager "
                      f"engine instead", RuntimeWarning, stacklevel=3)
        return None


def _progress(epochs: int) -> Any:
    """A tqdm bar over the epochs; None, with one warning, when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn(f"no progress bar: it needs tqdm ({INSTALL_EXTRAS}); training without one",
                      RuntimeWarning, stacklevel=3)
        return None
    return tqdm(total=epochs, desc="training", unit="epoch", leave=True)
