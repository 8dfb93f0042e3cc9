"""fit(health=...) and fit(live=...): the update-to-data ratio against a hand computation, the
reports every N steps, the live view's frames (3-D inputs too), the fallback outside a notebook,
and Ctrl-C keeping exactly the finished steps with both on."""

from __future__ import annotations

import math
import warnings

import pytest

from nn import MLP, SGD, fit
from nn.data import moons
from nn.train import batch_loss
from nn.watch.live import LiveView

DATA = moons(40, noise=0.1, seed=1)
YS = DATA.targets("hinge")


def _norm(values):
    return math.sqrt(sum(v * v for v in values))


@pytest.mark.parametrize("compiled", [False, True])
def test_the_ratio_of_plain_sgd_is_lr_times_the_gradient_over_the_weights(compiled):
    if compiled:
        pytest.importorskip("numpy")
    lr = 0.3
    model = MLP(2, [6, 4, 1], seed=5)
    by_hand = MLP(2, [6, 4, 1], seed=5)
    h = fit(model, DATA.xs, YS, optimizer=SGD(model.parameters(), lr=lr), epochs=3, l2=1e-3,
            progress=False, health=True, compiled=compiled)
    assert len(h.update_ratio) == h.steps == 3
    opt = SGD(by_hand.parameters(), lr=lr)
    for step in range(3):
        total, _ = batch_loss(by_hand, DATA.xs, YS, "hinge", 1e-3)
        by_hand.zero_grad()
        total.backward()
        expected = []
        for layer in by_hand.layers:
            ws = [w for n in layer.neurons for w in n.w]
            expected.append(math.log10(lr * _norm([w.grad for w in ws]) /
                                       _norm([w.data for w in ws])))
        opt.step()
        assert h.update_ratio[step] == pytest.approx(expected, rel=1e-9, abs=1e-12), step


def test_health_reports_come_every_n_steps_with_the_ratio_of_their_interval():
    model = MLP(2, [8, 1], seed=2)
    h = fit(model, DATA.xs, YS, lr=0.5, epochs=7, batch_size=20, progress=False, seed=0,
            health=4)
    assert h.steps == 14
    assert [r.step for r in h.health] == [0, 4, 8, 12, 14]
    assert h.health[0][0].update_ratio is None  # before training: no update yet
    column = sorted(row[0] for row in h.update_ratio[4:8])
    assert h.health[2][0].update_ratio == column[2]
    assert "after step 8" in str(h.health[2])


def test_health_true_takes_about_ten_reports():
    h = fit(MLP(2, [4, 1], seed=0), DATA.xs, YS, lr=0.1, epochs=30, progress=False,
            health=True)
    assert [r.step for r in h.health] == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30]


def test_a_learning_rate_too_high_is_named_in_the_reports():
    model = MLP(2, [16, 16, 1], activation="tanh", seed=1)
    h = fit(model, DATA.xs, YS, lr=8.0, epochs=20, progress=False, health=5)
    text = " ".join(w for r in h.health for w in r.warnings)
    assert "lower the learning rate" in text


@pytest.mark.parametrize("value, words", [(0, "health must be"), (-2, "health must be"),
                                          ("yes", "health must be")])
def test_bad_health_values_are_refused(value, words):
    with pytest.raises(ValueError, match=words):
        fit(MLP(2, [2, 1]), DATA.xs, YS, epochs=1, progress=False, health=value)


def test_live_outside_a_notebook_falls_back_to_the_bar_with_a_note(capsys):
    pytest.importorskip("tqdm")
    with pytest.warns(RuntimeWarning, match="outside one, training shows the progress bar"):
        h = fit(MLP(2, [4, 1], seed=0), DATA.xs, YS, lr=0.1, epochs=3, live=True)
    assert h.steps == 3 and h.update_ratio == []
    assert "training" in capsys.readouterr().err  # tqdm's bar


def test_the_live_view_shows_frames_and_the_last_is_the_finished_run():
    pytest.importorskip("matplotlib")
    frames = []
    view = LiveView(interval=0.0, budget=None, show=frames.append)
    h = fit(MLP(2, [8, 1], seed=0), DATA.xs, YS, lr=0.3, epochs=4, live=view, progress=False)
    assert view.frames == len(frames) >= 2 and all(f[:4] == b"\x89PNG" for f in frames)
    assert len(h.update_ratio) == h.steps == 4
    assert "step 4 · epoch 4/4" in view._fig._suptitle.get_text()


def test_three_inputs_show_the_curves_and_say_why_there_is_no_boundary():
    pytest.importorskip("matplotlib")
    frames = []
    view = LiveView(show=frames.append)
    xs = [[x[0], x[1], x[0] * x[1]] for x in DATA.xs]
    fit(MLP(3, [4, 1], seed=0), xs, YS, lr=0.3, epochs=2, live=view, progress=False)
    assert frames and "the inputs have 3 features" in view.boundary.note
    texts = [t.get_text() for t in view.ax_b.texts]
    assert any("no decision boundary" in t for t in texts)


@pytest.mark.parametrize("compiled", [False, True])
def test_ctrl_c_keeps_the_finished_steps_and_one_ratio_each(compiled):
    pytest.importorskip("matplotlib")
    view = LiveView(interval=0.0, budget=None, show=lambda png: None)

    def stop(info):
        if info.step == 4:
            raise KeyboardInterrupt

    model = MLP(2, [6, 1], seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = fit(model, DATA.xs, YS, lr=0.2, epochs=50, batch_size=10, seed=0, progress=False,
                callback=stop, live=view, health=3, compiled=compiled)
    assert h.interrupted and h.steps == 5 and len(h.update_ratio) == 5
    assert [r.step for r in h.health] == [0, 3, 5]
    assert "interrupted" in view._fig._suptitle.get_text()
    plain = MLP(2, [6, 1], seed=3)  # the same stop, nothing watched
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(plain, DATA.xs, YS, lr=0.2, epochs=50, batch_size=10, seed=0, progress=False,
            callback=stop, compiled=compiled)
    assert model.state_dict() == plain.state_dict()


def test_the_watch_does_not_change_the_training():
    a, b = MLP(2, [6, 1], seed=3), MLP(2, [6, 1], seed=3)
    ha = fit(a, DATA.xs, YS, lr=0.2, epochs=5, progress=False)
    hb = fit(b, DATA.xs, YS, lr=0.2, epochs=5, progress=False, health=2)
    assert a.state_dict() == b.state_dict() and ha.step_loss == hb.step_loss


def test_the_budget_holds_back_frames_until_the_run_can_afford_them(monkeypatch):
    """A frame during training only when the frames so far, it and the last one fit in the
    budget's share of the training time (a clock the test moves)."""
    import nn.watch.live as live

    now = [0.0]
    monkeypatch.setattr(live.time, "perf_counter", lambda: now[0])
    view = LiveView(interval=0.5, budget=0.1, show=lambda png: None)
    view._start = view._last = 0.0
    view._cost = view.seconds = 0.0
    now[0] = 4.9  # 2 x the first guess (0.25 s) is 0.5 s: 10% of 5 s
    assert not view.due()
    now[0] = 5.0
    assert view.due()
    view.seconds, view._cost, view._last = 1.0, 1.0, 6.0  # that frame took a whole second
    now[0] = 30.9  # 1 s drawn + 2 x 1 s needs 30 s of training (the clock minus the drawing)
    assert not view.due()
    now[0] = 31.1
    assert view.due()
    view.budget = None  # no limit: only the interval
    now[0] = view._last + 0.4
    assert not view.due()
    now[0] = view._last + 0.5
    assert view.due()
