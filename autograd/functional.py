"""Functional API: turn a function of floats into its gradient function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

from .value import Value

ArgNums = Union[int, Sequence[int]]


def _leaves(args: tuple[Any, ...]) -> list[Value]:
    return [a if isinstance(a, Value) else Value(a, label=f"x{i}") for i, a in enumerate(args)]


def _positions(argnums: ArgNums, n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -n <= i < n:
            raise ValueError(f"argnums {argnums!r} is out of range for {n} positional argument(s)")
    return nums


def value_and_grad(f: Callable[..., Value], argnums: ArgNums = 0) -> Callable[..., Any]:
    """``value_and_grad(f)(*xs) -> (f(xs), df/dx[argnums])``, as in JAX.

    With an int ``argnums`` (default 0) the gradient is one float; with a sequence it is a
    tuple of floats in that order. ``f`` takes Values and returns a Value.
    """

    def wrapped(*args: Any) -> tuple[float, Any]:
        nums = _positions(argnums, len(args))
        xs = _leaves(args)
        out = f(*xs)
        if not isinstance(out, Value):
            raise TypeError(f"{getattr(f, '__name__', 'f')} must return a Value; "
                            f"got {type(out).__name__}")
        for x in xs:
            x.grad = 0.0
        out.backward()
        grads = tuple(xs[i].grad for i in nums)
        return out.data, grads[0] if isinstance(argnums, int) else grads

    return wrapped


def grad(f: Callable[..., Value], argnums: ArgNums = 0) -> Callable[..., Any]:
    """``grad(f)(*xs) -> df/dx[argnums]``: a float for an int argnums, else a tuple."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    return wrapped
