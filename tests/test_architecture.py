"""The layers point one way, and the core costs nothing to import beyond the standard library."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
    for path in sorted((ROOT / "autograd").glob("*.py")):
        assert "nn" not in _imports(path), f"{path.name} imports nn: autograd must stand alone"


def test_importing_every_module_loads_no_heavy_package():
    modules = [f"autograd.{p.stem}" for p in sorted((ROOT / "autograd").glob("*.py"))]
    modules += [f"nn.{p.stem}" for p in sorted((ROOT / "nn").glob("*.py")) if p.stem != "__main__"]
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", f"imported eagerly: {out.stdout.strip()}"
    assert len(modules) > 20
