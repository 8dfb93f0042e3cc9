"""Turning DOT text into a picture: with Graphviz's ``dot`` program, or in the browser with
Graphviz compiled to WebAssembly (``autograd.drawing.wasm``). The renderer switch chooses.

``renderer`` is one of ``RENDERERS``: ``"dot"`` (the program: SVG, PNG and PDF files, SVG in
Jupyter), ``"wasm"`` (the browser draws: Jupyter outputs and .html files; needs nothing
installed but edgegrad) or ``"auto"``, the default: ``dot`` when it is on PATH, else ``wasm``.
``set_renderer`` changes the default for the session; ``draw``, ``save`` and ``Player`` also
take ``renderer=`` for one drawing. Files only a program can write (.svg, .png, .pdf, .gif)
always use ``dot``.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import threading
from typing import Any

from . import wasm

__all__ = ["DOT_TIMEOUT", "RENDERERS", "GraphvizNotFound", "RenderError", "choose_renderer",
           "set_renderer"]

INSTALL_PACKAGE = "pip install 'edgegrad[viz]'"
INSTALL_DOT = (
    "Graphviz's `dot` program renders the drawings and was not found. Install it: "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or see "
    "https://graphviz.org/download/. Without it, drawings render in the browser: in Jupyter "
    "(renderer='auto' or 'wasm') or saved as .html. The DOT text needs no program: "
    "`to_dot(root)` or `save(root, 'graph.dot')`."
)

DOT_TIMEOUT = 30.0
"""Seconds Graphviz's ``dot`` may take to render one drawing (or all the frames of a player)
before it is stopped with a ``RenderError``; ``save`` and ``Player`` take ``timeout=``."""

RENDERERS = ("auto", "dot", "wasm")
"""The renderer switch's values: ``auto`` (``dot`` when installed, else ``wasm``), ``dot`` (the
Graphviz program) and ``wasm`` (Graphviz in WebAssembly, run by the browser)."""

_default = "auto"


class GraphvizNotFound(RuntimeError):
    """Rendering needed Graphviz's ``dot`` program and it is not installed."""


class RenderError(RuntimeError):
    """Graphviz's ``dot`` failed or ran out of time; the message says why and how to draw the
    graph another way."""


def check_renderer(name: object, who: str = "renderer") -> str:
    """``name`` if it is one of ``RENDERERS``; else a ValueError naming the valid ones."""
    if not isinstance(name, str) or name not in RENDERERS:
        raise ValueError(f"{who} must be one of {', '.join(map(repr, RENDERERS))}; "
                         f"got {name!r}")
    return name


def set_renderer(name: str) -> None:
    """Make ``name`` (one of ``RENDERERS``) the renderer of every later drawing and player of
    this session that does not name its own."""
    global _default
    _default = check_renderer(name)


def choose_renderer(name: str | None = None) -> str:
    """The renderer that draws now, ``"dot"`` or ``"wasm"``: ``name`` (None: the session's,
    ``set_renderer``), with ``auto`` resolved to ``dot`` when it is on PATH, else ``wasm``."""
    chosen = check_renderer(_default if name is None else name)
    if chosen == "auto":
        return "dot" if shutil.which("dot") else "wasm"
    return chosen


# What neither XML (dot's HTML-like labels, SVG, the player's page) nor a terminal should get:
# control characters but tab and newline, lone surrogates, and the two non-characters of XML.
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def brief(text: str, limit: int = 60, quote: bool = True) -> str:
    """``text`` for a message: its repr (or itself, without ``quote``, made safe), cut to about
    ``limit`` characters and saying how much was left out."""
    shown = repr(text[:limit]) if quote else UNSAFE.sub("\ufffd", text[:limit])
    return shown + (f" ... ({len(text) - limit} more characters)" if len(text) > limit else "")


def run_dot(source: str, fmt: str, timeout: float | None, what: str) -> bytes:
    """``source`` rendered by ``dot -T<fmt>``: at most ``timeout`` seconds, and a RenderError
    that quotes dot's own message when it fails."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound(INSTALL_DOT)
    try:
        done = _run_stoppable([exe, f"-T{fmt}"], source.encode("utf-8"), timeout)
    except FileNotFoundError:
        raise GraphvizNotFound(INSTALL_DOT) from None
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"dot took more than {timeout:g} s to lay out {what} and was stopped (a value used "
            "by many ops, as in a*a*a*..., is slow to lay out). To draw it: collapse parts with "
            "groups= and max_nodes=, draw a smaller part, allow more time (timeout=, or "
            "edgegrad draw --timeout), save it as .html (the browser lays it out), or save it "
            "as .dot and run `dot -Tsvg` on it yourself") from None
    if done.returncode < 0:
        raise RenderError(f"dot was stopped by signal {-done.returncode} while rendering {what} "
                          "(out of memory?); draw a smaller graph, or save it as .dot")
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"dot failed on {what} (exit status {done.returncode}): "
                          f"{brief(said, 400, quote=False) or 'it printed no message'}")
    return done.stdout


_STOP_SIGNALS = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}


def _run_stoppable(cmd: list[str], data: bytes, timeout: float | None
                   ) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)``, but whatever
    stops this process (Ctrl-C, or SIGTERM and SIGHUP, which ``edgegrad`` turns into
    exceptions) stops the child too, even in the moment while it is being started.

    ``subprocess.run`` kills its child on an exception, but not one raised while ``Popen`` is
    still starting it: the child would be left running. So the stop signals are held (in the
    main thread, where Python runs their handlers) until the child is known, and released
    inside the block that kills it. The child inherits the held mask; it is stopped with
    SIGKILL, which no mask holds."""
    hold = (hasattr(signal, "pthread_sigmask")
            and threading.current_thread() is threading.main_thread())
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS) if hold else None
    try:
        process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        with process:
            try:
                if previous is not None:  # a signal held meanwhile is handled here
                    signal.pthread_sigmask(signal.SIG_SETMASK, previous)
                    previous = None
                out, err = process.communicate(data, timeout=timeout)
            except BaseException:
                process.kill()
                raise
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return subprocess.CompletedProcess(cmd, process.returncode, out, err)


def svg_element(svg: bytes) -> str:
    """dot's SVG document as an element for a web page (without its XML prolog)."""
    text = svg.decode("utf-8")
    return text[text.index("<svg"):]


def jupyter_bundle(source: str, renderer: str | None,
                   timeout: float | None = DOT_TIMEOUT) -> dict[str, Any]:
    """What Jupyter shows for the DOT text ``source``: SVG rendered by ``dot``, or HTML that the
    browser renders with ``wasm`` (the script once per session, ``autograd.drawing.wasm``).
    When the chosen renderer is missing, the text says how to install it, then the DOT text."""
    if choose_renderer(renderer) == "dot":
        try:
            return {"image/svg+xml": svg_element(run_dot(source, "svg", timeout, "the drawing"))}
        except GraphvizNotFound:
            return {"text/plain": f"{INSTALL_DOT}\n\n{source}"}
    try:
        return {"text/html": wasm.notebook_loader() + wasm.drawing_html(source)}
    except wasm.ScriptNotFound as e:
        return {"text/plain": f"{e}\n\n{source}"}


class Shown:
    """Jupyter's display of a drawing, by the renderer switch (``renderer``: None for the
    session's)."""

    source: str
    renderer: str | None = None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, Any]:
        return jupyter_bundle(self.source, self.renderer)


class Drawing(Shown):
    """What ``draw`` returns when the graphviz Python package is not installed: the DOT text
    (``source``), which Jupyter shows by the renderer switch."""

    def __init__(self, source: str, renderer: str | None = None) -> None:
        self.source = source
        self.renderer = renderer

    def __repr__(self) -> str:
        return f"<Drawing: {len(self.source.splitlines())} lines of DOT text>"


_digraph_class: Any = None


def drawing(lines: list[str], renderer: str | None = None) -> Any:
    """A ``graphviz.Digraph`` of the DOT body ``lines``, shown in Jupyter by the renderer
    switch; a ``Drawing`` holding the same text when the graphviz package is not installed."""
    global _digraph_class
    if renderer is not None:
        check_renderer(renderer)
    try:
        import graphviz
    except ImportError:
        return Drawing("digraph {\n" + "".join(lines) + "}\n", renderer)
    if _digraph_class is None:

        class Digraph(Shown, graphviz.Digraph):  # type: ignore[misc]
            """A graphviz.Digraph shown in Jupyter by the renderer switch: SVG from ``dot``,
            Graphviz in WebAssembly in the browser, or how to install what is missing."""

        _digraph_class = Digraph
    graph = _digraph_class(body=lines)
    graph.renderer = renderer
    return graph
