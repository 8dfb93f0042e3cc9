"""Drawings: DOT text and structure, edge labels equal to the recorded local derivatives,
stable ids, highlights, clusters and collapsing, and one real SVG render where `dot` exists."""

import math
import re
import shutil
import subprocess
import sys
import warnings

import pytest
from graphs import random_graph
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, toposort
from autograd.drawing.graph import HIGHLIGHT, GraphvizNotFound, draw, op_text, save, to_dot

NODE = re.compile(r"^\s*v(\d+) \[label=<(.*?)> shape=\"box\"", re.M)
OP = re.compile(r"^\s*v(\d+)op \[label=<([^>]*)>", re.M)
EDGE = re.compile(r"^\s*v(\d+) -> v(\d+)op(?: \[label=<(.*?)>)?", re.M)
OP_EDGE = re.compile(r"^\s*v(\d+)op -> v(\d+)", re.M)


def example():
    """c*(a+2*b) at a=3, b=1, c=-2: L = -10; dL/da = -2, dL/db = -4, dL/dc = 5 (by hand)."""
    a, b, c = Value(3.0, "a"), Value(1.0, "b"), Value(-2.0, "c")
    t = 2 * b
    s = a + t
    L = c * s
    L.label = "L"
    return a, b, c, t, s, L


# -- structure ---------------------------------------------------------------------------------

def test_small_graph_structure_and_labels():
    a, b, c, _, _, L = example()
    L.backward()
    dot = to_dot(L)
    nodes = NODE.findall(dot)
    assert len(nodes) == 7  # a, b, c, the constant 2, 2*b, a+2*b, L
    assert sorted(OP.findall(dot), key=lambda m: int(m[0])) == [
        (str(i), sym) for i, sym in [(4, "*"), (5, "+"), (6, "*")]]
    assert len(EDGE.findall(dot)) == 6  # one per operand
    assert len(OP_EDGE.findall(dot)) == 3  # one per op
    text = {int(i): label for i, label in nodes}
    order = toposort(L)
    ids = {v: i for i, v in enumerate(order)}
    assert "<B>a</B>" in text[ids[a]] and "data 3" in text[ids[a]] and "grad -2" in text[ids[a]]
    assert "grad -4" in text[ids[b]]
    assert "grad 5" in text[ids[c]]
    assert "data -10" in text[ids[L]] and "grad 1" in text[ids[L]]
    # Every parent edge ends at the op node of its child, and the op feeds its own value.
    for p, child, _ in EDGE.findall(dot):
        assert order[int(p)] in order[int(child)].parents
    assert {(int(x), int(y)) for x, y in OP_EDGE.findall(dot)} == {(4, 4), (5, 5), (6, 6)}


def test_edge_labels_are_the_local_derivatives_hand_values():
    L = example()[-1]
    dot = to_dot(L)
    labels = [lab for _, _, lab in EDGE.findall(dot)]
    # d(2*b)/d2 = b = 1, d(2*b)/db = 2; d(a+t)/da = d(a+t)/dt = 1; dL/dc = s = 5, dL/ds = c = -2
    assert labels == ["1", "2", "1", "1", "5", "-2"]


def test_a_times_a_draws_two_edges():
    a = Value(3.0, "a")
    y = a * a
    dot = to_dot(y)
    edges = EDGE.findall(dot)
    assert edges == [("0", "1", "3"), ("0", "1", "3")]


@given(st.data())
def test_edge_labels_equal_recorded_local_grads_on_random_graphs(data):
    root = random_graph(data)
    order = toposort(root)
    dot = to_dot(root, fmt=".6g")
    by_child: dict[int, list[tuple[int, str]]] = {}
    for p, child, label in EDGE.findall(dot):
        by_child.setdefault(int(child), []).append((int(p), label))
    for i, v in enumerate(order):
        # Zero is written "0" whatever its sign (+ 0.0 turns -0.0 into 0.0).
        expected = [(order.index(p), format(g + 0.0, ".6g"))
                    for p, g in zip(v.parents, v.local_grads)]
        assert by_child.get(i, []) == expected
    assert len(NODE.findall(dot)) == len(order)


def test_same_graph_gives_identical_dot_and_draw_source_matches():
    first = to_dot(example()[-1])
    again = to_dot(example()[-1])
    assert first == again
    assert draw(example()[-1]).source == first


def test_dot_is_byte_identical_across_processes():
    code = ("from autograd import Value; from autograd.drawing.graph import to_dot;"
            "a, b = Value(2.0, 'a'), Value(-1.0, 'b');"
            "y = (a * b + a).tanh() * a; y.backward();"
            "import sys; sys.stdout.write(to_dot(y, show_contrib=True))")
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                           env={"PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2)]
    assert outs[0] == outs[1] and b"digraph" in outs[0]


# -- options -----------------------------------------------------------------------------------

def test_show_contrib_writes_local_times_upstream():
    L = example()[-1]
    L.backward()
    dot = to_dot(L, show_contrib=True)
    # b's edge into 2*b: local 2, upstream d L/d(2b) = -2, contribution -4 (by hand).
    assert '2<BR/><FONT COLOR="#2a7a2a">×-2 = -4</FONT>' in dot
    assert '5<BR/><FONT COLOR="#2a7a2a">×1 = 5</FONT>' in dot


def test_show_flags_and_format():
    L = example()[-1]
    L.backward()
    bare = to_dot(L, show_grad=False, show_local=False)
    assert "grad" not in bare and "->" in bare and "label=<" not in bare.split("-> v4op")[1][:5]
    assert "data -10.000" in to_dot(L, fmt=".3f")
    assert "rankdir=\"TB\"" in to_dot(L, rankdir="TB")
    assert op_text(Value(2.0) ** 3) == "**3"
    assert op_text(Value(-2.0).leaky_relu(0.1)) == "leaky_relu 0.1"


def test_grads_mapping_overrides_node_grads():
    a, *_, L = example()
    dot = to_dot(L, grads={a: 42.0})
    assert "grad 42" in dot and dot.count("grad ") == 1


def test_negative_zero_is_written_as_zero():
    w = Value(-2.0, "w")
    y = w * 0.0  # data -0.0
    assert y.data == 0.0 and str(y.data) == "-0.0"
    assert "data 0<" in to_dot(y) and "-0" not in to_dot(y)


def test_non_finite_numbers_are_written_plainly():
    x = Value(float("inf"), "x")
    y = x - x
    assert "data nan" in to_dot(y) and "data inf" in to_dot(y)


def test_highlight_path_marks_every_path_from_the_node_to_the_root():
    a, b, c = Value(float("inf"), "a"), Value(2.0, "b"), Value(1.0, "c")
    d = a - a  # nan: the first non-finite node
    e = d * b
    f = e + c
    g = f * d  # d reaches g twice: directly and through e, f
    order = toposort(g)
    ids = {v: i for i, v in enumerate(order)}
    dot = to_dot(g, highlight_path=d)
    hot = {int(i) for i, label in NODE.findall(dot)
           if re.search(rf'^\s*v{i} \[.*color="{HIGHLIGHT}"', dot, re.M)}
    assert hot == {ids[v] for v in (d, e, f, g)}
    red_edges = re.findall(rf'^\s*v(\d+) -> v(\d+)op \[.*color="{HIGHLIGHT}"', dot, re.M)
    assert sorted((int(p), int(q)) for p, q in red_edges) == sorted(
        [(ids[d], ids[e]), (ids[e], ids[f]), (ids[f], ids[g]), (ids[d], ids[g])])


def test_highlight_given_nodes():
    _, b, *_, L = example()
    dot = to_dot(L, highlight=[b])
    ids = {v: i for i, v in enumerate(toposort(L))}
    assert re.search(rf'^\s*v{ids[b]} \[.*color="{HIGHLIGHT}"', dot, re.M)
    assert dot.count(f'color="{HIGHLIGHT}"') == 1


def test_bad_options_are_refused_with_what_is_valid():
    L = example()[-1]
    with pytest.raises(ValueError, match="rankdir must be one of"):
        to_dot(L, rankdir="sideways")
    with pytest.raises(ValueError, match="fmt must be a float format spec"):
        to_dot(L, fmt="%d")
    with pytest.raises(ValueError, match="max_nodes must be a positive int"):
        to_dot(L, max_nodes=0)
    with pytest.raises(ValueError, match="not in the graph"):
        to_dot(L, highlight_path=Value(1.0))
    with pytest.raises(ValueError, match="not in the graph"):
        to_dot(L, highlight=[Value(1.0)])
    with pytest.raises(TypeError, match="root Value"):
        to_dot(3.0)
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf"):
        save(L, "graph.jpeg")


# -- groups and collapsing ---------------------------------------------------------------------

def _neurons():
    """Two 'neurons' in two layers: tanh(w0*x + b0) then tanh(w1*h + b1)."""
    x = Value(0.5, "x")
    w0, b0, w1, b1 = Value(-1.0, "w0"), Value(0.2, "b0"), Value(2.0, "w1"), Value(0.1, "b1")
    p0 = w0 * x
    a0 = p0 + b0
    h = a0.tanh()
    p1 = w1 * h
    a1 = p1 + b1
    y = a1.tanh()
    groups = {x: "inputs"}
    for v in (w0, b0, p0, a0, h):
        groups[v] = "layer 0/neuron 0"
    for v in (w1, b1, p1, a1, y):
        groups[v] = "layer 1/neuron 0"
    return y, groups


def test_groups_become_nested_clusters():
    y, groups = _neurons()
    dot = to_dot(y, groups=groups)
    assert dot.count("subgraph cluster_") == 5  # inputs, layer 0, its neuron, layer 1, neuron
    assert dot.count('label=<layer 0>') == 1 and dot.count('label=<neuron 0>') == 2
    # Each cluster holds its nodes: the neuron 0 cluster of layer 1 contains y's box.
    ids = {v: i for i, v in enumerate(toposort(y))}
    block = dot.split('label=<layer 1>')[1]
    assert f"v{ids[y]} [" in block and f"v{ids[y]}op [" in block


def test_beyond_max_nodes_groups_collapse_with_a_note():
    y, groups = _neurons()
    dot = to_dot(y, groups=groups, max_nodes=5)
    assert dot.count("shape=\"box3d\"") == 2
    assert dot.count("5 nodes hidden") == 2
    assert "2 groups collapsed: 10 of 11 nodes hidden (max_nodes=5)" in dot
    assert len(NODE.findall(dot)) == 1  # only x stays
    # The collapsed second neuron shows its output y: tanh(2*tanh(-0.5+0.2)+0.1).
    out = math.tanh(2 * math.tanh(-0.3) + 0.1)
    assert f"out {format(out, '.4g')}" in dot
    x = next(v for v, name in groups.items() if name == "inputs")
    x_id = toposort(y).index(x)
    assert "g0 -> g1" in dot and f"v{x_id} -> g0" in dot


def test_expand_keeps_a_group_open():
    y, groups = _neurons()
    dot = to_dot(y, groups=groups, max_nodes=5, expand=["layer 1/neuron 0"])
    assert dot.count("shape=\"box3d\"") == 1
    assert len(NODE.findall(dot)) == 6


def test_max_nodes_without_groups_warns():
    L = example()[-1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dot = to_dot(L, max_nodes=3)
    assert any("no groups to collapse" in str(w.message) for w in caught)
    assert len(NODE.findall(dot)) == 7


def test_mlp_2_16_16_1_collapses_to_a_legible_drawing():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [16, 16, 1], seed=0)
    trace = model.trace([0.5, -1.0])
    y = trace.output[0]
    y.backward()
    total = len(toposort(y))
    dot = to_dot(y, groups=trace.groups, max_nodes=150)
    # Every neuron becomes one box (16 + 16 + 1); the two inputs stay as they are.
    assert dot.count("shape=\"box3d\"") == 33
    assert f"33 groups collapsed: {total - 2} of {total} nodes hidden" in dot
    assert len(NODE.findall(dot)) == 2
    assert dot.count("->") < 16 * 16 + 2 * 16 + 16 + 1


# -- without and with the dot program ----------------------------------------------------------

def test_dot_text_needs_no_program_and_rendering_says_how_to_install(tmp_path, monkeypatch):
    L = example()[-1]
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    written = save(L, tmp_path / "graph.dot")
    assert written.read_text() == to_dot(L)
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        save(L, tmp_path / "graph.svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_render_svg(tmp_path):
    L = example()[-1]
    L.backward()
    out = save(L, tmp_path / "graph.svg")
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert svg.count('class="node"') == 10  # 7 values + 3 ops
    assert svg.count('class="edge"') == 9  # 6 operand edges + 3 op -> value
    assert ">grad &#45;4<" in svg or ">grad -4<" in svg


def test_unknown_option_is_named():
    with pytest.raises(TypeError, match="unknown option 'colour'; the options are expand"):
        to_dot(example()[-1], colour="red")


def test_jupyter_display_without_dot_shows_how_to_install_and_the_text(tmp_path, monkeypatch):
    graph = draw(example()[-1], renderer="dot")  # auto would draw in the browser instead
    monkeypatch.setenv("PATH", str(tmp_path))
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert bundle["text/plain"].endswith(graph.source)


def _every_option(a, b, y):
    """A value other than the default for every option of DrawOptions, on the graph of y."""
    return {"rankdir": "TB", "show_data": False, "show_grad": False, "show_local": False,
            "show_contrib": True, "show_formula": True, "fmt": ".2f", "highlight": [a],
            "highlight_path": b,
            "groups": {a: "g", b: "g", y.parents[0]: "g"}, "max_nodes": 2, "expand": ["g"],
            "grads": {a: 1.5}, "title": "t"}


def test_draw_to_dot_save_and_animate_take_the_same_options(tmp_path):
    from autograd.drawing.graph import DrawOptions
    from autograd.drawing.player import animate

    a, b = Value(2.0, "a"), Value(-3.0, "b")
    y = (a * b).tanh()
    y.backward()
    every = _every_option(a, b, y)
    assert list(every) == DrawOptions.names()  # the test covers every option
    graphviz = _has_graphviz_package()
    for name, value in every.items():
        one = {name: value}
        if name == "max_nodes":
            one["groups"] = every["groups"]  # something to collapse
        text = to_dot(y, **one)
        assert save(y, tmp_path / "g.dot", **one).read_text() == text
        assert len(animate(y, **one)) == 5
        if graphviz:
            assert draw(y, **one).source == text
    for who, call in [("to_dot", lambda **o: to_dot(y, **o)),
                      ("save", lambda **o: save(y, tmp_path / "g.dot", **o)),
                      ("Player", lambda **o: animate(y, **o)),
                      ("draw", lambda **o: draw(y, **o))]:
        with pytest.raises(TypeError, match=rf"^{who}: unknown option 'colour'; the options are "
                                            r"expand, fmt, grads, groups"):
            call(colour="red")


def _has_graphviz_package():
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False
    return True


def test_draw_and_to_dot_give_the_same_text_for_the_same_options():
    pytest.importorskip("graphviz")
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    y = (a * b).tanh()
    y.backward()
    options = {"rankdir": "TB", "show_grad": False, "show_contrib": True, "fmt": ".2f",
               "title": "t", "show_data": False}
    assert draw(y, **options).source == to_dot(y, **options)
    assert draw(y, **_every_option(a, b, y)).source == to_dot(y, **_every_option(a, b, y))
