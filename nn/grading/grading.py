"""Grading one student's hand-in against their own problem, made again from the roster and the
secret: ``grade_student(job)`` returns their grade and the files of their feedback.

Each row of the student's worksheet is one answer, worth ``Points.worth(key)``: right earns its
points; wrong earns ``upstream_credit`` of them when the checker's diagnosis is that it follows
from a wrong number upstream (or a wrong forward value), else nothing; blank and not-a-number
earn nothing. A refused hand-in (the reason in ``StudentGrade.reason``) earns 0 on every row.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autograd.files import InputError
from autograd.teach.handcheck import ATOL, RTOL, HandCheck, check_by_hand
from autograd.teach.worksheet import Worksheet, from_problem

from .handin import HANDIN_BYTES, RowKey, parse_answer, read_handin
from .network import GradeReport, grade, network_problem
from .points import Points
from .roster import Student, make_problem

__all__ = ["Answer", "Job", "StudentGrade", "grade_student", "refused_grade"]

UPSTREAM_DIAGNOSES = frozenset({"UPSTREAM", "FORWARD"})
"""The diagnoses (by enum member name, the checkers' own) of a number that follows correctly
from a wrong number upstream: they earn ``Points.upstream_credit``."""


@dataclass(frozen=True)
class Job:
    """One student to grade: who, their problem's kind and seed, their hand-in's path (None:
    none handed in), a reason it is refused before reading (empty: none), and the rules."""

    student: Student
    kind: str
    seed: int
    handin: str | None
    refused: str = ""
    points: Points = field(default_factory=Points)
    limit: int = HANDIN_BYTES
    rtol: float = RTOL
    atol: float = ATOL


@dataclass(frozen=True)
class Answer:
    """One graded worksheet row: its key, example and what it asks; the points earned of those
    it is worth; its status (right, wrong, blank, not a number, not graded); the checker's
    diagnosis and message for a wrong one."""

    key: str
    example: int | None
    what: str
    points: float
    worth: float
    status: str
    diagnosis: str = ""
    message: str = ""

    @property
    def where(self) -> str:
        """The key, with the example when the number is per example."""
        return self.key if self.example is None else f"{self.key} (example {self.example})"


@dataclass(frozen=True)
class StudentGrade:
    """A student's grade: score out of the points, how many answers were right, wrong and
    blank, the first diagnosis (in the checker's order), the reason a hand-in got 0 (empty when
    it was graded), and each answer."""

    student: Student
    score: float
    out_of: float
    right: int
    wrong: int
    blank: int
    first_diagnosis: str = ""
    reason: str = ""
    answers: tuple[Answer, ...] = ()

    def summary(self) -> str:
        """One line: the student, the score and the counts (or the reason for a 0)."""
        who = f"{self.student.name} (id {self.student.id})" if self.student.name else \
            f"id {self.student.id}"
        line = (f"{who}: {_pts(self.score)} of {_pts(self.out_of)} points; {self.right} right, "
                f"{self.wrong} wrong, {self.blank} blank")
        return f"{line}; not graded: {self.reason}" if self.reason else line


def _pts(x: float) -> str:
    return f"{round(x, 4):g}"


def _rows(sheet: Worksheet) -> list[tuple[RowKey, str]]:
    return [((r.key, r.example), r.what) for r in sheet.rows]


def refused_grade(job: Job, reason: str, sheet: Worksheet | None = None
                  ) -> tuple[StudentGrade, dict[str, str]]:
    """The 0 of a hand-in refused for ``reason``: every answer of the student's worksheet
    marked not graded. Returns the grade and its feedback files."""
    if sheet is None:
        sheet = make_problem(job.kind, job.seed)[1]
    answers = tuple(Answer(key, n, what, 0.0, job.points.worth(key), "not graded", "",
                           reason) for (key, n), what in _rows(sheet))
    g = StudentGrade(job.student, 0.0, sum(a.worth for a in answers), 0, 0, 0, "", reason,
                     answers)
    return g, feedback_files(g, None, ())


def _report(problem: Mapping[str, Any], answers: Mapping[str, Any], rtol: float,
            atol: float) -> HandCheck | GradeReport:
    if "network" in problem:
        net, xs, ys, loss = network_problem(problem)
        return grade(net, xs, ys, answers, loss=loss, rtol=rtol, atol=atol)
    return check_by_hand(from_problem(problem), answers, rtol=rtol, atol=atol)


def _verdicts(report: HandCheck | GradeReport) -> dict[RowKey, tuple[bool, str, str, str]]:
    """Each checked number's (ok, diagnosis name, diagnosis text, message) by row, in the
    report's order (the checker's: values first, then from the output back)."""
    return {(m.key, m.example): (m.ok, m.diagnosis.name, str(m.diagnosis.value), m.message)
            for m in report.marks}


def grade_student(job: Job) -> tuple[StudentGrade, dict[str, str]]:
    """Grade ``job``'s hand-in against the student's own problem (made again from the seed);
    returns the grade and the feedback by suffix (``txt``, ``html``)."""
    problem, sheet = make_problem(job.kind, job.seed)
    if job.refused:
        return refused_grade(job, job.refused, sheet)
    if job.handin is None:
        return refused_grade(job, "no hand-in", sheet)
    rows = _rows(sheet)
    try:
        handin = read_handin(job.handin, [k for k, _ in rows], job.limit)
    except InputError as e:
        return refused_grade(job, str(e), sheet)
    if handin.claimed_id is not None and handin.claimed_id != job.student.id:
        shown = handin.claimed_id[:40]
        return refused_grade(job, f"it is the worksheet of another student (its student.id is "
                                  f"{shown!r})", sheet)
    numbers: dict[RowKey, float] = {}
    unreadable: dict[RowKey, str] = {}
    for row, text in handin.answers.items():
        try:
            numbers[row] = parse_answer(text)
        except ValueError as e:
            unreadable[row] = str(e)
    given: dict[str, Any] = {}
    for (key, n), x in numbers.items():
        if n is None:
            given[key] = x
        else:
            values = given.setdefault(key, [])
            values.extend([None] * (n + 1 - len(values)))
            values[n] = x
    try:
        report = _report(problem, given, job.rtol, job.atol)
    except (ValueError, TypeError, ArithmeticError) as e:
        return refused_grade(job, f"its answers could not be graded: {e}", sheet)
    verdicts = _verdicts(report)
    answers = []
    first = ""
    order = {row: i for i, row in enumerate(verdicts)}
    for (key, n), what in rows:
        worth = job.points.worth(key)
        if (key, n) in unreadable:
            answers.append(Answer(key, n, what, 0.0, worth, "not a number", "not a number",
                                  unreadable[(key, n)]))
            continue
        found = verdicts.get((key, n))
        if found is None:
            answers.append(Answer(key, n, what, 0.0, worth, "blank"))
            continue
        ok, name, diagnosis, message = found
        if ok:
            answers.append(Answer(key, n, what, worth, worth, "right"))
        else:
            share = job.points.upstream_credit if name in UPSTREAM_DIAGNOSES else 0.0
            answers.append(Answer(key, n, what, worth * share, worth, "wrong", diagnosis,
                                  message))
    wrong = sorted((a for a in answers if a.status in ("wrong", "not a number")),
                   key=lambda a: order.get((a.key, a.example), -1))
    if wrong:
        first = f"{wrong[0].where}: {wrong[0].diagnosis}"
    g = StudentGrade(job.student, sum(a.points for a in answers), sum(a.worth for a in answers),
                     sum(a.status == "right" for a in answers),
                     sum(a.status in ("wrong", "not a number") for a in answers),
                     sum(a.status == "blank" for a in answers), first, "", tuple(answers))
    return g, feedback_files(g, report, handin.notes)


# ---------------------------------------------------------------------------------------------
# Feedback: the report as ``edgegrad check`` prints it, with the score, the blanks and the
# answers that were not numbers.


def feedback_text(g: StudentGrade, report: HandCheck | GradeReport | None,
                  notes: tuple[str, ...]) -> str:
    """The feedback as text: the score line, ``check``'s report, then the answers that were
    not numbers, the blanks and the rows ignored."""
    parts = [g.summary(), ""]
    if report is not None:
        parts.append(report.text().rstrip("\n"))
        parts.append("")
    unread = [a for a in g.answers if a.status == "not a number"]
    if unread:
        parts.append("not numbers (each earns 0):")
        parts += [f"  {a.where}: {a.message}" for a in unread]
    blank = [a.where for a in g.answers if a.status == "blank"]
    if blank:
        parts.append(f"blank ({len(blank)}): {', '.join(blank)}")
    if notes:
        parts.append("notes:")
        parts += [f"  {n}" for n in notes]
    return "\n".join(parts).rstrip("\n") + "\n"


def feedback_html(g: StudentGrade, report: HandCheck | GradeReport | None,
                  notes: tuple[str, ...]) -> str:
    """The feedback as a small HTML page: what ``feedback_text`` says, with ``check``'s report
    as a table. Every text from the hand-in is escaped."""
    esc = html.escape
    body = [f"<h1>{esc(g.summary())}</h1>"]
    if report is not None:
        body.append(report.html())
    unread = [a for a in g.answers if a.status == "not a number"]
    if unread:
        body.append("<h2>Not numbers (each earns 0)</h2><ul>"
                    + "".join(f"<li><code>{esc(a.where)}</code>: {esc(a.message)}</li>"
                              for a in unread) + "</ul>")
    blank = [a.where for a in g.answers if a.status == "blank"]
    if blank:
        body.append(f"<h2>Blank ({len(blank)})</h2><p>"
                    + ", ".join(f"<code>{esc(b)}</code>" for b in blank) + "</p>")
    if notes:
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes)
                    + "</ul>")
    title = esc(f"feedback for {g.student.id}")
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}'
            f'</title></head>\n<body style="font-family: sans-serif">\n' + "\n".join(body)
            + "\n</body></html>\n")


def feedback_files(g: StudentGrade, report: HandCheck | GradeReport | None,
                   notes: tuple[str, ...]) -> dict[str, str]:
    """A student's feedback by suffix: ``txt`` and ``html``."""
    return {"txt": feedback_text(g, report, notes), "html": feedback_html(g, report, notes)}
