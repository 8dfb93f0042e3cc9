"""Replay a traced program over a batch with numpy: forward, then reverse mode.

``Replay(program).forward(xs, params)`` evaluates a ``Program`` (``compiled.program``) for a
whole batch at once: every slot holds a row of N values, one per example, and each op is
computed by the table's own ``forward`` rule on numpy arrays. ``backward(run)`` applies the
table's own ``partials`` rules, so no derivative is written twice, and returns the parameter
gradients summed over the batch ("repeat for each example and add the gradients").

Steps are grouped by (topological level, op): all the muls of one level run as one gather,
one numpy call and one scatter, so Python's overhead grows with the graph's depth, not with
its number of nodes. A level's ``dot`` steps (sums of products w*z, see
``program.fuse_dots``) run as one matrix product, forward and backward: the same mul and sum
partials, evaluated for every product at once. This module holds the plan (rows, groups, which
gradients are needed) and the forward and backward loops over the groups; the groups and their
numpy kernels are ``compiled.groups``. ``autograd.compiled.tape.Tape`` is the handle users
hold: its ``forward`` and ``backward`` are this module's.

numpy is needed here only (``pip install 'edgegrad[fast]'``); the rest of the engine is pure
Python.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, replace
from typing import Any

from ..backends import FLOAT, NumpyMath, numpy_math, numpy_module
from ..node import DomainError
from ..ops import PRIMITIVES, SUM
from ..primitive import Primitive
from .groups import (
    _Backward,
    _backward_of,
    _Buffers,
    _distinct,
    _Dot,
    _Forward,
    _forward_of,
    _Group,
    _group_key,
    _Index,
    _scatter,
    _span,
)
from .program import DOT, Program

# ---------------------------------------------------------------------------------------------
# What a replay returns.

class Run:
    """One forward replay over a batch: every row's values (see Replay), kept for ``backward``.

    ``values`` belongs to the run: when the run is dropped its buffers are recycled by the
    next replay of the same batch size (fresh arrays of this size cost more in page faults
    than the whole replay), so copy anything you keep (``outputs`` is already a copy).
    """

    def __init__(self, replay: Replay, buffers: _Buffers, operands: list[Any]) -> None:
        self.replay = replay
        self._buffers = buffers
        self.values = buffers.values  # (rows, N): see Replay
        self.operands = operands  # per group, its operands (see _Buffers)

    @property
    def outputs(self) -> Any:
        """The outputs, shape (N, number of outputs): row i is example i."""
        return self.values[self.replay.out_rows].T

    @property
    def batch_size(self) -> int:
        return int(self.values.shape[1])


@dataclass
class Gradients:
    """Results of ``backward``: parameter gradients summed over the batch, and optionally
    each example's input gradients, shape (N, inputs)."""

    params: Any
    inputs: Any = None


class TapeDomainError(DomainError):
    """A DomainError raised during a replay: it also names the step and the example."""


class TapeZeroDivisionError(TapeDomainError, ZeroDivisionError):
    """A division by zero during a replay: also a ZeroDivisionError, as in the eager engine."""


# ---------------------------------------------------------------------------------------------
# The replay.

class Replay:
    """Runs one Program over batches: its steps grouped by (level, op), the backward plans,
    and the buffers recycled between runs of the same batch size.

    A run's buffers hold one row of N values for each input, each parameter read example by
    example (by an elementwise step, as a dot's operand, or as an output), each constant and
    each step, in that order (``row`` maps a slot to its row). The weights of dot steps and
    their parameter terms are read once per batch from the parameter vector: they get no row.
    """

    def __init__(self, program: Program) -> None:
        # What the replay reads of the program. It keeps these rather than the program itself:
        # a Tape is a program that holds its Replay, and the two should not form a cycle.
        self.steps = program.steps
        self.consts = program.consts
        self.outputs = program.outputs
        self.n_inputs = program.n_inputs
        self.n_params = program.n_params
        self.n_slots = program.n_slots
        self._groups: list[_Group | _Dot] | None = None
        self._plans: dict[bool, list[_Group | _Dot]] = {}
        self._zeros: dict[bool, list[tuple[int, int]]] = {}  # rows zeroed before backward
        # Per group, its forward / backward as one callable with everything it reads of the
        # group bound in (see _forward_of, _backward_of): a replay is dozens of small numpy
        # calls, and the attribute lookups and dispatch around each cost as much as the call.
        self._forwards: list[_Forward | None] | None = None
        self._backwards: dict[bool, list[_Backward | None]] = {}
        self._consts: Any = None  # the constants as a column, made by the first forward
        self._seeds: list[bool] = []  # per output: its seed is its row's first write
        self.pool: dict[int, list[_Buffers]] = {}  # recycled buffers by batch size
        # Runs handed out, each with its buffers. A dropped run is found here by its weak
        # reference on the next forward, not in a Run.__del__: Python ignores an exception
        # raised inside __del__, so a Ctrl-C landing there would be lost.
        self._lent: list[tuple[weakref.ref[Run], _Buffers]] = []
        self._lock = threading.Lock()
        # The rows (made with the groups): see the class doc.
        self.row: Any = None
        self.param_rows: _Index | None = None  # the parameters that have a row
        self.first_row = 0  # the first step's row
        self.out_rows: Any = None

    def _lay_out_rows(self, np: Any) -> None:
        n_in, p1 = self.n_inputs, self.n_inputs + self.n_params
        read = {o for o in self.outputs if n_in <= o < p1}
        for s in self.steps:
            args = s.args[1:2 * s.pairs:2] if s.op == DOT else s.args
            read.update(a for a in args if n_in <= a < p1)
        params = np.asarray(sorted(read), dtype=np.intp)
        row = np.full(self.n_slots, -1, dtype=np.intp)
        row[:n_in] = np.arange(n_in)
        row[params] = n_in + np.arange(len(params))
        consts = n_in + len(params)
        row[p1:p1 + len(self.consts)] = consts + np.arange(len(self.consts))
        self.first_row = consts + len(self.consts)
        row[p1 + len(self.consts):] = self.first_row + np.arange(len(self.steps))
        self.row = row
        self.param_rows = _Index.of(np, params - n_in, (len(params), 1), self.n_params)
        self.out_rows = row[np.asarray(self.outputs, dtype=np.intp)]

    @property
    def n_rows(self) -> int:
        return self.first_row + len(self.steps)

    @property
    def n_param_rows(self) -> int:
        return 0 if self.param_rows is None else len(self.param_rows.index)

    def groups(self) -> list[_Group | _Dot]:
        """Runs of consecutive steps with the same level, op, arity and parameter; a level's
        ``dot`` steps are one group whatever their arity."""
        if self._groups is not None:
            return self._groups
        np = numpy_module()
        self._lay_out_rows(np)
        row = self.row
        groups: list[_Group | _Dot] = []
        i = 0
        steps = self.steps
        while i < len(steps):
            s = steps[i]
            key = _group_key(s)
            j = i + 1
            while j < len(steps) and _group_key(steps[j]) == key:
                j += 1
            if s.op == DOT:
                groups.append(_Dot.of(np, steps[i:j], row, self.n_inputs, self.n_params))
            else:
                args = row[np.array([t.args for t in steps[i:j]], dtype=np.intp).T].copy()
                spans = [_span(np, a) for a in args]
                start = int(row[s.out])
                groups.append(_Group(PRIMITIVES[s.op], s.param, start, start + j - i, args,
                                     spans, None in spans))
            i = j
        self._groups = groups
        return groups

    def plan(self, wrt_inputs: bool) -> list[_Group | _Dot]:
        """Groups annotated with where their gradient goes (rows that need one only)."""
        plan = self._plans.get(wrt_inputs)
        if plan is not None:
            return plan
        np = numpy_module()
        groups = self.groups()
        needs = np.zeros(self.n_rows, dtype=bool)
        needs[self.n_inputs:self.n_inputs + self.n_param_rows] = True
        if wrt_inputs:
            needs[:self.n_inputs] = True
        plan = []
        for g in groups:
            if isinstance(g, _Dot):
                needs[g.start:g.stop] = True  # its weights are parameters
                plan.append(g.planned(np, needs))
                continue
            flat = g.args.reshape(-1)
            mask = needs[flat]
            # A step needs its gradient iff some operand does (they are all computed earlier).
            step_needs = mask.reshape(g.args.shape).any(axis=0)
            needs[g.start:g.stop] = step_needs
            p = replace(g, needs_grad=bool(step_needs.any()))
            if p.needs_grad:
                masks = mask.reshape(g.args.shape)
                used = [j for j in range(g.args.shape[0]) if masks[j].any()]
                distinct = [j for j in used if _distinct(np, g.args[j][masks[j]])]
                if distinct and _distinct(np, g.args[distinct][masks[distinct]]):
                    p.joint = _scatter(np, distinct, masks, g.args)
                else:
                    distinct = []
                # A row read by several steps of the group (a layer's input, read by every
                # neuron): one reduceat per such position. One reduceat over all positions
                # would be far slower: its cost grows with the number of distinct rows.
                p.apart = [_scatter(np, [j], masks, g.args) for j in used if j not in distinct]
            plan.append(p)
        self._zeros[wrt_inputs] = self._first_writes(np, plan, wrt_inputs)
        # After _first_writes: the callables bind each scatter's ``assign``.
        self._backwards[wrt_inputs] = [_backward_of(np, g) for g in reversed(plan)]
        self._plans[wrt_inputs] = plan
        return plan

    def _first_writes(self, np: Any, plan: list[_Group | _Dot], wrt_inputs: bool
                      ) -> list[tuple[int, int]]:
        """Mark the gradient writes that may assign rather than add: the first into their rows
        (in backward order) when they are plain slices. Returns the runs of rows that must be
        zero before backward: those whose first write adds, and those read unwritten."""
        touched = np.zeros(self.n_rows, dtype=bool)
        zero = np.zeros(self.n_rows, dtype=bool)

        def write(rows: Any, plain: bool) -> bool:
            fresh = not touched[rows].any()
            if not (plain and fresh):
                zero[rows] |= ~touched[rows]
            touched[rows] = True
            return plain and fresh

        def read(rows: Any) -> None:
            zero[rows] |= ~touched[rows]
            touched[rows] = True

        self._seeds = [write(np.asarray([o]), True) for o in self.out_rows]
        for g in reversed(plan):
            if isinstance(g, _Dot):
                read(slice(g.start, g.stop))
                if g.grad_cols is not None:
                    g.assign = write(g.cols[g.grad_cols], g.all_cols and g.cols_span is not None)
                for _, sc in g.sends:
                    write(sc.dest, False)
            elif g.needs_grad:
                read(slice(g.start, g.stop))
                for sc in ([g.joint] if g.joint is not None else []) + g.apart:
                    sc.assign = write(sc.dest, sc.spans is not None)
        read(slice(0 if wrt_inputs else self.n_inputs, self.n_inputs + self.n_param_rows))
        rows = np.flatnonzero(zero)
        breaks = np.flatnonzero(np.diff(rows) != 1)
        starts = np.r_[0, breaks + 1]
        ends = np.r_[breaks, len(rows) - 1]
        return [(int(rows[a]), int(rows[b]) + 1) for a, b in zip(starts, ends)] if len(rows) else []

    def forward(self, inputs: Any, params: Any = ()) -> Run:
        """Evaluate the program on a batch: ``inputs`` has shape (N, n_inputs), row i being
        example i; ``params`` holds the n_params shared values."""
        np = numpy_module()
        m = numpy_math()
        groups = self.groups()
        xs = np.asarray(inputs, dtype=np.float64)
        if xs.ndim == 1 and self.n_inputs == 1:
            xs = xs[:, None]
        if xs.ndim != 2 or xs.shape[1] != self.n_inputs:
            raise ValueError(f"tape.forward: inputs must have shape (N, {self.n_inputs}), one row "
                             f"per example; got shape {xs.shape}")
        ps = np.asarray(params, dtype=np.float64).reshape(-1)
        if ps.shape[0] != self.n_params:
            raise ValueError(f"tape.forward: expected {self.n_params} parameter values; "
                             f"got {ps.shape[0]}")
        n = xs.shape[0]
        buffers = self._take_buffers(n)
        if buffers is None:
            buffers = _Buffers(np, self.n_rows, n, groups)
        v = buffers.values
        p0 = self.n_inputs
        c0 = p0 + self.n_param_rows
        v[:p0] = xs.T
        if self.param_rows is not None and c0 > p0:
            v[p0:c0] = self.param_rows.take(ps)
        if self._consts is None:
            self._consts = np.asarray(self.consts, dtype=np.float64)[:, None]
        v[c0:self.first_row] = self._consts
        operands = buffers.operands
        forwards = self._forwards
        if forwards is None:
            forwards = self._forwards = [_forward_of(np, g) for g in groups]
        with np.errstate(all="ignore"):
            for run_group, g, ops in zip(forwards, groups, operands):
                if run_group is not None:
                    run_group(v, ps, ops)
                    continue
                # An op with a restricted domain (see _forward_of).
                assert isinstance(g, _Group)
                if g.gather:
                    np.take(v, g.args, axis=0, out=ops)
                v[g.start:g.stop] = _checked_forward(np, m, g.prim, ops, g, self)
        run = Run(self, buffers, operands)
        with self._lock:
            self._lent.append((weakref.ref(run), buffers))
        return run

    def _take_buffers(self, n: int) -> _Buffers | None:
        """The buffers of a dropped run of batch size ``n``, if there is one.

        First every dropped run gives its buffers back to the pool, which keeps two sets for
        each of at most four batch sizes.
        """
        with self._lock:
            lent = []
            for ref, buffers in self._lent:
                if ref() is not None:
                    lent.append((ref, buffers))
                    continue
                size = buffers.values.shape[1]
                if size not in self.pool and len(self.pool) >= 4:
                    self.pool.pop(next(iter(self.pool)))
                pool = self.pool.setdefault(size, [])
                if len(pool) < 2:
                    pool.append(buffers)
            self._lent = lent
            spare = self.pool.get(n)
            return spare.pop() if spare else None

    def backward(self, run: Run, seed: Any = None, wrt_inputs: bool = False) -> Gradients:
        """Reverse-mode over the batch: the parameter gradients of sum_i sum_k seed[i,k]*out[i,k].

        ``seed`` has shape (N, n_outputs) (default all ones). Returns the parameter gradients
        summed over the examples, and with ``wrt_inputs`` each example's input gradients.
        """
        np = numpy_module()
        if run.replay is not self:
            raise ValueError("tape.backward: this run was made by a different tape")
        v = run.values
        n = v.shape[1]
        buffers = run._buffers
        if buffers.grads is None:
            buffers.grads = np.empty_like(v)
        gr = buffers.grads
        self.plan(wrt_inputs)
        backwards = self._backwards[wrt_inputs]  # made with the plan
        # Zero the rows whose first gradient is added, not assigned (see _first_writes).
        for a, b in self._zeros[wrt_inputs]:
            gr[a:b] = 0.0
        sd = None if seed is None else np.asarray(seed, dtype=np.float64)
        if sd is not None and sd.shape != (n, len(self.outputs)):
            raise ValueError(f"tape.backward: seed must have shape ({n}, {len(self.outputs)}); "
                             f"got {sd.shape}")
        for k, (o, first) in enumerate(zip(self.out_rows, self._seeds)):
            d = 1.0 if sd is None else sd[:, k]
            if first:
                gr[o] = d
            else:
                gr[o] += d
        p0 = self.n_inputs
        c0 = p0 + self.n_param_rows
        scratch = buffers.scratch
        pgrad = np.zeros(self.n_params)  # what dot steps add, already summed over the batch
        with np.errstate(all="ignore"):  # partials may be inf at a domain edge (sqrt'(0))
            for back, ops in zip(backwards, reversed(run.operands)):
                if back is not None:  # None: the group needs no gradient
                    back(v, gr, ops, scratch, pgrad)
        if self.param_rows is not None and c0 > p0:
            # One example (a batch-level total): its sum is 0.0 + the gradient, several
            # times cheaper written so than as a sum over an axis of length 1.
            total = gr[p0:c0] + 0.0 if n == 1 else gr[p0:c0].sum(axis=1, keepdims=True)
            self.param_rows.add(np, pgrad, total)
        grads = Gradients(pgrad)
        if wrt_inputs:
            grads.inputs = gr[:p0].T.copy()
        return grads


# ---------------------------------------------------------------------------------------------
# Forward of one group, and domain errors that name the step and the example.

def _forward(m: NumpyMath, p: Primitive, ops: Any, param: float | None) -> Any:
    if p is SUM:
        # The table's rule is the left fold xs[0] + xs[1] + ...; numpy's add.reduce over the
        # first axis performs exactly that fold (same order, bit for bit: tested) in one call
        # instead of one Python-level add per operand.
        return numpy_module().add.reduce(ops, axis=0)
    return p.run_forward(m, ops, param)


def _checked_forward(np: Any, m: NumpyMath, p: Primitive, ops: Any, g: _Group,
                     replay: Replay) -> Any:
    """Forward of an op with a restricted domain; a bad operand raises DomainError as eager."""
    if p.checked:  # the domain test itself, elementwise (pow, vpow: numpy would not raise)
        valid = p.valid
        assert valid is not None
        if g.param is None:
            ok = np.frompyfunc(valid, len(ops), 1)(*ops)
        else:
            c = g.param
            ok = np.frompyfunc(lambda x: valid(x, c), 1, 1)(ops[0])
        if not ok.all():
            _raise_domain(p, ops, g, replay, np.argwhere(~ok.astype(bool))[0])
    with np.errstate(divide="raise", invalid="raise", over="raise"):
        try:
            return _forward(m, p, ops, g.param)
        except FloatingPointError:
            pass
    # Find the first operand the float rule rejects, exactly as the eager engine would.
    for idx in np.ndindex(*ops[0].shape):
        xs = [float(x[idx]) for x in ops]
        try:
            p.run_forward(FLOAT, xs, g.param)
        except (ValueError, ArithmeticError):
            _raise_domain(p, ops, g, replay, idx)
    with np.errstate(all="ignore"):  # numpy flagged something the float rule accepts
        return _forward(m, p, ops, g.param)


def _raise_domain(p: Primitive, ops: Any, g: _Group, replay: Replay, idx: Any) -> None:
    row, example = int(idx[0]), int(idx[1])
    operands = tuple(float(x[row, example]) for x in ops)
    zero = p.divides_by_zero
    at_zero = zero is not None and zero(*operands, *(() if g.param is None else (g.param,)))
    err = (TapeZeroDivisionError if at_zero else TapeDomainError)(p, operands, g.param)
    step = replay.steps[g.start - replay.first_row + row]
    err.args = (f"{err.args[0]} (at tape step '{step}', example {example} of the batch)",)
    raise err
