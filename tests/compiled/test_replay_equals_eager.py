"""nn.compiled.trainer: the batch replay of a model's per-example loss equals the eager engine.

Oracle: one eager graph per example, summed, then backward (the eager engine is itself checked
against central differences). Tolerance 1e-12 relative, with an absolute floor of 1e-15 times
the largest gradient (the engines add the same terms in different orders).
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import pytest

from autograd import ACTIVATIONS, Value
from autograd.compiled.tape import trace
from nn.compiled.trainer import NotCompilable, compile_loss, trace_objective
from nn.layers import MLP
from nn.losses import LOSSES
from nn.module import Module

pytest.importorskip("numpy")


def assert_close(got: list[float], want: list[float], what: str) -> None:
    assert len(got) == len(want), what
    scale = max([abs(w) for w in want] + [0.0])
    for i, (g, w) in enumerate(zip(got, want)):
        tol = 1e-12 * max(abs(g), abs(w)) + 1e-15 * scale
        assert abs(g - w) <= tol, f"{what}[{i}]: compiled {g!r} vs eager {w!r}"


def eager(model: Module, loss_fn: Any, xs: list[list[float]], ys: list[Any]
          ) -> tuple[float, list[float], list[list[float]]]:
    outs = [model(x) for x in xs]
    total = Value.sum([loss_fn(o, y) for o, y in zip(outs, ys)])
    model.zero_grad()
    total.backward()
    return total.data, [p.grad for p in model.parameters()], [[v.data for v in o] for o in outs]


def targets(loss: str, k: int, n: int, rng: random.Random) -> list[Any]:
    if loss == "softmax_ce":
        return [rng.randrange(k) for _ in range(n)]
    if loss == "hinge":
        return [[rng.choice([-1.0, 1.0]) for _ in range(k)] for _ in range(n)]
    if loss in ("bce", "bce_logits"):
        return [[rng.choice([0.0, 1.0]) for _ in range(k)] for _ in range(n)]
    return [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(n)]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", list(LOSSES))
def test_compiled_equals_eager_for_every_activation_and_loss(activation: str, loss: str) -> None:
    rng = random.Random(f"{activation}/{loss}")  # str seeds do not depend on PYTHONHASHSEED
    model = MLP(3, [4, 3 if loss == "softmax_ce" else 2], activation=activation,
                output_activation="sigmoid" if loss == "bce" else "linear", seed=7)
    xs = [[rng.uniform(-1.5, 1.5) for _ in range(3)] for _ in range(6)]
    ys = targets(loss, 3 if loss == "softmax_ce" else 2, 6, rng)
    compiled = compile_loss(model, LOSSES[loss], xs, ys)
    # One program with the target traced as an input (softmax_ce's class index included).
    assert compiled.mode == "input"
    got = compiled.sum_loss_and_grads(xs, ys)
    want = eager(model, LOSSES[loss], xs, ys)
    assert_close([got[0]], [want[0]], "sum of losses")
    assert_close(got[1], want[1], "parameter gradients")
    for i, (o, w) in enumerate(zip(got[2], want[2])):
        assert_close(o, w, f"outputs of example {i}")


def test_a_class_index_traced_as_an_input_picks_its_output_in_every_example() -> None:
    """Sampled with one class only, replayed with others: one program serves every class."""
    model = MLP(2, [3, 3], activation="tanh", seed=1)
    xs = [[0.5, -0.2], [0.1, 0.9], [-0.7, 0.3]]
    compiled = compile_loss(model, LOSSES["softmax_ce"], xs, [1, 1, 1])
    assert compiled.mode == "input"
    got = compiled.sum_loss_and_grads(xs, [0, 2, 1])  # other classes at replay time
    want = eager(model, LOSSES["softmax_ce"], xs, [0, 2, 1])
    assert_close([got[0]], [want[0]], "sum of losses")
    assert_close(got[1], want[1], "parameter gradients")


def test_parameters_updated_between_batches_are_read_again() -> None:
    rng = random.Random(1)
    model = MLP(2, [5, 5, 1], activation="tanh", seed=3)
    hinge = LOSSES["hinge"]
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(10)]
    ys = [rng.choice([-1.0, 1.0]) for _ in xs]
    compiled = compile_loss(model, hinge)
    for _ in range(3):  # three SGD steps, compiled and eager from the same parameters
        total, grads, _ = compiled.sum_loss_and_grads(xs, ys)
        want = eager(model, hinge, xs, ys)
        assert_close([total], [want[0]], "loss")
        assert_close(grads, want[1], "grads")
        for p, g in zip(model.parameters(), grads):
            p.data -= 0.1 * g


def softmax_ce_data_max(ys: list[Value], c: Any) -> Value:
    """Softmax cross-entropy with the max read from .data: a constant that varies by example."""
    m = max(y.data for y in ys)
    return Value.sum([(y - m).exp() for y in ys]).log() + m - ys[int(c)]


def test_a_constant_read_from_data_is_not_compilable_and_falls_back() -> None:
    rng = random.Random(2)
    model = MLP(2, [4, 3], seed=1)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(8)]
    ys = [i % 3 for i in range(8)]
    loss = softmax_ce_data_max
    with pytest.raises(NotCompilable, match="depends on the data") as e:
        compile_loss(model, loss, xs, ys)
    assert "constant" in str(e.value)  # names what differs
    lazy = compile_loss(model, loss)  # no sample: first batch warns, then runs eagerly
    with pytest.warns(RuntimeWarning, match="cannot be compiled"):
        got = lazy.sum_loss_and_grads(xs, ys)
    assert lazy.compiled is False
    want = eager(model, loss, xs, ys)
    assert_close([got[0]], [want[0]], "loss")
    assert_close(got[1], want[1], "grads")


def stable_softmax_ce(ys: list[Value], c: Any) -> Value:
    """log sum_k e^(y_k) - y_c with log(e^a + e^b) = a + softplus(b - a): no data-read max."""
    lse = ys[0]
    for y in ys[1:]:
        lse = lse + (y - lse).softplus()
    return lse - ys[int(c)]


def test_a_loss_that_picks_an_output_by_class_gets_one_program_per_class() -> None:
    rng = random.Random(4)
    model = MLP(2, [6, 3], activation="relu", seed=2)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(12)]
    ys = [rng.randrange(3) for _ in xs]
    compiled = compile_loss(model, stable_softmax_ce, xs, ys)
    assert compiled.mode == "constant" and len(compiled.tapes) == len(set(ys))
    got = compiled.sum_loss_and_grads(xs, ys)
    want = eager(model, stable_softmax_ce, xs, ys)
    assert_close([got[0]], [want[0]], "loss")
    assert_close(got[1], want[1], "grads")
    for o, w in zip(got[2], want[2]):  # outputs come back in the batch's order
        assert_close(o, w, "outputs")


class Branchy(Module):
    """A model whose graph depends on its input: it takes a Python branch on x0's data."""

    def __init__(self) -> None:
        self.w = Value(0.5, "w")

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [("w", self.w)]

    def __call__(self, x: list[Any]) -> list[Value]:
        x0 = x[0] if isinstance(x[0], Value) else Value(x[0])
        return [self.w * x0 if x0.data > 0 else (self.w * x0).tanh()]


def test_a_graph_that_branches_on_data_is_not_compilable() -> None:
    xs = [[1.0], [-1.0], [2.0]]
    ys = [1.0, 1.0, -1.0]
    with pytest.raises(NotCompilable) as e:
        compile_loss(Branchy(), LOSSES["mse"], xs, ys)
    assert "depends on the data" in str(e.value) and "eager" in str(e.value)


def test_nodes_used_many_times_and_a_bad_target_later_in_the_data() -> None:
    model = MLP(2, [3, 1], seed=5)

    def loss(out: list[Value], t: Any) -> Value:
        y = out[0]
        return y * y * y + Value.sum([y, y, y]) * t  # y used five times

    xs = [[0.3, -0.2], [1.0, 0.5], [-0.7, 0.1]]
    ys = [1.0, -2.0, 0.5]
    got = compile_loss(model, loss, xs, ys).sum_loss_and_grads(xs, ys)
    want = eager(model, loss, xs, ys)
    assert_close(got[1], want[1], "grads")
    hinge = compile_loss(model, LOSSES["hinge"])
    with pytest.raises(ValueError, match="-1 or \\+1"):  # as eager: the loss sees every target
        hinge.sum_loss_and_grads(xs, [1.0, -1.0, 0.0])


def test_empty_batch_and_mismatched_lengths() -> None:
    model = MLP(2, [2, 1], seed=0)
    compiled = compile_loss(model, LOSSES["mse"])
    assert compiled.sum_loss_and_grads([], []) == (0.0, [0.0] * 9, [])
    with pytest.raises(ValueError, match="2 examples but 1 targets"):
        compiled.sum_loss_and_grads([[0.0, 0.0], [1.0, 1.0]], [0.0])


def test_fit_compiled_trains_like_eager() -> None:
    fit = pytest.importorskip("nn.train").fit
    from nn.data import moons

    ds = moons(40, noise=0.1, seed=0)
    ys = ds.targets("hinge")
    runs = []
    for compiled in (False, True):
        model = MLP(2, [8, 1], seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback warning: it really compiled
            hist = fit(model, ds.xs, ys, loss="hinge", epochs=3, batch_size=10, lr=0.1,
                       seed=0, progress=False, compiled=compiled)
        runs.append((hist.loss, [p.data for p in model.parameters()]))
    assert_close(runs[1][0], runs[0][0], "loss history")
    assert_close(runs[1][1], runs[0][1], "trained parameters")


def test_an_mlp_replays_in_one_numpy_call_per_level_and_op() -> None:
    rng = random.Random(6)
    model = MLP(2, [16, 16, 1], seed=0)
    xs = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)]
    compiled = compile_loss(model, LOSSES["hinge"], xs, [1.0, -1.0, 1.0, -1.0])
    tape = compiled.tape
    assert tape is not None
    # Each layer's 16 (or 1) neurons are dot steps: 33 dots, 32 relus, the hinge's mul, sub
    # and relu; the 304 products are inside the dots.
    assert len(tape.steps) == 33 + 32 + 3
    # ... and one group per (level, op): a matrix product and a relu per layer, then the loss.
    assert [g.prim.name if hasattr(g, "prim") else "dot" for g in tape._replay.groups()] == [
        "dot", "relu", "dot", "relu", "dot", "mul", "sub", "relu"]
    # Unfused, the same graph is a mul, a sum and a relu per layer.
    xv = [Value(0.0, "x0"), Value(0.0, "x1")]
    t = Value(1.0, "t")
    plain = trace([LOSSES["hinge"](model(xv), t)], [*xv, t], model.parameters(), fuse=False)
    assert len(plain.steps) == 304 + 33 + 32 + 3
    assert [g.prim.name for g in plain._replay.groups()] == [  # type: ignore[union-attr]
        "mul", "sum", "relu", "mul", "sum", "relu", "mul", "sum", "mul", "sub", "relu"]


def test_batch_objective_mean_and_l2_match_eager() -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(3)
    batch = rng.normal(size=(7, 3)).tolist()
    ws = [Value(float(w), f"w{i}") for i, w in enumerate(rng.normal(size=3))]

    def example_loss(x: list[Value]) -> Value:
        s = Value.sum([w * xi for w, xi in zip(ws[:2], x[:2])]).tanh()
        return (s - x[2] * ws[2]) ** 2

    xv = [Value(0.0, f"x{i}") for i in range(3)]
    s_leaf, n_leaf = Value(0.0, "S"), Value(1.0, "n")
    obj = trace_objective(example_loss(xv), xv, ws,
                          total=s_leaf / n_leaf + 0.01 * Value.sum([w * w for w in ws]),
                          batch_sum=s_leaf, batch_size=n_leaf, outputs=[xv[0] * ws[0]])
    loss, grads, outs = obj.loss_and_grads(batch, [w.data for w in ws])

    total = Value.sum([example_loss([Value(v) for v in row]) for row in batch]) * (1 / 7)
    total = total + 0.01 * Value.sum([w * w for w in ws])
    total.backward()
    assert_close([loss], [total.data], "loss")
    assert_close(grads.tolist(), [w.grad for w in ws], "grads")
    assert_close(outs[:, 0].tolist(), [row[0] * ws[0].data for row in batch], "outputs")


def test_batch_objective_errors_say_what_is_needed() -> None:
    from nn.compiled.trainer import Objective

    x, w = Value(1.0, "x"), Value(2.0, "w")
    s_leaf = Value(0.0, "S")
    with pytest.raises(ValueError, match="both batch_sum and batch_size"):
        trace_objective(x * w, [x], [w], total=s_leaf * w, batch_sum=s_leaf)
    example = trace_objective(x * w, [x], [w]).example
    with pytest.raises(ValueError, match=r"inputs \(S, n\) and the same parameters"):
        Objective(example, example)


def test_softmax_ce_with_a_traced_class_gives_the_class_index_numbers_exactly() -> None:
    # The compiled path traces the class as an input Value: softmax_ce then picks y_c with an
    # indicator, so one program serves every class. Same loss and gradients, to the bit.
    for c in range(4):
        ys = [Value(v) for v in (0.3, -1.2, 2.5, 0.7)]
        zs = [Value(v) for v in (0.3, -1.2, 2.5, 0.7)]
        a = LOSSES["softmax_ce"](ys, c)
        b = LOSSES["softmax_ce"](zs, Value(float(c), "t"))
        a.backward()
        b.backward()
        assert a.data == b.data
        assert [y.grad for y in ys] == [z.grad for z in zs]
