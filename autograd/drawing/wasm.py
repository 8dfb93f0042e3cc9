"""Graphviz compiled to WebAssembly (@viz-js/viz), run by the browser: drawings and players shown
in Jupyter or saved as .html render from their DOT text with no ``dot`` program installed.

The script is @viz-js/viz's single file ``dist/viz-global.js`` (version ``VIZ_VERSION``, about
1.3 MB, Graphviz and its WebAssembly inlined). The wheel carries it next to this module (the
build copies it from ``node_modules/``, installed by ``npm ci``); a source checkout reads it
from ``node_modules/``. Nothing is fetched from a CDN, so notebooks and pages work offline.

Once per notebook session. Like plotly's offline mode, the script travels with the first
output of a kernel session that needs it (a drawing or a player rendered with ``wasm``); every
later output only renders its DOT text with the ``Viz`` global that the first one left on the
page's ``window``. What this means for a saved notebook: the script is stored in that first
output, so when the whole notebook is shown again (JupyterLab, Notebook 7, VS Code, or
exported by nbconvert), outputs render top to bottom and every drawing appears. When a later
output is rendered on a page where the first one has not run (that cell was cleared or re-run
in another session, or the notebook is not trusted), the later output cannot draw: it says so
and shows how to get the drawing back (``send_script_again()``, then run the cell again). It
also draws itself as soon as the script arrives, so re-running any earlier drawing's cell after
``send_script_again()`` brings the others back. We chose this over putting the script in every
output (1.3 MB each) and over a CDN (no network needed).
"""

from __future__ import annotations

import functools
import itertools
import json
import pathlib
from typing import Any

__all__ = ["VIZ_VERSION", "ScriptNotFound", "script_path", "send_script_again"]

VIZ_VERSION = "3.31.0"
"""The version of @viz-js/viz whose ``dist/viz-global.js`` renders drawings in the browser
(pinned in package.json and package-lock.json)."""

SCRIPT_NAME = "viz-global.js"
NODE_MODULES_PATH = ("node_modules", "@viz-js", "viz", "dist", SCRIPT_NAME)

READY_EVENT = "edgegrad-viz"
"""The window event the script's carrier fires once ``Viz`` is defined."""

_outputs = itertools.count()
_sent = False  # whether this session's notebook outputs already carried the script


class ScriptNotFound(RuntimeError):
    """Rendering with ``wasm`` needed @viz-js/viz's script and it is neither in the installed
    package nor in the source checkout's ``node_modules/``."""


def script_path() -> pathlib.Path:
    """Where ``viz-global.js`` is: next to this module in an installed wheel, else in the
    source checkout's ``node_modules/``; ``ScriptNotFound`` says what to run when neither."""
    here = pathlib.Path(__file__).resolve().parent
    packaged = here / SCRIPT_NAME
    if packaged.is_file():
        return packaged
    checkout = here.parent.parent
    found = checkout.joinpath(*NODE_MODULES_PATH)
    if found.is_file():
        return found
    raise ScriptNotFound(
        f"drawing without Graphviz's `dot` uses Graphviz in WebAssembly (@viz-js/viz "
        f"{VIZ_VERSION}), whose script {SCRIPT_NAME} was not found, neither at {packaged} (where "
        f"the wheel puts it) nor at {found}. In a source checkout run `npm ci` in {checkout} "
        "(or `make node_modules`); otherwise reinstall edgegrad from its wheel "
        "(`pip install --force-reinstall edgegrad`), or install `dot` and use "
        "renderer='dot'")


@functools.cache
def script() -> str:
    """The text of ``viz-global.js``, checked to be the pinned version and safe to inline in an
    HTML ``<script>`` element."""
    path = script_path()
    text = path.read_text(encoding="utf-8")
    if f"Viz.js {VIZ_VERSION}\n" not in text[:200]:
        raise ScriptNotFound(f"{path} is not @viz-js/viz {VIZ_VERSION} (its first lines: "
                             f"{text[:60]!r}); run `npm ci` to install the pinned version")
    lowered = text.lower()
    if "</script" in lowered or "<!--" in text:
        raise ScriptNotFound(f"{path} contains '</script' or '<!--' and cannot be inlined in "
                             "an HTML page")
    return text


def send_script_again() -> None:
    """Make the next drawing or player shown in this notebook session carry the script again
    (after the output that carried it was cleared, or to reload it on a fresh page)."""
    global _sent
    _sent = False


def script_json(data: Any) -> str:
    """``data`` as JSON text that can sit inside an HTML ``<script>`` element whatever its
    strings say: no < > & at all (so no ``</script>`` or ``<!--``), and no JavaScript line
    separators; each escape means the same in JSON."""
    text = json.dumps(data)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def loader() -> str:
    """The script as an HTML ``<script>`` element that defines the global ``Viz`` (also on pages
    with an AMD loader such as require.js, which the script would otherwise register with
    instead) and then fires ``READY_EVENT``."""
    return ("<script>\n(function (define, exports, module) {\n" + script()
            + "\n}).call(window);\nwindow.dispatchEvent(new Event(" + json.dumps(READY_EVENT)
            + "));\n</script>\n")


def notebook_loader() -> str:
    """``loader()`` for the first output of this session that renders with wasm, else
    nothing (the module docstring says why)."""
    global _sent
    if _sent:
        return ""
    text = loader()
    _sent = True
    return text


MISSING = ("Graphviz (WebAssembly) is not loaded on this page: its script came with an earlier "
           "output that has not run here. To draw this, run "
           "autograd.drawing.wasm.send_script_again() and then this cell again.")
"""What an output shows until ``Viz`` is defined on its page."""

WHEN_READY = f"""function (then, missing) {{
  function go() {{
    (window.edgegradViz = window.edgegradViz || Viz.instance()).then(then, function (e) {{
      console.error("edgegrad: Graphviz (WebAssembly) failed to start: " + e);
    }});
  }}
  if (window.Viz) {{ go(); return; }}
  missing({json.dumps(MISSING)});
  window.addEventListener({json.dumps(READY_EVENT)}, go, {{once: true}});
}}"""
"""A JavaScript function that calls ``then(viz)`` with the started renderer as soon as the
script is on the page (at once when it already is), and ``missing(message)`` while it is not."""

WAITING = "Drawing with Graphviz (WebAssembly)..."
"""What an output shows while the renderer starts."""

_DRAWING = """<div id="{id}" class="edgegrad-drawing" style="overflow-x: auto">\
<p style="font: 13px sans-serif; color: #666">{waiting}</p></div>
<script>
(function () {{
  var box = document.getElementById("{id}");
  if (!box) return;
  var dot = {dot};
  ({when_ready})(function (viz) {{
    var svg = viz.renderSVGElement(dot);
    svg.style.maxWidth = "100%";
    svg.style.height = "auto";
    box.replaceChildren(svg);
  }}, function (message) {{ box.firstChild.textContent = message; }});
}})();
</script>
"""


def drawing_html(source: str) -> str:
    """A ``<div>`` and a script that draws the DOT text ``source`` into it with ``Viz`` (the
    page must carry ``loader()`` once)."""
    return _DRAWING.format(id=f"edgegrad-drawing-{next(_outputs)}", waiting=WAITING,
                           dot=script_json(source), when_ready=WHEN_READY)


def page(title: str, body: str, with_script: bool) -> str:
    """A whole HTML page that works offline; ``title`` and ``body`` are HTML already (escaped by
    the caller), ``with_script`` inlines ``loader()`` before the body."""
    head = loader() if with_script else ""
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"</head>\n<body>\n{head}{body}\n</body></html>\n")
