"""A Chromium page with no network: every request to anything but 127.0.0.1 or a file is
blocked and recorded, and any console error or uncaught exception is recorded; both lists must
be empty when the page is closed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

LOCAL_HOSTS = ("127.0.0.1",)


def is_local(url: str) -> bool:
    """Whether a request for ``url`` stays on this machine: a file, inline data, or 127.0.0.1."""
    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about"):
        return True
    return parts.scheme in ("http", "https", "ws") and parts.hostname in LOCAL_HOSTS


@contextmanager
def offline_page(browser: Any, clock: bool = False) -> Iterator[Any]:
    """A fresh page in its own context (fake timers with ``clock``); on leaving, fails if it
    asked for anything outside this machine or logged an error."""
    context = browser.new_context(viewport={"width": 1200, "height": 800},
                                  service_workers="block")
    page = context.new_page()
    if clock:
        page.clock.install()
    errors: list[str] = []
    blocked: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if is_local(url):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    try:
        yield page
    finally:
        context.close()
    assert blocked == [], f"the page asked the network for {blocked}"
    assert errors == [], f"the page logged errors: {errors}"
