"""Every list of ops outside the table is derived from it, or compared with it here, and a
failure names the ops missing from the list (ops.py's docstring sends a contributor here)."""

import ast
import re
from pathlib import Path

from test_ops import CASES

from autograd import ACTIVATIONS, PRIMITIVES, Value
from autograd.teach.expr import FUNCTIONS
from nn.textbook import deltas

ROOT = Path(__file__).resolve().parents[2]


def _missing(names: object) -> list[str]:
    return [n for n in PRIMITIVES if n not in names]  # type: ignore[operator]


def test_every_op_has_a_test_case():
    assert _missing(CASES) == [], "add a Case to tests/engine/test_ops.py CASES for these"
    assert sorted(set(CASES) - set(PRIMITIVES)) == [], "cases for ops the table lacks"


def test_every_op_named_in_the_table_has_its_value_methods():
    absent = [f"{p.name}: Value.{m}" for p in PRIMITIVES.values() for m in p.methods
              if not hasattr(Value, m)]
    assert absent == [], "run `make generate`"


def test_the_expression_language_calls_every_op_that_is_not_an_operator():
    functions = [n for n, p in PRIMITIVES.items() if p.symbol is None and p.arity > 0]
    assert [n for n in functions if n not in FUNCTIONS] == []
    assert list(FUNCTIONS) == functions


def test_every_activation_is_a_unary_op_and_the_delta_rule_knows_each():
    not_ops = [a for a in ACTIVATIONS if a != "linear"
               and (a not in PRIMITIVES or PRIMITIVES[a].arity != 1)]
    assert not_ops == [], "autograd.ACTIVATIONS names ops the table lacks (or not unary)"
    # nn.textbook.deltas imports nothing of autograd: its own list is compared here.
    assert [a for a in ACTIVATIONS if a not in deltas.ACTIVATIONS] == [], \
        "nn/textbook/deltas.py ACTIVATIONS lacks these activations"
    assert [a for a in deltas.ACTIVATIONS if a not in ACTIVATIONS] == [], \
        "nn/textbook/deltas.py knows activations autograd.ACTIVATIONS does not"


def _dict_keys(tree: ast.Module, name: str) -> list[str]:
    for node in tree.body:
        if (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name
                and isinstance(node.value, ast.Dict)):
            return [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
    raise AssertionError(f"test_torch_parity.py has no dict {name}")


def test_pytorch_parity_covers_every_op():
    # Read as text: the parity tests need torch to import, this comparison does not.
    path = ROOT / "tests" / "engine" / "test_torch_parity.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    covered = {k.split()[0] for k in _dict_keys(tree, "UNARY")} | set(_dict_keys(tree, "BINARY"))
    elsewhere = _dict_keys(tree, "ELSEWHERE")
    tests = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for node in tree.body:  # each op of ELSEWHERE names the test that covers it
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "ELSEWHERE":
            assert isinstance(node.value, ast.Dict)
            for test in node.value.values:
                assert isinstance(test, ast.Constant) and test.value in tests, test
    assert _missing(covered | set(elsewhere)) == [], "add these ops to test_torch_parity.py"


OP_ROW = re.compile(r"^\| `(\w+)` \|", re.MULTILINE)


def test_the_docs_op_table_has_a_row_for_every_op():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    rows = {page: set(OP_ROW.findall(page.read_text(encoding="utf-8"))) & set(PRIMITIVES)
            for page in pages}
    page = max(rows, key=lambda p: len(rows[p]))  # the page that holds the op table
    assert len(rows[page]) > len(PRIMITIVES) // 2, "no page holds a table of the ops"
    assert _missing(rows[page]) == [], f"{page.relative_to(ROOT)}'s op table lacks these ops"
