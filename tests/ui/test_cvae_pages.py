"""A conditional VAE in the app (AppTest): the plane's analogy row, "Draw as", generation by label, and a real
sample redrawn as every label."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from aelab.data import load_dataset
from aelab.latent import analogies, encode_images
from aelab.models import ModelConfig
from aelab.recipes import train_model
from aelab.train import TrainConfig
from aelab.ui.explore import DRAW_AS_KEY, GENERATE_LABEL_KEY, PLANE_KEY
from aelab.ui.sidebar import MODEL_KEY
from aelab.ui.state import ModelEntry, Selection

from .apptest import run_app
from .test_explore_page import GENERATED, GRID, component_data, images


@pytest.fixture(scope="module")
def cvae_entry() -> ModelEntry:
    """A conditional VAE trained briefly on the digits in this session."""
    trained = train_model(
        load_dataset("digits"),
        ModelConfig(kind="cvae", hidden=(64, 32), seed=0),
        TrainConfig(epochs=4, batch_size=64, lr=3e-3),
    )
    return ModelEntry("session:test-cvae", "cvae", "session", trained.checkpoint)


@pytest.fixture
def app(cvae_entry: ModelEntry) -> AppTest:
    selection = Selection(dataset="digits", model={"digits": cvae_entry.id}, entries=[cvae_entry])
    app = run_app(**{"aelab.selection": selection})
    assert app.selectbox(key=MODEL_KEY).value == cvae_entry.id
    return app


def test_the_plane_of_a_cvae_draws_the_row_of_every_label_as_the_chosen_one(app: AppTest) -> None:
    plane = component_data(app, PLANE_KEY)["plane"]
    assert plane["decoder"]["classes"] == 10 and plane["label"] == 0
    assert plane["panel"]["texts"]["row"].startswith("ψ(z, y) for every label y")
    manifold = images(app)[GRID]
    app.selectbox(key=DRAW_AS_KEY).set_value(7).run()
    assert not app.exception
    assert component_data(app, PLANE_KEY)["plane"]["label"] == 7
    assert images(app)[GRID] != manifold, "the manifold is drawn as the chosen label"


def test_generate_draws_every_label_in_turn_or_the_one_chosen(app: AppTest) -> None:
    assert app.selectbox(key=GENERATE_LABEL_KEY).value is None
    every = images(app)[GENERATED]
    app.selectbox(key=GENERATE_LABEL_KEY).set_value(3).run()
    assert not app.exception
    threes = images(app)[GENERATED]
    assert len(threes) == len(every) == 16 and threes != every


def test_a_real_sample_is_redrawn_as_every_label_in_its_own_style(app: AppTest, cvae_entry: ModelEntry) -> None:
    row = [e for e in app.get("image") if e.proto.imgs[0].caption.startswith("This sample's style as every label")]
    assert len(row) == 1
    before = row[0].proto.imgs[0].url
    app.number_input(key="explore.index").set_value(100).run()
    after = [e for e in app.get("image") if e.proto.imgs[0].caption.startswith("This sample's style")]
    assert after[0].proto.imgs[0].url != before
    # What the row holds: sample 100's code, under its own label, decoded under each of the 10 labels.
    digits = load_dataset("digits")
    model = cvae_entry.checkpoint.model
    code = encode_images(model, digits.images[100:101], digits.labels[100:101])
    row_images = analogies(model, code)[0]
    assert row_images.shape == (10, 1, 8, 8) and np.abs(row_images[0] - row_images[1]).max() > 0.05
