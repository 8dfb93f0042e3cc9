"""A replay's steps in groups, and each group's numpy forward and backward.

``Replay`` (``compiled.replay``) runs a program a group at a time: a run of consecutive steps
with the same level, op, arity and parameter is a ``_Group``, its outputs contiguous rows, its
operands gathered (or sliced) into one array so that the table's rule runs once for all of
them; a level's ``dot`` steps are a ``_Dot``, one matrix product. This module holds those
groups, where their gradients go (``_Scatter``, ``_Index``), the arrays of a run
(``_Buffers``), and each group's forward and backward made once as one callable
(``_forward_of``, ``_backward_of``). Its names are the replay's internals, not an API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..backends import numpy_math
from ..ops import SUM
from ..primitive import Primitive
from .program import DOT, Instruction

# ---------------------------------------------------------------------------------------------
# Grouping the steps.

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
    restricted domain (``Replay.forward`` checks those with ``replay._checked_forward``)."""
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
    # The same calls as replay._forward / Primitive.run_forward, chosen once here, not per run.
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

