"""Graph shapes, traversal order, gradient lifetime, grad modes and published worked examples."""

import math
import sys
import threading
from fractions import Fraction

import pytest

from autograd import Value, grad, no_grad, reverse_order, toposort, value_and_grad

# -- published worked examples, with their published numbers ----------------------------------

def test_micrograd_readme_example():
    """micrograd's README: g = 24.7041, dg/da = 138.8338, dg/db = 645.5773."""
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert round(g.data, 4) == 24.7041
    assert round(a.grad, 4) == 138.8338
    assert round(b.grad, 4) == 645.5773


def test_cs231n_circuit():
    """CS231n backprop notes: f = (x + y) z at x=-2, y=5, z=-4 gives -12; grads -4, -4, 3."""
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    f.backward()
    assert (f.data, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, 3.0)


def test_cs231n_sigmoid_neuron():
    """CS231n: w = [2, -3, -3], x = [-1, -2]: output 0.73,
    dx = [0.39, -0.59], dw = [-0.2, -0.39, 0.2]."""
    w = [Value(2.0), Value(-3.0), Value(-3.0)]
    x = [Value(-1.0), Value(-2.0)]
    f = 1 / (1 + (-(w[0] * x[0] + w[1] * x[1] + w[2])).exp())
    f.backward()
    assert round(f.data, 2) == 0.73
    assert [round(v.grad, 2) for v in x] == [0.39, -0.59]
    assert [round(v.grad, 2) for v in w] == [-0.2, -0.39, 0.2]


def test_colah_computational_graph():
    """Olah, "Calculus on Computational Graphs": e = (a+b)(b+1) at a=2, b=1:
    e = 6, de/da = 2, de/db = 5."""
    a, b = Value(2.0), Value(1.0)
    e = (a + b) * (b + 1)
    e.backward()
    assert (e.data, a.grad, b.grad) == (6.0, 2.0, 5.0)


def test_issue_example_graph():
    """L = c * (a + 2b) at a=3, b=1, c=-2 (the demo's graph)."""
    a, b, c = Value(3.0, "a"), Value(1.0, "b"), Value(-2.0, "c")
    L = c * (a + 2 * b)
    L.backward()
    assert (L.data, a.grad, b.grad, c.grad) == (-10.0, -2.0, -4.0, 5.0)


# -- graph shapes -------------------------------------------------------------------------------

def test_a_times_a_keeps_both_edges():
    a = Value(3.0)
    y = a * a
    assert y.parents == (a, a) and y.local_grads == (3.0, 3.0)
    y.backward()
    assert a.grad == 6.0


def test_parents_and_local_grads_are_ordered_views_of_the_edges():
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    h = x.tanh()
    assert x.parents == () and x.local_grads == ()
    assert h.parents == (x,) and h.local_grads == (pytest.approx(1 - math.tanh(2.0) ** 2),)
    assert (w / x).parents == (w, x) and (w / x).local_grads == (0.5, 0.75)
    for terms in ([h], [h, x], [h, x, w], [x, h, x, w * x, h]):  # one, two and n operands
        s = Value.sum(terms)
        assert s.parents == tuple(terms) and s.local_grads == (1.0,) * len(terms)
        assert s.edges() == tuple(zip(s.parents, s.local_grads))
    assert x.edges() == () and h.edges() == ((x, h.local_grads[0]),)
    assert (w / x).edges() == ((w, 0.5), (x, 0.75))
    with pytest.raises(AttributeError):
        h.parents = ()  # type: ignore[misc]


def test_edges_past_the_second_operand_carry_gradients_and_counts():
    """Interior nodes reached only through an n-ary node's third and later edges."""
    x = Value(0.7)
    h = x.tanh()
    e = h.exp()
    y = Value.sum([x, x, h, e, h * h, e])  # x + x + h + e + h^2 + e
    y.backward()
    t = math.tanh(0.7)
    assert x.grad == pytest.approx(2 + (1 + 2 * math.exp(t) + 2 * t) * (1 - t * t), rel=1e-14)
    assert all(n._pending == 0 for n in toposort(y))


def test_a_node_is_one_object_for_the_garbage_collector():
    """An op adds one GC-tracked object (the Value): no tuple of parents or partials per node."""
    import gc

    x = Value(0.1)
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        v, w = x, x
        for _ in range(1000):
            v = (v * w).tanh() + x  # binary and unary ops
        after = len(gc.get_objects())
    finally:
        gc.enable()
    assert after - before <= 3000 + 10  # 3,000 new nodes
    assert v.data == pytest.approx(v.parents[0].data + 0.1)


def test_node_used_twice():
    a = Value(5.0)
    b = a + a
    c = b + b
    c.backward()
    assert (a.grad, b.grad) == (4.0, 2.0)


def test_diamond():
    x = Value(1.5)
    z = (x * 2) * (x * 3)  # 6 x^2
    z.backward()
    assert x.grad == pytest.approx(12 * 1.5)


def test_reused_interior_node():
    x = Value(0.3)
    h = x.tanh()
    y = h * h + h.exp() + 3 * h
    y.backward()
    t = math.tanh(0.3)
    assert x.grad == pytest.approx((2 * t + math.exp(t) + 3) * (1 - t * t), rel=1e-13)


def test_deep_chain_a_million_nodes_at_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(0.0)
    v = x
    for _ in range(1_000_000):
        v = v + 1.0
    v.backward()
    assert v.data == 1_000_000.0 and x.grad == 1.0
    del v  # tearing down a million-deep chain must not overflow the C stack either


def test_order_is_topological_and_deterministic():
    def build():
        a, b = Value(1.0, "a"), Value(2.0, "b")
        c = a * b
        d = c + a
        e = d * c + b.tanh()
        return e

    orders = [[(n.op, n.label, n.data) for n in toposort(build())] for _ in range(3)]
    assert orders[0] == orders[1] == orders[2]
    root = build()
    order = toposort(root)
    position = {n: i for i, n in enumerate(order)}
    assert order[-1] is root and len(order) == len(set(order))
    for n in order:
        for p in n.parents:
            assert position[p] < position[n]
    assert reverse_order(root) == order[::-1]


# -- gradient lifetime ---------------------------------------------------------------------------

def test_second_backward_doubles_leaves_but_not_interior_nodes():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c + a
    d.backward()
    first = (a.grad, b.grad, c.grad, d.grad)
    d.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert (c.grad, d.grad) == (first[2], first[3]) == (1.0, 1.0)


def test_backward_seed_and_zeroing():
    x = Value(3.0)
    y = x * x
    y.backward(0.5)
    assert x.grad == 3.0
    x.grad = 0.0
    y.backward()
    assert x.grad == 6.0


# -- values and modes ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [3, True, 2.5, Fraction(1, 4)])
def test_data_becomes_float(raw):
    v = Value(raw)
    assert type(v.data) is float and v.data == float(raw)


def test_numpy_scalars_become_float():
    np = pytest.importorskip("numpy")
    for raw in (np.float64(1.5), np.float32(0.5), np.int64(7)):
        v = Value(raw)
        assert type(v.data) is float and v.data == float(raw)


def test_comparisons_use_data_but_equality_is_identity():
    a, b = Value(1.0), Value(1.0)
    assert a <= b and a >= b and not a < b and a < 2 and b > 0.5
    assert a != b and a == a and len({a, b}) == 2
    assert {a: 1}[a] == 1


def test_no_grad_records_no_parents_and_is_thread_local():
    x = Value(2.0)
    seen = {}

    def other_thread():
        seen["op"] = (x * x).op

    with no_grad():
        y = x * x
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert y.data == 4.0 and y.parents == () and y.op == ""
    assert seen["op"] == "mul"
    assert (x * x).parents == (x, x)


def test_detach_stops_gradients():
    x = Value(2.0, "x")
    y = x.detach() * x
    y.backward()
    assert x.grad == 2.0 and y.parents[0].label == "x" and y.parents[0] is not x


def test_functional_grad():
    f = lambda x, y: x * y + x.sin()
    assert grad(f)(1.0, 2.0) == pytest.approx(2.0 + math.cos(1.0))
    value, (gx, gy) = value_and_grad(f, argnums=(0, 1))(1.0, 2.0)
    assert value == pytest.approx(2.0 + math.sin(1.0))
    assert (gx, gy) == (pytest.approx(2.0 + math.cos(1.0)), 1.0)
    with pytest.raises(ValueError, match="argnums"):
        grad(f, argnums=2)(1.0, 2.0)


def test_an_interrupted_backward_leaves_the_graph_reusable():
    class Boom:  # a local derivative whose product raises partway through the pass, like Ctrl-C
        def __mul__(self, other):
            raise KeyboardInterrupt

    x = Value(0.5)
    h = x.tanh()
    hh = h * h
    y = hh + h
    saved = hh._da
    hh._da = Boom()
    with pytest.raises(KeyboardInterrupt):
        y.backward()
    assert all(n._pending == 0 for n in toposort(y))
    hh._da = saved
    x.grad = 0.0
    y.backward()
    t = math.tanh(0.5)
    assert x.grad == pytest.approx((2 * t + 1) * (1 - t * t), rel=1e-14)


def test_functional_grad_touches_no_grad_attribute():
    x = Value(3.0, "x")
    x.grad = 7.0  # e.g. left over from an earlier backward
    inner = x * 2.0
    assert grad(lambda v: v * v)(x) == 6.0
    assert value_and_grad(lambda v: v.sin(), argnums=0)(x)[1] == pytest.approx(math.cos(3.0))
    assert x.grad == 7.0 and inner.grad == 0.0


def test_the_seed_must_be_a_number():
    x = Value(0.5)
    y = x * 3.0
    with pytest.raises(TypeError, match=r"grad .* must be a real number; got list"):
        y.backward([1.0])  # type: ignore[arg-type]
    y.backward(2)  # an int is a number
    assert x.grad == 6.0 and type(x.grad) is float
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="got ndarray"):
        y.backward(np.ones(3))  # would have made every leaf's grad an array
    y.backward(np.float64(1.0))  # a numpy scalar is a real number
    assert x.grad == 9.0 and type(x.grad) is float
