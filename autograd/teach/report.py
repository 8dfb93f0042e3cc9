"""The report of a learner's numbers checked, shared by every checker: one ``Mark`` per number
(right, wrong or blank, with a diagnosis and a sentence saying what happened) in a ``Report``
that prints as text and renders as an HTML table in Jupyter.

``check_by_hand`` (expressions) and ``nn.grade`` (networks) both report in this model; each
brings its own diagnosis enum (``handcheck.Diagnosis``, ``nn.grading.slips.Slip``), whose
``RIGHT`` member marks a right number. The marking rule is here too, so every checker judges
alike: a number is right when |yours − right| <= atol + rtol·|right| (``is_close``), with the
tolerances checked by ``check_tolerances`` and the learner's answers read by ``read_number``.

A blank (an answer left empty) is a mark with ``given`` None. ``check_by_hand`` and ``grade``
skip blanks (they mark what was given); a checker that knows every number asked, as one grading
a whole worksheet, can list them, and they are counted apart: neither right nor wrong.
"""

from __future__ import annotations

import enum
import html
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from .formulas import number

__all__ = ["ATOL", "RTOL", "AnswerError", "Mark", "Marking", "Report", "Verdict", "answer_error",
           "check_tolerances", "is_close", "join", "read_number"]

RTOL = 0.005
"""Default relative tolerance: hand-worked numbers are rounded; 0.5% of the value is allowed."""
ATOL = 1e-6
"""Default absolute tolerance, for values that are zero: small, as a network's gradients are."""

MAX_PROBLEMS = 20
"""An AnswerError lists at most this many problems, then says how many more there are."""


class AnswerError(ValueError):
    """The answers cannot be checked: a name not in the graph, a value that is not a number."""


def answer_error(verb: str, problems: Sequence[str]) -> AnswerError:
    """One AnswerError for every problem found (``verb``: "check", "grade"), the first
    ``MAX_PROBLEMS`` listed one per line: a sheet of 10,000 bad keys is not a 10,000-line error."""
    shown = list(problems[:MAX_PROBLEMS])
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - MAX_PROBLEMS:,} more")
    return AnswerError(f"cannot {verb} these answers:\n  " + "\n  ".join(shown))


def check_tolerances(rtol: Any, atol: Any) -> tuple[float, float]:
    """(rtol, atol) as floats, or a ValueError naming the bad one: each must be a finite
    number >= 0. NaN is refused, since it compares false with everything (every number would
    be marked wrong), and so is inf (every number would be right)."""
    out = []
    for name, x in (("rtol", rtol), ("atol", atol)):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{name} must be a number; got {type(x).__name__}")
        x = float(x)
        if not (math.isfinite(x) and x >= 0):
            raise ValueError(f"{name} must be a finite number >= 0; got {x}")
        out.append(x)
    return out[0], out[1]


def is_close(given: float, expected: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """|given − expected| <= atol + rtol·|expected| (NaN is never close)."""
    return abs(given - expected) <= atol + rtol * abs(expected)


def read_number(value: Any, where: str) -> float:
    """A learner's answer as a float: an int or float (not a bool), finite; else AnswerError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnswerError(f"{where}: the answer must be a number; got {type(value).__name__} "
                          f"{value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise AnswerError(f"{where}: the answer must be a finite number; got {value!r}")
    return f


class Verdict(enum.Enum):
    """How a number was marked."""

    RIGHT = "right"
    WRONG = "wrong"
    BLANK = "blank"


D = TypeVar("D", bound=enum.Enum)


@dataclass(frozen=True)
class Mark(Generic[D]):
    """One checked number: its key, what it is, the learner's number (None: left blank), the
    right one, the verdict, the checker's diagnosis and a sentence saying what happened."""

    key: str  # as the learner wrote it: "a", "de/da", "layers.1.neurons.0"
    what: str  # what the number is, written out: "∂L/∂a", "δ = ∂E_n/∂a"
    given: float | None  # None: a blank
    expected: float
    verdict: Verdict
    diagnosis: D  # the checker's own enum; its RIGHT member when the number is right
    message: str = ""  # for a wrong number: what happened, naming the numbers involved
    blame: tuple[str, ...] = ()  # the keys or nodes the diagnosis points to
    example: int | None = None  # for a number asked once per example
    kind: str = ""  # the sort of number, as the checker names it: "gradient", "delta", ...

    @property
    def ok(self) -> bool:
        """Whether the number is right (within the report's tolerance)."""
        return self.verdict is Verdict.RIGHT

    @property
    def where(self) -> str:
        """The key, with the example when the number is asked once per example."""
        return self.key if self.example is None else f"{self.key} (example {self.example})"


M = TypeVar("M", bound=Mark[Any])


@dataclass(frozen=True)
class Report(Generic[M]):
    """Marks in the order they were checked, with the tolerance that judged them. Prints as
    text (``str``), renders as a table in Jupyter; ``report[key]`` is a key's mark."""

    marks: tuple[M, ...]
    rtol: float
    atol: float
    title: str = ""
    _index: dict[tuple[str, int | None], M] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Each mark found by its key in one step, however long the sheet.
        index: dict[tuple[str, int | None], M] = {}
        for m in self.marks:
            index.setdefault((m.key, m.example), m)
            index.setdefault((m.key, None), m)
        object.__setattr__(self, "_index", index)

    @property
    def ok(self) -> bool:
        """Whether every given number is right (blanks are not counted against it)."""
        return all(m.verdict is not Verdict.WRONG for m in self.marks)

    @cached_property
    def wrong(self) -> list[M]:
        """The wrong numbers, in the report's order."""
        return [m for m in self.marks if m.verdict is Verdict.WRONG]

    @cached_property
    def blank(self) -> list[M]:
        """The numbers left blank, in the report's order."""
        return [m for m in self.marks if m.verdict is Verdict.BLANK]

    def find(self, key: str, example: int | None = None) -> M:
        """The mark of ``key`` (for ``example``, for a number asked per example; without it,
        the key's first mark)."""
        found = self._index.get((key, example))
        if found is None:
            some = ", ".join(m.where for m in self.marks[:10])
            more = f", ... ({len(self.marks)} in all)" if len(self.marks) > 10 else ""
            which = "" if example is None else f" for example {example}"
            raise KeyError(f"no answer {key!r}{which} in this report; it has "
                           f"{some or 'none'}{more}")
        return found

    def __getitem__(self, key: str) -> M:
        return self.find(key)

    def summary(self) -> str:
        """One line: how many were given, right and wrong (and blank), and the tolerance."""
        n, wrong, blank = len(self.marks), len(self.wrong), len(self.blank)
        given = n - blank
        blanks = f", {blank} blank" if blank else ""
        return (f"{given} answer{'s' if given != 1 else ''}: {given - wrong} right, {wrong} wrong"
                f"{blanks} (right means within {self.atol:g} + {self.rtol:g}·|value|)")

    def text(self) -> str:
        """The report as text: the title, the summary, then a column per field and under each
        wrong number its diagnosis."""
        table = [("answer", "is", "yours", "right", "")]
        for m in self.marks:
            table.append((m.where, m.what, _given(m), number(m.expected, ".6g"),
                          {Verdict.RIGHT: "ok", Verdict.WRONG: "WRONG",
                           Verdict.BLANK: "blank"}[m.verdict]))
        widths = [max(len(t[k]) for t in table) for k in range(5)]
        lines = [self.title] if self.title else []
        lines.append(self.summary())
        for k, t in enumerate(table):
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip())
            if k and self.marks[k - 1].verdict is Verdict.WRONG:
                m = self.marks[k - 1]
                lines.append(f"      {m.diagnosis.value}: {m.message}")
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        """The report as an HTML table (what Jupyter shows): the title, the summary, then one
        row per number; a right number's diagnosis cell is left empty."""
        head = "".join(f'<th style="{_CELL}">{h}</th>'
                       for h in ("answer", "is", "yours", "right", "", "diagnosis"))
        body = []
        for m in self.marks:
            colour = {Verdict.RIGHT: "#2a7a2a", Verdict.WRONG: "#d62728",
                      Verdict.BLANK: "#777777"}[m.verdict]
            note = (f"<b>{html.escape(str(m.diagnosis.value))}</b>: {html.escape(m.message)}"
                    if m.verdict is Verdict.WRONG else "")
            cells = [f"<code>{html.escape(m.where)}</code>", html.escape(m.what),
                     html.escape(_given(m)), html.escape(number(m.expected, ".6g"))]
            body.append("<tr>" + "".join(f'<td style="{_CELL}; white-space: nowrap">{c}</td>'
                                         for c in cells)
                        + f'<td style="{_CELL}; color: {colour}">{m.verdict.value}</td>'
                        + f'<td style="{_CELL}; text-align: left; min-width: 20em">{note}</td>'
                        "</tr>")
        heading = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        return (f"{heading}<p>{html.escape(self.summary())}</p><table><thead><tr>{head}</tr>"
                f"</thead><tbody>{''.join(body)}</tbody></table>")

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()


def _given(m: Mark[Any]) -> str:
    return "" if m.given is None else number(m.given, ".6g")


# Compact cells set inline: a page's own table style (the docs site's theme pads every cell
# and gives each column a minimum width) must not squeeze the diagnosis into a sliver.
_CELL = "padding: 2px 10px; min-width: 0; vertical-align: top"


@dataclass(frozen=True)
class Marking(Generic[M]):
    """A number about to be marked: what the checker knows before it judges. ``right``,
    ``wrong`` and ``blank`` make its mark, of the checker's class ``make``."""

    make: type[M]
    key: str
    what: str
    given: float | None
    expected: float
    right_diagnosis: enum.Enum  # the checker's RIGHT member
    example: int | None = None
    kind: str = ""

    def right(self) -> M:
        """The mark of a right number."""
        return self.make(self.key, self.what, self.given, self.expected, Verdict.RIGHT,
                         self.right_diagnosis, example=self.example, kind=self.kind)

    def wrong(self, diagnosis: enum.Enum, message: str, blame: Sequence[str] = ()) -> M:
        """The mark of a wrong number, with what went wrong."""
        return self.make(self.key, self.what, self.given, self.expected, Verdict.WRONG,
                         diagnosis, message, tuple(blame), self.example, self.kind)

    def blank(self) -> M:
        """The mark of a number left blank."""
        return self.make(self.key, self.what, None, self.expected, Verdict.BLANK,
                         self.right_diagnosis, example=self.example, kind=self.kind)


def join(items: Sequence[str]) -> str:
    """Names as a sentence lists them: ``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]

