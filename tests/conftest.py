"""Shared test settings: a modest, deterministic hypothesis profile (CI has 2 cores); the
markers of the slower tests; the documentation site, built once for the tests that read it
and the browser tests that open it; Chromium for the browser tests (``browser``); and a list
of the screenshots the browser tests take, printed at the end of the run for a person to look
at."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "edgegrad",
    max_examples=int(os.environ.get("EDGEGRAD_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("edgegrad")


SCREENSHOTS = pytest.StashKey[list[Path]]()


def pytest_configure(config: pytest.Config) -> None:
    # The tests of the project as users meet it: in a browser, as a site, as an installed wheel.
    for line in ("browser: opens the HTML the project writes in Chromium (skipped without one)",
                 "docs: builds the documentation site",
                 "wheel: builds the wheel and installs it into fresh virtual environments"):
        config.addinivalue_line("markers", line)
    config.stash[SCREENSHOTS] = []


ROOT = Path(__file__).resolve().parent.parent


def build_docs(config: Path, site: Path) -> "subprocess.CompletedProcess[str]":
    """``mkdocs build --strict`` of ``config`` into ``site``."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--config-file", str(config), "--site-dir", str(site)],
                          capture_output=True, text=True, cwd=config.parent, env=env,
                          timeout=600)


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory: pytest.TempPathFactory
               ) -> "tuple[Path, subprocess.CompletedProcess[str]]":
    """The documentation site, built once per run with --strict (which writes every page
    before it aborts), and the build's result. It executes the notebooks."""
    pytest.importorskip("mkdocs", reason="the docs tools: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    return out, build_docs(ROOT / "mkdocs.yml", out)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium, one per test module (``chromium.launch``: skipped without one)."""
    from chromium import launch
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> list[Path]:
    """Append a screenshot's path here: the run's summary lists it."""
    return request.config.stash[SCREENSHOTS]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    paths = config.stash.get(SCREENSHOTS, [])
    if paths:
        terminalreporter.write_sep("-", "screenshots of the players, first and last frames")
        for path in paths:
            terminalreporter.write_line(str(path))
