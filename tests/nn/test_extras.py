"""Training without the optional packages: no tqdm means no progress bar, no matplotlib means no
plots, and the model and its history are still trained and saved."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from nn import MLP, fit
from nn.cli import main
from nn.data import moons
from nn.plots import plot_history
from nn.train import INSTALL_EXTRAS, History

ROOT = Path(__file__).resolve().parents[2]


def without(monkeypatch, *modules):
    """Make ``import module`` fail as if it were not installed (None in sys.modules)."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_fit_without_tqdm_trains_with_one_warning_and_no_bar(monkeypatch, capsys):
    without(monkeypatch, "tqdm", "tqdm.auto")
    ds = moons(20, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(MLP(2, [4, 1], seed=0), ds.xs, ds.targets("hinge"), epochs=3,
                      progress=True)
    assert history.steps == 3 and len(history.loss) == 3
    assert [str(w.message) for w in caught] == [
        f"no progress bar: it needs tqdm ({INSTALL_EXTRAS}); training without one"]
    assert caught[0].category is RuntimeWarning
    assert caught[0].filename == __file__  # points at the call of fit
    assert "training" not in capsys.readouterr().err


def test_plots_without_matplotlib_say_what_to_install(monkeypatch):
    without(monkeypatch, "matplotlib", "matplotlib.figure")
    with pytest.raises(ImportError, match=r"plots need matplotlib: pip install 'edgegrad\[all\]'"):
        plot_history(History(loss=[1.0], accuracy=[None], lr=[0.1]))


def test_train_without_matplotlib_skips_the_plots_and_says_so_once(tmp_path, monkeypatch,
                                                                    capsys):
    without(monkeypatch, "matplotlib", "matplotlib.figure")
    out = tmp_path / "o"
    assert main(["train", "--samples", "20", "--hidden", "4", "--epochs", "3", "--quiet",
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"edgegrad train: note: no plots (they need matplotlib); {INSTALL_EXTRAS} installs it"]
    assert sorted(p.name for p in out.iterdir()
                  if p.suffix != ".dot" and p.name != "graph.svg") == ["history.json",
                                                                       "model.json"]


def test_train_without_tqdm_and_matplotlib_still_saves_the_model_and_history(tmp_path):
    # A fresh interpreter, so no earlier import of either package can leak in.
    out = tmp_path / "run"
    code = ("import sys\n"
            "sys.modules['tqdm'] = sys.modules['matplotlib'] = None\n"
            "from nn.cli import main\n"
            f"raise SystemExit(main(['train', '--samples', '30', '--hidden', '8', '--epochs', "
            f"'20', '--seed', '3', '--out', {str(out)!r}]))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == [
        "edgegrad train: note: no progress bar (it needs tqdm), no plots (they need "
        f"matplotlib); {INSTALL_EXTRAS} installs them"]
    hist = json.loads((out / "history.json").read_text())
    assert hist["steps"] == 20 and len(hist["loss"]) == 20
    assert (out / "model.json").stat().st_size > 0
    assert not (out / "training.png").exists() and not (out / "boundary.png").exists()
    assert "accuracy" in r.stdout and "training.png" not in r.stdout
