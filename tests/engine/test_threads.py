"""Hooks are per thread: one thread opening and closing capture() never disturbs another's."""

import sys
import threading

import pytest
from threads import held_in_another_thread

from autograd import Value, capture, no_grad, watch


@pytest.fixture
def fast_switching():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads as often as possible, to provoke races
    yield
    sys.setswitchinterval(previous)


def test_capture_sees_every_node_while_another_thread_opens_and_closes_its_own(fast_switching):
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            with capture():
                Value(1.0) * 2.0

    t = threading.Thread(target=churn)
    t.start()
    try:
        x = Value(0.3)
        for _ in range(300):
            with capture() as nodes:
                y = (x * 2.0 + 1.0).tanh()
            assert len(nodes) == 3 and nodes[-1] is y
    finally:
        stop.set()
        t.join()


def test_no_grad_in_one_thread_leaves_another_thread_recording(fast_switching):
    with held_in_another_thread(no_grad):
        x = Value(2.0)
        y = x * x
        assert y.parents == (x, x)


def test_a_hook_raising_closes_its_block_cleanly():
    from autograd import recording

    def refuse(node):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError), watch(on_node=refuse):
        Value(1.0) + 1.0
    assert recording._watched == 0 and recording._thread.node_hooks == ()
    assert (Value(1.0) + 1.0).data == 2.0
