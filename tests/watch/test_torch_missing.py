"""Without torch, nn.to_torch and nn.from_torch say what to install (torch is never needed to
import nn)."""

from __future__ import annotations

import sys

import pytest

from nn import MLP, from_torch, to_torch


def test_without_torch_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ImportError, match="pip install torch"):
        to_torch(MLP(2, [3, 1]))
    with pytest.raises(ImportError, match="pip install torch"):
        from_torch(object())
