"""The compiled tape: trace a graph once into a flat program, replay it over a batch with numpy.

``trace(outputs, inputs, params)`` walks a graph of Values (iteratively) and writes it down as
a program of steps, each ``%out = op %arg1 %arg2 ...`` with an op from the primitive table
(``autograd.program``). ``str(tape)`` is that program as text. ``tape.forward(xs, params)``
evaluates it for a whole batch at once and ``tape.backward(run)`` returns the parameter
gradients summed over the batch, both with the table's own rules on numpy arrays
(``autograd.replay``). Tracing needs no numpy; replaying does (``pip install 'edgegrad[fast]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .program import Program, Step
from .replay import Gradients, Replay, Run, TapeDomainError
from .value import Value

__all__ = ["Gradients", "Run", "Step", "Tape", "TapeDomainError", "trace"]


class Tape(Program):
    """A traced program that replays over a batch: ``forward`` gives a Run, ``backward`` its
    Gradients (see ``autograd.replay``)."""

    def __init__(self, input_labels: list[str], param_labels: list[str], consts: list[float],
                 steps: list[Step], outputs: list[int]) -> None:
        super().__init__(input_labels, param_labels, consts, steps, outputs)
        self._replay = Replay(self)

    def forward(self, inputs: Any, params: Any = ()) -> Run:
        """Evaluate the program on a batch of inputs, one row per example (``Replay.forward``)."""
        return self._replay.forward(inputs, params)

    def backward(self, run: Run, seed: Any = None, wrt_inputs: bool = False) -> Gradients:
        """Reverse mode over the run's batch: gradients summed over it (``Replay.backward``)."""
        return self._replay.backward(run, seed, wrt_inputs)


def _post_order(outputs: Sequence[Value], stop: dict[Value, Any]) -> list[Value]:
    """The nodes reachable from ``outputs`` (not descending into ``stop``), parents first.

    Iterative depth-first post-order with explicit iterators: no recursion, deterministic.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    for root in outputs:
        if root in seen or root in stop:
            continue
        seen.add(root)
        stack = [(root, iter(root.parents))]
        while stack:
            node, it = stack[-1]
            for p in it:
                if p not in seen and p not in stop:
                    seen.add(p)
                    stack.append((p, iter(p.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def trace(outputs: Sequence[Value], inputs: Sequence[Value],
          params: Sequence[Value] = ()) -> Tape:
    """Record the graph that computes ``outputs`` as a Tape.

    ``inputs`` are the leaves that change from example to example (features, targets),
    ``params`` those shared by the batch whose gradients you want; any other leaf is frozen as
    a constant. A marked node need not be a leaf: the trace stops there. Steps are numbered by
    topological level, then by op, so each (level, op) group occupies consecutive slots.
    """
    if isinstance(outputs, Value):
        outputs = [outputs]
    marked: dict[Value, int] = {}
    for kind, vs, base in (("input", inputs, 0), ("param", params, len(inputs))):
        for i, v in enumerate(vs):
            if not isinstance(v, Value):
                raise TypeError(f"trace: {kind} {i} must be a Value; got {type(v).__name__}")
            if v in marked:
                raise ValueError(f"trace: {kind} {i} ({v!r}) is marked twice; each input or "
                                 f"parameter must be a distinct Value")
            marked[v] = base + i
    for i, v in enumerate(outputs):
        if not isinstance(v, Value):
            raise TypeError(f"trace: output {i} must be a Value; got {type(v).__name__}")
    order = _post_order(outputs, marked)

    slot: dict[Value, int] = dict(marked)
    consts: list[float] = []
    const_slot: dict[str, int] = {}
    base = len(inputs) + len(params)
    level: dict[Value, int] = {}
    buckets: dict[tuple[int, str, int, float | None], list[Value]] = {}
    for node in order:
        if not node.parents:
            hx = node.data.hex()  # equal constants share a slot
            s = const_slot.get(hx)
            if s is None:
                s = const_slot[hx] = base + len(consts)
                consts.append(node.data)
            slot[node] = s
            continue
        lv = 1 + max(level.get(p, 0) for p in node.parents)
        level[node] = lv
        buckets.setdefault((lv, node.op, len(node.parents), node.arg), []).append(node)

    steps: list[Step] = []
    nxt = base + len(consts)
    for key in sorted(buckets, key=lambda k: k[0]):  # stable: ops keep first-seen order
        for node in buckets[key]:
            slot[node] = nxt
            steps.append(Step(node.op, tuple(slot[p] for p in node.parents), nxt, node.arg,
                              key[0]))
            nxt += 1
    labels = [v.label or f"x{i}" for i, v in enumerate(inputs)]
    plabels = [v.label or f"p{i}" for i, v in enumerate(params)]
    return Tape(labels, plabels, consts, steps, [slot[v] for v in outputs])
