"""fit(compiled=True) on arrays: the optimizers' updates, accuracy, callbacks, divergence and
Ctrl-C, each against the eager path that does the same with Values.

Oracles: ``nn.optim``'s own ``step`` on Values (the array update must give its numbers to the
last bit: same operations, same order) and ``nn.losses.accuracy`` example by example.
"""

from __future__ import annotations

import math
import random
import warnings
from typing import Any

import pytest

from autograd import Value
from nn import MLP
from nn.data import blobs, moons
from nn.losses import accuracy, accuracy_of_arrays
from nn.optim import SGD, Adam, AdamW, Optimizer
from nn.train import StepInfo, fit

np = pytest.importorskip("numpy")
compiled = pytest.importorskip("nn.compiled.trainer")


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.3),
    lambda ps: SGD(ps, lr=0.3, momentum=0.9, weight_decay=0.01),
    lambda ps: Adam(ps, lr=0.01),
    lambda ps: Adam(ps, lr=0.01, weight_decay=0.1),
    lambda ps: AdamW(ps, lr=0.01, betas=(0.8, 0.9)),
])
def test_the_array_update_is_the_optimizers_step_to_the_last_bit(make: Any) -> None:
    rng = random.Random(0)
    start = [rng.uniform(-2, 2) for _ in range(7)]
    values = [Value(x) for x in start]
    opt = make(values)
    mirror = make([Value(x) for x in start])
    update = compiled.ArrayUpdate.of(mirror, mirror.params)
    assert update is not None
    theta = np.array(start)
    for _ in range(4):
        grads = [rng.uniform(-3, 3) for _ in start]
        for p, g in zip(values, grads):
            p.grad = g
        opt.step()
        theta, update.state = update.step(theta, np.array(grads))
        mirror.steps += 1
        assert theta.tolist() == [p.data for p in values]
    update.save()
    for name in ("velocity", "m", "v"):
        if hasattr(opt, name):
            assert getattr(mirror, name) == getattr(opt, name)


def test_an_optimizer_with_its_own_step_has_no_array_update() -> None:
    class Clipped(SGD):
        def step(self) -> None:
            for p in self.params:
                p.grad = max(-0.1, min(0.1, float(p.grad)))
            super().step()

    class Signed(SGD):  # a rule of its own, which may not run on arrays
        def update(self, p, g, v):
            return p - self.lr * math.copysign(1.0, g), v

    ps = [Value(1.0), Value(2.0)]
    assert compiled.ArrayUpdate.of(Clipped(ps, lr=0.1), ps) is None
    assert compiled.ArrayUpdate.of(Signed(ps, lr=0.1), ps) is None
    assert compiled.ArrayUpdate.of(SGD(ps[:1], lr=0.1), ps) is None  # not these parameters
    assert compiled.ArrayUpdate.of(SGD(ps, lr=0.1), ps) is not None


@pytest.mark.parametrize("loss, k", [
    ("hinge", 1), ("hinge", 3), ("bce", 1), ("bce_logits", 2), ("softmax_ce", 4),
    ("sse", 1), ("mse", 3), ("sse", 2),
])
def test_accuracy_of_arrays_is_accuracy(loss: str, k: int) -> None:
    rng = random.Random(f"{loss}{k}")
    n = 40
    outs = [[rng.choice([rng.uniform(-2, 2), 0.0, 0.5]) for _ in range(k)] for _ in range(n)]
    if loss == "softmax_ce":
        targets: list[Any] = [rng.randrange(k) for _ in range(n)]
    elif loss == "hinge":
        targets = [[rng.choice([-1.0, 1.0]) for _ in range(k)] for _ in range(n)]
    elif loss in ("sse", "mse") and k > 1:
        targets = [[1.0 if j == rng.randrange(k) else 0.0 for j in range(k)] for _ in range(n)]
    else:
        targets = [[rng.choice([0.0, 1.0]) for _ in range(k)] for _ in range(n)]
    if k == 1 and loss != "softmax_ce":
        targets = [t[0] for t in targets]
    as_array = np.array([t if isinstance(t, list) else [t] for t in targets], dtype=float)
    assert accuracy_of_arrays(np.array(outs), as_array, loss) == accuracy(outs, targets, loss)
    if loss in ("sse", "mse"):  # a regression target: no accuracy, in both
        as_array[0, 0] = 0.3
        targets[0] = [0.3] * k if k > 1 else 0.3
        assert accuracy_of_arrays(np.array(outs), as_array, loss) is None
        assert accuracy(outs, targets, loss) is None


def _fit_both(**kw: Any) -> list[tuple[MLP, Any, Optimizer, list[Any]]]:
    """The same training eagerly and compiled: (model, history, optimizer, callback log)."""
    make_opt = kw.pop("make_opt", lambda ps: SGD(ps, lr=0.3, momentum=0.9))
    ds = kw.pop("data", moons(24, noise=0.1, seed=1))
    loss = kw.pop("loss", "hinge")
    runs = []
    for on in (False, True):
        model = MLP(2, [6, ds.n_outputs(loss)], seed=3)
        opt = make_opt(model.parameters())
        log: list[Any] = []

        def look(info: StepInfo, model: MLP = model, log: list[Any] = log) -> None:
            log.append((info.step, model.state_dict()))

        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback to eager
            h = fit(model, ds.xs, ds.targets(loss), loss=loss, optimizer=opt, epochs=4,
                    l2=1e-3, progress=False, compiled=on, callback=look, **kw)
        assert h.compiled == on
        runs.append((model, h, opt, log))
    return runs


def _same(a: dict[str, float], b: dict[str, float]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-10, abs=1e-12), k


@pytest.mark.parametrize("kw", [
    {},
    {"batch_size": 5, "seed": 1},
    {"make_opt": lambda ps: Adam(ps, lr=0.05, weight_decay=0.01)},
    {"make_opt": lambda ps: AdamW(ps, lr=0.05), "loss": "softmax_ce",
     "data": blobs(24, centers=3, seed=2)},
])
def test_compiled_fit_leaves_model_optimizer_and_history_as_eager_does(kw: dict[str, Any]
                                                                       ) -> None:
    (me, he, oe, le), (mc, hc, oc, lc) = _fit_both(**kw)
    _same(mc.state_dict(), me.state_dict())
    assert hc.loss == pytest.approx(he.loss, rel=1e-10)
    assert hc.accuracy == he.accuracy and hc.steps == he.steps
    for name in ("velocity", "m", "v"):
        if hasattr(oe, name):
            assert getattr(oc, name) == pytest.approx(getattr(oe, name), rel=1e-9, abs=1e-13)
    assert oc.steps == oe.steps
    # The callback saw the model as it was after each step, in both.
    assert [s for s, _ in lc] == [s for s, _ in le]
    for (_, a), (_, b) in zip(lc, le):
        _same(a, b)
    # The grads are the last step's, as after an eager backward.
    for p, q in zip(mc.parameters(), me.parameters()):
        assert p.grad == pytest.approx(q.grad, rel=1e-9, abs=1e-12)


def test_a_callback_that_changes_the_parameters_is_obeyed() -> None:
    ds = moons(20, seed=0)
    results = []
    for on in (False, True):
        model = MLP(2, [4, 1], seed=0)

        def clamp(info: StepInfo, model: MLP = model) -> None:
            for p in model.parameters():
                p.data = max(-0.2, min(0.2, p.data))

        fit(model, ds.xs, ds.targets("hinge"), lr=0.5, epochs=3, progress=False, compiled=on,
            callback=clamp)
        results.append(model.state_dict())
    _same(results[1], results[0])
    assert max(abs(v) for v in results[1].values()) <= 0.2


def test_an_optimizer_without_an_array_update_trains_through_its_own_step() -> None:
    class Halved(SGD):
        def step(self) -> None:
            for p in self.params:
                p.data -= 0.5 * self.lr * float(p.grad)
            self.steps += 1

    runs = _fit_both(make_opt=lambda ps: Halved(ps, lr=0.4))
    _same(runs[1][0].state_dict(), runs[0][0].state_dict())


def test_divergence_stops_both_paths_with_the_same_parameters() -> None:
    ds = moons(10, seed=0)
    kept = []
    for on in (False, True):
        model = MLP(2, [3, 1], activation="linear", seed=0)
        with pytest.raises(FloatingPointError, match="diverged: the update of step 0"):
            fit(model, ds.xs, [30.0 * x[0] for x in ds.xs], loss="mse", lr=1e308, epochs=5,
                progress=False, compiled=on)
        kept.append(model.state_dict())
    assert all(math.isfinite(v) for v in kept[1].values())
    assert kept[1] == pytest.approx(kept[0], rel=1e-10)
