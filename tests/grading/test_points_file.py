"""Points: one per answer by default, weights per kind of answer, partial credit for a number
wrong only because of a wrong number upstream; a bad points file names what is valid."""

from __future__ import annotations

import pytest

from autograd.files.read import InputError
from nn.grading.points import ANSWER_KINDS, Points, answer_kind, read_points


@pytest.mark.parametrize("key, kind", [
    ("e.data", "value"), ("de/da", "local"), ("d/dd", "local"), ("a", "gradient"),
    ("data", "gradient"), ("layers.1.neurons.0", "delta"), ("layers.0.neurons.1.a", "value"),
    ("layers.0.neurons.1.z", "value"), ("layers.0.neurons.1.w.0", "weight_gradient"),
    ("layers.0.neurons.1.b", "weight_gradient"),
])
def test_each_key_has_its_kind(key, kind):
    assert answer_kind(key) == kind


def test_defaults_and_a_file(tmp_path):
    assert Points().weights == dict.fromkeys(ANSWER_KINDS, 1.0)
    assert Points().upstream_credit == 0.0
    path = tmp_path / "p.json"
    path.write_text('{"delta": 2, "weight_gradient": 0.5, "upstream_credit": 0.25}')
    points = read_points(path)
    assert points.worth("layers.1.neurons.0") == 2.0
    assert points.worth("layers.1.neurons.0.b") == 0.5
    assert points.worth("e.data") == 1.0
    assert points.upstream_credit == 0.25


def test_the_callers_dict_is_not_changed():
    weights = {"delta": 2.0}
    Points(weights)
    assert weights == {"delta": 2.0}


@pytest.mark.parametrize("text, message", [
    ('{"deltas": 2}', "unknown kind of answer 'deltas'; the kinds are value, local"),
    ('{"delta": -1}', "delta must be a finite number >= 0"),
    ('{"delta": "2"}', "delta must be a finite number >= 0"),
    ('{"delta": true}', "delta must be a finite number >= 0"),
    ('{"upstream_credit": 1.5}', "upstream_credit must be a number from 0 to 1"),
    ('[1]', "must hold a JSON object"),
    ('{"delta": 1e999}', "finite"),
])
def test_bad_points_are_refused(tmp_path, text, message):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        read_points(path)
