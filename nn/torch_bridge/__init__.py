"""The way on to PyTorch: ``to_torch`` and ``from_torch`` (torch is imported when called)."""

from .convert import from_torch, to_torch

__all__ = ["from_torch", "to_torch"]
