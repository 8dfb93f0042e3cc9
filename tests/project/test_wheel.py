"""The package as a user installs it: the wheel, in a fresh virtual environment.

First with no extras, where the engine and the ``edgegrad`` command must work on the standard
library alone (``edgegrad train`` trains and saves without the progress bar and the plots, and
says once which extra brings them); then with ``[all]``, where the bar and the pictures appear.
The wheel is built with ``python -m build`` and checked with ``twine check``, as ``make dist``
does. The environment is made without pip, and this interpreter's pip installs into it
(``pip --python``): that saves bootstrapping pip twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = [pytest.mark.wheel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXTRA_HINT = "edgegrad[all]"


def run(*args: str | Path, cwd: Path | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command; fail with its output when it exits non-zero."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)
    assert done.returncode == 0, (f"{' '.join(map(str, args))} exited {done.returncode}\n"
                                  f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT)
    (built,) = out.glob("edgegrad-*.whl")
    run(sys.executable, "-m", "twine", "check", "--strict", built)
    return built


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh virtual environment with the wheel and nothing else; returns its bin folder."""
    where = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(where)
    bindir = where / ("Scripts" if os.name == "nt" else "bin")
    pip_install(bindir, "--no-index", "--no-deps", wheel)
    return bindir


def pip_install(bindir: Path, *args: str | Path) -> None:
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
        "--disable-pip-version-check", *args)


def edgegrad(bindir: Path, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(bindir / "edgegrad", *args, cwd=cwd)


def train(bindir: Path, out: Path) -> subprocess.CompletedProcess[str]:
    done = edgegrad(bindir, "train", "--epochs", "2", "--samples", "30", "--hidden", "4",
                    "--seed", "1", "--out", out, cwd=out.parent)
    model = json.loads((out / "model.json").read_text(encoding="utf-8"))
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    assert model and history
    return done


def hint_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (done.stdout + done.stderr).splitlines() if EXTRA_HINT in line]


def the_other_commands(bindir: Path, cwd: Path) -> None:
    """``edgegrad deltas`` agrees, ``edgegrad draw`` writes DOT text."""
    done = edgegrad(bindir, "deltas", cwd=cwd)
    assert done.stdout.strip()
    dot = cwd / "graph.dot"
    edgegrad(bindir, "draw", "c*(a+2*b)", "a=3", "b=1", "c=-2", "-o", dot, cwd=cwd)
    assert dot.read_text(encoding="utf-8").startswith("digraph")


DRAW_IN_JUPYTER = """
from autograd import Value, draw
from autograd.drawing import wasm
a, b = Value(3.0, label="a"), Value(-2.0, label="b")
L = a * b
L.backward()
print(sorted(draw(L)._repr_mimebundle_()))
print(wasm.script_path())
"""


def test_the_wheel_alone_draws_without_dot(env: Path, wheel: Path, tmp_path: Path) -> None:
    """No extras, no ``dot`` on PATH: Jupyter gets a drawing for the browser, and ``edgegrad
    draw -o graph.html`` writes a page that draws itself, with the script the wheel carries
    (the very file of node_modules/), not one from the source tree."""
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        carried = archive.read("autograd/drawing/viz-global.js")
    assert carried == (ROOT / "node_modules/@viz-js/viz/dist/viz-global.js").read_bytes()
    python = env / ("python.exe" if os.name == "nt" else "python")
    no_dot = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    no_dot["PATH"] = str(env)  # the environment's own commands, nothing else
    done = subprocess.run([str(python), "-c", DRAW_IN_JUPYTER], capture_output=True,
                          text=True, cwd=tmp_path, env=no_dot, timeout=120)
    assert done.returncode == 0, done.stderr
    mimetypes, where = done.stdout.splitlines()[:2]
    assert mimetypes == "['text/html']"
    assert Path(where).parent.parent.parent != ROOT and Path(where).is_file(), where
    page = tmp_path / "graph.html"
    done = subprocess.run([str(env / "edgegrad"), "draw", "a*b", "a=3", "b=-2", "-o", str(page)],
                          capture_output=True, text=True, cwd=tmp_path, env=no_dot, timeout=120)
    assert done.returncode == 0, done.stderr
    assert page.read_text(encoding="utf-8").count(carried.decode("utf-8")) == 1


def test_wheel_without_extras_then_with_all(env: Path, wheel: Path, tmp_path: Path) -> None:
    python = env / ("python.exe" if os.name == "nt" else "python")
    imported = run(python, "-c", "import autograd, nn, sys; print(autograd.ENGINE); "
                   "print(sorted(m for m in ('graphviz', 'matplotlib', 'numpy', 'tqdm', 'PIL') "
                   "if m in sys.modules))", cwd=tmp_path)
    assert imported.stdout.split("\n")[:2] == ["edgegrad", "[]"]

    # No extras: trains, saves the model and its history, says once what brings the rest.
    bare = tmp_path / "bare"
    bare.mkdir()
    done = train(env, bare / "out")
    assert len(hint_lines(done)) == 1, (
        f"expected one line naming {EXTRA_HINT}; got:\n{done.stdout}{done.stderr}")
    assert not (bare / "out" / "training.png").exists()
    the_other_commands(env, bare)

    # With every extra: the same commands, now with the progress bar and the pictures.
    pip_install(env, f"{wheel}[all]")
    full = tmp_path / "all"
    full.mkdir()
    done = train(env, full / "out")
    assert hint_lines(done) == [], done.stdout + done.stderr
    for picture in ("training.png", "boundary.png"):
        assert (full / "out" / picture).read_bytes().startswith(b"\x89PNG"), picture
    assert "2/2" in done.stderr, f"no progress bar on stderr:\n{done.stderr}"
    the_other_commands(env, full)
