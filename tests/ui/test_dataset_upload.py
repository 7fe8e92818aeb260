"""Datasets in the app through AppTest: an upload is this session's only, bad ones keep the old dataset,
online sets fetch with progress or fail with a clear message, and the shapes plane colours by a factor."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_uploads import class_folders, npz_bytes, zip_bytes

from aelab import sources
from aelab.data import load_dataset
from aelab.models import ModelConfig
from aelab.recipes import train_model
from aelab.train import TrainConfig
from aelab.ui.explore import COLOUR_KEY
from aelab.ui.sidebar import DATA_UPLOAD_KEY, DATASET_KEY
from aelab.ui.state import ModelEntry, Selection

from .apptest import plane_traces, run_app


def upload(app: AppTest, name: str, data: bytes) -> AppTest:
    uploader = next(u for u in app.file_uploader if u.key == DATA_UPLOAD_KEY)
    uploader.set_value((name, data, "application/octet-stream")).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_an_uploaded_zip_becomes_this_sessions_dataset_only() -> None:
    data = zip_bytes(class_folders())  # built once: a zip's entries carry the time they were written
    app = upload(run_app(), "pets.zip", data)
    picker = app.selectbox(key=DATASET_KEY)
    assert picker.value.startswith("upload-")
    assert "pets.zip (uploaded)" in picker.options
    assert any("12 images shaped (1, 28, 28), 2 classes" in s.value for s in app.success)
    # no model exists for it yet: the page says so instead of failing
    assert any("No model for" in i.value for i in app.info)
    # another session (a fresh AppTest) never sees it
    other = run_app()
    assert not [o for o in other.selectbox(key=DATASET_KEY).options if "uploaded" in o]
    # the same file uploaded again selects the same dataset rather than adding another
    name = picker.value
    upload(app, "pets.zip", data)
    assert app.selectbox(key=DATASET_KEY).value == name
    assert sum("uploaded" in o for o in app.selectbox(key=DATASET_KEY).options) == 1


def test_a_bad_upload_shows_the_reason_and_keeps_the_dataset() -> None:
    app = run_app()
    before = app.selectbox(key=DATASET_KEY).value
    upload(app, "broken.npz", npz_bytes(images=np.full((20, 4, 4), np.nan)))
    assert app.selectbox(key=DATASET_KEY).value == before
    assert any("Could not use broken.npz" in e.value and "NaN" in e.value for e in app.error)
    upload(app, "evil.zip", zip_bytes({**class_folders(), "../../etc/x.png": b"x"}))
    assert app.selectbox(key=DATASET_KEY).value == before
    assert any("climbs out with '..'" in e.value for e in app.error)


def test_an_online_dataset_offline_keeps_the_previous_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AELAB_CACHE", str(tmp_path))

    def offline(spec, data_home):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(sources, "_fetch_openml", offline)
    app = run_app()
    app.selectbox(key=DATASET_KEY).set_value("fashion").run()
    assert not app.exception
    assert app.selectbox(key=DATASET_KEY).value == "mnist5k"
    assert any("aelab data import FOLDER --dataset fashion" in e.value for e in app.error)


def test_an_online_dataset_is_fetched_on_first_pick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AELAB_CACHE", str(tmp_path))
    calls = []

    def stand_in(spec, data_home):
        calls.append(spec.name)
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (40, 784)).astype(float), (np.arange(40) % 10).astype(str)

    monkeypatch.setattr(sources, "_fetch_openml", stand_in)
    app = run_app()
    app.selectbox(key=DATASET_KEY).set_value("kmnist").run()
    assert not app.exception and app.selectbox(key=DATASET_KEY).value == "kmnist"
    assert calls == ["kmnist"] and (tmp_path / "kmnist.npz").is_file()
    assert app.status and app.status[0].proto.label.startswith("Fetching Kuzushiji-MNIST")


@pytest.fixture(scope="module")
def shapes_entry() -> ModelEntry:
    trained = train_model(
        load_dataset("shapes"), ModelConfig(kind="ae", hidden=(64,)), TrainConfig(epochs=1, batch_size=256)
    )
    return ModelEntry("session:test-shapes", "shapes-ae", "session", trained.checkpoint)


def test_explore_colours_the_shapes_plane_by_a_factor(shapes_entry: ModelEntry) -> None:
    selection = Selection(dataset="shapes", model={"shapes": shapes_entry.id}, entries=[shapes_entry])
    app = run_app(**{"aelab.selection": selection})
    assert legend(app) == ["square", "ellipse", "heart", "triangle"]
    colour = app.selectbox(key=COLOUR_KEY)
    assert colour.options == ["class", "scale", "rotation", "x", "y"]
    colour.set_value("rotation").run()
    assert not app.exception
    assert app.selectbox(key=COLOUR_KEY).value == "rotation"
    rotation_bins = legend(app)
    assert len(rotation_bins) == 5 and rotation_bins[0].startswith("0.") and rotation_bins[-1].endswith("–360")
    colour.set_value("label").run()
    assert legend(app) == ["square", "ellipse", "heart", "triangle"]


def legend(app: AppTest) -> list[str]:
    """The plane's trace names (one per colour) from the payload the plane component receives."""
    plane = next(c for c in app.get("bidi_component") if json.loads(c.proto.json or "{}").get("key") == "explore.plane")
    return [trace["name"] for trace in plane_traces(json.loads(plane.proto.json))]


def test_an_rgb_upload_trains_and_explores_in_colour() -> None:
    from aelab.ui.cache import SESSION_DATASETS_KEY, SessionDatasets
    from aelab.uploads import parse_image_zip

    uploaded = parse_image_zip(zip_bytes(class_folders(n_per_class=20, rgb=True)), "upload-rgbtest", side=12, rgb=True)
    trained = train_model(
        uploaded,
        ModelConfig(kind="conv", image_shape=uploaded.image_shape, channels=(8, 16)),
        TrainConfig(epochs=1, batch_size=16),
    )
    entry = ModelEntry("session:test-rgb", "rgb-conv", "session", trained.checkpoint)
    app = run_app(
        **{
            SESSION_DATASETS_KEY: SessionDatasets({uploaded.name: uploaded}, {"digest": uploaded.name}),
            "aelab.selection": Selection(dataset=uploaded.name, model={uploaded.name: entry.id}, entries=[entry]),
        }
    )
    assert app.selectbox(key=DATASET_KEY).value == uploaded.name
    decoded = app.get("image")[0].proto.imgs[0].url
    assert decoded  # the decoded RGB image was drawn (a PNG URL); the page raised nothing
    assert legend(app) == ["cat", "dog"]
