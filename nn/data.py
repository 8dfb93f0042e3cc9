"""Toy classification datasets in pure Python (seeded), and loading a user's CSV.

Every dataset is a ``Dataset``: points ``xs`` (lists of floats), class ``labels`` (ints
0..C-1) and the class names. ``dataset.targets(loss)`` encodes the labels the way the loss
expects them (see ``nn.losses``): hinge -1/+1, bce 0/1, softmax_ce the class index; with more
than two classes, one output per class (one-hot, or one-vs-rest -1/+1 for hinge).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from autograd import InputError, iter_csv

Seed = Union[int, random.Random, None]


class DataFileError(InputError):
    """A data file cannot be read: the message names the file and the line."""


@dataclass
class Dataset:
    """Points and their class labels (ints 0..C-1)."""

    name: str
    xs: list[list[float]]
    labels: list[int]
    classes: list[str] = field(default_factory=lambda: ["0", "1"])
    feature_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.xs) != len(self.labels):
            raise ValueError(f"{self.name}: {len(self.xs)} points but {len(self.labels)} labels")
        if not self.feature_names and self.xs:
            self.feature_names = [f"x{i}" for i in range(len(self.xs[0]))]

    def __len__(self) -> int:
        return len(self.xs)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def n_outputs(self, loss: str) -> int:
        """The model's output width this loss needs: 1 for two classes, else one per class."""
        if loss == "softmax_ce":
            return self.n_classes
        return 1 if self.n_classes == 2 else self.n_classes

    def targets(self, loss: str) -> list[Any]:
        """The labels encoded in ``loss``'s target convention (see the module doc)."""
        from .losses import LOSSES

        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if loss == "softmax_ce":
            return list(self.labels)
        lo = -1.0 if loss == "hinge" else 0.0
        if self.n_classes == 2:
            return [1.0 if c == 1 else lo for c in self.labels]
        k = self.n_classes
        return [[1.0 if j == c else lo for j in range(k)] for c in self.labels]


def _rng(seed: Seed) -> random.Random:
    return seed if isinstance(seed, random.Random) else random.Random(seed)


def _check_n(n: int, least: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < least:
        raise ValueError(f"n must be an int >= {least}; got {n!r}")


def _check_noise(noise: float) -> float:
    noise = float(noise)
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative number; got {noise!r}")
    return noise


def _shuffled(name: str, pts: list[tuple[list[float], int]], rng: random.Random,
              classes: list[str]) -> Dataset:
    rng.shuffle(pts)
    return Dataset(name, [p for p, _ in pts], [c for _, c in pts], classes)


def moons(n: int = 100, noise: float = 0.1, seed: Seed = None) -> Dataset:
    """Two interleaving half circles: class 0 on (cos t, sin t), class 1 on
    (1 - cos t, 1/2 - sin t).

    t is evenly spaced on [0, pi]; Gaussian noise of standard deviation ``noise`` is added to
    both coordinates (the same construction as scikit-learn's make_moons).
    """
    _check_n(n, 2)
    noise = _check_noise(noise)
    rng = _rng(seed)
    n0 = n // 2
    n1 = n - n0
    pts: list[tuple[list[float], int]] = []
    for count, label in ((n0, 0), (n1, 1)):
        for i in range(count):
            t = math.pi * i / (count - 1) if count > 1 else 0.0
            if label == 0:
                x, y = math.cos(t), math.sin(t)
            else:
                x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
            pts.append(([x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)], label))
    return _shuffled("moons", pts, rng, ["0", "1"])


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: Seed = None) -> Dataset:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` in (0, 1)."""
    _check_n(n, 2)
    noise = _check_noise(noise)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be in (0, 1); got {factor!r}")
    rng = _rng(seed)
    n0 = n // 2
    pts: list[tuple[list[float], int]] = []
    for count, label, r in ((n0, 0, 1.0), (n - n0, 1, factor)):
        for i in range(count):
            t = 2.0 * math.pi * i / count
            pts.append(([r * math.cos(t) + rng.gauss(0.0, noise),
                         r * math.sin(t) + rng.gauss(0.0, noise)], label))
    return _shuffled("circles", pts, rng, ["0", "1"])


def blobs(n: int = 150, centers: int = 3, std: float = 0.5, seed: Seed = None) -> Dataset:
    """``centers`` Gaussian clusters of standard deviation ``std``, centres evenly on a circle
    of radius 2 (so the classes are separable for small std); about n / centers points each."""
    _check_n(n, 1)
    _check_n(centers, 2)
    std = _check_noise(std)
    rng = _rng(seed)
    pts: list[tuple[list[float], int]] = []
    for i in range(n):
        c = i % centers
        a = 2.0 * math.pi * c / centers
        pts.append(([2.0 * math.cos(a) + rng.gauss(0.0, std),
                     2.0 * math.sin(a) + rng.gauss(0.0, std)], c))
    return _shuffled("blobs", pts, rng, [str(c) for c in range(centers)])


def spirals(n: int = 200, classes: int = 2, noise: float = 0.1, turns: float = 1.0,
            seed: Seed = None) -> Dataset:
    """``classes`` interleaved spiral arms, each turning ``turns`` times, radius from 0 to 1."""
    _check_n(n, 2)
    _check_n(classes, 2)
    noise = _check_noise(noise)
    rng = _rng(seed)
    pts: list[tuple[list[float], int]] = []
    per = [n // classes + (1 if c < n % classes else 0) for c in range(classes)]
    for c in range(classes):
        for i in range(per[c]):
            r = (i + 1) / per[c]
            t = 2.0 * math.pi * (turns * r + c / classes)
            pts.append(([r * math.cos(t) + rng.gauss(0.0, noise) * r,
                         r * math.sin(t) + rng.gauss(0.0, noise) * r], c))
    return _shuffled("spirals", pts, rng, [str(c) for c in range(classes)])


def xor(n: int = 4, noise: float = 0.0, seed: Seed = None) -> Dataset:
    """The XOR problem: corners (0,0), (0,1), (1,0), (1,1) with labels 0, 1, 1, 0.

    Point i is corner i % 4 plus Gaussian noise; ``xor()`` is the classic four points in order.
    """
    _check_n(n, 1)
    noise = _check_noise(noise)
    rng = _rng(seed)
    corners = (([0.0, 0.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([1.0, 1.0], 0))
    xs, labels = [], []
    for i in range(n):
        p, c = corners[i % 4]
        xs.append([v + (rng.gauss(0.0, noise) if noise else 0.0) for v in p])
        labels.append(c)
    return Dataset("xor", xs, labels, ["0", "1"])


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": moons, "circles": circles, "blobs": blobs, "spirals": spirals, "xor": xor,
}
"""Generators by name; each takes ``n``, ``seed`` and its own shape options."""


MAX_ROWS = 1_000_000
"""The most data rows ``load_csv`` reads unless told otherwise: a file or a pipe that goes on
(``yes 1,2,0 | edgegrad train --csv /dev/stdin``) is refused, not read until memory runs out."""

MAX_DATA_BYTES = 64 * 2**20
"""The largest data file ``load_csv`` reads unless told otherwise, in bytes (64 MiB: a million
rows of a few features); a pipe that goes on is refused once past it."""


def load_csv(path: str | os.PathLike[str], label_column: int = -1,
             max_rows: int | None = MAX_ROWS, limit: int = MAX_DATA_BYTES) -> Dataset:
    """Read a CSV of numeric features and one label column (by default the last).

    A first row whose feature cells are not all numbers is a header. Labels may be any text
    (class names) or numbers; classes are numbered in sorted order. When every label is a
    finite number they are compared as numbers: ``1`` and ``1.0`` are one class (named as first
    written) and 2 comes before 10. A missing file, a line with the wrong number of columns or a
    non-numeric feature raises an error naming the file, the line and the column; so does a file
    of more than ``max_rows`` data rows (None: no limit). The file is read by
    ``autograd.iter_csv``: at most ``limit`` bytes (a pipe that goes on is refused once past
    it), each field at most ``autograd.files.MAX_CSV_FIELD`` characters. A number is written
    in ASCII digits (Python's ``float`` would also read ``１.５``).
    """
    p = Path(path)
    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int)
                                 or max_rows < 1):
        raise ValueError(f"max_rows must be a positive int or None; got {max_rows!r}")
    rows: list[tuple[int, list[str]]] = []
    try:
        for line, row in iter_csv(p, what="data file", limit=limit):
            # One row more than the limit may be a header; two more cannot.
            if max_rows is not None and len(rows) > max_rows:
                raise DataFileError(f"{p} has more than {max_rows:,} data rows, the most "
                                    f"load_csv reads (max_rows)")
            rows.append((line, row))
    except FileNotFoundError:
        raise FileNotFoundError(f"data file {p} does not exist") from None
    except DataFileError:
        raise
    except InputError as e:
        raise DataFileError(str(e)) from None
    if not rows:
        raise DataFileError(f"{p} is empty: expected rows of features and a label")
    width = len(rows[0][1])
    if width < 2:
        raise DataFileError(f"{p} line {rows[0][0]}: found {width} column; expected at least "
                            f"2 (features, then the label)")
    if not -width <= label_column < width:
        raise DataFileError(f"{p}: label_column {label_column} is out of range for {width} "
                            f"columns")
    lab = label_column % width
    feats = [j for j in range(width) if j != lab]
    first = rows[0][1]
    header = [c.strip() for c in first] if not all(_is_number(first[j]) for j in feats) else None
    if header is not None:
        rows = rows[1:]
        if not rows:
            raise DataFileError(f"{p} has a header but no data rows")
    if max_rows is not None and len(rows) > max_rows:
        raise DataFileError(f"{p} has more than {max_rows:,} data rows, the most load_csv "
                            f"reads (max_rows)")
    names = [header[j] for j in feats] if header else [f"x{i}" for i in range(len(feats))]
    xs: list[list[float]] = []
    raw: list[str] = []
    for ln, row in rows:
        if len(row) != width:
            raise DataFileError(f"{p} line {ln}: found {len(row)} columns; expected {width} "
                                f"like the first line")
        point = []
        for j in feats:
            cell = row[j].strip()
            try:
                v = float(cell) if cell.isascii() else _not_ascii(cell)
            except ValueError:
                col = f"{j + 1}" + (f" ({header[j]!r})" if header else "")
                raise DataFileError(f"{p} line {ln}, column {col}: {cell!r} is not a "
                                    f"number") from None
            if not math.isfinite(v):
                raise DataFileError(f"{p} line {ln}, column {j + 1}: {cell!r} is not finite")
            point.append(v)
        xs.append(point)
        raw.append(row[lab].strip())
    if all(_is_number(c) and math.isfinite(float(c)) for c in raw):
        # One class per number, named by its first spelling: "1" and "1.0" are the same label.
        spelling: dict[float, str] = {}
        for c in raw:
            spelling.setdefault(float(c), c)
        numbers = sorted(spelling)
        classes = [spelling[x] for x in numbers]
        position = {x: i for i, x in enumerate(numbers)}
        labels = [position[float(c)] for c in raw]
    else:
        classes = sorted(set(raw))
        index = {c: i for i, c in enumerate(classes)}
        labels = [index[c] for c in raw]
    if len(classes) < 2:
        raise DataFileError(f"{p}: every row has the label {raw[0]!r}; need at least 2 classes")
    return Dataset(p.stem, xs, labels, classes, names)


def _is_number(s: str) -> bool:
    if not s.isascii():
        return False
    try:
        float(s)
    except ValueError:
        return False
    return True


def _not_ascii(cell: str) -> float:
    raise ValueError(f"{cell!r} is not in ASCII digits")
