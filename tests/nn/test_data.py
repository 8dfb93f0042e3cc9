"""Datasets (shapes, geometry, seeds, target encodings) and the CSV loader's errors."""

import math

import pytest

from nn.data import (
    DATASETS,
    DataFileError,
    Dataset,
    blobs,
    circles,
    load_csv,
    moons,
    spirals,
    xor,
)


def test_moons_geometry_without_noise():
    ds = moons(100, noise=0.0, seed=0)
    assert len(ds) == 100 and ds.labels.count(0) == 50 and ds.labels.count(1) == 50
    for (x, y), c in zip(ds.xs, ds.labels):
        if c == 0:  # the upper half of the unit circle
            assert x * x + y * y == pytest.approx(1.0) and y >= -1e-12
        else:  # the lower half of the unit circle centred on (1, 0.5)
            assert (x - 1) ** 2 + (y - 0.5) ** 2 == pytest.approx(1.0) and y <= 0.5 + 1e-12


def test_seeds_make_datasets_reproducible():
    for name, make in DATASETS.items():
        a, b, c = make(seed=3), make(seed=3), make(seed=4)
        assert a.xs == b.xs and a.labels == b.labels, name
        if name != "xor":  # the classic XOR has no randomness
            assert a.xs != c.xs, name
    m = moons(30, 0.2, seed=1)
    spread = [abs(math.hypot(x, y) - 1) for (x, y), c in zip(m.xs, m.labels) if c == 0]
    assert max(spread) > 0.01  # the noise is really there


def test_circles_blobs_spirals_xor_shapes():
    c = circles(40, noise=0.0, factor=0.3, seed=0)
    radii = {round(math.hypot(*p), 9): lab for p, lab in zip(c.xs, c.labels)}
    assert radii == {1.0: 0, 0.3: 1}
    b = blobs(90, centers=3, std=0.1, seed=0)
    assert b.n_classes == 3 and [b.labels.count(k) for k in range(3)] == [30, 30, 30]
    for p, k in zip(b.xs, b.labels):  # each point sits near its centre on the radius-2 circle
        a = 2 * math.pi * k / 3
        assert math.hypot(p[0] - 2 * math.cos(a), p[1] - 2 * math.sin(a)) < 0.6
    s = spirals(99, classes=3, noise=0.0, seed=0)
    assert s.n_classes == 3 and len(s) == 99 and max(math.hypot(*p) for p in s.xs) <= 1 + 1e-12
    x = xor()
    assert x.xs == [[0, 0], [0, 1], [1, 0], [1, 1]] and x.labels == [0, 1, 1, 0]
    assert len(xor(10, noise=0.1, seed=0)) == 10


@pytest.mark.parametrize("call, words", [
    (lambda: moons(1), "n must be an int >= 2"),
    (lambda: moons(10, noise=-1), "noise"),
    (lambda: circles(10, factor=1.5), "factor"),
    (lambda: blobs(10, centers=1), ">= 2"),
])
def test_bad_generator_arguments(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_targets_follow_each_losss_convention():
    two = Dataset("d", [[0.0], [1.0]], [0, 1])
    assert two.targets("hinge") == [-1.0, 1.0]
    assert two.targets("bce") == two.targets("bce_logits") == two.targets("sse") == [0.0, 1.0]
    assert two.targets("softmax_ce") == [0, 1]
    assert two.n_outputs("hinge") == 1 and two.n_outputs("softmax_ce") == 2
    three = Dataset("d", [[0.0], [1.0]], [2, 0], ["a", "b", "c"])
    assert three.targets("bce") == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert three.targets("hinge") == [[-1.0, -1.0, 1.0], [1.0, -1.0, -1.0]]
    assert three.n_outputs("mse") == 3
    with pytest.raises(ValueError, match="unknown loss"):
        two.targets("nll")


def write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_with_header_and_text_labels(tmp_path):
    ds = load_csv(write(tmp_path, "width,height,kind\n1.5,2,cat\n0.5,1,dog\n\n3,4,cat\n"))
    assert ds.xs == [[1.5, 2.0], [0.5, 1.0], [3.0, 4.0]]
    assert ds.classes == ["cat", "dog"] and ds.labels == [0, 1, 0]
    assert ds.feature_names == ["width", "height"] and ds.name == "d"


def test_csv_numeric_labels_sort_numerically_and_label_column(tmp_path):
    ds = load_csv(write(tmp_path, "10,1,2\n2,3,4\n10,5,6\n"), label_column=0)
    assert ds.classes == ["2", "10"] and ds.labels == [1, 0, 1]
    assert ds.xs == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]] and ds.feature_names == ["x0", "x1"]


def test_csv_numeric_labels_that_are_the_same_number_are_one_class(tmp_path):
    # 1 and 1.0 (and 0 and -0) are one label written two ways: one class, named as first seen.
    ds = load_csv(write(tmp_path, "0,1\n1,1.0\n2,0\n3,-0\n4,2e0\n"))
    assert ds.classes == ["0", "1", "2e0"] and ds.labels == [1, 1, 0, 0, 2]
    # A label that is not a finite number makes them all names, sorted as text.
    ds = load_csv(write(tmp_path, "0,1\n1,nan\n2,1.0\n"))
    assert ds.classes == ["1", "1.0", "nan"] and ds.labels == [0, 2, 1]


@pytest.mark.parametrize("text, words", [
    ("", "is empty"),
    ("1,2,0\n3,4,1\n5,6\n", "line 3: found 2 columns; expected 3"),
    ("a,b,y\n1,2,0\n3,4,1\n5,6,1,9\n", "line 4: found 4 columns"),
    ("1,2,0\n3,x,1\n", "line 2, column 2: 'x' is not a number"),
    ("a,b,y\n1,2,0\n3,oops,1\n", "line 3, column 2 ('b'): 'oops'"),
    ("1,inf,0\n1,2,1\n", "line 1, column 2: 'inf' is not finite"),
    ("1,2,0\n3,4,0\n", "need at least 2 classes"),
    ("a,b,y\n", "no data rows"),
    ("1\n2\n", "at least 2"),
])
def test_bad_csv_files_name_the_line(tmp_path, text, words):
    with pytest.raises(DataFileError) as info:
        load_csv(write(tmp_path, text))
    assert words in str(info.value) and "d.csv" in str(info.value)


def test_missing_csv(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_csv(tmp_path / "nope.csv")


def test_csv_rows_are_bounded_without_reading_past_the_limit(tmp_path):
    path = write(tmp_path, "a,b,label\n" + "1,2,x\n1,2,y\n" * 2 + "1,2,x\n")
    assert len(load_csv(path, max_rows=5).xs) == 5  # the header is not a data row
    with pytest.raises(DataFileError, match=r"more than 4 data rows.*max_rows"):
        load_csv(path, max_rows=4)
    headless = write(tmp_path, "1,2,x\n1,2,y\n" * 2 + "1,2,x\n", name="h.csv")
    with pytest.raises(DataFileError, match="more than 4 data rows"):
        load_csv(headless, max_rows=4)
    assert len(load_csv(headless, max_rows=None).xs) == 5
    with pytest.raises(ValueError, match="max_rows must be a positive int or None"):
        load_csv(path, max_rows=0)


def test_an_endless_pipe_is_refused(tmp_path):
    """``yes 1,2,0 | ...``: the reader stops at the limit instead of filling the memory."""
    import os
    import threading

    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes are POSIX")
    fifo = tmp_path / "endless.csv"
    os.mkfifo(fifo)
    stop = threading.Event()

    def writer():  # "endless": 100,000 rows, so that a reader without a limit ends too
        try:
            with open(fifo, "w") as f:
                for _ in range(100):
                    if stop.is_set():
                        break
                    f.write("1,2,0\n1,3,1\n" * 500)
        except BrokenPipeError:
            pass  # the reader gave up: what it should do

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        with pytest.raises(DataFileError, match="more than 20,000 data rows"):
            load_csv(fifo, max_rows=20_000)
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()


def test_an_endless_line_is_refused_at_the_field_limit(tmp_path):
    from bounds import bounded

    path = tmp_path / "d.csv"
    path.write_text("x,y,label\n1,2," + "7" * 1_000_000)  # one line, no end
    with bounded(seconds=10, megabytes=16), pytest.raises(DataFileError) as info:
        load_csv(path)
    assert str(info.value) == (f"data file {path} line 2: a field longer than 4,096 "
                               "characters, the most read")


def test_an_endless_device_is_refused_once_past_the_byte_limit():
    import os

    from bounds import bounded

    if not os.path.exists("/dev/zero"):
        pytest.skip("needs /dev/zero")
    with bounded(seconds=10, megabytes=8), pytest.raises(DataFileError) as info:
        load_csv("/dev/zero", limit=2**20)
    assert str(info.value) == ("data file /dev/zero (a character device) goes on past 1,048,576 "
                               "bytes, the most read")


def test_fullwidth_digits_are_not_numbers(tmp_path):
    with pytest.raises(DataFileError, match=r"line 2, column 1: '１' is not a number"):
        load_csv(write(tmp_path, "1,2,0\n１,2,1\n3,4,1\n"))
