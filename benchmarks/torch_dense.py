"""PyTorch's dense CPU step for the benchmark's MLPs, when torch is installed (it never has to
be: ``make bench`` runs without it and leaves the column empty).

The same model as ``nn.Sequential`` of ``Linear`` and ``ReLU`` in float64 on one thread, with
the same initial weights, the same loss (mean per-example loss + alpha * sum of every
parameter^2) and a plain SGD update, written the way a PyTorch user would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def available() -> str | None:
    """torch's version, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)


def make_step(weights: list[tuple[Any, Any]], loss: str, alpha: float, x: Any, y: Any,
              lr: float) -> Callable[[], float]:
    """One SGD step on the batch (x, y) per call: "hinge" (y = -1/+1, one output) or
    "softmax_ce" (y = class indices); returns the loss before the update."""
    import torch

    torch.set_num_threads(1)
    layers: list[Any] = []
    for i, (w, b) in enumerate(weights):
        lin = torch.nn.Linear(len(w[0]), len(w), dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w, dtype=torch.float64))
            lin.bias.copy_(torch.tensor(b, dtype=torch.float64))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    params = list(model.parameters())
    xt = torch.tensor(x, dtype=torch.float64)
    if loss == "hinge":
        yt = torch.tensor(y, dtype=torch.float64)

        def data_loss(s: Any) -> Any:
            return torch.relu(1.0 - yt * s[:, 0]).mean()
    else:
        yt = torch.tensor(y, dtype=torch.long)

        def data_loss(s: Any) -> Any:
            return torch.nn.functional.cross_entropy(s, yt)

    def step() -> float:
        total = data_loss(model(xt)) + alpha * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        total.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return float(total.item())

    return step
