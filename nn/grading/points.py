"""Points: what each answer of a worksheet is worth, and the credit for a number that is wrong
only because of a wrong number upstream.

Every answer is worth one point by default. A points file (JSON) weighs the kinds of answer and
may give partial credit::

    {"value": 1, "local": 1, "gradient": 2, "delta": 2, "weight_gradient": 2,
     "upstream_credit": 0.5}

The kinds: ``value`` a forward value (an expression's ``e.data``, a network's ``.a`` and
``.z``), ``local`` a local derivative (``de/da``), ``gradient`` an expression's gradient
(``a``), ``delta`` a network's δ (``layers.L.neurons.J``), ``weight_gradient`` a network's
∂E/∂w and ∂E/∂b (the bias is the weight of a constant input 1). ``upstream_credit`` (0 to 1,
default 0) is the share of an answer's points given when the grader's diagnosis is that it
follows correctly from a wrong number upstream (or from a wrong forward value).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd.files import InputError, read_json

__all__ = ["ANSWER_KINDS", "Points", "answer_kind", "read_points"]

ANSWER_KINDS = ("value", "local", "gradient", "delta", "weight_gradient")
"""The kinds of answer a points file weighs."""

_NETWORK_KEY = re.compile(r"^layers\.\d+\.neurons\.\d+(\.(a|z|b|w\.\d+))?$")


def answer_kind(key: str) -> str:
    """The kind of the worksheet answer ``key`` (one of ``ANSWER_KINDS``)."""
    m = _NETWORK_KEY.match(key)
    if m is not None:
        suffix = m.group(2)
        if suffix is None:
            return "delta"
        return "value" if suffix in ("a", "z") else "weight_gradient"
    if key.endswith(".data"):
        return "value"
    # A worksheet names a local derivative dC/dP; a gradient by the node's name alone.
    return "local" if "/" in key else "gradient"


@dataclass(frozen=True)
class Points:
    """The weight of each kind of answer (one point each by default) and the share of its
    points an answer earns when it follows from a wrong number upstream (0 by default)."""

    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ANSWER_KINDS, 1.0))
    upstream_credit: float = 0.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(ANSWER_KINDS))
        if unknown:
            raise ValueError(f"unknown kind of answer {', '.join(map(repr, unknown))}; the "
                             f"kinds are {', '.join(ANSWER_KINDS)}")
        for kind, w in self.weights.items():
            _check(w, kind, None)
        _check(self.upstream_credit, "upstream_credit", 1.0)
        # Every kind present (a file may weigh only some of them, the rest stay at 1), as a
        # copy: the caller's dict is not changed.
        object.__setattr__(self, "weights", {k: float(self.weights.get(k, 1.0))
                                             for k in ANSWER_KINDS})
        object.__setattr__(self, "upstream_credit", float(self.upstream_credit))

    def worth(self, key: str) -> float:
        """The points of the worksheet answer ``key``."""
        return float(self.weights[answer_kind(key)])

    def to_json(self) -> dict[str, Any]:
        """The points as a points file's JSON object."""
        return {**{k: self.weights[k] for k in ANSWER_KINDS},
                "upstream_credit": self.upstream_credit}


def _check(x: Any, name: str, most: float | None) -> None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0 \
            or (most is not None and x > most):
        valid = "a number from 0 to 1" if most is not None else "a finite number >= 0"
        raise ValueError(f"{name} must be {valid}; got {x!r}")


def read_points(path: str | Path) -> Points:
    """The points of a points file (see the module doc); an unknown kind or a bad number is
    an ``InputError`` naming it and what is valid."""
    data = read_json(path, what="points file", limit=64 * 1024)
    if not isinstance(data, dict):
        raise InputError(f"points file {path} must hold a JSON object such as "
                         f"{json.dumps(Points().to_json())}")
    data = dict(data)
    credit = data.pop("upstream_credit", 0.0)
    try:
        return Points({str(k): v for k, v in data.items()}, credit)
    except ValueError as e:
        raise InputError(f"points file {path}: {e}") from None
