"""The class at a glance: which answers the class got right, and which slips it made.

``class_summary(grades)`` counts, over the students whose hand-in was graded, each worksheet
answer's right, wrong and blank answers (with its most common diagnosis), the same by kind of
answer, and the most common diagnoses overall. ``write_summary`` writes it as summary.txt and
as a plot, summary.png (with matplotlib; without it the text alone, and the text says so).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograd import atomic_write

from .grading import StudentGrade
from .points import ANSWER_KINDS, answer_kind

__all__ = ["AnswerStats", "ClassSummary", "class_summary", "summary_text", "write_summary"]

PLOTTED = 40
"""The most answers the plot shows (the ones most students were asked)."""


@dataclass
class AnswerStats:
    """One answer (or kind of answer) over the class: how many were asked it, right, wrong,
    blank, and the diagnoses of the wrong ones."""

    name: str
    asked: int = 0
    right: int = 0
    wrong: int = 0
    blank: int = 0
    diagnoses: Counter[str] = field(default_factory=Counter)

    @property
    def share(self) -> float:
        """The share of right answers among those asked."""
        return self.right / self.asked if self.asked else 0.0

    def add(self, status: str, diagnosis: str) -> None:
        """Count one student's answer."""
        self.asked += 1
        if status == "right":
            self.right += 1
        elif status == "blank":
            self.blank += 1
        else:
            self.wrong += 1
            self.diagnoses[diagnosis] += 1


@dataclass(frozen=True)
class ClassSummary:
    """The class: how many students, graded and handed in, the mean score, the answers and the
    kinds of answer (in worksheet order), and the diagnoses by how often they were made."""

    students: int
    graded: int
    mean_score: float
    out_of: float
    answers: tuple[AnswerStats, ...]
    kinds: tuple[AnswerStats, ...]
    diagnoses: tuple[tuple[str, int], ...]


def class_summary(grades: Sequence[StudentGrade]) -> ClassSummary:
    """The summary of ``grades`` (refused hand-ins count in the mean, not in the answers)."""
    answers: dict[str, AnswerStats] = {}
    kinds = {k: AnswerStats(k) for k in ANSWER_KINDS}
    overall: Counter[str] = Counter()
    graded = [g for g in grades if not g.reason]
    for g in graded:
        for a in g.answers:
            stats = answers.setdefault(a.where, AnswerStats(a.where))
            stats.add(a.status, a.diagnosis)
            kinds[answer_kind(a.key)].add(a.status, a.diagnosis)
            if a.status not in ("right", "blank"):
                overall[a.diagnosis] += 1
    n = len(grades)
    mean = sum(g.score for g in grades) / n if n else 0.0
    out_of = max((g.out_of for g in grades), default=0.0)
    return ClassSummary(n, len(graded), mean, out_of, tuple(answers.values()),
                        tuple(k for k in kinds.values() if k.asked),
                        tuple(sorted(overall.items(), key=lambda kv: (-kv[1], kv[0]))))


def _table(rows: Sequence[AnswerStats], title: str) -> list[str]:
    head = (title, "asked", "right", "wrong", "blank", "most common diagnosis")
    table = [head] + [(r.name, str(r.asked), f"{100 * r.share:.0f}%", str(r.wrong),
                       str(r.blank), r.diagnoses.most_common(1)[0][0] if r.diagnoses else "")
                      for r in rows]
    widths = [max(len(t[k]) for t in table) for k in range(len(head))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip() for t in table]


def summary_text(s: ClassSummary) -> str:
    """The summary as text: the class line, the answers, the kinds, the diagnoses."""
    lines = [f"{s.students} students, {s.graded} hand-ins graded; mean score "
             f"{round(s.mean_score, 2):g} of {round(s.out_of, 4):g}", ""]
    lines += ["Right answers by answer (share of the graded students asked it):"]
    lines += [*_table(s.answers, "answer"), ""]
    lines += ["By kind of answer:", *_table(s.kinds, "kind"), ""]
    lines += ["Most common diagnoses of the wrong answers:"]
    lines += [f"  {count:5d}  {name}" for name, count in s.diagnoses] or ["  (none)"]
    return "\n".join(lines) + "\n"


def summary_png(s: ClassSummary) -> bytes:
    """The summary as a PNG: each answer's share of right answers, and the diagnoses."""
    from matplotlib.figure import Figure

    shown = sorted(s.answers, key=lambda a: -a.asked)[:PLOTTED]
    order = {a.name: i for i, a in enumerate(s.answers)}
    shown.sort(key=lambda a: order[a.name])
    top = list(s.diagnoses[:10])
    height = 2.0 + 0.22 * (len(shown) + len(top))
    fig = Figure(figsize=(10, height))
    ax1, ax2 = fig.subplots(2, 1, height_ratios=[max(len(shown), 1), max(len(top), 1) + 1])
    names = [a.name for a in shown][::-1]
    ax1.barh(names, [100 * a.share for a in shown][::-1], color="#4c72b0")
    ax1.set_xlim(0, 100)
    ax1.set_xlabel("% right (of the graded students asked)")
    ax1.set_title(f"{s.graded} hand-ins graded of {s.students} students")
    ax1.tick_params(axis="y", labelsize=7)
    ax2.barh([d for d, _ in top][::-1] or ["(no wrong answers)"],
             [c for _, c in top][::-1] or [0], color="#d62728")
    if not top:
        ax2.set_xlim(0, 1)
    ax2.set_xlabel("wrong answers with this diagnosis")
    ax2.tick_params(axis="y", labelsize=8)
    # Room for the answers' names on the left (tight_layout would measure every label: slow).
    fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.5 / height, bottom=0.6 / height,
                        hspace=0.9 / height * 2)
    data = io.BytesIO()
    fig.savefig(data, format="png", dpi=100)
    return data.getvalue()


def write_summary(out: Path, grades: Sequence[StudentGrade]) -> list[Path]:
    """Write out/summary.txt and, with matplotlib, out/summary.png; return their paths."""
    s = class_summary(grades)
    text = summary_text(s)
    try:
        png: bytes | None = summary_png(s)
    except ImportError:
        png = None
        text += "\n(no plot: it needs matplotlib, pip install 'edgegrad[all]')\n"
    written = [atomic_write(out / "summary.txt", text)]
    if png is not None:
        written.append(atomic_write(out / "summary.png", png))
    return written
