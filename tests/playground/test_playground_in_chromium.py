"""The playground page of the documentation site, in Chromium: Pyodide runs the project's own
engine in the page's worker, and what the page shows is checked against the engine here.

The site is the session's build (the ``docs_build`` fixture), served on 127.0.0.1 by a thread;
every request to any other host is refused, so the page works offline or fails here. Any
console error or uncaught exception fails the test. Pyodide takes seconds to start, so one
page serves the tests that begin where the page opens (in file order), and one more page
opens a shared address.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from chromium import CHROMIUM_ARGS, CHROMIUM_NAMES, find_chromium
from drawing.test_in_chromium import expected_frames
from graphs import karpathy

from autograd.drawing.graph import HIGHLIGHT
from autograd.teach.expr import ExpressionError, parse

pytestmark = [pytest.mark.browser, pytest.mark.docs]

READY_S = 120  # Pyodide starts in seconds; a busy CI machine gets a wide margin
JURAFSKY = {"a": 3.0, "b": 1.0, "c": -2.0}


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(docs_build: Any) -> Iterator[str]:
    """The built site on http://127.0.0.1:PORT/."""
    site, done = docs_build
    if not (site / "playground" / "pyodide.asm.wasm").is_file():
        pytest.fail("the site has no playground assets (run `npm ci`; `make test` does):\n"
                    + done.stderr[-2000:])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (looked for EDGEGRAD_CHROMIUM, "
                    f"{', '.join(CHROMIUM_NAMES)}): apt-get install chromium, or `make test`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True,
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """A page of the playground, and everything it logged as an error or tried to fetch
    from elsewhere."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.context.route(lambda u: urlsplit(u).hostname != "127.0.0.1", self._block)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.goto(url)
        self.page.wait_for_function("document.querySelector('#pg-grads li') !== null",
                                    timeout=READY_S * 1000)

    def _block(self, route: Any) -> None:
        self.blocked.append(route.request.url)
        route.abort()

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).inner_text())

    def grads(self) -> dict[str, float]:
        items = self.page.locator("#pg-grads li")
        return {items.nth(i).get_attribute("data-name"):
                float(items.nth(i).locator("b").inner_text().replace("\u2212", "-"))
                for i in range(items.count())}

    def draw(self, expression: str, values: str) -> None:
        self.page.fill("#pg-expr", expression)
        self.page.fill("#pg-values", values)
        self.page.click("#pg-draw")
        self.page.wait_for_function("!document.querySelector('#pg-draw').disabled")

    def assert_clean(self) -> None:
        assert self.errors == [], f"the page logged errors: {self.errors}"
        assert self.blocked == [], f"the page asked for other hosts: {self.blocked}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def opened(browser: Any, server: str) -> Iterator[Tab]:
    tab = Tab(browser, server + "playground/")
    yield tab
    tab.close()


@pytest.fixture
def tab(opened: Tab) -> Iterator[Tab]:
    yield opened
    opened.assert_clean()


def engine_values(expression: str, values: dict[str, float]) -> tuple[float, dict[str, float]]:
    leaves = {}
    root = parse(expression, {k: (leaves.setdefault(k, _leaf(k, v))) for k, v in values.items()})
    root.backward()
    return root.data, {k: v.grad for k, v in leaves.items()}


def _leaf(name: str, x: float) -> Any:
    from autograd import Value

    return Value(x, label=name)


def test_opens_on_jurafskys_graph(tab: Tab) -> None:
    value, grads = engine_values("c*(a+2*b)", JURAFSKY)
    assert (value, grads) == (-10.0, {"a": -2.0, "b": -4.0, "c": 5.0})  # the textbook's
    assert tab.text("#pg-value") == "c*(a+2*b) = \u221210"
    assert tab.grads() == grads
    assert tab.page.locator("#pg-graph svg g.node").count() > 0
    assert "Ready" in tab.text("#pg-status")
    assert tab.page.evaluate("location.search") == "?expr=c*(a%2B2*b)&a=3&b=1&c=-2"
    assert tab.page.input_value("#pg-example") == "Jurafsky & Martin: L = c·(a + 2b)"


def test_picking_a_textbook_example_draws_it(tab: Tab) -> None:
    a, b, c, f, _, _, L = karpathy()  # built by hand, not by the parser
    L.backward()
    tab.page.select_option("#pg-example", "Karpathy: L = (a·b + c)·f")
    tab.page.wait_for_function("document.querySelector('#pg-value').textContent"
                               ".startsWith('(a*b + c)*f')")
    tab.page.wait_for_function("!document.querySelector('#pg-draw').disabled")
    assert tab.text("#pg-value") == f"(a*b + c)*f = {L.data:g}".replace("-", "\u2212")
    assert tab.grads() == {"a": a.grad, "b": b.grad, "c": c.grad, "f": f.grad}
    tab.page.select_option("#pg-example", "Jurafsky & Martin: L = c·(a + 2b)")
    tab.page.wait_for_function("document.querySelector('#pg-value').textContent"
                               ".startsWith('c*(a+2*b)')")
    tab.page.wait_for_function("!document.querySelector('#pg-draw').disabled")


def test_a_step_advances_the_highlighted_edge(tab: Tab) -> None:
    root = parse("c*(a+2*b)", JURAFSKY)
    frames = expected_frames(root)
    hot_js = f"""() => Array.from(document.querySelectorAll('#pg-step-graph g.edge'))
        .filter(g => Array.from(g.querySelectorAll('path'))
                     .some(p => p.getAttribute('stroke') === '{HIGHLIGHT}'))
        .map(g => g.querySelector('title').textContent)"""
    seen = []
    for k in range(1, 4):
        tab.page.click('[data-step="next"]')
        tab.page.wait_for_function(f"document.querySelector('#pg-step-count').textContent"
                                   f".startsWith('{k + 1} /')")
        hot = tab.page.evaluate(hot_js)
        assert frames[k].edge is not None
        assert hot == [frames[k].edge[0]], f"frame {k}"
        assert frames[k].step is not None
        assert tab.text("#pg-step-caption").startswith(frames[k].step)
        seen.append(hot[0])
    assert len(set(seen)) == 3  # each step moved to another edge


def test_a_wrong_hand_worked_number_is_diagnosed(tab: Tab) -> None:
    tab.page.fill('#pg-questions input[data-key="a.grad"]', "2")  # right: -2
    tab.page.fill('#pg-questions input[data-key="c.grad"]', "5")
    tab.page.click("#pg-check")
    tab.page.wait_for_selector('#pg-check-result tr[data-key="a.grad"]')
    wrong = tab.text('#pg-check-result tr[data-key="a.grad"]')
    assert "sign slip" in wrong and "wrong" in wrong
    right = tab.page.locator('#pg-check-result tr[data-key="c.grad"]')
    assert right.get_attribute("class") == "pg-right"
    assert "2 answers: 1 right, 1 wrong" in tab.text("#pg-check-result")


def test_a_refused_expression_shows_the_parsers_message(tab: Tab) -> None:
    for expression in ["a+", "<b>a</b>", "__import__('os')"]:
        with pytest.raises(ExpressionError) as e:
            parse(expression, a=1)
        tab.draw(expression, "a=1")
        assert tab.page.locator("#pg-error").is_visible()
        assert tab.text("#pg-error") == str(e.value)
        assert tab.page.locator("#pg-error *").count() == 0  # shown as text, never as markup
        assert tab.page.locator("#pg-expr").get_attribute("aria-invalid") == "true"
    tab.draw("a*2", "a=x")
    said = tab.text("#pg-error")  # as edgegrad draw says it (its wording is its own test's)
    assert said.startswith("the value of a must be a number;") and "'x'" in said
    tab.draw("c*(a+2*b)", "a=3 b=1 c=-2")
    assert not tab.page.locator("#pg-error").is_visible()
    assert tab.grads() == {"a": -2.0, "b": -4.0, "c": 5.0}


def test_training_runs_and_stop_stops_it(tab: Tab) -> None:
    tab.page.fill("#pg-epochs", "1000")
    tab.page.click("#pg-train")
    status = tab.page.locator("#pg-train-status")
    tab.page.wait_for_function("Number(document.querySelector('#pg-train-status')"
                               ".dataset.epoch || 0) >= 3", timeout=READY_S * 1000)
    assert "loss" in status.inner_text()
    tab.page.click("#pg-train-stop")
    stopped = int(status.get_attribute("data-epoch") or 0)
    assert stopped >= 3
    assert status.inner_text() == f"Stopped after {stopped} epochs."
    tab.page.wait_for_timeout(1500)  # an epoch takes well under this: none may follow
    assert int(status.get_attribute("data-epoch") or 0) == stopped
    assert tab.page.locator("#pg-train").is_enabled()
    # The graph's worker was not the one stopped: the page still draws.
    tab.draw("a*b", "a=2 b=5")
    assert tab.grads() == {"a": 5.0, "b": 2.0}


def test_stop_restarts_the_worker_and_the_page_draws_again(tab: Tab) -> None:
    tab.page.fill("#pg-expr", "a" + "*a" * 250)  # 251 values: collapsed, a long layout
    tab.page.fill("#pg-values", "a=1.001")
    # Draw, then Stop in the same task: the drawing cannot have finished in between.
    tab.page.evaluate("""() => {
        document.querySelector('#pg-draw').click();
        document.querySelector('#pg-stop').click();
    }""")
    assert tab.text("#pg-error").startswith("Stopped. The Python worker was restarted")
    tab.page.wait_for_function("document.querySelector('#pg-status').textContent"
                               ".startsWith('Ready')", timeout=READY_S * 1000)
    tab.draw("c*(a+2*b)", "a=3 b=1 c=-2")
    assert not tab.page.locator("#pg-error").is_visible()
    assert tab.grads() == {"a": -2.0, "b": -4.0, "c": 5.0}


def test_a_shared_address_draws_its_expression(browser: Any, server: str) -> None:
    values = {"x": 2.0, "w": -3.0, "b": 6.88}
    query = "?expr=tanh(x*w%2Bb)&x=2&w=-3&b=6.88"
    tab = Tab(browser, server + "playground/" + query)
    try:
        value, grads = engine_values("tanh(x*w+b)", values)
        assert tab.page.input_value("#pg-expr") == "tanh(x*w+b)"
        assert tab.page.input_value("#pg-values") == "x=2 w=-3 b=6.88"
        assert tab.text("#pg-value") == f"tanh(x*w+b) = {value:.4g}".replace("-", "\u2212")
        shown = tab.grads()
        assert shown.keys() == grads.keys()
        for name, g in grads.items():
            assert shown[name] == pytest.approx(g, rel=1e-3), name  # shown with 4 digits
        assert tab.page.evaluate("location.search") == query
        tab.assert_clean()
    finally:
        tab.close()
