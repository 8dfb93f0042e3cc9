"""The documentation site works with no network: served by ``python -m http.server`` on
127.0.0.1, every page opens in Chromium without a request leaving the machine or a console
error (``tests/chromium.py``), and its math is typeset (MathJax served by the site itself, copied
from node_modules/ by docs/hooks.py): no ``$...$``, ``\\frac`` or ``\\begin`` is left in the
text a reader sees."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from chromium import offline_page

pytestmark = [pytest.mark.docs, pytest.mark.browser]

# The text a reader sees: rendered text nodes outside code, scripts and typeset math.
VISIBLE_TEXT_JS = """() => {
  const skip = "code, pre, script, style, noscript, template, textarea, mjx-container, svg";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    if (!parent.checkVisibility({visibilityProperty: true})) continue;
    out.push(node.textContent);
  }
  return out.join(" ");
}"""

TEX_LEFT = re.compile(r"\$[^$\n]+\$|\\frac|\\begin\{|\\end\{")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test's output is the pages' failures, not one line per request


@pytest.fixture(scope="module")
def served(docs_build: Any) -> Iterator[str]:
    """The built site, served on 127.0.0.1 as ``python -m http.server`` does; its base URL."""
    site, done = docs_build
    assert done.returncode == 0, done.stderr[-3000:]
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def site_pages(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                  if not p.relative_to(site).parts[0] == "assets")


# What a page loads as it opens: scripts and stylesheets (a link to another site is not loaded).
LOADED_FROM_AFAR = re.compile(r"""<(?:script|img|iframe)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//"""
                              r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//""")


def test_the_site_serves_mathjax_itself(docs_build: Any) -> None:
    site, _ = docs_build
    assert (site / "assets" / "mathjax" / "tex-chtml.js").is_file()
    for page in site_pages(site):
        text = (site / page).read_text(encoding="utf-8")
        assert not LOADED_FROM_AFAR.findall(text), (page, LOADED_FROM_AFAR.findall(text))
        if page.startswith("notebooks/") and page != "notebooks/index.html":
            assert "assets/mathjax/tex-chtml.js" in text, page


def test_every_page_opens_offline_with_its_math_typeset(browser: Any, served: str,
                                                        docs_build: Any) -> None:
    site, _ = docs_build
    pages = site_pages(site)
    assert len(pages) > 10, pages
    typeset = {}
    for name in pages:
        with offline_page(browser) as page:
            page.goto(served + name.replace("\\", "/"), wait_until="load")
            if page.evaluate("() => !!(window.MathJax && window.MathJax.startup)"):
                page.wait_for_function("() => window.MathJax.startup.promise !== undefined")
                page.evaluate("() => window.MathJax.startup.promise")
            left = TEX_LEFT.findall(page.evaluate(VISIBLE_TEXT_JS))
            assert left == [], f"{name}: math left untypeset: {left[:5]}"
            typeset[name] = page.locator("mjx-container").count()
    # The notebooks that write math show it typeset (the first one has $L = c\\,(a + 2b)$).
    first = next(n for n in pages if "01-computation-graphs" in n)
    assert typeset[first] > 0, typeset
    assert sum(1 for n in pages if "notebooks/" in n and typeset[n] > 0) >= 4, typeset
