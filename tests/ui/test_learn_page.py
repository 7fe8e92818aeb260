"""The Learn page through AppTest: the lesson in both languages, and the live pieces wired to the model."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from .apptest import page_script

pytestmark = pytest.mark.timeout(120)


def open_learn(language: str = "en") -> AppTest:
    at = AppTest.from_function(page_script, args=("aelab.ui.learn",), default_timeout=60)
    at.session_state["aelab.language"] = language
    return at.run()


def image_urls(at: AppTest) -> list[str]:
    """The media URLs of the page's images, in order (they change when the picture's bytes change)."""
    return [image.proto.imgs[0].url for image in at.get("image")]


@pytest.mark.parametrize(
    ("language", "title", "formula_heading"),
    [
        ("en", "What an autoencoder does", "Encoder φ and decoder ψ"),
        ("zh", "自编码器是做什么的", "编码器 φ 与解码器 ψ"),
    ],
)
def test_the_lesson_renders_in_both_languages(language: str, title: str, formula_heading: str) -> None:
    at = open_learn(language)
    assert not at.exception
    assert at.header[0].value == title
    assert formula_heading in [s.value for s in at.subheader]
    formulas = [latex.value for latex in at.latex]
    assert any(r"\lVert x_i - \psi(\varphi(x_i)) \rVert^2" in f for f in formulas)
    assert any(r"z = \sigma(W x + b)" in f for f in formulas)
    # the live pieces: clean, noisy, denoised; originals, PCA, autoencoder; one traversal row per axis
    assert len(image_urls(at)) == 8


def test_the_noise_slider_changes_the_noisy_image_and_its_mse() -> None:
    at = open_learn()
    before = image_urls(at)
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    at.slider(key="learn.noise").set_value(0.8).run()
    assert not at.exception
    after = image_urls(at)
    assert after[0] == before[0]  # the clean digits stay
    assert after[1] != before[1] and after[2] != before[2]  # noisy input and its reconstruction change
    new_captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert new_captions[1] != captions[1] and "MSE" in new_captions[1]
    assert after[3:] == before[3:]  # PCA versus autoencoder does not depend on the noise


def test_pca_components_change_only_the_pca_row() -> None:
    at = open_learn()
    before = image_urls(at)
    at.select_slider(key="learn.components").set_value(20).run()
    assert not at.exception
    after = image_urls(at)
    assert after[:4] == before[:4] and after[5] == before[5] and after[4] != before[4]
    assert "PCA(20)" in at.get("image")[4].proto.imgs[0].caption


def test_axis_traversals_and_factor_correlations_on_the_shapes_dataset() -> None:
    from aelab.data import load_dataset
    from aelab.models import ModelConfig
    from aelab.recipes import train_model
    from aelab.train import TrainConfig
    from aelab.ui.state import ModelEntry, Selection

    trained = train_model(load_dataset("shapes"), ModelConfig(kind="vae", hidden=(32,)), TrainConfig(epochs=1))
    entry = ModelEntry("session:test-shapes", "shapes-vae", "session", trained.checkpoint)
    at = AppTest.from_function(page_script, args=("aelab.ui.learn",), default_timeout=60)
    at.session_state["aelab.selection"] = Selection(dataset="shapes", model={"shapes": entry.id}, entries=[entry])
    at.run()
    assert not at.exception
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert any(c.startswith("z₁ from") for c in captions) and any(c.startswith("z₂ from") for c in captions)
    assert at.get("plotly_chart"), "the axis × factor correlation chart is drawn for a dataset with factors"
    assert not [i for i in at.info if "Shapes dataset" in i.value]


def test_a_dataset_without_factors_points_to_the_shapes_dataset() -> None:
    at = open_learn()
    assert any("Shapes dataset" in i.value for i in at.info)


def test_the_cvae_section_and_with_a_cvae_each_example_redrawn_as_every_label() -> None:
    from aelab.recipes import load_pretrained
    from aelab.ui.state import ModelEntry, Selection

    at = open_learn()
    assert "Style apart from class: the conditional VAE" in [s.value for s in at.subheader]
    assert any(r"\psi(z, y)" in latex.value for latex in at.latex)
    assert any("With a conditional VAE" in i.value for i in at.info), "other models point to the CVAE"
    entry = ModelEntry("pretrained:mnist5k-cvae", "CVAE", "pretrained", load_pretrained("mnist5k-cvae"))
    at = AppTest.from_function(page_script, args=("aelab.ui.learn",), default_timeout=60)
    at.session_state["aelab.selection"] = Selection(dataset="mnist5k", model={"mnist5k": entry.id}, entries=[entry])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    rows = [c for c in captions if c.startswith("The example, then its code z = φ(x, y)")]
    assert len(rows) == 6  # one per chosen digit (the first six by default)
    zh = open_learn("zh")
    assert "风格与类别分离：条件 VAE" in [s.value for s in zh.subheader]
