"""Compiled training: trace a model's per-example loss once, replay it over a batch with numpy.

``compile_loss(model, loss_fn)`` returns a ``CompiledLoss`` whose ``sum_loss_and_grads(xs, ys)``
gives the same numbers as building the graph for every example and calling backward (to
rounding), but evaluates each op once for the whole batch (see ``autograd.compiled.tape``).

It traces with the features and the target as input leaves, on the sample given to
``compile_loss`` or else on the first batch. Graphs whose structure depends on the data cannot
be replayed: the traces of a few examples (each new pattern of feature signs, and examples
with other targets) are compared with the first. Losses that must see their target as a
number (a class index that picks an output by reading it) are compiled once per distinct
target value instead; ``nn.losses.softmax_ce`` does not need that: it picks its output with a
traced indicator.

``fit(compiled=True)`` keeps everything in arrays (``CompiledTraining``): the data set
(``arrays``, made once), the parameters as a vector, the loss, the accuracy and the
optimizer's update (``ArrayUpdate``); the model's Values are written when fit returns or a
callback runs.

When the graph cannot be compiled, ``compile_loss(model, loss_fn, xs, ys)`` raises
``NotCompilable`` at once. Without a sample the problem shows only on the first batch; then
``sum_loss_and_grads`` warns once (RuntimeWarning) and computes this and every later batch
with the eager engine (``.compiled`` becomes False), so a training loop never stops midway.

``trace_objective`` is the lower-level form for hand-built graphs: one example's loss traced
once, plus batch-level terms (a mean, an L2 penalty) as a second small program over the batch
sum and the parameters.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd import Value
from autograd.compiled.tape import Tape, fused, trace

from ..losses import accuracy_of_arrays
from ..module import Module
from ..optim import SGD, Adam, Optimizer

MAX_TARGET_PROGRAMS = 64
"""At most this many distinct target values get their own program (class indices)."""

_MAX_CHECKED_TARGETS = 100_000


class NotCompilable(Exception):
    """The model's graph cannot be replayed over a batch (its structure depends on the data)."""


def compile_loss(model: Module, loss_fn: Callable[[Any, Any], Value],
                 xs: Sequence[Sequence[float]] | None = None,
                 ys: Sequence[Any] | None = None) -> CompiledLoss:
    """Prepare ``loss_fn(model(x), t)`` for batch replay.

    With a sample (``xs``, ``ys``: e.g. the training set) it traces now and raises
    NotCompilable if the graph depends on the data; without one it traces on first use.
    """
    compiled = CompiledLoss(model, loss_fn)
    if xs is not None and ys is not None and len(xs) > 0:
        if len(xs) != len(ys):
            raise ValueError(f"compile_loss: {len(xs)} examples but {len(ys)} targets")
        compiled.prepare(xs, ys)
    return compiled


def outputs_of(model: Module, points: Sequence[Sequence[float]]) -> list[list[float]]:
    """The model's outputs at every point, as one batch: its graph traced once (at the first
    point) and replayed over all of them. Only for a model whose graph is the same whatever
    its input, as an ``nn.MLP``'s is (its activations are ops, not branches). Needs numpy."""
    import numpy as np

    xs = [Value(float(v), f"x{i}") for i, v in enumerate(points[0])]
    params = model.parameters()
    tape = trace(_as_list(model(xs)), xs, params)
    run = tape.forward(np.asarray(points, dtype=np.float64),
                       np.array([p.data for p in params], dtype=np.float64))
    outputs: list[list[float]] = run.outputs.tolist()
    return outputs


def _as_list(out: Any) -> list[Value]:
    if isinstance(out, Value):
        return [out]
    if isinstance(out, Sequence) and all(isinstance(v, Value) for v in out):
        return list(out)
    raise NotCompilable(f"the model must return a Value or a list of Values to be compiled; "
                        f"got {type(out).__name__}")


def _spread(xs: Sequence[Sequence[Any]], idx: list[int], most: int = 4) -> list[int]:
    """Up to ``most`` of the examples ``idx`` (the first kept first) to compare traces of:
    each new pattern of feature signs first (branches usually test a sign), then spread out."""
    chosen: list[int] = []
    seen: set[tuple[bool, ...]] = set()
    for i in idx:
        signs = tuple(float(v) > 0 for v in xs[i])
        if signs not in seen:
            seen.add(signs)
            chosen.append(i)
            if len(chosen) == most:
                return chosen
    step = max(1, len(idx) // most)
    for i in idx[::step]:
        if len(chosen) == most:
            break
        if i not in chosen:
            chosen.append(i)
    return chosen


def _as_list_eager(out: Any) -> list[Value]:
    return [out] if isinstance(out, Value) else list(out)


def _target_values(y: Any) -> list[float]:
    if type(y) is float:  # the common case, first
        return [y]
    if isinstance(y, numbers.Real) and not isinstance(y, bool):
        return [float(y)]
    if isinstance(y, Sequence) and not isinstance(y, (str, bytes)):
        return [float(v) for v in y]
    raise TypeError(f"a target must be a number or a list of numbers; got {y!r}")


def _key(y: Any) -> Any:
    return tuple(_target_values(y))


class CompiledLoss:
    """The batch replay of one model's per-example loss. See ``compile_loss``."""

    def __init__(self, model: Module, loss_fn: Callable[[Any, Any], Value]) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.params: list[Value] = list(model.parameters())
        self.mode: str | None = None  # "input": one program, target traced as an input leaf;
        # "constant": one program per distinct target value
        self.tape: Tape | None = None
        self.tapes: dict[Any, Tape] = {}
        self._probe: Any = None  # one example's model outputs, to validate new targets on
        self._checked: set[Any] = set()
        self.compiled = True
        """False once the graph proved not compilable and batches run on the eager engine."""

    # -- tracing -------------------------------------------------------------------------------

    def _trace(self, x: Sequence[Any], y: Any, target_as_input: bool) -> Tape:
        xs = [Value(float(v), label=f"x{i}") for i, v in enumerate(x)]
        if target_as_input:
            ts = [Value(v, label=f"t{k}") for k, v in enumerate(_target_values(y))]
            t: Any = ts[0] if isinstance(y, numbers.Real) else ts
        else:
            ts, t = [], y
        out = self.model(xs)
        outs = _as_list(out)
        loss = self.loss_fn(out, t)
        if not isinstance(loss, Value):
            raise NotCompilable(f"the loss must return a Value; got {type(loss).__name__}")
        # Unfused: traces are compared step by step; the one kept is fused then (fused()).
        return trace([loss, *outs], xs + ts, self.params, fuse=False)

    def _same(self, a: Tape, b: Tape, i: int, j: int, what: str) -> None:
        diff = a.first_difference(b)
        if diff is not None:
            raise NotCompilable(
                f"the graph depends on the data, so it cannot be compiled: traced with {what} "
                f"examples {i} and {j}, {diff}. The model or the loss branches on a Value's data "
                f"(an if, a max, a .data read). Train without compiled=True (eager mode).")

    def prepare(self, xs: Sequence[Any], ys: Sequence[Any]) -> None:
        """Trace on this sample now; raise NotCompilable if the graph depends on the data."""
        self._choose_mode(xs, ys)
        if self.mode == "constant":
            groups: dict[Any, list[int]] = {}
            for i, y in enumerate(ys):
                groups.setdefault(_key(y), []).append(i)
            for key, idx in groups.items():
                self._tape_for(key, idx, xs, ys)
        else:
            self._check_targets(ys)

    def _choose_mode(self, xs: Sequence[Any], ys: Sequence[Any]) -> None:
        # Trace a few examples and compare their programs: first examples sharing example 0's
        # target (a difference there can only come from the features: not compilable), then
        # examples with other targets (a difference there: one program per target instead).
        same = [i for i in range(len(ys)) if _key(ys[i]) == _key(ys[0])]
        other = [i for i in range(len(ys)) if _key(ys[i]) != _key(ys[0])]
        try:
            first = self._trace(xs[0], ys[0], True)
        except (TypeError, ValueError):  # e.g. the loss needs its target as an int class index
            self.mode = "constant"
            return
        for i in _spread(xs, same)[1:]:
            self._same(first, self._trace(xs[i], ys[i], True), 0, i, "the same target,")
        try:
            for i in _spread(xs, other, 2):  # does the program read the target's value?
                self._same(first, self._trace(xs[i], ys[i], True), 0, i, "different targets,")
            if not other:
                # Every sample shares one target, so nothing above showed whether the loss
                # reads its target's value (softmax_ce picks an output by class index). Trace
                # once more with another target: replaying one target's program for a
                # different target would be silently wrong.
                probe = [v + 1.0 for v in _target_values(ys[0])]
                self._same(first, self._trace(xs[0], probe if len(probe) > 1 else probe[0],
                                              True), 0, 0, "a changed target,")
        except (NotCompilable, TypeError, ValueError):
            self.mode = "constant"
            return
        self.mode, self.tape = "input", fused(first)
        self._probe = self.model([float(v) for v in xs[0]])

    def _tape_for(self, key: Any, idx: list[int], xs: Sequence[Any], ys: Sequence[Any]) -> Tape:
        tape = self.tapes.get(key)
        if tape is None:
            if len(self.tapes) >= MAX_TARGET_PROGRAMS:
                raise NotCompilable(
                    f"the loss needs its target as a number and the data has more than "
                    f"{MAX_TARGET_PROGRAMS} distinct targets (one program each); "
                    f"train without compiled=True (eager mode)")
            tape = self._trace(xs[idx[0]], ys[idx[0]], False)
            for i in _spread(xs, idx)[1:]:
                self._same(tape, self._trace(xs[i], ys[i], False), idx[0], i, "the same target,")
            tape = self.tapes[key] = fused(tape)
        return tape

    def _check_targets(self, ys: Sequence[Any]) -> None:
        """Let the loss see each new target value once, so it rejects a bad one as in eager
        mode (the replay itself never calls the loss)."""
        for y in ys:
            key = _key(y)
            if key not in self._checked:
                self.loss_fn(self._probe, y)
                if len(self._checked) < _MAX_CHECKED_TARGETS:
                    self._checked.add(key)

    # -- replay --------------------------------------------------------------------------------

    def sum_loss_and_grads(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]
                           ) -> tuple[float, list[float], list[list[float]]]:
        """(Σ_i loss_i, Σ_i ∂loss_i/∂θ aligned with model.parameters(), each example's outputs)."""
        if len(xs) != len(ys):
            raise ValueError(f"sum_loss_and_grads: {len(xs)} examples but {len(ys)} targets")
        if len(xs) == 0:
            return 0.0, [0.0] * len(self.params), []
        params = list(self.model.parameters())
        if len(params) != len(self.params) or any(a is not b for a, b in zip(params, self.params)):
            # The model's parameters were replaced (e.g. a new model loaded): trace again.
            self.params, self.mode, self.tape, self.tapes = params, None, None, {}
        if self.compiled and self.mode is None:
            try:
                self.prepare(xs, ys)
            except NotCompilable as e:
                warnings.warn(f"this model and loss cannot be compiled ({e}); computing with "
                              f"the eager engine instead", RuntimeWarning, stacklevel=2)
                self.compiled = False
        if not self.compiled:
            return self._eager(xs, ys)
        data = self.arrays(xs, ys, "sum_loss_and_grads")
        loss, grads, outs = self.replay(data, None, [p.data for p in self.params])
        return loss, grads.tolist(), outs.tolist()

    def arrays(self, xs: Sequence[Sequence[float]], ys: Sequence[Any],
               who: str = "compile_loss") -> Arrays:
        """The examples as arrays for ``replay``, made once for a whole data set; each new
        target value is shown to the loss first, so a bad one raises as in eager mode."""
        import numpy as np  # the tape already required it; here for arrays only

        if self.mode is None:
            self.prepare(xs, ys)
        try:
            features = np.asarray(xs, dtype=np.float64).reshape(len(xs), -1)
            targets = np.asarray([_target_values(y) for y in ys], dtype=np.float64)
        except ValueError:
            raise ValueError(f"{who}: every example must have the same number of features "
                             f"and of target values") from None
        targets = targets.reshape(len(ys), -1)
        if self.mode == "input":
            self._check_targets(ys)
            return Arrays(features, targets, np.concatenate([features, targets], axis=1))
        keys: dict[Any, int] = {}
        which = np.asarray([keys.setdefault(_key(y), len(keys)) for y in ys], dtype=np.intp)
        for key, k in keys.items():
            idx = np.flatnonzero(which == k).tolist()
            self._tape_for(key, idx, xs, ys)
        return Arrays(features, targets, features, list(keys), which)

    def replay(self, data: Arrays, rows: Any, theta: Any) -> tuple[float, Any, Any]:
        """(Σ loss, Σ ∂loss/∂θ, outputs (B, K)) over the examples ``rows`` of ``data`` (None:
        all of them, in order), with the parameter values ``theta``."""
        import numpy as np

        inputs = data.inputs if rows is None else data.inputs[rows]
        if self.mode == "input":
            assert self.tape is not None
            return Objective(self.tape).loss_and_grads(inputs, theta)
        which = data.which if rows is None else data.which[rows]
        total = 0.0
        gsum = np.zeros(len(self.params))
        outputs: Any = None
        for k, key in enumerate(data.keys):
            sel = np.flatnonzero(which == k)
            if len(sel) == 0:
                continue
            loss, grads, outs = Objective(self.tapes[key]).loss_and_grads(inputs[sel], theta)
            if outputs is None:
                outputs = np.empty((len(which), outs.shape[1]))
            total += loss
            gsum += grads
            outputs[sel] = outs
        return total, gsum, outputs

    def _eager(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]
               ) -> tuple[float, list[float], list[list[float]]]:
        """The same results from one eager graph per example (the parameters' grads are kept)."""
        outs = [_as_list_eager(self.model(list(x))) for x in xs]
        total = Value.sum([self.loss_fn(o, y) for o, y in zip(outs, ys)])
        saved = [p.grad for p in self.params]
        for p in self.params:
            p.grad = 0.0
        total.backward()
        grads = [float(p.grad) for p in self.params]
        for p, g in zip(self.params, saved):
            p.grad = g
        return total.data, grads, [[v.data for v in o] for o in outs]


@dataclass
class Arrays:
    """A data set as the compiled replay reads it: ``features`` (N, d), ``targets`` (N, T)
    (each target's values), ``inputs`` the rows a program takes (features then targets, when
    the target is traced as an input), and with one program per target value, ``keys`` (the
    values) and ``which`` (N,): each example's index into ``keys``."""

    features: Any
    targets: Any
    inputs: Any
    keys: list[Any] = field(default_factory=list)
    which: Any = None


# ---------------------------------------------------------------------------------------------
# A batch objective: per-example losses summed, then batch-level terms.

class Objective:
    """L(θ) = total(S, n; θ), where S = Σ_i loss(x_i; θ) over a batch of n examples.

    ``example`` computes [loss, *outputs] for one example; ``total`` (optional) maps its two
    inputs (S, n) and the same parameters to the batch loss, e.g. S/n + λ Σ θ². Without it
    L = S. dL/dθ = ∂total/∂θ + ∂total/∂S · Σ_i ∂loss_i/∂θ.
    """

    def __init__(self, example: Tape, total: Tape | None = None) -> None:
        if total is not None and (total.n_inputs != 2 or total.n_params != example.n_params):
            raise ValueError("Objective: total must take inputs (S, n) and the same parameters")
        self.example = example
        self.total = total

    def loss_and_grads(self, inputs: Any, params: Any) -> tuple[float, Any, Any]:
        """(L, dL/dθ, outputs): the batch loss, its parameter gradients and each example's
        traced outputs (shape (N, number of outputs after the loss))."""
        import numpy as np  # the tape's replay already required it; here for arrays only

        run = self.example.forward(inputs, params)
        out = run.outputs
        s = float(out[:, 0].sum())
        n = run.batch_size
        seed = np.zeros_like(out)
        if self.total is None:
            loss, ds, gtotal = s, 1.0, 0.0
        else:
            trun = self.total.forward([[s, float(n)]], params)
            loss = float(trun.outputs[0, 0])
            tg = self.total.backward(trun, wrt_inputs=True)
            ds, gtotal = float(tg.inputs[0, 0]), tg.params
        seed[:, 0] = ds  # the extra outputs are only reported: their seed is 0
        grads = self.example.backward(run, seed).params + gtotal
        return loss, grads, out[:, 1:]


def trace_objective(loss: Value, inputs: Sequence[Value], params: Sequence[Value], *,
                    outputs: Sequence[Value] = (), total: Value | None = None,
                    batch_sum: Value | None = None, batch_size: Value | None = None) -> Objective:
    """Trace one example's ``loss`` (and extra ``outputs``), plus an optional batch-level
    ``total`` written in terms of the leaves ``batch_sum`` (S) and ``batch_size`` (n).

    Example, the mean hinge loss plus L2 of micrograd's demo::

        S, n = Value(0.0, "S"), Value(1.0, "n")
        total = S / n + 1e-4 * Value.sum([p * p for p in params])
        obj = trace_objective(loss, x + [t], params, total=total, batch_sum=S, batch_size=n)
        L, grads, _ = obj.loss_and_grads(batch, [p.data for p in params])
    """
    example = trace([loss, *outputs], inputs, params)
    if total is None:
        return Objective(example)
    if batch_sum is None or batch_size is None:
        raise ValueError("trace_objective: a total needs both batch_sum and batch_size leaves "
                         "(make them with Value(0.0) and use them in the total)")
    return Objective(example, trace([total], [batch_sum, batch_size], params))


# ---------------------------------------------------------------------------------------------
# Training on arrays: what fit(compiled=True) keeps from step to step.

class ArrayUpdate:
    """The ``step()`` of an ``nn.optim`` SGD, Adam or AdamW, on a parameter vector.

    It calls the optimizer's own ``update`` rule once with arrays, where ``step`` calls it once
    per parameter with floats: the same operations element by element, so the same numbers to
    the last bit (tested). The state (SGD's velocity, Adam's moments) lives in arrays while
    training and is written back by ``save``. ``of(opt)`` is None for any other optimizer, or
    one whose ``step`` or ``update`` is overridden: fit then updates the Values with
    ``opt.step()`` itself.
    """

    def __init__(self, opt: SGD | Adam) -> None:
        self.opt = opt
        self.state = self._read()

    @classmethod
    def of(cls, opt: Optimizer, params: Sequence[Value]) -> ArrayUpdate | None:
        if not isinstance(opt, (SGD, Adam)):
            return None
        base = Adam if isinstance(opt, Adam) else SGD
        own = (type(opt).step is base.step and type(opt).update is base.update
               and type(opt)._grads is Optimizer._grads)
        same = len(opt.params) == len(params) and all(a is b for a, b in zip(opt.params, params))
        return cls(opt) if own and same else None

    def _read(self) -> tuple[Any, ...]:
        import numpy as np

        if isinstance(self.opt, Adam):
            return np.array(self.opt.m, dtype=np.float64), np.array(self.opt.v, dtype=np.float64)
        return (np.array(self.opt.velocity, dtype=np.float64),)

    def step(self, theta: Any, g: Any) -> tuple[Any, tuple[Any, ...]]:
        """The new parameters and state after one step from ``theta`` with gradient ``g``
        (nothing is changed: the caller commits both)."""
        import numpy as np

        if isinstance(self.opt, Adam):
            m, v = self.state
            theta, m, v = self.opt.update(theta, g, m, v, sqrt=np.sqrt)
            return theta, (m, v)
        theta, v = self.opt.update(theta, g, self.state[0])
        return theta, (v,)

    def save(self) -> None:
        """Write the state into the optimizer, as its own ``step`` would have left it."""
        if isinstance(self.opt, Adam):
            self.opt.m, self.opt.v = self.state[0].tolist(), self.state[1].tolist()
        else:
            self.opt.velocity = self.state[0].tolist()

    def load(self) -> None:
        """Read the state back from the optimizer (someone may have changed it)."""
        self.state = self._read()


class CompiledTraining:
    """What ``fit(compiled=True)`` keeps between steps: the data as arrays, the parameters as
    a vector θ and the optimizer's update on arrays (``ArrayUpdate``).

    The model's Values are written only by ``publish`` (fit calls it before a callback and
    at the end, interrupted or not), and read again by ``reload``. ``grads`` gives the batch
    loss L = (Σ loss_i)/B + l2 Σ θ² and sets its gradient; ``step`` updates θ, all or nothing.
    """

    def __init__(self, loss: CompiledLoss, xs: Sequence[Sequence[Any]], ys: Sequence[Any],
                 l2: float, opt: Optimizer) -> None:
        import numpy as np

        self.loss = loss
        self.params = loss.params
        self.data = loss.arrays(xs, ys, "fit")
        self.n = len(xs)
        self.l2 = l2
        self.theta = np.array([p.data for p in self.params], dtype=np.float64)
        self.grad = np.zeros_like(self.theta)
        self.update = ArrayUpdate.of(opt, self.params)
        self._epoch: list[tuple[Any, Any]] = []  # (rows, outputs) of this epoch's batches

    def grads(self, idx: Sequence[int]) -> float:
        """L on the examples ``idx`` (all of them, in order, when there are n); its gradient
        goes to ``self.grad``, the outputs to the epoch's accuracy."""
        import numpy as np

        rows = None if len(idx) == self.n else np.asarray(idx, dtype=np.intp)
        theta = self.theta
        total, g, outs = self.loss.replay(self.data, rows, theta)
        inv = 1.0 / len(idx)
        value = float(total) * inv
        self.grad = g * inv
        if self.l2:
            value += self.l2 * float(theta @ theta)
            self.grad += 2.0 * self.l2 * theta
        self._epoch.append((rows, outs))
        return value

    def step(self, history: Any, value: float, record: Any,
             fallback: Callable[[], None]) -> None:
        """One update of θ from ``self.grad``, counted in ``history`` (with the epoch's
        ``record`` when the step ends one, as ``History._count`` says); without an array rule,
        ``fallback`` updates the Values (``opt.step()``). An update that makes a parameter inf
        or NaN changes nothing and raises FloatingPointError, as in eager mode."""
        import numpy as np

        if self.update is None:
            self.publish()
            fallback()
            self.reload()
            return
        opt = self.update.opt
        with np.errstate(over="ignore", invalid="ignore"):  # as floats do; checked just below
            theta, state = self.update.step(self.theta, self.grad)
        finite = np.isfinite(theta)
        finished, epochs = history.steps, history.epochs
        if not finite.all():
            bad = int(np.argmin(finite))
            raise FloatingPointError(
                f"training diverged: the update of step {finished} (lr {opt.lr:g}) made "
                f"parameter {bad} {float(theta[bad])!r}; the model keeps the parameters from "
                f"before that step. Try a smaller learning rate.")
        before = self.theta, self.update.state, opt.steps
        try:
            self.theta, self.update.state = theta, state
            opt.steps = before[2] + 1
            history._count(value, record)
        except KeyboardInterrupt:  # all or nothing, as fit's eager step
            self.theta, self.update.state, opt.steps = before
            history._truncate(finished, epochs)
            raise

    def accuracy(self, loss: str | None) -> float | None:
        """The accuracy over this epoch's batches (``nn.losses.accuracy``), then a new epoch."""
        import numpy as np

        epoch, self._epoch = self._epoch, []
        if loss is None or not epoch:
            return None
        if len(epoch) == 1 and epoch[0][0] is None:
            outs, targets = epoch[0][1], self.data.targets
        else:
            rows = np.concatenate([np.arange(self.n) if r is None else r for r, _ in epoch])
            outs, targets = np.concatenate([o for _, o in epoch]), self.data.targets[rows]
        return accuracy_of_arrays(outs, targets, loss)

    def publish(self) -> None:
        """Write θ and the last gradient into the model's Values, the state into the optimizer.

        An interrupt in the middle would leave a model that is no step's parameters: the
        writing is finished first, then the interrupt goes through."""
        try:
            self._write()
        except KeyboardInterrupt:
            self._write()
            raise

    def _write(self) -> None:
        for p, x, g in zip(self.params, self.theta.tolist(), self.grad.tolist()):
            p.data = x
            p.grad = g
        if self.update is not None:
            self.update.save()

    def reload(self) -> None:
        """Read θ (and the optimizer's state) back from the Values, after a callback."""
        import numpy as np

        self.theta = np.array([p.data for p in self.params], dtype=np.float64)
        if self.update is not None:
            self.update.load()
