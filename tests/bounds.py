"""``bounded(seconds, megabytes)``: a block that must finish in time and within memory.

Hostile inputs are tested for what they cost, not for speed: the bounds are generous (a slow CI
machine meets them easily) and catch only a hang or an explosion, which is what a bad input
causes. A block that overruns is interrupted by SIGALRM rather than hanging the test run.
"""

from __future__ import annotations

import signal
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager


class Overrun(AssertionError):
    """The block took longer than its bound."""


@contextmanager
def bounded(seconds: float = 10.0, megabytes: float = 64.0) -> Iterator[None]:
    """Fail unless the block ends within ``seconds`` and its peak Python allocation stays
    under ``megabytes``."""
    watchdog = (hasattr(signal, "setitimer")
                and threading.current_thread() is threading.main_thread())

    def overrun(signum: int, frame: object) -> None:
        raise Overrun(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, overrun) if watchdog else None
    if watchdog:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if watchdog:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _, peak = tracemalloc.get_traced_memory()
        if started:
            tracemalloc.stop()
    elapsed = time.perf_counter() - t0
    assert elapsed < seconds, f"took {elapsed:.1f} s, more than {seconds} s"
    assert peak < megabytes * 2**20, f"allocated {peak / 2**20:.1f} MB at the peak"
