"""The layers point one way, read from the source: no import cycle in autograd (function-level
imports included), no layer importing one above it, autograd never importing nn, a few small
modules at the top of the engine, and the core cheap to import (the rest loads on first use)."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from test_imports import find_cycle, imports, module_name

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "graphviz", "matplotlib", "tqdm", "PIL", "IPython", "torch", "hypothesis")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("autograd.primitive", "autograd.ops", "autograd.backends"),  # the table, what rules run on
    ("autograd.recording",),  # grad mode and hooks
    ("autograd.node", "autograd.arithmetic"),  # the node: its slots, builder, generated methods
    ("autograd.backward",),  # the traversal and the chain rule, on nodes
    ("autograd.value",),  # Value: the node as users meet it (its backward is the traversal)
    ("autograd.files",),  # independent: imports nothing of the engine
    ("autograd.transforms",),
    ("autograd.compiled",),
    ("autograd.teach",),
    ("autograd.drawing",),  # uses teach.formulas
    ("autograd",),  # the public surface
)
"""autograd's layers, bottom up. A module may import its own layer and the layers below.

The brief's order puts backward above the node; here the traversal sits between the node and
Value, because ``Value.backward`` runs it: ``backward.py`` knows nodes only as ``node.Node``
(node.py's docstring says why the classes are chained this way)."""

MAX_TOP_LEVEL_MODULES = 8
MAX_LINES = 600


def autograd_graph() -> dict[str, set[str]]:
    """Each module of autograd and the modules of autograd it imports, anywhere in the file
    (inside functions too); ``if TYPE_CHECKING:`` imports count as well."""
    paths = sorted((ROOT / "autograd").rglob("*.py"))
    names = {module_name(p) for p in paths}
    return {module_name(p): imports(p) & names for p in paths}


def layer_of(module: str) -> int:
    """The index in LAYERS of the most specific entry ``module`` falls under."""
    best, length = -1, -1
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = i, len(prefix)
    assert best >= 0, f"{module} is in no layer of LAYERS: add it where it belongs"
    return best


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a higher layer, as "importer -> imported"."""
    return [f"{m} -> {i}" for m in sorted(graph) for i in sorted(graph[m])
            if layer_of(i) > layer_of(m)]


def test_autograd_imports_have_no_cycle_not_even_through_function_level_imports():
    graph = autograd_graph()
    assert len(graph) > 20
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


def test_no_layer_imports_one_above_it():
    graph = autograd_graph()
    assert upward_imports(graph) == [], "imports pointing up the layers"
    # The bottom of the engine, exactly: the table knows nothing of nodes; the node nothing of
    # the traversal; the traversal nothing of Value.
    assert graph["autograd.primitive"] == graph["autograd.backends"] == set()
    assert graph["autograd.ops"] == {"autograd.primitive"}
    assert graph["autograd.recording"] == set()
    assert graph["autograd.backward"] == {"autograd.node", "autograd.ops", "autograd.recording"}
    assert "autograd.value" not in graph["autograd.arithmetic"] | graph["autograd.node"]
    assert graph["autograd.files.atomic"] == set()


def test_the_layer_check_sees_an_upward_and_a_function_level_import(tmp_path):
    graph = autograd_graph()
    graph["autograd.node"] = graph["autograd.node"] | {"autograd.value"}
    assert "autograd.node -> autograd.value" in upward_imports(graph)
    assert find_cycle(graph) is not None  # value imports node: now a cycle
    source = tmp_path / "autograd" / "x.py"
    source.parent.mkdir()
    source.write_text("def f():\n    from .value import Value\n    return Value\n")
    assert "value" in {m.rpartition(".")[2] for m in imports_of(source, tmp_path)}


def imports_of(path: Path, root: Path) -> set[str]:
    """``test_imports.imports`` for a file outside the repository (relative to ``root``)."""
    import test_imports

    saved = test_imports.ROOT
    test_imports.ROOT = root
    try:
        return imports(path)
    finally:
        test_imports.ROOT = saved


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_autograd_never_imports_nn():
    for path in sorted((ROOT / "autograd").rglob("*.py")):
        found = sorted(m for m in imports(path) if m == "nn" or m.startswith("nn."))
        assert not found, f"{module_name(path)} imports {', '.join(found)}: autograd stands alone"


def test_at_most_eight_modules_sit_at_the_top_of_the_engine():
    top = sorted(p.name for p in (ROOT / "autograd").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL_MODULES, (
        f"autograd/ has {len(top)} modules besides __init__.py ({', '.join(top)}); at most "
        f"{MAX_TOP_LEVEL_MODULES}: put a new job in a subpackage")
    assert {"ops.py", "value.py", "backward.py"} <= set(top)


def test_no_source_file_is_over_600_lines():
    long = []
    for package in ("autograd", "nn"):
        for path in sorted((ROOT / package).rglob("*.py")):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > MAX_LINES:
                long.append(f"{path.relative_to(ROOT)} ({n} lines)")
    assert not long, f"over {MAX_LINES} lines: {', '.join(long)}"


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


# ---------------------------------------------------------------------------------------------
# `import autograd` loads the engine only; the subpackages' public names load on first use.

OPTIONAL = ("autograd.transforms", "autograd.compiled", "autograd.teach", "autograd.drawing",
            "autograd.files")


def test_import_autograd_loads_no_subpackage():
    code = ("import sys, autograd\n"
            f"print(sorted(m for m in sys.modules if m.startswith({OPTIONAL!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", f"loaded by `import autograd`: {out.stdout.strip()}"


def test_every_public_name_is_listed_by_dir_and_is_its_modules_object():
    autograd = importlib.import_module("autograd")
    assert set(autograd.__all__) <= set(dir(autograd))
    for name in autograd.__all__:
        obj = getattr(autograd, name)
        home = getattr(obj, "__module__", None)
        if home is not None and home.startswith("autograd."):
            assert getattr(importlib.import_module(home), name, obj) is obj, name
    assert autograd.to_dot is importlib.import_module("autograd.drawing.graph").to_dot
    assert autograd.grad is importlib.import_module("autograd.transforms.functional").grad


def test_from_autograd_import_star_gives_every_public_name():
    namespace: dict[str, object] = {}
    exec("from autograd import *", namespace)
    autograd = importlib.import_module("autograd")
    assert set(autograd.__all__) <= set(namespace)


def test_an_unknown_name_is_an_attribute_error_naming_it():
    autograd = importlib.import_module("autograd")
    with pytest.raises(AttributeError, match="no attribute 'gard'"):
        autograd.gard  # noqa: B018


def test_every_lazy_name_is_in_all_and_typed_for_mypy():
    autograd = importlib.import_module("autograd")
    assert set(autograd._LAZY) <= set(autograd.__all__)
    # mypy sees the lazy names through ``if TYPE_CHECKING:`` imports: the same names.
    tree = ast.parse((ROOT / "autograd" / "__init__.py").read_text(encoding="utf-8"))
    typed = {alias.asname or alias.name
             for node in ast.walk(tree) if isinstance(node, ast.If)
             and getattr(node.test, "id", None) == "TYPE_CHECKING"
             for stmt in node.body if isinstance(stmt, ast.ImportFrom)
             for alias in stmt.names}
    assert typed == set(autograd._LAZY)
