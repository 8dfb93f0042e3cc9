"""A traced graph as a flat program: numbered slots, one step per op, in topological levels.

``autograd.tape.trace`` writes a graph of Values down as a ``Program``; ``autograd.replay``
runs one over a batch with numpy. This module is the program itself, as data and as text, and
needs only the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Step:
    """One instruction: ``%out = op %args...`` (with the op's static parameter, if any)."""

    op: str
    args: tuple[int, ...]
    out: int
    param: float | None = None
    level: int = 1

    def __str__(self) -> str:
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
                 steps: list[Step], outputs: list[int]) -> None:
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
                tuple((s.op, s.args, s.param) for s in self.steps), tuple(self.outputs))

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
            if (s.op, s.args, s.param) != (t.op, t.args, t.param):
                return f"step '{s}' in one is '{t}' in the other"
        if len(self.steps) != len(other.steps):
            return f"{len(self.steps)} steps vs {len(other.steps)}"
        if self.outputs != other.outputs:
            return f"outputs {self.outputs} vs {other.outputs}"
        return None
