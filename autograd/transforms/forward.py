"""Forward mode: Jacobian-vector products by dual numbers, in one forward pass.

Every node carries a tangent next to its value: ``tangent(y) = sum_i d(y)/d(x_i) * tangent(x_i)``,
with d(y)/d(x_i) the local derivatives the primitive table's partials rule already recorded on
the node's edges (evaluated on floats). The tangent is computed the moment each node is made,
through ``watch(on_node=...)``, so ``f`` is any ordinary function of Values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..recording import watch
from ..value import Value
from .higher import inner


def _primal(x: Any, i: int) -> Value:
    if isinstance(x, Value):
        return Value(x.data, x.label or f"x{i}")
    try:
        return Value(x, label=f"x{i}")
    except TypeError:
        raise TypeError(f"jvp: primal {i} must be a real number or a Value; "
                        f"got {type(x).__name__}: {x!r}") from None


def _tangent(t: Any, i: int) -> float:
    try:
        v = float(t)
    except (TypeError, ValueError):
        raise TypeError(f"jvp: tangent {i} must be a real number; got {type(t).__name__}: {t!r}") \
            from None
    if not math.isfinite(v):
        raise ValueError(f"jvp: tangent {i} must be finite; got {v!r}")
    return v


def jvp(f: Callable[..., Any], primals: Sequence[Any],
        tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(x), J_f(x) v)`` for primals x and tangents v, in one forward pass.

    ``f`` takes Values and returns a Value (then both results are floats) or a sequence of
    Values (then both are tuples of floats, one entry per output). The tangent is a float: it is
    not itself differentiable. Functions that take gradients inside (``jvp(grad(f), ...)``)
    work: that is a forward-over-reverse Hessian-vector product.
    """
    primals = tuple(primals)
    tangents = tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp needs one tangent per primal; got {len(primals)} primal(s) and "
                         f"{len(tangents)} tangent(s)")
    xs = [_primal(x, i) for i, x in enumerate(primals)]
    # Tangents keyed by node; a node absent from the dict has tangent 0 (it does not depend on x).
    tan: dict[Value, float] = {}
    for x, t in zip(xs, tangents):
        tan[x] = _tangent(t, len(tan))
    def push_tangent(node: Value) -> None:
        total = None
        for p, local in node.edges():
            t = tan.get(p)
            if t is not None:
                total = local * t if total is None else total + local * t
        if total is not None:
            tan[node] = total

    with watch(on_node=push_tangent), inner():
        out = f(*xs)
    name = getattr(f, "__name__", "f")
    if isinstance(out, Value):
        return out.data, float(tan.get(out, 0.0))
    if isinstance(out, (list, tuple)) and out and all(isinstance(o, Value) for o in out):
        return (tuple(o.data for o in out), tuple(float(tan.get(o, 0.0)) for o in out))
    raise TypeError(f"jvp: {name} must return a Value or a non-empty sequence of Values; "
                    f"got {type(out).__name__}")
