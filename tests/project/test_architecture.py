"""The layers point one way, and the core costs nothing to import beyond the standard library."""

import ast
import subprocess
import sys
from pathlib import Path

from test_imports import find_cycle, imports, module_name

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "graphviz", "matplotlib", "tqdm", "PIL", "IPython", "torch", "hypothesis")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_autograd_never_imports_nn():
    for path in sorted((ROOT / "autograd").rglob("*.py")):
        assert "nn" not in _imports(path), f"{path.name} imports nn: autograd must stand alone"


def test_importing_every_module_loads_no_heavy_package():
    modules = [module_name(p) for p in sorted((ROOT / "autograd").rglob("*.py"))]
    modules += [module_name(p) for p in sorted((ROOT / "nn").rglob("*.py"))
                if p.stem != "__main__"]
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", f"imported eagerly: {out.stdout.strip()}"
    assert len(modules) > 20


def autograd_graph() -> dict[str, set[str]]:
    """autograd's modules and, for each, the modules of autograd it imports (anywhere)."""
    paths = sorted((ROOT / "autograd").rglob("*.py"))
    names = {module_name(p) for p in paths}
    return {module_name(p): imports(p) & names for p in paths if p.name != "__init__.py"}


DEFERRED = ("autograd.value", "autograd.backward")
"""The one documented deferred import: ``Value.backward`` reaching the traversal."""


def test_autograd_imports_point_one_way():
    graph = autograd_graph()
    assert len(graph) > 10
    assert DEFERRED[1] in graph[DEFERRED[0]]
    graph[DEFERRED[0]].discard(DEFERRED[1])
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"
    # The layers, bottom up: the table and backends know nothing of Value; Value knows no
    # traversal but through its one deferred import; the traversal knows no optional transform.
    assert graph["autograd.ops"] == set() and graph["autograd.backends"] == set()
    assert graph["autograd.value"] == {"autograd.ops", "autograd.backends"}
    assert graph["autograd.backward"] == {"autograd.ops", "autograd.value"}


def test_the_only_deferred_import_is_value_backward_reaching_the_traversal():
    deferred = []
    for path in sorted((ROOT / "autograd").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.level > 0:
                    deferred.append((path.name, fn.name, node.module))
    assert deferred == [("value.py", "backward", "backward")], deferred


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
