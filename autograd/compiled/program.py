"""A traced graph as a flat program: numbered slots, one step per op, in topological levels.

``compiled.tape.trace`` writes a graph of Values down as a ``Program``; ``compiled.replay``
runs one over a batch with numpy. This module is the program itself, as data and as text, and
``fuse_dots``, which rewrites a program's dot products (a dense layer's neurons) as ``dot``
steps that the replay evaluates as one matrix product per level. It needs only the standard
library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

Op = tuple[str, tuple[int, ...], float | None, int]
"""A step before it has a slot: (op, args, param, pairs); see ``lay_out``."""


DOT = "dot"
"""The op of a fused step ``%a = dot %w1*%z1 + ... + %wm*%zm + %r1 + ...``: the sum of m
products of a parameter w and a slot z, plus other terms r. Not a primitive: it is a ``sum`` of
``mul`` steps, written as one step by ``fuse_dots``, and its derivatives are theirs."""


class Instruction(NamedTuple):
    """One instruction: ``%out = op %args...`` (with the op's static parameter, if any).

    A ``dot`` step's args are its ``pairs`` products (weight, operand), flattened, then the
    terms added to them.
    """

    op: str
    args: tuple[int, ...]
    out: int
    param: float | None = None
    level: int = 1
    pairs: int = 0

    def __str__(self) -> str:
        if self.op == DOT:
            a, m = self.args, self.pairs
            terms = [f"%{a[2 * i]}*%{a[2 * i + 1]}" for i in range(m)]
            terms += [f"%{r}" for r in a[2 * m:]]
            return f"%{self.out} = {DOT} " + " + ".join(terms)
        args = " ".join(f"%{a}" for a in self.args)
        param = "" if self.param is None else f" {self.param!r}"
        return f"%{self.out} = {self.op} {args}{param}"


class Program:
    """A flat program over numbered slots.

    Slots are laid out as: inputs, parameters, constants, then one slot per step in execution
    order. ``inputs`` vary per example; ``params`` are shared by the batch (their gradients
    are summed over it); constants are the graph's other leaves, frozen at trace time. Steps
    are ordered by topological level, and within a level by op, so each (level, op) group
    occupies consecutive slots.
    """

    def __init__(self, input_labels: list[str], param_labels: list[str], consts: list[float],
                 steps: list[Instruction], outputs: list[int]) -> None:
        self.input_labels = input_labels
        self.param_labels = param_labels
        self.consts = consts
        self.steps = steps
        self.outputs = outputs
        self.n_inputs = len(input_labels)
        self.n_params = len(param_labels)
        self.n_slots = self.n_inputs + self.n_params + len(consts) + len(steps)
        self.depth = steps[-1].level if steps else 0

    def __str__(self) -> str:
        n_in, n_p = self.n_inputs, self.n_params
        lines = [f"# tape: {n_in} inputs, {n_p} params, {len(self.consts)} constants, "
                 f"{len(self.steps)} steps in {self.depth} levels, {len(self.outputs)} outputs"]
        lines += [f"%{i} = input {lab}" for i, lab in enumerate(self.input_labels)]
        lines += [f"%{n_in + i} = param {lab}" for i, lab in enumerate(self.param_labels)]
        base = n_in + n_p
        lines += [f"%{base + i} = const {c!r}" for i, c in enumerate(self.consts)]
        level = 0
        for s in self.steps:
            if s.level != level:
                level = s.level
                lines.append(f"# level {level}")
            lines.append(str(s))
        lines.append("return " + " ".join(f"%{o}" for o in self.outputs))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.n_inputs} inputs, {self.n_params} params, "
                f"{len(self.steps)} steps, depth {self.depth}>")

    def structure(self) -> tuple[Any, ...]:
        """Everything that defines the program (labels aside): equal iff same computation."""
        return (self.n_inputs, self.n_params, tuple(c.hex() for c in self.consts),
                tuple((s.op, s.args, s.param, s.pairs) for s in self.steps),
                tuple(self.outputs))

    def first_difference(self, other: Program) -> str | None:
        """A sentence naming the first place where two programs differ, or None if they agree."""
        if (self.n_inputs, self.n_params) != (other.n_inputs, other.n_params):
            return (f"{self.n_inputs} inputs and {self.n_params} params vs "
                    f"{other.n_inputs} and {other.n_params}")
        base = self.n_inputs + self.n_params
        for i, (a, b) in enumerate(zip(self.consts, other.consts)):
            if a.hex() != b.hex():
                return f"constant %{base + i} is {a!r} in one and {b!r} in the other"
        if len(self.consts) != len(other.consts):
            return f"{len(self.consts)} constants vs {len(other.consts)}"
        for s, t in zip(self.steps, other.steps):
            if (s.op, s.args, s.param, s.pairs) != (t.op, t.args, t.param, t.pairs):
                return f"step '{s}' in one is '{t}' in the other"
        if len(self.steps) != len(other.steps):
            return f"{len(self.steps)} steps vs {len(other.steps)}"
        if self.outputs != other.outputs:
            return f"outputs {self.outputs} vs {other.outputs}"
        return None


def lay_out(first: int, ops: Sequence[Op]) -> tuple[list[Instruction], list[int]]:
    """The steps of ``ops`` (given in a topological order), leveled and numbered from ``first``,
    and the slot each op got.

    An argument below ``first`` is a slot already numbered (an input, a parameter or a
    constant); an argument ``first + i`` is the output of ``ops[i]``. A step's level is 1 + the
    highest level of its arguments (0 for the numbered slots). Steps are numbered by level, then
    by (op, arity, param) in order of first appearance, so each (level, op) group holds
    consecutive slots; all the ``dot`` steps of a level form one group, whatever their arity.
    """
    level = [0] * first  # every slot's level, the numbered ones 0, then one per op
    buckets: dict[tuple[int, str, int, float | None], list[int]] = {}
    for i, (op, args, param, _) in enumerate(ops):
        lv = 1 + max([level[a] for a in args], default=0)
        level.append(lv)
        buckets.setdefault((lv, op, -1 if op == DOT else len(args), param), []).append(i)
    keys = sorted(buckets, key=lambda k: k[0])  # stable: within a level, first-seen order
    number = list(range(first)) + [0] * len(ops)  # every slot's number, as it is given
    steps: list[Instruction] = []
    for key in keys:  # an op's arguments are of lower levels: numbered already
        for i in buckets[key]:
            op, args, param, pairs = ops[i]
            out = number[first + i] = first + len(steps)
            steps.append(Instruction(op, tuple([number[a] for a in args]), out, param, key[0],
                                     pairs))
    slot = number[first:]
    return steps, slot


# ---------------------------------------------------------------------------------------------
# Dot products: a level's sums of products w*z, one matrix product in the replay.

Candidate = tuple[int, list[tuple[int, int]], list[int]]
"""A sum that could become a dot: its op's index, its products (w, z), its other terms."""


def fuse_dots(program: Program) -> Program:
    """The same computation with the dot products of each level as one group of ``dot`` steps
    (see ``fuse_ops``); the program itself when it has none."""
    first = program.n_slots - len(program.steps)
    # A program's steps are numbered in order from ``first``: they are ops as lay_out takes them.
    ops = [(s.op, s.args, s.param, s.pairs) for s in program.steps]
    p0 = program.n_inputs
    fused, moved = fuse_ops(first, ops, range(p0, p0 + program.n_params), program.outputs)
    if len(fused) == len(ops):
        return program
    steps, slot = lay_out(first, fused)  # inputs, parameters and constants keep their slots
    outputs = [o if o < first else slot[moved[o - first]] for o in program.outputs]
    return Program(program.input_labels, program.param_labels, program.consts, steps, outputs)


def fuse_ops(first: int, ops: list[Op], params: range, outputs: Sequence[int]
             ) -> tuple[list[Op], list[int]]:
    """``ops`` (numbered as for ``lay_out``) with dot products fused, and where each op went:
    its index in the new list, or -1 for a product that went into a dot.

    A product is a ``mul`` of a parameter w (a slot in ``params``) and any slot z, whose only
    reader is an n-ary ``sum``. The sums of one level that add such products are rows of a
    matrix W (one column per slot z read); sums that share a slot z are one block of it. The
    largest blocks whose union fills at least half of its matrix become ``dot`` ops (a dense
    layer's neurons fill theirs), the rest stay as they were, and their products' ``mul`` ops
    go. The structure is all that counts, not what built the graph.
    """
    uses = [0] * (first + len(ops))
    level = [0] * first
    for _, args, _, _ in ops:
        for a in args:
            uses[a] += 1
        level.append(1 + max([level[a] for a in args], default=0))
    for o in outputs:
        uses[o] += 1

    def product(a: int) -> tuple[int, int] | None:
        if a < first or uses[a] != 1:
            return None
        op, args, _, _ = ops[a - first]
        if op != "mul":
            return None
        x, y = args
        return (x, y) if x in params else (y, x) if y in params else None

    by_level: dict[int, list[Candidate]] = {}
    for i, (op, args, _, _) in enumerate(ops):
        if op == "sum":
            found = [(a, product(a)) for a in args]
            prods = [pr for _, pr in found if pr is not None]
            if prods:
                rest = [a for a, pr in found if pr is None]
                by_level.setdefault(level[first + i], []).append((i, prods, rest))
    dots: dict[int, Candidate] = {}
    for candidates in by_level.values():
        for c in _dense_blocks(candidates):
            dots[c[0]] = c
    if not dots:
        return ops, list(range(len(ops)))
    gone = {a - first for i in dots for a in ops[i][1] if product(a) is not None}
    moved = [-1] * len(ops)
    fused: list[Op] = []

    def new(a: int) -> int:
        return a if a < first else first + moved[a - first]

    for i, (op, args, param, pairs) in enumerate(ops):
        if i in gone:
            continue
        moved[i] = len(fused)
        dot = dots.get(i)
        if dot is None:
            fused.append((op, tuple([new(a) for a in args]), param, pairs))
        else:
            _, prods, rest = dot
            flat = [new(a) for pr in prods for a in pr] + [new(a) for a in rest]
            fused.append((DOT, tuple(flat), None, len(prods)))
    return fused, moved


def _dense_blocks(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates of one level worth one matrix product: blocks of sums linked by the slots
    they multiply, largest first, while the blocks taken fill at least half of their matrix."""
    parent: dict[int, int] = {}  # union-find over the slots z

    def root(z: int) -> int:
        while parent.setdefault(z, z) != z:
            parent[z] = parent[parent[z]]
            z = parent[z]
        return z

    for _, prods, _ in candidates:
        r = root(prods[0][1])
        for _, z in prods[1:]:
            parent[root(z)] = r
    blocks: dict[int, list[Candidate]] = {}
    for c in candidates:
        blocks.setdefault(root(c[1][0][1]), []).append(c)
    sized: list[tuple[int, int, int, list[Candidate]]] = []  # (entries filled, rows, cols)
    for block in blocks.values():
        columns = {z for _, prods, _ in block for _, z in prods}
        entries = sum(len({z for _, z in prods}) for _, prods, _ in block)
        sized.append((entries, len(block), len(columns), block))
    sized.sort(key=lambda b: -b[0])
    chosen: list[Candidate] = []
    filled = rows = cols = 0
    for f, r, k, block in sized:
        if 2 * (filled + f) >= (rows + r) * (cols + k):
            filled, rows, cols = filled + f, rows + r, cols + k
            chosen += block
    return chosen
