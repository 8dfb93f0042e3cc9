"""The training run as an animation: a frame every N steps (and the first and last), the model
put back afterwards, a GIF and an HTML player with one <img> per frame, and `edgegrad train
--animate` writing it or refusing a bad file name before training."""

from __future__ import annotations

import io
import json
import re

import pytest

from nn import MLP, fit
from nn.cli import main
from nn.data import moons
from nn.watch.animate import Recorder, every_for

pytest.importorskip("matplotlib")
pytest.importorskip("numpy")
DATA = moons(30, noise=0.1, seed=2)
YS = DATA.targets("hinge")


def _recorded(epochs: int, every: int) -> tuple[MLP, Recorder]:
    model = MLP(2, [6, 1], seed=1)
    recorder = Recorder(model, DATA.xs, YS, "hinge", every)
    fit(model, DATA.xs, YS, lr=0.3, epochs=epochs, progress=False, callback=recorder)
    return model, recorder


def test_states_every_n_steps_with_the_first_and_the_last():
    model, recorder = _recorded(7, 3)
    recorder.finish()
    assert [s for s, _ in recorder.states] == [0, 3, 6, 7]
    assert recorder.states[-1][1] == [p.data for p in model.parameters()]
    assert len(recorder.losses) == 7
    assert every_for(100) == 2 and every_for(30) == 1 and every_for(61) == 2


def test_frames_are_drawn_and_the_model_is_put_back():
    model, recorder = _recorded(4, 2)
    before = model.state_dict()
    frames, captions = recorder.pngs()
    assert model.state_dict() == before
    assert len(frames) == 3 and all(f[:4] == b"\x89PNG" for f in frames)
    assert captions[0] == "step 0 of 4" and captions[-1].startswith("step 4 of 4: loss ")
    assert len(set(frames)) == 3  # the boundary and the curve move


def test_gif_and_html_player(tmp_path):
    from PIL import Image

    _, recorder = _recorded(4, 1)
    gif = recorder.save(tmp_path / "run.gif")
    with Image.open(gif) as im:
        assert im.n_frames == 5
    page = recorder.save(tmp_path / "run.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and 'class="edgegrad-player"' in page
    data = json.loads(re.search(r"var data = (\{.*?\});\n", page).group(1))
    assert data["captions"] == [f"step {k} of 4" + (f": loss {recorder.losses[k - 1]:.4g}"
                                                    if k else "") for k in range(5)]
    assert all(f.startswith('<img alt="step ') and "data:image/png;base64," in f
               for f in data["frames"])
    assert data["frames"][0] in page  # the first frame, shown before any script runs
    with pytest.raises(ValueError, match=r"give a \.gif or an \.html"):
        recorder.save(tmp_path / "run.mp4")


def test_edgegrad_train_animate(tmp_path, capsys):
    out, anim = tmp_path / "o", tmp_path / "run.html"
    status = main(["train", "--samples", "20", "--hidden", "4", "--epochs", "6",
                   "--animate", str(anim), "--animate-every", "2", "--out", str(out)])
    assert status == 0
    assert "the run animated, 4 frames" in capsys.readouterr().out
    assert anim.read_text().count("step 6 of 6") >= 1


@pytest.mark.parametrize("name, words", [("run.mp4", "cannot tell the animation format"),
                                         ("missing/run.gif", "does not exist")])
def test_a_bad_animation_file_is_refused_before_training(tmp_path, capsys, name, words):
    status = main(["train", "--epochs", "3", "--animate", str(tmp_path / name), "--out",
                   str(tmp_path / "o"), "--quiet"])
    assert status == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "o" / "model.json").exists()


def test_the_gif_frames_show_the_boundary_moving(tmp_path):
    from PIL import Image

    _, recorder = _recorded(6, 6)
    frames, _ = recorder.pngs()
    first, last = (Image.open(io.BytesIO(f)).convert("L") for f in (frames[0], frames[-1]))
    w, h = first.size
    box = (0, 0, w // 2, h)  # the boundary's half
    assert first.crop(box).tobytes() != last.crop(box).tobytes()
