"""The one writer of output files: ``atomic_write(path, data)``.

Every file edgegrad writes goes through it: model files (``nn``), drawings (``drawing.graph``),
players and GIFs (``drawing.player``) and everything ``edgegrad train`` and ``edgegrad draw``
write. It is part of ``autograd``'s public API, so ``nn`` uses it too.

What it promises: a reader, a crash, a signal or a full disk sees the old file or the new one,
never a part of either; a failed write leaves no temporary file, and its ``OSError`` names the
file being written, not the temporary one. A temporary file left by a process killed mid-write
(``kill -9``) is removed by the next write to the same path.
"""

from __future__ import annotations

import errno
import os
import pathlib
import secrets
import stat

__all__ = ["atomic_write", "check_writable"]

_TOKEN_CHARS = 12
"""Hex digits of randomness in a temporary file's name."""

_NAME_BYTES = 180
"""At most this much of the target's name goes into a temporary file's name (limit: 255)."""


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *,
                 durable: bool = True) -> pathlib.Path:
    """Replace the file ``path`` by ``data`` (a str is written as UTF-8) all at once; return
    ``path``.

    The data goes to a temporary file in the same folder (``.NAME.PID.RANDOM.tmp``), is flushed
    to the disk and renamed over ``path``: the rename is atomic, so the file is always whole.

    - A symlink is followed: its target is replaced and the link stays a link.
    - Only regular files are replaced: a directory, a device (``/dev/full``), a FIFO or a socket
      at ``path`` (or at the end of its symlink) is refused with an ``OSError``.
    - A new file gets the usual mode, 0o666 less the umask; a replaced file keeps its mode, and
      its owner and group when the process may set them.
    - Writing needs permission to create files in the folder, as any atomic replace does.
    - ``durable=False`` skips the two ``fsync`` calls (the file's and its folder's, some
      milliseconds each): the file is still replaced whole, whatever happens to this process
      (Ctrl-C, a kill), but a power cut may lose it. For many files at once, followed by one
      ``os.sync()`` (``nn.grading`` writes a class's feedback so).
    """
    out = pathlib.Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        _replace(out, payload, durable)
    except OSError as e:
        raise _naming(e, out) from None
    return out


def check_writable(path: str | os.PathLike[str]) -> pathlib.Path:
    """Raise the ``OSError`` ``atomic_write(path, ...)`` would raise for where it writes, before
    any work is spent on the data; return ``path``.

    Checked as the write does it: a symlink is followed (a dangling one names its missing
    target), the target must be a regular file or absent, and its folder must exist and take a
    new file, which is tried (a temporary file made and removed): permissions, a read-only
    disk and a full inode table all show. A disk that fills up later still fails the write.
    """
    out = pathlib.Path(path)
    target = pathlib.Path(os.path.realpath(out))
    via = f" (a symlink to {target})" if os.path.islink(out) else ""
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise type(e)(f"cannot write {out}{via}: {e.strerror}") from None
    # The messages are the whole str() of each error: no "[Errno N]" before them.
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"cannot write {out}{via}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OSError(f"cannot write {out}{via}: it is a {_kind(st.st_mode)}, not a regular "
                      "file")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {out}{via}: the folder {folder} does not exist")
    prefix = "." + os.fsdecode(os.fsencode(target.name)[:_NAME_BYTES]) + "."
    try:
        tmp, fd = _create(folder, prefix, new=True)
    except OSError as e:
        raise type(e)(f"cannot write {out}{via}: cannot make a file in {folder}: "
                      f"{e.strerror}") from None
    os.close(fd)
    try:
        os.unlink(tmp)
    except OSError:
        pass
    return out


def _naming(e: OSError, out: pathlib.Path) -> OSError:
    """``e`` with ``out`` as its file name (not the temporary file's), as the same subclass."""
    if e.errno is None or e.filename == str(out):
        return e
    named = OSError(e.errno, e.strerror, str(out))  # OSError(errno, ...) picks the subclass
    return named


def _replace(out: pathlib.Path, payload: bytes, durable: bool = True) -> None:
    target = pathlib.Path(os.path.realpath(out))
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        if stat.S_ISDIR(old.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory, not a file", str(out))
        raise OSError(errno.EINVAL, f"it is a {_kind(old.st_mode)}, not a regular file; "
                                    "edgegrad writes only regular files", str(out))
    folder = target.parent
    prefix = "." + os.fsdecode(os.fsencode(target.name)[:_NAME_BYTES]) + "."
    _remove_stale(folder, prefix)
    tmp, fd = _create(folder, prefix, new=old is None)
    try:
        try:
            if old is not None:
                _keep_owner_and_mode(fd, tmp, old)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        # Ctrl-C, a signal or a full disk mid-write: the target is untouched; drop the temp file.
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        _sync_folder(folder)


def _create(folder: pathlib.Path, prefix: str, new: bool) -> tuple[str, int]:
    """A fresh temporary file in ``folder``, opened for writing: its path and descriptor."""
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    # A new file is created with 0o666 and the kernel applies the umask, as for any new file
    # (reading the umask would change it for every thread for a moment). A replaced file's
    # mode is set once the file is private to us.
    mode = 0o666 if new else 0o600
    while True:
        tmp = os.path.join(folder, f"{prefix}{os.getpid()}.{secrets.token_hex(_TOKEN_CHARS // 2)}"
                                   ".tmp")
        try:
            return tmp, os.open(tmp, flags, mode)
        except FileExistsError:
            continue


def _keep_owner_and_mode(fd: int, tmp: str, old: os.stat_result) -> None:
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            pass  # only root may give a file away: the new file is then ours
    if hasattr(os, "fchmod"):
        os.fchmod(fd, old.st_mode & 0o777)
    else:
        os.chmod(tmp, old.st_mode & 0o777)


def _remove_stale(folder: pathlib.Path, prefix: str) -> None:
    """Remove this target's temporary files whose writing process no longer exists."""
    if os.name != "posix":
        return  # os.kill(pid, 0) tests for a process only on POSIX
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid, _, token = name[len(prefix):-len(".tmp")].partition(".")
        if not (pid.isascii() and pid.isdigit() and len(token) == _TOKEN_CHARS
                and all(c in "0123456789abcdef" for c in token)):
            continue
        if _alive(int(pid)):
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # it exists but is someone else's, or the number is not a pid: keep it
    return True


def _sync_folder(folder: pathlib.Path) -> None:
    # The rename is durable once the folder's entry is on the disk.
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"
