"""Module: parameters in a stable order with dotted names, state dicts and JSON files."""

from __future__ import annotations

import json
import math
import numbers
import os
import reprlib
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autograd import InputError, Value, atomic_write, read_json

FORMAT = "edgegrad-model"
VERSION = 1

MAX_MODEL_BYTES = 64 * 2**20
"""The largest model file that is read, in bytes (64 MiB; a model of ``MAX_PARAMETERS``
parameters takes about 50 MB)."""

MAX_PARAMETERS = 1_000_000
"""The most parameters a model file may describe (checked before anything is built); also the
largest model ``edgegrad train`` and ``edgegrad deltas`` build."""

MAX_INT_DIGITS = 20
"""The longest integer a model file may hold: its integers are sizes (or whole parameters)."""


class ModelFileError(InputError):
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

        The file is written next to its destination and renamed over it
        (``autograd.atomic_write``), so a crash, a signal or a full disk mid-write leaves any
        previous file whole. Never pickle: the file is plain, readable JSON.
        """
        path = Path(path)
        state = self.state_dict()
        for name, x in state.items():
            if not math.isfinite(x):
                raise ValueError(f"cannot save {type(self).__name__}: parameter {name} is {x!r} "
                                 f"(JSON holds finite numbers only; training diverged?)")
        doc = {"format": FORMAT, "version": VERSION, "kind": type(self).__name__,
               "config": self.config(), "parameters": state}
        atomic_write(path, json.dumps(doc, indent=1) + "\n")
        return path

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load weights saved by ``save`` into this module, validating everything first.

        Raises FileNotFoundError for a missing file and ModelFileError for a file that is
        empty, truncated, not JSON, for another architecture, with missing or unexpected
        parameter names or with non-numeric values. On any error the module is unchanged.
        """
        self._load_document(read_model_file(path), str(path))

    def _load_document(self, doc: dict[str, Any], where: str) -> None:
        """Load the weights of a model file ``read_model_file`` read (``where`` names it)."""
        if doc["kind"] != type(self).__name__ or doc["config"] != self.config():
            raise ModelFileError(
                f"{where} holds {_describe_config(doc['kind'], doc['config'])}, but this model "
                f"is {_describe_config(type(self).__name__, self.config())}")
        values = _check_state(self, doc["parameters"], where=where)
        for (_, p), x in zip(self.named_parameters(), values):
            p.data = x


def _describe_config(kind: str, config: Mapping[str, Any]) -> str:
    items = list(config.items())
    args = [f"{_name(k)}={_brief(v)}" for k, v in items[:8]]
    if len(items) > 8:
        args.append(f"... ({len(items) - 8} more)")
    return f"{_name(kind)}({', '.join(args)})"


# A file's contents reach a message only through _brief or _name: each is a few dozen
# characters, however long or deeply nested the JSON (reprlib stops at maxlevel).
_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6


def _brief(x: Any) -> str:
    """``repr(x)`` cut short for an error message."""
    return _REPR.repr(x)


def _name(x: Any) -> str:
    """A name from a file as a message shows it: as is when it is a short identifier-like
    string, else its brief repr."""
    if isinstance(x, str) and len(x) <= 60 and x.isprintable() and x.isascii():
        return x
    return _brief(x)


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
                                 f"got {type(x).__name__} {_brief(x)}")
        try:
            x = float(x)
        except OverflowError:
            raise ModelFileError(f"{where}: parameter {n} is {_brief(x)}, too large for a "
                                 f"float; only finite numbers load") from None
        if not math.isfinite(x):
            raise ModelFileError(f"{where}: parameter {n} is {x!r}; only finite numbers load")
        values.append(x)
    return values


def _first(names: list[str], k: int = 3) -> str:
    shown = ", ".join(_name(n) for n in names[:k])
    return shown + (f", ... ({len(names) - k} more)" if len(names) > k else "")


def read_model_file(path: str | os.PathLike[str], limit: int = MAX_MODEL_BYTES
                    ) -> dict[str, Any]:
    """Read and check the envelope of a model file: format, version, kind, config, parameters.

    The one reader of model files, bounded in time and memory whatever the file holds: only a
    regular file (or a symlink to one) of at most ``limit`` bytes (``MAX_MODEL_BYTES``) is
    read; a directory, a FIFO or a device is refused without reading it. The JSON is measured
    before it is parsed (``autograd.read_json``): nested deeper than ``MAX_JSON_DEPTH``,
    more values than a model of ``MAX_PARAMETERS`` needs, unbalanced brackets (a truncated
    file) and integers longer than ``MAX_INT_DIGITS`` digits are refused before anything is
    built. Every bad file raises ModelFileError (FileNotFoundError when there is none) naming
    the file.
    """
    p = Path(path)
    try:
        _check_regular(p, os.stat(p), limit)
    except FileNotFoundError:
        raise FileNotFoundError(f"model file {p} does not exist") from None
    try:
        # read_json checks the open file again: it may have been swapped since.
        doc = read_json(p, what="model file", limit=limit,
                        max_values=MAX_PARAMETERS + _ENVELOPE_VALUES,
                        max_int_digits=MAX_INT_DIGITS)
    except InputError as e:
        raise ModelFileError(str(e)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{p} is JSON but not an edgegrad model file "
                             f"(expected an object with \"format\": \"{FORMAT}\")")
    version = doc.get("version")
    if type(version) is not int or version != VERSION:
        raise ModelFileError(f"{p}: unsupported model file version {_brief(version)} "
                             f"(this edgegrad reads version {VERSION})")
    for key, kind in (("kind", str), ("config", dict), ("parameters", dict)):
        if not isinstance(doc.get(key), kind):
            raise ModelFileError(f"{p}: \"{key}\" must be a JSON "
                                 f"{'string' if kind is str else 'object'}; "
                                 f"got {type(doc.get(key)).__name__}")
    return doc


_ENVELOPE_VALUES = 10_000
"""Values a model file may hold beyond one per parameter: the envelope and the config."""

_SPECIAL = {"p": "FIFO", "c": "character device", "b": "block device", "s": "socket"}


def _check_regular(p: Path, st: os.stat_result, limit: int) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise ModelFileError(f"{p} is a directory, not a model file")
    if not stat.S_ISREG(st.st_mode):
        kind = _SPECIAL.get(stat.filemode(st.st_mode)[0], "special file")
        raise ModelFileError(f"{p} is a {kind}, not a model file: model files are read only "
                             "from regular files")
    if st.st_size > limit:
        raise ModelFileError(f"{p} is {st.st_size:,} bytes; a model file is at most "
                             f"{limit:,} bytes (nn.module.MAX_MODEL_BYTES)")
