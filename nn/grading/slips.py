"""The textbook slips of hand-worked backpropagation, and the delta rule with a slip in it.

A learner's pass through the delta rule is recomputed with one slip made (``Variant``): h'(a)
left out, h' evaluated at z instead of a, the weights read row-wise (w_jk for w_kj), each at one
layer or at every layer; the output delta taken as y − t for an output and loss it does not
belong to; the ½ of the sum of squares dropped or doubled. A wrong number that matches such a
pass (and not the right one) was made with that slip, perhaps further up and carried down.

Where to look, and what it costs: a slip made at one layer changes the deltas at that layer and
below it. For a number at layer l, the slips made at one layer are looked for at l and in the
``CARRY`` layers above it (the slips made everywhere, y − t and the ½ at any depth), and each
pass is recomputed only over the layers where it is looked for, the first time it is needed.
Looking through every layer above every number would cost the square of a deep network's
depth (a network of 3,000 layers ran out of memory); this way grading is linear in the depth.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from ..textbook.deltas import ACTIVATIONS, LOSSES, Activation, DeltaResult, Network

__all__ = ["CARRY", "MATCHED", "Slip", "SlippedPasses", "Variant", "slipped_deltas",
           "y_minus_t_applies"]

MATCHED = {("linear", "sse"), ("sigmoid", "bce"), ("linear", "bce_logits"),
           ("linear", "softmax_ce")}
"""Output activation and loss pairs whose output delta is y − t."""

CARRY = 8
"""A slip made at one layer is looked for in at most this many layers above a number."""


class Slip(enum.Enum):
    """What went wrong with a number: the textbook slips of hand-worked backpropagation."""

    RIGHT = "right"
    UPSTREAM = "follows from a wrong number upstream"
    H_PRIME_LEFT_OUT = "h'(a) left out"
    H_PRIME_AT_Z = "h' evaluated at z instead of a"
    ROW_WISE = "weights read row-wise (w_jk for w_kj)"
    NOT_SUMMED = "not summed over the examples"
    HALF_SSE = "the ½ of the sum of squares dropped or doubled"
    Y_MINUS_T = "y − t for a mismatched output and loss"
    SIGN = "sign slip"
    WRONG = "wrong"


@dataclass(frozen=True, eq=False)
class Variant:
    """The delta rule with ``slip`` made at ``layers`` (HALF_SSE: every delta times
    ``factor``; Y_MINUS_T: at the output). The layers are a range: one layer, the hidden ones
    or all of them. A grading makes each variant once (``SlippedPasses.variant``) and keys its
    passes by it: variants compare and hash by identity, the cheapest key there is."""

    slip: Slip
    layers: range
    factor: float = 1.0  # HALF_SSE: 2 (½ dropped) or 0.5 (doubled)
    one_layer: bool = False  # made at one layer of several of its kind (the search is bounded)

    def describe(self, n_layers: int) -> str:
        """How the pass was made, for the message: "with h'(a) left out at layer 1 ..."."""
        if self.slip is Slip.HALF_SSE:
            return ("with the ½ of E = ½ Σ (y − t)² dropped (every delta doubled)"
                    if self.factor == 2.0 else "with the ½ applied twice (every delta halved)")
        if len(self.layers) == n_layers and n_layers > 1:
            where = "every layer"
        elif len(self.layers) > 3:
            where = f"every hidden layer (layers {self.layers[0]} to {self.layers[-1]})"
        else:
            where = ", ".join(f"layer {k}" + (" (the output)" if k == n_layers - 1 else "")
                              for k in self.layers)
        return f"with {self.slip.value} at {where}"


def y_minus_t_applies(net: Network, loss: str) -> bool:
    """Whether y − t would be a slip at the output: a loss with an output delta, and an
    output activation it is not matched with."""
    return loss in ("sse", "bce", "bce_logits", "softmax_ce") and \
        (net.layers[-1].activation, loss) not in MATCHED


def variants(net: Network, loss: str, layer: int,
             make: Callable[..., Variant] = Variant) -> list[Variant]:
    """The slipped passes looked through for a number at ``layer``, in the order they are
    tried: y − t; h'(a) left out at each layer (the output first, within ``CARRY`` layers
    above), then at every layer; the same for h' at z; row-wise weights at each hidden layer,
    then at all of them; the ½ dropped, then doubled. ``make(slip, layers, factor,
    one_layer)`` makes each."""
    n_layers = len(net.layers)
    every = range(n_layers)
    hidden = range(n_layers - 1)
    near = range(min(n_layers - 1, layer + CARRY), layer - 1, -1)
    out: list[Variant] = []
    if y_minus_t_applies(net, loss):
        out.append(make(Slip.Y_MINUS_T, range(n_layers - 1, n_layers)))
    for slip in (Slip.H_PRIME_LEFT_OUT, Slip.H_PRIME_AT_Z):
        out += [make(slip, range(k, k + 1), one_layer=True) for k in near]
        if n_layers > 1:
            out.append(make(slip, every))
    out += [make(Slip.ROW_WISE, range(k, k + 1), one_layer=True) for k in near if k in hidden]
    if n_layers > 2:
        out.append(make(Slip.ROW_WISE, hidden))
    if loss == "sse":
        out += [make(Slip.HALF_SSE, range(0), 2.0), make(Slip.HALF_SSE, range(0), 0.5)]
    return out


def _dh(act: Activation, a: float, z: float, slip: Slip | None) -> float:
    if slip is Slip.H_PRIME_LEFT_OUT:
        return 1.0
    if slip is Slip.H_PRIME_AT_Z:
        return act.dh(z, act.h(z))
    return act.dh(a, z)


def one_hot(t: list[float], nout: int, classes: bool) -> list[float]:
    """A class target as the one-hot vector y − t is taken against (else ``t`` itself)."""
    if not classes:
        return t
    return [1.0 if k == int(t[0]) else 0.0 for k in range(nout)]


def slipped_deltas(net: Network, result: DeltaResult, n: int, variant: Variant | None,
                   top: int | None = None, bottom: int = 0) -> list[list[float]] | None:
    """The deltas of layers ``bottom`` to ``top`` (default: the output), bottom first, for
    example ``n`` under ``variant`` (None: the right rule), whose slips are made at or below
    ``top``: the deltas above it are the right ones. None where the slip cannot be made
    (row-wise weights that do not exist)."""
    ex = result.examples[n]
    loss = LOSSES[result.loss_name]
    last = len(net.layers) - 1
    top = last if top is None else top
    slip: Slip | None = variant.slip if variant is not None else None
    at = variant.layers if variant is not None else range(0)
    factor = variant.factor if variant is not None else 1.0
    deltas: list[list[float]] = []  # top first, reversed at the end
    if top == last:
        out = ex.layers[last]
        act = ACTIVATIONS[net.layers[last].activation]
        if slip is Slip.Y_MINUS_T:
            t = one_hot(ex.target, net.nout, loss.classes)
            deltas.append([y - tk for y, tk in zip(out.z, t)])
        else:
            s: Slip | None = slip if last in at else None
            deltas.append([factor * g * _dh(act, a, z, s)
                           for g, a, z in zip(ex.dE_dy, out.a, out.z)])
        start = last - 1
    else:
        start = top
    upstream = deltas[-1] if deltas else ex.layers[top + 1].delta
    for li in range(start, bottom - 1, -1):
        above = net.layers[li + 1]
        act = ACTIVATIONS[net.layers[li].activation]
        stage = ex.layers[li]
        s = slip if li in at else None
        row = []
        for j, (a, z) in enumerate(zip(stage.a, stage.z)):
            if s is Slip.ROW_WISE:
                if j >= above.nout or above.nout > above.nin:
                    return None
                total = sum(above.w[j][k] * upstream[k] for k in range(above.nout))
            else:
                total = sum(above.w[k][j] * upstream[k] for k in range(above.nout))
            row.append(_dh(act, a, z, s) * total)
        deltas.append(row)
        upstream = row
    deltas.reverse()
    return deltas


class SlippedPasses:
    """The slipped passes of one grading, each example's recomputed when first asked for and
    only over the layers it is looked for at (module doc)."""

    def __init__(self, net: Network, result: DeltaResult) -> None:
        self.net = net
        self.result = result
        self._made: dict[tuple[Slip, range, float, bool], Variant] = {}
        self._variants: dict[int, list[Variant]] = {}
        # (variant, example) -> (its lowest layer, deltas from there up), or None: no such pass
        self._deltas: dict[tuple[Variant, int], tuple[int, list[list[float]]] | None] = {}

    def variant(self, slip: Slip, layers: range, factor: float = 1.0,
                one_layer: bool = False) -> Variant:
        """The one Variant of this grading with these fields."""
        key = (slip, layers, factor, one_layer)
        got = self._made.get(key)
        if got is None:
            got = self._made[key] = Variant(slip, layers, factor, one_layer)
        return got

    def at(self, layer: int) -> list[Variant]:
        """The variants looked through for a number at ``layer``, in order."""
        got = self._variants.get(layer)
        if got is None:
            got = self._variants[layer] = variants(self.net, self.result.loss_name, layer,
                                                   self.variant)
        return got

    def deltas(self, variant: Variant, n: int, layer: int) -> list[float] | None:
        """Layer ``layer``'s deltas for example ``n`` under ``variant``; None where the slip
        cannot be made."""
        key = (variant, n)
        if key not in self._deltas:
            if variant.one_layer:  # only the CARRY layers below the slip are ever asked for
                k = variant.layers[0]
                bottom = max(0, k - CARRY)
                got = slipped_deltas(self.net, self.result, n, variant, k, bottom)
            else:
                bottom = 0
                got = slipped_deltas(self.net, self.result, n, variant)
            self._deltas[key] = None if got is None else (bottom, got)
        found = self._deltas[key]
        if found is None:
            return None
        bottom, deltas = found
        return deltas[layer - bottom]

    def gradient(self, variant: Variant, layer: int, j: int, i: int | None) -> float | None:
        """∂E/∂w_ji (``i``; None: ∂E/∂b_j) at ``layer`` under ``variant``, summed over the
        examples as E = Σ_n E_n is."""
        total = 0.0
        for n, ex in enumerate(self.result.examples):
            d = self.deltas(variant, n, layer)
            if d is None:
                return None
            zin = 1.0 if i is None else (ex.x if layer == 0 else ex.layers[layer - 1].z)[i]
            total += d[j] * zin
        return total
