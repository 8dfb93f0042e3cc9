"""edgegrad's engine: scalar reverse-mode automatic differentiation with the local derivative
recorded on every edge of the graph.

The modules, bottom up, each importing only those below it: ``primitive`` (what a table entry
is), ``ops`` (the primitive table) and ``backends`` (floats, numpy arrays, Values);
``recording`` (grad mode and hooks: ``no_grad``, ``watch``, ``capture``); ``node`` (a node's
slots and edges, and the one builder of op nodes), ``arithmetic`` (Value's arithmetic methods,
generated from the table); ``backward`` (topological order and the chain rule); ``value``
(``Value``). Above them the subpackages: ``files`` (``atomic_write``, the one writer of every
output file, and the bounded readers of every file from outside; it imports nothing of the
engine), ``transforms`` (higher order, forward mode,
anomaly detection, the functional API, gradient checking), ``compiled`` (the tape), ``teach``
(formulas, explain, a learner's numbers checked, worksheets, the expression language) and
``drawing`` (DOT, the step-through and its player).

``import autograd`` loads the engine only; the names below that come from a subpackage
(``grad``, ``to_dot``, ``explain``, ...) load it on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .backward import backward, reverse_order, toposort
from .node import DomainError, ZeroDivisionDomainError
from .ops import ACTIVATIONS, PRIMITIVES
from .primitive import Primitive
from .recording import capture, is_grad_enabled, no_grad, watch
from .value import Value, apply, atan2, clamp, hypot, maximum, minimum

if TYPE_CHECKING:
    from .drawing.graph import draw, save, to_dot
    from .files.atomic import atomic_write
    from .files.read import InputError, iter_csv, read_bytes, read_csv, read_json, read_text
    from .teach.explain import explain
    from .teach.handcheck import check_by_hand
    from .teach.worksheet import worksheet
    from .transforms.anomaly import AnomalyError, detect_anomaly, first_nonfinite
    from .transforms.check import (
        GradCheckReport,
        GradientCheckError,
        check_grads,
        numerical_grad,
    )
    from .transforms.functional import (
        grad,
        gradients,
        hessian,
        hvp,
        jacobian,
        jvp,
        value_and_grad,
    )

__version__ = "0.1.0"
"""edgegrad's version."""

ENGINE = "edgegrad"
"""Marks this package as edgegrad's engine (HIPS autograd uses the same import name)."""

__all__ = [
    "ACTIVATIONS", "ENGINE", "PRIMITIVES", "__version__",
    "DomainError", "GradCheckReport", "GradientCheckError", "Primitive", "Value",
    "ZeroDivisionDomainError",
    "apply", "backward", "capture", "check_grads", "grad", "is_grad_enabled", "no_grad",
    "numerical_grad", "reverse_order", "toposort", "value_and_grad", "watch",
    "AnomalyError", "detect_anomaly", "first_nonfinite", "gradients", "hessian", "hvp",
    "jacobian", "jvp",
    "atan2", "clamp", "hypot", "maximum", "minimum",
    "draw", "save", "to_dot",
    "check_by_hand", "explain", "worksheet",
    "atomic_write", "InputError", "iter_csv", "read_bytes", "read_csv", "read_json",
    "read_text",
]

_LAZY: dict[str, str] = {
    "atomic_write": "files.atomic",
    "InputError": "files.read", "iter_csv": "files.read", "read_bytes": "files.read",
    "read_csv": "files.read", "read_json": "files.read", "read_text": "files.read",
    "AnomalyError": "transforms.anomaly", "detect_anomaly": "transforms.anomaly",
    "first_nonfinite": "transforms.anomaly",
    "GradCheckReport": "transforms.check", "GradientCheckError": "transforms.check",
    "check_grads": "transforms.check", "numerical_grad": "transforms.check",
    "grad": "transforms.functional", "gradients": "transforms.functional",
    "hessian": "transforms.functional", "hvp": "transforms.functional",
    "jacobian": "transforms.functional", "jvp": "transforms.functional",
    "value_and_grad": "transforms.functional",
    "draw": "drawing.graph", "save": "drawing.graph", "to_dot": "drawing.graph",
    "explain": "teach.explain", "check_by_hand": "teach.handcheck",
    "worksheet": "teach.worksheet",
}
"""The public names that live in a subpackage, and its module: loaded on first use (PEP 562)."""


def __getattr__(name: str) -> Any:
    """A public name from a subpackage, imported the first time it is asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup finds it directly
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily loaded ones included."""
    return sorted(set(globals()) | set(__all__))
