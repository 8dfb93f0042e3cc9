"""Anomaly detection: the first op that makes a NaN or inf is named, with its operands and line."""

import inspect
import math
import re

import pytest
from threads import held_in_another_thread

import autograd.recording as recording
import autograd.transforms.anomaly as anomaly_module
from autograd import AnomalyError, Value, detect_anomaly, first_nonfinite, toposort

INF = float("inf")


def _line_of(marker):
    """The line number of the first line of this file containing ``marker``."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return next(i for i, text in enumerate(lines, 1) if marker in text)


def test_forward_nan_from_inf_minus_inf_names_op_operands_and_line():
    a, b = Value(INF, "a"), Value(INF, "b")  # infinite inputs are accepted
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        twice = a * 2.0  # inf passed on from an operand: not flagged
        _ = twice - b  # MARK-forward-nan
    err = info.value
    assert err.phase == "forward" and err.op == "sub"
    assert err.site.filename == __file__ and err.site.lineno == _line_of("MARK-forward-nan")
    assert err.site.function == "test_forward_nan_from_inf_minus_inf_names_op_operands_and_line"
    message = str(err)
    assert "forward of sub produced nan" in message
    assert "sub(inf, inf (label 'b')) = nan" in message
    assert f"{__file__}:{err.site.lineno}" in message


def test_forward_inf_from_finite_operands_is_flagged_at_that_op():
    big = Value(1e308, "big")
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        small = big * 0.5
        _ = small * 100.0  # MARK-overflow
    assert info.value.op == "mul" and info.value.site.lineno == _line_of("MARK-overflow")
    assert "forward of mul produced inf: mul(5e+307, 100.0) = inf" in str(info.value)


def _helper_that_makes_a_nan(x):
    return x * 0.0  # MARK-helper


def test_the_line_is_the_innermost_user_frame_not_the_engine():
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        _helper_that_makes_a_nan(Value(INF, "x"))
    assert info.value.site.lineno == _line_of("MARK-helper")
    assert info.value.site.function == "_helper_that_makes_a_nan"
    assert "mul(inf (label 'x'), 0.0) = nan" in str(info.value)


def test_backward_nan_from_sqrt_at_zero_meeting_a_zero_upstream_gradient():
    x = Value(0.0, "x")
    with detect_anomaly():
        root = x.sqrt()  # MARK-sqrt: sqrt'(0) = +inf
        y = root * 0.0  # upstream gradient of root is 0, and 0 * inf = nan
        with pytest.raises(AnomalyError) as info:
            y.backward()
    err = info.value
    assert err.phase == "backward" and err.op == "sqrt" and err.node is root
    assert err.site.filename == __file__ and err.site.lineno == _line_of("MARK-sqrt")
    message = str(err)
    assert ("backward of sqrt produced nan for 0.0 (label 'x'): local derivative inf * "
            "upstream gradient 0.0 = nan") in message
    assert f"{__file__}:{err.site.lineno}" in message


def test_backward_with_create_graph_is_checked_too():
    x = Value(0.0, "x")
    with detect_anomaly():
        y = x.sqrt() * 0.0  # MARK-sqrt-cg
        with pytest.raises(AnomalyError) as info:
            y.backward(create_graph=True)
    assert info.value.op == "sqrt" and info.value.site.lineno == _line_of("MARK-sqrt-cg")


def test_backward_names_the_operand_of_a_binary_op():
    a, b = Value(1e200, "a"), Value(1e-200, "b")
    with detect_anomaly():
        prod = a * b  # MARK-binary: = 1, but d(prod)/db = 1e200
        y = prod * 1e200
        with pytest.raises(AnomalyError) as info:
            y.backward()
    assert info.value.op == "mul" and info.value.site.lineno == _line_of("MARK-binary")
    assert ("backward of mul produced inf for operand 1 (1e-200 (label 'b')): local derivative "
            "1e+200 * upstream gradient 1e+200 = inf") in str(info.value)


def test_without_the_mode_nothing_is_checked_and_first_nonfinite_finds_the_origin():
    x = Value(0.0, "x")
    root = x.sqrt()
    y = root * 0.0 + Value(2.0)
    y.backward()
    assert math.isnan(x.grad)  # silently, as in PyTorch without anomaly mode
    assert first_nonfinite(y) is x

    big = Value(1e308, "big")
    made = big * 10.0
    z = (made - made) * 2.0
    assert first_nonfinite(z) is made
    assert first_nonfinite(Value(1.0) * 2.0) is None


def test_a_node_made_outside_the_block_has_no_recorded_line():
    x = Value(0.0, "x")
    y = x.sqrt() * 0.0
    with detect_anomaly(), pytest.raises(AnomalyError, match="created outside detect_anomaly"):
        y.backward()


def test_the_mode_is_off_by_default_and_off_again_after_the_block():
    assert recording._watched == 0 and not anomaly_module.is_active()
    with pytest.raises(AnomalyError), detect_anomaly(), detect_anomaly():
        assert anomaly_module.is_active() and recording._watched == 2
        assert len(recording.edge_hooks()) == 2
        _ = Value(INF) - Value(INF)
    assert recording.edge_hooks() == () and recording._thread.node_hooks == ()
    assert recording._watched == 0 and anomaly_module._state.sites is None
    _ = Value(INF) - Value(INF)  # no error any more


def test_finite_graphs_pass_unchanged_through_the_checked_backward():
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    with detect_anomaly():
        y = (x * w).tanh() + x.exp() / w
        y.backward()
    checked = (x.grad, w.grad)
    x.grad = w.grad = 0.0
    y.backward()
    assert checked == (x.grad, w.grad)


def test_another_threads_block_does_not_check_this_thread():
    with held_in_another_thread(detect_anomaly):
        x = Value(0.0)
        y = x.sqrt() * 0.0
        y.backward()  # this thread is not in anomaly mode: no error
        assert math.isnan(x.grad)
        _ = Value(INF) - Value(INF)


def test_the_drawing_highlights_the_path_from_the_first_nonfinite_node_to_the_root():
    from autograd.drawing.graph import HIGHLIGHT, to_dot

    x, w = Value(0.0, "x"), Value(2.0, "w")
    root = x.sqrt()
    scaled = root * 0.0
    y = scaled + w
    y.backward()
    start = first_nonfinite(y)
    assert start is x
    dot = to_dot(y, highlight_path=start)
    ids = {v: i for i, v in enumerate(toposort(y))}
    marked = {int(m) for m in re.findall(rf'\tv(\d+) \[[^\n]*color="{HIGHLIGHT}"', dot)}
    assert marked == {ids[x], ids[root], ids[scaled], ids[y]}
    assert ids[w] not in marked
