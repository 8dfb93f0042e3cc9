"""Hostile files through every reader and every subcommand of ``edgegrad``, each run in its own
process under a memory limit (RLIMIT_AS) and a time limit: huge files, deep nesting, binary
bytes, control characters, endless lines and streams, wrong types and huge indices.

Each run must end in an exit status of the convention (``nn.cli.EXIT_STATUS``), never with a
traceback, never over its limits (no MemoryError, no timeout); input that is bad by
construction must exit 2 with one ``edgegrad COMMAND: error:`` line, never 0; and no control
character of the input may reach the terminal.

``make test`` runs a few dozen examples; ``make fuzz`` runs many more, randomized
(``FUZZ_EXAMPLES``, about ten minutes).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd.files import MAX_INPUT_BYTES
from nn.data import MAX_DATA_BYTES
from nn.module import MAX_MODEL_BYTES

ROOT = Path(__file__).resolve().parents[2]
LONG = "FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "24"))

MEMORY_LIMIT = 2 * 2**30
"""The address space each run may map (RLIMIT_AS): the interpreter with numpy and matplotlib
maps a few hundred MB; a reader that fills the memory hits this, as a MemoryError."""

TIME_LIMIT = 60.0
"""Seconds each run may take: a reader that reads without bound is stopped here."""

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32",
                                reason="needs resource limits in a child process (POSIX)")


@dataclass
class Case:
    """One run: the arguments (files written first), and whether the input is bad by
    construction (then it must exit 2)."""

    argv: list[str]
    files: dict[str, bytes | int] = field(default_factory=dict)
    """Name -> content; an int is the size of a sparse file of zeros (costs no disk)."""
    bad: bool = True
    what: str = ""


def _limits() -> None:  # runs in the child, before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(case: Case, folder: Path) -> subprocess.CompletedProcess[str]:
    for name, content in case.files.items():
        path = folder / name
        if isinstance(content, int):
            with path.open("wb") as f:
                f.truncate(content)
        else:
            path.write_bytes(content)
    argv = [a.replace("{dir}", str(folder)) for a in case.argv]
    # This checkout's code, whatever is installed (the run's folder is its working directory).
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONFAULTHANDLER", None)
    return subprocess.run([sys.executable, "-m", "nn", *argv], cwd=folder, env=env,
                          capture_output=True, text=True, errors="replace",
                          timeout=TIME_LIMIT, preexec_fn=_limits, stdin=subprocess.DEVNULL)


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def check_run(case: Case, folder: Path) -> None:
    try:
        r = run(case, folder)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{case.what}: ran over {TIME_LIMIT} s: {case.argv[:4]}") from None
    context = f"{case.what}: {case.argv[:6]} -> {r.returncode}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr, context
    assert "out of memory" not in r.stderr and "MemoryError" not in r.stderr, context
    assert r.returncode in (0, 1, 2), context
    if case.bad:
        assert r.returncode == 2, context
        lines = r.stderr.strip().splitlines()
        assert any(line.startswith(f"edgegrad {case.argv[0]}: error:") for line in lines), \
            context
    assert not CONTROL.search(r.stdout) and not CONTROL.search(r.stderr), context


# -- the inputs ----------------------------------------------------------------------------------

NETWORK = {"network": [{"w": [[0.15, 0.2], [0.25, 0.3]], "b": [0.35, 0.35],
                        "activation": "sigmoid"},
                       {"w": [[0.4, 0.45]], "b": [0.6], "activation": "sigmoid"}],
           "inputs": [[0.05, 0.1], [0.3, -0.2]], "targets": [0.01, 0.9], "loss": "sse"}
EXPRESSION = {"expression": ["d = 2*b", "e = a + d", "L = c*e"],
              "values": {"a": 3, "b": 1, "c": -2}}
MODEL = {"format": "edgegrad-model", "version": 1, "kind": "MLP",
         "config": {"nin": 2, "nouts": [1], "activation": "tanh",
                    "output_activation": "linear"},
         "parameters": {"layers.0.neurons.0.w.0": 0.5, "layers.0.neurons.0.w.1": -0.5,
                        "layers.0.neurons.0.b": 0.1}}
DATA = b"x,y,label\n0,0,a\n1,1,b\n0,1,a\n1,0,b\n"


def dumps(doc: Any) -> bytes:
    return json.dumps(doc).encode()


controls = st.text(alphabet=st.characters(max_codepoint=0x9F, categories=["Cc"]), min_size=1,
                   max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=10)


@st.composite
def hostile_json(draw: st.DrawFn, good: dict[str, Any]) -> tuple[bytes, bool, str]:
    """(content, bad by construction, what) for a JSON file whose good form is ``good``."""
    kind = draw(st.sampled_from(["deep", "deep object", "binary", "not utf-8", "flood", "cut",
                                 "huge int", "nan", "wrong type", "control", "random"]))
    if kind == "deep":
        n = draw(st.integers(65, 200_000))
        return b"[" * n + b"]" * draw(st.sampled_from([0, n])), True, kind
    if kind == "deep object":
        n = draw(st.integers(65, 50_000))
        return b'{"a":' * n + b"1" + b"}" * n, True, kind
    if kind == "binary":
        return b"\x00" + draw(st.binary(max_size=2000)), True, kind
    if kind == "not utf-8":
        text = dumps(good)
        i = draw(st.integers(0, len(text)))
        return text[:i] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + \
            text[i:], True, kind
    if kind == "flood":
        n = draw(st.integers(1_000_001, 2_000_000))
        return b"[" + b",".join([b"{}"] * n) + b"]", True, kind
    if kind == "cut":
        text = dumps(good)
        return text[:draw(st.integers(0, len(text) - 1))], True, kind
    if kind == "huge int":
        digits = draw(st.integers(101, 6000))
        return dumps({**good, "x": 0}).replace(b'"x": 0', b'"x": ' + b"9" * digits), True, kind
    if kind == "nan":
        return dumps({**good, "x": 0}).replace(b'"x": 0', b'"x": NaN'), True, kind
    if kind == "wrong type":
        key = draw(st.sampled_from(sorted(good)))
        wrong = draw(st.sampled_from(["text", 7, None, [[[]]], {"k": {}}]))
        if type(wrong) is type(good[key]) or (key == "answers" and isinstance(wrong, dict)):
            wrong = True
        return dumps({**good, key: wrong}), True, kind
    if kind == "control":
        doc = json.loads(json.dumps(good))
        key = draw(st.sampled_from(sorted(doc)))
        doc[draw(controls) + key] = doc.pop(key)
        return dumps(doc), True, kind
    return dumps(draw(json_values)), False, kind


@st.composite
def hostile_csv(draw: st.DrawFn, header: bytes) -> tuple[bytes, bool, str]:
    kind = draw(st.sampled_from(["endless line", "long field", "binary", "not utf-8",
                                 "huge index", "fullwidth", "control", "random"]))
    if kind == "endless line":
        return header + b"1," * draw(st.integers(1, 5)) + b"9" * draw(
            st.integers(4097, 300_000)), True, kind
    if kind == "long field":
        return header + b'"' + b"x" * draw(st.integers(131_073, 400_000)) + b'"\n', True, kind
    if kind == "binary":
        return header + b"\x00\xff" + draw(st.binary(max_size=1000)), True, kind
    if kind == "not utf-8":
        return header + b"a,\xff\xfe,1\n", True, kind
    if kind == "huge index":
        return (b"key,example,answer\nlayers.1.neurons.0," + str(
            draw(st.integers(2, 10**40))).encode() + b",0.5\n"), True, kind
    if kind == "fullwidth":
        return (b"key,example,answer\nL.data,,\xef\xbc\x91\xef\xbc\x90\n" if header.startswith(
            b"key") else b"x,y,label\n\xef\xbc\x91,0,a\n1,1,b\n"), True, kind
    if kind == "control":
        return header + draw(controls).encode() + b",1,1\n", False, kind
    return draw(st.binary(max_size=500)), False, kind


ANSWERS_CSV = b"key,example,answer\n"


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """One hostile run of one subcommand."""
    target = draw(st.sampled_from([
        "check problem", "check answers json", "check answers csv", "check endless",
        "check huge", "deltas model", "deltas csv", "deltas huge model", "train csv",
        "train huge csv", "train endless", "draw", "exercise", "good"]))
    if target == "check problem":
        good = {**draw(st.sampled_from([NETWORK, EXPRESSION])), "answers": {"L.data": 1}}
        content, bad, what = draw(hostile_json(good))
        return Case(["check", "problem.json"], {"problem.json": content}, bad, what)
    if target == "check answers json":
        content, bad, what = draw(hostile_json({"answers": {"layers.1.neurons.0": [0.1, 0.2]}}))
        return Case(["check", "problem.json", "--answers", "answers.json"],
                    {"problem.json": dumps(NETWORK), "answers.json": content}, bad, what)
    if target == "check answers csv":
        content, bad, what = draw(hostile_csv(ANSWERS_CSV))
        return Case(["check", "problem.json", "--answers", "answers.csv"],
                    {"problem.json": dumps(NETWORK), "answers.csv": content}, bad, what)
    if target == "check endless":
        which = draw(st.sampled_from(["problem", "answers"]))
        argv = (["check", "/dev/zero"] if which == "problem"
                else ["check", "problem.json", "--answers", "/dev/zero"])
        return Case(argv, {"problem.json": dumps(NETWORK)}, True, "endless")
    if target == "check huge":
        return Case(["check", "problem.json"], {"problem.json": MAX_INPUT_BYTES + 1}, True,
                    "huge")
    if target == "deltas model":
        content, bad, what = draw(hostile_json(MODEL))
        return Case(["deltas", "--model", "model.json", "--csv", "data.csv"],
                    {"model.json": content, "data.csv": DATA}, bad, what)
    if target == "deltas csv":
        content, bad, what = draw(hostile_csv(b"x,y,label\n"))
        return Case(["deltas", "--csv", "data.csv"], {"data.csv": content}, bad, what)
    if target == "deltas huge model":
        return Case(["deltas", "--model", "model.json"], {"model.json": MAX_MODEL_BYTES + 1},
                    True, "huge")
    if target == "train csv":
        content, bad, what = draw(hostile_csv(b"x,y,label\n"))
        return Case(["train", "--csv", "data.csv", "--epochs", "1", "--hidden", "2", "--quiet",
                     "--out", "{dir}/out"], {"data.csv": content}, bad, what)
    if target == "train huge csv":
        return Case(["train", "--csv", "data.csv", "--quiet", "--out", "{dir}/out"],
                    {"data.csv": MAX_DATA_BYTES + 1}, True, "huge")
    if target == "train endless":
        return Case(["train", "--csv", "/dev/zero", "--quiet", "--out", "{dir}/out"], {}, True,
                    "endless")
    if target == "draw":
        expression = draw(st.sampled_from(["a*b", "１+a", "a＋b", "a" * 2000, "(" * 5000 + "a",
                                           "a\x1b[2J+b"]))
        value = draw(st.sampled_from(["1", "１", "1e999999", "x" * 100_000, "\x1b]0;t\x07"]))
        fmt = draw(st.sampled_from([".4g", ">3000000000", ".2000000000f", "\x1b"]))
        bad = not (expression == "a*b" and value == "1" and fmt == ".4g")
        return Case(["draw", "--fmt", fmt, "--", expression, f"a={value}", "b=2"], {}, bad,
                    "draw")
    if target == "exercise":
        seed = draw(st.sampled_from(["１", "9" * 5000, "-0", "x"]))
        return Case(["exercise", "--seed", seed], {}, seed not in ("-0",), "exercise")
    kind = draw(st.sampled_from(["expression", "network"]))
    return Case(["exercise", "--kind", kind, "--seed", str(draw(st.integers(0, 10**6)))], {},
                False, "good")


@pytest.fixture(scope="module")
def folders() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@settings(max_examples=EXAMPLES, derandomize=not LONG, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(case=cases())
def test_hostile_input_ends_in_the_exit_status_convention(folders: Path, case: Case) -> None:
    with tempfile.TemporaryDirectory(dir=folders) as name:
        check_run(case, Path(name))


def test_valid_input_still_exits_0_under_the_same_limits(tmp_path: Path) -> None:
    """The oracle's other side: the limits leave room for real work."""
    good = Case(["check", "problem.json"], {"problem.json": dumps(
        {**EXPRESSION, "answers": {"a": -2, "b": -4, "c": 5, "L.data": -10}})}, bad=False)
    r = run(good, tmp_path)
    assert r.returncode == 0, r.stderr
    r = run(Case(["deltas", "--model", "model.json", "--csv", "data.csv"],
                 {"model.json": dumps(MODEL), "data.csv": DATA}, bad=False), tmp_path)
    assert r.returncode == 0, r.stderr
    r = run(Case(["train", "--csv", "data.csv", "--epochs", "2", "--hidden", "2", "--quiet",
                  "--out", f"{tmp_path}/out"], {"data.csv": DATA}, bad=False), tmp_path)
    assert r.returncode == 0, r.stderr
