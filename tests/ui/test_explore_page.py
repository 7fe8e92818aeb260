"""The Explore page through Streamlit's AppTest: click and sliders, nearest samples, grid, generation, d > 2."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from aelab.data import load_dataset
from aelab.latent import encode_images, fit_plane_map
from aelab.models import ModelConfig
from aelab.recipes import train_model
from aelab.train import TrainConfig
from aelab.ui.explore import GRID_SIZE_KEY, NEAREST_K, PLANE_KEY, PROJECTION_KEY, slider_specs
from aelab.ui.sidebar import MODEL_KEY
from aelab.ui.state import ModelEntry, Selection

from .apptest import run_app

# The page's images in order: the decoded image, the nearest samples, the manifold grid, the interpolation
# strip, the generated samples (one element holding N images), then original, reconstruction, difference.
DECODED, GRID, STRIP, GENERATED = 0, 1 + NEAREST_K, 2 + NEAREST_K, 3 + NEAREST_K
NEAREST = slice(1, 1 + NEAREST_K)


def images(app: AppTest) -> list[list[str]]:
    """The URLs of each image element on the page (an element may hold several images)."""
    return [[image.url for image in element.proto.imgs] for element in app.get("image")]


def captions(app: AppTest, element: int) -> list[str]:
    return [image.caption for image in app.get("image")[element].proto.imgs]


def click(app: AppTest, x: float, y: float, n: int = 1) -> AppTest:
    """What the plane component stores on a click (AppTest cannot click a custom component)."""
    app.session_state[PLANE_KEY] = {"click": {"x": x, "y": y, "n": n}}
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def latent_sliders(app: AppTest) -> list:
    return [s for s in app.slider if s.key.startswith("explore.z")]


@pytest.fixture(scope="module", autouse=True)
def warm_up() -> None:
    """One run first, so the imports and shared caches are paid once for the whole module."""
    run_app()


def test_a_click_decodes_the_clicked_point_and_moves_the_sliders() -> None:
    app = run_app()
    before = images(app)
    click(app, -2.0, 1.5)
    after = images(app)
    assert after[DECODED] != before[DECODED]
    assert after[NEAREST] != before[NEAREST]
    assert [s.value for s in latent_sliders(app)] == pytest.approx([-2.0, 1.5], abs=0.05)
    # The same click seen again (every rerun reports the component's last click) changes nothing.
    app.run()
    assert images(app)[DECODED] == after[DECODED]
    # A new click elsewhere decodes again.
    click(app, 1.0, -1.0, n=2)
    assert images(app)[DECODED] != after[DECODED]
    assert [s.value for s in latent_sliders(app)] == pytest.approx([1.0, -1.0], abs=0.05)


def test_a_slider_decodes_at_once() -> None:
    app = run_app()
    before = images(app)
    z1 = latent_sliders(app)[0]
    z1.set_value(round(z1.value - 2.0, 2)).run()
    assert not app.exception
    after = images(app)
    assert after[DECODED] != before[DECODED]
    assert after[GRID] == before[GRID]  # the manifold does not depend on the point
    shown = [c.value for c in app.caption if c.value.startswith("z = (")]
    assert shown == [f"z = ({z1.value:.2f}, {latent_sliders(app)[1].value:.2f})"]


def test_nearest_samples_show_k_labelled_images_closest_first() -> None:
    app = run_app()
    shown = [c for element in range(1, 1 + NEAREST_K) for c in captions(app, element)]
    assert len(shown) == NEAREST_K
    labels = {str(d) for d in range(10)}
    distances = []
    for caption in shown:
        label, distance = caption.split(" · ")
        assert label in labels
        distances.append(float(distance))
    assert distances == sorted(distances)
    assert distances[0] == 0.0  # the page starts on sample 0's own code


def test_grid_size_changes_the_manifold() -> None:
    app = run_app()
    before = images(app)[GRID]
    app.slider(key=GRID_SIZE_KEY).set_value(9).run()
    assert not app.exception
    assert images(app)[GRID] != before


def test_manifold_background_keeps_the_decoded_view() -> None:
    app = run_app()
    before = images(app)
    app.checkbox(key="explore.background").check().run()
    assert not app.exception
    assert images(app)[DECODED] == before[DECODED]
    app.slider(key=GRID_SIZE_KEY).set_value(10).run()  # redraws the plane's background too
    assert not app.exception


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
    app = run_app()
    before = images(app)[STRIP]
    click(app, 0.5, 0.5)
    app.button(key="explore.set_b").click().run()
    assert images(app)[STRIP] != before
    assert any("B = (0.50, 0.50)" in c.value for c in app.caption)
    app.slider(key="explore.steps").set_value(5).run()
    assert not app.exception


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
    return ModelEntry("session:test-three-d", "three-d", "session", trained.as_checkpoint())


def test_a_three_dimensional_model_gets_a_projection_and_three_sliders(three_d_entry: ModelEntry) -> None:
    # What add_session_model leaves in the session after the Train page trained this model.
    selection = Selection(dataset="digits", model={"digits": three_d_entry.id}, entries=[three_d_entry])
    app = run_app(**{"aelab.selection": selection})
    assert app.selectbox(key=MODEL_KEY).value == three_d_entry.id
    assert app.radio(key=PROJECTION_KEY).value == "pca"
    assert len(latent_sliders(app)) == 3
    before = images(app)[DECODED]

    # A click on the projected plane sets all three dimensions to the projection's inverse of that spot.
    point = app.session_state["aelab.explore"].point
    assert point.shape == (3,)
    codes = encode_images(three_d_entry.checkpoint.model, load_dataset("digits").images)
    plane_map, specs = fit_plane_map(codes, "pca"), slider_specs(codes)
    spot = plane_map.to_plane(point[None].astype(np.float32))[0] + 0.5
    click(app, float(spot[0]), float(spot[1]))
    expected = np.clip(plane_map.to_latent(spot[None])[0], [s.low for s in specs], [s.high for s in specs])
    assert [s.value for s in latent_sliders(app)] == pytest.approx(expected.tolist(), abs=max(s.step for s in specs))
    assert images(app)[DECODED] != before

    # The third slider, not visible on the plane, still decodes.
    third = latent_sliders(app)[2]
    third.set_value(specs[2].snap(specs[2].low)).run()
    assert not app.exception and images(app)[DECODED] != before


def test_slider_specs_use_round_steps_that_cover_the_codes() -> None:
    codes = np.array([[-3.9, 0.0], [4.4, 0.01], [0.0, 0.02]] * 10, dtype=np.float32)
    wide, narrow = slider_specs(codes)
    assert wide.step == 0.05 and wide.low <= -3.9 and wide.high >= 4.4
    assert narrow.step in (1e-4, 2e-4, 5e-4) and narrow.low <= 0 and narrow.high >= 0.02
    assert wide.snap(1.234) == 1.25 and wide.snap(100.0) == wide.high
