"""The expression parser: it builds the right graph, agrees with the same arithmetic written
directly, and refuses hostile input with a message pointing at the offending part."""

import inspect
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd.teach.expr as expr_module
from autograd import PRIMITIVES, Primitive, Value, toposort
from autograd.teach.expr import FUNCTIONS, MAX_LENGTH, ExpressionError, parse


def pointed(err: ExpressionError) -> str:
    """The part of the source the caret line points at."""
    text, caret = str(err).splitlines()[-2:]
    start = caret.index("^")
    return text[start:start + caret.count("^")]


# -- happy path --------------------------------------------------------------------------------

def test_the_issue_example_value_and_grads():
    # c*(a+2*b) at a=3, b=1, c=-2: -10; d/da = c = -2, d/db = 2c = -4, d/dc = a+2b = 5.
    a, b, c = Value(3.0, "a"), Value(1.0, "b"), Value(-2.0, "c")
    root = parse("c*(a+2*b)", {"a": a, "b": b, "c": c})
    root.backward()
    assert root.data == -10.0
    assert (a.grad, b.grad, c.grad) == (-2.0, -4.0, 5.0)
    assert root.op == "mul" and root.parents[0] is c
    assert root.label == "c*(a+2*b)" and root.parents[1].label == "a+2*b"


def test_keyword_values_and_one_leaf_per_name():
    y = parse("a*a", a=3)
    assert y.parents[0] is y.parents[1] and y.parents[0].label == "a"
    y.backward()
    assert y.parents[0].grad == 6.0


def test_powers_unary_minus_and_functions_build_the_engine_ops():
    x = parse("x**2", x=3)
    assert (x.op, x.param, len(x.parents), x.data) == ("pow", 2.0, 1, 9.0)
    v = parse("x**y", x=2, y=3)
    assert (v.op, len(v.parents), v.data) == ("vpow", 2, 8.0)
    assert parse("x**-1", x=4).param == -1.0
    n = parse("-x", x=2)
    assert (n.op, n.data) == ("neg", -2.0)
    assert parse("-2*x", x=2).parents[0].data == -2.0  # a signed literal is one constant
    lr = parse("leaky_relu(x, 0.2)", x=-1)
    assert (lr.op, lr.param, lr.data) == ("leaky_relu", 0.2, pytest.approx(-0.2))
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus", "sin", "cos"):
        assert parse(f"{name}(x)", x=0.7).op == name
    assert parse("abs(x)", x=-0.7).data == 0.7
    assert parse("+x", x=1.5).data == 1.5


def test_long_subexpressions_stay_unlabelled_and_label_can_be_off():
    y = parse("a + b*b*b*b*b*b*b*b*b*b*b*b*b*b*b*b", a=1, b=1)
    assert y.label is None
    assert parse("a*b", a=1, b=2, label=False).label is None


# -- the functions come from the primitive table ---------------------------------------------

def test_the_functions_are_the_tables_primitives_that_are_not_operators():
    assert set(FUNCTIONS) == {
        "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "softplus", "sin", "cos",
        "abs", "sign", "expm1", "log1p", "log2", "log10", "hypot", "tan", "asin", "acos", "atan",
        "atan2", "degrees", "radians", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "floor",
        "ceil", "round", "maximum", "minimum", "clamp", "gelu", "silu", "elu"}
    assert list(FUNCTIONS) == [n for n in PRIMITIVES if n in FUNCTIONS]  # table order
    assert all(FUNCTIONS[n] is PRIMITIVES[n] for n in FUNCTIONS)
    for operator in ("neg", "pow", "add", "vpow", "sum", "mod"):
        assert operator not in FUNCTIONS
        with pytest.raises(KeyError):
            FUNCTIONS[operator]


def test_a_parameter_left_out_takes_the_value_methods_default():
    y = parse("leaky_relu(x)", x=-2)
    z = Value(-2.0).leaky_relu()
    assert (y.op, y.param, y.data) == ("leaky_relu", z.param, z.data)
    with pytest.raises(ExpressionError, match="takes x and an optional number slope; got 3"):
        parse("leaky_relu(x, 1, 2)", x=1)


CUBE = Primitive("cube", 1, forward=lambda m, x: x * x * x,
                 partials=lambda m, x, y: (3.0 * x * x,), doc="x^3.")
SCALE = Primitive("scale", 1, forward=lambda m, x, c: c * x, partials=lambda m, x, y, c: (c,),
                  param="factor", doc="c * x.")


def test_a_new_unary_primitive_is_a_function_at_once(monkeypatch):
    monkeypatch.setitem(PRIMITIVES, "cube", CUBE)
    a = Value(1.5, "a")
    y = parse("cube(2*a)", a=a)
    y.backward()
    assert (y.op, y.data, a.grad) == ("cube", 27.0, 54.0)  # d/da (2a)^3 = 6 (2a)^2
    with pytest.raises(ExpressionError, match=r"the functions are .*cube"):
        parse("cub(a)", a=1)


def test_a_parameter_without_a_default_must_be_given(monkeypatch):
    monkeypatch.setitem(PRIMITIVES, "scale", SCALE)
    assert parse("scale(a, 3)", a=2).data == 6.0
    with pytest.raises(ExpressionError, match="scale takes x and a number factor; got 1"):
        parse("scale(a)", a=2)


# An independent oracle: the same random expression written as text and as float arithmetic.
LEAVES = {"a": 0.7, "b": -1.3, "c": 2.1}


@st.composite
def expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(LEAVES)))
            return name, LEAVES[name]
        k = draw(st.integers(1, 9))
        return str(k), float(k)
    kind = draw(st.sampled_from(["+", "-", "*", "/", "neg", "tanh", "exp", "sq", "sin"]))
    left, lv = draw(expressions(depth=depth - 1))
    if kind in "+-*/":
        right, rv = draw(expressions(depth=depth - 1))
        if kind == "/" and rv == 0:
            kind = "+"
        value = {"+": lv + rv, "-": lv - rv, "*": lv * rv, "/": lv / rv if rv else 0.0}[kind]
        return f"({left}) {kind} ({right})", value
    if kind == "neg":
        return f"-({left})", -lv
    if kind == "sq":
        return f"({left})**2", lv ** 2
    if kind == "exp" and lv > 50:
        return left, lv
    return f"{kind}({left})", getattr(math, kind)(lv)


@given(expressions())
def test_random_expressions_match_direct_float_arithmetic(case):
    text, expected = case
    y = parse(text, LEAVES)
    assert y.data == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(expressions())
def test_random_expression_gradients_match_central_differences(case):
    text, _ = case
    leaves = {k: Value(v, k) for k, v in LEAVES.items()}
    y = parse(text, leaves)
    y.backward()
    h = 1e-6
    for name, v in leaves.items():
        up = parse(text, {**LEAVES, name: LEAVES[name] + h}).data
        down = parse(text, {**LEAVES, name: LEAVES[name] - h}).data
        numeric = (up - down) / (2 * h)
        assert v.grad == pytest.approx(numeric, rel=1e-4, abs=1e-5)


def test_the_parser_never_evaluates_text():
    src = inspect.getsource(expr_module)
    assert "eval(" not in src.replace('mode="eval"', "") and "exec(" not in src
    assert "compile(" not in src


# -- hostile input -----------------------------------------------------------------------------

@pytest.mark.parametrize("source, message, part", [
    ("a.__class__", "attribute access is not allowed", "a.__class__"),
    ("().__class__.__bases__[0]", "subscripts are not allowed", "().__class__.__bases__[0]"),
    ("a + b.real", "attribute access is not allowed", "b.real"),
    ("__import__('os')", "unknown function '__import__'", "__import__"),
    ("open('x')", "unknown function 'open'", "open"),
    ("exp.__globals__", "attribute access is not allowed", "exp.__globals__"),
    ("a.b(c)", "only the functions", "a.b"),
    ("lambda: 0", "lambdas are not allowed", "lambda: 0"),
    ("a + (lambda x: x)(b)", "only the functions", "lambda x: x"),
    ("a[0]", "subscripts are not allowed", "a[0]"),
    ("[x for x in a]", "comprehensions are not allowed", "[x for x in a]"),
    ("a if b else c", "conditional expressions are not allowed", "a if b else c"),
    ("a < b", "comparisons are not allowed", "a < b"),
    ("a and b", "'and' and 'or' are not allowed", "a and b"),
    ("(x := a)", "assignments (:=) are not allowed", "x := a"),
    ("a // b", "the operator '//' is not allowed (use / for division)", "a // b"),
    ("a @ b", "the operator '@' is not allowed", "a @ b"),
    ("a % (b - 1)", "outside the domain of mod", "a % (b - 1)"),
    ("atan2(a)", "atan2 takes exactly two arguments; got 1", "atan2(a)"),
    ("~a", "the operator '~' is not allowed", "~a"),
    ("'abc' * 3", "str 'abc' is not allowed", "'abc'"),
    ("1j * a", "a complex number is not allowed", "1j"),
    ("True + a", "bool True is not allowed", "True"),
    ("a + x", "unknown name 'x': give it a value", "x"),
    ("exp", "exp is a function: call it", "exp"),
    ("exp(a, b)", "exp takes exactly one argument; got 2", "exp(a, b)"),
    ("exp(x=a)", "exp takes no keyword arguments", "a"),
    ("exp(*a)", "starred arguments are not allowed", "*a"),
    ("leaky_relu(a, b)", "leaky_relu's slope must be a number", "b"),
    ("1e999 * a", "too large for a float", "1e999"),
    ("log(a - 3)", "outside the domain of log", "log(a - 3)"),
    ("a / (b - 1)", "outside the domain of div", "a / (b - 1)"),
    ("import os", "not a valid expression", "import"),
    ("a = 1", "not a valid expression", ""),
    ("a +", "not a valid expression", ""),
    ("f'{a}'", "strings are not allowed", "f'{a}'"),
])
def test_hostile_input_is_refused_and_located(source, message, part):
    with pytest.raises(ExpressionError) as info:
        parse(source, a=3, b=1, c=-2)
    assert message in str(info.value)
    if part:
        assert pointed(info.value) == part


def test_too_long_input_is_refused_before_parsing():
    with pytest.raises(ExpressionError, match=f"limit is {MAX_LENGTH}"):
        parse("a+" * 5000 + "a", a=1)


def test_deep_nesting_is_refused():
    with pytest.raises(ExpressionError, match=r"nested|not a valid expression"):
        parse("(" * 400 + "a" + ")" * 400, a=1)


def test_long_chain_within_the_limit_builds_without_recursion():
    y = parse("+".join(["a"] * 450), a=1)
    assert y.data == 450.0 and len(toposort(y)) == 450


def test_bad_variables_are_refused():
    with pytest.raises(ValueError, match="function name"):
        parse("exp(a)", exp=1, a=2)
    with pytest.raises(TypeError, match="must be a number or a Value"):
        parse("a", a="3")
    with pytest.raises(ExpressionError, match="empty"):
        parse("   ")
    with pytest.raises(TypeError, match="as a str"):
        parse(3)


def test_a_power_too_large_for_a_float_is_inf_as_everywhere_in_the_engine():
    # One overflow policy (IEEE, as numpy and PyTorch): 2**10000 is inf, like 1e200 * 1e200.
    # Only a literal that no float can hold is refused (1e999 above).
    assert parse("9**9**9").data == math.inf
    assert parse("a * 2**10000", a=3).data == math.inf
    assert parse("(-2)**10001 * a", a=3).data == -math.inf
