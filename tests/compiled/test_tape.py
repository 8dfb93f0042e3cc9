"""The compiled tape: its text form, and compiled == eager on random graphs (values and grads).

The oracle is the eager engine itself, run once per example; the eager engine is checked
against central differences elsewhere. Tolerance: 1e-12 relative, with an absolute floor of
1e-15 times the largest gradient (the two engines add the same terms in different orders, so
a gradient that cancels to near zero can only be as exact as the terms it came from; values
below 1e-250 are underflow noise).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import DomainError, Value
from autograd.backends import numpy_math
from autograd.compiled.tape import Tape, TapeDomainError, trace

np = pytest.importorskip("numpy")

REL = 1e-12


def assert_close(got: list[float], want: list[float], what: str) -> None:
    assert len(got) == len(want), what
    scale = max([abs(w) for w in want] + [0.0])
    for i, (g, w) in enumerate(zip(got, want)):
        tol = REL * max(abs(g), abs(w)) + 1e-15 * scale + 1e-250  # floor: underflow noise
        assert abs(g - w) <= tol or (math.isinf(g) and g == w), (
            f"{what}[{i}]: compiled {g!r} vs eager {w!r} (|diff| {abs(g - w):.3g} > {tol:.3g})")


# ---------------------------------------------------------------------------------------------
# The program as text.

def test_text_form_of_a_small_graph() -> None:
    a, b, c = Value(3.0, "a"), Value(1.0, "b"), Value(-2.0, "c")
    loss = c * (a + 2 * b)
    tape = trace([loss], [a, b], [c])
    assert str(tape).splitlines() == [
        "# tape: 2 inputs, 1 params, 1 constants, 3 steps in 3 levels, 1 outputs",
        "%0 = input a",
        "%1 = input b",
        "%2 = param c",
        "%3 = const 2.0",
        "# level 1",
        "%4 = mul %3 %1",
        "# level 2",
        "%5 = add %0 %4",
        "# level 3",
        "%6 = mul %2 %5",
        "return %6",
    ]
    run = tape.forward([[3.0, 1.0], [0.0, 0.5]], [-2.0])
    assert run.outputs[:, 0].tolist() == [-10.0, -2.0]  # c*(a + 2b) by hand
    g = tape.backward(run, wrt_inputs=True)
    assert g.params.tolist() == [5.0 + 1.0]  # dL/dc = a + 2b, summed over the two examples
    assert g.inputs.tolist() == [[-2.0, -4.0], [-2.0, -4.0]]  # dL/da = c, dL/db = 2c


def test_param_op_and_sum_appear_in_the_text() -> None:
    x = Value(2.0, "x")
    y = Value.sum([x ** 3, x.leaky_relu(0.1), x])
    text = str(trace([y], [x]))
    assert "%1 = pow %0 3.0" in text
    assert "%2 = leaky_relu %0 0.1" in text
    assert "%3 = sum %1 %2 %0" in text


def test_equal_constants_share_one_slot_and_marked_interior_nodes_cut_the_graph() -> None:
    x = Value(1.0, "x")
    y = (x + 2.0) * (x - 2.0)  # 2.0 appears twice as separate leaves
    tape = trace([y], [x])
    assert tape.consts == [2.0]
    h = (x * 5.0).tanh()
    z = h * h
    cut = trace([z], [h])  # h is an input: the graph above it is not traced
    assert [s.op for s in cut.steps] == ["mul"]
    assert cut.forward([[0.5]]).outputs[0, 0] == 0.25


def test_structure_and_first_difference_name_the_step() -> None:
    def build(flip: bool) -> Tape:
        x = Value(1.0, "x")
        return trace([x.exp() if flip else x.tanh()], [x])

    assert build(True).structure() == build(True).structure()
    diff = build(True).first_difference(build(False))
    assert diff is not None and "exp" in diff and "tanh" in diff
    assert build(False).first_difference(build(False)) is None


def test_groups_follow_depth_not_node_count() -> None:
    # 40 parallel chains of depth 6: 240 steps, but only one group per level and op.
    xs = [Value(0.1 * i, f"x{i}") for i in range(40)]
    outs = []
    for x in xs:
        y = x
        for _ in range(3):
            y = (y * 0.5).tanh()
        outs.append(y)
    tape = trace(outs, xs)
    assert len(tape.steps) == 240
    assert tape.depth == 6
    assert len(tape._replay.groups()) == 6


def test_repeated_edges_accumulate() -> None:
    x = Value(3.0, "x")
    y = Value.sum([x, x, x * x, x * x])  # x used six times, x*x computed twice
    tape = trace([y], [x])
    g = tape.backward(tape.forward([[3.0], [-1.0]]), wrt_inputs=True)
    assert g.inputs[:, 0].tolist() == [2.0 + 4 * 3.0, 2.0 - 4.0]  # d/dx (2x + 2x^2) = 2 + 4x


# ---------------------------------------------------------------------------------------------
# Random graphs over every primitive: compiled == eager.

UNARY = ["neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus", "sin", "cos"]
BINARY = ["add", "sub", "mul", "div", "vpow"]
PARAM = ["pow", "leaky_relu"]
ALL_OPS = UNARY + BINARY + PARAM + ["sum"]


def _apply(op: str, args: list[Value], param: float) -> Value:
    from autograd import apply

    if op == "sum":
        return Value.sum(args)
    if op in PARAM:
        return apply(op, args[0], param=param)
    if op in BINARY:
        return apply(op, args[0], args[1])
    return apply(op, args[0])


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, int, list[tuple[str, list[int], float]], list[float]]:
    n_in = draw(st.integers(1, 3))
    n_par = draw(st.integers(0, 3))
    steps = []
    for k in range(draw(st.integers(1, 25))):
        avail = n_in + n_par + k
        op = draw(st.sampled_from(ALL_OPS))
        arity = draw(st.integers(1, 5)) if op == "sum" else 2 if op in BINARY else 1
        # Bias towards recent nodes so graphs get deep; repeats allowed (a node used many times).
        args = [draw(st.integers(max(0, avail - 4), avail - 1)) if draw(st.booleans())
                else draw(st.integers(0, avail - 1)) for _ in range(arity)]
        param = draw(st.sampled_from([2.0, 3.0, -1.0, 0.5, 0.01, 0.2]))
        steps.append((op, args, param))
    values = draw(st.lists(st.floats(-2.0, 2.0), min_size=4 * (n_in + n_par),
                           max_size=4 * (n_in + n_par)))
    return n_in, n_par, steps, values


def _build(n_in: int, n_par: int, steps: list[tuple[str, list[int], float]],
           batch: list[list[float]], params: list[float]) -> list[list[Value]]:
    """The same graph for every example; a step that leaves its domain (or explodes) for any
    example is replaced by tanh of its first operand, so every example has one structure."""
    per = [[Value(v, f"x{i}") for i, v in enumerate(row)] + [Value(p, f"p{i}")
                                                              for i, p in enumerate(params)]
           for row in batch]
    for op, args, param in steps:
        try:
            outs = [_apply(op, [nodes[a] for a in args], param) for nodes in per]
            if not all(abs(o.data) < 1e6 and all(math.isfinite(d) and abs(d) < 1e8
                                                 for d in o.local_grads) for o in outs):
                raise ValueError("too large")
        except (DomainError, ValueError, OverflowError):
            outs = [nodes[args[0]].tanh() for nodes in per]
        for nodes, o in zip(per, outs):
            nodes.append(o)
    return per


@given(graphs())
def test_compiled_equals_eager_on_random_graphs(g: Any) -> None:
    n_in, n_par, steps, values = g
    batch = [values[i * n_in:(i + 1) * n_in] for i in range(3)]
    params = values[3 * n_in:3 * n_in + n_par]
    per = _build(n_in, n_par, steps, batch, params)
    # Two outputs: the last node and one from the middle (a multi-output tape).
    outs = [len(per[0]) - 1, n_in + n_par + len(steps) // 2]
    nodes0 = per[0]
    tape = trace([nodes0[o] for o in outs], nodes0[:n_in], nodes0[n_in:n_in + n_par])
    run = tape.forward(batch, params)
    seed = [[1.0, 0.5]] * len(batch)
    grads = tape.backward(run, seed, wrt_inputs=True)

    want_params = [0.0] * n_par
    for i, nodes in enumerate(per):
        root = Value.sum([nodes[outs[0]], 0.5 * nodes[outs[1]]])
        root.backward()
        assert_close(run.outputs[i].tolist(), [nodes[o].data for o in outs], "outputs")
        assert_close(grads.inputs[i].tolist(), [v.grad for v in nodes[:n_in]], "input grads")
        want_params = [w + v.grad for w, v in zip(want_params, nodes[n_in:n_in + n_par])]
    assert_close(grads.params.tolist(), want_params, "param grads (summed over the batch)")


# ---------------------------------------------------------------------------------------------
# Domains, shapes and errors.

def test_a_domain_error_names_the_op_the_operand_and_the_example() -> None:
    x = Value(1.0, "x")
    tape = trace([x.log()], [x])
    with pytest.raises(TapeDomainError) as e:
        tape.forward([[1.0], [2.0], [0.0], [3.0]])
    msg = str(e.value)
    assert isinstance(e.value, DomainError)
    assert "log(0.0)" in msg and "x > 0" in msg and "example 2" in msg and "%1 = log %0" in msg


@pytest.mark.parametrize("build, bad", [
    (lambda x: x ** 0.5, -4.0),          # checked op: numpy would give nan, eager raises
    (lambda x: x ** Value(2.0), -1.0),    # vpow needs a positive base
    (lambda x: 1.0 / x, 0.0),
    (lambda x: x.sqrt(), -1.0),
])
def test_every_domain_error_of_eager_is_raised_by_the_replay(build: Any, bad: float) -> None:
    with pytest.raises(DomainError):
        build(Value(bad))  # eager
    x = Value(1.0, "x")
    tape = trace([build(x)], [x])
    with pytest.raises(DomainError):
        tape.forward([[1.0], [bad]])
    assert np.isfinite(tape.forward([[1.0], [2.0]]).outputs).all()


def test_an_overflow_is_inf_in_the_replay_as_in_eager() -> None:
    x = Value(800.0, "x")
    tape = trace([x.exp()], [x])
    assert tape.forward([[800.0]]).outputs[0, 0] == x.exp().data == math.inf


def test_infinite_partial_at_a_domain_edge_matches_eager() -> None:
    x = Value(0.0, "x")
    y = x.sqrt()
    y.backward()
    tape = trace([y], [x])
    g = tape.backward(tape.forward([[0.0], [4.0]]), wrt_inputs=True)
    assert g.inputs[:, 0].tolist() == [x.grad, 0.25]
    assert math.isinf(x.grad)


def test_numpy_backend_matches_the_float_backend() -> None:
    from autograd.backends import FLOAT

    m = numpy_math()
    xs = [-800.0, -30.0, -1.5, -1e-300, 0.0, 2.5, 40.0, 800.0]
    for name in ("sigmoid", "softplus"):
        got = getattr(m, name)(np.array(xs)).tolist()
        want = [getattr(FLOAT, name)(x) for x in xs]
        assert_close(got, want, name)


def test_bad_shapes_and_marks_are_clear_errors() -> None:
    x, w = Value(1.0, "x"), Value(2.0, "w")
    tape = trace([x * w], [x], [w])
    with pytest.raises(ValueError, match=r"shape \(N, 1\)"):
        tape.forward([[1.0, 2.0]], [2.0])
    with pytest.raises(ValueError, match="expected 1 parameter"):
        tape.forward([[1.0]], [])
    run = tape.forward([[1.0]], [2.0])
    with pytest.raises(ValueError, match="seed must have shape"):
        tape.backward(run, [[1.0, 1.0]])
    with pytest.raises(ValueError, match="marked twice"):
        trace([x * w], [x], [x])
    with pytest.raises(TypeError, match="must be a Value"):
        trace([x * w], [1.0], [w])  # type: ignore[list-item]


def test_missing_numpy_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd import backends

    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"edgegrad\[fast\]"):
        backends.numpy_module()


def test_a_deep_chain_traces_without_recursion() -> None:
    x = Value(0.3, "x")
    y = x
    for _ in range(200_000):  # deep enough to break any recursive walk, fast enough for CI
        y = y * 1.0
    tape = trace([y], [x])
    assert tape.depth == 200_000
    assert tape.consts == [1.0]


def test_the_batched_sum_is_the_tables_left_fold_bit_for_bit() -> None:
    from autograd.backends import FLOAT
    from autograd.compiled.replay import _forward
    from autograd.ops import SUM

    rng = np.random.default_rng(5)
    # Terms of very different sizes, so any change of summation order would show.
    ops = rng.standard_normal((9, 4, 6)) * (10.0 ** rng.integers(-8, 9, size=(9, 1, 1)))
    got = _forward(numpy_math(), SUM, ops, None)
    for i in range(4):
        for j in range(6):
            assert got[i, j] == SUM.forward(FLOAT, [float(x) for x in ops[:, i, j]])


def test_live_runs_never_share_buffers() -> None:
    x, w = Value(1.0, "x"), Value(2.0, "w")
    tape = trace([(x * w).tanh()], [x], [w])
    r1 = tape.forward([[0.1], [0.2]], [2.0])
    r2 = tape.forward([[-3.0], [4.0]], [2.0])  # while r1 is alive: its own arrays
    assert r1.outputs[:, 0].tolist() == [math.tanh(0.2), math.tanh(0.4)]
    g1 = tape.backward(r1)
    del r2
    tape.forward([[9.0], [9.0]], [2.0])  # reuses r2's buffers, not r1's
    assert g1.params.tolist() == tape.backward(r1).params.tolist()
    assert g1.params[0] == pytest.approx(sum(xi * (1 - math.tanh(2 * xi) ** 2)
                                             for xi in (0.1, 0.2)), rel=1e-12)


def test_a_dropped_tape_is_freed_at_once() -> None:
    # The tape holds its replay and the replay does not point back: no cycle for the collector.
    import weakref

    x = Value(1.0, "x")
    tape = trace([x.tanh()], [x])
    tape.backward(tape.forward([[0.5]]))
    ref = weakref.ref(tape)
    del tape
    assert ref() is None


def test_a_division_by_zero_in_the_replay_is_a_zero_division_error_as_in_eager() -> None:
    x = Value(2.0, "x")
    tape = trace([1.0 / x], [x])
    with pytest.raises(ZeroDivisionError):
        1.0 / Value(0.0)  # eager
    with pytest.raises(ZeroDivisionError, match="example 1 of the batch"):
        tape.forward([[2.0], [0.0]])
    log = trace([x.log()], [x])
    with pytest.raises(DomainError) as info:
        log.forward([[2.0], [-1.0]])
    assert not isinstance(info.value, ZeroDivisionError)  # only a division by zero is one


def test_a_dropped_runs_buffers_serve_the_next_run_and_a_live_runs_never_do() -> None:
    x = Value(0.5, "x")
    tape = trace([(x * 2.0).tanh()], [x])
    first = tape.forward([[0.1], [0.2]])
    kept = first.values
    second = tape.forward([[0.3], [0.4]])  # first is alive: fresh buffers
    assert second.values is not kept
    assert first.outputs[:, 0].tolist() == pytest.approx([math.tanh(0.2), math.tanh(0.4)])
    del first
    third = tape.forward([[0.5], [0.6]])  # first was dropped: its buffers are reused
    assert third.values is kept
    assert third.outputs[:, 0].tolist() == pytest.approx([math.tanh(1.0), math.tanh(1.2)])
    assert second.outputs[:, 0].tolist() == pytest.approx([math.tanh(0.6), math.tanh(0.8)])
