"""One eager workload, 8 untimed runs then n more: for counting instructions, which a busy
machine does not change (the difference between two n, divided, is one run's cost)::

    valgrind --tool=callgrind python benchmarks/steady_state.py moons 1   # then with 3
    valgrind --tool=callgrind python benchmarks/steady_state.py dag 1

``moons``: micrograd's demo step (MLP 2-16-16-1, 100 points, hinge + L2, backward, SGD), as
``benchmarks/run.py`` times it. ``dag``: a random graph of 5,200 nodes over + * tanh exp, built
and backpropagated.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograd import Value
from nn.data import moons
from nn.layers import MLP
from nn.losses import hinge, l2


def moons_step() -> Callable[[], None]:
    ds = moons(100, noise=0.1, seed=0)
    xs, ys = ds.xs, ds.targets("hinge")
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    params = model.parameters()

    def run() -> None:
        losses = [hinge(model(x), t) for x, t in zip(xs, ys)]
        total = Value.sum(losses) * (1.0 / len(xs)) + 1e-4 * l2(params)
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= 0.01 * p.grad

    return run


def dag() -> Callable[[], None]:
    rng = random.Random(0)
    leaves = [rng.uniform(-1, 1) for _ in range(200)]
    recipe = []
    for i in range(5000):
        n = len(leaves) + i
        recipe.append((rng.randrange(4), rng.randrange(n), rng.randrange(n)))

    def run() -> None:
        nodes = [Value(x) for x in leaves]
        for op, a, b in recipe:
            x = nodes[a]
            if op == 0:
                nodes.append(x + nodes[b])
            elif op == 1:
                nodes.append(x * nodes[b])
            elif op == 2:
                nodes.append(x.tanh())
            else:
                nodes.append(x.tanh().exp())  # bounded: no overflow to inf
        nodes[-1].backward()

    return run


if __name__ == "__main__":
    workload, n = sys.argv[1], int(sys.argv[2])
    run = moons_step() if workload == "moons" else dag()
    for _ in range(8 + n):
        run()
