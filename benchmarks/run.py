"""edgegrad's speed, side by side with micrograd==0.1.0 and hand-written numpy, in one run.

    .venv/bin/python benchmarks/run.py            (or: make bench)
    .venv/bin/python benchmarks/run.py --quick    (smaller sizes, fewer repeats)

For every workload it prints the eager engine, the compiled tape (autograd.tape, replayed
over a batch with numpy), micrograd and a dense numpy version, and the ratios; then the
compiled tape at scale (batches of 100 to 10,000, a wider classifier, fit(compiled=True),
PyTorch when it is installed) and how long tracing a big MLP takes. The garbage collector
stays on, as users run it; ``gc.collect()`` runs between engines (never inside a timed
region) so no engine pays for another's garbage. Times are medians of repeats; every engine
runs on one thread.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from typing import Any

# One thread for every engine: numpy's BLAS (the dense reference's matrix products and the
# tape's) as PyTorch's (torch_dense.py). Set before numpy loads; on a shared machine, threads
# that fight over the cores made a 64 x 64 matrix product ten times slower, at random.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import numpy as np  # noqa: E402

# The repository root, so the engine imports even without `pip install -e .`.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dense  # noqa: E402  (benchmarks/dense.py: the script's own folder is on sys.path)

from autograd import Value  # noqa: E402
from autograd.compiled.tape import trace  # noqa: E402
from nn.compiled.trainer import trace_objective  # noqa: E402

try:
    from micrograd.engine import Value as MgValue
    from micrograd.nn import MLP as MgMLP
except ImportError:  # pragma: no cover - the Makefile installs it
    sys.exit("the benchmark compares with micrograd: .venv/bin/pip install micrograd==0.1.0")


def _mg_tanh(self: Any) -> Any:
    t = math.tanh(self.data)
    out = MgValue(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t * t) * out.grad
    out._backward = _backward
    return out


def _mg_exp(self: Any) -> Any:
    e = math.exp(self.data)
    out = MgValue(e, (self,), "exp")

    def _backward() -> None:
        self.grad += e * out.grad
    out._backward = _backward
    return out


# micrograd 0.1.0 has only + * ** relu: tanh and exp are added in its own closure style (as in
# its lecture version), so the DAG and chain workloads can run on it.
MgValue.tanh = _mg_tanh
MgValue.exp = _mg_exp

ALPHA = 1e-4  # micrograd demo's L2 coefficient
LR = 0.05


def median_time(fn: Callable[[], Any], reps: int, warmup: int = 8) -> float:
    """Median wall time of ``fn()`` over ``reps`` runs, after ``warmup`` untimed runs.

    Eight warm-up runs, because CPython 3.11 specializes a function's bytecode only from its
    eighth call: a backward pass is one call per step, and its first seven run at about half
    speed. Every engine is measured in that steady state, as a training loop runs it.

    The collector is cleared before the series (not between runs: an engine that makes
    cyclic garbage pays for collecting it during its own later runs, as in real use).
    """
    for _ in range(warmup):
        fn()
    gc.collect()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    result = statistics.median(times)
    gc.collect()
    return result


def _count(root: Any) -> int:
    """Nodes reachable from ``root`` in either engine (``parents`` here, ``_prev`` there)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for p in getattr(node, "parents", None) or getattr(node, "_prev", ()):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def _traced(build: Callable[[], Any]) -> tuple[int, Any]:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = build()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used, kept


def graph_bytes(build: Callable[[], Any]) -> float:
    """Bytes per node held by the graph ``build()`` returns (built and backpropagated)."""
    used, root = _traced(build)
    nodes = _count(root)
    del root
    gc.collect()
    return used / nodes


def tape_bytes(build: Callable[[], Any], nodes: int) -> float:
    """Bytes per node of the traced graphs (``nodes`` of them) held by the tapes ``build()``
    returns, with their replay plans made."""
    def go() -> Any:
        tapes = build()
        for t in tapes:
            t._replay.plan(False)
        gc.collect()  # empties the free lists, which keep the trace's temporary tuples
        return tapes
    used, _ = _traced(go)
    return used / nodes


# ---------------------------------------------------------------------------------------------
# Workload 1: micrograd's demo training step (MLP 2-16-16-1, 100 moons, hinge + L2, SGD).

def moons_data(n: int) -> tuple[list[list[float]], list[float]]:
    try:
        from nn.data import moons

        ds = moons(n, noise=0.1, seed=0)
        return ds.xs, ds.targets("hinge")
    except ImportError:  # nn not built yet: the same shape of data, generated here
        rng = random.Random(0)
        xs, ys = [], []
        for i in range(n):
            t = 3.14159 * rng.random()
            if i % 2:
                xs.append([1 - np.cos(t) + rng.gauss(0, 0.1), 0.5 - np.sin(t) + rng.gauss(0, 0.1)])
                ys.append(1.0)
            else:
                xs.append([np.cos(t) + rng.gauss(0, 0.1), np.sin(t) + rng.gauss(0, 0.1)])
                ys.append(-1.0)
        return xs, ys


def make_model() -> tuple[Any, Callable[[list[Value], Any], Value], Callable[[Any], Value]]:
    """edgegrad's MLP 2-16-16-1 (nn when it exists), the hinge loss and the L2 penalty."""
    from nn.layers import MLP
    from nn.losses import hinge, l2

    return MLP(2, [16, 16, 1], activation="relu", seed=0), hinge, l2


def eager_sgd_step(model: Any, loss: Callable[[Any, Any], Value], xs: list[Any], ys: list[Any],
                   l2: Callable[[Any], Value]) -> Callable[[], float]:
    """One eager SGD step on the whole batch: mean loss + ALPHA * L2, backward, update."""
    params = model.parameters()
    n = len(xs)

    def step() -> float:
        losses = [loss(model(x), t) for x, t in zip(xs, ys)]
        total = Value.sum(losses) * (1.0 / n) + ALPHA * l2(params)
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= LR * p.grad
        return total.data

    return step


def bench_moons(reps: int, mg_reps: int) -> dict[str, Any]:
    xs, ys = moons_data(100)
    n = len(xs)
    model, hinge, l2 = make_model()
    params = model.parameters()
    eager_step = eager_sgd_step(model, hinge, xs, ys, l2)

    # The compiled objective: one example traced, mean and L2 as a batch-level program.
    t0 = time.perf_counter()
    xv = [Value(0.0, "x0"), Value(0.0, "x1")]
    tv = Value(1.0, "t")
    s_leaf, n_leaf = Value(0.0, "S"), Value(1.0, "n")
    obj = trace_objective(hinge(model(xv), tv), [*xv, tv], params,
                          total=s_leaf / n_leaf + ALPHA * l2(params),
                          batch_sum=s_leaf, batch_size=n_leaf)
    batch = np.column_stack([np.asarray(xs), np.asarray(ys)])
    theta = np.array([p.data for p in params])
    obj.loss_and_grads(batch, theta)  # builds the replay plan once
    trace_ms = (time.perf_counter() - t0) * 1e3

    def compiled_step() -> float:
        loss, grads, _ = obj.loss_and_grads(batch, theta)
        theta[:] -= LR * grads
        return loss

    mg = MgMLP(2, [16, 16, 1])
    for p, q in zip(mg.parameters(), params):
        p.data = q.data
    mx = [[MgValue(a) for a in x] for x in xs]

    def micrograd_step() -> float:
        scores = [mg(x) for x in mx]
        losses = [(1 + -y * s).relu() for y, s in zip(ys, scores)]
        total = sum(losses) * (1.0 / n) + ALPHA * sum(p * p for p in mg.parameters())
        mg.zero_grad()
        total.backward()
        for p in mg.parameters():
            p.data -= LR * p.grad
        return float(total.data)

    weights = []
    for layer in model.layers:
        weights.append(([[w.data for w in nr.w] for nr in layer.neurons],
                        [nr.b.data for nr in layer.neurons]))
    ref = dense.DenseMLP(weights, ALPHA)
    nx, ny = np.asarray(xs), np.asarray(ys)

    def numpy_step() -> float:
        return ref.step(nx, ny, LR)

    # Same parameters, same loss: the four steps compute one thing (checked before timing).
    first = {"eager": eager_step(), "compiled": compiled_step(), "micrograd": micrograd_step(),
             "numpy": numpy_step()}
    agree = max(first.values()) - min(first.values()) <= 1e-12 * abs(first["numpy"])

    def eager_graph() -> Any:
        total = Value.sum([hinge(model(x), t) for x, t in zip(xs, ys)]) * (1.0 / n)
        total = total + ALPHA * l2(params)
        total.backward()
        return total

    def micrograd_graph() -> Any:
        losses = [(1 + -y * mg(x)).relu() for y, x in zip(ys, mx)]
        total = sum(losses) * (1.0 / n) + ALPHA * sum(p * p for p in mg.parameters())
        total.backward()
        return total

    def tapes() -> Any:
        o = trace_objective(hinge(model(xv), tv), [*xv, tv], params,
                            total=s_leaf / n_leaf + ALPHA * l2(params),
                            batch_sum=s_leaf, batch_size=n_leaf)
        return [o.example, o.total]

    nodes = _count(eager_graph())
    traced_nodes = _count(hinge(model(xv), tv)) + _count(s_leaf / n_leaf + ALPHA * l2(params))
    mg_nodes = _count(micrograd_graph())
    memory = (graph_bytes(eager_graph), tape_bytes(tapes, traced_nodes),
              graph_bytes(micrograd_graph))

    return {
        "name": f"moons step: MLP 2-16-16-1, {n} points",
        "unit": "ms/step", "scale": 1e3,
        "eager": median_time(eager_step, reps),
        "compiled": median_time(compiled_step, reps * 20),
        "micrograd": median_time(micrograd_step, mg_reps),
        "numpy": median_time(numpy_step, reps * 20),
        "bytes": memory, "agree": agree,
        "note": f"{nodes:,} nodes per step ({mg_nodes:,} in micrograd, whose sums are chains of "
                f"adds); compiled: traced once in {trace_ms:.0f} ms",
    }


# ---------------------------------------------------------------------------------------------
# Workload 2: a random DAG over + * tanh exp.

def dag_recipe(n_leaves: int, n_ops: int, seed: int = 0
               ) -> tuple[list[float], list[tuple[int, int, int]]]:
    """Leaves and steps (op, a, b): op 0 add, 1 mul, 2 tanh, 3 exp (b unused for unary).

    Each step consumes the oldest unused node (so every node reaches the root) and a random
    earlier one; an op is kept only if its value stays within [-4, 4] (tanh always does), so
    nothing overflows. The last nodes are added pairwise into one root.
    """
    rng = random.Random(seed)
    vals = [rng.uniform(-1.0, 1.0) for _ in range(n_leaves)]
    recipe: list[tuple[int, int, int]] = []
    unused = deque(range(n_leaves))

    def push(op: int, a: int, b: int, y: float) -> None:
        recipe.append((op, a, b))
        vals.append(y)
        unused.append(len(vals) - 1)

    for _ in range(n_ops):
        a = unused.popleft()
        b = rng.randrange(len(vals))
        for op in rng.sample([0, 1, 2, 3], 4):
            x, z = vals[a], vals[b]
            y = (x + z, x * z, float(np.tanh(x)), float(np.exp(x)))[op]
            if abs(y) <= 4.0:
                break
        push(op, a, b, y)
    while len(unused) > 1:
        a, b = unused.popleft(), unused.popleft()
        push(0, a, b, vals[a] + vals[b])
    return vals[:n_leaves], recipe


def build_dag(make: Callable[[float], Any], leaves: list[float],
              recipe: list[tuple[int, int, int]]) -> tuple[list[Any], Any]:
    inputs = [make(x) for x in leaves]
    nodes = list(inputs)
    for op, a, b in recipe:
        x = nodes[a]
        if op == 0:
            nodes.append(x + nodes[b])
        elif op == 1:
            nodes.append(x * nodes[b])
        elif op == 2:
            nodes.append(x.tanh())
        else:
            nodes.append(x.exp())
    return inputs, nodes[-1]


def bench_dag(reps: int, n_ops: int, batch: int) -> dict[str, Any]:
    leaves, recipe = dag_recipe(200, n_ops)
    nodes = len(leaves) + len(recipe)

    def run(make: Callable[[float], Any]) -> Callable[[], Any]:
        def go() -> Any:
            _, root = build_dag(make, leaves, recipe)
            root.backward()
            return root
        return go

    # The engines first, with nothing else alive (a live graph makes every collection slower).
    eager = median_time(run(Value), reps) / nodes
    micrograd = median_time(run(MgValue), reps) / nodes
    memory = [graph_bytes(run(Value)), 0.0, graph_bytes(run(MgValue))]

    inputs, root = build_dag(Value, leaves, recipe)
    tape = trace([root], inputs)
    rng = np.random.default_rng(0)
    xb = np.asarray(leaves)[None, :] + 1e-3 * rng.standard_normal((batch, len(leaves)))

    def compiled() -> Any:
        return tape.backward(tape.forward(xb), wrt_inputs=True)

    g_tape = compiled().inputs
    g_dense = dense.dag(recipe, xb.T).T
    root.backward()
    agree = bool(np.allclose(g_tape, g_dense, rtol=1e-10, atol=1e-12))
    eager_g = np.array([v.grad for v in inputs])
    agree &= bool(np.allclose(eager_g, dense.dag(recipe, np.asarray(leaves)[:, None])[:, 0],
                              rtol=1e-10, atol=1e-12))

    def numpy_dag() -> Any:
        return dense.dag(recipe, xb.T)

    return {
        "name": f"random DAG over + * tanh exp, {nodes:,} nodes",
        "unit": "ns/node", "scale": 1e9,
        "eager": eager,
        "compiled": median_time(compiled, reps) / (nodes * batch),
        "micrograd": micrograd,
        "numpy": median_time(numpy_dag, reps) / (nodes * batch),
        "bytes": (memory[0], tape_bytes(lambda: [trace([root], inputs)], nodes), memory[2]),
        "agree": agree,
        "note": f"build + backward, depth {tape.depth}; compiled and numpy over a batch of "
                f"{batch} (time per node and example)",
    }


# ---------------------------------------------------------------------------------------------
# Workloads 3 and 4: a deep chain and a wide sum.

def bench_chain(reps: int, depth: int, batch: int) -> dict[str, Any]:
    def run(make: Callable[[float], Any]) -> Callable[[], Any]:
        def go() -> Any:
            x = make(0.5)
            y = x
            for _ in range(depth):
                y = y.tanh()
            y.backward()
            return y
        return go

    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = y.tanh()
    tape = trace([y], [x])
    xb = np.linspace(-1.0, 1.0, batch)[:, None]

    def compiled() -> Any:
        return tape.backward(tape.forward(xb), wrt_inputs=True)

    agree = bool(np.allclose(compiled().inputs[:, 0], dense.chain(xb[:, 0], depth), rtol=1e-12))
    return {
        "name": f"chain of tanh, depth {depth}",
        "unit": "ns/node", "scale": 1e9,
        "eager": median_time(run(Value), reps) / depth,
        "compiled": median_time(compiled, reps) / (depth * batch),
        "micrograd": median_time(run(MgValue), reps) / depth,
        "numpy": median_time(lambda: dense.chain(xb[:, 0], depth), reps) / (depth * batch),
        "bytes": (graph_bytes(run(Value)), tape_bytes(lambda: [trace([y], [x])], depth + 1),
                  graph_bytes(run(MgValue))),
        "agree": agree,
        "note": f"build + backward; compiled and numpy over a batch of {batch} (time per node "
                f"and example); the compiled replay is depth-bound here (one step per level)",
    }


def bench_sum(reps: int, width: int, batch: int) -> dict[str, Any]:
    rng = random.Random(1)
    xs = [rng.uniform(-1, 1) for _ in range(width)]
    ws = [rng.uniform(-1, 1) for _ in range(width)]

    def eager() -> Any:
        w = [Value(v) for v in ws]
        y = Value.sum([wi * xi for wi, xi in zip(w, xs)])
        y.backward()
        return y

    def micrograd() -> Any:
        w = [MgValue(v) for v in ws]
        y = sum(wi * xi for wi, xi in zip(w, xs))
        y.backward()
        return y

    w = [Value(v) for v in ws]
    xv = [Value(v) for v in xs]
    tape = trace([Value.sum([wi * xi for wi, xi in zip(w, xv)])], xv, w)
    xb = np.asarray(xs)[None, :] + 0.1 * np.random.default_rng(0).standard_normal((batch, width))
    wb = np.asarray(ws)

    def compiled() -> Any:
        return tape.backward(tape.forward(xb, wb)).params

    agree = bool(np.allclose(compiled(), dense.wide_sum(xb, wb)[1], rtol=1e-12))
    return {
        "name": f"wide sum of {width} products w_i * x_i",
        "unit": "ns/term", "scale": 1e9,
        "eager": median_time(eager, reps) / width,
        "compiled": median_time(compiled, reps) / (width * batch),
        "micrograd": median_time(micrograd, reps) / width,
        "numpy": median_time(lambda: dense.wide_sum(xb, wb), reps) / (width * batch),
        "bytes": (graph_bytes(eager),
                  tape_bytes(lambda: [trace([Value.sum([wi * xi for wi, xi in zip(w, xv)])], xv,
                                            w)], 3 * width + 1),
                  graph_bytes(micrograd)),
        "agree": agree,
        "note": f"edgegrad: one n-ary sum node; micrograd: a chain of {width - 1} adds "
                f"(and a depth micrograd's recursion allows)",
    }


# ---------------------------------------------------------------------------------------------
# Workload 5: the compiled tape at scale. The moons step at batch 100, 1,000 and 10,000, and a
# wider classifier, on every engine that finishes in reasonable time, and through the door
# users take: fit(compiled=True), full batch, 100 epochs, no progress bar.

SCALE_BATCHES = (100, 1_000, 10_000)
CLASSES = 10


def scale_workload(kind: str, n: int) -> dict[str, Any]:
    """The data, model and loss of one row of the scale table."""
    from nn.data import blobs, moons
    from nn.layers import MLP
    from nn.losses import LOSSES

    if kind == "moons":
        data = moons(n, noise=0.1, seed=0)
        make = lambda: MLP(2, [16, 16, 1], activation="relu", seed=0)
        return {"name": "moons MLP 2-16-16-1, hinge", "xs": data.xs, "ys": data.targets("hinge"),
                "make": make, "loss": "hinge", "fn": LOSSES["hinge"]}
    data = blobs(n, centers=CLASSES, std=0.6, seed=0)
    make = lambda: MLP(2, [64, 64, CLASSES], activation="relu", seed=0)
    return {"name": "classifier 2-64-64-10, softmax CE", "xs": data.xs, "ys": data.labels,
            "make": make, "loss": "softmax_ce", "fn": LOSSES["softmax_ce"]}


def _weights(model: Any) -> list[tuple[Any, Any]]:
    return [([[w.data for w in nr.w] for nr in layer.neurons], [nr.b.data for nr in layer.neurons])
            for layer in model.layers]


def time_fit(w: dict[str, Any], epochs: int, reps: int) -> tuple[float, float, float]:
    """(seconds per step, seconds of set-up, first step's loss) of fit(compiled=True), full
    batch, no progress bar, from a fresh model each time; the set-up is fit with 0 epochs."""
    import nn

    def run(epochs: int) -> tuple[float, Any]:
        model = w["make"]()
        gc.collect()
        t0 = time.perf_counter()
        h = nn.fit(model, w["xs"], w["ys"], loss=w["loss"], lr=LR, l2=ALPHA, epochs=epochs,
                   progress=False, compiled=True)
        secs = time.perf_counter() - t0
        assert h.compiled, "fit fell back to the eager engine"
        return secs, h

    run(2)  # warm up
    setup = statistics.median(run(0)[0] for _ in range(reps))
    times, first = [], math.nan
    for _ in range(reps):
        secs, h = run(epochs)
        times.append(secs / epochs)
        first = h.step_loss[0]
    return statistics.median(times), setup, first


def bench_scale(kind: str, n: int, reps: int, moons_row: dict[str, Any] | None,
                fit_epochs: int) -> dict[str, Any]:
    import torch_dense

    w = scale_workload(kind, n)
    model = w["make"]()
    params = model.parameters()
    nin = len(w["xs"][0])
    from nn.losses import l2

    # The raw tape: one example traced (its target an input: softmax_ce's class index too),
    # the mean and the L2 penalty as a batch program, replayed by trace_objective.
    xv = [Value(0.0, f"x{i}") for i in range(nin)]
    tv = Value(1.0, "t")
    example = w["fn"](model(xv), tv)
    s_leaf, n_leaf = Value(0.0, "S"), Value(1.0, "n")
    obj = trace_objective(example, [*xv, tv], params, total=s_leaf / n_leaf + ALPHA * l2(params),
                          batch_sum=s_leaf, batch_size=n_leaf)
    batch = np.column_stack([np.asarray(w["xs"]), np.asarray(w["ys"], dtype=np.float64)])
    theta = np.array([p.data for p in params])

    def compiled_step() -> float:
        loss, grads, _ = obj.loss_and_grads(batch, theta)
        theta[:] -= LR * grads
        return loss

    weights = _weights(model)
    x, y = np.asarray(w["xs"]), np.asarray(w["ys"])
    ref = (dense.DenseMLP(weights, ALPHA) if kind == "moons"
           else dense.DenseClassifier(weights, ALPHA))

    def numpy_step() -> float:
        return ref.step(x, y, LR)

    first = {"compiled": compiled_step(), "numpy": numpy_step()}
    torch_step = None
    if torch_dense.available():
        torch_step = torch_dense.make_step(weights, w["loss"], ALPHA, w["xs"], w["ys"], LR)
        first["torch"] = torch_step()

    eager = None
    if (kind == "moons" and n <= 1_000) or n <= 100:
        if kind == "moons" and n == 100 and moons_row is not None:
            eager = moons_row["eager"]  # the same step as workload 1: measured there
        else:
            eager_step = eager_sgd_step(w["make"](), w["fn"], w["xs"], w["ys"], l2)
            first["eager"] = eager_step()
            eager = median_time(eager_step, 1 if n > 100 else max(1, reps // 2), warmup=0)
    fit_step, fit_setup, first["fit"] = time_fit(w, fit_epochs, 3)
    agree = max(first.values()) - min(first.values()) <= 1e-12 * abs(first["numpy"])
    big = 20 if n >= 10_000 else 1
    return {
        "name": w["name"], "batch": n, "eager": eager,
        "micrograd": moons_row["micrograd"] if moons_row is not None and n == 100 else None,
        "numpy": median_time(numpy_step, max(3, reps * 20 // big)),
        "torch": median_time(torch_step, max(3, reps * 20 // big)) if torch_step else None,
        "compiled": median_time(compiled_step, max(3, reps * 20 // big)),
        "fit": fit_step, "setup": fit_setup, "epochs": fit_epochs, "agree": agree,
    }


def bench_tracing() -> list[dict[str, Any]]:
    """How long building and tracing one example's graph takes, per node, for two MLPs."""
    from autograd.compiled.tape import trace
    from nn.layers import MLP
    from nn.losses import LOSSES

    rows = []
    for sizes in ((64, 64, 10), (784, 128, 10)):
        model = MLP(sizes[0], list(sizes[1:]), seed=0)
        params = model.parameters()
        gc.collect()
        t0 = time.perf_counter()
        xv = [Value(0.0, f"x{i}") for i in range(sizes[0])]
        tv = Value(0.0, "t")
        loss = LOSSES["softmax_ce"](model(xv), tv)
        build = time.perf_counter() - t0
        nodes = _count(loss)
        gc.collect()
        t0 = time.perf_counter()
        tape = trace([loss], [*xv, tv], params)
        secs = time.perf_counter() - t0
        del tape
        gc.collect()
        tracemalloc.start()
        tape = trace([loss], [*xv, tv], params)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        t0 = time.perf_counter()
        tape.forward(np.zeros((1, tape.n_inputs)), [p.data for p in params])  # the replay plan
        plan = time.perf_counter() - t0
        rows.append({"name": "MLP " + "-".join(map(str, sizes)) + ", softmax CE",
                     "nodes": nodes, "build": build, "trace": secs, "plan": plan,
                     "peak": peak, "steps": len(tape.steps), "params": len(params)})
        del tape, loss
    return rows


def deepest(depths: list[int]) -> dict[str, Any]:
    """Build + backward a tanh chain at the default recursion limit: how deep does each go?"""
    out: dict[str, Any] = {"limit": sys.getrecursionlimit()}
    for name, make in (("edgegrad", Value), ("micrograd", MgValue)):
        reached, failed = 0, None
        for d in depths:
            gc.collect()
            x = make(0.5)
            y = x
            try:
                t0 = time.perf_counter()
                for _ in range(d):
                    y = y.tanh()
                y.backward()
                secs = time.perf_counter() - t0
                reached = d
                out[name + "_time"] = secs
            except RecursionError:
                failed = d
                break
            finally:
                del x, y
                gc.collect()
        out[name] = (reached, failed)
    return out


# ---------------------------------------------------------------------------------------------

def fmt(v: float | None, scale: float) -> str:
    if v is None:
        return "—"
    x = v * scale
    return f"{x:.4g}" if x < 1000 else f"{x:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:,.1f}x"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores, load {load:.1f}; {platform.system()}; "
            f"Python {platform.python_version()}; numpy {np.__version__}; micrograd 0.1.0; "
            f"gc on")


def print_scale(moons_row: dict[str, Any], q: bool) -> None:
    import torch_dense

    version = torch_dense.available()
    batches = (100, 1_000) if q else SCALE_BATCHES
    print("\nthe compiled tape at scale: one SGD step (forward over the batch, mean loss + 1e-4 *"
          " L2,\nbackward, update), ms per step. tape: trace_objective replayed (the target, "
          "class index\nincluded, an input); fit: nn.fit(compiled=True), full batch, no progress "
          "bar, its set-up\n(tracing, arrays) included, over the epochs shown; torch: "
          + (f"{version}, float64, one thread" if version else "not installed (column empty)"))
    head = (f"{'workload':<34} {'batch':>6} {'eager':>8} {'microgr':>8} {'numpy':>7} "
            f"{'torch':>7} {'tape':>7} {'fit':>7} | {'tape':>6} {'fit':>6} | {'torch':>6} "
            f"| {'fit set-up':>10}")
    print(f"{'':<34} {'':>6} {'':>8} {'':>8} {'':>7} {'':>7} {'':>7} {'':>7} | "
          f"{'x numpy':>13} | {'/tape':>6} |")
    print(head)
    print("-" * len(head))
    agree = True
    for kind in ("moons", "classifier"):
        for n in batches:
            epochs = 20 if kind == "classifier" and n >= 10_000 else 100
            r = bench_scale(kind, n, 3 if q else 7, moons_row if kind == "moons" else None,
                            epochs)
            agree &= r["agree"]
            print(f"{r['name']:<34} {n:>6,} {fmt(r['eager'], 1e3):>8} "
                  f"{fmt(r['micrograd'], 1e3):>8} {fmt(r['numpy'], 1e3):>7} "
                  f"{fmt(r['torch'], 1e3):>7} {fmt(r['compiled'], 1e3):>7} "
                  f"{fmt(r['fit'], 1e3):>7} | {ratio(r['compiled'], r['numpy']):>6} "
                  f"{ratio(r['fit'], r['numpy']):>6} | {ratio(r['torch'], r['compiled']):>6} | "
                  f"{r['setup'] * 1e3:>7.1f} ms" + ("" if r["epochs"] == 100 else
                                                    f" ({r['epochs']} epochs)"))
    print(f"first-step losses of every engine agree to 1e-12: {'yes' if agree else 'NO'}")
    print("\ntracing one example's graph (softmax CE, the class an input), fused:")
    print(f"{'model':<30} {'nodes':>8} {'build':>9} {'trace':>9} {'per node':>9} "
          f"{'replay plan':>11} {'peak memory':>11} {'steps':>6}")
    for t in bench_tracing():
        print(f"{t['name']:<30} {t['nodes']:>8,} {t['build'] * 1e3:>7.0f} ms "
              f"{t['trace'] * 1e3:>6.0f} ms {t['trace'] / t['nodes'] * 1e6:>6.2f} us "
              f"{t['plan'] * 1e3:>8.0f} ms {t['peak'] / 2**20:>8.0f} MB {t['steps']:>6,}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller workloads, fewer repeats")
    args = ap.parse_args(argv)
    q = args.quick
    reps = 3 if q else 7
    print(f"machine: {machine()}")
    print("timing: median of repeats, gc on, gc.collect() between engines; moons: forward over\n"
          "the 100 points, mean hinge loss + 1e-4 * L2, backward, SGD update\n")
    rows = [
        bench_moons(reps, 1 if q else 3),
        bench_dag(reps, 2_000 if q else 20_000, 64 if q else 256),
        bench_chain(reps, 500, 1000),
        bench_sum(reps, 500, 1000),
    ]
    w = max(len(r["name"]) for r in rows)
    head = (f"{'workload':<{w}}  {'unit':<8} {'eager':>8} {'compiled':>9} {'micrograd':>10} "
            f"{'numpy':>8} | {'eager':>7} {'compiled':>9} | {'compiled':>9}")
    print(f"{'':<{w}}  {'':<8} {'':>8} {'':>9} {'':>10} {'':>8} | {'x faster than mg':>17} | "
          f"{'x numpy':>9}")
    print(head)
    print("-" * len(head))
    for r in rows:
        s = r["scale"]
        print(f"{r['name']:<{w}}  {r['unit']:<8} {fmt(r['eager'], s):>8} "
              f"{fmt(r['compiled'], s):>9} {fmt(r['micrograd'], s):>10} {fmt(r['numpy'], s):>8} | "
              f"{ratio(r['micrograd'], r['eager']):>7} {ratio(r['micrograd'], r['compiled']):>9} | "
              f"{ratio(r['compiled'], r['numpy']):>9}")
    print("\nbytes per node (tracemalloc; the graph alive after backward; compiled: the tape and")
    print("its replay plan per node of the graph traced, plus 16 bytes per row of values and")
    print("grads, and 8 per gathered operand, per example while replaying)")
    print(f"{'workload':<{w}}  {'eager':>8} {'compiled':>9} {'micrograd':>10} {'numpy':>8}")
    for r in rows:
        e, c, mg = r["bytes"]
        print(f"{r['name']:<{w}}  {e:>8.0f} {c:>9.0f} {mg:>10.0f} {'—':>8}")
    print()
    for r in rows:
        print(f"- {r['name']}: {r['note']}; all engines agree: {'yes' if r['agree'] else 'NO'}")
    deep = deepest([500, 1_000, 10_000, 100_000, 1_000_000] if not q else [500, 1_000, 100_000])
    print(f"\ndeepest tanh chain, build + backward, default recursion limit {deep['limit']}:")
    for name in ("edgegrad", "micrograd"):
        reached, failed = deep[name]
        t = deep.get(name + "_time")
        msg = f"  {name:<10} reached depth {reached:,}"
        if t is not None and reached:
            msg += f" ({t:.2f} s)"
        if failed:
            msg += f"; RecursionError at depth {failed:,}"
        print(msg)
    print_scale(rows[0], q)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
