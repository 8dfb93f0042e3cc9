"""The README is a front page, and every Python example of the README and of the manual
(``docs/**/*.md``) runs as shown.

Each ```` ```python ```` block runs in a fresh interpreter in a scratch directory, as a reader
would run it. A block followed by a ```` ```text title="Output" ```` block must print exactly
that text, compared by doctest's rules with ``...`` standing for any text. A block that cannot
run on its own says why in a ``<!-- not run: REASON -->`` line right above its fence.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]

OUTPUT_FENCE = '```text title="Output"'
NOT_RUN = re.compile(r"^<!-- not run: \S.*-->$")


@dataclass(frozen=True)
class Example:
    """One ```python block of a page: where it is, its code, and what it prints (or None)."""

    page: Path
    line: int
    code: str
    prints: str | None
    run: bool

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def fenced(lines: list[str], start: int) -> tuple[str, int]:
    """The text of the fenced block whose opening fence is ``lines[start]``, and the index of
    the line after its closing fence."""
    end = start + 1
    while end < len(lines) and lines[end].strip() != "```":
        end += 1
    if end == len(lines):
        raise AssertionError(f"the fence at line {start + 1} is never closed")
    return "".join(line + "\n" for line in lines[start + 1:end]), end + 1


def examples(page: Path) -> list[Example]:
    """The ```python blocks of ``page`` in order, each with the Output block that follows it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == OUTPUT_FENCE:
            raise AssertionError(f"{page.name}:{i + 1}: an Output block with no example above it")
        if lines[i].strip() != "```python":
            i += 1
            continue
        run = not (i > 0 and NOT_RUN.match(lines[i - 1].strip()))
        code, after = fenced(lines, i)
        nxt = after
        while nxt < len(lines) and not lines[nxt].strip():
            nxt += 1
        prints = None
        if nxt < len(lines) and lines[nxt].strip() == OUTPUT_FENCE:
            prints, after = fenced(lines, nxt)
        found.append(Example(page, i + 1, code, prints, run))
        i = after
    return found


EXAMPLES = [example for page in PAGES for example in examples(page)]


def run_example(code: str, where: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter in ``where``, on this checkout's packages."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-c", code], cwd=where, env=env,
                          capture_output=True, text=True, timeout=300)


def matches(want: str, got: str) -> bool:
    """``got`` is ``want`` by doctest's rules, ``...`` standing for any text; spaces at the ends
    of lines and blank lines at the end do not count (a page's editor may strip them)."""
    def trim(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n") + "\n"
    return doctest.OutputChecker().check_output(trim(want), trim(got), doctest.ELLIPSIS)


def test_the_pages_have_examples_and_show_what_they_print():
    assert len([e for e in EXAMPLES if e.page == README]) >= 1
    assert len(EXAMPLES) >= 20
    assert len([e for e in EXAMPLES if e.prints is not None]) >= 10


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_runs_and_prints_what_the_page_shows(example: Example, tmp_path: Path):
    if not example.run:
        pytest.skip("marked <!-- not run --> on its page")
    pytest.importorskip("numpy")
    out = run_example(example.code, tmp_path)
    assert out.returncode == 0, f"{example.name} failed:\n{example.code}\n{out.stderr}"
    if example.prints is not None:
        assert matches(example.prints, out.stdout), (
            f"{example.name} printed\n{out.stdout}\nbut its page shows\n{example.prints}")


def answer_files(page: Path) -> list[str]:
    """The ```json blocks of ``page`` that are answer files for ``edgegrad check``."""
    blocks = re.findall(r"^```json\n(.*?)^```$", page.read_text(encoding="utf-8"), re.S | re.M)
    return [block for block in blocks if '"answers"' in block]


ANSWERS = [(page, block) for page in PAGES for block in answer_files(page)]


@pytest.mark.parametrize("i", range(len(ANSWERS)))
def test_answer_file_on_a_page_is_graded_all_right(i: int, tmp_path: Path):
    """The answer files the manual shows are valid, and their numbers are the right ones."""
    page, block = ANSWERS[i]
    path = tmp_path / "answers.json"
    path.write_text(block, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "nn", "check", str(path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{page.name}: edgegrad check says\n{out.stdout}{out.stderr}"
    assert " 0 wrong" in out.stdout


def test_the_pages_show_answer_files():
    assert len(ANSWERS) >= 2


def test_the_output_check_can_fail(tmp_path: Path):
    """The comparison an example's Output block goes through refuses a wrong number."""
    page = tmp_path / "page.md"
    page.write_text('Text.\n\n```python\nprint(1 + 1)\n```\n\n```text title="Output"\n3\n```\n'
                    "\n<!-- not run: an example of the marker -->\n"
                    "```python\nimport nothing\n```\n", encoding="utf-8")
    first, second = examples(page)
    assert first.prints == "3\n" and first.run and not second.run
    printed = run_example(first.code, tmp_path).stdout
    assert printed == "2\n"
    assert not matches(first.prints, printed)
    assert matches("2\n", printed) and matches("...\n", "anything\nat all\n")


# The README is the front page: what edgegrad is, how to start, where each part lives.

README_TEXT = README.read_text(encoding="utf-8")


def test_the_readme_is_a_front_page():
    lines = README_TEXT.count("\n")
    assert lines <= 250, f"README.md has {lines} lines; the manual belongs in docs/"
    for command in ("make demo", "make test"):
        assert command in README_TEXT


def layout_block() -> str:
    """The README's "Where each part lives" block: the fenced block under that heading."""
    after = README_TEXT.split("## Where each part lives", 1)[1]
    return after.split("```", 2)[1]


def test_the_readme_layout_names_every_package_and_test_folder():
    block = layout_block()
    for engine in ("autograd/ops.py", "autograd/value.py", "autograd/backward.py"):
        assert engine in block, f"the README's layout does not name {engine}"
    folders = [p.parent for p in (ROOT / "autograd").rglob("__init__.py")]
    folders += [p.parent for p in (ROOT / "nn").rglob("__init__.py")]
    for folder in folders:
        name = folder.relative_to(ROOT).as_posix() + "/"
        assert name in block, f"the README's layout leaves out {name}"
    tests = sorted(p.name for p in (ROOT / "tests").iterdir()
                   if p.is_dir() and any(p.glob("test_*.py")))
    for name in tests:
        assert re.search(rf"\b{name}\b", block), f"the README's layout leaves out tests/{name}/"
    assert len(folders) >= 10 and len(tests) >= 10


def test_every_path_the_readme_names_exists():
    named = re.findall(r"(?<![\w./-])((?:autograd|nn|tests|docs|notebooks|benchmarks)"
                       r"/[\w./-]*)", README_TEXT)
    assert len(named) >= 15
    for path in named:
        assert (ROOT / path.rstrip(".")).exists(), f"the README names {path}, which is not there"


def test_the_readme_links_into_the_manual():
    links = re.findall(r"\]\((docs/[^)#]+\.md)(?:#[^)]*)?\)", README_TEXT)
    assert len(set(links)) >= 8
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for link in links:
        assert (ROOT / link).is_file(), f"the README links to {link}, which is not there"
        assert link.removeprefix("docs/") in nav, f"{link} is not in mkdocs.yml's nav"


def test_the_readme_picture_is_the_drawing_of_its_example():
    """The README shows docs/images/jurafsky.svg, the project's own drawing of L = c(a + 2b)."""
    assert "](docs/images/jurafsky.svg)" in README_TEXT
    svg = (ROOT / "docs" / "images" / "jurafsky.svg").read_text(encoding="utf-8")
    assert len(svg) < 30_000
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    values = {t.replace("&#45;", "-").strip() for t in texts}
    for shown in ("a", "b", "c", "L", "data -10", "grad 5", "grad -4", "grad -2"):
        assert shown in values, f"the picture does not show {shown!r}"


def test_the_readme_says_how_to_tell_the_engine_from_hips_autograd():
    section = README_TEXT.split("HIPS autograd", 1)[1][:2000]
    assert "ENGINE" in section and "pip uninstall autograd" in section
