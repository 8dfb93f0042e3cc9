"""fit(live=True) in an executed notebook (a real Jupyter kernel, as nbmake and the docs site
run them): one figure, shown as a PNG and updated in place, no progress bar and no warning."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CELL = """\
from nn import MLP, fit
from nn.data import moons
from nn.watch.live import LiveView
data = moons(60, noise=0.1, seed=0)
view = LiveView(interval=0.0, budget=None)
history = fit(MLP(2, [8, 8, 1], seed=1), data.xs, data.targets("hinge"), lr=0.5, epochs=6,
              live=view, health=3)
import nn
print("frames", view.frames, "steps", history.steps, "from", nn.__file__)
"""


def test_live_true_in_an_executed_notebook_shows_one_updated_figure(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    pytest.importorskip("ipykernel")
    # The kernel imports this checkout's nn, whatever is installed.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = nb.cells[0].outputs
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert len(images) == 1, outputs  # updated in place, never appended
    png = base64.b64decode(images[0]["data"]["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    frames = int(text.split("frames ")[1].split()[0])
    assert frames >= 2 and "steps 6" in text
    assert "Warning" not in text and "training:" not in text  # no fallback, no bar
    assert Path(text.split("from ")[1].strip()).resolve().parents[1] == ROOT
