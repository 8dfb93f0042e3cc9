"""``fit(compiled=True)`` without numpy falls back to the eager engine with one warning (the
trainer imports numpy only inside its methods, so the fallback must look for numpy first)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys, warnings
sys.modules["numpy"] = None  # numpy made unimportable, as if it were not installed
from nn import MLP, fit
from nn.data import xor

ds = xor()
results = {}
for compiled in (True, False):
    model = MLP(2, [3, 1], seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model, ds.xs, ds.targets("mse"), loss="mse", epochs=5, progress=False,
                      compiled=compiled)
    results[str(compiled)] = {"loss": history.loss, "state": model.state_dict(),
                              "warnings": [str(w.message) for w in caught]}
print(json.dumps(results))
"""


def test_compiled_fit_without_numpy_warns_and_trains_eagerly() -> None:
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    compiled, eager = results["True"], results["False"]
    assert len(compiled["warnings"]) == 1
    assert compiled["warnings"][0].startswith("compiled=True needs numpy")
    assert "training with the eager engine instead" in compiled["warnings"][0]
    assert eager["warnings"] == []
    # The fallback is the eager engine itself: the same steps, the same weights.
    assert compiled["loss"] == eager["loss"] and compiled["state"] == eager["state"]
