"""A test helper: run code while another thread sits inside a with-block (hooks, no_grad and
anomaly mode are per thread, so that block must not reach this thread)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any


@contextmanager
def held_in_another_thread(block: Callable[[], AbstractContextManager[Any]]) -> Iterator[None]:
    """The body runs while a second thread is inside ``with block():``; it leaves after."""
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with block():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    try:
        yield
    finally:
        release.set()
        t.join()
