"""Dot products on the tape: sums of products w*z become ``dot`` steps, one matrix product per
level, recognised from the graph's structure alone.

Oracles: the same graph traced without fusion (``trace(..., fuse=False)``: the mul and sum
steps, each evaluated by the op table's rules), and the eager engine run once per example, on
random graphs that mix dense blocks of products with every other kind of op. Tolerance: 1e-12
relative, with an absolute floor of 1e-13 times the largest value (or gradient) anywhere in the
graph: a matrix product adds the same terms as the sum node, in another order, so a result that
cancels to near zero can only be as exact as the terms it came from.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, apply
from autograd.compiled.program import DOT, fuse_dots
from autograd.compiled.tape import Tape, trace

np = pytest.importorskip("numpy")


def assert_close(got: Any, want: Any, scale: float, what: str) -> None:
    got, want = list(np.ravel(got)), list(np.ravel(want))
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        tol = 1e-12 * max(abs(g), abs(w)) + 1e-13 * scale + 1e-250
        assert abs(g - w) <= tol, f"{what}[{i}]: {g!r} vs {w!r} (|diff| {abs(g - w):.3g})"


def ops_of(tape: Tape) -> list[str]:
    return [s.op for s in tape.steps]


# ---------------------------------------------------------------------------------------------
# What is recognised, and what is not.

def test_a_dot_step_reads_as_its_sum_of_products() -> None:
    x0, x1 = Value(1.0, "x0"), Value(2.0, "x1")
    w0, w1, b = Value(0.5, "w0"), Value(-1.0, "w1"), Value(0.25, "b")
    a = Value.sum([w0 * x0, x1 * w1, b])  # the parameter may stand on either side
    tape = trace([a.tanh()], [x0, x1], [w0, w1, b])
    assert str(tape).splitlines()[-5:] == [
        "# level 1",
        "%5 = dot %2*%0 + %3*%1 + %4",
        "# level 2",
        "%6 = tanh %5",
        "return %6",
    ]
    plain = trace([a.tanh()], [x0, x1], [w0, w1, b], fuse=False)
    assert ops_of(plain) == ["mul", "mul", "sum", "tanh"]
    assert tape.structure() == fuse_dots(plain).structure()


def test_a_users_own_layer_is_one_matrix_product_per_level() -> None:
    # No nn here: a hand-written two-layer network with sums of products.
    rng = random.Random(0)
    xs = [Value(0.0, f"x{i}") for i in range(3)]
    w1 = [[Value(rng.uniform(-1, 1), f"w1.{j}.{i}") for i in range(3)] for j in range(4)]
    w2 = [Value(rng.uniform(-1, 1), f"w2.{j}") for j in range(4)]
    hidden = [Value.sum([w * x for w, x in zip(row, xs)]).sigmoid() for row in w1]
    out = Value.sum([w * h for w, h in zip(w2, hidden)])
    params = [w for row in w1 for w in row] + w2
    tape = trace([out], xs, params)
    assert ops_of(tape) == [DOT] * 4 + ["sigmoid"] * 4 + [DOT]
    assert [type(g).__name__ for g in tape._replay.groups()] == ["_Dot", "_Group", "_Dot"]


def test_what_is_not_a_dot_product_stays_as_it_was() -> None:
    x, y = Value(1.0, "x"), Value(2.0, "y")
    w, v = Value(0.5, "w"), Value(1.5, "v")
    shared = w * x  # read twice: its value is needed elsewhere, so it stays a mul
    g1 = Value.sum([shared, v * y])
    g2 = shared.tanh()
    no_param = Value.sum([x * y, y * y])  # products of two inputs: nothing to put in W
    added = w * x + v * y  # a binary add is not an n-ary sum
    tape = trace([g1, g2, no_param, added], [x, y], [w, v])
    ops = ops_of(tape)
    assert ops.count(DOT) == 1 and ops.count("sum") == 1 and ops.count("add") == 1
    dot = next(s for s in tape.steps if s.op == DOT)
    assert dot.pairs == 1  # v*y went in; shared stayed out, as a term
    assert len(dot.args) == 3


def test_a_sparse_level_stays_unfused_and_a_dense_one_is_fused() -> None:
    # 12 sums, each over two slots of its own: W would be 12 x 24 with 24 entries filled.
    xs = [Value(0.1 * i, f"x{i}") for i in range(24)]
    ws = [Value(0.5, f"w{i}") for i in range(24)]
    sparse = [Value.sum([ws[2 * j] * xs[2 * j], ws[2 * j + 1] * xs[2 * j + 1]])
              for j in range(12)]
    tape = trace(sparse, xs, ws)
    # Two blocks fill half of their 2 x 4 matrix; a third would fill a third: the rest stay.
    assert ops_of(tape).count(DOT) == 2 and ops_of(tape).count("sum") == 10
    dense = [Value.sum([w * x for w, x in zip(ws, xs)]) for _ in range(3)]
    assert ops_of(trace(dense, xs, ws)) == [DOT] * 3


def test_the_fused_mlp_gives_the_unfused_programs_numbers() -> None:
    from nn.layers import MLP
    from nn.losses import LOSSES

    model = MLP(2, [16, 16, 1], seed=0)
    xv, t = [Value(0.0, "x0"), Value(0.0, "x1")], Value(1.0, "t")
    loss = LOSSES["hinge"](model(xv), t)
    params = model.parameters()
    fused, plain = (trace([loss], [*xv, t], params, fuse=f) for f in (True, False))
    assert len(fused.steps) < len(plain.steps) / 5
    rng = np.random.default_rng(1)
    batch = np.column_stack([rng.uniform(-1, 2, size=(64, 2)), rng.choice([-1.0, 1.0], 64)])
    theta = [p.data for p in params]
    rf, rp = fused.forward(batch, theta), plain.forward(batch, theta)
    assert_close(rf.outputs, rp.outputs, float(np.abs(rp.values).max()), "losses")
    gf, gp = fused.backward(rf, wrt_inputs=True), plain.backward(rp, wrt_inputs=True)
    assert_close(gf.params, gp.params, float(np.abs(gp.params).max()), "param grads")
    assert_close(gf.inputs, gp.inputs, float(np.abs(gp.inputs).max()), "input grads")


# ---------------------------------------------------------------------------------------------
# The corners of a dot group: each takes its own path through the replay.

def _corner_graph(x: list[Value], p: list[Value]) -> list[Value]:
    z = [x[0].tanh(), x[1], x[2].sin(), x[0] * x[1]]
    return [
        # repeated slot in one sum (W's entry holds two products), bias before the products
        Value.sum([p[8], p[0] * z[0], z[0] * p[1], p[2] * z[1]]),
        # two bias terms and an input term, a weight shared with another row
        Value.sum([p[0] * z[2], p[3] * z[1], p[9], x[2], p[9]]),
        # a parameter as the operand (as in an L2 penalty), and a constant term
        Value.sum([p[4] * p[4], p[5] * z[3], z[1] * p[2], Value(0.5)]),
        # no extra terms at all; columns z are not consecutive slots
        Value.sum([p[6] * z[3], p[7] * z[0], p[6] * z[2]]),
    ]


def test_every_corner_of_a_dot_group_matches_the_unfused_program_and_eager() -> None:
    rng = random.Random(3)
    x = [Value(0.0, f"x{i}") for i in range(3)]
    p = [Value(rng.uniform(-1.5, 1.5), f"p{i}") for i in range(10)]
    outs = _corner_graph(x, p)
    fused = trace(outs, x, p)
    plain = trace(outs, x, p, fuse=False)
    assert ops_of(fused).count(DOT) == 4  # 10 of the 4 x 5 entries of W: at least half full
    batch = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(5)]
    theta = [q.data for q in p]
    seed = np.array([[1.0, -0.5, 2.0, 0.25]] * len(batch))
    rf, rp = fused.forward(batch, theta), plain.forward(batch, theta)
    gf = fused.backward(rf, seed, wrt_inputs=True)
    gp = plain.backward(rp, seed, wrt_inputs=True)
    assert_close(rf.outputs, rp.outputs, 10.0, "outputs")
    assert_close(gf.params, gp.params, 10.0, "param grads")
    assert_close(gf.inputs, gp.inputs, 10.0, "input grads")
    # Without input gradients, the input column x1 of W needs none: only some columns get one.
    assert_close(fused.backward(rf, seed).params, gp.params, 10.0, "param grads alone")
    # The eager engine, one example at a time.
    want_params = np.zeros(len(p))
    for i, row in enumerate(batch):
        xe = [Value(v) for v in row]
        pe = [Value(q.data) for q in p]
        oe = _corner_graph(xe, pe)
        Value.sum([c * o for c, o in zip(seed[i], oe)]).backward()
        assert_close(rf.outputs[i], [o.data for o in oe], 10.0, "eager outputs")
        assert_close(gf.inputs[i], [v.grad for v in xe], 10.0, "eager input grads")
        want_params += [q.grad for q in pe]
    assert_close(gf.params, want_params, 10.0, "eager param grads")


# ---------------------------------------------------------------------------------------------
# Random graphs: dense blocks of products mixed with other ops.

SAFE_UNARY = ["neg", "abs", "tanh", "sigmoid", "relu", "softplus", "sin", "cos"]
BINARY = ["add", "sub", "mul"]

Plan = list[tuple[Any, ...]]


@st.composite
def dot_graphs(draw: st.DrawFn) -> tuple[int, int, Plan, list[float]]:
    """(inputs, params, plan, values). A plan entry is ("op", name, args) over node indices
    (inputs first, then each new node) and parameter indices (as -1 - j), or ("block", rows)
    where each row is (products [(param, node, param_first)], extra terms): a dense block of
    sums of products, one new node per row. A product may also be kept as a node of its own
    (("keep",) extra), so a later op reads it: it must then stay unfused."""
    n_in = draw(st.integers(1, 4))
    n_par = draw(st.integers(2, 9))
    plan: Plan = []
    n_nodes = n_in
    for _ in range(draw(st.integers(1, 7))):
        if draw(st.booleans()):
            zs = draw(st.lists(st.integers(0, n_nodes - 1), min_size=1, max_size=4))
            rows = []
            for _ in range(draw(st.integers(1, 4))):
                prods = [(draw(st.integers(0, n_par - 1)), z, draw(st.booleans()))
                         for z in zs if draw(st.integers(0, 4)) > 0] or [(0, zs[0], True)]
                extra = draw(st.lists(st.sampled_from(["bias", "node", "const", "keep"]),
                                      max_size=2))
                rows.append((prods, [(e, draw(st.integers(0, n_par - 1)),
                                      draw(st.integers(0, n_nodes - 1))) for e in extra]))
            plan.append(("block", rows))
            n_nodes += len(rows) + sum(1 for _, ex in rows for e, _, _ in ex if e == "keep")
        else:
            op = draw(st.sampled_from(SAFE_UNARY + BINARY + ["sum", "pmul"]))
            arity = 2 if op in BINARY or op == "pmul" else draw(st.integers(1, 4)) \
                if op == "sum" else 1
            args = [draw(st.integers(max(0, n_nodes - 3), n_nodes - 1)) if draw(st.booleans())
                    else draw(st.integers(0, n_nodes - 1)) for _ in range(arity)]
            if op == "pmul":  # a parameter read elementwise, outside any sum
                args[1] = -1 - draw(st.integers(0, n_par - 1))
            plan.append(("op", op, args))
            n_nodes += 1
    values = draw(st.lists(st.floats(-1.5, 1.5), min_size=3 * n_in + n_par,
                           max_size=3 * n_in + n_par))
    return n_in, n_par, plan, values


def build(plan: Plan, x: list[Value], p: list[Value]) -> list[Value]:
    nodes = list(x)

    def get(i: int) -> Value:
        return p[-1 - i] if i < 0 else nodes[i]

    for entry in plan:
        if entry[0] == "op":
            _, op, args = entry
            a = [get(i) for i in args]
            if op == "sum":
                nodes.append(Value.sum(a))
            elif op in ("pmul", "mul"):
                nodes.append(a[0] * a[1])
            elif op in BINARY:
                nodes.append(apply(op, a[0], a[1]))
            else:
                nodes.append(apply(op, a[0]))
            continue
        made, kept = [], []
        for prods, extra in entry[1]:
            terms = [p[j] * nodes[z] if first else nodes[z] * p[j] for j, z, first in prods]
            for kind, j, z in extra:
                if kind == "bias":
                    terms.append(p[j])
                elif kind == "node":
                    terms.append(nodes[z])
                elif kind == "const":
                    terms.append(Value(0.75))
                else:
                    kept.append(terms[0])
            made.append(Value.sum(terms))
        nodes += made + kept
    return nodes


@given(dot_graphs())
def test_fused_equals_unfused_and_eager_on_random_graphs_with_dot_products(g: Any) -> None:
    n_in, n_par, plan, values = g
    batch = [values[i * n_in:(i + 1) * n_in] for i in range(3)]
    theta = values[3 * n_in:]
    x = [Value(0.0, f"x{i}") for i in range(n_in)]
    p = [Value(v, f"p{j}") for j, v in enumerate(theta)]
    nodes = build(plan, x, p)
    outs = [nodes[-1], nodes[(n_in + len(nodes)) // 2]]
    fused, plain = trace(outs, x, p), trace(outs, x, p, fuse=False)
    seed = [[1.0, 0.5]] * len(batch)
    rf, rp = fused.forward(batch, theta), plain.forward(batch, theta)
    gf = fused.backward(rf, seed, wrt_inputs=True)
    gp = plain.backward(rp, seed, wrt_inputs=True)

    want_params = np.zeros(n_par)
    value_scale = grad_scale = 1.0
    eager_outs, eager_inputs = [], []
    for row in batch:
        xe = [Value(v) for v in row]
        pe = [Value(v) for v in theta]
        ne = build(plan, xe, pe)
        oe = [ne[-1], ne[(n_in + len(ne)) // 2]]
        root = Value.sum([oe[0], 0.5 * oe[1]])
        root.backward()
        value_scale = max([value_scale] + [abs(v.data) for v in ne])
        grad_scale = max([grad_scale] + [abs(v.grad) for v in ne + pe])
        eager_outs.append([o.data for o in oe])
        eager_inputs.append([v.grad for v in xe])
        want_params += [q.grad for q in pe]
    assert_close(rf.outputs, rp.outputs, value_scale, "fused vs unfused outputs")
    assert_close(gf.params, gp.params, grad_scale * len(batch), "fused vs unfused param grads")
    assert_close(gf.inputs, gp.inputs, grad_scale, "fused vs unfused input grads")
    assert_close(rf.outputs, eager_outs, value_scale, "fused vs eager outputs")
    assert_close(gf.params, want_params, grad_scale * len(batch), "fused vs eager param grads")
    assert_close(gf.inputs, eager_inputs, grad_scale, "fused vs eager input grads")
    assert all(math.isfinite(v) for v in np.ravel(gf.params))


def test_random_graphs_do_contain_dot_steps() -> None:
    # The strategy above is worth something only if fusion happens in it.
    found = []

    @given(dot_graphs())
    def count(g: Any) -> None:
        n_in, _, plan, values = g
        x = [Value(0.0) for _ in range(n_in)]
        p = [Value(v) for v in values[3 * n_in:]]
        nodes = build(plan, x, p)
        found.append(ops_of(trace([nodes[-1]], x, p)).count(DOT))

    count()
    assert sum(1 for f in found if f > 0) > len(found) // 3
