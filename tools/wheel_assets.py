"""Hatch build hook (pyproject.toml names it): the wheel carries @viz-js/viz's single-file
script, so that an installed edgegrad draws without Graphviz (``autograd.drawing.wasm``).

The script is copied at build time from ``node_modules/``, installed by ``npm ci`` from the
committed package-lock.json (``make dist`` runs it first); nothing built is committed. An
editable install needs nothing here: it reads ``node_modules/`` directly. The sdist carries the
same file at the same path, so a wheel built from the sdist finds it too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _wasm_module(root: Path) -> Any:
    """autograd/drawing/wasm.py, loaded on its own (it imports only the standard library), so
    the script's path and pinned version are read from their one definition."""
    spec = importlib.util.spec_from_file_location(
        "_edgegrad_wasm", root / "autograd" / "drawing" / "wasm.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class VizScriptHook(BuildHookInterface):  # type: ignore[misc]
    """Adds ``viz-global.js`` to the wheel next to ``autograd/drawing/wasm.py``."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        wasm = _wasm_module(root)
        script = root.joinpath(*wasm.NODE_MODULES_PATH)
        if not script.is_file():
            raise RuntimeError(
                f"the wheel carries {wasm.SCRIPT_NAME} of @viz-js/viz {wasm.VIZ_VERSION} from "
                f"{script}, which is missing: run `npm ci` in {root} first (`make dist` does)")
        head = script.read_text(encoding="utf-8")[:200]
        if f"Viz.js {wasm.VIZ_VERSION}\n" not in head:
            raise RuntimeError(f"{script} is not @viz-js/viz {wasm.VIZ_VERSION}: run `npm ci` "
                               "to install the version package-lock.json pins")
        build_data["force_include"][str(script)] = f"autograd/drawing/{wasm.SCRIPT_NAME}"
