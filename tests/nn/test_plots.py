"""The pictures `edgegrad train` writes show what the model computes."""

import pytest

from nn import MLP
from nn.data import Dataset
from nn.plots import hardest_example, plot_boundary

pytest.importorskip("matplotlib")


def linear_model(w0: float, w1: float, b: float) -> MLP:
    m = MLP(2, [1], activation="linear", output_activation="linear")
    neuron = m.layers[0].neurons[0]
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = w0, w1, b
    return m


def boundary_line(fig):
    """The vertices of the drawn decision boundary (the unfilled contour at margin 0)."""
    from matplotlib.contour import ContourSet

    (ax,) = fig.axes
    (line,) = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert list(line.levels) == [0.0]
    return [v for path in line.get_paths() for v in path.vertices.tolist()]


def test_the_boundary_is_the_models_zero_level_curve():
    # score = x0 - x1 + 0.25: class 1 below the line x1 = x0 + 0.25, class 0 above it.
    model = linear_model(1.0, -1.0, 0.25)
    data = Dataset("two points", [[-1.0, 1.0], [1.0, -1.0]], [0, 1])
    fig = plot_boundary(model, data, "hinge", resolution=40)
    on_line = boundary_line(fig)
    assert len(on_line) > 10
    for x0, x1 in on_line:
        assert x1 == pytest.approx(x0 + 0.25, abs=1e-9)


def test_a_probability_output_is_split_at_one_half():
    model = linear_model(0.0, 1.0, 0.0)  # "probability" = x1: the boundary is x1 = 0.5
    data = Dataset("two points", [[0.0, 0.0], [0.0, 1.0]], [0, 1])
    fig = plot_boundary(model, data, "bce", resolution=30)
    on_line = boundary_line(fig)
    assert on_line and all(x1 == pytest.approx(0.5, abs=1e-9) for _, x1 in on_line)


def test_hardest_example_has_the_largest_loss():
    model = linear_model(1.0, 0.0, 0.0)  # score = x0
    xs, ys = [[2.0, 0.0], [-0.5, 0.0], [0.3, 0.0]], [1.0, 1.0, 1.0]
    assert hardest_example(model, xs, ys, "hinge") == 1  # margin 1 - (-0.5) is the largest


@pytest.mark.parametrize("sizes, activation", [([16, 16, 1], "relu"), ([8, 3], "tanh")])
def test_the_grid_is_the_models_own_outputs(sizes, activation, monkeypatch):
    """The boundary's grid is replayed as one batch on the compiled tape: the eager engine's
    numbers, point by point (to rounding), and the same without numpy (eager then)."""
    import builtins

    from autograd import no_grad
    from nn import plots

    model = MLP(2, sizes, activation=activation, seed=3)
    points = [(0.3 * i - 2.0, 0.2 * j - 1.5) for i in range(15) for j in range(17)]
    with no_grad():
        eager = [[y.data for y in model(list(p))] for p in points]
    replayed = plots._outputs_at(model, points)
    assert len(replayed) == len(points) and len(replayed[0]) == sizes[-1]
    assert max(abs(a - b) for r, e in zip(replayed, eager) for a, b in zip(r, e)) < 1e-12
    real_import = builtins.__import__

    def no_numpy(name, *args, **kwargs):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError("no numpy here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_numpy)
    assert plots._outputs_at(model, points) == eager
