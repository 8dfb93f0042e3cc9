"""MkDocs hooks for edgegrad's site (mkdocs.yml names this file under ``hooks``).

- The notebooks stay where they are (``notebooks/``): they are added to the site's files here,
  before mkdocs-jupyter turns ``.ipynb`` files into pages.
- Every object a page renders with a ``::: identifier`` block is checked with griffe (the
  library mkdocstrings reads the code with): each name a module exports (its ``__all__``, else
  its public names) must have a docstring. A missing one is logged as a warning, so
  ``mkdocs build --strict`` fails and names it.
- A name in a package's ``__all__`` that is also the name of one of its submodules
  (``autograd.backward`` is a function imported from ``autograd/backward.py``) is seen by griffe
  as the submodule, so ``::: autograd`` would leave the function out. Such names are rendered
  after the block under their own path (``autograd.backward.backward``).
- The math of the notebook pages is typeset by MathJax served from the site itself, so the
  site works offline: after the build, MathJax (``node_modules/mathjax``, version
  ``MATHJAX_VERSION``, installed by ``npm ci`` from package-lock.json) and its font are copied
  into ``assets/mathjax/``, and each notebook page's MathJax 2 block (from nbconvert's
  template) is replaced by MathJax 4's configuration and a ``<script>`` with a relative URL.
  Nothing is committed and nothing is fetched from a CDN.
"""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

log = get_plugin_logger("edgegrad")

NOTEBOOKS = "notebooks"

MATHJAX_VERSION = "4.1.3"
MATHJAX = "assets/mathjax"  # where the site serves MathJax from
MATHJAX_FONT = "mathjax-newcm"  # MathJax 4's default font, a package of its own
# nbconvert's MathJax 2 block in a notebook page: a <script src> and its configuration.
MATHJAX2_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->",
                            re.DOTALL)
DIRECTIVE = re.compile(r"^:::[ \t]+([\w.]+)[ \t]*$", re.MULTILINE)


def project_root(config: MkDocsConfig) -> Path:
    """The folder of mkdocs.yml: the repository's root."""
    return Path(config.config_file_path).resolve().parent


def search_paths(config: MkDocsConfig) -> tuple[str, ...]:
    """Where mkdocstrings' python handler looks for packages (its ``paths``, from the root)."""
    root = project_root(config)
    paths: list[str] = ["."]
    plugin = config.plugins.get("mkdocstrings")
    if plugin is not None:
        handler = plugin.config.get("handlers", {}).get("python", {})
        paths = list(handler.get("paths", paths))
    return tuple(str((root / p).resolve()) for p in paths)


def rendered_identifiers(docs_dir: Path) -> list[str]:
    """Every ``::: identifier`` of the Markdown pages, in page order, each once."""
    found: dict[str, None] = {}
    for page in sorted(docs_dir.rglob("*.md")):
        for name in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found.setdefault(name, None)
    return list(found)


@cache
def _load(identifier: str, paths: tuple[str, ...]) -> Any:
    import griffe

    top, _, rest = identifier.partition(".")
    package = griffe.load(top, search_paths=list(paths), resolve_aliases=True,
                          resolve_external=False)
    return package[rest] if rest else package


def exported(identifier: str, paths: tuple[str, ...]) -> list[tuple[str, Any, bool]]:
    """``(name, object, shadowed)`` for each public name of a module (its ``__all__``, else its
    public members), or for the one class or function ``identifier`` names. ``shadowed`` marks
    a name of ``__all__`` that griffe takes for a submodule while the package imports an object
    under it (as at run time, ``object`` is then what the package imports)."""
    obj = _load(identifier, paths)
    if not obj.is_module:
        return [(obj.name, obj, False)]
    if obj.exports is None:
        return [(m.name, m, False) for m in obj.members.values() if m.is_public]
    out = []
    for export in obj.exports:
        name = str(export)
        member = obj[name]
        imported = obj.imports.get(name)
        if member.is_module and imported and imported != member.path:
            top = obj.package
            out.append((name, top[imported[len(top.path) + 1:]], True))
        else:
            out.append((name, member, False))
    return out


def undocumented(identifier: str, paths: tuple[str, ...]) -> list[str]:
    """The public names under ``identifier`` (a module, class or function) that have no
    docstring, as dotted paths; an empty list when every one has a docstring."""
    missing = []
    for name, member, _ in exported(identifier, paths):
        target = member.final_target if member.is_alias else member
        if target.docstring is None or not target.docstring.value.strip():
            obj = _load(identifier, paths)
            missing.append(f"{obj.path}.{name}" if obj.is_module else obj.path)
    return missing


def on_pre_build(config: MkDocsConfig) -> None:
    _load.cache_clear()  # `mkdocs serve` rebuilds in the same process: read the code again


@event_priority(100)  # before mkdocs-jupyter (priority 0) wraps the .ipynb files as pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = project_root(config)
    for notebook in sorted((root / NOTEBOOKS).glob("*.ipynb")):
        files.append(File(f"{NOTEBOOKS}/{notebook.name}", str(root), config.site_dir,
                          config.use_directory_urls))
    paths = search_paths(config)
    for identifier in rendered_identifiers(Path(config.docs_dir)):
        for name in undocumented(identifier, paths):
            log.warning(f"{name} is public (rendered by '::: {identifier}') but has no "
                        "docstring: write one, it is what the API reference shows")
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    paths = search_paths(config)
    extra = []
    for identifier in DIRECTIVE.findall(markdown):
        for name, target, shadowed in exported(identifier, paths):
            if shadowed:
                extra.append(f"`{identifier}.{name}` shares its name with the module "
                             f"`{identifier}.{name}`, so it is listed under its full path:\n\n"
                             f"::: {target.path}\n")
    return markdown if not extra else markdown.rstrip("\n") + "\n\n" + "\n".join(extra)


def node_modules(config: MkDocsConfig) -> Path:
    """The npm packages of package-lock.json; a PluginError says what to run when missing."""
    found = project_root(config) / "node_modules"
    package = found / "mathjax" / "package.json"
    if not package.is_file():
        raise PluginError(f"the site serves MathJax from {found / 'mathjax'}, which is missing: "
                          "run `npm ci` (or `make node_modules`) in the project's root")
    version = json.loads(package.read_text(encoding="utf-8")).get("version")
    if version != MATHJAX_VERSION:
        raise PluginError(f"node_modules has MathJax {version}, the site wants "
                          f"{MATHJAX_VERSION}: run `npm ci` to install package-lock.json's")
    return found


def mathjax_head(page: Page) -> str:
    """MathJax 4's configuration and script for ``page``, by URLs relative to it: $...$ and
    \\(...\\) inline, $$...$$ and \\[...\\] displayed (nbconvert's delimiters), the
    font from the site, and none of the accessibility extensions (speech, braille, the
    explorer), whose web worker cannot start on a page opened as a file (site/index.html)."""
    base = get_relative_url(MATHJAX, page.url)
    settings = {
        "tex": {"inlineMath": [["$", "$"], ["\\(", "\\)"]],
                "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
                "processEscapes": True, "tags": "ams"},
        "loader": {"paths": {"fonts": f"{base}/fonts"}},
        # Speech and braille start a web worker, which a page opened as a file cannot load.
        "options": {"enableMenu": False, "enableSpeech": False, "enableBraille": False,
                    "enableExplorer": False, "enableEnrichment": False,
                    "a11y": {"speech": False, "braille": False},
                    "menuOptions": {"settings": {"speech": False, "braille": False,
                                                 "enrich": False}}},
    }
    return (f"<script>window.MathJax = {json.dumps(settings)};</script>\n"
            f'<script defer src="{base}/tex-chtml.js"></script>')


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    replaced, count = MATHJAX2_BLOCK.subn(lambda _: mathjax_head(page), output)
    if count != 1:
        log.warning(f"{page.file.src_uri}: expected one MathJax block from nbconvert's "
                    f"template, found {count}; its math would not be typeset offline")
    return replaced


def on_post_build(config: MkDocsConfig) -> None:
    modules = node_modules(config)
    target = Path(config.site_dir) / MATHJAX
    shutil.copytree(modules / "mathjax", target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("node-main*", "*.md", "require.mjs"))
    font = modules / "@mathjax" / f"{MATHJAX_FONT}-font"
    shutil.copytree(font / "chtml", target / "fonts" / f"{MATHJAX_FONT}-font" / "chtml",
                    dirs_exist_ok=True)
    shutil.copy2(font / "package.json", target / "fonts" / f"{MATHJAX_FONT}-font")
