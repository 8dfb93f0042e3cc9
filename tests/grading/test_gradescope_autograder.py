"""Gradescope: the results shape is checked from its documented fields, and the autograder zip
runs: its run_autograder grades a fake /autograder tree (EDGEGRAD_AUTOGRADER_ROOT) into
results/results.json. The wheel test runs its setup.sh too, installing the wheel it bundles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from classroom import SECRET, handin_csv, read_key, write_roster

from nn import make_sheets
from nn.grading.gradescope import autograder_zip, check_results
from nn.grading.points import Points

ROOT = Path(__file__).resolve().parents[2]

GOOD = {"score": 3.5, "output": "ok", "visibility": "after_due_date",
        "stdout_visibility": "hidden",
        "tests": [{"name": "a", "score": 1, "max_score": 1, "output": "right"},
                  {"name": "b", "score": 2.5, "max_score": 3, "output": "sign slip",
                   "visibility": "visible", "status": "failed"}]}


def test_the_documented_shape_passes():
    assert check_results(GOOD) == []
    assert check_results({"tests": [{"name": "a", "score": 1, "max_score": 1,
                                     "output": ""}]}) == []


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("score") and d.pop("tests"), "score is missing"),
    (lambda d: d.update(score="3"), "score must be a finite number"),
    (lambda d: d.update(score=float("nan")), "score must be a finite number"),
    (lambda d: d.update(visibility="public"), "visibility must be one of"),
    (lambda d: d.update(stdout_visibility=True), "stdout_visibility must be one of"),
    (lambda d: d.update(tests={}), "tests must be a list"),
    (lambda d: d["tests"][0].pop("max_score"), "tests[0].max_score must be"),
    (lambda d: d["tests"][1].update(name=3), "tests[1].name must be a string"),
    (lambda d: d["tests"][0].pop("output"), "tests[0].output must be a string"),
    (lambda d: d["tests"][1].update(status="ok"), "status must be passed or failed"),
])
def test_each_departure_from_the_shape_is_named(change, message):
    data = json.loads(json.dumps(GOOD))
    change(data)
    assert any(message in p for p in check_results(data)), check_results(data)


def fake_autograder(tmp: Path, wheel: Path, sid: str, upload: str | None) -> Path:
    """A class of three, its autograder unzipped into tmp/autograder/source, and a
    submission by ``sid`` (``upload``: the CSV, None for nothing uploaded)."""
    write_roster(tmp / "roster.csv", 3)
    make_sheets(tmp / "roster.csv", tmp / "sheets", SECRET, "network")
    zipped = autograder_zip(tmp / "sheets", SECRET, tmp / "autograder.zip", wheel,
                            Points({"delta": 2}, 0.5))
    root = tmp / "autograder"
    with zipfile.ZipFile(zipped) as z:
        names = set(z.namelist())
        z.extractall(root / "source")
    assert {"setup.sh", "run_autograder", wheel.name, "class/roster.csv"} <= names
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    if upload is not None:
        (root / "submission" / "worksheet.csv").write_text(upload, encoding="utf-8")
    meta = {"users": [{"email": f"{sid}@example.org", "id": 1, "name": "A", "sid": sid}]}
    (root / "submission_metadata.json").write_text(json.dumps(meta))
    return root


def run_autograder(root: Path, python: str | None) -> dict:
    env = {**os.environ, "EDGEGRAD_AUTOGRADER_ROOT": str(root)}
    if python is not None:
        env.update(EDGEGRAD_AUTOGRADER_PYTHON=python, PYTHONPATH=str(ROOT))
    else:
        env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert check_results(data) == [], data
    return data


def slipped_upload(sheets: Path, sid: str) -> str:
    order, key = read_key(sheets, sid)
    text = {row: repr(v) for row, v in key.items()}
    text[("layers.1.neurons.0.b", None)] = repr(-key[("layers.1.neurons.0.b", None)])
    return handin_csv(sid, text, order)


@pytest.fixture
def placeholder_wheel(tmp_path: Path) -> Path:
    """A file named as a wheel: run_autograder below runs this source tree, not the wheel."""
    path = tmp_path / "edgegrad-0.0.0-py3-none-any.whl"
    path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return path


def test_run_autograder_grades_the_submission(tmp_path, placeholder_wheel):
    write_roster(tmp_path / "r.csv", 3)
    make_sheets(tmp_path / "r.csv", tmp_path / "pre", SECRET, "network")
    upload = slipped_upload(tmp_path / "pre", "s001")
    root = fake_autograder(tmp_path, placeholder_wheel, "s001", upload)
    data = run_autograder(root, sys.executable)
    # 12 values, 6 deltas at 2 points, 9 gradients: 33; the sign slip costs its point.
    assert data["score"] == 32
    assert sum(t["max_score"] for t in data["tests"]) == 33
    (wrong,) = [t for t in data["tests"] if t["status"] == "failed"]
    assert wrong["name"].startswith("layers.1.neurons.0.b") and "sign slip" in wrong["output"]


@pytest.mark.parametrize("sid, upload, message", [
    ("nobody", "", "is not on the roster"),
    ("s002", None, "no worksheet was uploaded"),
    ("s002", "\0\0", "NUL bytes"),
])
def test_run_autograder_gives_0_with_the_reason(tmp_path, placeholder_wheel, sid, upload,
                                                message):
    root = fake_autograder(tmp_path, placeholder_wheel, sid, upload)
    data = run_autograder(root, sys.executable)
    assert data["score"] == 0
    assert message in data["output"] or any(message in t["output"] for t in data["tests"])


def test_only_an_edgegrad_wheel_is_bundled(tmp_path):
    write_roster(tmp_path / "r.csv", 1)
    make_sheets(tmp_path / "r.csv", tmp_path / "s", SECRET, "network")
    (tmp_path / "other.whl").write_bytes(b"")
    with pytest.raises(ValueError, match="not an edgegrad wheel"):
        autograder_zip(tmp_path / "s", SECRET, tmp_path / "a.zip", tmp_path / "other.whl")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out),
                           str(ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("edgegrad-*.whl")
    return built


@pytest.mark.wheel
@pytest.mark.slow
def test_setup_installs_the_bundled_wheel_and_run_autograder_uses_it(tmp_path, wheel):
    if shutil.which("python3") is None:
        pytest.skip("setup.sh runs python3")
    write_roster(tmp_path / "r.csv", 3)
    make_sheets(tmp_path / "r.csv", tmp_path / "pre", SECRET, "network")
    root = fake_autograder(tmp_path, wheel, "s001", slipped_upload(tmp_path / "pre", "s001"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["EDGEGRAD_AUTOGRADER_ROOT"] = str(root)
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert (root / "edgegrad-venv" / "bin" / "python").exists()
    data = run_autograder(root, None)
    assert data["score"] == 32
