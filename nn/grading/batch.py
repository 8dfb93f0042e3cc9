"""A folder graded at once: ``grade_folder(sheets, handins, out, secret)``.

Every student on the roster of ``sheets`` (written by ``make_sheets``) is graded from their
hand-in ``handins/ID.csv`` (or ``ID.json``), against their own problem made again from the
roster and the secret, in a pool of worker processes. It writes::

    out/feedback/ID.txt, ID.html    each student's report, as ``edgegrad check`` prints it
    out/results/ID.json             the same in Gradescope's autograder results format
    out/summary.txt, summary.png    the class: each answer's share of right answers and the
                                    most common diagnoses (the plot needs matplotlib)
    out/gradebook.csv               one row per student on the roster (and one per file that
                                    names no student), written last

One hand-in never stops, slows or exhausts the batch: each is read under a size cap
(``HANDIN_BYTES``), and graded in a worker under a time limit (a timer in the worker, and the
worker killed when it overruns by ``GRACE`` seconds) and a memory limit (``RLIMIT_AS``, on
Linux); a worker that dies is replaced, and its student gets 0 with the reason.

Every file is written whole (``atomic_write``): the workers write each student's files without
waiting for the disk (``durable=False``, some milliseconds saved per file), and one ``os.sync``
makes them durable before the summary and the grade book are written, the grade book last. A
file already holding the same bytes is left as it is, so a rerun after Ctrl-C or a kill grades
again (it is cheap and deterministic), writes only what is missing or changed, and ends with the
grade book of an uninterrupted run.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from autograd import atomic_write

from .gradescope import results
from .grading import Job, StudentGrade, grade_student, refused_grade
from .handin import HANDIN_BYTES
from .points import Points
from .roster import ID_PATTERN, Student, seed_for
from .sheets import read_class
from .summary import write_summary

__all__ = ["GRACE", "GRADEBOOK_COLUMNS", "MEMORY_LIMIT", "TIME_LIMIT", "grade_folder",
           "grade_job", "gradebook_csv", "read_gradebook"]

TIME_LIMIT = 10.0
"""Seconds a worker may spend on one hand-in by default (a worksheet takes milliseconds)."""

GRACE = 2.0
"""Seconds past the time limit before a worker that does not answer is killed."""

MEMORY_LIMIT = 512 * 2**20
"""Bytes a worker may grow by while grading, by default (``RLIMIT_AS``, on Linux)."""

GRADEBOOK_COLUMNS = ("id", "name", "score", "out_of", "right", "wrong", "blank",
                     "first_diagnosis", "reason")
"""The columns of gradebook.csv."""

# ---------------------------------------------------------------------------------------------
# One hand-in in a worker.


class _TimeUp(BaseException):
    """Raised in a worker by its timer. A BaseException, so no ``except Exception`` in the
    grading code can swallow it."""


def _alarm(signum: int, frame: Any) -> None:
    raise _TimeUp


def _limit_memory(limit: int) -> None:
    """Let this process grow by at most ``limit`` bytes of address space (Linux only)."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):
        return
    cap = used + limit
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (whole, not yet synced to the disk) unless it already holds
    exactly that: a rerun rewrites only what is missing or changed."""
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write(path, data, durable=False)


def write_student(out: Path, g: StudentGrade, feedback: dict[str, str]) -> None:
    """Write a student's feedback/ID.txt, feedback/ID.html and results/ID.json into ``out``."""
    sid = g.student.id
    _write_if_changed(out / "feedback" / f"{sid}.txt", feedback["txt"])
    _write_if_changed(out / "feedback" / f"{sid}.html", feedback["html"])
    # Compact: json.dumps with an indent runs the pure-Python encoder, 20 times slower.
    _write_if_changed(out / "results" / f"{sid}.json",
                      json.dumps(results(g), ensure_ascii=False, separators=(",", ":")) + "\n")


def grade_job(job: Job, out: Path, time_limit: float | None = None) -> StudentGrade:
    """Grade ``job`` and write its files into ``out``; never raises for a bad hand-in: one
    that takes longer than ``time_limit`` seconds (a timer, in the main thread of a
    process), exhausts the memory or breaks the grader gets 0 with the reason."""
    timer = time_limit is not None and hasattr(signal, "setitimer")
    if timer:
        assert time_limit is not None
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        try:
            outcome = grade_student(job)
        finally:
            if timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _TimeUp:
        outcome = refused_grade(job, f"its grading took longer than {time_limit:g} s")
    except MemoryError:
        outcome = refused_grade(job, "its grading ran out of memory")
    except RecursionError:
        outcome = refused_grade(job, "its grading nested too deeply")
    except Exception as e:  # one hand-in never stops the batch
        outcome = refused_grade(job, f"it could not be graded ({type(e).__name__}: {e})")
    write_student(out, *outcome)
    return outcome[0]


def _serve(conn: Connection, out: Path, time_limit: float, memory_limit: int) -> None:
    """A worker: grade each job received into ``out``, send back its grade, until None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _limit_memory(memory_limit)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(grade_job(job, out, time_limit))


# ---------------------------------------------------------------------------------------------
# The pool: each worker holds at most ``QUEUED`` jobs, done in the order given, so the main
# process knows which hand-in each worker is on, since when, and whose it was when a worker dies.

QUEUED = 2
"""Jobs sent to a worker ahead: the next one waits in its pipe while it grades, so it never
idles waiting for the main process."""


class _Worker:
    def __init__(self, ctx: Any, out: Path, time_limit: float, memory_limit: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, out, time_limit, memory_limit),
                                   daemon=True)
        self.process.start()
        child.close()
        self.jobs: deque[Job] = deque()  # the first is being graded, since self.started
        self.started = 0.0

    def give(self, job: Job) -> None:
        if not self.jobs:
            self.started = time.monotonic()
        self.jobs.append(job)
        self.conn.send(job)

    def finished(self) -> None:
        self.jobs.popleft()
        self.started = time.monotonic()

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _context() -> Any:
    # fork starts a worker in milliseconds and needs no `if __name__ == "__main__"` in the
    # caller's script; elsewhere spawn, the only method there.
    method = "fork" if sys.platform == "linux" else "spawn"
    return multiprocessing.get_context(method)


def _run_pool(jobs: Sequence[Job], out: Path, workers: int, time_limit: float,
              memory_limit: int, done: Callable[[StudentGrade], None],
              started: Callable[[], None] = lambda: None) -> None:
    ctx = _context()
    pending = deque(jobs)
    pool = [_Worker(ctx, out, time_limit, memory_limit)
            for _ in range(min(workers, len(jobs)))]
    started()
    try:
        while pending or any(w.jobs for w in pool):
            for w in pool:
                while len(w.jobs) < QUEUED and pending:
                    w.give(pending.popleft())
            busy = [w for w in pool if w.jobs]
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=0.5)
            for k, w in enumerate(pool):
                try:
                    while w.jobs and w.conn.poll():
                        grade: StudentGrade = w.conn.recv()
                        w.finished()
                        done(grade)
                except (EOFError, OSError):
                    pass
                if not w.jobs:
                    continue
                if not w.process.is_alive():
                    reason = (f"its grading stopped the worker (exit code "
                              f"{w.process.exitcode})")
                elif time.monotonic() - w.started > time_limit + GRACE:
                    reason = f"its grading took longer than {time_limit:g} s"
                else:
                    continue
                w.stop(kill=True)
                job = w.jobs.popleft()
                pending.extendleft(reversed(w.jobs))  # not started: given to the next worker
                pool[k] = _Worker(ctx, out, time_limit, memory_limit)
                g, feedback = refused_grade(job, reason)
                write_student(out, g, feedback)
                done(g)
    finally:
        for w in pool:
            w.stop(kill=bool(w.jobs))


# ---------------------------------------------------------------------------------------------
# The folder.


def _find_handins(handins: Path, students: Sequence[Student]
                  ) -> tuple[dict[str, list[Path]], list[tuple[str, str]]]:
    """The hand-in files of each student (by id), and the files that name no student, each
    with the reason."""
    by_id = {s.id.lower(): s.id for s in students}
    found: dict[str, list[Path]] = {s.id: [] for s in students}
    strays: list[tuple[str, str]] = []
    for entry in sorted(os.scandir(handins), key=lambda e: e.name):
        name = entry.name
        stem = name.rsplit(".", 1)[0] if "." in name else name
        if ".." in name:
            strays.append((name, "a file name with '..'; a hand-in is named ID.csv"))
        elif name.startswith("."):
            continue  # .DS_Store and other hidden files are not hand-ins
        elif stem.lower() in by_id:
            found[by_id[stem.lower()]].append(Path(entry.path))
        elif ID_PATTERN.fullmatch(stem):
            strays.append((name, f"{stem} is not an id on the roster"))
        else:
            strays.append((name, "the file name is not an id; a hand-in is named ID.csv"))
    return found, strays


def _job(student: Student, files: list[Path], kind: str, secret: bytes, points: Points,
         limit: int) -> Job:
    seed = seed_for(secret, student.id)
    if len(files) > 1:
        names = ", ".join(p.name for p in files)
        return Job(student, kind, seed, None, f"{len(files)} hand-ins with this id ({names}); "
                                              "keep one", points, limit)
    if not files:
        return Job(student, kind, seed, None, "", points, limit)
    path = files[0]
    if path.suffix.lower() not in (".csv", ".json"):
        return Job(student, kind, seed, None, f"{path.name} is not a worksheet: hand in the "
                                              "worksheet's CSV (ID.csv)", points, limit)
    return Job(student, kind, seed, str(path), "", points, limit)


def _cell(text: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: such text is quoted.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(grades: Iterable[StudentGrade], strays: Iterable[tuple[str, str]]) -> str:
    """The grade book as CSV text (``GRADEBOOK_COLUMNS``): one row per graded student, then one
    per file that names no student (score 0, the reason)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GRADEBOOK_COLUMNS)
    for g in grades:
        writer.writerow([g.student.id, _cell(g.student.name), f"{round(g.score, 4):g}",
                         f"{round(g.out_of, 4):g}", g.right, g.wrong, g.blank,
                         _cell(g.first_diagnosis), _cell(g.reason)])
    for name, reason in strays:
        shown = "".join(c if c.isprintable() else "?" for c in name)[:100]
        writer.writerow([_cell(shown), "", "0", "0", 0, 0, 0, "", _cell(reason)])
    return out.getvalue()


def read_gradebook(path: str | Path) -> list[dict[str, str]]:
    """The rows of a gradebook.csv as dicts by column."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _progress(total: int, show: bool) -> Any:
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="grading", unit="hand-in", leave=True)


def _import_matplotlib() -> None:
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        pass


def grade_folder(sheets: str | Path, handins: str | Path, out: str | Path, secret: bytes,
                 points: Points | None = None, workers: int | None = None,
                 progress: bool = True, time_limit: float = TIME_LIMIT,
                 memory_limit: int = MEMORY_LIMIT, handin_bytes: int = HANDIN_BYTES
                 ) -> list[StudentGrade]:
    """Grade the hand-ins in ``handins`` of the class in ``sheets`` into ``out`` (the files in
    the module doc); return each roster student's grade, in roster order. ``workers``
    processes grade (default: one per CPU; 0 grades in this process, without the time and
    memory limits); ``progress`` shows a tqdm bar when tqdm is installed."""
    klass = read_class(sheets, secret)
    points = points or Points()
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            (os.cpu_count() or 1)
    if workers < 0 or time_limit <= 0 or memory_limit <= 0 or handin_bytes <= 0:
        raise ValueError("workers must be >= 0, and time_limit, memory_limit and handin_bytes "
                         "> 0")
    folder = Path(handins)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of hand-ins (ID.csv, one per "
                                 "student)")
    found, strays = _find_handins(folder, klass.students)
    jobs = [_job(s, found[s.id], klass.kind, secret, points, handin_bytes)
            for s in klass.students]
    target = Path(out)
    for sub in ("feedback", "results"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    grades: dict[str, StudentGrade] = {}
    bar = _progress(len(jobs), progress)

    def done(g: StudentGrade) -> None:
        grades[g.student.id] = g
        if bar is not None:
            bar.update(1)

    # The summary's plot needs matplotlib, whose import takes a second or more: it is
    # imported while the workers grade (once they are started: fork copies one thread).
    preload = threading.Thread(target=_import_matplotlib, daemon=True)
    try:
        if workers == 0:
            preload.start()
            for job in jobs:
                done(grade_job(job, target))
        else:
            _run_pool(jobs, target, workers, time_limit, memory_limit, done, preload.start)
    finally:
        if bar is not None:
            bar.close()
    # The students' files went to the disk unsynced, each whole; one sync makes them durable
    # before the grade book, written last, says the batch is done.
    if hasattr(os, "sync"):
        os.sync()
    ordered = [grades[s.id] for s in klass.students]
    write_summary(target, ordered)
    atomic_write(target / "gradebook.csv", gradebook_csv(ordered, strays))
    return ordered

