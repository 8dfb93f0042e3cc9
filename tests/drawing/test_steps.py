"""The backward pass step by step: the hand-worked trace, the same grads and order as
backward, .grad left alone, and the printable table."""

import pytest
from graphs import random_graph
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, reverse_order
from autograd.drawing.steps import backward_steps, format_trace, node_names


def example():
    """c*(a+2*b) at a=3, b=1, c=-2, with every node labelled."""
    a, b, c = Value(3.0, "a"), Value(1.0, "b"), Value(-2.0, "c")
    two = Value(2.0, "two")
    t = two * b
    t.label = "t"
    s = a + t
    s.label = "s"
    L = c * s
    L.label = "L"
    return L


def test_hand_worked_trace():
    # By hand: L = c*s with s = a + t, t = 2*b. Seed dL/dL = 1.
    #   L -> c: local s = 5,  upstream 1,  c.grad 0 -> 5
    #   L -> s: local c = -2, upstream 1,  s.grad 0 -> -2
    #   s -> a: local 1,      upstream -2, a.grad 0 -> -2
    #   s -> t: local 1,      upstream -2, t.grad 0 -> -2
    #   t -> two: local b = 1, upstream -2, two.grad 0 -> -2
    #   t -> b: local 2,      upstream -2, b.grad 0 -> -4
    expected = [
        ("L", "c", 5, 1, 5, 0, 5),
        ("L", "s", -2, 1, -2, 0, -2),
        ("s", "a", 1, -2, -2, 0, -2),
        ("s", "t", 1, -2, -2, 0, -2),
        ("t", "two", 1, -2, -2, 0, -2),
        ("t", "b", 2, -2, -4, 0, -4),
    ]
    got = [(s.node.label, s.parent.label, s.local, s.upstream, s.contribution, s.before,
            s.after) for s in backward_steps(example())]
    assert got == expected


def test_accumulation_when_a_node_is_used_twice():
    # y = a*a + a at a = 3: dy/da = 2a + 1 = 7, accumulated over three edges.
    a = Value(3.0, "a")
    sq = a * a
    y = sq + a
    steps = list(backward_steps(y))
    into_a = [(s.before, s.contribution, s.after) for s in steps if s.parent is a]
    assert into_a == [(0.0, 1.0, 1.0), (1.0, 3.0, 4.0), (4.0, 3.0, 7.0)]
    assert [s.parent_index for s in steps if s.node is sq] == [0, 1]


@given(st.data())
def test_final_grads_equal_backward_and_grads_are_untouched(data):
    root = random_graph(data)
    seed = data.draw(st.sampled_from([1.0, -0.5, 2.0]))
    nodes = reverse_order(root)
    for v in nodes:
        v.grad = 0.0
    final: dict[Value, float] = {}
    for s in backward_steps(root, seed):
        assert s.contribution == s.local * s.upstream
        assert s.after == s.before + s.contribution
        final[s.parent] = s.after
    assert all(v.grad == 0.0 for v in nodes)  # the steps kept their own grads
    root.backward(seed)
    for v in nodes:
        if v is not root:  # the same sums in the same order: exactly equal
            assert final.get(v, 0.0) == v.grad


@given(st.data())
def test_order_is_backwards_order_edge_by_edge(data):
    root = random_graph(data)
    steps = list(backward_steps(root))
    assert [(s.node, s.parent_index) for s in steps] == [
        (v, i) for v in reverse_order(root) for i in range(len(v.parents))]
    assert [s.index for s in steps] == list(range(len(steps)))
    # A node passes its grad on only once every consumer has added into it.
    upstream_final: dict[Value, float] = {root: 1.0}
    for s in steps:
        assert s.upstream == upstream_final.get(s.node, 0.0)
        upstream_final[s.parent] = s.after


def test_trace_table():
    text = format_trace(example())
    lines = text.splitlines()
    assert lines[0].startswith("backward from L = -10, seeded with grad 1: 6 steps")
    assert lines[1].split() == ["step", "node", "parent", "local", "upstream", "contribution",
                                "parent", "grad"]
    assert lines[-1].split() == ["6", "t", "(*)", "b", "2", "-2", "-4", "0", "->", "-4"]
    assert len(lines) == 8


def test_unlabelled_nodes_get_names():
    a = Value(2.0, "a")
    y = (a * 3).tanh()
    names = node_names(y)
    assert names[a] == "a" and names[y] == "tanh3" and names[y.parents[0]] == "mul2"
    assert names[y.parents[0].parents[1]] == "3"


def test_steps_refuse_a_non_value():
    with pytest.raises(TypeError, match="root Value"):
        list(backward_steps(1.0))
