"""The Compare page through AppTest: PCA, the chosen model, the shipped UMAP-structured autoencoder and UMAP,
a metrics row for each, in both languages, and a click in each plane decoding through that method's own
inverse."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from aelab.data import load_dataset
from aelab.recipes import model_config_for, train_model
from aelab.train import TrainConfig
from aelab.ui.state import ModelEntry, Selection

from .apptest import page_script

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
