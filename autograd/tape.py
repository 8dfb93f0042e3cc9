"""The compiled tape: trace a graph once into a flat program, replay it over a batch with numpy.

``trace(outputs, inputs, params)`` walks a graph of Values (iteratively) and writes it down as
a program of steps, each ``%out = op %arg1 %arg2 ...`` with an op from the primitive table.
``str(tape)`` is that program as text. ``tape.forward(xs, params)`` then evaluates it for a
whole batch at once: every slot holds a vector of N values, one per example, and each op is
computed by the table's own ``forward`` rule on numpy arrays. ``tape.backward(run)`` applies
the table's own ``partials`` rules, so no derivative is written twice, and returns the
parameter gradients summed over the batch ("repeat for each example and add the gradients").

Steps are grouped by (topological level, op): all the muls of one level run as one gather,
one numpy call and one scatter, so Python's overhead grows with the graph's depth, not with
its number of nodes. ``trace_objective`` adds batch-level terms (a mean, an L2 penalty) as a
second small program over the batch sum and the parameters.

numpy is needed here only (``pip install 'edgegrad[fast]'``); the rest of the engine is pure
Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .ops import FLOAT, PRIMITIVES, SUM, Primitive
from .value import DomainError, Value


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError("the compiled tape needs numpy: pip install 'edgegrad[fast]' "
                          "(or pip install numpy)") from None
    return numpy


class NumpyMath:
    """Backend for numpy arrays: the table's rules evaluated elementwise over a batch.

    Mirrors ``ops.FloatMath`` function by function (same formulas, so compiled and eager
    agree to rounding): sigmoid and softplus use the same overflow-free forms.
    """

    def __init__(self) -> None:
        np = _numpy()
        self._np = np
        self.exp = np.exp
        self.log = np.log
        self.sqrt = np.sqrt
        self.tanh = np.tanh
        self.sin = np.sin
        self.cos = np.cos
        self.pow = np.power
        self.abs = np.abs
        self.sign = np.sign
        self.where = np.where
        self.add_reduce = np.add.reduce

    def sigmoid(self, x: Any) -> Any:
        """1/(1+e^-x) for x >= 0 and e^x/(1+e^x) otherwise, as e = e^-|x| (never overflows)."""
        np = self._np
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus(self, x: Any) -> Any:
        """log(1 + e^x) = max(x, 0) + log1p(e^-|x|)."""
        np = self._np
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


_NUMPY_MATH: NumpyMath | None = None


def numpy_math() -> NumpyMath:
    """The shared numpy backend (made on first use, so importing this module needs no numpy)."""
    global _NUMPY_MATH
    if _NUMPY_MATH is None:
        _NUMPY_MATH = NumpyMath()
    return _NUMPY_MATH


# ---------------------------------------------------------------------------------------------
# The program.

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


class _Buffers:
    """The big arrays of one replay: slot values and grads, each (slots, N), and each group's
    gathered operands (arity, k, N)."""

    def __init__(self, np: Any, n_slots: int, n: int, groups: list[_Group]) -> None:
        self.values = np.empty((n_slots, n))
        self.operands = [np.empty((*g.args.shape, n)) for g in groups]
        self.grads: Any = None  # made by the first backward
        self.scratch: dict[int, Any] = {}  # backward's per-scatter buffers, by id of the plan


class Run:
    """One forward replay over a batch: every slot's values, kept for ``Tape.backward``.

    ``values`` belongs to the run: when the run is dropped its buffers are recycled by the
    next replay of the same batch size (fresh arrays of this size cost more in page faults
    than the whole replay), so copy anything you keep (``outputs`` is already a copy).
    """

    def __init__(self, tape: Tape, buffers: _Buffers, operands: list[Any]) -> None:
        self.tape = tape
        self._buffers = buffers
        self.values = buffers.values  # (slots, N)
        self.operands = operands  # per group, the gathered operands (arity, k, N)

    def __del__(self) -> None:
        pools = self.tape._pool
        n = self.values.shape[1]
        if n not in pools and len(pools) >= 4:  # keep buffers for a few batch sizes only
            pools.pop(next(iter(pools)), None)
        pool = pools.setdefault(n, [])
        if len(pool) < 2:
            pool.append(self._buffers)

    @property
    def outputs(self) -> Any:
        """The outputs, shape (N, number of outputs): row i is example i."""
        return self.values[self.tape.outputs].T

    @property
    def batch_size(self) -> int:
        return int(self.values.shape[1])


@dataclass
class Gradients:
    """Results of ``Tape.backward``: parameter gradients summed over the batch, and optionally
    each example's input gradients, shape (N, inputs)."""

    params: Any
    inputs: Any = None


class Tape:
    """A traced graph as a flat program over numbered slots, replayable over a batch.

    Slots are laid out as: inputs, parameters, constants, then one slot per step in execution
    order. ``inputs`` vary per example; ``params`` are shared by the batch (their gradients
    are summed over it); constants are the graph's other leaves, frozen at trace time.
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
        self._groups: list[_Group] | None = None
        self._plans: dict[bool, list[_Group]] = {}
        self._pool: dict[int, list[_Buffers]] = {}  # recycled buffers by batch size

    # -- text and comparison -------------------------------------------------------------------

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
        return (f"<Tape {self.n_inputs} inputs, {self.n_params} params, {len(self.steps)} steps, "
                f"depth {self.depth}>")

    def structure(self) -> tuple[Any, ...]:
        """Everything that defines the program (labels aside): equal iff same computation."""
        return (self.n_inputs, self.n_params, tuple(c.hex() for c in self.consts),
                tuple((s.op, s.args, s.param) for s in self.steps), tuple(self.outputs))

    def first_difference(self, other: Tape) -> str | None:
        """A sentence naming the first place where two tapes differ, or None if they agree."""
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

    # -- replay --------------------------------------------------------------------------------

    def _build_groups(self) -> list[_Group]:
        np = _numpy()
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
        return groups

    def _plan(self, wrt_inputs: bool) -> list[_Group]:
        """Groups annotated with where their gradient goes (slots that need one only)."""
        plan = self._plans.get(wrt_inputs)
        if plan is not None:
            return plan
        np = _numpy()
        if self._groups is None:
            self._groups = self._build_groups()
        needs = np.zeros(self.n_slots, dtype=bool)
        needs[self.n_inputs:self.n_inputs + self.n_params] = True
        if wrt_inputs:
            needs[:self.n_inputs] = True
        plan = []
        for g in self._groups:
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
        np = _numpy()
        m = numpy_math()
        if self._groups is None:
            self._groups = self._build_groups()
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
        pool = self._pool.get(n)
        try:
            buffers = pool.pop() if pool else _Buffers(np, self.n_slots, n, self._groups)
        except IndexError:  # another thread took the last one
            buffers = _Buffers(np, self.n_slots, n, self._groups)
        v = buffers.values
        p0 = self.n_inputs
        c0 = p0 + self.n_params
        v[:p0] = xs.T
        v[p0:c0] = ps[:, None]
        v[c0:c0 + len(self.consts)] = np.asarray(self.consts, dtype=np.float64)[:, None]
        operands = buffers.operands
        with np.errstate(all="ignore"):
            for g, ops in zip(self._groups, operands):
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
        np = _numpy()
        m = numpy_math()
        if run.tape is not self:
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
        plan = self._plan(wrt_inputs)
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


def _distinct(np: Any, slots: Any) -> bool:
    return len(np.unique(slots)) == len(slots)


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


def _forward(m: NumpyMath, p: Primitive, ops: Any, param: float | None) -> Any:
    if p is SUM:
        # The table's rule is the left fold xs[0] + xs[1] + ...; numpy's add.reduce over the
        # first axis performs exactly that fold (same order, bit for bit: tested) in one call
        # instead of one Python-level add per operand.
        return m.add_reduce(ops, axis=0)
    return p.run_forward(m, ops, param)


def _checked_forward(np: Any, m: NumpyMath, p: Primitive, ops: Any, g: _Group,
                     tape: Tape) -> Any:
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
            _raise_domain(np, p, ops, g, tape, np.argwhere(~ok.astype(bool))[0])
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
            _raise_domain(np, p, ops, g, tape, idx)
    with np.errstate(all="ignore"):  # numpy flagged something the float rule accepts
        return _forward(m, p, ops, g.param)


class TapeDomainError(DomainError):
    """A DomainError raised during a replay: it also names the step and the example."""


def _raise_domain(np: Any, p: Primitive, ops: Any, g: _Group, tape: Tape, idx: Any) -> None:
    row, example = int(idx[0]), int(idx[1])
    operands = tuple(float(x) for x in ops[:, row, example])
    err = TapeDomainError(p, operands, g.param)
    step = tape.steps[g.start - (tape.n_slots - len(tape.steps)) + row]
    err.args = (f"{err.args[0]} (at tape step '{step}', example {example} of the batch)",)
    raise err


# ---------------------------------------------------------------------------------------------
# Tracing.

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


# ---------------------------------------------------------------------------------------------
# A batch objective: per-example losses summed, then batch-level terms.

class Objective:
    """L(θ) = total(S, n; θ), where S = Σ_i loss(x_i; θ) over a batch of n examples.

    ``example`` computes [loss, *outputs] for one example; ``total`` (optional) maps its two
    inputs (S, n) and the same parameters to the batch loss, e.g. S/n + λ Σ θ². Without it
    L = S. dL/dθ = ∂total/∂θ + ∂total/∂S · Σ_i ∂loss_i/∂θ.
    """

    def __init__(self, example: Tape, total: Tape | None = None) -> None:
        if total is not None and (total.n_inputs != 2 or total.n_params != example.n_params):
            raise ValueError("Objective: total must take inputs (S, n) and the same parameters")
        self.example = example
        self.total = total

    def loss_and_grads(self, inputs: Any, params: Any) -> tuple[float, Any, Any]:
        """(L, dL/dθ, outputs): the batch loss, its parameter gradients and each example's
        traced outputs (shape (N, number of outputs after the loss))."""
        np = _numpy()
        run = self.example.forward(inputs, params)
        out = run.outputs
        s = float(out[:, 0].sum())
        n = run.batch_size
        seed = np.zeros_like(out)
        if self.total is None:
            loss, ds, gtotal = s, 1.0, 0.0
        else:
            trun = self.total.forward([[s, float(n)]], params)
            loss = float(trun.outputs[0, 0])
            tg = self.total.backward(trun, wrt_inputs=True)
            ds, gtotal = float(tg.inputs[0, 0]), tg.params
        seed[:, 0] = ds
        grads = self.example.backward(run, seed).params + gtotal
        return loss, grads, out[:, 1:]


def trace_objective(loss: Value, inputs: Sequence[Value], params: Sequence[Value], *,
                    outputs: Sequence[Value] = (), total: Value | None = None,
                    batch_sum: Value | None = None, batch_size: Value | None = None) -> Objective:
    """Trace one example's ``loss`` (and extra ``outputs``), plus an optional batch-level
    ``total`` written in terms of the leaves ``batch_sum`` (S) and ``batch_size`` (n).

    Example, the mean hinge loss plus L2 of micrograd's demo::

        S, n = Value(0.0, "S"), Value(1.0, "n")
        total = S / n + 1e-4 * Value.sum([p * p for p in params])
        obj = trace_objective(loss, x + [t], params, total=total, batch_sum=S, batch_size=n)
        L, grads, _ = obj.loss_and_grads(batch, [p.data for p in params])
    """
    example = trace([loss, *outputs], inputs, params)
    if total is None:
        return Objective(example)
    if batch_sum is None or batch_size is None:
        raise ValueError("trace_objective: a total needs both batch_sum and batch_size leaves "
                         "(make them with Value(0.0) and use them in the total)")
    return Objective(example, trace([total], [batch_sum, batch_size], params))

