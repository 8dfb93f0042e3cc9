"""Neuron, Layer and MLP on the engine's Values, plus the per-example Trace used by drawings.

The one rule for outputs: a Layer or an MLP called on one example returns ``list[Value]``,
whatever its width (a single Neuron returns one Value).

Initialization (``init=``): biases start at 0; weights are drawn uniformly from [-r, r] with

- ``"he"``: r = sqrt(6 / nin), variance 2/nin (keeps relu activations' scale);
- ``"lecun"``: r = sqrt(3 / nin), variance 1/nin (keeps tanh/sigmoid/linear in their range);
- ``"uniform"``: r = 1 (micrograd's choice);
- ``"auto"`` (default): "he" for the relu family (relu, leaky_relu, gelu, silu, elu), "lecun"
  for every other activation.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from autograd import ACTIVATIONS, Value, apply, capture

from .module import (
    MAX_MODEL_BYTES,
    MAX_PARAMETERS,
    ModelFileError,
    Module,
    _brief,
    read_model_file,
)

Seed = Union[int, random.Random, None]
Input = Union[Value, float, int]

INITS = ("auto", "he", "lecun", "uniform")
RELU_LIKE = ("relu", "leaky_relu", "gelu", "silu", "elu")
"""Activations that pass positive inputs about unchanged and damp negative ones: "he" init."""


def make_rng(seed: Seed) -> random.Random:
    """A random.Random from an int seed, an existing Random (shared, not copied) or None."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool)):
        return random.Random(seed)
    raise TypeError(f"seed must be an int, a random.Random or None; got {type(seed).__name__}")


def _identity(a: Value) -> Value:
    return a


def _activation_fn(name: str) -> Callable[[Value], Value]:
    # Named functions and partials, never lambdas, so that a model pickles (multiprocessing).
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    if name == "linear":
        return _identity
    method = getattr(Value, name, None)
    if method is not None:
        return method  # type: ignore[no-any-return]
    return functools.partial(apply, name)


def init_range(activation: str, nin: int, init: str = "auto") -> float:
    """The half-width r of the uniform weight initialization U(-r, r) (see the module doc)."""
    if init == "auto":
        init = "he" if activation in RELU_LIKE else "lecun"
    if init == "he":
        return math.sqrt(6.0 / nin)
    if init == "lecun":
        return math.sqrt(3.0 / nin)
    if init == "uniform":
        return 1.0
    raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


def _check_size(name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be a positive int; got {n!r}")
    return n


def as_inputs(x: Sequence[Input], nin: int, who: str) -> list[Value]:
    """The example as Values: numbers become leaves labelled x0, x1, ..., Values pass through."""
    if not isinstance(x, (list, tuple)):
        # Also a numpy array or any other sized iterable; never a string.
        if isinstance(x, (str, bytes)) or not (hasattr(x, "__len__") and hasattr(x, "__iter__")):
            raise TypeError(f"{who} takes a list of {nin} numbers or Values; "
                            f"got {type(x).__name__}")
        x = list(x)
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} input(s); got {len(x)}")
    out = []
    for i, xi in enumerate(x):
        if type(xi) is Value:
            out.append(xi)
        elif isinstance(xi, numbers.Real) and not isinstance(xi, bool):
            xf = float(xi)
            if not math.isfinite(xf):
                raise ValueError(f"{who}: input {i} is {xf!r}; inputs must be finite numbers")
            out.append(Value(xf, label=f"x{i}"))
        elif isinstance(xi, Value):
            out.append(xi)
        else:
            raise TypeError(f"{who}: input {i} must be a number or a Value; "
                            f"got {type(xi).__name__} {xi!r}")
    return out


class Neuron(Module):
    """z = h(a), a = sum_i w_i x_i + b: one n-ary sum node over the products and the bias."""

    def __init__(self, nin: int, activation: str = "relu", *, init: str = "auto",
                 seed: Seed = None) -> None:
        self.nin = _check_size("nin", nin)
        self._act = _activation_fn(activation)
        self.activation = activation
        self.init = init
        rng = make_rng(seed)
        r = init_range(activation, nin, init)
        self.w = [Value(rng.uniform(-r, r), label=f"w.{i}") for i in range(nin)]
        self.b = Value(0.0, label="b")

    def preactivation(self, x: Sequence[Value]) -> Value:
        """a = sum_i w_i x_i + b, as one sum node whose parents are the products and b."""
        terms: list[Value] = [wi * xi for wi, xi in zip(self.w, x)]
        terms.append(self.b)
        return Value.sum(terms)

    def activate(self, a: Value) -> Value:
        """z = h(a) (for "linear", a itself)."""
        return self._act(a)

    def __call__(self, x: Sequence[Input]) -> Value:
        """This neuron's output on one example."""
        return self._act(self.preactivation(as_inputs(x, self.nin, repr(self))))

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; returns ``list[Value]`` of width nout."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", *, init: str = "auto",
                 seed: Seed = None) -> None:
        self.nin = _check_size("nin", nin)
        self.nout = _check_size("nout", nout)
        self.activation = activation
        rng = make_rng(seed)
        self.neurons = [Neuron(nin, activation, init=init, seed=rng) for _ in range(nout)]
        _relabel(self)

    def forward(self, x: Sequence[Value]) -> list[Value]:
        """The layer's outputs for inputs that are already Values (no checks)."""
        return [n._act(n.preactivation(x)) for n in self.neurons]

    def __call__(self, x: Sequence[Input]) -> list[Value]:
        """[z_1, ..., z_nout] for one example."""
        return self.forward(as_inputs(x, self.nin, repr(self)))

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"neurons.{j}.{name}", p) for j, n in enumerate(self.neurons)
                for name, p in n.named_parameters()]

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


@dataclass
class Trace:
    """One example's forward pass, node by node, for the delta rule and for drawings.

    ``pre[l][j]`` is a_j = sum_i w_ji z_i + b_j of neuron j in layer l and ``post[l][j]`` is
    z_j = h(a_j) (the same Value as a_j for "linear"); ``output`` is ``post[-1]``. ``groups``
    maps every node the pass created, and every parameter, to ``"layer L/neuron J"`` (0-based;
    "/" nests clusters in drawings) and each input leaf to ``"inputs"``.
    """

    inputs: list[Value]
    pre: list[list[Value]] = field(default_factory=list)
    post: list[list[Value]] = field(default_factory=list)
    output: list[Value] = field(default_factory=list)
    groups: dict[Value, str] = field(default_factory=dict)


class MLP(Module):
    """A multilayer perceptron: ``MLP(2, [16, 16, 1])`` maps 2 inputs to 1 output.

    Hidden layers use ``activation``, the last layer ``output_activation``. Calling the model
    on one example (a list of ``nin`` numbers or Values) returns ``list[Value]`` of width
    ``nouts[-1]``, always a list, even of width one.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 output_activation: str = "linear", seed: Seed = None, *,
                 init: str = "auto") -> None:
        self.nin = _check_size("nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer widths, e.g. [16, 16, 1]; "
                             f"got {nouts!r}")
        self.nouts = [_check_size(f"nouts[{i}]", n) for i, n in enumerate(nouts)]
        _activation_fn(activation)
        _activation_fn(output_activation)
        self.activation = activation
        self.output_activation = output_activation
        self.init = init
        rng = make_rng(seed)
        sizes = [nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation,
                  init=init, seed=rng)
            for i in range(len(self.nouts))
        ]
        _relabel(self)
        self._who = repr(self)

    def __call__(self, x: Sequence[Input]) -> list[Value]:
        """The outputs [y_1, ..., y_K] for one example (a list, whatever K is)."""
        z = as_inputs(x, self.nin, self._who)
        for layer in self.layers:
            z = layer.forward(z)
        return z

    def trace(self, x: Sequence[Input]) -> Trace:
        """Run one example and keep every neuron's a_j and z_j, grouped for drawings."""
        inputs = as_inputs(x, self.nin, self._who)
        t = Trace(inputs=inputs)
        for v in inputs:
            t.groups[v] = "inputs"
        z = inputs
        for li, layer in enumerate(self.layers):
            pre: list[Value] = []
            post: list[Value] = []
            for j, neuron in enumerate(layer.neurons):
                group = f"layer {li}/neuron {j}"
                with capture() as made:
                    a = neuron.preactivation(z)
                    out = neuron.activate(a)
                for node in made:
                    t.groups[node] = group
                for p in neuron.parameters():
                    t.groups[p] = group
                pre.append(a)
                post.append(out)
            t.pre.append(pre)
            t.post.append(post)
            z = post
        t.output = t.post[-1]
        return t

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"layers.{i}.{name}", p) for i, layer in enumerate(self.layers)
                for name, p in layer.named_parameters()]

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nouts": list(self.nouts), "activation": self.activation,
                "output_activation": self.output_activation}

    def __repr__(self) -> str:
        return (f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r})")


def _relabel(module: Module) -> None:
    # Every parameter's label is its dotted name, so drawings and gradient checks name it.
    for name, p in module.named_parameters():
        p.label = name


KINDS: dict[str, Callable[..., Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}


def parameter_count(kind: str, config: Mapping[str, Any]) -> int | None:
    """How many parameters ``KINDS[kind](**config)`` has, from the sizes in ``config`` alone
    (each neuron: one weight per input and a bias); None when a size is not a positive int
    (the constructor then says what is wrong)."""
    def size(x: Any) -> int | None:
        return x if type(x) is int and x > 0 else None

    if kind == "Neuron":
        widths: Any = [1]
    elif kind == "Layer":
        widths = [config.get("nout")]
    elif kind == "MLP":
        widths = config.get("nouts")
    else:
        return None
    fan_in = size(config.get("nin"))
    if fan_in is None or not isinstance(widths, list) or not widths:
        return None
    total = 0
    for w in widths:
        width = size(w)
        if width is None:
            return None
        total += (fan_in + 1) * width
        fan_in = width
    return total


def load_model(path: str | os.PathLike[str], limit: int = MAX_MODEL_BYTES) -> Module:
    """Build the model a file saved by ``Module.save`` describes and load its weights.

    The file is read once, by the bounded reader ``read_model_file`` (at most ``limit``
    bytes). The size of the model its
    config describes is checked against the parameters the file holds, and against
    ``MAX_PARAMETERS``, before anything is built: a small file cannot ask for a huge model.
    """
    doc = read_model_file(path, limit)
    kind, config = doc["kind"], doc["config"]
    make = KINDS.get(kind)
    if make is None:
        raise ModelFileError(f"{path}: unknown model kind {_brief(kind)}; "
                             f"known: {', '.join(KINDS)}")
    count = parameter_count(kind, config)
    if count is not None and count > MAX_PARAMETERS:
        raise ModelFileError(f"{path}: its config describes a {kind} model of {count:,} "
                             f"parameters; "
                             f"a model file holds at most {MAX_PARAMETERS:,} "
                             f"(nn.module.MAX_PARAMETERS)")
    if count is not None and count != len(doc["parameters"]):
        raise ModelFileError(f"{path}: its config describes a {kind} model of {count:,} "
                             f"parameters, "
                             f"but the file holds {len(doc['parameters']):,}")
    try:
        model = make(**config)
    except (TypeError, ValueError) as e:
        why = str(e) if len(str(e)) <= 200 else str(e)[:200] + " ..."
        raise ModelFileError(f"{path}: its config {_brief(config)} does not build a {kind}: "
                             f"{why}") from None
    model._load_document(doc, str(path))
    return model
