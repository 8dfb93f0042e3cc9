"""``autograd.files.read``: every file from outside is read within its limits, checked before
the work they bound, and refused with a message naming the file, what was wrong and what would
be valid."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from bounds import bounded
from hypothesis import given
from hypothesis import strategies as st

from autograd.files import (
    MAX_INPUT_BYTES,
    InputError,
    iter_csv,
    read_bytes,
    read_csv,
    read_json,
    read_text,
)
from autograd.files.read import json_depth, json_shape

needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")


def test_a_small_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"\x00\xffabc")
    assert read_bytes(path, what="data file") == b"\x00\xffabc"
    assert read_bytes(path, limit=5) == b"\x00\xffabc"


def test_a_regular_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(10 * MAX_INPUT_BYTES)  # sparse: reading it would cost 80 MiB
    with bounded(seconds=5, megabytes=4), pytest.raises(InputError) as info:
        read_bytes(big, what="problem file")
    assert str(info.value) == (f"problem file {big} is {10 * MAX_INPUT_BYTES:,} bytes; the most "
                               f"read is {MAX_INPUT_BYTES:,} bytes")


@needs_dev_zero
def test_an_endless_device_is_refused_once_past_the_limit() -> None:
    with bounded(seconds=5, megabytes=8), pytest.raises(InputError) as info:
        read_bytes("/dev/zero", what="answers file", limit=2 * 2**20)
    assert "answers file /dev/zero (a character device) goes on past 2,097,152 bytes" in \
        str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_an_endless_pipe_is_read_in_bounded_chunks_and_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    stop = threading.Event()

    def write() -> None:
        try:
            with fifo.open("wb") as f:
                while not stop.is_set():
                    f.write(b"1,2,0\n" * 10_000)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with bounded(seconds=10, megabytes=8), pytest.raises(InputError, match="a pipe"):
            read_text(fifo, what="data file", limit=2**20)
    finally:
        stop.set()
        writer.join()


def test_a_dangling_symlink_and_a_directory_are_refused_by_name(tmp_path: Path) -> None:
    link = tmp_path / "gone.json"
    link.symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(FileNotFoundError) as info:
        read_json(link, what="problem file")
    assert str(info.value) == (f"problem file {link} is a symlink to "
                               f"{tmp_path / 'nowhere.json'}, which does not exist")
    with pytest.raises(FileNotFoundError, match=r"answers file .*missing\.csv does not exist"):
        read_csv(tmp_path / "missing.csv", what="answers file")
    with pytest.raises(InputError, match=r"data file .* is a directory; expected a file"):
        read_bytes(tmp_path, what="data file")


def test_a_decode_error_names_its_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfkey,answer\nx,\xe9\n")
    with pytest.raises(InputError) as info:
        read_text(path, what="answers file")
    assert str(info.value) == (f"answers file {path} is not UTF-8 text: invalid continuation "
                               "byte at byte offset 16 (line 2); save it as UTF-8")
    path.write_bytes(b"\xef\xbb\xbfkey\n")
    assert read_text(path) == "key\n"  # the byte order mark is dropped


def test_json_depth_skips_strings_and_is_linear() -> None:
    assert json_depth('[{"a": "[[[\\"[[[{"}, [[]]]') == 3
    assert json_depth("[[][[]]]") == 3 and json_depth("[[],{}]") == 2
    assert json_depth('"unterminated [[[') == 0
    assert json_depth("[" * 10 + "]" * 10) == 10
    assert json_depth("[" * 100 + "]" * 100) == 65  # past MAX_JSON_DEPTH: the bound + 1
    assert json_depth("1") == 0
    assert json_shape("[[[[]]]]", max_depth=2).depth == 3  # past the bound: bound + 1
    # An unterminated string of escaped quotes once made a regular expression quadratic.
    with bounded(seconds=10, megabytes=64):
        assert json_depth('"' + '\\"' * 1_000_000 + "[") == 0


DEEP = ": JSON nested more than 64 deep, the most read"


@pytest.mark.parametrize("text, words", [
    ("[" * 5000 + "]" * 5000, DEEP),
    ('{"a":' * 100_000 + "1" + "}" * 100_000, DEEP),
    ("[" * 900_000, " is not valid JSON: 900,000 bracket(s) left open at the end"),
    ("[" * 90 + "]" * 89, DEEP),
])
def test_deep_json_is_refused_before_it_is_parsed(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text(text)
    with bounded(seconds=10, megabytes=32), pytest.raises(InputError) as info:
        read_json(path, what="answers file")
    assert str(info.value).startswith(f"answers file {path}{words}")


def test_json_within_its_depth_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    doc = {"a": [[[1.5, {"b": None}]]], "s": "[[[["}
    path.write_text(json.dumps(doc))
    assert read_json(path, max_depth=5) == doc
    with pytest.raises(InputError, match="nested more than 4 deep, the most read"):
        read_json(path, max_depth=4)


def _depth(doc: object) -> int:
    """The nesting depth of a parsed document: the oracle for json_shape's scan."""
    if isinstance(doc, dict):
        return 1 + max((_depth(v) for v in doc.values()), default=0)
    if isinstance(doc, list):
        return 1 + max((_depth(v) for v in doc), default=0)
    return 0


def _count(doc: object) -> int:
    if isinstance(doc, dict):
        return 1 + sum(_count(v) for v in doc.values())
    if isinstance(doc, list):
        return 1 + sum(_count(v) for v in doc)
    return 1


json_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet='[]{}",\\ab\n\u2028'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(alphabet='[]{}",\\ab'), inner, max_size=4),
    max_leaves=20)


@given(json_documents, st.booleans())
def test_json_shape_agrees_with_the_parsed_document(doc: object, indent: bool) -> None:
    text = json.dumps(doc, indent=1 if indent else None, ensure_ascii=False)
    shape = json_shape(text)
    assert shape.depth == _depth(doc)
    assert shape.balance == 0 and shape.matched
    # Every value is counted; an empty container twice at most.
    assert _count(doc) <= shape.values <= 2 * _count(doc)
    if len(text) > 1 and shape.depth:
        assert json_shape(text[:-1]).balance == 1  # cut: the last bracket left open


def test_a_flood_of_small_values_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "flood.json"
    path.write_text("[" + ",".join(["{}"] * 2_000_000) + "]")  # 6 MB: 2 million dicts
    with bounded(seconds=10, megabytes=40), pytest.raises(InputError) as info:
        read_json(path, what="answers file")
    assert str(info.value) == (f"answers file {path}: JSON of about 4,000,001 values; the most "
                               "read is 1,000,000")


@pytest.mark.parametrize("text, words", [
    ('{"a": NaN}', "NaN is not a number JSON allows (only finite numbers)"),
    ('[-Infinity]', "-Infinity is not a number JSON allows"),
    ("[" + "9" * 5000 + "]", "an integer of 5,000 digits; the most read is 100"),
    ('{"a": 1', "is not valid JSON: 1 bracket(s) left open at the end (is it truncated?)"),
    ('{"a": 1]}', "is not valid JSON: a bracket closes what it did not open"),
    ('{"a": [1}]', "is not valid JSON: a bracket closes what it did not open"),
    ('{"a": 1 2}', "is not valid JSON (line 1, column 9: Expecting ',' delimiter)"),
    (" \n", "is empty; expected a JSON document"),
    ("-", "is not valid JSON (line 1, column 1: Expecting value)"),
])
def test_what_is_not_json_is_refused_with_where(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_json(path, what="problem file")
    assert str(info.value).startswith(f"problem file {path}")
    assert words in str(info.value)


def test_csv_rows_are_read_with_their_line_ends_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b'x,y\r\n1,"a\nb"\r3,4\n\n , \n5,6')
    assert read_csv(path) == [["x", "y"], ["1", "a\nb"], ["3", "4"], ["5", "6"]]
    with path.open(newline="") as f:  # the csv module reading the file, blank rows left out
        assert read_csv(path) == [r for r in csv.reader(f) if any(c.strip() for c in r)]
    assert [line for line, _ in iter_csv(path)] == [1, 2, 4, 7]


def test_a_long_csv_field_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("key,answer\n" + "a," + "9" * 5000 + "\n")
    with pytest.raises(InputError) as info:
        read_csv(path, what="answers file")
    assert str(info.value) == (f"answers file {path} line 2: a field of 5,000 characters; the "
                               "most read is 4,096")
    path.write_text("key,answer\n" + "a," + "9" * 200_000 + "\n")  # past the csv module's own
    with pytest.raises(InputError, match="line 2: a field longer than 4,096 characters"):
        read_csv(path, what="answers file")
    with pytest.raises(ValueError, match=r"max_field is at most csv.field_size_limit\(\)"):
        read_csv(path, max_field=10**9)


def test_too_many_csv_rows_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("1,2\n" * 11)
    with pytest.raises(InputError, match=r"d\.csv has more than 10 rows, the most read"):
        read_csv(path, max_rows=10)
    assert len(read_csv(path, max_rows=11)) == 11


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, None])
def test_a_limit_is_a_positive_int(tmp_path: Path, limit: object) -> None:
    path = tmp_path / "x"
    path.write_text("1")
    with pytest.raises(ValueError, match="limit must be a positive int"):
        read_bytes(path, limit=limit)  # type: ignore[arg-type]


def test_stdin_from_a_pipe_is_read(tmp_path: Path) -> None:
    code = ("from autograd.files import read_text; "
            "print(read_text('/dev/stdin', what='problem file', limit=100))")
    out = subprocess.run([sys.executable, "-c", code], input="hello", capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parents[2], check=True)
    assert out.stdout == "hello\n"
