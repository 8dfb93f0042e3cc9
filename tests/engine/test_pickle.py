"""Values pickle and deep-copy without recursion, keeping the graph, the grads and shared leaves."""

import copy
import pickle

import pytest

from autograd import Value, no_grad


def chain(depth: int) -> tuple[Value, Value]:
    x = Value(0.5, "x")
    y = x
    for _ in range(depth):
        y = (y * 1.0001).tanh()
    return x, y


@pytest.mark.parametrize("clone", [lambda v: pickle.loads(pickle.dumps(v)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_a_deep_chain_round_trips(clone):
    x, y = chain(20_000)  # far past the default recursion limit
    y.backward()
    x2, y2 = clone([x, y])
    assert y2.data == y.data and y2.op == "tanh" and x2.grad == x.grad
    x2.grad = 0.0
    y2.backward()
    assert x2.grad == x.grad  # the copy's graph reaches the copied leaf, not the original
    assert x.grad != 0.0 and x2 is not x


def test_a_shared_leaf_stays_one_leaf_and_edges_survive():
    a = Value(2.0, "a")
    b = a * a + Value.sum([a, a, a, 1.0])
    b2, a2 = pickle.loads(pickle.dumps([b, a]))
    b2.backward()
    assert a2.grad == 2 * 2.0 + 3  # both edges of a*a and the three of the sum
    assert [p.op for p in b2.parents] == ["mul", "sum"] and len(b2.parents[1].parents) == 4
    assert b2.parents[0].parents == (a2, a2)


def test_unpickling_inside_no_grad_keeps_the_recorded_edges():
    a = Value(3.0)
    data = pickle.dumps(a * 2.0)
    with no_grad():
        y = pickle.loads(data)
    assert y.op == "mul" and len(y.parents) == 2


def test_a_model_pickles():
    from nn import MLP

    m = MLP(2, [4, 1], seed=0)
    m2 = pickle.loads(pickle.dumps(m))
    assert [v.data for v in m2([0.3, -0.2])] == [v.data for v in m([0.3, -0.2])]
    assert [p.data for p in m2.parameters()] == [p.data for p in m.parameters()]
