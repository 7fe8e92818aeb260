"""The Explore page through Streamlit's AppTest: click and sliders, nearest samples, grid, generation, d > 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from aelab.data import load_dataset
from aelab.latent import encode_images, fit_plane_map
from aelab.models import ModelConfig
from aelab.recipes import train_model
from aelab.train import TrainConfig
from aelab.ui.explore import GRID_SIZE_KEY, NEAREST_K, PLANE_KEY, PROJECTION_KEY, slider_specs
from aelab.ui.i18n import LANGUAGE_KEY
from aelab.ui.sidebar import MODEL_KEY
from aelab.ui.state import ModelEntry, Selection

from .apptest import picture_rows, run_app

# The page's images in order: the manifold grid, the generated samples (one element holding N images), then
# original, reconstruction, difference. The nearest samples are one row of pictures (nearest() below); the
# decoded image and the interpolation strip are drawn by the plane component in the browser. Where the browser
# cannot decode, the server sends the decoded image through the plane's relay and draws the strip itself,
# right after the grid (SERVER_STRIP).
GRID, GENERATED = 0, 1
SERVER_STRIP = 1


def images(app: AppTest) -> list[list[str]]:
    """The URLs of each image element on the page (an element may hold several images)."""
    return [[image.url for image in element.proto.imgs] for element in app.get("image")]


def captions(app: AppTest, element: int) -> list[str]:
    return [image.caption for image in app.get("image")[element].proto.imgs]


def nearest(app: AppTest) -> list[tuple[str, str]]:
    """The nearest samples' (picture, caption) pairs, closest first: the page's one row of pictures."""
    (row,) = picture_rows(app)
    return row


def component_data(app: AppTest, key: str) -> dict:
    """The data a v2 component on the page received, by its data's `key` (the plane's, or its relay's)."""
    found = [json.loads(c.proto.json or "{}") for c in app.get("bidi_component")]
    matching = [d for d in found if d.get("key") == key]
    assert len(matching) == 2, f"expected the plane and its relay for {key}: {[d.get('key') for d in found]}"
    plane = next(d for d in matching if "traces_url" in d)
    relay = next(d for d in matching if "traces_url" not in d)
    return {"plane": plane, "relay": relay}


def relay(app: AppTest) -> dict:
    return component_data(app, PLANE_KEY)["relay"]


def ends(app: AppTest) -> dict:
    """What the interpolation's relay told the plane: its ends a and b, the strip's steps, the gesture answered."""
    found = [json.loads(c.proto.json or "{}") for c in app.get("bidi_component")]
    matching = [d for d in found if d.get("plane") == PLANE_KEY]
    assert len(matching) == 1, f"expected one interpolation relay: {found}"
    return matching[0]


def point(app: AppTest) -> list[float]:
    return app.session_state["aelab.explore"].point.tolist()


def gesture(app: AppTest, x: float, y: float, n: int = 1, z: list | None = None, kind: str = "click") -> AppTest:
    """What the plane component stores after a finished gesture (AppTest cannot click a custom component)."""
    value = {"x": x, "y": y, "n": n, "gesture": kind}
    if z is not None:
        value["z"] = z
    app.session_state[PLANE_KEY] = {"click": value}
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def click(app: AppTest, x: float, y: float, n: int = 1) -> AppTest:
    return gesture(app, x, y, n)


def shown_point(app: AppTest) -> list[str]:
    return [c.value for c in app.caption if c.value.startswith("z = (")]


@pytest.fixture(scope="module", autouse=True)
def warm_up() -> None:
    """One run first, so the imports and shared caches are paid once for the whole module."""
    run_app()


def test_a_click_sets_the_point_the_nearest_samples_and_the_planes_cross() -> None:
    app = run_app()
    before = nearest(app)
    plane_before = component_data(app, PLANE_KEY)["plane"]
    click(app, -2.0, 1.5)
    after = nearest(app)
    assert point(app) == pytest.approx([-2.0, 1.5], abs=1e-6)
    assert after != before
    assert relay(app)["selected"] == pytest.approx([-2.0, 1.5]) and relay(app)["code"] == pytest.approx([-2.0, 1.5])
    assert relay(app)["n"] == 1, "the relay names the gesture it answers"
    assert shown_point(app) == ["z = (-2.00, 1.50)"]
    # The plane's heavy payload (points, weights, sliders) is byte-identical, so Streamlit re-sends a reference.
    assert component_data(app, PLANE_KEY)["plane"] == plane_before
    # The same gesture seen again (every rerun reports the component's last one) changes nothing.
    app.run()
    assert nearest(app) == after and point(app) == pytest.approx([-2.0, 1.5], abs=1e-6)
    # A new click elsewhere moves the point again.
    click(app, 1.0, -1.0, n=2)
    assert nearest(app) != after
    assert point(app) == pytest.approx([1.0, -1.0], abs=1e-6) and relay(app)["n"] == 2


def test_the_plane_carries_the_decoder_and_one_slider_per_dimension_in_the_pages_language() -> None:
    app = run_app()
    plane = component_data(app, PLANE_KEY)["plane"]
    assert plane["decoder"]["format"] == "aelab-decoder" and plane["decoder"]["latent_dim"] == 2
    assert len(plane["panel"]["sliders"]) == 2 and plane["panel"]["spacing"] > 0
    assert plane["panel"]["texts"]["far"].startswith("far from every training code")
    assert "image" not in relay(app), "the browser decodes: the server sends no picture"
    zh = run_app(**{LANGUAGE_KEY: "zh"})
    texts = component_data(zh, PLANE_KEY)["plane"]["panel"]["texts"]
    assert texts["far"].startswith("远离所有训练编码") and texts["slider"].startswith("潜在维度")


def test_a_slider_gesture_sets_the_whole_code() -> None:
    app = run_app()
    before, grid = nearest(app), images(app)[GRID]
    start = point(app)
    z = [round(start[0] - 2.0, 2), start[1]]
    gesture(app, z[0], z[1], n=3, z=z, kind="slider")
    assert point(app) == pytest.approx(z, abs=1e-9)
    assert nearest(app) != before
    assert images(app)[GRID] == grid  # the manifold does not depend on the point
    assert shown_point(app) == [f"z = ({z[0]:.2f}, {z[1]:.2f})"]


@pytest.mark.parametrize(
    ("x", "y", "z", "reason"),
    [
        (0.0, 0.0, [float("nan"), 0.0], "not a finite number"),
        (0.0, 0.0, [0.0, float("inf")], "not a finite number"),
        (0.0, 0.0, [1e9, 0.0], "far outside"),
        (0.0, 0.0, [0.0], "a code of 2 numbers"),
        (0.0, 0.0, ["left", 0.0], "a code of 2 numbers"),
        (1e9, 0.0, None, "far outside the plane"),
        (float("nan"), 0.0, None, "not two finite numbers"),
    ],
)
def test_a_bad_gesture_is_refused_with_a_message_and_the_point_stays(
    x: float, y: float, z: list | None, reason: str
) -> None:
    app = run_app()
    start = point(app)
    gesture(app, x, y, n=7, z=z)
    assert point(app) == start
    warnings = [w.value for w in app.warning]
    assert len(warnings) == 1 and reason in warnings[0], warnings
    # The next good gesture clears the message.
    click(app, 0.5, 0.5, n=8)
    assert not app.warning and point(app) == pytest.approx([0.5, 0.5], abs=1e-6)


def test_a_point_a_little_outside_is_clamped_to_the_sliders_ranges() -> None:
    app = run_app()
    plane = component_data(app, PLANE_KEY)["plane"]
    high = [s["high"] for s in plane["panel"]["sliders"]]
    low = [s["low"] for s in plane["panel"]["sliders"]]
    gesture(app, high[0] + 0.3, low[1] - 0.3, n=4, kind="drag")
    assert point(app) == pytest.approx([high[0], low[1]]) and not app.warning
    gesture(app, 0.0, 0.0, n=5, z=[high[0] + 0.2, 0.0], kind="slider")
    assert point(app) == pytest.approx([high[0], 0.0]) and not app.warning


def test_nearest_samples_show_k_labelled_images_closest_first() -> None:
    app = run_app()
    shown = [caption for _, caption in nearest(app)]
    assert len(shown) == NEAREST_K
    assert all(url.startswith("data:image/png;base64,") for url, _ in nearest(app))
    labels = {str(d) for d in range(10)}
    distances = []
    for caption in shown:
        label, distance = caption.split(" · ")
        assert label in labels
        distances.append(float(distance))
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(0.0, abs=1e-6)  # the page starts on sample 0's own code


def test_grid_size_changes_the_manifold() -> None:
    app = run_app()
    before = images(app)[GRID]
    app.slider(key=GRID_SIZE_KEY).set_value(9).run()
    assert not app.exception
    assert images(app)[GRID] != before


def test_manifold_background_keeps_the_decoded_view() -> None:
    app = run_app()
    before = nearest(app)
    app.checkbox(key="explore.background").check().run()
    assert not app.exception
    plane = component_data(app, PLANE_KEY)["plane"]
    assert nearest(app) == before
    # The browser decodes the grid under the points (over the visible window); the server sends no picture.
    assert plane["grid"] == 15 and plane["background"] is None
    app.slider(key=GRID_SIZE_KEY).set_value(10).run()  # redraws the plane's background too
    assert not app.exception and component_data(app, PLANE_KEY)["plane"]["grid"] == 10


def test_a_walk_a_to_b_downloads_as_a_gif_and_a_png_and_one_with_no_length_says_so() -> None:
    app = run_app()
    labels = lambda: {b.proto.label for b in app.get("download_button")}  # noqa: E731
    assert {"Walk A → B as a GIF", "Strip as a PNG"} <= labels()
    app.button(key="explore.set_a").click().run()
    app.button(key="explore.set_b").click().run()  # A and B are now both the current point
    assert not app.exception
    assert not {"Walk A → B as a GIF", "Strip as a PNG"} & labels()
    assert any("A and B are the same point" in c.value for c in app.caption)


def test_generate_shows_n_images_and_a_new_sample_differs() -> None:
    app = run_app()
    assert len(images(app)[GENERATED]) == 16
    app.slider(key="explore.count").set_value(8).run()
    first = images(app)[GENERATED]
    assert len(first) == 8
    assert "prior" in " ".join(c.value for c in app.caption)  # the VAE samples its prior
    app.button(key="explore.resample").click().run()
    assert len(images(app)[GENERATED]) == 8 and images(app)[GENERATED] != first


def test_interpolation_ends_follow_the_current_point() -> None:
    # The browser decodes the strip (tests/browser/test_interpolation.py): the server sends it the ends.
    app = run_app()
    before = ends(app)
    assert len(images(app)) == 5, "no server-decoded strip where the browser decodes it"
    click(app, 0.5, 0.5)
    app.button(key="explore.set_b").click().run()
    assert ends(app) != before
    assert ends(app)["b"] == pytest.approx([0.5, 0.5]) and ends(app)["a"] == pytest.approx(before["a"])
    assert any("B = (0.50, 0.50)" in c.value for c in app.caption)
    app.slider(key="explore.steps").set_value(5).run()
    assert not app.exception
    assert ends(app)["steps"] == 5


def test_a_drag_of_a_or_b_moves_that_end_after_validation() -> None:
    app = run_app()
    start = point(app)
    gesture(app, -1.0, 2.0, n=5, z=[-1.0, 2.0], kind="a")
    state = app.session_state["aelab.explore"]
    assert state.a.tolist() == pytest.approx([-1.0, 2.0]) and point(app) == pytest.approx(start)
    assert ends(app)["a"] == pytest.approx([-1.0, 2.0]) and ends(app)["n"] == 5
    assert relay(app)["n"] == 5, "the plane hears that the server has caught up"
    assert any("A = (-1.00, 2.00)" in c.value for c in app.caption)
    gesture(app, 1.5, -0.5, n=6, kind="b")  # no code: the plane point through the projection's inverse
    assert app.session_state["aelab.explore"].b.tolist() == pytest.approx([1.5, -0.5], abs=1e-6)
    # A tampered end is refused with the message, and A stays where it was.
    gesture(app, 0.0, 0.0, n=7, z=[float("nan"), 0.0], kind="a")
    assert app.session_state["aelab.explore"].a.tolist() == pytest.approx([-1.0, 2.0])
    assert any("not a finite number" in w.value for w in app.warning)


def test_reconstruction_shows_original_reconstruction_and_difference_with_mse() -> None:
    app = run_app()
    element = len(app.get("image")) - 3
    shown = [captions(app, i)[0] for i in range(element, element + 3)]
    assert shown[1:] == ["ψ(φ(x))", "|x − ψ(φ(x))|"] and shown[0].startswith("x (label ")
    before = images(app)[element:]
    app.number_input(key="explore.index").set_value(100).run()
    assert images(app)[element:] != before
    mse = [m.value for m in app.markdown if m.value.startswith("MSE per pixel")]
    assert len(mse) == 1 and 0 < float(mse[0].split(": ")[1]) < 0.2


@pytest.fixture(scope="module")
def three_d_entry() -> ModelEntry:
    """A model with a 3-D code, trained briefly on the digits in this session."""
    trained = train_model(
        load_dataset("digits"),
        ModelConfig(kind="ae", latent_dim=3, hidden=(32,), seed=0),
        TrainConfig(epochs=3, batch_size=128, lr=3e-3),
    )
    return ModelEntry("session:test-three-d", "three-d", "session", trained.checkpoint)


def test_a_three_dimensional_model_gets_a_projection_and_three_sliders(three_d_entry: ModelEntry) -> None:
    # What add_session_model leaves in the session after the Train page trained this model.
    selection = Selection(dataset="digits", model={"digits": three_d_entry.id}, entries=[three_d_entry])
    app = run_app(**{"aelab.selection": selection})
    assert app.selectbox(key=MODEL_KEY).value == three_d_entry.id
    assert app.radio(key=PROJECTION_KEY).value == "pca"
    plane = component_data(app, PLANE_KEY)["plane"]
    assert len(plane["panel"]["sliders"]) == 3 and plane["decoder"]["latent_dim"] == 3
    before = nearest(app)

    # A click on the projected plane sets all three dimensions to the projection's inverse of that spot.
    start = app.session_state["aelab.explore"].point
    assert start.shape == (3,)
    codes = encode_images(three_d_entry.checkpoint.model, load_dataset("digits").images)
    plane_map, specs = fit_plane_map(codes, "pca"), slider_specs(codes)
    spot = plane_map.to_plane(start[None].astype(np.float32))[0] + 0.5
    click(app, float(spot[0]), float(spot[1]))
    expected = np.clip(plane_map.to_latent(spot[None])[0], [s.low for s in specs], [s.high for s in specs])
    assert point(app) == pytest.approx(expected.tolist(), abs=1e-4)
    assert relay(app)["code"] == pytest.approx(expected.tolist(), abs=1e-4)
    assert nearest(app) != before

    # The third dimension, not visible on the plane, is set by its slider.
    third = [*point(app)[:2], specs[2].low]
    gesture(app, float(spot[0]), float(spot[1]), n=2, z=third, kind="slider")
    assert point(app) == pytest.approx(third)

    # UMAP has no linear inverse: the server decodes, the relay carries its picture, and the page says so.
    app.radio(key=PROJECTION_KEY).set_value("umap").run()
    assert not app.exception
    assert component_data(app, PLANE_KEY)["plane"]["decoder"] is None
    assert relay(app)["image"].startswith("data:image/png;base64,")
    assert any("decoded on the server" in c.value for c in app.caption)
    picture = relay(app)["image"]
    far_corner = [specs[0].high, specs[1].low, specs[2].high]
    gesture(app, 0.0, 0.0, n=3, z=far_corner, kind="slider")
    assert point(app) == pytest.approx(far_corner)
    assert relay(app)["image"] != picture, "a gesture should be decoded on the server"
    # So is the interpolation strip, and it follows its ends.
    strip = images(app)[SERVER_STRIP]
    assert not [d for d in (json.loads(c.proto.json or "{}") for c in app.get("bidi_component")) if "plane" in d]
    app.button(key="explore.set_b").click().run()
    assert images(app)[SERVER_STRIP] != strip


def test_slider_specs_use_round_steps_that_cover_the_codes() -> None:
    codes = np.array([[-3.9, 0.0], [4.4, 0.01], [0.0, 0.02]] * 10, dtype=np.float32)
    wide, narrow = slider_specs(codes)
    assert wide.step == 0.05 and wide.low <= -3.9 and wide.high >= 4.4
    assert narrow.step in (1e-4, 2e-4, 5e-4) and narrow.low <= 0 and narrow.high >= 0.02
    assert wide.snap(1.234) == 1.25 and wide.snap(100.0) == wide.high
