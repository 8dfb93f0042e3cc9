"""The playground page's speed, measured in Chromium next to the same Python in CPython.

    .venv/bin/python benchmarks/playground_speed.py              (builds the site in a temp dir)
    .venv/bin/python benchmarks/playground_speed.py --site site  (a site `make docs` built)

It serves the site on 127.0.0.1 (nothing else is reachable) and opens the playground in
headless Chromium (``EDGEGRAD_CHROMIUM`` or /usr/bin/chromium), fresh each time, and prints:

- ready: from the start of the page's load until Pyodide is loaded and the engine imported
  (the worker's reply to ``init``), the median of ``--loads`` loads (target: at most 5 s);
- redraw: a 50-node expression drawn again with new values, from the click on Draw until the
  SVG is in the page (parse, backward, to_dot in Pyodide, Graphviz's layout in WebAssembly),
  the median of ``--repeats`` (target: at most 0.5 s);
- epoch: one epoch of ``nn.fit`` on moons (100 points, 2-8-8-1, full batch) timed by Python's
  own clock in the page's worker, and the same call in this CPython, medians of ``--repeats``
  after two untimed epochs (target: the page within 3x of CPython).
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRAINING = ["moons", "8,8", 0.5, 100, 1]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def fifty_nodes() -> tuple[str, str]:
    """An expression whose graph has exactly 50 values, and its variables' values."""
    glue = _glue()
    for k in range(1, 40):
        terms = " + ".join(f"w{i}*x{i}" for i in range(k))
        expression = f"tanh({terms} + b)"
        values = " ".join(f"w{i}={0.1 * (i + 1):g} x{i}={1 - 0.05 * i:g}" for i in range(k))
        r = json.loads(glue.build(expression, values + " b=0.5"))
        if r["nodes"] >= 50:
            # k products and sums: 4k + 2 values; drop one value (the tanh) if it is one over.
            if r["nodes"] == 50:
                return expression, values + " b=0.5"
            expression = f"{terms} + b"
            r = json.loads(glue.build(expression, values + " b=0.5"))
            assert r["nodes"] == 50, r["nodes"]
            return expression, values + " b=0.5"
    raise AssertionError("no 50-node expression found")


@functools.cache
def _glue() -> Any:
    spec = importlib.util.spec_from_file_location("playground",
                                                  ROOT / "docs" / "playground" / "playground.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["playground"] = module
    spec.loader.exec_module(module)
    return module


def cpython_epoch_ms(repeats: int) -> float:
    """The median time of ``train_epoch`` in this CPython, after two untimed epochs."""
    glue = _glue()
    json.loads(glue.train_start(*TRAINING))
    times = [json.loads(glue.time_call("train_epoch", "[false]"))["ms"] for _ in range(repeats + 2)]
    return float(statistics.median(times[2:]))


def cpu_seconds_of_children() -> float:
    """The CPU time (user + system) of every process descended from this one: the
    browser's, on Linux (0.0 elsewhere). A shared machine's wall clock counts the time other
    processes hold the cores; this counts only the browser's own work."""
    if not os.path.isdir("/proc"):
        return 0.0
    parent: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(x) for x in fields[11:15]) / tick  # utime stime cu cs
    me = os.getpid()

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parent.get(pid, 0)
            if pid == me:
                return True
        return False

    return sum(t for pid, t in times.items() if descends(pid))


def build_site() -> Path:
    out = Path(tempfile.mkdtemp(prefix="edgegrad-site-"))
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    print(f"building the site into {out} (a minute or two)...", flush=True)
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--site-dir", str(out)],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build one)")
    parser.add_argument("--loads", type=int, default=3, help="page loads for 'ready'")
    parser.add_argument("--repeats", type=int, default=7, help="redraws and epochs")
    args = parser.parse_args()
    site = args.site or build_site()
    if not (site / "playground" / "pyodide.asm.wasm").is_file():
        sys.exit(f"{site} has no playground: run `npm ci`, then build the site")
    expression, values = fifty_nodes()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_port}/playground/"

    from playwright.sync_api import sync_playwright

    ready: list[float] = []
    cpu_ready: list[float] = []  # the browser's CPU seconds over the same span
    parts: list[tuple[float, float]] = []  # loadPyodide, then unpacking and importing the engine
    draws: list[float] = []
    epochs: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("EDGEGRAD_CHROMIUM", "/usr/bin/chromium"),
            headless=True, args=["--no-sandbox", "--disable-gpu"])
        for load in range(args.loads):
            context = browser.new_context()  # a fresh cache each time: a first visit
            context.route(lambda u: urlsplit(u).hostname != "127.0.0.1", lambda r: r.abort())
            page = context.new_page()
            cpu = cpu_seconds_of_children()
            page.goto(url)
            page.wait_for_function("document.body.dataset.pgReadyMs !== undefined",
                                   timeout=300_000)
            cpu_ready.append(cpu_seconds_of_children() - cpu)
            ready.append(float(page.evaluate("document.body.dataset.pgReadyMs")))
            parts.append((float(page.evaluate("document.body.dataset.pgPyodideMs")),
                          float(page.evaluate("document.body.dataset.pgEngineMs"))))
            page.wait_for_function("!document.querySelector('#pg-draw').disabled")
            if load == args.loads - 1:
                for k in range(args.repeats + 1):
                    page.fill("#pg-expr", expression)
                    page.fill("#pg-values", values.replace("b=0.5", f"b={0.5 + k / 10:g}"))
                    page.evaluate("delete document.body.dataset.pgDrawMs")
                    page.click("#pg-draw")
                    page.wait_for_function("document.body.dataset.pgDrawMs !== undefined")
                    if k:  # the first draw of this expression loads Graphviz's module too
                        draws.append(float(page.evaluate("document.body.dataset.pgDrawMs")))
                call = "(a) => window.edgegradPlayground.call(a[0], a[1])"
                page.evaluate(call, ["train_start", dict(zip(
                    ["dataset", "hidden", "lr", "samples", "seed"], TRAINING))])
                for k in range(args.repeats + 2):
                    r = page.evaluate(call, ["time", {"name": "train_epoch", "args": [False]}])
                    if k >= 2:
                        epochs.append(r["ms"])
            context.close()
        browser.close()
    httpd.shutdown()
    cpython = cpython_epoch_ms(args.repeats)

    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CPython {platform.python_version()}, Chromium headless, {os.cpu_count()} cores, "
          f"load average {load_avg:.1f}")
    print(f"ready (Pyodide loaded, engine imported): median "
          f"{statistics.median(ready) / 1000:.2f} s of {len(ready)} loads "
          f"({', '.join(f'{r / 1000:.2f}' for r in ready)})  target <= 5 s")
    print(f"  the browser's CPU time over that span: median {statistics.median(cpu_ready):.2f} s "
          f"({', '.join(f'{c:.2f}' for c in cpu_ready)})")
    print(f"  of which loadPyodide {statistics.median(p[0] for p in parts) / 1000:.2f} s, "
          f"unpacking and importing autograd, nn and the glue "
          f"{statistics.median(p[1] for p in parts) / 1000:.2f} s (medians)")
    print(f"redraw of a 50-node expression: median {statistics.median(draws):.0f} ms "
          f"(min {min(draws):.0f}, max {max(draws):.0f})  target <= 500 ms")
    page_ms = statistics.median(epochs)
    print(f"epoch of moons (100 points, 2-8-8-1): page {page_ms:.1f} ms, CPython {cpython:.1f} ms,"
          f" ratio {page_ms / cpython:.2f}x  target <= 3x")


if __name__ == "__main__":
    main()
