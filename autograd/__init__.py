"""edgegrad's engine: scalar reverse-mode automatic differentiation with the local derivative
recorded on every edge of the graph."""

from .anomaly import AnomalyError, detect_anomaly, first_nonfinite
from .backward import backward, reverse_order, toposort
from .check import GradCheckReport, GradientCheckError, check_grads, numerical_grad
from .functional import grad, gradients, hessian, hvp, jacobian, jvp, value_and_grad
from .ops import ACTIVATIONS, PRIMITIVES, Primitive
from .value import DomainError, Value, apply, capture, is_grad_enabled, no_grad
from .viz import draw, save, to_dot

__version__ = "0.1.0"

ENGINE = "edgegrad"
"""Marks this package as edgegrad's engine (HIPS autograd uses the same import name)."""

__all__ = [
    "ACTIVATIONS", "ENGINE", "PRIMITIVES", "__version__",
    "DomainError", "GradCheckReport", "GradientCheckError", "Primitive", "Value",
    "apply", "backward", "capture", "check_grads", "grad", "is_grad_enabled", "no_grad",
    "numerical_grad", "reverse_order", "toposort", "value_and_grad",
    "AnomalyError", "detect_anomaly", "first_nonfinite", "gradients", "hessian", "hvp",
    "jacobian", "jvp",
    "draw", "save", "to_dot",
]
