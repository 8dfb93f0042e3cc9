"""MkDocs hook: the playground's files, put next to its page (``site/playground/``) at build time.

The page (docs/playground/index.md, with its worker.js, playground.js and playground.py) needs
Pyodide and Graphviz in WebAssembly, which ``npm ci`` installs into node_modules/ (pinned by
package.json and package-lock.json), and the project's own ``autograd`` and ``nn`` sources,
which the worker unpacks from one zip. Nothing of these is committed: they are copied here, on
every build. A missing node_modules/ is an error that says to run ``npm ci`` (``make docs``
does), so ``mkdocs build --strict`` fails rather than publishing a page that cannot start.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import get_plugin_logger

log = get_plugin_logger("edgegrad-playground")

PAGE = "playground"
PACKAGES = ("autograd", "nn")
ASSETS = {
    "node_modules/pyodide": ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm",
                             "python_stdlib.zip", "pyodide-lock.json"),
    # The module build: the page's worker is a module worker (Pyodide needs one), which can
    # import it but cannot load viz-global.js with importScripts.
    "node_modules/@viz-js/viz/dist": ("viz.js",),
}
"""Each folder (from the repository's root) and the files the page loads from it."""

# A fixed date in every zip entry: the same sources give the same zip, byte for byte.
EPOCH = (1980, 1, 1, 0, 0, 0)


def sources_zip(root: Path, out: Path) -> list[str]:
    """Write the ``.py`` files of ``PACKAGES`` under ``root`` into the zip ``out``, in sorted
    order; return their paths inside it."""
    names = sorted(str(p.relative_to(root)) for package in PACKAGES
                   for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, (root / name).read_bytes())
    return names


def on_post_build(config: MkDocsConfig) -> None:
    root = Path(config.config_file_path).resolve().parent
    target = Path(config.site_dir) / PAGE
    target.mkdir(parents=True, exist_ok=True)
    missing = [f"{folder}/{name}" for folder, names in ASSETS.items() for name in names
               if not (root / folder / name).is_file()]
    if missing:
        log.error(f"the playground needs {', '.join(missing)}: run `npm ci` in {root} "
                  "(`make docs` does), which installs the pinned browser packages")
        return
    for folder, names in ASSETS.items():
        for name in names:
            shutil.copyfile(root / folder / name, target / name)
    sources_zip(root, target / "edgegrad.zip")
