"""The animation `edgegrad train --animate run.html` writes, in Chromium: the project's player
steps through the training frames (PNG images), its counter and caption following."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_in_chromium import INTERVAL_MS, page  # noqa: F401  (the page fixture)

from nn import MLP, fit
from nn.data import moons
from nn.watch.animate import Recorder

pytestmark = pytest.mark.browser


def test_the_training_player_steps_through_its_frames(page: Any, tmp_path: Path,  # noqa: F811
                                                      screenshots: list[Path]) -> None:
    pytest.importorskip("matplotlib")
    data = moons(30, noise=0.1, seed=2)
    ys = data.targets("hinge")
    model = MLP(2, [6, 1], seed=1)
    recorder = Recorder(model, data.xs, ys, "hinge", every=2)
    fit(model, data.xs, ys, lr=0.3, epochs=6, progress=False, callback=recorder)
    html = recorder.save(tmp_path / "run.html", interval_ms=INTERVAL_MS)
    page.goto(html.resolve().as_uri())
    player = page.locator(".edgegrad-player")
    count, caption = player.locator(".eg-count"), player.locator(".eg-caption")
    image = player.locator(".eg-frame img")
    assert count.inner_text() == "1 / 4" and caption.inner_text() == "step 0 of 6"
    first = image.get_attribute("src")
    assert image.evaluate("i => i.naturalWidth") > 300
    player.locator('[data-go="next"]').click()
    assert count.inner_text() == "2 / 4" and caption.inner_text().startswith("step 2 of 6: loss ")
    assert image.get_attribute("src") != first
    player.locator('[data-go="play"]').click()
    page.clock.run_for(INTERVAL_MS * 3)
    assert count.inner_text() == "4 / 4" and caption.inner_text().startswith("step 6 of 6")
    shot = tmp_path / "training-player.png"
    player.screenshot(path=str(shot))
    screenshots.append(shot)
