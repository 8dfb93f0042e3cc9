"""Module: parameters in a stable order with dotted names, state dicts and JSON files."""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autograd import Value

FORMAT = "edgegrad-model"
VERSION = 1


class ModelFileError(ValueError):
    """A model file (or state dict) cannot be loaded: the message says what is wrong and where."""


class Module:
    """Base of Neuron, Layer and MLP: everything is derived from ``named_parameters()``.

    Subclasses implement ``named_parameters()`` and ``config()``. The order is the one
    ``parameters()`` promises: layer by layer, neuron by neuron, each neuron's weights
    ``w[0..nin-1]`` then its bias ``b``.
    """

    def __call__(self, x: Sequence[Any]) -> Any:
        """The module's output on one example."""
        raise NotImplementedError

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(dotted name, Value)`` for every parameter, in the stable order."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The constructor arguments that fix the architecture (saved with the weights)."""
        raise NotImplementedError

    def parameters(self) -> list[Value]:
        """Every parameter Value, in the stable order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def num_parameters(self) -> int:
        """How many scalar parameters the module has."""
        return len(self.named_parameters())

    # -- state ------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """``{dotted name: value}`` for every parameter, in the stable order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from ``state``, checked in full first: on error nothing changes."""
        values = _check_state(self, state, where="state dict")
        for (_, p), x in zip(self.named_parameters(), values):
            p.data = x

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the architecture and weights as JSON, atomically; return the path.

        The file is written next to its destination and renamed over it, so a crash mid-write
        leaves any previous file whole. Never pickle: the file is plain, readable JSON.
        """
        path = Path(path)
        state = self.state_dict()
        for name, x in state.items():
            if not math.isfinite(x):
                raise ValueError(f"cannot save {type(self).__name__}: parameter {name} is {x!r} "
                                 f"(JSON holds finite numbers only; training diverged?)")
        doc = {"format": FORMAT, "version": VERSION, "kind": type(self).__name__,
               "config": self.config(), "parameters": state}
        write_atomic(path, json.dumps(doc, indent=1) + "\n")
        return path

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load weights saved by ``save`` into this module, validating everything first.

        Raises FileNotFoundError for a missing file and ModelFileError for a file that is
        empty, truncated, not JSON, for another architecture, with missing or unexpected
        parameter names or with non-numeric values. On any error the module is unchanged.
        """
        doc = read_model_file(path)
        where = str(path)
        if doc["kind"] != type(self).__name__ or doc["config"] != self.config():
            raise ModelFileError(
                f"{where} holds {_describe_config(doc['kind'], doc['config'])}, but this model "
                f"is {_describe_config(type(self).__name__, self.config())}")
        values = _check_state(self, doc["parameters"], where=where)
        for (_, p), x in zip(self.named_parameters(), values):
            p.data = x


def _describe_config(kind: str, config: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in config.items())
    return f"{kind}({args})"


def _check_state(module: Module, state: Any, *, where: str) -> list[float]:
    """The parameter values of ``state`` in the module's order, or ModelFileError saying why."""
    if not isinstance(state, Mapping):
        raise ModelFileError(f"{where}: parameters must be a mapping of name to number; "
                             f"got {type(state).__name__}")
    names = [n for n, _ in module.named_parameters()]
    missing = [n for n in names if n not in state]
    known = set(names)
    unexpected = [str(k) for k in state if k not in known]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} parameter(s): {_first(missing)}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} name(s): {_first(unexpected)}")
        raise ModelFileError(f"{where}: {'; '.join(parts)} (expected the {len(names)} names "
                             f"of {type(module).__name__}.named_parameters())")
    values = []
    for n in names:
        x = state[n]
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise ModelFileError(f"{where}: parameter {n} must be a number; "
                                 f"got {type(x).__name__} {x!r}")
        x = float(x)
        if not math.isfinite(x):
            raise ModelFileError(f"{where}: parameter {n} is {x!r}; only finite numbers load")
        values.append(x)
    return values


def _first(names: list[str], k: int = 3) -> str:
    shown = ", ".join(names[:k])
    return shown + (f", ... ({len(names) - k} more)" if len(names) > k else "")


def read_model_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the envelope of a model file: format, version, kind, config, parameters."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"model file {p} does not exist") from None
    except IsADirectoryError:
        raise ModelFileError(f"{p} is a directory, not a model file") from None
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{p} is not a text (JSON) model file: {e.reason} "
                             f"at byte {e.start}") from None
    if not text.strip():
        raise ModelFileError(f"{p} is empty (an interrupted write from another program?)")

    def reject(token: str) -> float:
        raise ModelFileError(f"{p}: {token} is not a number JSON allows (only finite numbers)")

    try:
        doc = json.loads(text, parse_constant=reject)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{p} is not valid JSON (line {e.lineno}, column {e.colno}: "
                             f"{e.msg}); is it truncated?") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{p} is JSON but not an edgegrad model file "
                             f"(expected an object with \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise ModelFileError(f"{p}: unsupported model file version {doc.get('version')!r} "
                             f"(this edgegrad reads version {VERSION})")
    for key, kind in (("kind", str), ("config", dict), ("parameters", dict)):
        if not isinstance(doc.get(key), kind):
            raise ModelFileError(f"{p}: \"{key}\" must be a JSON "
                                 f"{'string' if kind is str else 'object'}; "
                                 f"got {type(doc.get(key)).__name__}")
    return doc


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600): keep the mode of the file being replaced,
        # else use the usual 0644 (reading the umask would briefly change it for every thread).
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Covers Ctrl-C mid-write too: the destination is untouched, the temp file removed.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
