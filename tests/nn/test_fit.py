"""fit: accuracy reached on XOR and moons, the batch loss, mini-batches, Ctrl-C, compiled."""

import warnings

import pytest

from autograd import Value
from nn import MLP
from nn.data import blobs, moons, xor
from nn.losses import LOSSES
from nn.optim import SGD, LinearDecay
from nn.train import StepInfo, batch_loss, evaluate, fit


def test_xor_reaches_full_accuracy():
    ds = xor()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    ys = ds.targets("bce_logits")
    h = fit(model, ds.xs, ys, loss="bce_logits", optimizer="adam", lr=0.1, epochs=150,
            progress=False)
    loss, acc = evaluate(model, ds.xs, ys, "bce_logits")
    assert acc == 1.0 and loss < 0.01
    assert h.epochs == 150 and h.steps == 150 and h.accuracy[-1] == 1.0


def test_moons_micrograd_recipe_reaches_97_percent():
    # micrograd's recipe (hinge + L2 1e-4, SGD, lr 1.0 -> 0.1), scaled down to stay fast.
    ds = moons(60, noise=0.1, seed=2)
    model = MLP(2, [8, 8, 1], seed=2)
    ys = ds.targets("hinge")
    h = fit(model, ds.xs, ys, loss="hinge", lr=1.0, schedule=LinearDecay(1.0, 0.1, 59),
            epochs=60, l2=1e-4, progress=False)
    _, acc = evaluate(model, ds.xs, ys, "hinge", l2=1e-4)
    assert acc >= 0.97
    assert h.loss[-1] < 0.25 * h.loss[0]
    assert h.lr[0] == 1.0 and h.lr[-1] == pytest.approx(0.1)


def test_history_loss_is_the_mean_loss_plus_l2_before_the_step():
    model = MLP(2, [3, 1], activation="tanh", seed=1)
    xs, ys = [[0.1, 0.2], [0.5, -0.3], [-0.4, 0.9]], [1.0, -1.0, 1.0]
    hand = sum(LOSSES["hinge"](model(x), t).data for x, t in zip(xs, ys)) / 3
    hand += 0.01 * sum(p.data**2 for p in model.parameters())
    h = fit(model, xs, ys, loss="hinge", l2=0.01, epochs=1, progress=False)
    assert h.step_loss == [pytest.approx(hand, rel=1e-13)] and h.loss[0] == h.step_loss[0]


def test_one_sgd_step_follows_the_numerical_gradient_of_the_batch_loss():
    model = MLP(2, [2, 1], activation="tanh", seed=4)
    xs, ys = [[0.3, -0.2], [-0.6, 0.8]], [0.5, -0.25]
    ps = model.parameters()
    before = [p.data for p in ps]
    numerical = []
    for p in ps:  # central differences of the batch loss, one parameter at a time
        keep, eps = p.data, 1e-6
        p.data = keep + eps
        up, _ = evaluate(model, xs, ys, "mse", l2=0.1)
        p.data = keep - eps
        down, _ = evaluate(model, xs, ys, "mse", l2=0.1)
        p.data = keep
        numerical.append((up - down) / (2 * eps))
    fit(model, xs, ys, loss="mse", l2=0.1, optimizer=SGD(ps, lr=0.5), epochs=1, progress=False)
    for p, b, g in zip(ps, before, numerical):
        assert p.data == pytest.approx(b - 0.5 * g, rel=1e-7, abs=1e-9)


def test_mini_batches_cover_the_data_and_are_reproducible():
    ds = moons(10, seed=0)
    ys = ds.targets("hinge")
    seen = []

    def loss(outs, t):
        seen.append(t)
        return LOSSES["hinge"](outs, t)

    runs = []
    for _ in range(2):
        m = MLP(2, [4, 1], seed=0)
        h = fit(m, ds.xs, ys, loss=loss, lr=0.1, epochs=3, batch_size=4, seed=5, progress=False)
        runs.append(m.state_dict())
        assert h.steps == 9 and len(h.step_loss) == 9 and h.accuracy == [None] * 3
    assert runs[0] == runs[1]
    assert len(seen) == 2 * 3 * 10  # every example once per epoch
    m = MLP(2, [4, 1], seed=0)
    fit(m, ds.xs, ys, lr=0.1, epochs=3, batch_size=4, seed=6, progress=False)
    assert m.state_dict() != runs[0]  # another shuffle, another path


def _run(epochs, **kw):
    ds = moons(12, seed=1)
    m = MLP(2, [4, 1], seed=3)
    opt = SGD(m.parameters(), lr=0.3, momentum=0.9)
    h = fit(m, ds.xs, ds.targets("hinge"), optimizer=opt, epochs=epochs, progress=False, **kw)
    return m, opt, h


def test_ctrl_c_in_a_callback_keeps_the_last_finished_step():
    ref, _, _ = _run(4)

    def stop(info: StepInfo):
        if info.step == 3:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="after 4 finished step"):
        m, _, h = _run(10, callback=stop)
    assert h.interrupted and h.steps == 4
    assert m.state_dict() == ref.state_dict()


def test_ctrl_c_in_the_middle_of_an_update_rolls_it_back(monkeypatch):
    ref, ref_opt, _ = _run(2)
    calls = {"n": 0}
    real = SGD.step

    def half_step(self):
        calls["n"] += 1
        if calls["n"] == 3:  # move half the parameters and some momentum, then "Ctrl-C"
            for i, p in enumerate(self.params[: len(self.params) // 2]):
                p.data += 1.0
                self.velocity[i] = 123.0
            raise KeyboardInterrupt
        real(self)

    monkeypatch.setattr(SGD, "step", half_step)
    with pytest.warns(RuntimeWarning):
        m, opt, h = _run(10)
    assert h.interrupted and h.steps == 2
    assert m.state_dict() == ref.state_dict()
    assert opt.velocity == ref_opt.velocity


def test_ctrl_c_during_the_forward_pass_changes_nothing():
    ref, _, _ = _run(1)
    calls = {"n": 0}

    def loss(outs, t):
        calls["n"] += 1
        if calls["n"] == 12 + 5:  # in the second step's forward pass
            raise KeyboardInterrupt
        return LOSSES["hinge"](outs, t)

    with pytest.warns(RuntimeWarning):
        m, _, h = _run(5, loss=loss)
    assert h.steps == 1 and h.epochs == 1
    assert m.state_dict() == ref.state_dict()


def test_a_non_finite_loss_stops_with_a_clear_error():
    m = MLP(1, [1], activation="linear", seed=0)
    m.layers[0].neurons[0].w[0].data = 1e308  # 1e308 * 10 overflows to inf (no exception)
    before = m.state_dict()
    with pytest.raises(FloatingPointError, match=r"became inf at step 0.*smaller learning rate"):
        fit(m, [[10.0]], [1.0], loss="mse", epochs=3, progress=False)
    assert m.state_dict() == before


@pytest.mark.parametrize("kwargs, words", [
    ({"epochs": -1}, "epochs"),
    ({"batch_size": 0}, "batch_size"),
    ({"l2": -0.1}, "l2"),
    ({"optimizer": "lbfgs"}, "sgd, adam, adamw"),
    ({"loss": "nll"}, "unknown loss"),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        fit(MLP(2, [1], seed=0), [[0.0, 1.0]], [1.0], progress=False, **kwargs)
    with pytest.raises(ValueError, match="must match"):
        fit(MLP(2, [1], seed=0), [[0.0, 1.0]], [1.0, -1.0], progress=False)


def test_progress_bar_writes_to_stderr(capsys):
    ds = xor()
    fit(MLP(2, [2, 1], seed=0), ds.xs, ds.targets("hinge"), epochs=2, progress=True)
    assert "training" in capsys.readouterr().err
    fit(MLP(2, [2, 1], seed=0), ds.xs, ds.targets("hinge"), epochs=2, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("make, loss, out_act", [
    (lambda: moons(20, seed=0), "hinge", "linear"),
    (lambda: blobs(24, centers=3, seed=0), "softmax_ce", "linear"),
    (lambda: blobs(24, centers=3, seed=1), "bce_logits", "linear"),
    (lambda: moons(20, seed=1), "bce", "sigmoid"),
    (lambda: moons(20, seed=2), "sse", "tanh"),
])
def test_compiled_training_matches_eager(make, loss, out_act):
    pytest.importorskip("numpy")
    pytest.importorskip("nn.compiled.trainer")
    ds = make()
    ys = ds.targets(loss)
    runs = []
    for compiled in (False, True):
        m = MLP(2, [5, 5, ds.n_outputs(loss)], output_activation=out_act, seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no silent fallback to eager
            h = fit(m, ds.xs, ys, loss=loss, lr=0.5, epochs=6, batch_size=8, l2=1e-3, seed=2,
                    progress=False, compiled=compiled)
        runs.append((m.state_dict(), h))
    (eager, he), (comp, hc) = runs
    assert hc.compiled and not he.compiled
    for k in eager:
        assert comp[k] == pytest.approx(eager[k], rel=1e-9, abs=1e-12)
    assert hc.step_loss == pytest.approx(he.step_loss, rel=1e-9)
    assert hc.accuracy == he.accuracy


def test_compiled_falls_back_to_eager_with_one_warning(monkeypatch):
    compiled = pytest.importorskip("nn.compiled.trainer")

    def refuse(model, loss_fn, xs=None, ys=None):
        raise compiled.NotCompilable("the graph depends on the data")

    monkeypatch.setattr(compiled, "compile_loss", refuse)
    ds = xor()
    a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = fit(a, ds.xs, ds.targets("hinge"), epochs=3, progress=False, compiled=True)
    assert [str(w.message) for w in caught if "eager" in str(w.message)] == [
        "this model and loss cannot be compiled (the graph depends on the data); training "
        "with the eager engine instead"]
    assert not h.compiled
    fit(b, ds.xs, ds.targets("hinge"), epochs=3, progress=False)
    assert a.state_dict() == b.state_dict()


def test_a_data_dependent_loss_is_refused_up_front_and_trains_eagerly():
    pytest.importorskip("nn.compiled.trainer")

    def branchy(out, t):  # a Python `if` on a value: the graph's shape depends on the data
        y = out[0]
        return (y - t) ** 2 if y.data > 0 else abs(y - t)

    ds = xor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = fit(MLP(2, [4, 1], seed=3), ds.xs, ds.targets("sse"), loss=branchy, epochs=2,
                progress=False, compiled=True)
    assert not h.compiled and h.steps == 2
    assert any("cannot be compiled" in str(w.message) for w in caught)


def test_batch_loss_returns_the_graph_and_outputs():
    m = MLP(2, [2], seed=0)
    total, outs = batch_loss(m, [[1.0, 0.0], [0.0, 1.0]], [0, 1], "softmax_ce")
    assert isinstance(total, Value) and len(outs) == 2 and len(outs[0]) == 2


def test_the_make_demo_recipe_reaches_98_percent():
    # Exactly `make demo` (edgegrad train's defaults, seed 1), on the compiled path for speed;
    # test_compiled_training_matches_eager pins compiled == eager.
    pytest.importorskip("numpy")
    pytest.importorskip("nn.compiled.trainer")
    ds = moons(100, noise=0.1, seed=1)
    model = MLP(2, [16, 16, 1], seed=1)
    ys = ds.targets("hinge")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager would be a silent slowdown
        h = fit(model, ds.xs, ys, loss="hinge", lr=1.0, schedule=LinearDecay(1.0, 0.1, 99),
                epochs=100, l2=1e-4, progress=False, compiled=True)
    _, acc = evaluate(model, ds.xs, ys, "hinge", l2=1e-4)
    assert h.compiled and acc >= 0.98


@pytest.mark.parametrize("compiled, delay", [
    *((False, d) for d in (0.013, 0.031, 0.057, 0.089, 0.12)),
    *((True, d) for d in (0.011, 0.029, 0.053, 0.083)),
])
def test_a_real_signal_anywhere_keeps_exactly_the_finished_steps(compiled, delay):
    """Ctrl-C lands wherever it lands: the model is always a clean run of the counted steps,
    in eager and in compiled training."""
    import gc
    import math
    import signal

    if not hasattr(signal, "setitimer"):
        pytest.skip("needs POSIX interval timers")
    if compiled:
        pytest.importorskip("numpy")
    epochs = 20_000 if compiled else 2_000  # more than can finish before the signal

    def ctrl_c(signum, frame):  # what Python's own SIGINT handler does
        raise KeyboardInterrupt

    # Python swallows an exception raised inside a gc callback ("Exception ignored"), and
    # hypothesis installs one: without it here, the interrupt always reaches fit.
    # The collector holds that very list, so it is emptied in place and refilled afterwards.
    callbacks = gc.callbacks[:]
    gc.callbacks.clear()
    ds = moons(40, noise=0.1, seed=2)
    ys = ds.targets("hinge")
    previous = signal.signal(signal.SIGALRM, ctrl_c)
    try:
        for _ in range(5):
            interrupted = MLP(2, [8, 1], seed=4)
            try:
                signal.setitimer(signal.ITIMER_REAL, delay)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    h = fit(interrupted, ds.xs, ys, lr=0.3, epochs=epochs, l2=1e-4,
                            progress=False, optimizer="adam", compiled=compiled)
            except KeyboardInterrupt:  # it landed before fit's loop began: arm it again
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            break
    finally:
        signal.signal(signal.SIGALRM, previous)
        gc.callbacks.extend(callbacks)
    assert h.interrupted and h.compiled == compiled and 0 <= h.steps < epochs
    assert any("interrupted: stopped after" in str(w.message) for w in caught)
    assert len(h.step_loss) == h.steps
    clean = MLP(2, [8, 1], seed=4)
    if h.steps:
        fit(clean, ds.xs, ys, lr=0.3, epochs=h.steps, l2=1e-4, progress=False, optimizer="adam",
            compiled=compiled)
    for p, q in zip(interrupted.parameters(), clean.parameters()):
        assert math.isfinite(p.data) and p.data == q.data


@pytest.mark.parametrize("compiled, batch_size", [(False, None), (False, 5), (True, None)])
def test_an_interrupt_at_every_line_leaves_a_history_that_matches_the_model(compiled, batch_size):
    """KeyboardInterrupt raised at the k-th line fit runs, for every k (sys.settrace): whatever
    the moment, the history counts exactly the steps the model took, every finished epoch has
    its record, and the model equals a clean run of that many steps."""
    import sys
    from pathlib import Path

    if compiled:
        pytest.importorskip("numpy")
    files = {str(Path(__file__).resolve().parents[2] / "nn" / f) for f in
             ("train.py", "compiled.py")}
    ds = moons(12, seed=1)
    ys = ds.targets("hinge")
    per_epoch = 1 if batch_size is None else -(-12 // batch_size)

    def run(model, epochs, tracer=None, stop_after=None):
        opt = SGD(model.parameters(), lr=0.3, momentum=0.9)

        def stop(info):  # a clean run that ends after the same step
            if info.step + 1 == stop_after:
                raise KeyboardInterrupt

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sys.settrace(tracer)
            try:
                return fit(model, ds.xs, ys, optimizer=opt, epochs=epochs, progress=False,
                           batch_size=batch_size, seed=0, compiled=compiled,
                           callback=stop if stop_after else None)
            finally:
                sys.settrace(None)

    lines = 0

    def count(frame, event, arg):
        nonlocal lines
        if frame.f_code.co_filename in files:
            if event == "line":
                lines += 1
            return count
        return None

    run(MLP(2, [4, 1], seed=3), 3, count)
    assert lines > 100
    untouched = MLP(2, [4, 1], seed=3).state_dict()
    model = MLP(2, [4, 1], seed=3)
    run(model, 3)
    trained = model.state_dict()
    interrupted_somewhere = 0
    for k in range(1, lines + 1):
        seen = 0

        def interrupt(frame, event, arg, k=k):
            nonlocal seen
            if frame.f_code.co_filename not in files:
                return None
            if event == "line":
                seen += 1
                if seen == k:
                    raise KeyboardInterrupt
            return interrupt

        model = MLP(2, [4, 1], seed=3)
        try:
            h = run(model, 3, interrupt)
        except KeyboardInterrupt:  # before fit's loop began or after it ended: nothing half done
            assert model.state_dict() in (untouched, trained), k
            continue
        interrupted_somewhere += h.interrupted
        assert len(h.step_loss) == h.steps
        assert h.epochs == h.steps // per_epoch
        assert len(h.loss) == len(h.accuracy) == len(h.lr) == h.epochs
        clean = MLP(2, [4, 1], seed=3)
        ref = run(clean, 3, stop_after=h.steps) if h.steps else None
        assert model.state_dict() == clean.state_dict(), k
        if ref is not None:
            assert (h.steps, h.loss, h.step_loss) == (ref.steps, ref.loss, ref.step_loss), k
    assert interrupted_somewhere > 50  # many of the k land inside the training loop


def test_an_update_that_overflows_is_undone() -> None:
    model = MLP(1, [1], activation="linear", seed=0)
    before = model.state_dict()
    with pytest.raises(FloatingPointError, match="training diverged: the update of step 0"):
        fit(model, [[100.0]], [1.0], loss="mse", lr=1e308, epochs=3, progress=False)
    assert model.state_dict() == before
