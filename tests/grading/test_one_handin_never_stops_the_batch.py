"""A hand-in whose grading hangs, blocks the timer, kills its worker or eats the memory gets 0
with the reason, and every other student of the batch is graded as usual."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time

import pytest
from classroom import SECRET, write_roster

from nn import grade_folder, make_sheets
from nn.grading import batch

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="the workers inherit the patched grader through fork")

REAL = batch.grade_student


def misbehaving(job):
    sid = job.student.id
    if sid == "s001":
        time.sleep(60)  # the timer in the worker stops it
    elif sid == "s002":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)  # deaf to the timer: the main process kills the worker
    elif sid == "s003":
        os._exit(3)
    elif sid == "s004":
        return bytearray(8 * 2**30)  # 8 GiB at once, past the worker's limit
    return REAL(job)


def test_each_bad_grading_gets_0_and_the_rest_is_graded(tmp_path, monkeypatch):
    write_roster(tmp_path / "roster.csv", 8)
    make_sheets(tmp_path / "roster.csv", tmp_path / "sheets", SECRET, "network")
    handins = tmp_path / "in"
    handins.mkdir()
    for i in range(8):
        shutil.copy(tmp_path / "sheets" / "keys" / f"s{i:03d}.csv", handins / f"s{i:03d}.csv")
    monkeypatch.setattr(batch, "grade_student", misbehaving)
    monkeypatch.setattr(batch, "GRACE", 0.5)
    started = time.monotonic()
    grades = grade_folder(tmp_path / "sheets", handins, tmp_path / "g", SECRET, workers=2,
                          progress=False, time_limit=2.0, memory_limit=256 * 2**20)
    assert time.monotonic() - started < 60
    by_id = {g.student.id: g for g in grades}
    assert "took longer than 2 s" in by_id["s001"].reason
    assert "took longer than 2 s" in by_id["s002"].reason
    assert "stopped the worker (exit code 3)" in by_id["s003"].reason
    assert "ran out of memory" in by_id["s004"].reason
    for sid in ("s001", "s002", "s003", "s004"):
        assert by_id[sid].score == 0
        assert (tmp_path / "g" / "feedback" / f"{sid}.txt").exists()
    for sid in ("s000", "s005", "s006", "s007"):
        assert by_id[sid].reason == "" and by_id[sid].score == by_id[sid].out_of == 27
    book = (tmp_path / "g" / "gradebook.csv").read_text(encoding="utf-8")
    assert book.count("\n") == 9
