"""The compiled tape: trace a graph once into a flat program, replay it over a batch with numpy.

``trace(outputs, inputs, params)`` walks a graph of Values (iteratively) and writes it down as
a program of steps, each ``%out = op %arg1 %arg2 ...`` with an op from the primitive table
(``autograd.compiled.program``); sums of products of a parameter and another value (a dense layer's
neurons) become ``dot`` steps, ``%a = dot %w1*%z1 + %w2*%z2 + %b``, replayed as one matrix
product per level. ``str(tape)`` is that program as text. ``tape.forward(xs, params)``
evaluates it for a whole batch at once and ``tape.backward(run)`` returns the parameter
gradients summed over the batch, both with the table's own rules on numpy arrays
(``compiled.replay``). Tracing needs no numpy; replaying does (``pip install 'edgegrad[fast]'``).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import Any

from ..value import Value
from .program import Instruction, Op, Program, fuse_dots, fuse_ops, lay_out
from .replay import Gradients, Replay, Run, TapeDomainError

__all__ = ["Gradients", "Run", "Instruction", "Tape", "TapeDomainError", "fused", "trace"]


class Tape(Program):
    """A traced program that replays over a batch: ``forward`` gives a Run, ``backward`` its
    Gradients (see ``autograd.compiled.replay``)."""

    def __init__(self, input_labels: list[str], param_labels: list[str], consts: list[float],
                 steps: list[Instruction], outputs: list[int]) -> None:
        super().__init__(input_labels, param_labels, consts, steps, outputs)
        self._replay = Replay(self)

    def forward(self, inputs: Any, params: Any = ()) -> Run:
        """Evaluate the program on a batch of inputs, one row per example (``Replay.forward``)."""
        return self._replay.forward(inputs, params)

    def backward(self, run: Run, seed: Any = None, wrt_inputs: bool = False) -> Gradients:
        """Reverse mode over the run's batch: gradients summed over it (``Replay.backward``)."""
        return self._replay.backward(run, seed, wrt_inputs)


def _post_order(outputs: Sequence[Value], stop: dict[Value, Any]
                ) -> list[tuple[Value, tuple[Value, ...]]]:
    """The nodes reachable from ``outputs`` (not descending into ``stop``), parents first,
    each with its parents.

    Iterative depth-first post-order with explicit iterators: no recursion, deterministic.
    """
    order: list[tuple[Value, tuple[Value, ...]]] = []
    seen: set[Value] = set(stop)
    for root in outputs:
        if root in seen:
            continue
        seen.add(root)
        parents = root.parents
        stack = [(root, parents, iter(parents))]
        while stack:
            node, parents, it = stack[-1]
            for p in it:
                if p not in seen:
                    seen.add(p)
                    above = p.parents
                    stack.append((p, above, iter(above)))
                    break
            else:
                stack.pop()
                order.append((node, parents))
    return order


def trace(outputs: Sequence[Value], inputs: Sequence[Value],
          params: Sequence[Value] = (), fuse: bool = True) -> Tape:
    """Record the graph that computes ``outputs`` as a Tape.

    ``inputs`` are the leaves that change from example to example (features, targets),
    ``params`` those shared by the batch whose gradients you want; any other leaf is frozen as
    a constant. A marked node need not be a leaf: the trace stops there. Steps are numbered by
    topological level, then by op, so each (level, op) group occupies consecutive slots. With
    ``fuse`` (the default), sums of products of a parameter and another slot become ``dot``
    steps, one matrix product per level (``autograd.compiled.program.fuse_dots``).
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
    # Tracing makes many small objects and no reference cycles; with the collector on, its
    # passes walk the whole graph again and again (twice the time on a 200,000-node graph).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _record(outputs, inputs, params, marked, fuse)
    finally:
        if collecting:
            gc.enable()


def _record(outputs: Sequence[Value], inputs: Sequence[Value], params: Sequence[Value],
            marked: dict[Value, int], fuse: bool) -> Tape:
    order = _post_order(outputs, marked)

    slot: dict[Value, int] = dict(marked)
    consts: list[float] = []
    const_slot: dict[str, int] = {}
    base = len(inputs) + len(params)
    nodes: list[tuple[Value, tuple[Value, ...]]] = []
    for node, parents in order:
        if parents:
            nodes.append((node, parents))
            continue
        hx = node.data.hex()  # equal constants share a slot
        s = const_slot.get(hx)
        if s is None:
            s = const_slot[hx] = base + len(consts)
            consts.append(node.data)
        slot[node] = s
    first = base + len(consts)
    ops: list[Op] = []
    for node, parents in nodes:  # a node's op is numbered first + its place here, for now
        slot[node] = first + len(ops)
        ops.append((node.op, tuple([slot[p] for p in parents]), node.param, 0))
    out = [slot[v] for v in outputs]
    if fuse:
        ops, moved = fuse_ops(first, ops, range(len(inputs), base), out)
        out = [s if s < first else first + moved[s - first] for s in out]
    steps, numbered = lay_out(first, ops)
    return Tape([v.label or f"x{i}" for i, v in enumerate(inputs)],
                [v.label or f"p{i}" for i, v in enumerate(params)], consts, steps,
                [s if s < first else numbered[s - first] for s in out])


def fused(tape: Tape) -> Tape:
    """The tape with each level's dot products as ``dot`` steps (``program.fuse_dots``): the
    same numbers to rounding, one matrix product per level."""
    program = fuse_dots(tape)
    if program is tape:
        return tape
    return Tape(program.input_labels, program.param_labels, program.consts, program.steps,
                program.outputs)
