"""A hypothesis-driven random graph builder shared by the tests of drawings and steps."""

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
