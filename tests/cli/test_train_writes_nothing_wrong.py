"""``edgegrad train`` loses nothing and writes nothing wrong: a run that diverges writes
nothing and exits 1, history.json is strict JSON, and an output path that cannot be written
(a file as --out, a directory, a dangling symlink, a folder it may not write) is found before
training, not after."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from bounds import bounded

from nn.cli import main


def test_divergence_in_the_last_step_writes_nothing_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t"
    assert main(["train", "--lr", "1e300", "--lr-end", "1e300", "--epochs", "1", "--quiet",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "training diverged" in err and "Try a smaller --lr" in err
    assert list(out.iterdir()) == []


def test_history_json_is_strict_json(tmp_path: Path) -> None:
    out = tmp_path / "t"
    assert main(["train", "--dataset", "xor", "--hidden", "2", "--epochs", "3", "--quiet",
                 "--out", str(out)]) == 0

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} in history.json")

    json.loads((out / "history.json").read_text(), parse_constant=refuse)


def test_a_bad_out_fails_before_training(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "FILE"
    file.write_text("mine")
    long_run = ["train", "--epochs", "10000000", "--quiet"]
    with bounded(seconds=20, megabytes=64):
        assert main([*long_run, "--out", str(file)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert file.read_text() == "mine"
    out = tmp_path / "run"
    (out / "model.json").mkdir(parents=True)
    with bounded(seconds=20, megabytes=64):
        assert main([*long_run, "--out", str(out)]) == 2
    assert f"cannot write {out / 'model.json'}: it is a directory" in capsys.readouterr().err


LONG_RUN = ["train", "--epochs", "10000000", "--quiet"]


def test_a_dangling_symlink_as_the_model_path_fails_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.json").symlink_to(tmp_path / "gone" / "model.json")
    with bounded(seconds=20, megabytes=64):
        assert main([*LONG_RUN, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"edgegrad train: error: cannot write {out / 'model.json'} (a symlink to "
                   f"{tmp_path / 'gone' / 'model.json'}): the folder {tmp_path / 'gone'} does "
                   "not exist\n")
    assert sorted(os.listdir(out)) == ["model.json"]  # nothing written, the link kept


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions do not bind root")
def test_an_unwritable_folder_fails_before_training(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    out.chmod(0o500)
    try:
        with bounded(seconds=20, megabytes=64):
            assert main([*LONG_RUN, "--out", str(out)]) == 2
    finally:
        out.chmod(0o700)
    err = capsys.readouterr().err
    assert f"cannot write {out / 'model.json'}: cannot make a file in {out}: Permission " \
           "denied" in err


def test_a_symlink_into_a_read_only_place_fails_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # /proc takes no new file, even from root: the folder check tries one.
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc")
    out = tmp_path / "run"
    out.mkdir()
    (out / "history.json").symlink_to("/proc/self/history.json")
    with bounded(seconds=20, megabytes=64):
        assert main([*LONG_RUN, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {out / 'history.json'} (a symlink to" in err
    assert sorted(os.listdir(out)) == ["history.json"]
