"""The app shell through Streamlit's AppTest: pages, languages, the dataset and model pickers, uploads."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from aelab.data import load_dataset
from aelab.models import ModelConfig
from aelab.recipes import PRETRAINED, train_model
from aelab.train import TrainConfig
from aelab.ui.sidebar import DATASET_KEY, MODEL_KEY

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DEFAULT_MODEL = "pretrained:mnist5k-vae"


def run_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture(scope="module", autouse=True)
def warm_up() -> None:
    """One run first, so the imports and shared caches are paid once for the whole module."""
    run_app()


@pytest.fixture(scope="module")
def digits_checkpoint() -> bytes:
    """A valid checkpoint of a tiny autoencoder trained for one epoch on the digits dataset."""
    trained = train_model(
        load_dataset("digits"),
        ModelConfig(kind="ae", hidden=(16,), seed=1),
        TrainConfig(epochs=1, batch_size=256, lr=1e-3),
    )
    return trained.checkpoint.to_bytes()


def test_app_opens_on_explore_with_the_default_model() -> None:
    app = run_app()
    assert app.header[0].value == "Explore the latent space"
    assert app.selectbox(key=DATASET_KEY).value == "mnist5k"
    assert app.selectbox(key=MODEL_KEY).value == DEFAULT_MODEL
    assert len(app.get("image")) > 0 and len(app.slider) >= 2
    assert not app.error


def test_app_renders_in_chinese() -> None:
    app = run_app()
    app.radio(key="aelab.language").set_value("zh").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.header[0].value == "探索潜在空间"
    assert app.selectbox(key=DATASET_KEY).label == "数据集"
    assert app.selectbox(key=MODEL_KEY).value == DEFAULT_MODEL  # the choice survives the language switch
    app.radio(key="aelab.language").set_value("en").run()
    assert app.header[0].value == "Explore the latent space"


def test_switching_dataset_lists_only_that_datasets_models() -> None:
    app = run_app()
    app.selectbox(key=DATASET_KEY).set_value("digits").run()
    assert not app.exception, [e.value for e in app.exception]
    shipped = {f"pretrained:{r.name}" for r in PRETRAINED if r.dataset == "digits" and r.path.is_file()}
    assert shipped, "the digits checkpoints should be in pretrained/"
    picker = app.selectbox(key=MODEL_KEY)
    assert set(picker.options) == {picker.format_func(entry_id) for entry_id in shipped}
    assert picker.value in shipped and len(picker.options) == len(shipped)
    # The page below follows: its state and its plane (decoder, latent sliders) belong to the digits model.
    assert app.session_state["aelab.explore"].entry_id == picker.value
    plane = next(
        data
        for data in (json.loads(c.proto.json or "{}") for c in app.get("bidi_component"))
        if data.get("key") == "explore.plane" and "traces_url" in data
    )
    assert plane["decoder"]["image_shape"] == [1, 8, 8] and len(plane["panel"]["sliders"]) == 2


def _pickle_bytes() -> bytes:
    return pickle.dumps({"weights": np.zeros(3)}, protocol=4)


def _torch_save_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(3)}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("model.pkl", lambda good: _pickle_bytes(), "never unpickles"),
        ("model.pt", lambda good: _torch_save_bytes(), "never unpickles"),
        ("model.safetensors", lambda good: good[: len(good) // 2], "model.safetensors"),
        ("noise.safetensors", lambda good: np.random.default_rng(0).bytes(4096), "noise.safetensors"),
    ],
    ids=["pickle", "torch-save", "truncated", "random-bytes"],
)
def test_a_bad_checkpoint_shows_an_error_and_keeps_the_model(
    digits_checkpoint: bytes, name: str, make, message: str
) -> None:
    app = run_app()
    app.sidebar.file_uploader[0].set_value((name, make(digits_checkpoint), "application/octet-stream")).run()
    assert not app.exception, [e.value for e in app.exception]
    errors = [e.value for e in app.sidebar.error]
    assert len(errors) == 1 and message in errors[0], errors
    assert app.selectbox(key=DATASET_KEY).value == "mnist5k"
    assert app.selectbox(key=MODEL_KEY).value == DEFAULT_MODEL
    assert len(app.selectbox(key=MODEL_KEY).options) == sum(
        r.dataset == "mnist5k" and r.path.is_file() for r in PRETRAINED
    )


def test_a_valid_checkpoint_becomes_the_selected_model(digits_checkpoint: bytes) -> None:
    app = run_app()
    app.sidebar.file_uploader[0].set_value(("tiny-digits.safetensors", digits_checkpoint, "application/octet-stream"))
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.sidebar.error
    # The checkpoint was trained on digits: the sidebar switches there and picks it.
    assert app.selectbox(key=DATASET_KEY).value == "digits"
    picker = app.selectbox(key=MODEL_KEY)
    assert picker.value.startswith("upload:")
    assert "tiny-digits · uploaded" in picker.options
    # The previous model is one choice away, and the uploaded one stays in the list.
    app.selectbox(key=DATASET_KEY).set_value("mnist5k").run()
    assert app.selectbox(key=MODEL_KEY).value == DEFAULT_MODEL
    app.selectbox(key=DATASET_KEY).set_value("digits").run()
    assert app.selectbox(key=MODEL_KEY).value.startswith("upload:")


def test_freeze_startup_heap_takes_the_imports_out_of_full_collections_once() -> None:
    # A fresh interpreter: freezing is per process, and the test process's own heap must stay as it is.
    code = (
        "import gc\n"
        "from aelab.ui.cache import freeze_startup_heap\n"
        "assert gc.get_freeze_count() == 0\n"
        "assert freeze_startup_heap() is True\n"
        "frozen = gc.get_freeze_count()\n"
        "assert frozen > 100_000, frozen  # torch, scikit-learn and Streamlit's objects\n"
        "assert freeze_startup_heap() is False\n"
        "assert gc.get_freeze_count() == frozen\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_a_picture_row_escapes_its_captions_and_urls() -> None:
    from aelab.ui.widgets import PICTURE_ROW_CLASS, picture_row_html

    markup = picture_row_html([("data:image/png;base64,AA==", '<img src=x onerror="alert(1)"> · 0.10')], 56)
    assert markup.startswith(f'<div class="{PICTURE_ROW_CLASS}"') and 'width="56"' in markup
    assert "<img src=x" not in markup and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; · 0.10" in markup
