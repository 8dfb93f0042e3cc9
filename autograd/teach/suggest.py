"""'Did you mean ...?' for a name that is not in a graph, in bounded time.

``difflib.get_close_matches(name, names)`` compares the name with every name: for a sheet of
many unknown keys against a graph of many nodes that is keys x nodes comparisons. A
``NameIndex`` is built once (linear in the names) and looks at a bounded set of candidates per
query: the names equal but for case, the names one edit away (one character inserted, deleted
or changed, found through each name's one-deletion variants, as SymSpell does), and the names
next to it in sorted order (those sharing its beginning). The few best of those, by difflib's
ratio, are the suggestions. A name two edits away that shares no beginning is not suggested:
that is the price of the bound.
"""

from __future__ import annotations

import bisect
import difflib
import heapq
from collections.abc import Iterable

__all__ = ["NameIndex", "listing"]

PER_KEY = 8
"""At most this many names are read from each index entry (many names may share one variant)."""
LONGEST = 40
"""Names and queries longer than this are matched by case and by beginning only."""


class NameIndex:
    """The names of a graph, indexed for ``suggest``."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(dict.fromkeys(names))
        self._set = set(self.names)
        self._sorted = sorted(self.names)
        self._folded: dict[str, list[str]] = {}
        self._deleted: dict[str, list[str]] = {}  # a name with one character deleted -> names
        for name in self.names:
            _add(self._folded, name.casefold(), name)
            if len(name) <= LONGEST:
                for variant in _deletions(name):
                    _add(self._deleted, variant, name)

    def suggest(self, name: str, n: int = 3, cutoff: float = 0.6) -> list[str]:
        """At most ``n`` names close to ``name``, closest first (difflib's ratio >= ``cutoff``),
        from a bounded set of candidates (module doc)."""
        found: dict[str, None] = {}
        for k in self._folded.get(name.casefold(), ())[:PER_KEY]:
            found[k] = None
        if len(name) <= LONGEST:
            for variant in (name, *_deletions(name)):
                if variant in self._set:  # the name with a character deleted
                    found[variant] = None
                for k in self._deleted.get(variant, ())[:PER_KEY]:  # inserted or changed
                    found[k] = None
        at = bisect.bisect_left(self._sorted, name)
        for k in self._sorted[max(0, at - PER_KEY // 2):at + PER_KEY // 2]:
            found[k] = None
        found.pop(name, None)
        # difflib.get_close_matches over the candidates, each cut to a few hundred characters:
        # its cost grows with the product of the two lengths.
        probe = name[:LONGEST * 4]
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(probe)
        scored = []
        for k in found:
            matcher.set_seq1(k[:LONGEST * 4])
            if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
                score = matcher.ratio()
                if score >= cutoff:
                    scored.append((score, k))
        return [k for _, k in heapq.nlargest(n, scored)]


def _deletions(name: str) -> set[str]:
    return {name[:i] + name[i + 1:] for i in range(len(name))}


def _add(index: dict[str, list[str]], key: str, name: str) -> None:
    got = index.setdefault(key, [])
    if len(got) < PER_KEY:
        got.append(name)


def listing(names: list[str], most: int = 12) -> str:
    """The first ``most`` names joined by commas, then how many more there are."""
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names):,} in all)" if len(names) > most else "")
