"""The engine's layout keeps its promises: one source of derivatives, one traversal order.

- Value's methods are written from the table by ``make generate``; they are never stale and
  give exactly what the table's rules give, op by op.
- The fast backward pass and the plain chain-rule loop give identical grads.
- The three math backends offer the same functions.
- A new primitive is one table entry: it works eagerly, in the tape, in higher-order
  gradients, in forward mode, in expressions and in drawings.
"""

import dataclasses
import importlib.util
import math
from pathlib import Path

import pytest
from graphs import random_graph
from hypothesis import assume, given
from hypothesis import strategies as st
from test_ops import CASES

from autograd import PRIMITIVES, Value, apply, backends, grad, gradients, jvp, ops, to_dot, watch
from autograd import node as node_module

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("generate_methods",
                                                  ROOT / "tools" / "generate_methods.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_methods_are_up_to_date():
    gen = _generator()
    written = (ROOT / "autograd" / "arithmetic.py").read_text(encoding="utf-8")
    assert written == gen.generate(), "autograd/arithmetic.py is stale: run `make generate`"
    assert gen.main(["--check"]) == 0  # what `make lint` runs


def test_the_staleness_check_fails_on_a_stale_file(tmp_path, monkeypatch, capsys):
    gen = _generator()
    stale = tmp_path / "arithmetic.py"
    stale.write_text(gen.generate().replace("d = 1.0 - y * y", "d = 1.0 - y"), encoding="utf-8")
    monkeypatch.setattr(gen, "TARGET", stale)
    assert gen.main(["--check"]) == 1
    assert "run `make generate`" in capsys.readouterr().out
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0  # rewritten from the table


def test_the_generator_refuses_a_rule_it_cannot_copy():
    gen = _generator()
    source = ("X = Primitive('x', 1, forward=lambda m, x: m.exp(x),\n"
              "              partials=lambda m, x, y: helper(y))\n")
    lam = gen._rules(source)["X"]["partials"]
    with pytest.raises(gen.RuleError, match="uses 'helper'"):
        gen._partials("X", lam, ["m", "x", "y"], 1)
    source = "X = Primitive('x', 1, forward=lambda m, x: x, partials=lambda m, z, y: (y,))\n"
    with pytest.raises(gen.RuleError, match="takes \\(m, z, y\\)"):
        gen._partials("X", gen._rules(source)["X"]["partials"], ["m", "x", "y"], 1)


def _methods():
    for p in PRIMITIVES.values():
        for i, name in enumerate(p.methods):
            yield p, name, p.arity == 2 and i == 1


METHODS = list(_methods())


def test_every_primitive_but_the_sum_has_a_method():
    # clamp, the one three-operand primitive, has a hand-written method: the generator writes
    # unary and binary ones.
    assert {p.name for p, _, _ in METHODS} == set(PRIMITIVES) - {"sum", "clamp"}
    for _, name, _ in METHODS:
        method = getattr(Value, name)
        assert method.__module__ == "autograd.arithmetic" and method.__doc__
    assert Value.clamp.__doc__ and Value(2.0).clamp(0, 1).op == "clamp"


@pytest.mark.parametrize(("p", "name", "reflected"), METHODS,
                         ids=[f"{p.name}-{name}" for p, name, _ in METHODS])
@given(data=st.data())
def test_each_method_gives_the_tables_data_and_local_derivatives(p, name, reflected, data):
    case = CASES[p.name]
    xs, c = case.draw(data)
    if p.valid is not None:
        assume(p.valid(*xs, *(() if c is None else (c,))))
    # The rules themselves, evaluated on floats: the reference the method must equal.
    y = p.run_forward(backends.FLOAT, xs, c)
    expected = tuple(p.run_partials(backends.FLOAT, xs, y, c))
    operands = [Value(x) for x in xs]
    if reflected:
        out = getattr(operands[1], name)(xs[0])  # number on the left: x1 is a constant leaf
    elif c is not None:
        out = getattr(operands[0], name)(c)
    else:
        out = getattr(operands[0], name)(*operands[1:])
    assert out.op == p.name and out.data == y
    assert out.local_grads == pytest.approx(expected, rel=0, abs=0, nan_ok=True)
    assert out.param == c


def _plain_backward(root: Value) -> None:
    """The chain rule as written in backward()'s docstring, with nothing else."""
    from autograd import reverse_order

    order = reverse_order(root)
    for node in order:
        if node.parents:
            node.grad = 0.0
    root.grad += 1.0
    for node in order:
        for parent, local in node.edges():
            parent.grad += local * node.grad


@given(data=st.data())
def test_the_fast_backward_and_the_plain_chain_rule_give_identical_grads(data):
    root = random_graph(data, max_ops=14)
    from autograd import reverse_order

    nodes = reverse_order(root)
    root.backward()  # the fast form (no hooks open)
    fast = [n.grad for n in nodes]
    for n in nodes:
        n.grad = 0.0
    _plain_backward(root)
    assert [n.grad for n in nodes] == fast
    for n in nodes:
        n.grad = 0.0
    with watch(on_edge=lambda *edge: None):  # backward's own plain loop (hooks open)
        root.backward()
    assert [n.grad for n in nodes] == fast
    assert all(n._pending == 0 for n in nodes)


def test_the_backends_offer_the_same_functions():
    pytest.importorskip("numpy")

    def offered(backend):
        return {n for n in dir(backend) if not n.startswith("_") and callable(getattr(backend, n))}

    expected = set(backends.FUNCTIONS)
    assert offered(backends.FLOAT) == expected
    assert offered(backends.numpy_math()) == expected
    assert offered(node_module.VALUE_MATH) == expected


def test_every_rule_uses_only_what_the_backends_offer():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(ops))
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == "m"}
    assert used <= set(backends.FUNCTIONS), used - set(backends.FUNCTIONS)


def test_the_table_is_read_only_and_a_variant_is_a_new_primitive():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ops.EXP.partials = lambda m, x, y: (0.0,)  # type: ignore[misc]
    double = dataclasses.replace(ops.EXP, partials=lambda m, x, y: (2.0 * y,))
    x = Value(0.5)
    assert apply(double, x).local_grads == (2.0 * math.exp(0.5),)
    assert x.exp().local_grads == (math.exp(0.5),)  # the table is untouched


# ---------------------------------------------------------------------------------------------
# A toy primitive, added as one table entry.

CUBE = ops.Primitive(
    "cube", 1,
    forward=lambda m, x: x * x * x,
    partials=lambda m, x, y: (3.0 * x * x,),
    doc="x^3.",
)


@pytest.fixture
def cube(monkeypatch):
    monkeypatch.setitem(PRIMITIVES, "cube", CUBE)
    return lambda v: apply("cube", v)


def test_a_new_primitive_works_eagerly_and_in_higher_order(cube):
    x = Value(1.5, "x")
    y = cube(x)
    assert y.op == "cube" and y.data == pytest.approx(3.375)
    y.backward()
    assert x.grad == pytest.approx(3 * 1.5**2)
    assert grad(grad(cube))(1.5) == pytest.approx(6 * 1.5)  # second order from the same rule
    (g,) = gradients(cube(Value(2.0)), [Value(2.0)])
    assert float(g) == 0.0  # a different leaf: no path


def test_a_new_primitive_works_in_forward_mode(cube):
    value, tangent = jvp(lambda v: cube(v) + v, (2.0,), (1.0,))
    assert value == 10.0 and tangent == pytest.approx(3 * 4.0 + 1.0)


def test_a_new_primitive_works_in_the_tape(cube):
    np = pytest.importorskip("numpy")
    from autograd.compiled.tape import trace

    x = Value(0.7, "x")
    w = Value(1.3, "w")
    out = cube(x * w).tanh()
    tape = trace([out], [x], [w])
    run = tape.forward(np.array([[0.7], [-0.4]]), [1.3])
    grads = tape.backward(run)
    expected = []
    for xv in (0.7, -0.4):
        xi, wi = Value(xv), Value(1.3)
        yi = cube(xi * wi).tanh()
        yi.backward()
        expected.append((yi.data, wi.grad))
    assert np.allclose(np.ravel(run.outputs), [e[0] for e in expected], rtol=1e-12)
    assert np.allclose(np.ravel(grads.params), sum(e[1] for e in expected), rtol=1e-12)


def test_a_new_primitive_works_in_expressions_and_drawings(cube):
    from autograd.teach.expr import FUNCTIONS, parse

    assert "cube" in FUNCTIONS
    root = parse("cube(a) * 2", {"a": 3.0})
    assert root.data == 54.0
    root.backward()
    assert "cube" in to_dot(root)


# ---------------------------------------------------------------------------------------------
# The derivative formulas people read agree with the rules the engine runs.

FORMULA_FUNCTIONS = {name: getattr(backends.FLOAT, name) for name in backends.FUNCTIONS}
FORMULA_FUNCTIONS["pi"] = math.pi


def test_every_primitive_states_its_derivatives_as_formulas():
    for p in PRIMITIVES.values():
        assert len(p.formulas) == (1 if p.arity == -1 else p.arity), p.name


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
@given(data=st.data())
def test_each_formula_evaluates_to_its_partials_rule(name, data):
    p = PRIMITIVES[name]
    case = CASES[name]
    xs, c = case.draw(data)
    if p.valid is not None:
        assume(p.inside(*xs, *(() if c is None else (c,))))
    y = p.run_forward(backends.FLOAT, xs, c)
    rule = p.run_partials(backends.FLOAT, xs, y, c)
    names = {"y": y, "c": c}
    if p.arity == 1:
        names["x"] = xs[0]
    else:
        names.update({f"x{i + 1}": x for i, x in enumerate(xs)})
    formulas = p.formulas * len(xs) if p.arity == -1 else p.formulas
    for formula, expected in zip(formulas, rule):
        got = eval(formula, {"__builtins__": {}, **FORMULA_FUNCTIONS}, names)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, formula)
