"""The model file reader (``nn.module.read_model_file``) is bounded whatever the file holds:
regular files only, the size before reading, the JSON measured before parsing (a small file
cannot ask for a big model, a big malformed one is refused fast), corrupt files end in
ModelFileError and exit status 2, and the model a file does not load into is untouched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from bounds import bounded

from nn import MLP, ModelFileError, load_model
from nn.cli import main
from nn.module import MAX_MODEL_BYTES, MAX_PARAMETERS


def _doc(**changes: object) -> dict:
    doc = {"format": "edgegrad-model", "version": 1, "kind": "MLP",
           "config": {"nin": 2, "nouts": [1], "activation": "relu",
                      "output_activation": "linear"},
           "parameters": {"layers.0.neurons.0.w.0": 0.5, "layers.0.neurons.0.w.1": 0.5,
                          "layers.0.neurons.0.b": 0.0}}
    doc.update(changes)
    return doc


def _refused(path: Path, words: str) -> None:
    model = MLP(2, [1], seed=0)
    before = model.state_dict()
    for load in (load_model, model.load):
        with bounded(seconds=10, megabytes=16), pytest.raises(ModelFileError) as info:
            load(path)
        assert words in str(info.value) and str(path) in str(info.value)
    assert model.state_dict() == before


@pytest.mark.parametrize("nouts, words", [
    ([20000, 20000, 1], "describes a MLP model of 400,100,001 parameters; a model file holds "
                         "at most"),
    ([500, 1], "describes a MLP model of 2,001 parameters, but the file holds 3"),
])
def test_a_small_file_cannot_ask_for_a_big_model(tmp_path: Path, nouts: list[int],
                                                   words: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(_doc(config={**_doc()["config"], "nouts": nouts})))
    model = MLP(2, [1], seed=0)
    with bounded(seconds=5, megabytes=4), pytest.raises(ModelFileError, match=words):
        load_model(path)
    with pytest.raises(ModelFileError, match="but this model is"):
        model.load(path)  # Module.load compares configs: it builds nothing either


def test_a_device_or_a_fifo_is_refused_without_reading_it(tmp_path: Path) -> None:
    if os.path.exists("/dev/zero"):
        zero = tmp_path / "zero.json"
        zero.symlink_to("/dev/zero")
        _refused(zero, "is a character device, not a model file")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # with no writer, reading it would wait forever
    _refused(fifo, "is a FIFO, not a model file")


def test_a_file_too_big_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(MAX_MODEL_BYTES + 1)  # sparse: costs no disk
    _refused(big, "a model file is at most")


CORRUPT = {
    "401-digit int": json.dumps(_doc()).replace('"layers.0.neurons.0.b": 0.0',
                                                '"layers.0.neurons.0.b": ' + "9" * 401),
    "5001-digit int": json.dumps(_doc()).replace('"layers.0.neurons.0.b": 0.0',
                                                 '"layers.0.neurons.0.b": ' + "9" * 5001),
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "an object nested 100,000 deep": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "1e999": json.dumps(_doc()).replace('"layers.0.neurons.0.b": 0.0',
                                        '"layers.0.neurons.0.b": 1e999'),
    "not UTF-8": "\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_files_end_in_model_file_error_and_exit_2(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(CORRUPT[case].encode("latin-1" if case == "not UTF-8" else "utf-8"))
    _refused(path, "")
    assert main(["deltas", "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgegrad deltas: error:") and err.count("\n") == 1


def test_a_huge_string_in_a_model_file_gives_a_short_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(_doc(kind="K" * 2_000_000)))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert "unknown model kind" in str(info.value) and len(str(info.value)) < 300
    path.write_text(json.dumps(_doc(config={"nin": 2, "nouts": ["x" * 2_000_000]})))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert len(str(info.value)) < 600
    path.write_text(json.dumps(_doc(version="v" * 2_000_000)))
    assert main(["deltas", "--model", str(path)]) == 2
    assert len(capsys.readouterr().err) < 600


def _flood(path: Path, megabytes: int) -> None:
    """A model file of about ``megabytes`` MB whose parameters are a flood of tiny objects."""
    n = megabytes * 2**20 // 3
    head = json.dumps(_doc(parameters={}))[:-3]  # up to '"parameters": '
    path.write_text(head + '{"x": [' + ",".join(["{}"] * n) + "]}}")


def test_a_big_malformed_file_is_refused_fast_under_the_cap(tmp_path: Path) -> None:
    # 54 MB of tiny objects once took 10 s and 730 MB before it was refused: every object was
    # built by json.loads first. Now they are counted before anything is built.
    path = tmp_path / "m.json"
    _flood(path, 54)
    assert path.stat().st_size < MAX_MODEL_BYTES
    model = MLP(2, [1], seed=0)
    before = model.state_dict()
    for load in (load_model, model.load):
        with bounded(seconds=30, megabytes=300), pytest.raises(ModelFileError) as info:
            load(path)
        assert f"{path}: JSON of about" in str(info.value)
        assert f"the most read is {MAX_PARAMETERS + 10_000:,}" in str(info.value)
    assert model.state_dict() == before


def test_a_truncated_big_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    model = MLP(30, [300, 1], seed=0)  # 9,601 parameters
    path = model.save(tmp_path / "m.json")
    text = path.read_text()
    path.write_text(text[:-2])
    with bounded(seconds=10, megabytes=16), pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == (f"model file {path} is not valid JSON: 1 bracket(s) left open "
                               "at the end (is it truncated?)")


def test_a_model_file_bigger_than_the_cap_loads_with_a_raised_limit(tmp_path: Path) -> None:
    path = MLP(2, [3, 1], seed=0).save(tmp_path / "m.json")
    size = path.stat().st_size
    with pytest.raises(ModelFileError, match=f"is {size:,} bytes; a model file is at most 100"):
        load_model(path, limit=100)
    assert load_model(path, limit=size).state_dict() == load_model(path).state_dict()
    assert main(["deltas", "--model", str(path), "--max-input-bytes", "100"]) == 2
    assert main(["deltas", "--model", str(path), "--max-input-bytes", str(size)]) == 0
