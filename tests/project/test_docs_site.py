"""The documentation site: it builds with ``--strict``, its API reference lists every name of
``autograd.__all__`` and ``nn.__all__``, and a public name without a docstring fails the build
(``docs/hooks.py``)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import textwrap
import zlib
from pathlib import Path
from types import ModuleType

import pytest
from conftest import build_docs

import autograd
import nn

pytestmark = pytest.mark.docs

ROOT = Path(__file__).resolve().parents[2]
def load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inventory(path: Path) -> set[str]:
    """The object names in a Sphinx inventory (``objects.inv``, version 2): four lines of
    header, then zlib-compressed lines ``name domain:role priority uri display-name``."""
    data = path.read_bytes()
    start = 0
    for _ in range(4):
        start = data.index(b"\n", start) + 1
    lines = zlib.decompress(data[start:]).decode("utf-8").splitlines()
    return {line.split(" ", 1)[0] for line in lines if line.strip()}


Built = tuple[Path, "subprocess.CompletedProcess[str]"]


@pytest.fixture
def site(docs_build: Built) -> Path:
    return docs_build[0]


def test_strict_build_passes(docs_build: Built) -> None:
    done = docs_build[1]
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert done.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(warnings)


@pytest.mark.parametrize("package", [autograd, nn], ids=["autograd", "nn"])
def test_reference_lists_every_public_name(site: Path, package: ModuleType) -> None:
    names = inventory(site / "objects.inv")
    missing = []
    for name in package.__all__:
        obj = getattr(package, name)
        # Listed under the package (autograd.Value), or under the path it is defined at when
        # its name is also a submodule's (autograd.backward, the function, is in backward.py).
        paths = {f"{package.__name__}.{name}"}
        if hasattr(obj, "__module__") and hasattr(obj, "__qualname__"):
            paths.add(f"{obj.__module__}.{obj.__qualname__}")
        if not paths & names:
            missing.append(name)
    assert missing == [], f"the API reference leaves out {package.__name__}.{missing}"


MANUAL = ("index", "concepts", "parts/engine", "parts/ops", "parts/higher-order", "parts/tape",
          "parts/drawings", "parts/checking", "parts/deltas", "parts/nn", "parts/cli", "limits",
          "development", "notebooks", "reference/autograd", "reference/nn", "benchmarks")
"""The manual's pages, which took over the README's sections."""


def test_every_page_is_built(site: Path) -> None:
    for page in (*MANUAL, "notebooks/04-watching-backward"):
        path = "index.html" if page == "index" else f"{page}/index.html"
        assert (site / path).stat().st_size > 1000, page
    assert (site / "images" / "jurafsky.svg").stat().st_size > 1000
    # The benchmarks page is benchmarks/README.md, included as it stands.
    assert "all engines agree" in (site / "benchmarks" / "index.html").read_text(encoding="utf-8")


def test_an_example_shows_what_it_prints_under_a_title(site: Path) -> None:
    """An Output block (checked by test_readme.py) renders as code titled "Output"."""
    page = (site / "parts" / "engine" / "index.html").read_text(encoding="utf-8")
    assert page.count('<span class="filename">Output</span>') >= 3


NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_notebook_pages_show_their_outputs(site: Path, notebook: str) -> None:
    """The notebooks are stored without outputs; the site executes them, so a reader sees
    what each cell printed and drew, and on the backward-pass page the step player."""
    page = (site / "notebooks" / notebook / "index.html").read_text(encoding="utf-8")
    outputs = page.count("jp-OutputArea-output")
    assert outputs >= 5, f"{notebook}: {outputs} cell outputs; were the notebooks executed?"
    assert "Traceback" not in page
    pictures = len(re.findall(r'<img[^>]*src="data:image/(?:svg\+xml|png)', page))
    if notebook.startswith(("01", "03", "04")):  # drawings, training curves, boundaries
        assert pictures >= 1, f"{notebook} shows no picture"
    if notebook.startswith("04"):
        assert 'class="edgegrad-player"' in page


FAKE = {
    "__init__.py": '''
        """A package with one documented name, one bare name and one shadowed by a module."""
        from .run import run

        __all__ = ["documented", "bare", "run"]


        def documented() -> int:
            """Return 1."""
            return 1


        def bare() -> int:
            return 2
        ''',
    "run.py": '''
        """The module whose name the function ``run`` shares."""


        def run() -> None:
            pass
        ''',
}


def fake_package(where: Path) -> None:
    (where / "fakepkg").mkdir()
    for name, text in FAKE.items():
        (where / "fakepkg" / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_hook_names_each_undocumented_public_name(tmp_path: Path) -> None:
    fake_package(tmp_path)
    hooks = load_hooks()
    paths = (str(tmp_path),)
    assert hooks.undocumented("fakepkg", paths) == ["fakepkg.bare", "fakepkg.run"]
    shadowed = [(name, obj.path) for name, obj, s in hooks.exported("fakepkg", paths) if s]
    assert shadowed == [("run", "fakepkg.run.run")]


def test_strict_build_fails_on_an_undocumented_public_name(tmp_path: Path) -> None:
    fake_package(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Fake\n\n::: fakepkg\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(textwrap.dedent(f"""\
        site_name: fake
        hooks: [{ROOT / "docs" / "hooks.py"}]
        plugins:
          - mkdocstrings:
              handlers:
                python:
                  paths: ["."]
                  options: {{show_if_no_docstring: true}}
        """), encoding="utf-8")
    done = build_docs(config, tmp_path / "site")
    assert done.returncode != 0
    assert "fakepkg.bare is public" in done.stderr, done.stderr
    assert "fakepkg.run is public" in done.stderr, done.stderr
    assert "fakepkg.documented" not in done.stderr, done.stderr
