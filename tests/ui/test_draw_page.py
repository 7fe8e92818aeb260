"""The Draw page's server side through AppTest: a pen-up message, markers, refusals, the photo path, languages."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from aelab.draw import render_strokes
from aelab.ui.draw_page import COMPONENT_KEY, MAX_DRAWINGS, STATE_KEY, Drawing, DrawState

from .apptest import page_script, picture_rows

pytestmark = pytest.mark.timeout(180)

ONE = [np.array([[140.0, 40.0], [140.0, 240.0]])]
ZERO = [np.array([[140 + 70 * np.sin(a), 140 - 100 * np.cos(a)] for a in np.linspace(0, 2 * np.pi, 40)])]


def png(ink: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((ink * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(strokes: list[np.ndarray]) -> str:
    return "data:image/png;base64," + base64.b64encode(png(render_strokes(strokes, (280, 280), 22))).decode()


def open_draw(language: str = "en") -> AppTest:
    at = AppTest.from_function(page_script, args=("aelab.ui.draw_page",), default_timeout=120)
    at.session_state["aelab.language"] = language
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def pen_up(at: AppTest, n: int, url: str, nonce: str, code: list[float] | None = None) -> AppTest:
    """What the canvas stores on pen-up (AppTest cannot draw on a custom component)."""
    at.session_state[COMPONENT_KEY] = {"drawing": {"n": n, "png": url, "code": code, "sent": nonce}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.fixture(scope="module")
def page() -> AppTest:
    return open_draw()


def test_a_drawn_one_is_voted_a_one_and_kept_as_marker_1(page: AppTest) -> None:
    pen_up(page, 1, data_url(ONE), "a")
    assert "Drawing 1 looks most like a **1**" in markdown(page)
    assert not page.get("image") and [len(row) for row in picture_rows(page)] == [8]  # the nearest real samples
    state: DrawState = page.session_state[STATE_KEY]
    assert [d.number for d in state.drawings["mnist5k"]] == [1]
    assert state.drawings["mnist5k"][0].input.shape == (1, 28, 28)


def test_a_drawing_that_grows_keeps_its_number_and_a_new_one_gets_the_next(page: AppTest) -> None:
    pen_up(page, 1, data_url(ONE), "b")
    pen_up(page, 2, data_url(ZERO), "c")
    assert "Drawing 2 looks most like a **0**" in markdown(page)
    pen_up(page, 2, data_url(ZERO), "c")  # the same message again (a rerun): handled once
    state: DrawState = page.session_state[STATE_KEY]
    assert [d.number for d in state.drawings["mnist5k"]] == [1, 2]
    assert state.next_number("mnist5k") == 3
    assert "Drawings on the plane: 2" in [c.value for c in page.caption]


def test_the_server_reports_how_far_the_browser_code_was(page: AppTest) -> None:
    pen_up(page, 3, data_url(ONE), "d", code=[0.0, 0.0])
    assert any("Browser and server codes differ by" in c.value for c in page.caption)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("data:image/png;base64," + base64.b64encode(png(np.zeros((280, 280)))).decode(), "canvas is empty"),
        (data_url([np.array([[140.0, 140.0]])]), "single dot"),
        ("data:text/html;base64,PHNjcmlwdD4=", "did not arrive as a PNG"),
        ("data:image/png;base64,bm90IGEgcG5n", "not an image"),
    ],
    ids=["empty", "dot", "not-png", "bad-bytes"],
)
def test_bad_drawings_are_refused_with_a_message_and_the_page_keeps_working(url: str, message: str) -> None:
    at = open_draw()
    pen_up(at, 1, url, "x")
    assert any(message in w.value for w in at.warning), [w.value for w in at.warning]
    pen_up(at, 1, data_url(ONE), "y")
    assert not at.warning and "looks most like" in markdown(at)


def test_clear_markers_empties_the_plane(page: AppTest) -> None:
    pen_up(page, 4, data_url(ONE), "e")
    page.button(key="aelab-draw-clear").click().run()
    state: DrawState = page.session_state[STATE_KEY]
    assert state.drawings["mnist5k"] == [] and state.epoch == 1
    assert "looks most like" not in markdown(page)


def test_the_page_speaks_chinese() -> None:
    at = open_draw("zh")
    assert at.header[0].value == "写一个数字，看它落在哪里"
    pen_up(at, 1, data_url(ONE), "z")
    assert "第 1 幅手写最像 **1**" in markdown(at)


def test_a_photo_shows_every_step_and_joins_the_plane() -> None:
    at = open_draw()
    ink = render_strokes([np.array([[200.0, 50.0], [200.0, 250.0]])], (300, 400), 16)
    photo = np.clip(0.85 - 0.6 * ink + np.random.default_rng(0).normal(0, 0.02, ink.shape), 0, 1)
    uploader = next(u for u in at.file_uploader if u.key == "aelab-draw-upload")
    uploader.set_value(("one.png", png(photo), "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [image.caption for element in at.get("image") for image in element.proto.imgs]
    assert captions[-6:] == ["Photo", "Contrast", "Threshold", "Inverted ink", "Cropped", "Model input"]
    assert "Drawing 1 looks most like a **1**" in markdown(at)


def test_a_file_that_is_not_an_image_is_refused_on_the_page() -> None:
    at = open_draw()
    uploader = next(u for u in at.file_uploader if u.key == "aelab-draw-upload")
    uploader.set_value(("notes.txt", b"not a picture at all", "text/plain")).run()
    assert not at.exception
    assert any("not an image" in e.value for e in at.error), [e.value for e in at.error]


def test_a_tampered_message_cannot_grow_the_drawings_without_bound_or_inject_a_code() -> None:
    state = DrawState()
    image = np.zeros((1, 28, 28), dtype=np.float32)
    for n in range(1, MAX_DRAWINGS + 50):
        state.put("mnist5k", Drawing(n, image, "canvas"))
    assert len(state.drawings["mnist5k"]) == MAX_DRAWINGS
    assert state.drawings["mnist5k"][0].number == 50  # the oldest went

    at = open_draw()
    pen_up(at, 1, data_url(ONE), "t1", code=[float("nan"), 1.0])
    assert at.session_state[STATE_KEY].drawings["mnist5k"][0].browser_code is None
    pen_up(at, 20_000, data_url(ONE), "t2")
    assert any("out of range" in w.value for w in at.warning)


def test_drawings_are_kept_in_the_workspace_and_come_back_in_a_new_session() -> None:
    from .apptest import with_cookie

    first = open_draw()
    token = first.session_state["aelab.workspace"].token
    pen_up(first, 1, data_url(ONE), "w1")
    pen_up(first, 2, data_url(ZERO), "w2")
    kept = first.session_state[STATE_KEY].drawings["mnist5k"]

    again = with_cookie(AppTest.from_function(page_script, args=("aelab.ui.draw_page",), default_timeout=120), token)
    again.run()  # a reload, a new tab or a server restart
    assert not again.exception, [e.value for e in again.exception]
    back = again.session_state[STATE_KEY].drawings["mnist5k"]
    assert [(d.number, d.source) for d in back] == [(1, "canvas"), (2, "canvas")]
    for before, after in zip(kept, back, strict=True):
        np.testing.assert_allclose(after.input, before.input, atol=0.5 / 255)  # kept at the canvas's 1/255 steps
    assert "Drawings on the plane: 2" in [c.value for c in again.caption]  # and the page shows them

    again.button(key="aelab-draw-clear").click().run()  # clearing the markers clears them in the workspace too
    third = with_cookie(AppTest.from_function(page_script, args=("aelab.ui.draw_page",), default_timeout=120), token)
    third.run()
    assert third.session_state[STATE_KEY].drawings["mnist5k"] == []
