"""One writer for every output file (``autograd.atomic_write``), and fault injection for each
file edgegrad writes: a full disk (a small tmpfs, skipped where one cannot be mounted), a
process killed mid-write and a symlinked target. The old file always stays whole, a failure
leaves no temporary file, and the message names the file."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from outputs import WRITERS, missing

from autograd import atomic_write
from autograd.files import atomic as files
from nn.cli import main

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
OLD = "the old file, whole\n"


def temps(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def writer(key: str):
    why = missing(key)
    if why:
        pytest.skip(f"{key} needs {why}")
    fn, name, _ = WRITERS[key]
    return fn, name


# -- the writer itself ---------------------------------------------------------------------------

def test_writes_text_and_bytes_and_returns_the_path(tmp_path: Path) -> None:
    out = atomic_write(tmp_path / "a.txt", "héllo\n")
    assert out == tmp_path / "a.txt" and out.read_bytes() == "héllo\n".encode()
    atomic_write(out, b"\x00\x01")
    assert out.read_bytes() == b"\x00\x01" and temps(tmp_path) == []


def test_a_new_file_follows_the_umask_and_a_replaced_one_keeps_its_mode(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        private = atomic_write(tmp_path / "private.json", "{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    shared = atomic_write(tmp_path / "shared.json", "{}")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o666 & ~previous
    shared.chmod(0o640)
    atomic_write(shared, "[]")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640 and shared.read_text() == "[]"


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text(OLD)
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "made.json")
    atomic_write(dangling, "made")
    assert dangling.is_symlink() and (tmp_path / "made.json").read_text() == "made"


def test_only_regular_files_are_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="directory") as info:
        atomic_write(folder, "x")
    assert str(folder) in str(info.value)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="FIFO, not a regular file"):
        atomic_write(fifo, "x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    if os.path.exists("/dev/full"):
        link = tmp_path / "full.json"
        link.symlink_to("/dev/full")
        with pytest.raises(OSError, match="character device") as info:
            atomic_write(link, "x")
        assert str(link) in str(info.value) and link.is_symlink()
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert temps(tmp_path) == []


def test_the_error_names_the_target_not_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "model.json"
    with pytest.raises(FileNotFoundError) as info:
        atomic_write(target, "x")
    assert info.value.filename == str(target) and ".tmp" not in str(info.value)


def test_an_interrupt_mid_write_leaves_the_old_file_and_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.svg"
    target.write_text(OLD)

    def interrupted(fd: int, data: bytes) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_text() == OLD and temps(tmp_path) == []


def test_a_dead_writers_temporary_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f".m.json.{dead.stdout.strip()}.0123456789ab.tmp"
    mine = tmp_path / f".m.json.{os.getpid()}.0123456789ab.tmp"  # a live writer's: kept
    other = tmp_path / ".m.json.notes.tmp"  # not a name the writer makes: kept
    for p in (stale, mine, other):
        p.write_text("partial")
    atomic_write(tmp_path / "m.json", "{}")
    assert not stale.exists() and mine.exists() and other.exists()


# -- fault injection for every output file -------------------------------------------------------

@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on its own 1 MB tmpfs, which a test fills with ``fill``."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("a full disk is a small tmpfs, and mounting one needs root on Linux")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def fill(folder: Path) -> None:
    """Take every free byte of the file system of ``folder``."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (b"\0" * 65536, b"\0" * 4096, b"\0"):
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as e:
                    assert e.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)


@pytest.mark.parametrize("key", sorted(WRITERS))
def test_on_a_full_disk_the_old_file_stays_and_the_message_names_it(key: str,
                                                                     disk: Path) -> None:
    fn, name = writer(key)
    target = disk / name
    target.write_text(OLD)
    fill(disk)
    with pytest.raises(OSError) as info:
        fn(target)
    assert info.value.errno == errno.ENOSPC and str(target) in str(info.value)
    assert target.read_text() == OLD
    assert temps(disk) == []


@pytest.mark.parametrize("key", sorted(WRITERS))
def test_killed_mid_write_the_old_file_stays_and_the_next_write_cleans_up(
        key: str, tmp_path: Path) -> None:
    fn, name = writer(key)
    target = tmp_path / name
    target.write_text(OLD)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
    child = subprocess.Popen([sys.executable, str(TESTS / "outputs.py"), key, str(target)],
                             stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
    finally:
        child.kill()  # kill -9: no handler, no cleanup
        child.wait(timeout=60)
    assert target.read_text() == OLD
    left = temps(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".{name}.{child.pid}.")
    fn(target)
    assert target.read_bytes() != OLD.encode() and target.stat().st_size > 0
    assert temps(tmp_path) == []


@pytest.mark.parametrize("key", sorted(WRITERS))
def test_through_a_symlink_the_target_is_written_and_the_link_stays(key: str,
                                                                  tmp_path: Path) -> None:
    fn, name = writer(key)
    real = tmp_path / "elsewhere" / name
    real.parent.mkdir()
    real.write_text(OLD)
    out = tmp_path / "out"
    out.mkdir()
    link = out / name
    link.symlink_to(real)
    fn(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() != OLD.encode() and real.stat().st_size > 0
    assert temps(out) == [] and temps(real.parent) == []
    if os.path.exists("/dev/full"):
        link.unlink()
        link.symlink_to("/dev/full")
        with pytest.raises(OSError, match="character device") as info:
            fn(link)
        assert str(link) in str(info.value) and link.is_symlink()


# -- the command line: every file of `edgegrad train`, and `edgegrad draw` ----------------------

TRAIN = ["train", "--dataset", "xor", "--hidden", "3", "--epochs", "5", "--quiet"]
TRAIN_FILES = ["model.json", "history.json", "training.png", "boundary.png", "graph.svg"]


class _FailingOs:
    """``os`` for autograd.files.atomic in which writing the temporary file of one target fails with
    ENOSPC, as on a disk that is full by then."""

    def __init__(self, victim: str) -> None:
        self.victim = victim
        self.doomed: set[int] = set()

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    def open(self, path: str, flags: int, mode: int = 0o777) -> int:
        fd = os.open(path, flags, mode)
        if os.path.basename(path).startswith(f".{self.victim}."):
            self.doomed.add(fd)
        return fd

    def close(self, fd: int) -> None:
        self.doomed.discard(fd)  # the number may be reused for another file
        os.close(fd)

    def write(self, fd: int, data: bytes) -> int:
        if fd in self.doomed:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)


@pytest.mark.parametrize("victim", TRAIN_FILES)
def test_train_on_a_disk_that_fills_up_names_the_file_and_keeps_it_whole(
        victim: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    if victim.endswith(".png") and missing("plot_history"):
        pytest.skip("the plots need matplotlib")
    if victim == "graph.svg" and missing("save .svg"):
        pytest.skip("graph.svg needs Graphviz's dot program")
    out = tmp_path / "run"
    out.mkdir()
    for name in TRAIN_FILES:
        (out / name).write_text(OLD)
    monkeypatch.setattr(files, "os", _FailingOs(victim))
    assert main([*TRAIN, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("edgegrad train: error:") and str(out / victim) in err
    assert "No space left on device" in err and len(err.splitlines()) == 1
    assert (out / victim).read_text() == OLD
    before = TRAIN_FILES[:TRAIN_FILES.index(victim)]
    for name in TRAIN_FILES:  # written in order: the ones before are new, the rest untouched
        assert ((out / name).read_text(errors="replace") == OLD) == (name not in before), name
    assert temps(out) == []


def test_train_on_a_full_disk_fails_before_touching_any_output(disk: Path,
                                                               capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    out = disk / "run"
    out.mkdir()
    for name in TRAIN_FILES:
        (out / name).write_text(OLD)
    fill(disk)
    assert main([*TRAIN, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(out / "model.json") in err and "No space left on device" in err
    assert all((out / name).read_text() == OLD for name in TRAIN_FILES)
    assert temps(out) == []


@pytest.mark.parametrize("name", ["graph.dot", "graph.svg", "backward.html"])
def test_draw_on_a_full_disk_names_the_file(name: str, disk: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    if name != "graph.dot" and missing("save .svg"):
        pytest.skip("needs Graphviz's dot program")
    target = disk / name
    target.write_text(OLD)
    fill(disk)
    assert main(["draw", "c*(a+2*b)", "a=3", "b=1", "c=-2", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert str(target) in err and "No space left on device" in err
    assert target.read_text() == OLD and temps(disk) == []


def test_draw_without_graphviz_never_replaces_a_dot_file_it_was_not_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    (tmp_path / "x.dot").write_text(OLD)
    assert main(["draw", "a*b", "a=1", "b=2", "-o", str(tmp_path / "x.svg")]) == 1
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "exists, so the DOT text was not written" in err
    assert (tmp_path / "x.dot").read_text() == OLD and not (tmp_path / "x.svg").exists()
