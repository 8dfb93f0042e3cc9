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
partials, evaluated for every product at once. ``autograd.compiled.tape.Tape`` is the handle users
hold: its ``forward`` and ``backward`` are this module's.

numpy is needed here only (``pip install 'edgegrad[fast]'``); the rest of the engine is pure
Python.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..backends import FLOAT, NumpyMath, numpy_math, numpy_module
from ..node import DomainError
from ..ops import PRIMITIVES, SUM
from ..primitive import Primitive
from .program import DOT, Instruction, Program

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


def _group_key(s: Instruction) -> tuple[int, str, int, float | None]:
    return (s.level, s.op, -1 if s.op == DOT else len(s.args), s.param)


def _span(np: Any, rows: Any) -> tuple[int, int] | None:
    """(a, b) when ``rows`` are exactly a, a+1, ..., b-1: a slice reads them, no gather."""
    if len(rows) == 0:
        return None
    a = int(rows[0])
    if int(rows[-1]) - a == len(rows) - 1 and bool((np.diff(rows) == 1).all()):
        return a, a + len(rows)
    return None


# ---------------------------------------------------------------------------------------------
# Groups, their gradient scatters and the buffers of a run.

@dataclass
class _Group:
    """Steps of one op at one level: their outputs are the contiguous rows start..stop-1."""

    prim: Primitive
    param: float | None
    start: int
    stop: int
    args: Any  # int array (arity, k): args[j][i] is the row of the i-th step's j-th operand
    spans: list[tuple[int, int] | None]  # per operand position: its rows as a slice, if they are
    gather: bool = True  # some position's rows are not consecutive: operands are gathered
    needs_grad: bool = False
    # Backward plan. ``joint``: operand positions whose destinations are all distinct, sent
    # with one scatter; ``apart``: positions whose row repeats (x read by many steps).
    joint: _Scatter | None = None
    apart: list[_Scatter] = field(default_factory=list)


@dataclass
class _Dot:
    """The dot steps of one level, a_r = sum_i w_ri z_i + terms_r, as one matrix product:
    A = W Z over the batch, W (dots, cols) made of the weights, Z the rows of the z (``cols``).

    Backward is mul's partials (d(w z)/dw = z, d(w z)/dz = w) times sum's (1), evaluated for
    every product at once: dW = dA Z^T (the weights' gradients, summed over the batch as the
    delta rule says) and dZ = W^T dA. A term that is a parameter (a neuron's bias b_r) is
    added from the parameter vector, its gradient the row sum of dA; other terms are read and
    sent like a sum's operands.
    """

    start: int
    stop: int
    cols: Any  # (m,) the rows of the operands z, sorted
    cols_span: tuple[int, int] | None
    entries: Any  # per product: its place in W.ravel(), dot * m + column
    weights: _Index  # per product: its weight's parameter index
    full: bool  # entries are 0, 1, ..., every entry of W once: W is the weights, row by row
    repeats: bool  # some entry holds several products (w1*z + w2*z): W is summed, not set
    bias_dots: Any  # per parameter term: its dot in the group (None: one per dot, in order)
    bias: _Index  # per parameter term: its parameter index
    terms: list[tuple[Any, Any]]  # other terms, by position: (which dots, their rows)
    # Backward plan: which columns need their gradient, and where the terms' gradients go.
    grad_cols: Any = None  # indices into cols (None: none of them)
    all_cols: bool = False
    assign: bool = False  # dZ is its rows' first write: assigned, not added
    sends: list[tuple[Any, _Scatter]] = field(default_factory=list)

    @classmethod
    def of(cls, np: Any, steps: list[Instruction], row: Any, n_inputs: int, n_params: int) -> _Dot:
        p0, p1 = n_inputs, n_inputs + n_params
        zs: list[int] = []
        ws: list[int] = []
        dots: list[int] = []
        bias_dots: list[int] = []
        bias: list[int] = []
        terms: list[list[tuple[int, int]]] = []
        for r, s in enumerate(steps):
            pairs = 2 * s.pairs
            ws += s.args[0:pairs:2]
            zs += s.args[1:pairs:2]
            dots += [r] * s.pairs
            q = 0
            for a in s.args[pairs:]:
                if p0 <= a < p1:
                    bias_dots.append(r)
                    bias.append(a - p0)
                else:
                    if q == len(terms):
                        terms.append([])
                    terms[q].append((r, a))
                    q += 1
        cols, col = np.unique(row[np.asarray(zs, dtype=np.intp)], return_inverse=True)
        k, m = len(steps), len(cols)
        entries = np.asarray(dots, dtype=np.intp) * m + col.reshape(-1)
        full = len(entries) == k * m and bool((entries == np.arange(k * m)).all())
        in_order = bias_dots == list(range(k))
        start = int(row[steps[0].out])
        weights = np.asarray(ws, dtype=np.intp) - p0
        return cls(start, start + k, cols, _span(np, cols), entries,
                   _Index.of(np, weights, (k, m) if full else (1, len(weights)), n_params),
                   full, len(np.unique(entries)) < len(entries),
                   None if in_order else np.asarray(bias_dots, dtype=np.intp),
                   _Index.of(np, np.asarray(bias, dtype=np.intp),
                             (k, 1) if in_order else (1, len(bias)), n_params),
                   [(np.asarray([r for r, _ in t], dtype=np.intp),
                     row[np.asarray([a for _, a in t], dtype=np.intp)]) for t in terms])

    def planned(self, np: Any, needs: Any) -> _Dot:
        """A copy with the backward plan for these rows needing a gradient."""
        mask = needs[self.cols]
        sends = []
        for dots, rows in self.terms:
            wanted = needs[rows]
            if wanted.any():
                sends.append((dots, _scatter(np, [0], wanted[None, :], rows[None, :])))
        return replace(self, grad_cols=np.flatnonzero(mask) if mask.any() else None,
                       all_cols=bool(mask.all()), sends=sends)

    def buffers(self, np: Any, values: Any) -> tuple[Any, Any]:
        """W, zeros but for the weights' entries, and Z: a view of the values, or a buffer."""
        k, m = self.stop - self.start, len(self.cols)
        z = values[slice(*self.cols_span)] if self.cols_span else np.empty((m, values.shape[1]))
        return np.zeros((k, m)), z

    def forward(self, np: Any, v: Any, ps: Any, ops: tuple[Any, Any]) -> None:
        w, z = ops
        if self.full:  # every entry of W holds one product, in order
            w[...] = self.weights.take(ps)
        elif self.repeats:
            w[...] = np.bincount(self.entries, ps[self.weights.index], w.size).reshape(w.shape)
        else:
            w.reshape(-1)[self.entries] = ps[self.weights.index]
        if self.cols_span is None:
            np.take(v, self.cols, axis=0, out=z)
        out = v[self.start:self.stop]
        np.matmul(w, z, out=out)
        if self.bias_dots is None:
            out += self.bias.take(ps)
        elif len(self.bias_dots):
            out += np.bincount(self.bias_dots, ps[self.bias.index], len(out))[:, None]
        for dots, rows in self.terms:
            out[dots] += v[rows]

    def backward(self, np: Any, gr: Any, ops: tuple[Any, Any], pgrad: Any) -> None:
        w, z = ops
        da = gr[self.start:self.stop]
        dw = _product(np, da, z.T)
        self.weights.add(np, pgrad, dw if self.full else dw.reshape(-1)[self.entries])
        if len(self.bias.index):
            db = da.sum(axis=1)
            self.bias.add(np, pgrad, db[:, None] if self.bias_dots is None
                          else db[self.bias_dots])
        if self.grad_cols is not None:
            if not self.all_cols:
                gr[self.cols[self.grad_cols]] += _product(np, w[:, self.grad_cols].T, da)
            elif self.cols_span is not None and self.assign:
                _product(np, w.T, da, out=gr[slice(*self.cols_span)])
            elif self.cols_span is not None:
                gr[slice(*self.cols_span)] += _product(np, w.T, da)
            else:
                gr[self.cols] += _product(np, w.T, da)
        for dots, sc in self.sends:
            _send(np, gr, sc, da[dots])


def _product(np: Any, a: Any, b: Any, out: Any = None) -> Any:
    """a @ b. With an inner dimension of 1 (a batch of one example, as a batch-level total's
    replay; or a single dot) it is an outer product, which matmul computes several times slower
    than multiply. Each entry is then one product, added to 0.0 as matmul accumulates it (so a
    -0.0 becomes 0.0 there too): bit for bit matmul's result."""
    if a.shape[1] != 1:
        return np.matmul(a, b, out=out)
    r = np.multiply(a, b, out=out)
    r += 0.0
    return r


@dataclass
class _Index:
    """Parameter indices, each with its place in a (rows, cols) matrix, row after row.

    When they are one regular block of the parameter vector (start + r * stride + c: a dense
    layer's weights, row r being neuron r's, or its biases, one per row), the block is read and
    added to through a view of the vector; otherwise by index (repeated indices summed).
    """

    index: Any
    shape: tuple[int, int]
    unique: bool
    block: tuple[int, int] | None = None  # (start, stride)

    @classmethod
    def of(cls, np: Any, index: Any, shape: tuple[int, int], size: int) -> _Index:
        unique = len(np.unique(index)) == len(index)
        rows, cols = shape
        if not unique or not len(index):
            return cls(index, shape, unique)
        start = int(index[0])
        stride = int(index[cols]) - start if rows > 1 else cols
        grid = start + stride * np.arange(rows)[:, None] + np.arange(cols)
        if cols <= stride and start + rows * stride <= size and bool((grid.reshape(-1) == index)
                                                                      .all()):
            return cls(index, shape, unique, (start, stride))
        return cls(index, shape, unique)

    def view(self, vector: Any) -> Any:
        """The block of ``vector``, shape (rows, cols), writable; None if not a block."""
        if self.block is None:
            return None
        start, stride = self.block
        rows, cols = self.shape
        return vector[start:start + rows * stride].reshape(rows, stride)[:, :cols]

    def take(self, vector: Any) -> Any:
        """vector[index], shape (rows, cols)."""
        block = self.view(vector)
        return vector[self.index].reshape(self.shape) if block is None else block

    def add(self, np: Any, total: Any, values: Any) -> None:
        """total[index] += values (shape (rows, cols)), repeated indices summed."""
        block = self.view(total)
        if block is not None:
            block += values
        elif self.unique:
            total[self.index] += values.reshape(-1)
        else:
            total += np.bincount(self.index, values.reshape(-1), len(total))


@dataclass
class _Scatter:
    """Where the contributions of some operand positions of a group go.

    ``positions`` are operand indices j; ``sel`` picks, in the flattened (position, step)
    order, the contributions whose row needs a gradient (None: all); ``dest`` is each one's
    row, or ``span`` = (a, b) when those rows are exactly a..b-1 in order (a plain slice).
    With repeats, ``order``/``starts``/``uniq`` sum them by one reduceat over a stable sort.
    """

    positions: list[int]
    sel: Any
    dest: Any
    span: tuple[int, int] | None = None
    spans: list[tuple[int, int]] | None = None  # every row needs it, each position a slice
    assign: bool = False  # the first write into these rows (spans only): no zeroing, no add
    order: Any = None
    starts: Any = None
    uniq: Any = None


def _scatter(np: Any, positions: list[int], masks: Any, args: Any) -> _Scatter:
    mask = masks[positions].reshape(-1)
    sel = np.flatnonzero(mask)
    dest = args[positions].reshape(-1)[sel]
    sc = _Scatter(positions, None if len(sel) == len(mask) else sel, dest)
    if sc.sel is None:
        spans = [_span(np, args[j]) for j in positions]
        sc.spans = None if None in spans else spans  # type: ignore[assignment]
    if len(dest) and dest[-1] - dest[0] == len(dest) - 1 and bool((np.diff(dest) == 1).all()):
        sc.span = (int(dest[0]), int(dest[-1]) + 1)
    elif len(np.unique(dest)) != len(dest):
        order = np.argsort(dest, kind="stable")
        sd = dest[order]
        starts = np.flatnonzero(np.r_[True, sd[1:] != sd[:-1]])
        sc.order, sc.starts, sc.uniq = order, starts, sd[starts]
    return sc


def _distinct(np: Any, rows: Any) -> bool:
    return len(np.unique(rows)) == len(rows)


class _Buffers:
    """The big arrays of one replay: values and grads, each (rows, N), and each group's
    operands: gathered (arity, k, N), or one view of the values per position when each
    position's rows are consecutive; a dot group's W and Z."""

    def __init__(self, np: Any, n_rows: int, n: int, groups: list[_Group | _Dot]) -> None:
        self.values = v = np.empty((n_rows, n))
        self.operands: list[Any] = []
        for g in groups:
            if isinstance(g, _Dot):
                self.operands.append(g.buffers(np, v))
            elif g.gather:
                self.operands.append(np.empty((*g.args.shape, n)))
            else:
                self.operands.append([v[a:b] for a, b in g.spans])  # type: ignore[misc]
        self.grads: Any = None  # made by the first backward
        self.scratch: dict[int, Any] = {}  # backward's per-scatter buffers, by id of the plan


def _send(np: Any, gr: Any, sc: _Scatter, contrib: Any) -> None:
    """gr[dest] += contrib, summing contributions that share a row."""
    flat = contrib.reshape(-1, gr.shape[1])
    if sc.sel is not None:
        flat = flat[sc.sel]
    if sc.span is not None:
        gr[sc.span[0]:sc.span[1]] += flat
    elif sc.order is None:
        gr[sc.dest] += flat
    else:
        gr[sc.uniq] += np.add.reduceat(flat[sc.order], sc.starts, axis=0)


# Partials of ±1 as the (positions, 1, 1) column _contributions multiplies by, made once.
_UNIT_COLUMNS: dict[tuple[float, ...], Any] = {}


def _contributions(np: Any, parts: Any, sc: _Scatter, gy: Any, scratch: dict[int, Any]) -> Any:
    """partials[j] * dL/dy for the scatter's operand positions, shape (positions, k, N),
    written into a buffer kept with the run (fresh arrays of this size cost page faults)."""
    qs = [parts[j] for j in sc.positions]
    out = scratch.get(id(sc))
    if out is None:
        out = scratch[id(sc)] = np.empty((len(qs), *gy.shape))
    if all(isinstance(q, (int, float)) for q in qs):  # structural constants, e.g. sum's ones
        key = tuple(qs)
        column = _UNIT_COLUMNS.get(key)
        if column is None:
            column = np.asarray(qs, dtype=np.float64)[:, None, None]
            # Keep only add's, sub's and sum's ±1s: few distinct keys (no -0.0 == 0.0, no NaN).
            if all(q == 1.0 or q == -1.0 for q in qs):
                _UNIT_COLUMNS[key] = column
        np.multiply(column, gy, out=out)
    else:
        for i, q in enumerate(qs):
            np.multiply(q, gy, out=out[i])
    return out


# ---------------------------------------------------------------------------------------------
# Each group's forward and backward as one callable, made once per plan.

_Forward = Callable[[Any, Any, Any], None]  # (values, parameter vector, operands)
_Backward = Callable[[Any, Any, Any, dict[int, Any], Any], None]  # (values, grads, operands,
#                                                                    scratch, parameter grads)


def _forward_of(np: Any, g: _Group | _Dot) -> _Forward | None:
    """The group's forward, its rows, rule and parameter bound in; None for an op with a
    restricted domain (``forward`` checks those with _checked_forward)."""
    if isinstance(g, _Dot):
        dot_forward = g.forward
        return lambda v, ps, ops: dot_forward(np, v, ps, ops)
    p = g.prim
    if p.valid is not None:
        return None
    m = numpy_math()
    rule, param, start, stop = p.forward, g.param, g.start, g.stop
    args, take = g.args, np.take
    if p is not SUM and p.arity != -1 and p.param is None:  # most groups: the rule called inline
        if g.gather:
            def run(v: Any, ps: Any, ops: Any) -> None:
                take(v, args, axis=0, out=ops)  # (arity, k, N): one gather per group
                v[start:stop] = rule(m, *ops)
        else:
            def run(v: Any, ps: Any, ops: Any) -> None:
                v[start:stop] = rule(m, *ops)
        return run
    # The same calls as _forward / Primitive.run_forward, chosen once here instead of per run.
    if p is SUM:
        reduce = np.add.reduce
        def compute(ops: Any) -> Any:
            return reduce(ops, axis=0)
    elif p.arity == -1:
        def compute(ops: Any) -> Any:
            return rule(m, ops)
    else:
        def compute(ops: Any) -> Any:
            return rule(m, ops[0], param)

    gather = g.gather

    def run_any(v: Any, ps: Any, ops: Any) -> None:
        if gather:
            take(v, args, axis=0, out=ops)
        v[start:stop] = compute(ops)
    return run_any


def _backward_of(np: Any, g: _Group | _Dot) -> _Backward | None:
    """The group's backward (its partials by the table's rule, then the chain rule into its
    scatters); None when it needs no gradient."""
    if isinstance(g, _Dot):
        dot_backward = g.backward
        return lambda v, gr, ops, scratch, pgrad: dot_backward(np, gr, ops, pgrad)
    if not g.needs_grad:
        return None
    m = numpy_math()
    p = g.prim
    rule, param, start, stop = p.partials, g.param, g.start, g.stop
    chains = [_chain_of(np, sc) for sc in ([g.joint] if g.joint is not None else []) + g.apart]
    # The same calls as Primitive.run_partials, chosen once here.
    if p.arity == -1:
        def back(v: Any, gr: Any, ops: Any, scratch: dict[int, Any], pgrad: Any) -> None:
            parts = rule(m, ops, v[start:stop])
            gy = gr[start:stop]
            for chain in chains:
                chain(gr, parts, gy, scratch)
    elif p.param is not None:
        def back(v: Any, gr: Any, ops: Any, scratch: dict[int, Any], pgrad: Any) -> None:
            parts = rule(m, ops[0], v[start:stop], param)
            gy = gr[start:stop]
            for chain in chains:
                chain(gr, parts, gy, scratch)
    else:
        def back(v: Any, gr: Any, ops: Any, scratch: dict[int, Any], pgrad: Any) -> None:
            parts = rule(m, *ops, v[start:stop])
            gy = gr[start:stop]
            for chain in chains:
                chain(gr, parts, gy, scratch)
    return back


def _chain_of(np: Any, sc: _Scatter) -> Callable[[Any, Any, Any, dict[int, Any]], None]:
    """gr[dest] += partial * dL/dy for the scatter's operand positions: the chain rule. A
    scatter that is its rows' first write assigns instead (``_first_writes``). What it tests of
    the scatter is decided here, once per plan."""
    if sc.spans is None:
        def send(gr: Any, parts: Any, gy: Any, scratch: dict[int, Any]) -> None:
            _send(np, gr, sc, _contributions(np, parts, sc, gy, scratch))
        return send
    positions, spans, assign = sc.positions, sc.spans, sc.assign
    multiply = np.multiply
    # Positions whose rows follow one another (a sum's operands, one row each): when every
    # partial is the float 1.0 (the sum's), one broadcast copy / add over all their rows does
    # what the loop below does position by position, bit for bit (gy * 1.0 == gy).
    whole = None
    if len(positions) > 1 and all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1)):
        whole = (spans[0][0], spans[-1][1], len(positions))

    def chain(gr: Any, parts: Any, gy: Any, scratch: dict[int, Any]) -> None:
        if whole is not None:
            qs = [parts[j] for j in positions]
            if all(type(q) is float and q == 1.0 for q in qs):
                a, b, n = whole
                rows = gr[a:b].reshape(n, *gy.shape)
                if assign:
                    rows[...] = gy
                else:
                    rows += gy
                return
        for j, (a, b) in zip(positions, spans):
            q = parts[j]
            one = type(q) is float and abs(q) == 1.0  # add's, sub's and sum's partials
            if assign:
                if one:
                    multiply(gy, q, out=gr[a:b])
                else:
                    multiply(q, gy, out=gr[a:b])
            elif one and q > 0:
                gr[a:b] += gy
            elif one:
                gr[a:b] -= gy
            else:
                gr[a:b] += q * gy
    return chain


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
