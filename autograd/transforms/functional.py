"""Functional API: turn a function of Values into its gradient, Jacobian or Hessian function.

The transforms nest: ``grad(grad(f))`` is the second derivative. A transform called inside
another one's function builds its result as a graph (``create_graph``) and returns Values,
which the outer transform then differentiates; at the top level results are floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

from ..value import Value
from .forward import jvp
from .higher import gradients, inner, nested

ArgNums = Union[int, Sequence[int]]

__all__ = ["grad", "gradients", "hessian", "hvp", "jacobian", "jvp", "value_and_grad"]


def _leaves(args: tuple[Any, ...]) -> list[Value]:
    """The inputs as Values. Inside another transform a Value argument gets a fresh identity
    node, so ``grad`` counts only the paths through this argument, not those through a closure
    over the same outer variable (``grad(lambda x: grad(lambda y: x * y)(x))`` is 1, not 2)."""
    if nested():
        return [Value.sum([a]) if isinstance(a, Value) else Value(a, label=f"x{i}")
                for i, a in enumerate(args)]
    return [a if isinstance(a, Value) else Value(a, label=f"x{i}") for i, a in enumerate(args)]


def _positions(argnums: ArgNums | None, n: int) -> tuple[int, ...]:
    if argnums is None:
        return tuple(range(n))
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -n <= i < n:
            raise ValueError(f"argnums {argnums!r} is out of range for {n} positional argument(s)")
    return nums


def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", "f")


def _call(f: Callable[..., Any], xs: list[Value]) -> Any:
    with inner():
        return f(*xs)


def _check_value(out: Any, f: Callable[..., Any]) -> Value:
    if not isinstance(out, Value):
        raise TypeError(f"{_name(f)} must return a Value; got {type(out).__name__}")
    return out


def _outputs(out: Any, f: Callable[..., Any]) -> tuple[Value, ...] | None:
    """A sequence output as a tuple of Values; None for a single Value."""
    if isinstance(out, Value):
        return None
    if isinstance(out, (list, tuple)) and out and all(isinstance(o, Value) for o in out):
        return tuple(out)
    raise TypeError(f"{_name(f)} must return a Value or a non-empty sequence of Values; "
                    f"got {type(out).__name__}")


def value_and_grad(f: Callable[..., Value], argnums: ArgNums = 0) -> Callable[..., Any]:
    """``value_and_grad(f)(*xs) -> (f(xs), df/dx[argnums])``, as in JAX.

    With an int ``argnums`` (default 0) the gradient is one float; with a sequence it is a
    tuple of floats in that order. ``f`` takes Values and returns a Value. Inside another
    transform (``grad(grad(f))``) the value and gradients are Values instead. No ``.grad`` is
    touched, not even that of a Value passed in.
    """

    def wrapped(*args: Any) -> tuple[Any, Any]:
        nums = _positions(argnums, len(args))
        xs = _leaves(args)
        out = _check_value(_call(f, xs), f)
        deep = nested()
        gs: tuple[Any, ...] = gradients(out, [xs[i] for i in nums], create_graph=deep)
        return out if deep else out.data, gs[0] if isinstance(argnums, int) else gs

    return wrapped


def grad(f: Callable[..., Value], argnums: ArgNums = 0) -> Callable[..., Any]:
    """``grad(f)(*xs) -> df/dx[argnums]``: a float for an int argnums, else a tuple.

    ``grad(grad(f))(x)`` is f''(x): the inner gradient is built as a graph and differentiated.
    """
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    wrapped.__name__ = f"grad({_name(f)})"
    return wrapped


def jacobian(f: Callable[..., Any], argnums: ArgNums | None = None) -> Callable[..., Any]:
    """``jacobian(f)(*xs)[i][j] = d out_i / d x_j``, by one reverse pass per output.

    ``argnums`` picks the inputs (default: all positional arguments). The shape follows the
    structure: an int ``argnums`` drops the input axis, a single-Value output drops the output
    axis (so ``jacobian(f)`` of a scalar function is its gradient tuple).
    """

    def wrapped(*args: Any) -> Any:
        nums = _positions(argnums, len(args))
        xs = _leaves(args)
        out = _call(f, xs)
        outs = _outputs(out, f)
        wrt = [xs[i] for i in nums]
        deep = nested()
        rows = tuple(gradients(o, wrt, create_graph=deep) for o in (outs or (out,)))
        if isinstance(argnums, int):
            shaped: tuple[Any, ...] = tuple(r[0] for r in rows)
        else:
            shaped = rows
        return shaped[0] if outs is None else shaped

    wrapped.__name__ = f"jacobian({_name(f)})"
    return wrapped


def hessian(f: Callable[..., Value], argnums: ArgNums | None = None) -> Callable[..., Any]:
    """``hessian(f)(*xs)[i][j] = d^2 f / dx_i dx_j``: the Jacobian of the gradient.

    ``argnums`` picks the inputs (default: all positional arguments); an int gives the single
    second derivative as a float.
    """

    def wrapped(*args: Any) -> Any:
        nums: ArgNums = argnums if isinstance(argnums, int) else _positions(argnums, len(args))
        return jacobian(grad(f, nums), nums)(*args)

    wrapped.__name__ = f"hessian({_name(f)})"
    return wrapped


def hvp(f: Callable[..., Value], primals: Sequence[Any],
        tangents: Sequence[Any]) -> tuple[float, ...]:
    """The Hessian-vector product H(x) v = d/dt grad f(x + t v) at t = 0, without forming H.

    Forward over reverse: ``jvp`` pushes v through the graph that builds the gradient, so the
    cost is a few passes over f's graph whatever the number of inputs.
    """
    primals = tuple(primals)
    every = tuple(range(len(primals)))
    _, hv = jvp(grad(f, every), primals, tangents)
    return tuple(hv)
