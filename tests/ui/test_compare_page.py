"""The Compare page through AppTest: PCA, the chosen model, the shipped UMAP-structured autoencoder and UMAP,
a metrics row for each, in both languages, and a click in each plane decoding through that method's own
inverse."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from aelab.data import load_dataset
from aelab.latent import encode_images, fit_plane_map
from aelab.models import ModelConfig
from aelab.plane import decode_array
from aelab.recipes import model_config_for, train_model
from aelab.train import TrainConfig
from aelab.ui.state import ModelEntry, Selection

from .apptest import page_script, plane_traces

pytestmark = pytest.mark.timeout(180)  # the first UMAP fit compiles numba code


@pytest.fixture(scope="module")
def digits_entry() -> ModelEntry:
    """A quickly trained digits autoencoder, as a model of the session (digits may ship none)."""
    digits = load_dataset("digits")
    trained = train_model(digits, model_config_for(digits, "ae"), TrainConfig(epochs=5, batch_size=64, lr=3e-3))
    return ModelEntry("session:compare-test", "test autoencoder", "session", trained.checkpoint)


def open_compare(entry: ModelEntry, language: str = "en") -> AppTest:
    at = AppTest.from_function(page_script, args=("aelab.ui.compare",), default_timeout=150)
    at.session_state["aelab.language"] = language
    at.session_state["aelab.selection"] = Selection(dataset="digits", model={"digits": entry.id}, entries=[entry])
    return at.run()


STRUCTURED = "pretrained:digits-umap-ae"  # shipped: Compare shows it beside any other chosen model


def test_four_planes_and_a_metrics_row_for_each(digits_entry: ModelEntry) -> None:
    at = open_compare(digits_entry)
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][:4] == [
        "PCA (2 components)",
        "Autoencoder",
        "UMAP-structured autoencoder",
        "UMAP",
    ]
    table = at.dataframe[0].value
    assert list(table.iloc[:, 0]) == ["PCA (2 components)", "test autoencoder", "UMAP-AE · pretrained", "UMAP"]
    mse = table.iloc[:, 1]
    assert all(0 < value < 0.2 for value in mse)
    assert table.iloc[0, 3] is not None  # PCA's fit time is measured
    # the structured model separates the classes better than the quick plain autoencoder, as it should
    knn = [float(value.rstrip("%")) for value in table.iloc[:, 2]]
    assert knn[2] > knn[1]

    # a click in each plane decodes through that method's own inverse
    keys = [
        "compare.plane.pca.digits",
        f"compare.plane.model.{digits_entry.id}",
        f"compare.plane.model.{STRUCTURED}",
        "compare.plane.umap.digits",
    ]
    for n, key in enumerate(keys, start=1):
        at.session_state[key] = {"click": {"x": 0.0, "y": 0.0, "n": n}}
    at.run()
    assert not at.exception, at.exception
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert captions == ["Decoded at (0.00, 0.00)"] * 4


def test_the_structured_model_is_not_shown_twice_when_it_is_the_chosen_one() -> None:
    at = AppTest.from_function(page_script, args=("aelab.ui.compare",), default_timeout=150)
    at.session_state["aelab.selection"] = Selection(dataset="digits", model={"digits": STRUCTURED})
    at.run()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][:3] == ["PCA (2 components)", "Autoencoder", "UMAP"]
    assert list(at.dataframe[0].value.iloc[:, 0]) == ["PCA (2 components)", "UMAP-AE · pretrained", "UMAP"]


def test_the_page_renders_in_chinese(digits_entry: ModelEntry) -> None:
    at = open_compare(digits_entry, "zh")
    assert not at.exception, at.exception
    assert at.header[0].value == "PCA、自编码器与 UMAP 并排比较"
    table = at.dataframe[0].value
    assert list(table.columns) == ["方法", "测试重建 MSE", "5-近邻准确率", "拟合时间（秒）"]
    assert len(table) == 4


def test_a_three_dimensional_model_is_drawn_through_the_same_plane_map_as_explore() -> None:
    digits = load_dataset("digits")
    trained = train_model(
        digits, ModelConfig(kind="ae", latent_dim=3, hidden=(32,), seed=0), TrainConfig(epochs=3, batch_size=128)
    )
    entry = ModelEntry("session:compare-three-d", "three-d", "session", trained.checkpoint)
    at = open_compare(entry)
    assert not at.exception, at.exception
    key = f"compare.plane.model.{entry.id}"
    plane = next(d for d in (json.loads(c.proto.json or "{}") for c in at.get("bidi_component")) if d.get("key") == key)
    # The plane shows the PCA of the codes that Explore fits (not the first two coordinates of each code).
    codes = encode_images(entry.checkpoint.model, digits.images)
    expected = fit_plane_map(codes, "pca").to_plane(codes[digits.test_idx])
    shown = np.zeros_like(expected)
    for trace in plane_traces(plane):
        index = decode_array(trace["index"])
        shown[index, 0], shown[index, 1] = decode_array(trace["x"]), decode_array(trace["y"])
    np.testing.assert_allclose(shown, expected, atol=1e-5)

    at.session_state[key] = {"click": {"x": 0.5, "y": -0.5, "n": 1}}
    at.run()
    assert not at.exception, at.exception
    assert "Decoded at (0.50, -0.50)" in [image.proto.imgs[0].caption for image in at.get("image")]


def test_a_cvae_beside_the_vae_shows_the_class_leaving_the_code() -> None:
    """The shipped digits-cvae chosen: the shipped digits-vae stands beside it, and the table shows the codes'
    5-NN accuracy of both; a click in the CVAE's plane draws the code under every label."""
    from aelab.recipes import load_pretrained

    cvae = ModelEntry("pretrained:digits-cvae", "CVAE · pretrained", "pretrained", load_pretrained("digits-cvae"))
    at = open_compare(cvae)
    assert not at.exception, at.exception
    titles = [s.value for s in at.subheader]
    assert "Not told the label (VAE)" in titles
    table = at.dataframe[0].value
    rows = dict(zip(table.iloc[:, 0], table.iloc[:, 2]))
    knn = {name: float(value.rstrip("%")) for name, value in rows.items()}
    assert knn["CVAE · pretrained"] < 40 < knn["VAE · pretrained"]  # chance is 10 %
    key = "compare.plane.model.pretrained:digits-cvae"
    at.session_state[key] = {"click": {"x": 0.0, "y": 0.0, "n": 1, "gesture": "click"}}
    at.run()
    assert not at.exception, at.exception
    decoded = [e for e in at.get("image") if e.proto.imgs[0].caption.startswith("Decoded at (0.00, 0.00)")]
    assert len(decoded) == 1  # point_picture's row (tests/test_cvae.py checks what it holds)
