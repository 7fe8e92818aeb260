"""The Draw page with a conditional VAE (AppTest): the label a drawing is told (the one the model explains it
best by, or the one chosen), the relay that tells the browser, and the drawing redrawn as every label."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from aelab.draw import convention_for, image_from_data_url, preprocess
from aelab.latent import analogies, encode_images, likeliest_labels
from aelab.ui import cache
from aelab.ui.draw_page import COMPONENT_KEY, STATE_KEY, TOLD_KEY, DrawState
from aelab.ui.state import Selection

from .apptest import page_script, picture_rows
from .test_draw_page import ONE, ZERO, data_url, pen_up

pytestmark = pytest.mark.timeout(180)

CVAE = "pretrained:digits-cvae"


def open_draw(language: str = "en") -> AppTest:
    at = AppTest.from_function(page_script, args=("aelab.ui.draw_page",), default_timeout=120)
    at.session_state["aelab.language"] = language
    at.session_state["aelab.selection"] = Selection(dataset="digits", model={"digits": CVAE})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def relay(at: AppTest) -> dict:
    found = [json.loads(c.proto.json or "{}") for c in at.get("bidi_component")]
    return next(d for d in found if d.get("role") == "markers")


def styles_row(at: AppTest) -> list:
    return [e for e in at.get("image") if "redrawn as every label" in e.proto.imgs[0].caption]


def the_input(url: str) -> np.ndarray:
    return preprocess(image_from_data_url(url), convention_for(cache.dataset("digits")))


def test_before_any_drawing_the_browser_is_told_label_0_and_the_picker_defaults_to_the_best() -> None:
    at = open_draw()
    assert at.selectbox(key=TOLD_KEY).value is None
    assert at.selectbox(key=TOLD_KEY).options[0] == "the label the model explains it best by"
    assert relay(at)["label"] == 0
    assert not styles_row(at)


def test_a_drawing_is_encoded_under_the_label_it_is_explained_best_by_and_redrawn_as_every_label() -> None:
    at = open_draw()
    url = data_url(ZERO)
    pen_up(at, 1, url, "a")
    model = cache.pretrained("digits-cvae").model
    image = the_input(url)[None]
    best = int(likeliest_labels(model, image)[0])
    row = styles_row(at)
    assert len(row) == 1
    assert row[0].proto.imgs[0].caption == (
        f"Drawing 1, encoded as a {best} (the label the model explains it best by), "
        "redrawn as every label in its own style"
    )
    assert relay(at)["label"] == best, "the browser encodes the next strokes under the server's decision"
    said = "\n".join(m.value for m in at.markdown)
    assert "Drawing 1's code holds its style" in said and "looks most like" not in said, "no class guessed from style"
    assert len(at.get("image")) == 1 and [len(row) for row in picture_rows(at)] == [8]  # the row; the nearest
    rows = analogies(model, encode_images(model, image, best))
    assert rows.shape == (1, 10, 1, 8, 8) and np.abs(rows[0, 0] - rows[0, 1]).max() > 0.05


def test_the_chosen_label_changes_the_code_the_row_and_what_the_browser_is_told() -> None:
    at = open_draw()
    pen_up(at, 1, data_url(ONE), "a")
    before = (relay(at)["markers"][0], styles_row(at)[0].proto.imgs[0].url)
    at.selectbox(key=TOLD_KEY).set_value(7).run()
    assert not at.exception, [e.value for e in at.exception]
    assert relay(at)["label"] == 7
    marker, row = relay(at)["markers"][0], styles_row(at)[0].proto.imgs[0]
    assert (marker["x"], marker["y"]) != (before[0]["x"], before[0]["y"]), "the code moved"
    assert row.url != before[1]
    assert row.caption.startswith("Drawing 1, encoded as a 7 (as you chose)")
    state: DrawState = at.session_state[STATE_KEY]
    assert state.drawings["digits"][0].number == 1


def test_the_browser_code_is_compared_only_when_it_was_told_the_same_label() -> None:
    at = open_draw()
    at.selectbox(key=TOLD_KEY).set_value(4).run()
    pen_up(at, 1, data_url(ONE), "a", code=[0.0, 0.0])  # no label: nothing to compare with
    assert not any("Browser and server codes" in c.value for c in at.caption)
    told = {"n": 1, "png": data_url(ONE), "code": [0.0, 0.0], "label": 4, "sent": "b"}
    at.session_state[COMPONENT_KEY] = {"drawing": told}
    at.run()
    assert any("Browser and server codes differ by" in c.value for c in at.caption)
    at.session_state[COMPONENT_KEY] = {"drawing": {**told, "label": 2, "sent": "c"}}
    at.run()
    assert any("the browser told the model 2; the server told it 4" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]


def test_the_cvae_draw_page_speaks_chinese() -> None:
    at = open_draw("zh")
    assert at.selectbox(key=TOLD_KEY).label == "这幅手写是"
    pen_up(at, 1, data_url(ONE), "z")
    captions = [e.proto.imgs[0].caption for e in at.get("image")]
    assert any(c.startswith("第 1 幅手写按") and "（模型最能解释它的标签）" in c for c in captions), captions
