"""edgegrad exercise --roster and edgegrad grade: a problem per student from their id and the
secret (never written on a sheet), a folder graded from the command line, and a batch killed
at a random point and rerun ending with the same files as an uninterrupted run."""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from classroom import SECRET, handin_csv, read_key, write_roster

from nn.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
SECRET_TEXT = SECRET.decode()


def sheets_for(tmp: Path, n: int, kind: str = "network", secret: str = SECRET_TEXT) -> Path:
    write_roster(tmp / "roster.csv", n)
    out = tmp / f"sheets-{kind}-{len(secret)}"
    assert main(["exercise", "--roster", str(tmp / "roster.csv"), "--kind", kind,
                 "--secret", secret, "--out", str(out)]) == 0
    return out


def test_grade_is_registered():
    assert "grade" in {m.__name__.rsplit(".", 1)[1] for m in SUBCOMMANDS}


def test_each_student_gets_their_own_sheet_and_the_secret_is_nowhere(tmp_path, capsys):
    sheets = sheets_for(tmp_path, 12, "expression")
    assert "wrote the sheets of 12 students" in capsys.readouterr().out
    problems = set()
    for i in range(12):
        sid = f"s{i:03d}"
        folder = sheets / "students" / sid
        sheet = (folder / "worksheet.csv").read_text(encoding="utf-8")
        rows = list(csv.reader(sheet.splitlines()))
        assert rows[1][:3] == ["student.id", "", sid]
        assert rows[2][:3] == ["student.name", "", f"Student {i}, Zoë"]
        assert f"(id `{sid}`)" in (folder / "worksheet.md").read_text(encoding="utf-8")
        problems.add((folder / "problem.json").read_text(encoding="utf-8"))
        assert (sheets / "keys" / f"{sid}.csv").exists()
    assert len(problems) >= 10  # a problem each (a few of the small expressions may repeat)
    for path in sheets.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_bytes(), path


def test_a_problem_depends_on_the_id_and_the_secret_only(tmp_path):
    first = sheets_for(tmp_path, 5)
    again = tmp_path / "again"
    write_roster(tmp_path / "roster2.csv", 9)  # a longer roster: the first five unchanged
    assert main(["exercise", "--roster", str(tmp_path / "roster2.csv"), "--kind", "network",
                 "--secret", SECRET_TEXT, "--out", str(again)]) == 0
    other = sheets_for(tmp_path, 5, secret=SECRET_TEXT + "!")
    for i in range(5):
        p = Path("students", f"s{i:03d}", "problem.json")
        assert (first / p).read_bytes() == (again / p).read_bytes()
        assert (first / p).read_bytes() != (other / p).read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--kind", "network"], "the course secret is needed"),
    (["--secret", "short"], "use at least 16"),
    (["--secret", SECRET_TEXT, "--seed", "3"], "leave out --seed"),
])
def test_roster_errors_are_clear(tmp_path, capsys, args, message):
    write_roster(tmp_path / "roster.csv", 2)
    assert main(["exercise", "--roster", str(tmp_path / "roster.csv"), "--out",
                 str(tmp_path / "s"), *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("roster, message", [
    ("name\nAda\n", "no id column"),
    ("id\ns1\nS1\n", "already on row 2"),
    ("id\n../etc\n", "not a valid id"),
])
def test_a_bad_roster_is_refused(tmp_path, capsys, roster, message):
    (tmp_path / "r.csv").write_text(roster, encoding="utf-8")
    assert main(["exercise", "--roster", str(tmp_path / "r.csv"), "--secret", SECRET_TEXT,
                 "--out", str(tmp_path / "s")]) == 2
    assert message in capsys.readouterr().err


def test_grading_with_another_secret_is_refused(tmp_path, capsys):
    sheets = sheets_for(tmp_path, 2)
    (tmp_path / "in").mkdir()
    assert main(["grade", str(sheets), str(tmp_path / "in"), "--out", str(tmp_path / "g"),
                 "--secret", SECRET_TEXT + "x", "--no-progress"]) == 2
    assert "not the one the sheets" in capsys.readouterr().err
    assert not (tmp_path / "g" / "gradebook.csv").exists()


def test_a_folder_graded_from_the_command_line(tmp_path, capsys):
    sheets = sheets_for(tmp_path, 4)
    handins = tmp_path / "in"
    handins.mkdir()
    shutil.copy(sheets / "keys" / "s000.csv", handins / "s000.csv")
    order, key = read_key(sheets, "s001")
    wrong = {row: repr(-v) for row, v in key.items()}
    (handins / "s001.csv").write_text(handin_csv("s001", wrong, order), encoding="utf-8")
    (tmp_path / "points.json").write_text('{"delta": 3, "upstream_credit": 0.25}')
    assert main(["grade", str(sheets), str(handins), "--out", str(tmp_path / "g"),
                 "--secret", SECRET_TEXT, "--points", str(tmp_path / "points.json"),
                 "--workers", "2", "--no-progress"]) == 0
    assert "graded 2 hand-ins of 4 students" in capsys.readouterr().out
    with open(tmp_path / "g" / "gradebook.csv", encoding="utf-8") as f:
        book = {r["id"]: r for r in csv.DictReader(f)}
    # 12 values, 6 deltas at 3 points, 9 gradients: 39 points.
    assert (book["s000"]["score"], book["s000"]["out_of"]) == ("39", "39")
    assert book["s001"]["first_diagnosis"].endswith("sign slip")
    assert book["s002"]["reason"] == "no hand-in"


def test_a_bad_points_file_is_refused(tmp_path, capsys):
    sheets = sheets_for(tmp_path, 1)
    (tmp_path / "in").mkdir()
    (tmp_path / "p.json").write_text('{"deltas": 2}')
    assert main(["grade", str(sheets), str(tmp_path / "in"), "--out", str(tmp_path / "g"),
                 "--secret", SECRET_TEXT, "--points", str(tmp_path / "p.json")]) == 2
    assert "unknown kind of answer 'deltas'" in capsys.readouterr().err


def _class(tmp: Path, n: int) -> tuple[Path, Path]:
    sheets = sheets_for(tmp, n)
    handins = tmp / "handins"
    handins.mkdir()
    rng = random.Random(7)
    for i in range(n):
        sid = f"s{i:03d}"
        if i % 10 == 9:
            continue  # missing
        order, key = read_key(sheets, sid)
        text = {row: repr(v) for row, v in key.items()}
        for row in rng.sample(sorted(text, key=str), 3):
            text[row] = repr(-key[row]) if i % 2 else ""
        (handins / f"{sid}.csv").write_text(handin_csv(sid, text, order), encoding="utf-8")
    return sheets, handins


def _grade_command(sheets: Path, handins: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "nn", "grade", str(sheets), str(handins), "--out", str(out),
            "--secret", SECRET_TEXT, "--workers", "2", "--no-progress"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "summary.png" and not p.name.endswith(".tmp")}


@pytest.mark.slow
def test_killed_at_a_random_point_and_rerun_it_ends_as_a_clean_run(tmp_path):
    sheets, handins = _class(tmp_path, 200)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    done = subprocess.run(_grade_command(sheets, handins, clean), env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    when = random.Random().randint(5, 150)  # feedback files to wait for before the kill
    process = subprocess.Popen(_grade_command(sheets, handins, killed), env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            feedback = killed / "feedback"
            if feedback.is_dir() and sum(1 for _ in feedback.glob("*.txt")) >= when:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the batch ended before the kill"
    assert not (killed / "gradebook.csv").exists()  # written last
    partial = _files(killed)
    for name, data in partial.items():  # every file written so far is whole
        assert data == _files(clean)[name], name
    rerun = subprocess.run(_grade_command(sheets, handins, killed), env=_env(),
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert _files(killed) == _files(clean)
    assert not list(killed.rglob("*.tmp"))
