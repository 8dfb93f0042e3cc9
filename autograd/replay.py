"""Replay a traced program over a batch with numpy: forward, then reverse mode.

``Replay(program).forward(xs, params)`` evaluates a ``Program`` (``autograd.program``) for a
whole batch at once: every slot holds a vector of N values, one per example, and each op is
computed by the table's own ``forward`` rule on numpy arrays. ``backward(run)`` applies the
table's own ``partials`` rules, so no derivative is written twice, and returns the parameter
gradients summed over the batch ("repeat for each example and add the gradients").

Steps are grouped by (topological level, op): all the muls of one level run as one gather,
one numpy call and one scatter, so Python's overhead grows with the graph's depth, not with
its number of nodes. ``autograd.tape.Tape`` is the handle users hold: its ``forward`` and
``backward`` are this module's.

numpy is needed here only (``pip install 'edgegrad[fast]'``); the rest of the engine is pure
Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .backends import FLOAT, NumpyMath, numpy_math, numpy_module
from .ops import PRIMITIVES, SUM, Primitive
from .program import Program
from .value import DomainError

# ---------------------------------------------------------------------------------------------
# What a replay returns.

class Run:
    """One forward replay over a batch: every slot's values, kept for ``backward``.

    ``values`` belongs to the run: when the run is dropped its buffers are recycled by the
    next replay of the same batch size (fresh arrays of this size cost more in page faults
    than the whole replay), so copy anything you keep (``outputs`` is already a copy).
    """

    def __init__(self, replay: Replay, buffers: _Buffers, operands: list[Any]) -> None:
        self.replay = replay
        self._buffers = buffers
        self.values = buffers.values  # (slots, N)
        self.operands = operands  # per group, the gathered operands (arity, k, N)

    def __del__(self) -> None:
        pools = self.replay.pool
        n = self.values.shape[1]
        if n not in pools and len(pools) >= 4:  # keep buffers for a few batch sizes only
            pools.pop(next(iter(pools)), None)
        pool = pools.setdefault(n, [])
        if len(pool) < 2:
            pool.append(self._buffers)

    @property
    def outputs(self) -> Any:
        """The outputs, shape (N, number of outputs): row i is example i."""
        return self.values[self.replay.outputs].T

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


# ---------------------------------------------------------------------------------------------
# The replay.

class Replay:
    """Runs one Program over batches: its steps grouped by (level, op), the backward plans,
    and the buffers recycled between runs of the same batch size."""

    def __init__(self, program: Program) -> None:
        # What the replay reads of the program. It keeps these rather than the program itself:
        # a Tape is a program that holds its Replay, and the two should not form a cycle.
        self.steps = program.steps
        self.consts = program.consts
        self.outputs = program.outputs
        self.n_inputs = program.n_inputs
        self.n_params = program.n_params
        self.n_slots = program.n_slots
        self._groups: list[_Group] | None = None
        self._plans: dict[bool, list[_Group]] = {}
        self.pool: dict[int, list[_Buffers]] = {}  # recycled buffers by batch size

    def groups(self) -> list[_Group]:
        """Runs of consecutive steps with the same level, op, arity and parameter."""
        if self._groups is not None:
            return self._groups
        np = numpy_module()
        groups: list[_Group] = []
        i = 0
        steps = self.steps
        while i < len(steps):
            s = steps[i]
            key = (s.level, s.op, len(s.args), s.param)
            j = i + 1
            while j < len(steps) and (steps[j].level, steps[j].op, len(steps[j].args),
                                      steps[j].param) == key:
                j += 1
            args = np.array([t.args for t in steps[i:j]], dtype=np.intp).T.copy()
            groups.append(_Group(PRIMITIVES[s.op], s.param, s.out, steps[j - 1].out + 1, args))
            i = j
        self._groups = groups
        return groups

    def plan(self, wrt_inputs: bool) -> list[_Group]:
        """Groups annotated with where their gradient goes (slots that need one only)."""
        plan = self._plans.get(wrt_inputs)
        if plan is not None:
            return plan
        np = numpy_module()
        needs = np.zeros(self.n_slots, dtype=bool)
        needs[self.n_inputs:self.n_inputs + self.n_params] = True
        if wrt_inputs:
            needs[:self.n_inputs] = True
        plan = []
        for g in self.groups():
            flat = g.args.reshape(-1)
            mask = needs[flat]
            # A step needs its gradient iff some operand does (they are all computed earlier).
            step_needs = mask.reshape(g.args.shape).any(axis=0)
            needs[g.start:g.stop] = step_needs
            p = _Group(g.prim, g.param, g.start, g.stop, g.args, bool(step_needs.any()))
            if p.needs_grad:
                masks = mask.reshape(g.args.shape)
                used = [j for j in range(g.args.shape[0]) if masks[j].any()]
                distinct = [j for j in used if _distinct(np, g.args[j][masks[j]])]
                if distinct and _distinct(np, g.args[distinct][masks[distinct]]):
                    p.joint = _scatter(np, distinct, masks, g.args)
                else:
                    distinct = []
                # A slot read by several steps of the group (a layer's input, read by every
                # neuron): one reduceat per such position. One reduceat over all positions
                # would be far slower: its cost grows with the number of distinct slots.
                p.apart = [_scatter(np, [j], masks, g.args) for j in used if j not in distinct]
            plan.append(p)
        self._plans[wrt_inputs] = plan
        return plan

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
        pool = self.pool.get(n)
        try:
            buffers = pool.pop() if pool else _Buffers(np, self.n_slots, n, groups)
        except IndexError:  # another thread took the last one
            buffers = _Buffers(np, self.n_slots, n, groups)
        v = buffers.values
        p0 = self.n_inputs
        c0 = p0 + self.n_params
        v[:p0] = xs.T
        v[p0:c0] = ps[:, None]
        v[c0:c0 + len(self.consts)] = np.asarray(self.consts, dtype=np.float64)[:, None]
        operands = buffers.operands
        with np.errstate(all="ignore"):
            for g, ops in zip(groups, operands):
                np.take(v, g.args, axis=0, out=ops)  # (arity, k, N): one gather per group
                p = g.prim
                if p.valid is None:
                    v[g.start:g.stop] = _forward(m, p, ops, g.param)
                else:
                    v[g.start:g.stop] = _checked_forward(np, m, p, ops, g, self)
        return Run(self, buffers, operands)

    def backward(self, run: Run, seed: Any = None, wrt_inputs: bool = False) -> Gradients:
        """Reverse-mode over the batch: the parameter gradients of sum_i sum_k seed[i,k]*out[i,k].

        ``seed`` has shape (N, n_outputs) (default all ones). Returns the parameter gradients
        summed over the examples, and with ``wrt_inputs`` each example's input gradients.
        """
        np = numpy_module()
        m = numpy_math()
        if run.replay is not self:
            raise ValueError("tape.backward: this run was made by a different tape")
        v = run.values
        n = v.shape[1]
        buffers = run._buffers
        if buffers.grads is None:
            buffers.grads = np.zeros_like(v)
        else:
            buffers.grads.fill(0.0)
        gr = buffers.grads
        if seed is None:
            for o in self.outputs:
                gr[o] += 1.0
        else:
            sd = np.asarray(seed, dtype=np.float64)
            if sd.shape != (n, len(self.outputs)):
                raise ValueError(f"tape.backward: seed must have shape ({n}, "
                                 f"{len(self.outputs)}); got {sd.shape}")
            for k, o in enumerate(self.outputs):
                gr[o] += sd[:, k]
        plan = self.plan(wrt_inputs)
        scratch = buffers.scratch
        with np.errstate(all="ignore"):  # partials may be inf at a domain edge (sqrt'(0))
            for g, ops in zip(reversed(plan), reversed(run.operands)):
                if not g.needs_grad:
                    continue
                gy = gr[g.start:g.stop]
                parts = g.prim.run_partials(m, ops, v[g.start:g.stop], g.param)
                if g.joint is not None:
                    _send(np, gr, g.joint, _contributions(np, parts, g.joint, gy, scratch))
                for sc in g.apart:
                    _send(np, gr, sc, _contributions(np, parts, sc, gy, scratch))
        p0 = self.n_inputs
        grads = Gradients(gr[p0:p0 + self.n_params].sum(axis=1))
        if wrt_inputs:
            grads.inputs = gr[:p0].T.copy()
        return grads


# ---------------------------------------------------------------------------------------------
# Groups, their gradient scatters and the buffers of a run.

@dataclass
class _Group:
    """Steps of one op at one level: their outputs are the contiguous slots start..stop-1."""

    prim: Primitive
    param: float | None
    start: int
    stop: int
    args: Any  # int array (arity, k): args[j][i] is the j-th operand slot of the i-th step
    needs_grad: bool = False
    # Backward plan. ``joint``: operand positions whose destinations are all distinct, sent
    # with one scatter; ``apart``: positions whose slot repeats (x read by many steps).
    joint: _Scatter | None = None
    apart: list[_Scatter] = field(default_factory=list)


@dataclass
class _Scatter:
    """Where the contributions of some operand positions of a group go.

    ``positions`` are operand indices j; ``sel`` picks, in the flattened (position, step)
    order, the contributions whose slot needs a gradient (None: all); ``dest`` is each one's
    slot, or ``span`` = (a, b) when those slots are exactly a..b-1 in order (a plain slice).
    With repeats, ``order``/``starts``/``uniq`` sum them by one reduceat over a stable sort.
    """

    positions: list[int]
    sel: Any
    dest: Any
    span: tuple[int, int] | None = None
    order: Any = None
    starts: Any = None
    uniq: Any = None


def _scatter(np: Any, positions: list[int], masks: Any, args: Any) -> _Scatter:
    mask = masks[positions].reshape(-1)
    sel = np.flatnonzero(mask)
    dest = args[positions].reshape(-1)[sel]
    sc = _Scatter(positions, None if len(sel) == len(mask) else sel, dest)
    if len(dest) and dest[-1] - dest[0] == len(dest) - 1 and bool((np.diff(dest) == 1).all()):
        sc.span = (int(dest[0]), int(dest[-1]) + 1)
    elif len(np.unique(dest)) != len(dest):
        order = np.argsort(dest, kind="stable")
        sd = dest[order]
        starts = np.flatnonzero(np.r_[True, sd[1:] != sd[:-1]])
        sc.order, sc.starts, sc.uniq = order, starts, sd[starts]
    return sc


def _distinct(np: Any, slots: Any) -> bool:
    return len(np.unique(slots)) == len(slots)


class _Buffers:
    """The big arrays of one replay: slot values and grads, each (slots, N), and each group's
    gathered operands (arity, k, N)."""

    def __init__(self, np: Any, n_slots: int, n: int, groups: list[_Group]) -> None:
        self.values = np.empty((n_slots, n))
        self.operands = [np.empty((*g.args.shape, n)) for g in groups]
        self.grads: Any = None  # made by the first backward
        self.scratch: dict[int, Any] = {}  # backward's per-scatter buffers, by id of the plan


def _send(np: Any, gr: Any, sc: _Scatter, contrib: Any) -> None:
    """gr[dest] += contrib, summing contributions that share a slot."""
    flat = contrib.reshape(-1, gr.shape[1])
    if sc.sel is not None:
        flat = flat[sc.sel]
    if sc.span is not None:
        gr[sc.span[0]:sc.span[1]] += flat
    elif sc.order is None:
        gr[sc.dest] += flat
    else:
        gr[sc.uniq] += np.add.reduceat(flat[sc.order], sc.starts, axis=0)


def _contributions(np: Any, parts: Any, sc: _Scatter, gy: Any, scratch: dict[int, Any]) -> Any:
    """partials[j] * dL/dy for the scatter's operand positions, shape (positions, k, N),
    written into a buffer kept with the run (fresh arrays of this size cost page faults)."""
    qs = [parts[j] for j in sc.positions]
    out = scratch.get(id(sc))
    if out is None:
        out = scratch[id(sc)] = np.empty((len(qs), *gy.shape))
    if all(isinstance(q, (int, float)) for q in qs):  # structural constants, e.g. sum's ones
        np.multiply(np.asarray(qs, dtype=np.float64)[:, None, None], gy, out=out)
    else:
        for i, q in enumerate(qs):
            np.multiply(q, gy, out=out[i])
    return out


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
    for idx in np.ndindex(ops.shape[1], ops.shape[2]):
        xs = [float(x) for x in ops[:, idx[0], idx[1]]]
        try:
            p.run_forward(FLOAT, xs, g.param)
        except (ValueError, ArithmeticError):
            _raise_domain(p, ops, g, replay, idx)
    with np.errstate(all="ignore"):  # numpy flagged something the float rule accepts
        return _forward(m, p, ops, g.param)


def _raise_domain(p: Primitive, ops: Any, g: _Group, replay: Replay, idx: Any) -> None:
    row, example = int(idx[0]), int(idx[1])
    operands = tuple(float(x) for x in ops[:, row, example])
    err = TapeDomainError(p, operands, g.param)
    step = replay.steps[g.start - (replay.n_slots - len(replay.steps)) + row]
    err.args = (f"{err.args[0]} (at tape step '{step}', example {example} of the batch)",)
    raise err
