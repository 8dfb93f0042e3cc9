"""Optimizers (SGD with momentum and weight decay, Adam, AdamW) and learning-rate schedules.

Each optimizer updates ``p.data`` from ``p.grad`` for the parameters it was given, with the
same update rules as PyTorch's ``torch.optim`` classes of the same names.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

from autograd import Value


class Optimizer:
    """Base: holds the parameters and the learning rate ``lr`` (schedules set it each step)."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a Value; "
                                f"got {type(p).__name__}")
        self.lr = _positive("lr", lr, allow_zero=True)
        self.steps = 0

    def step(self) -> None:
        """Update every parameter once from its current grad."""
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        for p in self.params:
            p.grad = 0.0

    def _grads(self) -> list[float]:
        # A grad may be a Value after backward(create_graph=True): the update uses its number.
        return [float(p.grad) for p in self.params]

    def state_dict(self) -> dict[str, Any]:
        """A copy of the optimizer's internal state (step count, moment buffers, lr)."""
        return copy.deepcopy({k: v for k, v in vars(self).items() if k != "params"})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        for k, v in copy.deepcopy(state).items():
            setattr(self, k, v)


def _positive(name: str, x: float, *, allow_zero: bool = False) -> float:
    x = float(x)
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} "
                         f"finite number; got {x!r}")
    return x


class SGD(Optimizer):
    """g = grad + wd p;  v = mu v + g;  p -= lr v  (v = g when momentum mu = 0)."""

    def __init__(self, params: Iterable[Value], lr: float = 0.1, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _positive("momentum", momentum, allow_zero=True)
        if self.momentum >= 1.0:
            raise ValueError(f"momentum must be in [0, 1); got {momentum!r}")
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)
        self.velocity = [0.0] * len(self.params)

    def update(self, p: Any, g: Any, v: Any) -> tuple[Any, Any]:
        """The rule, once: (p, v) after one step from parameter p, its gradient g and velocity
        v. Plain arithmetic, so it runs on one float or, element by element, on numpy arrays
        of them (``fit(compiled=True)`` calls it with the whole parameter vector)."""
        if self.momentum == 0.0 and self.weight_decay == 0.0:
            return p - self.lr * g, v
        g = g + self.weight_decay * p
        v = self.momentum * v + g
        return p - self.lr * v, v

    def step(self) -> None:
        v = self.velocity
        for i, (p, g) in enumerate(zip(self.params, self._grads())):
            p.data, v[i] = self.update(p.data, g, v[i])
        self.steps += 1


class Adam(Optimizer):
    """m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr m^ / (sqrt(v^) + eps).

    m^ = m / (1 - b1^t) and v^ = v / (1 - b2^t) correct the zero start; ``weight_decay`` adds
    wd p to the gradient (L2, as torch.optim.Adam).
    """

    decoupled = False

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        b1, b2 = (float(b) for b in betas)
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must both be in [0, 1); got {betas!r}")
        self.betas = (b1, b2)
        self.eps = _positive("eps", eps)
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def update(self, p: Any, g: Any, m: Any, v: Any,
               sqrt: Callable[[Any], Any] = math.sqrt) -> tuple[Any, Any, Any]:
        """The rule, once: (p, m, v) after step ``self.steps + 1`` from parameter p, its
        gradient g and moments m, v. Plain arithmetic, so it runs on one float or, element by
        element, on numpy arrays of them (then ``sqrt`` is ``numpy.sqrt``)."""
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        b1, b2 = self.betas
        t = self.steps + 1
        if wd:
            if self.decoupled:
                p = p - lr * wd * p
            else:
                g = g + wd * p
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        return p - lr * (m / (1.0 - b1**t)) / (sqrt(v / (1.0 - b2**t)) + eps), m, v

    def step(self) -> None:
        m, v = self.m, self.v
        for i, (p, g) in enumerate(zip(self.params, self._grads())):
            p.data, m[i], v[i] = self.update(p.data, g, m[i], v[i])
        self.steps += 1


class AdamW(Adam):
    """Adam with decoupled weight decay: p -= lr wd p, then the Adam step (torch.optim.AdamW)."""

    decoupled = True

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


# ---------------------------------------------------------------------------------------------
# Schedules: callables from the step index (0-based) to a learning rate.

class LinearDecay:
    """lr(k) = start + (end - start) * min(k, steps) / steps (micrograd: 1.0 - 0.9 k / 100)."""

    def __init__(self, start: float, end: float, steps: int) -> None:
        if steps < 1:
            raise ValueError(f"LinearDecay needs steps >= 1; got {steps!r}")
        self.start = _positive("start", start, allow_zero=True)
        self.end = _positive("end", end, allow_zero=True)
        self.steps = steps

    def __call__(self, step: int) -> float:
        return self.start + (self.end - self.start) * min(step, self.steps) / self.steps

    def __repr__(self) -> str:
        return f"LinearDecay(start={self.start!r}, end={self.end!r}, steps={self.steps})"


class Constant:
    """lr(k) = lr."""

    def __init__(self, lr: float) -> None:
        self.lr = _positive("lr", lr, allow_zero=True)

    def __call__(self, step: int) -> float:
        return self.lr

    def __repr__(self) -> str:
        return f"Constant({self.lr!r})"


def make_optimizer_named(name: str, params: Iterable[Value], *, lr: float | None = None,
                         momentum: float = 0.0, weight_decay: float | None = None) -> Optimizer:
    """An optimizer by name ("sgd", "adam", "adamw"); options left as None keep its defaults."""
    cls = OPTIMIZERS.get(name)
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    kw: dict[str, float] = {}
    if lr is not None:
        kw["lr"] = lr
    if weight_decay is not None:
        kw["weight_decay"] = weight_decay
    if momentum:
        if cls is not SGD:
            raise ValueError(f"momentum is an SGD option; {name} keeps its own moment "
                             f"estimates (betas)")
        kw["momentum"] = momentum
    return cls(params, **kw)
