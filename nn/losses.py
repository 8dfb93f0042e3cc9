"""Per-example losses by name, the L2 penalty and accuracy.

Every loss in ``LOSSES`` takes one example's outputs ``ys`` (``list[Value]``, as a model
returns them, width K) and its target, and returns one Value. Target conventions:

====================  ==========================================  ==================================
name                  target                                      loss for one example
====================  ==========================================  ==================================
``"sse"``             a number (K = 1) or K numbers               1/2 sum_k (y_k - t_k)^2
``"mse"``             a number (K = 1) or K numbers               1/K sum_k (y_k - t_k)^2
``"hinge"``           -1 or +1 (K = 1), or K of them              sum_k max(0, 1 - t_k y_k)
``"bce"``             0 or 1 (any t in [0, 1]), or K of them      -sum_k [t log y + (1-t) log(1-y)]
``"bce_logits"``      0 or 1 (any t in [0, 1]), or K of them      sum_k [softplus(y) - t y]
``"softmax_ce"``      the class index c, 0 <= c < K               log sum_k e^(y_k) - y_c
====================  ==========================================  ==================================

``"bce"`` expects probabilities (a sigmoid output); ``"bce_logits"`` and ``"softmax_ce"``
expect raw scores (a linear output) and are computed without overflow. The batch loss that
``nn.train.fit`` minimizes is the MEAN over the batch of the per-example loss, plus
``l2 * sum_p p^2`` when an L2 coefficient is given.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Union

from autograd import DomainError, Value

Target = Union[float, int, Sequence[float]]
LossFn = Callable[[list[Value], Any], Value]


def _targets(name: str, ys: Sequence[Value], t: Any) -> list[Any]:
    """The target as K numbers, checked against the outputs' width K.

    A target given as Values stays Values (the compiled path traces the target as an input),
    so the losses below never branch on a Value target's data.
    """
    if isinstance(t, (Value, numbers.Real)) and not isinstance(t, bool):
        items: Sequence[Any] = [t]
    elif isinstance(t, Sequence) and not isinstance(t, (str, bytes)):
        items = t
    else:
        raise TypeError(f"{name}: the target must be a number or a list of numbers; got {t!r}")
    ts: list[Any] = []
    for i, ti in enumerate(items):
        if isinstance(ti, Value):
            ts.append(ti)
        elif isinstance(ti, numbers.Real) and not isinstance(ti, bool):
            ts.append(float(ti))
        else:
            raise TypeError(f"{name}: target[{i}] must be a number; got {ti!r}")
    if len(ts) != len(ys):
        raise ValueError(f"{name}: the model gives {len(ys)} output(s) but the target has "
                         f"{len(ts)} value(s); they must match")
    return ts


def _total(terms: list[Value]) -> Value:
    # One term needs no sum node: the drawing of a one-output loss stays one node shorter.
    return terms[0] if len(terms) == 1 else Value.sum(terms)


def sse(ys: list[Value], t: Target) -> Value:
    """E = 1/2 sum_k (y_k - t_k)^2, the textbook sum-of-squares error."""
    ts = _targets("sse", ys, t)
    return 0.5 * _total([(y - tk) ** 2 for y, tk in zip(ys, ts)])


def mse(ys: list[Value], t: Target) -> Value:
    """1/K sum_k (y_k - t_k)^2, the mean over the K outputs."""
    ts = _targets("mse", ys, t)
    return _total([(y - tk) ** 2 for y, tk in zip(ys, ts)]) * (1.0 / len(ts))


def hinge(ys: list[Value], t: Target) -> Value:
    """sum_k max(0, 1 - t_k y_k), targets -1 or +1 (micrograd's max-margin loss)."""
    ts = _targets("hinge", ys, t)
    for tk in ts:
        if _num(tk) not in (-1.0, 1.0):
            raise ValueError(f"hinge: targets must be -1 or +1; got {tk!r} (for 0/1 labels map "
                             f"0 -> -1, or use the 'bce_logits' loss)")
    return _total([(1.0 - tk * y).relu() for y, tk in zip(ys, ts)])


def _check_prob_targets(name: str, ts: list[Any]) -> None:
    for tk in ts:
        if not 0.0 <= _num(tk) <= 1.0:
            raise ValueError(f"{name}: targets must lie in [0, 1] (labels 0 or 1); got {tk!r}")


def bce(ys: list[Value], t: Target) -> Value:
    """-sum_k [t_k log y_k + (1 - t_k) log(1 - y_k)], y_k a probability in (0, 1)."""
    ts = _targets("bce", ys, t)
    _check_prob_targets("bce", ts)
    terms = []
    try:
        for y, tk in zip(ys, ts):
            # A term whose weight is a number 0 is left out, so a hard label needs only its own
            # log: a saturated sigmoid (y == 1.0 exactly) still gives a finite loss for t = 1.
            traced = isinstance(tk, Value)
            if traced or tk > 0.0:
                terms.append(tk * y.log())
            if traced or tk < 1.0:
                terms.append((1.0 - tk) * (1.0 - y).log())
    except DomainError as e:
        raise ValueError(
            f"bce: an output reached 0 or 1 exactly, where log is undefined ({e}); give the "
            f"model a sigmoid output, or use 'bce_logits' on a linear output, which is stable"
        ) from e
    return -_total(terms)


def bce_logits(ys: list[Value], t: Target) -> Value:
    """sum_k [softplus(y_k) - t_k y_k] = BCE of sigmoid(y_k), stable for any logit y_k."""
    ts = _targets("bce_logits", ys, t)
    _check_prob_targets("bce_logits", ts)
    terms = []
    for y, tk in zip(ys, ts):
        terms.append(y.softplus())
        terms.append(-tk * y)
    return _total(terms)


def softmax_ce(ys: list[Value], t: Any) -> Value:
    """log sum_k e^(y_k) - y_c for the class index c, with the max subtracted (no overflow)."""
    traced = t if isinstance(t, Value) else None
    if traced is not None:
        t = traced.data
    if isinstance(t, float) and t.is_integer():
        t = int(t)
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise TypeError(f"softmax_ce: the target must be a class index (an int); got {t!r}")
    c = int(t)
    if not 0 <= c < len(ys):
        raise ValueError(f"softmax_ce: class index {c} is out of range for {len(ys)} outputs "
                         f"(valid: 0..{len(ys) - 1})")
    # log sum e^y = m + log sum e^(y - m) for any m; m = max keeps every exp <= 1. The max is
    # a graph of maximum ops rather than a number read from .data, so the graph's structure
    # does not depend on the data (the compiled path replays it over a batch); the gradient
    # through m is 1 - sum softmax = 0. Pairwise, it is log2(K) levels deep, not K - 1.
    ms = list(ys)
    while len(ms) > 1:
        ms = [a.maximum(b) for a, b in zip(ms[::2], ms[1::2])] + ms[len(ms) - len(ms) % 2:]
    m = ms[0]
    lse = Value.sum([(y - m).exp() for y in ys]).log() + m
    if traced is not None:
        # A target traced as an input (the compiled path): y_c is picked by the indicator
        # relu(1 - |t - k|), exactly 1 for k = c and 0 for every other integer k, so the graph
        # is the same whatever the class and the numbers are eager's exactly.
        return lse - Value.sum([(1.0 - abs(traced - k)).relu() * y for k, y in enumerate(ys)])
    return lse - ys[c]


LOSSES: dict[str, LossFn] = {
    "sse": sse,
    "mse": mse,
    "hinge": hinge,
    "bce": bce,
    "bce_logits": bce_logits,
    "softmax_ce": softmax_ce,
}
"""Per-example losses by name: ``LOSSES[name](outputs, target) -> Value``."""


def get_loss(loss: str | LossFn) -> LossFn:
    """The loss function for a name in LOSSES (a callable passes through)."""
    if callable(loss):
        return loss
    fn = LOSSES.get(loss)
    if fn is None:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return fn


def l2(params: Sequence[Value]) -> Value:
    """sum_p p^2 over the given parameters (multiply by the coefficient yourself)."""
    return Value.sum([p * p for p in params])


# ---------------------------------------------------------------------------------------------
# Predictions and accuracy: what counts as the predicted class depends on the loss.

def _num(y: Any) -> float:
    return y.data if isinstance(y, Value) else float(y)


def predict(outputs: Sequence[Any], loss: str) -> Any:
    """The predicted label of one example in the loss's target convention.

    hinge: sign (+1 / -1) per output; bce: y > 0.5; bce_logits: y > 0 (labels 0/1 per output);
    softmax_ce: the arg max's index; sse/mse: the class in {0, 1} for y > 0.5 with one output,
    else the arg max's index (one-hot targets).
    """
    ys = [_num(y) for y in outputs]
    if loss not in LOSSES:
        raise ValueError(f"no prediction rule for loss {loss!r}; known: {', '.join(LOSSES)}")
    if loss == "softmax_ce" or (len(ys) > 1 and loss in ("sse", "mse")):
        return max(range(len(ys)), key=ys.__getitem__)
    t = threshold(loss)
    out = [1.0 if y > t else (-1.0 if loss == "hinge" else 0.0) for y in ys]
    return out[0] if len(out) == 1 else out


def threshold(loss: str) -> float:
    """Where one output's prediction flips: 0.5 for probabilities (bce) and 0/1 regression
    (sse, mse), 0 for scores and logits (hinge, bce_logits)."""
    return 0.5 if loss in ("bce", "sse", "mse") else 0.0


def _label(t: Any, loss: str, width: int) -> Any:
    if isinstance(t, Value):
        t = t.data
    if isinstance(t, Sequence) and not isinstance(t, (str, bytes)):
        ts = [_num(x) for x in t]
        if loss in ("sse", "mse") and width > 1:
            return max(range(len(ts)), key=ts.__getitem__)
        return ts[0] if len(ts) == 1 else ts
    return float(t) if loss not in ("softmax_ce",) else int(t)


def accuracy(outputs: Sequence[Sequence[Any]], targets: Sequence[Any], loss: str) -> float | None:
    """The fraction of examples whose predicted label (see ``predict``) equals the target.

    For "sse" and "mse" this only makes sense with class targets (0/1 with one output, one-hot
    with several); with any other target it returns None (a regression has no accuracy).
    """
    if len(outputs) != len(targets):
        raise ValueError(f"accuracy: {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        return None
    if loss in ("sse", "mse") and not _class_like(targets):
        return None
    hits = 0
    for ys, t in zip(outputs, targets):
        if predict(ys, loss) == _label(t, loss, len(ys)):
            hits += 1
    return hits / len(outputs)


def _class_like(targets: Sequence[Any]) -> bool:
    for t in targets:
        if isinstance(t, Value):
            t = t.data
        if isinstance(t, Sequence) and not isinstance(t, (str, bytes)):
            vals = [_num(x) for x in t]
            if len(vals) > 1:
                if sorted(vals) != [0.0] * (len(vals) - 1) + [1.0]:
                    return False
                continue
            t = vals[0]
        if _num(t) not in (0.0, 1.0) or (isinstance(t, float) and math.isnan(t)):
            return False
    return True


def accuracy_of_arrays(outputs: Any, targets: Any, loss: str) -> float | None:
    """``accuracy`` on numpy arrays: ``outputs`` (N, K), ``targets`` (N, T) in the loss's
    convention (softmax_ce: the class index, T = 1). The same predictions as ``predict``, the
    same None for a regression, counted without a Python loop over the examples."""
    import numpy as np  # only the compiled path has arrays, and it has numpy

    if loss not in LOSSES:
        raise ValueError(f"no prediction rule for loss {loss!r}; known: {', '.join(LOSSES)}")
    n, k = outputs.shape
    if n == 0:
        return None
    if loss in ("sse", "mse"):
        binary = ((targets == 0.0) | (targets == 1.0)).all()
        if not binary or (targets.shape[1] > 1 and not (targets.sum(axis=1) == 1.0).all()):
            return None  # not 0/1 labels, nor one-hot rows
    if loss == "softmax_ce" or (k > 1 and loss in ("sse", "mse")):
        labels = targets[:, 0] if loss == "softmax_ce" else targets.argmax(axis=1)
        hits = outputs.argmax(axis=1) == labels
    else:
        predicted = np.where(outputs > threshold(loss), 1.0, -1.0 if loss == "hinge" else 0.0)
        hits = (predicted == targets).all(axis=1)
    return int(hits.sum()) / int(n)
