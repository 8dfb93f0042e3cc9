"""The eager methods are compiled from the table's rules: inlined, kept in step with the table."""

import inspect
import math

import pytest

from autograd import Value, check_grads, ops
from autograd.inline import inline
from autograd.value import _EAGER


def _methods():
    for attr, f in vars(Value).items():
        if hasattr(f, "made_from"):
            yield attr, f
    yield from _EAGER.items()


def test_every_rule_is_pasted_into_its_method():
    """No method calls its rules: a rule written so that it cannot be inlined is noticed here."""
    seen = set()
    for attr, f in _methods():
        source = inspect.getsource(f)
        assert "p.forward(" not in source and "p.partials(m" not in source, attr
        seen.add(f.made_from[0].name)
    assert seen == {p.name for p in ops.PRIMITIVES.values() if p.arity != -1}


def test_the_compiled_source_is_the_rule_with_the_methods_names():
    source = inspect.getsource(Value.tanh)
    assert "y = _m_tanh(x)" in source and "(out._da,) = (1.0 - y * y,)" in source
    assert "(x2, x1)" in inspect.getsource(Value.__rmul__)


def test_replacing_a_rule_recompiles_its_methods_and_undoing_restores_them(monkeypatch):
    x = Value(0.3)
    right = 1 - math.tanh(0.3) ** 2
    monkeypatch.setattr(ops.TANH, "partials", lambda m, x, y: (2.0 * y,))
    assert x.tanh().local_grads == (2.0 * math.tanh(0.3),)
    assert "2.0 * y" in inspect.getsource(Value.tanh)
    monkeypatch.undo()
    assert x.tanh().local_grads == (pytest.approx(right, rel=1e-15),)


def test_a_rule_that_cannot_be_inlined_is_called(monkeypatch):
    calls = []

    def partials(m, x1, x2, y):  # a def, not a lambda: its body is not one expression
        calls.append(x1)
        return (x2, x1)

    monkeypatch.setattr(ops.MUL, "partials", partials)
    a, b = Value(2.0), Value(-3.0)
    assert (a * b).local_grads == (-3.0, 2.0) and (5 * a).local_grads == (2.0, 5.0)
    assert calls == [2.0, 5.0]
    assert "p.partials(m, x1, x2, y)" in inspect.getsource(Value.__mul__)
    check_grads(lambda u, v: u * v * u, 1.5, -0.5)


def test_inline_declines_what_it_cannot_paste_safely():
    taken = {"out", "x", "y"}
    out = 7.0
    # A free name that is one of the method's locals would be captured: call instead.
    assert inline(lambda m, x: x + out, ["m", "x"], "CALL", ops.FLOAT, taken) == ("CALL", {})
    # A backend function the backend does not have.
    assert inline(lambda m, x: m.nope(x), ["m", "x"], "CALL", ops.FLOAT, set()) == ("CALL", {})
    # Two lambdas on one line: which one is this? Do not guess.
    pair = (lambda m, x: x), (lambda m, x: -x)
    assert inline(pair[1], ["m", "x"], "CALL", ops.FLOAT, set()) == ("CALL", {})
    # Parameters are renamed to the method's names, simultaneously.
    expr, env = inline(lambda m, y, x: m.exp(y) * x, ["m", "x", "y"], "CALL", ops.FLOAT, set())
    assert expr == "_m_exp(x) * y" and env == {"_m_exp": math.exp}


def test_a_source_that_no_longer_matches_the_rule_is_not_pasted(tmp_path, monkeypatch):
    """Edited after import, the file's line is another expression: the rule is called instead."""
    import importlib

    path = tmp_path / "myrules.py"
    path.write_text("rule = lambda m, x, y: (2.0 * y,)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    rule = importlib.import_module("myrules").rule
    assert inline(rule, ["m", "x", "y"], "CALL", ops.FLOAT, set()) == ("(2.0 * y,)", {})
    path.write_text("rule = lambda m, x, y: (3.0 * y,)\n")  # same line, same parameters
    import linecache

    import autograd.inline

    linecache.clearcache()  # as if the file were read for the first time now
    autograd.inline._LAMBDAS.clear()
    assert inline(rule, ["m", "x", "y"], "CALL", ops.FLOAT, set()) == ("CALL", {})
    assert rule(None, 0.0, 5.0) == (10.0,)  # the function still computes what it was made from
