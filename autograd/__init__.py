"""edgegrad's engine: scalar reverse-mode automatic differentiation with the local derivative
recorded on every edge of the graph.

The modules, in the order they import each other: ``ops`` (the primitive table) and
``backends`` (floats, numpy arrays, Values), ``value`` (the node), ``backward`` (topological
order and the chain rule), ``anomaly``, ``higher`` and ``forward`` (optional transforms),
``functional`` and ``check`` (what users call), then ``expr``, ``viz``, ``steps``, ``player``
and the compiled tape (``program``, ``replay``, ``tape``); the teaching tools ``formulas``
(local derivatives as formulas), ``explain`` (the chain rule written out), ``handcheck`` (a
learner's numbers checked) and ``worksheet`` come last. ``files`` (``atomic_write``, the one
writer of every output file, and ``read_bytes``, ``read_text``, ``read_json`` and ``read_csv``,
the bounded readers of every file from outside) stands apart: it imports nothing of the
engine.
"""

from .backward import backward, reverse_order, toposort
from .drawing.graph import draw, save, to_dot
from .files.atomic import atomic_write
from .files.read import InputError, iter_csv, read_bytes, read_csv, read_json, read_text
from .ops import ACTIVATIONS, PRIMITIVES, Primitive
from .teach.explain import explain
from .teach.handcheck import check_by_hand
from .teach.worksheet import worksheet
from .transforms.anomaly import AnomalyError, detect_anomaly, first_nonfinite
from .transforms.check import GradCheckReport, GradientCheckError, check_grads, numerical_grad
from .transforms.functional import grad, gradients, hessian, hvp, jacobian, jvp, value_and_grad
from .value import (
    DomainError,
    Value,
    ZeroDivisionDomainError,
    apply,
    atan2,
    capture,
    clamp,
    hypot,
    is_grad_enabled,
    maximum,
    minimum,
    no_grad,
    watch,
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
