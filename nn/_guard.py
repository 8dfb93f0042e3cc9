"""Refuse to run on top of the wrong ``autograd``: HIPS autograd uses the same import name."""

from __future__ import annotations

import importlib


def check_engine() -> None:
    """Raise ImportError with a fix if ``import autograd`` is not edgegrad's engine."""
    engine = importlib.import_module("autograd")
    if getattr(engine, "ENGINE", None) != "edgegrad":
        where = getattr(engine, "__file__", None) or "an unknown location"
        raise ImportError(
            "nn needs edgegrad's engine, but `import autograd` found a different package at "
            f"{where} (probably HIPS autograd from PyPI, which uses the same import name). "
            "The two cannot share an environment: run `pip uninstall autograd` and reinstall "
            "edgegrad (`pip install -e .`), or use a separate virtual environment."
        )
