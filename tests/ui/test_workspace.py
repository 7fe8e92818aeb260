"""The workspace through AppTest: what one session saves, a later session with the same token gets back."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from aelab.data import load_dataset
from aelab.models import ModelConfig
from aelab.recipes import train_model
from aelab.train import TrainConfig
from aelab.ui.i18n import LANGUAGE_KEY
from aelab.ui.sidebar import DATA_UPLOAD_KEY, DATASET_KEY, MODEL_KEY

from .apptest import with_cookie

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(scope="module")
def digits_checkpoint() -> bytes:
    trained = train_model(
        load_dataset("digits"), ModelConfig(kind="ae", hidden=(16,), seed=1), TrainConfig(epochs=1, batch_size=256)
    )
    return trained.checkpoint.to_bytes()


def new_session(token: str = "") -> AppTest:
    """A new browser session whose cookie holds ``token`` ("" when it has none), run once."""
    app = with_cookie(AppTest.from_file(APP, default_timeout=60), token).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def token_of(app: AppTest) -> str:
    own = app.session_state["aelab.workspace"]
    assert own.workspace is not None
    return own.token


def test_an_uploaded_model_and_the_choices_come_back_in_a_new_session(digits_checkpoint: bytes) -> None:
    first = new_session()
    token = token_of(first)
    first.sidebar.file_uploader[0].set_value(("tiny.safetensors", digits_checkpoint, "application/octet-stream"))
    first.run()
    first.radio(key=LANGUAGE_KEY).set_value("zh").run()
    chosen = first.selectbox(key=MODEL_KEY).value
    assert chosen.startswith("upload:") and first.selectbox(key=DATASET_KEY).value == "digits"

    again = new_session(token)  # a reload, a new tab, or the same browser after a server restart
    assert token_of(again) == token
    assert again.selectbox(key=DATASET_KEY).value == "digits"
    assert again.selectbox(key=MODEL_KEY).value == chosen
    assert again.radio(key=LANGUAGE_KEY).value == "zh"
    assert not again.sidebar.warning


def test_an_uploaded_dataset_comes_back_and_another_browser_sees_nothing() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(60, 8, 8), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, images=images, labels=np.arange(60) % 3)
    first = new_session()
    first.sidebar.file_uploader(key=DATA_UPLOAD_KEY).set_value(("mine.npz", buffer.getvalue(), "application/zip"))
    first.run()
    name = first.selectbox(key=DATASET_KEY).value
    assert name.startswith("upload-")

    again = new_session(token_of(first))
    assert "mine.npz (uploaded)" in again.selectbox(key=DATASET_KEY).options  # the picker lists labels
    assert again.selectbox(key=DATASET_KEY).value == name

    stranger = new_session()
    assert token_of(stranger) != token_of(first)
    assert "mine.npz (uploaded)" not in stranger.selectbox(key=DATASET_KEY).options
    assert stranger.selectbox(key=DATASET_KEY).value != name


@pytest.mark.parametrize("token", ["garbage", "x" * 43, "<script>"])
def test_a_malformed_or_unknown_token_opens_a_fresh_workspace(token: str) -> None:
    app = new_session(token)
    assert token_of(app) != token and len(token_of(app)) == 43
    assert not app.error


def test_delete_my_workspace_forgets_everything(digits_checkpoint: bytes) -> None:
    first = new_session()
    token = token_of(first)
    first.sidebar.file_uploader[0].set_value(("tiny.safetensors", digits_checkpoint, "application/octet-stream"))
    first.run()
    first.checkbox(key="aelab.sidebar.delete_confirm").check().run()
    first.button(key="aelab.sidebar.delete").click().run()
    assert not first.exception, [e.value for e in first.exception]
    assert token_of(first) != token
    assert not any(o.startswith("upload:") for o in first.selectbox(key=MODEL_KEY).options)
    again = new_session(token)
    assert token_of(again) != token


def test_the_interpolation_ends_come_back_after_a_reload() -> None:
    from aelab.ui.explore import PLANE_KEY

    first = new_session()
    token = token_of(first)
    default_b = first.session_state["aelab.explore"].b.copy()
    first.session_state[PLANE_KEY] = {"click": {"x": 0.5, "y": -0.5, "z": [0.5, -0.5], "n": 1, "gesture": "a"}}
    first.run()
    assert not first.exception, [e.value for e in first.exception]
    assert np.allclose(first.session_state["aelab.explore"].a, [0.5, -0.5])

    again = new_session(token)  # a reload: A where it was dragged, B where it was
    assert np.allclose(again.session_state["aelab.explore"].a, [0.5, -0.5])
    assert np.allclose(again.session_state["aelab.explore"].b, default_b)


def test_the_current_point_comes_back_and_a_tampered_saved_point_is_ignored() -> None:
    from aelab.ui.explore import PLANE_KEY, POINT_LIGHT_KEY
    from aelab.ui.workspace import store

    first = new_session()
    token = token_of(first)
    entry_id = first.session_state["aelab.explore"].entry_id
    d = first.session_state["aelab.explore"].point.shape[0]
    chosen = [0.25 * (i + 1) for i in range(d)]
    first.session_state[PLANE_KEY] = {"click": {"x": 0.0, "y": 0.0, "z": chosen, "n": 1, "gesture": "slider"}}
    first.run()
    assert np.allclose(first.session_state["aelab.explore"].point, chosen, atol=1e-6)

    again = new_session(token)  # a reload: the plane opens on the point chosen before it
    assert again.session_state["aelab.explore"].entry_id == entry_id
    assert np.allclose(again.session_state["aelab.explore"].point, chosen, atol=1e-6)

    # A value edited on disk is checked like a browser's: far outside, the wrong length or no list is no point.
    workspace = store().open_workspace(token)[1]
    for bad in ([1e30] * d, [0.0] * (d + 1), "not a code"):
        store().set_light(workspace, POINT_LIGHT_KEY, {"model": entry_id, "z": bad})
        tampered = new_session(token)
        point = tampered.session_state["aelab.explore"].point
        assert np.all(np.isfinite(point)) and point.shape == (d,)
        assert not np.allclose(point, chosen, atol=1e-6)  # back on the default start, sample 0's code
