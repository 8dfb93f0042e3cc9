"""Imports inside ``nn`` point one way: no cycle among its modules (function-level imports
included), only autograd's public modules, and ``nn.textbook.deltas`` stays free of the engine."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AUTOGRAD_PUBLIC = {"autograd", "autograd.files", "autograd.teach.expr", "autograd.drawing.player",
                   "autograd.drawing.steps", "autograd.compiled.tape", "autograd.drawing.graph",
                   "autograd.teach.explain", "autograd.teach.formulas",
                   "autograd.teach.handcheck", "autograd.teach.report",
                   "autograd.teach.worksheet"}
HEAVY = ("numpy", "graphviz", "matplotlib", "tqdm", "PIL", "IPython", "torch", "hypothesis")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file, as absolute names.

    ``from package import name`` counts as importing ``package.name`` when that is a module of
    this repository, else ``package``; ``importlib.import_module("x")`` counts too.
    """
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if is_module(sub) else base)
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"):
            found.add(node.args[0].value)
    return found


def nn_graph() -> dict[str, set[str]]:
    """nn's modules and, for each, the modules of nn it imports."""
    paths = sorted((ROOT / "nn").rglob("*.py"))
    names = {module_name(p) for p in paths}
    return {module_name(p): imports(p) & names for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None (iterative DFS)."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        todo = [iter(sorted(graph[start]))]
        state[start] = "open"
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                state[path.pop()] = "done"
                todo.pop()
            elif state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt]
            elif nxt not in state:
                state[nxt] = "open"
                path.append(nxt)
                todo.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_cycle_finder_reports_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y"}}) == ["y", "y"]


def test_the_import_reader_sees_function_level_and_relative_imports(tmp_path):
    graph = nn_graph()
    assert {"nn.cli.train", "nn.cli.deltas", "nn.cli.draw"} <= graph["nn.cli"]
    assert "nn.train" in graph["nn.cli.train"] and "nn.plots" in graph["nn.cli.train"]
    assert "nn.compiled.trainer" in graph["nn.train"]  # imported inside a function
    assert "nn.cli" in graph["nn.__main__"]


def test_nn_imports_point_one_way():
    cycle = find_cycle(nn_graph())
    assert cycle is None, "nn's imports run in a circle: " + " -> ".join(cycle or [])


def test_nn_uses_only_autograds_public_modules():
    for path in sorted((ROOT / "nn").rglob("*.py")):
        engine = {m for m in imports(path) if m.split(".")[0] == "autograd"}
        private = sorted(engine - AUTOGRAD_PUBLIC)
        assert not private, f"{module_name(path)} imports {', '.join(private)}; nn may use only " \
                            f"{', '.join(sorted(AUTOGRAD_PUBLIC))}"


def test_the_delta_rule_oracle_never_reaches_the_engine():
    graph = nn_graph()
    seen, todo = set(), ["nn.textbook.deltas"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name])
    for name in sorted(seen):
        path = ROOT.joinpath(*name.split(".")).with_suffix(".py")
        engine = sorted(m for m in imports(path) if m.split(".")[0] == "autograd")
        assert not engine, f"nn.textbook.deltas reaches {', '.join(engine)} through {name}"


def test_importing_any_nn_module_loads_no_heavy_package():
    modules = sorted(m for m in nn_graph() if m != "nn.__main__")
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", f"imported eagerly: {out.stdout.strip()}"
    assert {"nn.cli", "nn.cli.train", "nn.cli.deltas", "nn.cli.draw", "nn.plots"} <= set(modules)
