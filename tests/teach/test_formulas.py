"""Local derivatives as formulas: pretty text and LaTeX from the op table's formula text, with the
graph's own names put in, on the edges of drawings, in the trace and in the player."""

import math

import pytest
from graphs import karpathy, random_graph
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_ops import CASES

from autograd import PRIMITIVES, Value, apply, to_dot, toposort
from autograd.drawing.player import animate
from autograd.drawing.steps import format_trace
from autograd.drawing.steps import node_names as steps_node_names
from autograd.teach.formulas import (
    edge_formula,
    edge_formulas,
    equation,
    formula_text,
    latex_name,
    node_names,
    number,
    partial,
    render,
)


def test_the_table_formulas_read_as_textbooks_write_them():
    assert formula_text("tanh") == "1 − y²"
    assert formula_text("mul", 0) == "x2" and formula_text("mul", 1) == "x1"
    assert formula_text("div", 0) == "1/x2"
    assert formula_text("div", 1) == "−x1/x2²"
    assert formula_text("sigmoid") == "y·(1 − y)"
    assert formula_text("relu") == "1 if x > 0 else 0"
    assert formula_text("sum", 5) == "1"  # one formula for every operand of an n-ary op
    assert formula_text("tanh", latex=True) == "1 - {y}^{2}"
    assert formula_text("div", 1, latex=True) == r"\frac{-x_{1}}{{x_{2}}^{2}}"
    assert "cases" in formula_text("relu", latex=True)


def test_an_edge_reads_with_the_nodes_own_names():
    *_, e, d, L = karpathy()
    assert edge_formula(e, 0).text() == "∂e/∂a = b = −3"
    assert edge_formula(e, 1).text() == "∂e/∂b = a = 2"
    assert edge_formula(d, 0).text() == "∂d/∂e = 1"  # a formula equal to its number is said once
    assert edge_formula(L, 1).text() == "∂L/∂f = d = 4"
    assert edge_formula(e, 0).latex() == r"\frac{\partial e}{\partial a} = b = -3"
    assert edge_formula(e, 0).text(value=False) == "∂e/∂a = b"


def test_unlabelled_nodes_get_the_names_drawings_use():
    a, b = Value(3.0, "a"), Value(1.0, "b")
    L = a + 2 * b
    names = node_names(L)
    assert names == steps_node_names(L)  # one naming, shared with traces and the player
    mul = L.parents[1]
    assert names[mul] == "mul3" and names[L] == "add4"  # op and topological index
    assert edge_formula(L, 1, names).text() == "∂add4/∂mul3 = 1"
    assert edge_formula(mul, 1, names).text() == "∂mul3/∂b = 2"  # the constant is put in


def test_a_known_parameter_is_put_in_and_tidied():
    a = Value(3.0, "a")
    assert edge_formula(a**2, 0).formula == "2·a"
    assert edge_formula(a**3, 0).formula == "3·a²"
    assert edge_formula(a**-1, 0).formula == "−a⁻²"
    assert edge_formula(a**0.5, 0).formula == "0.5·a^(−0.5)"
    assert edge_formula(a.leaky_relu(0.1), 0).formula == "1 if a > 0 else 0.1"
    assert render("c*x**(c - 1)", {"c": 2.0, "x": "w"}) == "2·w"
    assert render("0 if c == 0 else c*x", {"c": 2.0, "x": "w"}) == "2·w"  # the branch is known


def test_names_that_are_not_atoms_are_bracketed():
    s, t = Value(2.0, "s+t"), Value(3.0, "u")
    y = s * t
    assert edge_formula(y, 1, {s: "s+t", t: "u", y: "y"}).text() == "∂y/∂u = s+t = 2"
    assert render("x2**2", {"x2": "s+t"}) == "(s+t)²"
    assert render("x2**2", {"x2": "-3"}) == "(−3)²"  # a name that is a negative number
    assert render("x2**2", {"x2": -3.0}) == "9"  # a known number is folded
    assert partial("y", "s+t") == "∂y/∂(s+t)"


def test_latex_names():
    assert latex_name("a") == "a"
    assert latex_name("x1") == "x_{1}" and latex_name("w_3") == "w_{3}"
    assert latex_name("mul4") == r"\mathrm{mul4}"
    assert latex_name("w.0") == r"\mathrm{w.0}"
    assert latex_name("a_b#c") == r"\mathrm{a\_b\#c}"


def test_numbers_use_a_real_minus_and_no_negative_zero():
    assert number(-3.0) == "−3" and number(-0.0) == "0" and number(1 / 3) == "0.3333"
    assert number(-3.0, latex=True) == "-3"
    assert number(float("nan")) == "nan" and number(float("-inf")) == "−inf"


def test_equation_names_the_op():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    assert equation(a * b) == "a·b" and equation(a - b) == "a − b" and equation(a**2) == "a²"
    assert equation(a.tanh()) == "tanh(a)" and equation(Value.sum([a, b, a])) == "a + b + a"
    assert equation(2 * b) == "2·b" and equation(a) == "2"


def _labelled_node(name, data):
    """The primitive ``name`` applied to labelled operands (o1, o2, ...) drawn from its domain."""
    p = PRIMITIVES[name]
    case = CASES[name]
    xs = [data.draw(s) for s in case.operands]
    c = data.draw(case.param) if case.param is not None else None
    if p.valid is not None:
        assume(p.inside(*xs, *(() if c is None else (c,))))
    operands = [Value(x, f"o{i + 1}") for i, x in enumerate(xs)]
    if p.arity == -1:
        node = Value.sum(operands) if name == "sum" else apply(name, *operands)
    else:
        node = apply(name, *operands, param=c)
    node.label = "y"
    return node


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_primitive_reads_in_its_operands_names(name, data):
    node = _labelled_node(name, data)
    names = node_names(node)
    for i in range(len(node.parents)):
        f = edge_formula(node, i, names)
        assert f.symbol == f"∂y/∂o{i + 1}"
        for text in (f.formula, f.formula_latex):
            # The rule's own names are all replaced by the graph's.
            assert not {"x", "x1", "x2", "x3"} & set(_words(text)), (name, text)
        assert f.value == float(node.local_grads[i]) or math.isnan(f.value)
        assert f.text().startswith("∂y/∂o") and f.latex().startswith(r"\frac{\partial y}")


def _words(text):
    word, out = "", []
    for ch in text + " ":
        if ch.isalnum() or ch == "_":
            word += ch
        else:
            if word:
                out.append(word)
            word = ""
    return out


def test_drawings_show_the_formula_on_each_edge():
    *_, L = karpathy()
    L.backward()
    dot = to_dot(L, show_formula=True)
    assert "∂e/∂a = b = −3" in dot and "∂L/∂d = f = −2" in dot
    assert to_dot(L, show_formula=True, show_local=False).count("∂e/∂a = b>") == 1
    # Unlabelled nodes are named in their boxes, so ∂mul3/∂b can be found in the picture.
    a, b = Value(3.0, "a"), Value(1.0, "b")
    M = a + 2 * b
    assert "<I>mul3</I>" in to_dot(M, show_formula=True) and "∂mul3/∂b = 2" in to_dot(
        M, show_formula=True)
    assert "<I>mul3</I>" not in to_dot(M)


def test_a_label_in_a_formula_is_escaped_in_the_drawing():
    a, b = Value(2.0, "<a&>"), Value(1.0, "b")
    y = a * b
    dot = to_dot(y, show_formula=True)
    assert "&lt;a&amp;&gt;" in dot and "<a&>" not in dot


def test_the_trace_and_the_player_show_the_formulas():
    *_, L = karpathy()
    table = format_trace(L, show_formula=True)
    assert "formula" in table.splitlines()[1]
    assert "∂e/∂a = b" in table and "∂L/∂f = d" in table
    assert "formula" not in format_trace(L)
    player = animate(L, show_formula=True)
    assert any("[∂e/∂a = b]" in c for c in player.captions)
    assert all("∂e/∂a = b" in src for src in player.dot_sources())


def test_a_formula_that_is_not_python_is_a_clear_error():
    with pytest.raises(ValueError, match="not a Python expression"):
        render("1 -")
    with pytest.raises(ValueError, match="unknown primitive"):
        formula_text("nope")



@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_edge_at_once_reads_as_each_edge_alone(data):
    # edge_formulas reads a node's operands once and renders an n-ary op's formula once; it
    # must say exactly what edge_formula says, edge by edge.
    root = random_graph(data)
    wide = Value.sum([root, *root.parents, Value(2.0), root])
    wide.label = "s"
    names = node_names(wide)
    for node in toposort(wide):
        assert edge_formulas(node, names) == tuple(
            edge_formula(node, i, names) for i in range(len(node.parents)))
