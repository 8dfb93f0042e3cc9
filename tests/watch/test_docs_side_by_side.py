"""The code of docs/parts/watch.md runs as written, and its side-by-side training ends with the
same model in edgegrad and in PyTorch (torch-marked: `make test-torch`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")
pytestmark = pytest.mark.torch

PAGE = Path(__file__).resolve().parents[2] / "docs" / "parts" / "watch.md"


def test_the_page_runs_and_both_trainings_end_at_the_same_model(capsys):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 4
    namespace: dict = {}
    for code in blocks:
        exec(compile(code, str(PAGE), "exec"), namespace)
    model, back = namespace["model"], namespace["back"]
    for (name, a), b in zip(model.state_dict().items(), back.state_dict().values()):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-13), name
    assert namespace["loss"].data == pytest.approx(namespace["loss_t"].item(), rel=1e-12)
    assert namespace["report"].warnings == []
    printed = capsys.readouterr().out.splitlines()
    assert float(printed[-2]) < 1e-12
