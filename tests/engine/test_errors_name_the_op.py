"""Bad operands raise clear errors naming the op and the operands; never a complex number."""

import pytest

from autograd import DomainError, Value, ZeroDivisionDomainError


@pytest.mark.parametrize(
    "make, op, shown",
    [
        (lambda: Value(0.0, "z").log(), "log", "label 'z'"),
        (lambda: Value(-1.0, "n").log(), "log", "-1.0"),
        (lambda: Value(-4.0, "n").sqrt(), "sqrt", "x >= 0"),
        (lambda: Value(1.0) / Value(0.0, "d"), "div", "label 'd'"),
        (lambda: Value(1.0, "p") / 0, "div", "divisor != 0"),
        (lambda: 1 / Value(0.0), "div", "0.0"),
        (lambda: Value(0.0, "b") ** -1, "pow", "exponent=-1.0"),
        (lambda: Value(-8.0, "b") ** (1 / 3), "pow", "integer exponent"),
        (lambda: Value(-8.0, "b") ** 0.5, "pow", "label 'b'"),
        (lambda: Value(-2.0, "b") ** Value(2.0), "vpow", "base > 0"),
        (lambda: (-2) ** Value(0.5, "e"), "vpow", "label 'e'"),
        (lambda: Value(5.0, "n") % Value(0.0, "z"), "mod", "label 'z'"),
        (lambda: Value(-1.0, "n").log1p(), "log1p", "x > -1"),
        (lambda: Value(1.0, "n").atanh(), "atanh", "-1 < x < 1"),
        (lambda: Value(0.5, "n").acosh(), "acosh", "x >= 1"),
        (lambda: Value(2.0, "n").asin(), "asin", "-1 <= x <= 1"),
        (lambda: Value(0.0, "b") ** Value(0.0), "vpow", "exponent > 0"),
    ],
)
def test_domain_errors_name_op_and_operands(make, op, shown):
    with pytest.raises(DomainError) as info:
        make()
    message = str(info.value)
    assert info.value.op == op
    assert message.startswith(f"{op}(") and shown in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", ["3", None, 1 + 2j, [1.0], object()])
def test_value_rejects_non_reals_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_bad_label():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("other", ["a", None, [1], 1j])
def test_arithmetic_with_non_numbers_is_a_type_error(other):
    x = Value(1.0)
    for f in (lambda: x + other, lambda: other * x, lambda: x ** other, lambda: x / other):
        with pytest.raises(TypeError):
            f()


def test_sum_errors():
    with pytest.raises(ValueError, match="at least one"):
        Value.sum([])
    with pytest.raises(TypeError, match="str"):
        Value.sum([Value(1.0), "x"])


@pytest.mark.parametrize("make", [
    lambda: Value(1.0) / Value(0.0),
    lambda: 1 / Value(0.0),
    lambda: Value(1.0) % 0,
    lambda: Value(0.0) ** -1,
    lambda: Value(0.0) ** Value(-2.0),
])
def test_division_by_zero_is_also_a_zero_division_error(make):
    """Code written for Python's 1 / 0.0 (or for micrograd) catches it; so does DomainError."""
    with pytest.raises(ZeroDivisionError) as info:
        make()
    assert isinstance(info.value, DomainError)
    assert type(info.value) is ZeroDivisionDomainError
