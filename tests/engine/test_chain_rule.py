"""The chain rule is written once (``backward.chain_rule``), and every pass is that loop: the
fast default pass, the hooked pass, create_graph, ``gradients`` and the step-through all give
the gradients the readable loop gives, on random graphs."""

import ast
import importlib
import inspect

import pytest
from graphs import random_graph
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, gradients, reverse_order, watch
from autograd import backward as backward_function
from autograd.backward import _propagate, chain_rule
from autograd.drawing.steps import backward_steps


def readable_grads(root: Value, seed: float = 1.0) -> dict[Value, float]:
    """The loop of ``_propagate``'s docstring, in a dict: every node's d(root)/d(node)."""
    grads: dict[Value, float] = {root: seed}
    for _, _, parent, local, g in chain_rule(reverse_order(root), lambda n: grads.get(n, 0.0)):
        grads[parent] = grads.get(parent, 0.0) + local * g
    return grads


def _fresh(nodes: list[Value]) -> None:
    for n in nodes:
        n.grad = 0.0


@given(data=st.data())
def test_the_fast_pass_and_the_readable_loop_give_identical_grads(data):
    root = random_graph(data, max_ops=16)
    nodes = reverse_order(root)
    expected = readable_grads(root)
    _propagate(root, 1.0)  # the fast copy, as the default path runs it
    assert [n.grad for n in nodes] == [expected.get(n, 0.0) for n in nodes]
    assert all(n._pending == 0 for n in nodes)
    _fresh(nodes)
    root.backward()
    assert [n.grad for n in nodes] == [expected.get(n, 0.0) for n in nodes]


@given(data=st.data())
def test_every_pass_is_the_one_loop(data):
    root = random_graph(data, max_ops=12)
    nodes = reverse_order(root)
    expected = [readable_grads(root).get(n, 0.0) for n in nodes]
    _fresh(nodes)
    seen = []
    with watch(on_edge=lambda *edge: seen.append(edge[:3])):  # the hooked pass
        root.backward()
    assert [n.grad for n in nodes] == expected
    steps = list(backward_steps(root))  # the step-through, in the hooked pass's order
    assert [(s.node, s.parent_index, s.parent) for s in steps] == seen
    last = {s.parent: s.after for s in steps}
    assert [last.get(n, 1.0 if n is root else 0.0) for n in nodes] == expected
    assert list(gradients(root, nodes, create_graph=False)) == expected
    _fresh(nodes)
    backward_function(root, create_graph=True)  # Values, added in the same order
    assert [float(n.grad) for n in nodes] == pytest.approx(expected, rel=1e-12, abs=1e-300)
    with_graph = gradients(root, nodes)
    assert [float(g) for g in with_graph] == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_a_node_not_reached_has_no_steps():
    a, b = Value(1.0), Value(2.0)
    root = a * b
    order = reverse_order(root)
    steps = list(chain_rule(order, lambda n: None if n is root else 0.0))
    assert steps == []
    steps = list(chain_rule(order, lambda n: 1.0 if n is root else 0.0))
    assert [(node, i, parent, local, g) for node, i, parent, local, g in steps] == [
        (root, 0, a, 2.0, 1.0), (root, 1, b, 1.0, 1.0)]


def _loops_over_edges(source: str) -> int:
    """How many ``for`` loops iterate over a node's edges (``.edges()``, ``edges_of(...)``,
    ``differentiable_edges(...)``) in ``source``."""
    count = 0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.For):
            text = ast.unparse(node.iter)
            if "edges" in text and "chain_rule" not in text:
                count += 1
    return count


def test_the_chain_rule_loop_is_written_once_in_the_engine():
    # (``autograd.backward`` is the function; the module is read from sys.modules.)
    engine = importlib.import_module("autograd.backward")
    assert _loops_over_edges(inspect.getsource(engine)) == 1  # chain_rule's own
    assert _loops_over_edges(inspect.getsource(chain_rule)) == 1
    for name in ("autograd.transforms.higher", "autograd.drawing.steps"):
        source = inspect.getsource(importlib.import_module(name))
        assert _loops_over_edges(source) == 0 and "chain_rule(" in source, name
