"""The gradient checker agrees with correct derivatives and catches a wrong one."""

import dataclasses

import pytest

from autograd import GradientCheckError, Value, apply, check_grads, ops


def f(x, y, tanh=ops.TANH):
    return apply(tanh, x * y) + x ** 3 / y


def test_passes_on_correct_derivatives():
    report = check_grads(f, 0.3, Value(0.7, "y"))
    assert report.ok and [r.name for r in report.rows] == ["arg0", "y"]
    assert all(r.abs_diff < 1e-8 for r in report.rows)


def test_catches_a_deliberately_wrong_derivative():
    # A wrong variant of tanh (derivative 1 - y instead of 1 - y*y), applied by the function
    # under test; the table is untouched.
    wrong = dataclasses.replace(ops.TANH, partials=lambda m, x, y: (1.0 - y,))

    def g(x, y):
        return f(x, y, tanh=wrong)

    with pytest.raises(GradientCheckError) as info:
        check_grads(g, Value(0.3, "x"), Value(0.7, "y"))
    message = str(info.value)
    assert "x: numerical" in message and "y: numerical" in message and "rtol" in message
    report = check_grads(g, Value(0.3, "x"), Value(0.7, "y"), raise_=False)
    assert not report.ok and {r.name for r in report.failures} == {"x", "y"}
    assert "NO" in str(report)


def test_tolerances_are_respected():
    # A 1e-4 relative error slips through a loose check but not the default one.
    sin = dataclasses.replace(ops.SIN, partials=lambda m, x, y: (m.cos(x) * 1.0001,))
    assert check_grads(lambda x: apply(sin, x), 0.4, rtol=1e-3, raise_=False).ok
    assert not check_grads(lambda x: apply(sin, x), 0.4, raise_=False).ok


def test_the_table_cannot_be_changed_in_place():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ops.TANH.partials = lambda m, x, y: (0.0,)  # type: ignore[misc]


def test_f_must_return_a_value():
    with pytest.raises(TypeError, match="must return a Value"):
        check_grads(lambda x: 3.0, 1.0)
