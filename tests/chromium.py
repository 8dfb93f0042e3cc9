"""Chromium for the browser tests, driven by Playwright: finding and starting it (the ``browser``
fixture of conftest.py; skipped, saying why, when there is none), and a page with no network
(``offline_page``): every request to anything but 127.0.0.1 or a file is blocked and recorded,
and so is any console error or uncaught exception; both lists must be empty when it closes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MAC_CHROME = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
# Headless, and quiet on a machine without a network: no sync, updates or background fetches.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]

def find_chromium() -> str | None:
    """``EDGEGRAD_CHROMIUM``, else the first Chromium or Chrome found on PATH (or macOS's)."""
    named = os.environ.get("EDGEGRAD_CHROMIUM")
    if named:
        return named
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return MAC_CHROME if os.path.exists(MAC_CHROME) else None


def launch(pw: Any) -> Any:
    """A headless Chromium started by Playwright ``pw``; the test is skipped, saying why and how
    to install one, when there is none."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (looked for EDGEGRAD_CHROMIUM, "
                    f"{', '.join(CHROMIUM_NAMES)}): install it with apt-get install chromium, "
                    "or run `make test`, which does")
    return pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


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
