"""The backward pass one chain-rule step at a time: a generator and a printable trace.

Each step is one edge: ``parent.grad += local * node.grad``, in exactly the order
``autograd.backward`` applies them (the steps are ``backward.chain_rule``'s, the one loop). The
steps run on their own copy of the gradients, so a Value's ``.grad`` is never touched.
``autograd.drawing.player`` animates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..backward import chain_rule, reverse_order
from ..teach.formulas import edge_formula, node_names
from ..value import Value
from .graph import _float, _num, op_text

__all__ = ["BackwardStep", "backward_steps", "format_trace", "node_names", "print_trace"]


@dataclass(frozen=True)
class BackwardStep:
    """One edge of the backward pass: ``after = before + local * upstream``.

    ``local`` is d(node)/d(parent) recorded in the forward pass, ``upstream`` is node's grad
    (complete by the time its edges are processed), ``contribution = local * upstream`` and
    ``after`` is the parent's grad once this step is applied.
    """

    index: int  # 0-based position in the pass
    node: Value
    parent: Value
    parent_index: int  # position of ``parent`` among node.parents (a*a has 0 and 1)
    local: float
    upstream: float
    contribution: float
    before: float
    after: float


def backward_steps(root: Value, grad: float = 1.0) -> Iterator[BackwardStep]:
    """Yield the chain-rule steps of ``backward(root, grad)`` in the order it applies them.

    Gradients start at 0 everywhere (as for fresh leaves) and live in a private dict: the
    Values' ``.grad`` is not read or written. The last ``after`` of each node equals what
    ``backward`` leaves in its ``.grad`` when its leaves start from zero.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps takes the root Value of a graph; "
                        f"got {type(root).__name__}")
    grads: dict[Value, float] = {root: float(grad)}
    steps = chain_rule(reverse_order(root), lambda node: grads.get(node, 0.0))
    for index, (node, i, parent, local, upstream) in enumerate(steps):
        lf = _float(local)
        before = grads.get(parent, 0.0)
        contribution = lf * upstream
        after = before + contribution
        grads[parent] = after
        yield BackwardStep(index, node, parent, i, lf, upstream, contribution, before, after)


def format_trace(root: Value, grad: float = 1.0, fmt: str = ".4g",
                 show_formula: bool = False) -> str:
    """The backward pass of ``root`` as a table, one chain-rule step per line; ``show_formula``
    adds each local derivative as a formula in the nodes' names (∂e/∂a = b)."""
    names = node_names(root)
    steps = list(backward_steps(root, grad))
    header: tuple[str, ...] = ("step", "node", "parent", "local", "upstream", "contribution",
                               "parent grad")
    if show_formula:
        header += ("formula",)
    rows: list[tuple[str, ...]] = []
    for s in steps:
        edge = op_text(s.node, fmt)
        formula = (edge_formula(s.node, s.parent_index, names, fmt).text(fmt, value=False),
                   ) if show_formula else ()
        rows.append((
            str(s.index + 1),
            f"{names[s.node]} ({edge})",
            names[s.parent] + (f" [operand {s.parent_index}]" if len(s.node.parents) > 1 and
                               s.node.parents.count(s.parent) > 1 else ""),
            _num(s.local, fmt),
            _num(s.upstream, fmt),
            _num(s.contribution, fmt),
            f"{_num(s.before, fmt)} -> {_num(s.after, fmt)}",
            *formula,
        ))
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    right = {0, 3, 4, 5}

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if k in right else c.ljust(w)
                         for k, (c, w) in enumerate(zip(r, widths))).rstrip()

    title = (f"backward from {names[root]} = {_num(root.data, fmt)}, seeded with grad "
             f"{_num(grad, fmt)}: {len(steps)} steps, each parent.grad += local * upstream")
    return "\n".join([title, line(header), *(line(r) for r in rows)]) + "\n"


def print_trace(root: Value, grad: float = 1.0, fmt: str = ".4g",
                show_formula: bool = False) -> None:
    """Print ``format_trace(root, grad, fmt, show_formula)``."""
    print(format_trace(root, grad, fmt, show_formula), end="")
