"""atomic_write(durable=False): the file is still replaced whole (through a temporary file and
a rename), only the two fsync calls are skipped; the default keeps both."""

from __future__ import annotations

import os

import pytest

from autograd import atomic_write
from autograd.files import atomic


@pytest.mark.parametrize("durable, syncs", [(True, 2), (False, 0)])
def test_durable_decides_the_syncs_only(tmp_path, monkeypatch, durable, syncs):
    calls = []
    real = os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(atomic.os, "replace",
                        lambda a, b: (renames.append((a, b)), real_replace(a, b))[1])
    path = tmp_path / "f.txt"
    path.write_text("old")
    atomic_write(path, "new " * 1000, durable=durable)
    assert path.read_text() == "new " * 1000
    assert len(calls) == syncs
    (source, target), = renames
    assert os.path.basename(source).startswith(".f.txt.") and str(target) == str(path.resolve())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]
