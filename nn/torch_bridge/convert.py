"""The same network in PyTorch and back: ``to_torch(model)`` and ``from_torch(module)``.

An ``nn.MLP`` is a ``torch.nn.Sequential`` of ``Linear`` layers, each followed by its
activation module (none for "linear"). Neuron j of a layer is row j of its ``Linear``'s
``weight`` and entry j of its ``bias``. The activations map one to one, with PyTorch's
defaults where edgegrad has a parameter: leaky_relu's slope 0.01, elu's alpha 1. Softplus is
``Softplus(beta=1, threshold=40)``: above its threshold PyTorch returns x itself, which
differs from log(1 + e^x) by less than e^-40 there, so outputs agree to far below 1e-12
(PyTorch's default threshold of 20 would leave up to 2e-9). "sin" and "exp" have no PyTorch
module and are refused. torch is imported only when these are called.
"""

from __future__ import annotations

from typing import Any

from ..layers import MLP, Layer, Neuron

__all__ = ["from_torch", "to_torch", "MODULES"]

INSTALL_TORCH = ("pip install torch (a CPU build is enough; see https://pytorch.org/get-started/"
                 "locally/ for the command for your machine)")

# edgegrad's activation name -> the torch.nn class name and the arguments it is built with.
MODULES: dict[str, tuple[str, dict[str, Any]]] = {
    "relu": ("ReLU", {}),
    "leaky_relu": ("LeakyReLU", {"negative_slope": 0.01}),
    "tanh": ("Tanh", {}),
    "sigmoid": ("Sigmoid", {}),
    "softplus": ("Softplus", {"beta": 1.0, "threshold": 40.0}),
    "gelu": ("GELU", {"approximate": "none"}),
    "silu": ("SiLU", {}),
    "elu": ("ELU", {"alpha": 1.0}),
}
"""How each activation is written in PyTorch; from_torch accepts exactly these settings (and
any Softplus threshold of at least 20, PyTorch's default)."""


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(f"this needs PyTorch, which is not installed: {INSTALL_TORCH}") from None
    return torch


def to_torch(model: MLP | Layer | Neuron, dtype: Any = None) -> Any:
    """A ``torch.nn.Sequential`` of ``Linear`` layers and activations with the model's weights.

    ``dtype`` defaults to ``torch.float64``, edgegrad's own precision, so that outputs and
    gradients agree to rounding. Raises ValueError for an activation PyTorch has no module for
    ("sin", "exp") and TypeError for a model that is not an MLP, a Layer or a Neuron.
    """
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    groups: list[list[Neuron]]
    if isinstance(model, MLP):
        groups = [layer.neurons for layer in model.layers]
    elif isinstance(model, Layer):
        groups = [model.neurons]
    elif isinstance(model, Neuron):
        groups = [[model]]
    else:
        raise TypeError(f"to_torch converts an nn.MLP, nn.Layer or nn.Neuron; "
                        f"got {type(model).__name__}")
    modules = []
    for i, neurons in enumerate(groups):
        activation = neurons[0].activation
        linear = torch.nn.Linear(neurons[0].nin, len(neurons), dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in neurons],
                                             dtype=dtype))
            linear.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=dtype))
        modules.append(linear)
        if activation == "linear":
            continue
        if activation not in MODULES:
            raise ValueError(f"to_torch: layer {i}'s activation {activation!r} has no "
                             f"torch.nn module; PyTorch has one for "
                             f"{', '.join(['linear', *MODULES])}")
        name, kwargs = MODULES[activation]
        modules.append(getattr(torch.nn, name)(**kwargs))
    return torch.nn.Sequential(*modules)


def from_torch(module: Any) -> MLP:
    """The ``nn.MLP`` a ``torch.nn.Sequential`` of ``Linear`` layers and activations
    describes, with its weights (as Python floats).

    Each ``Linear`` must have a bias, be followed by at most one activation of ``MODULES``
    (with the settings there), and every hidden layer must use the same activation (an
    ``nn.MLP`` has one for its hidden layers and one for its output). Any other module is
    refused with a ValueError naming it: Dropout, BatchNorm, a Linear without bias, ...
    """
    torch = _torch()
    if isinstance(module, torch.nn.Linear):
        module = torch.nn.Sequential(module)
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"from_torch takes a torch.nn.Sequential (or one Linear); "
                        f"got {type(module).__name__}")
    names = {cls: act for act, (cls, _) in MODULES.items()}
    blocks: list[tuple[Any, str]] = []  # (the Linear, its activation)
    for name, sub in _flat(module, ""):
        kind = type(sub).__name__
        if isinstance(sub, torch.nn.Identity):
            continue
        if isinstance(sub, torch.nn.Linear):
            if sub.bias is None:
                raise ValueError(f"from_torch: layer {name!r} (Linear without bias) cannot be "
                                 f"represented: every edgegrad neuron has a bias. Build it "
                                 f"with bias=True")
            blocks.append((sub, "linear"))
            continue
        act = names.get(kind) if type(sub).__module__.startswith("torch.nn") else None
        if act is None:
            raise ValueError(f"from_torch: layer {name!r} ({kind}) cannot be represented; an "
                             f"edgegrad MLP has Linear layers and the activations "
                             f"{', '.join(names)}")
        if not blocks or blocks[-1][1] != "linear":
            where = "comes first" if not blocks else "follows another activation"
            raise ValueError(f"from_torch: layer {name!r} ({kind}) {where}; an edgegrad MLP has "
                             f"at most one activation after each Linear")
        _check_settings(name, kind, sub)
        blocks[-1] = (blocks[-1][0], act)
    if not blocks:
        raise ValueError("from_torch: the module has no Linear layer")
    for (prev, _), (nxt, _), k in zip(blocks, blocks[1:], range(1, len(blocks))):
        if nxt.in_features != prev.out_features:
            raise ValueError(f"from_torch: Linear {k} takes {nxt.in_features} inputs but the "
                             f"layer before it gives {prev.out_features}")
    hidden = {act for _, act in blocks[:-1]}
    if len(hidden) > 1:
        raise ValueError(f"from_torch: the hidden layers use different activations "
                         f"({', '.join(act for _, act in blocks[:-1])}); an edgegrad MLP has one "
                         f"for all its hidden layers")
    activation = hidden.pop() if hidden else "relu"
    model = MLP(blocks[0][0].in_features, [lin.out_features for lin, _ in blocks], activation,
                blocks[-1][1])
    for layer, (lin, _) in zip(model.layers, blocks):
        weight = lin.weight.detach().to(torch.float64).tolist()
        bias = lin.bias.detach().to(torch.float64).tolist()
        for neuron, row, b in zip(layer.neurons, weight, bias):
            for w, x in zip(neuron.w, row):
                w.data = x
            neuron.b.data = b
    return model


def _flat(module: Any, prefix: str) -> list[tuple[str, Any]]:
    """The leaves of nested Sequentials in order, named by their dotted path (as torch does)."""
    import torch

    out = []
    for name, sub in module.named_children():
        full = f"{prefix}{name}"
        if isinstance(sub, torch.nn.Sequential):
            out.extend(_flat(sub, full + "."))
        else:
            out.append((full, sub))
    return out


def _check_settings(name: str, kind: str, sub: Any) -> None:
    """ValueError when an activation module's settings differ from edgegrad's function."""
    act = {cls: a for a, (cls, _) in MODULES.items()}[kind]
    for key, want in MODULES[act][1].items():
        have = getattr(sub, key, want)
        if key == "threshold":
            ok = have >= 20.0  # linear above it: off from log(1 + e^x) by < e^-20 there
        else:
            ok = have == want
        if not ok:
            raise ValueError(f"from_torch: layer {name!r} is {kind} with {key}={have!r}; "
                             f"edgegrad's {act} has {key}={want!r}")
