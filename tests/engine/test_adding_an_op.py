"""Adding an op touches one place: its definition in ops.py (ops.py's docstring says so).

The test writes a throwaway op, softsign, into a copy of ops.py exactly where a contributor
would (among the definitions), loads the copy, and finds the op collected into its
``PRIMITIVES`` with nothing else edited. Put into the engine's table, it is differentiated
(eager backward against central differences, and a second derivative), drawn, compiled (the
tape's replay equals the eager pass) and parsed by the expression language.
"""

import importlib.util
import math
import sys
from pathlib import Path

import pytest

from autograd import PRIMITIVES, Primitive, Value, apply, grad, to_dot

ROOT = Path(__file__).resolve().parents[2]

SOFTSIGN = '''
SOFTSIGN = Primitive(
    "softsign", 1,
    forward=lambda m, x: x / (1.0 + m.abs(x)),
    partials=lambda m, x, y: (1.0 / ((1.0 + m.abs(x)) * (1.0 + m.abs(x))),),
    formulas=("1/(1 + abs(x))**2",),
    doc="x / (1 + |x|).",
)
'''


def table_with(definition: str, tmp_path: Path):
    """ops.py's table with ``definition`` written among its entries, loaded as a module of the
    package (its ``from .primitive import Primitive`` is the engine's own)."""
    source = (ROOT / "autograd" / "ops.py").read_text(encoding="utf-8")
    where = source.index("\n\ndef _collect(")  # after the last entry, before the collection
    copy = tmp_path / "ops_copy.py"
    copy.write_text(source[:where] + "\n" + definition + source[where:], encoding="utf-8")
    spec = importlib.util.spec_from_file_location("autograd._ops_copy", copy)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture
def softsign(tmp_path, monkeypatch):
    """The engine's table with the copy's new entries added (and removed after the test)."""
    table = table_with(SOFTSIGN, tmp_path)
    new = {name: p for name, p in table.PRIMITIVES.items() if name not in PRIMITIVES}
    assert list(new) == ["softsign"], "the definition alone put the op in the table"
    assert isinstance(new["softsign"], Primitive)
    for name, p in new.items():
        monkeypatch.setitem(PRIMITIVES, name, p)
    return lambda v: apply("softsign", v)


def _f(x: float) -> float:
    return x / (1 + abs(x))


def test_the_definition_alone_puts_the_op_in_the_table(tmp_path):
    table = table_with(SOFTSIGN, tmp_path)
    assert list(table.PRIMITIVES) == [*PRIMITIVES, "softsign"]
    assert "softsign" not in PRIMITIVES  # the engine's own table is untouched
    with pytest.raises(ValueError, match="two primitives are named 'exp'"):
        table_with(SOFTSIGN.replace('"softsign", 1', '"exp", 1'), tmp_path)


@pytest.mark.parametrize("x0", [-2.5, -0.3, 0.4, 1.7])
def test_a_new_op_is_differentiated(softsign, x0):
    x = Value(x0, "x")
    y = softsign(x) * x  # the op inside a graph, its output used again
    y.backward()
    h = 1e-6
    numeric = ((_f(x0 + h) * (x0 + h)) - (_f(x0 - h) * (x0 - h))) / (2 * h)
    assert y.data == pytest.approx(_f(x0) * x0, rel=1e-15)
    assert x.grad == pytest.approx(numeric, rel=1e-7, abs=1e-9)
    # the second derivative from the same partials rule, against differences of the first
    first = grad(softsign)
    second = (first(x0 + h) - first(x0 - h)) / (2 * h)
    assert grad(grad(softsign))(x0) == pytest.approx(second, rel=1e-6, abs=1e-8)


def test_a_new_op_is_drawn(softsign):
    root = softsign(Value(0.5, "x"))
    root.backward()
    dot = to_dot(root)
    assert "softsign" in dot and dot.startswith("digraph")


def test_a_new_op_is_compiled(softsign):
    np = pytest.importorskip("numpy")
    from autograd.compiled.tape import trace

    x, w = Value(0.7, "x"), Value(-1.3, "w")
    tape = trace([softsign(x * w) + w], [x], [w])
    xs = [0.7, -0.4, 2.5]
    run = tape.forward(np.array([[v] for v in xs]), [-1.3])
    grads = tape.backward(run)
    outputs, wgrad = [], 0.0
    for v in xs:
        xi, wi = Value(v), Value(-1.3)
        out = softsign(xi * wi) + wi
        out.backward()
        outputs.append(out.data)
        wgrad += wi.grad
    assert np.allclose(np.ravel(run.outputs), outputs, rtol=1e-12, atol=0)
    assert np.allclose(np.ravel(grads.params), [wgrad], rtol=1e-12, atol=0)


def test_a_new_op_is_parsed(softsign):
    from autograd.teach.expr import FUNCTIONS, parse

    assert "softsign" in FUNCTIONS
    root = parse("softsign(a) * 2", a=3.0)
    assert root.data == pytest.approx(2 * 0.75)
    assert any(v.op == "softsign" for v in root.parents)
    assert math.isfinite(root.data)
