"""Graphs shared by the tests: a hypothesis-driven random graph builder (drawings, steps), and
the two published worked examples the teaching tools are checked against."""

from hypothesis import strategies as st

from autograd import Value

OPS = ("add", "sub", "mul", "tanh", "sigmoid", "sin", "pow", "sum")


def random_graph(data: st.DataObject, max_ops: int = 10) -> Value:
    """A small graph over three labelled leaves that reuses nodes freely; returns its root."""
    xs = [Value(data.draw(st.floats(-2, 2)), f"x{i}") for i in range(3)]
    nodes = list(xs)
    for _ in range(data.draw(st.integers(1, max_ops))):
        op = data.draw(st.sampled_from(OPS))
        pick = st.sampled_from(nodes)
        if op in ("add", "sub", "mul"):
            x, y = data.draw(pick), data.draw(pick)
            nodes.append({"add": x + y, "sub": x - y, "mul": x * y}[op])
        elif op == "sum":
            nodes.append(Value.sum(data.draw(st.lists(pick, min_size=1, max_size=4))))
        elif op == "pow":
            nodes.append(data.draw(pick) ** data.draw(st.sampled_from([2, 3])))
        else:
            nodes.append(getattr(data.draw(pick), op)())
    return nodes[-1]


def karpathy() -> tuple[Value, ...]:
    """micrograd's lecture example: e = a*b, d = e + c, L = d*f at a=2, b=-3, c=10, f=-2.
    Returns a, b, c, f, e, d, L."""
    a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return a, b, c, f, e, d, L


def jurafsky() -> tuple[Value, ...]:
    """Jurafsky & Martin's computation graph: d = 2b, e = a + d, L = c·e at a=3, b=1, c=-2.
    Returns a, b, c, d, e, L."""
    a, b, c = Value(3.0, "a"), Value(1.0, "b"), Value(-2.0, "c")
    d = 2 * b
    d.label = "d"
    e = a + d
    e.label = "e"
    L = c * e
    L.label = "L"
    return a, b, c, d, e, L


def tanh_of_product() -> tuple[Value, Value, Value]:
    """y = tanh(a * b) at a = 2, b = -3, after backward: a small graph with labels."""
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    y = (a * b).tanh()
    y.label = "y"
    y.backward()
    return a, b, y
