"""explain(L, a): every path's product of local derivatives, and their sum, which is a.grad."""

import pytest
from graphs import jurafsky, karpathy, random_graph
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, explain, toposort
from autograd.teach.explain import count_paths


def test_jurafskys_published_numbers():
    a, b, c, _, _, L = jurafsky()
    assert L.data == -10.0
    assert explain(L, a).total == -2.0
    assert explain(L, b).total == -4.0
    assert explain(L, c).total == 5.0
    text = str(explain(L, b))
    assert "∂L/∂b = ∂L/∂e · ∂e/∂d · ∂d/∂b = c · 1 · 2 = (−2)(1)(2) = −4" in text


def test_the_issues_example_is_written_out_in_symbols_formulas_and_numbers():
    a, *_, L = karpathy()
    x = explain(L, a)
    assert x.count == 1 and len(x.paths) == 1
    assert "∂L/∂a = ∂L/∂d · ∂d/∂e · ∂e/∂a = f · 1 · b = (−2)(1)(−3) = 6" in x.text()
    L.backward()
    assert x.total == a.grad == 6.0
    latex = x._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and r"\frac{\partial L}{\partial a}" in latex
    assert r"\left(-2\right)\left(1\right)\left(-3\right) = 6" in latex


def test_two_paths_are_added_up():
    a, b, c = Value(2.0, "a"), Value(1.0, "b"), Value(3.0, "c")
    h = a + b
    h.label = "h"
    k = h * c
    k.label = "k"
    L = h + k
    L.label = "L"
    x = explain(L, h)
    assert x.count == 2
    text = x.text()
    assert "path 1: ∂L/∂k · ∂k/∂h = 1 · c = (1)(3) = 3" in text
    assert "path 2: ∂L/∂h = 1" in text
    assert "∂L/∂h = 3 + 1 = 4" in text
    assert explain(L, a).total == 4.0


def test_a_times_a_has_two_paths():
    a = Value(3.0, "a")
    y = a * a
    y.label = "y"
    x = explain(y, a)
    assert x.count == 2 and x.total == 6.0
    assert [p.value for p in x.paths] == [3.0, 3.0]


def diamond():
    x = Value(0.7, "x")
    u, v = x.sin(), x.cos()
    return x, u * v


def ladder(n):
    """n rungs, each a diamond: 2^n paths from x to the top."""
    x = Value(0.3, "x")
    y = x
    for _ in range(n):
        y = y.sin() * y.cos()
    return x, y


def test_path_counts_on_known_graphs():
    x, y = diamond()
    assert count_paths(y, x) == 2 and explain(y, x).count == 2
    for n in (1, 3, 10):
        x, y = ladder(n)
        assert count_paths(y, x) == 2**n
    x, y = ladder(100)
    assert count_paths(y, x) == 2**100  # counted node by node, not enumerated
    x, y = ladder(4)
    assert len(explain(y, x, max_paths=16).paths) == 16


def test_too_many_paths_gives_the_count_and_the_per_node_form():
    x, y = ladder(30)
    e = explain(y, x)
    assert e.paths is None and e.count == 2**30
    text = e.text()
    assert "1073741824 paths from x to" in text and "too many to list" in text
    assert "Σ over consumers c of" in text
    # Every node from below y down to x, each once: the sum backward forms, edge by edge.
    assert len(e.nodes) == len(toposort(y)) - 1 and e.nodes[-1].node is x
    y.backward()
    assert e.total == pytest.approx(x.grad, rel=1e-12)
    assert r"\Sigma" in e.latex()


def test_explain_touches_no_grad():
    a, b, c, d, e, L = jurafsky()
    explain(L, a)
    assert all(v.grad == 0.0 for v in (a, b, c, d, e, L))


def test_a_node_outside_the_graph_is_a_clear_error():
    *_, L = jurafsky()
    with pytest.raises(ValueError, match="not in the graph"):
        explain(L, Value(1.0, "q"))
    with pytest.raises(TypeError, match="two Values"):
        explain(L, "a")
    assert explain(L, L).total == 1.0


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_sum_of_the_paths_is_the_engines_gradient(data):
    root = random_graph(data)
    nodes = toposort(root)
    leaves = [v for v in nodes if not v.parents]
    root.backward()
    for leaf in leaves:
        count = count_paths(root, leaf)
        listed = explain(root, leaf, max_paths=2000)
        per_node = explain(root, leaf, max_paths=0)
        assert per_node.paths is None and per_node.count == count
        assert per_node.total == pytest.approx(leaf.grad, rel=1e-9, abs=1e-9)
        if count <= 2000:
            assert len(listed.paths) == count
            assert listed.total == pytest.approx(leaf.grad, rel=1e-9, abs=1e-9)
