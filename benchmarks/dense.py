"""Hand-written numpy references for the benchmark: the same computations, no graph at all.

Each function does the forward pass, the backward pass derived by hand, and (for the MLP) the
SGD update, on whole arrays. They are the speed a scalar engine is compared against.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class DenseMLP:
    """MLP 2-16-16-1 with relu hidden layers as weight matrices, trained with SGD.

    Loss (micrograd's demo): mean_i relu(1 - y_i s_i) + alpha * (sum of every parameter^2).
    """

    def __init__(self, weights: list[tuple[Any, Any]], alpha: float) -> None:
        self.layers = [(np.array(w, dtype=np.float64), np.array(b, dtype=np.float64))
                       for w, b in weights]
        self.alpha = alpha

    def step(self, x: Any, y: Any, lr: float) -> float:
        """One SGD step on the whole batch; returns the loss before the update."""
        (w1, b1), (w2, b2), (w3, b3) = self.layers
        n = x.shape[0]
        h1 = x @ w1.T + b1
        a1 = np.maximum(h1, 0.0)
        h2 = a1 @ w2.T + b2
        a2 = np.maximum(h2, 0.0)
        s = (a2 @ w3.T + b3)[:, 0]
        margin = 1.0 - y * s
        reg = sum(float((w * w).sum() + (b * b).sum()) for w, b in self.layers)
        loss = float(np.maximum(margin, 0.0).mean()) + self.alpha * reg
        # Backward, by hand: d loss / d s_i = -y_i [margin_i > 0] / n.
        ds = np.where(margin > 0.0, -y, 0.0) / n
        dh3 = ds[:, None]
        gw3, gb3 = dh3.T @ a2, dh3.sum(axis=0)
        dh2 = (dh3 @ w3) * (h2 > 0.0)
        gw2, gb2 = dh2.T @ a1, dh2.sum(axis=0)
        dh1 = (dh2 @ w2) * (h1 > 0.0)
        gw1, gb1 = dh1.T @ x, dh1.sum(axis=0)
        two_a = 2.0 * self.alpha
        for (w, b), gw, gb in zip(self.layers, (gw1, gw2, gw3), (gb1, gb2, gb3)):
            w -= lr * (gw + two_a * w)
            b -= lr * (gb + two_a * b)
        return loss


class DenseClassifier:
    """An MLP with relu hidden layers and a linear output as weight matrices, trained with SGD
    on the softmax cross-entropy of integer class labels.

    Loss: mean_i [log sum_k e^(s_ik) - s_i,c_i] + alpha * (sum of every parameter^2), computed
    with the row max subtracted (as ``nn.losses.softmax_ce``).
    """

    def __init__(self, weights: list[tuple[Any, Any]], alpha: float) -> None:
        self.layers = [(np.array(w, dtype=np.float64), np.array(b, dtype=np.float64))
                       for w, b in weights]
        self.alpha = alpha

    def step(self, x: Any, labels: Any, lr: float) -> float:
        """One SGD step on the whole batch; returns the loss before the update."""
        n = x.shape[0]
        inputs, pre = [x], []
        h = x
        for i, (w, b) in enumerate(self.layers):
            a = h @ w.T + b
            pre.append(a)
            h = np.maximum(a, 0.0) if i < len(self.layers) - 1 else a
            inputs.append(h)
        rows = np.arange(n)
        m = h.max(axis=1, keepdims=True)
        e = np.exp(h - m)
        z = e.sum(axis=1, keepdims=True)
        reg = sum(float((w * w).sum() + (b * b).sum()) for w, b in self.layers)
        loss = float((np.log(z[:, 0]) + m[:, 0] - h[rows, labels]).mean()) + self.alpha * reg
        # Backward, by hand: d loss / d s_ik = (softmax_ik - [k = c_i]) / n.
        d = e / z
        d[rows, labels] -= 1.0
        d /= n
        grads = []
        for i in range(len(self.layers) - 1, -1, -1):
            w = self.layers[i][0]
            grads.append((d.T @ inputs[i], d.sum(axis=0)))
            if i:
                d = (d @ w) * (pre[i - 1] > 0.0)
        two_a = 2.0 * self.alpha
        for (w, b), (gw, gb) in zip(self.layers, reversed(grads)):
            w -= lr * (gw + two_a * w)
            b -= lr * (gb + two_a * b)
        return loss


def dag(recipe: list[tuple[int, int, int]], leaves: Any) -> Any:
    """The random DAG, one numpy call per node over a batch of leaf values (rows: leaves).

    Returns d root / d leaves, shape like ``leaves``: the naive vectorisation a compiled tape
    improves on by grouping nodes of one op and level.
    """
    vals = list(leaves)
    for op, a, b in recipe:
        x = vals[a]
        if op == 0:
            vals.append(x + vals[b])
        elif op == 1:
            vals.append(x * vals[b])
        elif op == 2:
            vals.append(np.tanh(x))
        else:
            vals.append(np.exp(x))
    grads: list[Any] = [None] * len(vals)
    grads[-1] = np.ones_like(vals[-1])
    n_leaves = len(leaves)
    for i in range(len(vals) - 1, n_leaves - 1, -1):
        g = grads[i]
        if g is None:
            continue
        op, a, b = recipe[i - n_leaves]
        if op == 0:
            da, db = g, g
        elif op == 1:
            da, db = g * vals[b], g * vals[a]
        elif op == 2:
            da, db = g * (1.0 - vals[i] * vals[i]), None
        else:
            da, db = g * vals[i], None
        grads[a] = da if grads[a] is None else grads[a] + da
        if db is not None:
            grads[b] = db if grads[b] is None else grads[b] + db
    return np.array([g if g is not None else np.zeros_like(vals[0]) for g in grads[:n_leaves]])


def chain(x: Any, depth: int) -> Any:
    """d/dx of tanh applied ``depth`` times, elementwise over a batch."""
    ys = [x]
    for _ in range(depth):
        ys.append(np.tanh(ys[-1]))
    g = np.ones_like(x)
    for y in reversed(ys[1:]):
        g = g * (1.0 - y * y)
    return g


def wide_sum(x: Any, w: Any) -> Any:
    """sum_i w_i x_i per example (rows of x), and the gradient summed over the batch."""
    return x @ w, x.sum(axis=0)
