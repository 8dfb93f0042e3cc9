"""Every kind of file edgegrad writes, each as a function of its path (the fault-injection tests
of files/test_atomic_write.py run each on a full disk, in a killed process and through a symlink).

``python tests/outputs.py NAME PATH`` writes one of them, stopping for good right before the
new file replaces the old one: the test kills the process there.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from autograd import Value, save


def _graph() -> Value:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    y = (a * b).tanh()
    y.label = "y"
    y.backward()
    return y


def _model(path: Path) -> None:
    from nn import MLP

    MLP(2, [3, 1], seed=0).save(path)


def _drawing(path: Path) -> None:
    save(_graph(), path)


def _player(path: Path) -> None:
    from autograd.drawing.player import Player

    Player(_graph()).save(path)


def _training_png(path: Path) -> None:
    from nn.plots import plot_history
    from nn.train import History

    plot_history(History(loss=[1.0, 0.5], accuracy=[0.5, 1.0], lr=[0.1, 0.1], steps=2), path)


def _boundary_png(path: Path) -> None:
    from nn import MLP
    from nn.data import moons
    from nn.plots import plot_boundary

    plot_boundary(MLP(2, [4, 1], seed=0), moons(20, seed=0), "hinge", path, resolution=8)


def _graph_dot_fallback(path: Path) -> None:
    # What `edgegrad train` writes when the graph cannot be rendered: draw_example's .dot.
    from nn import MLP
    from nn.plots import draw_example

    old = os.environ.get("PATH", "")
    os.environ["PATH"] = ""  # no `dot`: draw_example falls back to the DOT text
    try:
        written, _ = draw_example(MLP(2, [2, 1], seed=0), [0.5, -1.0], 1.0, "hinge",
                                  path.parent)
    finally:
        os.environ["PATH"] = old
    assert written == path


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


WRITERS: dict[str, tuple[Callable[[Path], None], str, tuple[str, ...]]] = {
    "Module.save": (_model, "model.json", ()),
    "save .dot": (_drawing, "graph.dot", ()),
    "save .svg": (_drawing, "graph.svg", ("dot",)),
    "save .png": (_drawing, "graph.png", ("dot",)),
    "save .pdf": (_drawing, "graph.pdf", ("dot",)),
    "Player .html": (_player, "backward.html", ("dot",)),
    "Player .gif": (_player, "backward.gif", ("dot", "PIL")),
    "plot_history": (_training_png, "training.png", ("matplotlib",)),
    "plot_boundary": (_boundary_png, "boundary.png", ("matplotlib",)),
    "draw_example .dot": (_graph_dot_fallback, "graph.dot", ()),
}
"""Who writes -> (a function writing that file at a path, the file's name, what it needs).
`edgegrad train` writes history.json itself: files/test_atomic_write.py covers the command too."""


def missing(key: str) -> str | None:
    """What the writer ``key`` needs and this machine lacks, or None."""
    for need in WRITERS[key][2]:
        if need == "dot" and shutil.which("dot") is None:
            return "Graphviz's dot program"
        if need != "dot" and not _importable(need):
            return f"the {need} package"
    return None


if __name__ == "__main__":
    name, target = sys.argv[1], Path(sys.argv[2])

    def stall(fd: int) -> None:
        # The new file is complete in its temporary file and not yet renamed: stop here.
        print("writing", flush=True)
        time.sleep(600)

    os.fsync = stall
    WRITERS[name][0](target)
