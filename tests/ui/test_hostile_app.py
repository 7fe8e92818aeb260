"""Hostile input and faults at the app's entry points, through AppTest.

- Every hostile checkpoint and dataset file of tests/test_hostile.py uploaded in the sidebar: one clear st.error naming the
  file and the reason, no exception, the code-running pickles' marker never created, and the previous
  state kept (the model uploaded before stays chosen, no entry added; the dataset and model stay).
- A shipped checkpoint that fails its SHA-256 (altered) or is not in the manifest: a sidebar warning says so,
  the picker leaves it out, and the app opens on the next shipped model instead of crashing.
- A diverging training (the VAE at learning rate 10, batch 32: the loss explodes in epoch 1) on the Train page: the message, no model added, and the
  page still usable (the Train button enabled again).
- Stop in the middle of a training: the stopped model joins the session's models and decodes finite images.
"""

from __future__ import annotations

import functools
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_hostile import HOSTILE, HOSTILE_DATASETS

from aelab import recipes
from aelab.data import load_dataset
from aelab.jobs import TrainingPool
from aelab.latent import decode_grid
from aelab.models import ModelConfig
from aelab.recipes import PRETRAINED_DIR, model_config_for, train_model
from aelab.train import TrainConfig
from aelab.ui import cache
from aelab.ui.sidebar import DATA_UPLOAD_KEY, DATASET_KEY, MODEL_KEY, UPLOAD_KEY

from .apptest import page_script, workspace_id

pytestmark = pytest.mark.timeout(300)

APP = str(Path(__file__).resolve().parents[2] / "app.py")
POLL_LIMIT_S = 60


def run_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture(scope="module")
def digits_checkpoint() -> bytes:
    """A valid checkpoint of a tiny autoencoder trained for one epoch on digits (the hostile files start from it)."""
    trained = train_model(
        load_dataset("digits"), ModelConfig(kind="ae", hidden=(16,), seed=2), TrainConfig(epochs=1, batch_size=256)
    )
    return trained.checkpoint.to_bytes()


def test_every_hostile_upload_shows_one_error_and_keeps_the_uploaded_model(
    digits_checkpoint: bytes, tmp_path: Path
) -> None:
    app = run_app()
    app.file_uploader(key=UPLOAD_KEY).set_value(
        ("good.safetensors", digits_checkpoint, "application/octet-stream")
    ).run()
    assert not app.exception and not app.sidebar.error
    chosen = app.selectbox(key=MODEL_KEY).value
    assert chosen.startswith("upload:") and app.selectbox(key=DATASET_KEY).value == "digits"
    entries = list(app.session_state["aelab.selection"].entries)

    marker = tmp_path / "ran-code"
    for name, build, message in HOSTILE:
        app.file_uploader(key=UPLOAD_KEY).set_value(
            (name, build(digits_checkpoint, marker), "application/octet-stream")
        )
        app.run()
        assert not app.exception, (name, [e.value for e in app.exception])
        errors = [e.value for e in app.sidebar.error]
        assert len(errors) == 1 and name in errors[0] and message in errors[0], (name, errors)
        assert "Traceback" not in errors[0]
        assert app.selectbox(key=MODEL_KEY).value == chosen, name
        assert app.selectbox(key=DATASET_KEY).value == "digits", name
        assert app.session_state["aelab.selection"].entries == entries, name
        assert not marker.exists(), f"{name} ran code"


def test_every_hostile_dataset_upload_shows_one_error_and_keeps_the_dataset(tmp_path: Path) -> None:
    app = run_app()
    dataset, model = app.selectbox(key=DATASET_KEY).value, app.selectbox(key=MODEL_KEY).value
    marker = tmp_path / "ran-code"
    for name, build, message in HOSTILE_DATASETS:
        app.file_uploader(key=DATA_UPLOAD_KEY).set_value((name, build(None, marker), "application/octet-stream"))
        app.run()
        assert not app.exception, (name, [e.value for e in app.exception])
        errors = [e.value for e in app.sidebar.error]
        assert len(errors) == 1 and name in errors[0] and message.lower() in errors[0].lower(), (name, errors)
        assert app.selectbox(key=DATASET_KEY).value == dataset and app.selectbox(key=MODEL_KEY).value == model, name
        assert not marker.exists(), f"{name} ran code"


def _tamper_flip(directory: Path) -> None:
    path = directory / "mnist5k-vae.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01  # one bit of one weight: a valid safetensors file, the wrong bytes
    path.write_bytes(bytes(data))


def _tamper_unlisted(directory: Path) -> None:
    manifest = directory / recipes.MANIFEST
    manifest.write_text(
        "".join(
            line + "\n" for line in manifest.read_text().splitlines() if not line.endswith("mnist5k-vae.safetensors")
        )
    )


@pytest.mark.parametrize(
    ("tamper", "message"),
    [(_tamper_flip, "does not match its SHA-256"), (_tamper_unlisted, "is not listed in")],
    ids=["altered", "unlisted"],
)
def test_a_tampered_shipped_model_is_left_out_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper, message: str
) -> None:
    if (
        not (PRETRAINED_DIR / "mnist5k-vae.safetensors").is_file()
        or not (PRETRAINED_DIR / "mnist5k-ae.safetensors").is_file()
    ):
        pytest.skip("needs the shipped mnist5k-vae and mnist5k-ae checkpoints (run `aelab pretrain`)")
    shipped = tmp_path / "pretrained"
    shutil.copytree(PRETRAINED_DIR, shipped)  # the real files stay untouched
    tamper(shipped)
    monkeypatch.setattr(cache, "load_pretrained", functools.partial(recipes.load_pretrained, directory=shipped))
    cache.pretrained.clear()  # st.cache_resource is shared in this process: drop the verified copies
    try:
        app = run_app()
        warnings = [w.value for w in app.sidebar.warning]
        assert len(warnings) == 1 and "mnist5k-vae.safetensors" in warnings[0] and message in warnings[0], warnings
        picker = app.selectbox(key=MODEL_KEY)
        assert "pretrained:mnist5k-vae" not in picker.options
        assert picker.value == "pretrained:mnist5k-ae"
        assert app.header[0].value  # the Explore page drew on the next shipped model
    finally:
        cache.pretrained.clear()


def _open_train() -> AppTest:
    return AppTest.from_function(page_script, args=("aelab.ui.train_page",), default_timeout=60).run()


def _run_until(at: AppTest, done) -> AppTest:
    deadline = time.monotonic() + POLL_LIMIT_S
    while not done(at):
        assert time.monotonic() < deadline, "the training did not finish in time"
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    return at


def test_learning_rate_10_ends_in_the_divergence_message_and_the_page_stays_usable() -> None:
    from aelab.ui.train_page import LEARNING_RATES, training_pool

    assert max(LEARNING_RATES) <= 0.1  # the page's own slider cannot reach 10: this run is filed as a CLI user would
    at = _open_train()
    pool: TrainingPool = training_pool()
    digits = load_dataset("digits")
    job = pool.submit(
        workspace_id(at),
        digits,
        model_config_for(digits, "vae"),
        TrainConfig(epochs=3, lr=10.0, batch_size=32),
    )
    assert job.wait(POLL_LIMIT_S)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "diverged" in at.error[0].value and "(it was 10)" in at.error[0].value
    assert at.session_state["aelab.selection"].entries == []
    assert not at.button(key="train.start").disabled  # a new run can be started at once


def test_stop_mid_training_leaves_a_usable_model_in_this_session() -> None:
    from aelab.ui.train_page import training_pool

    at = _open_train()
    pool: TrainingPool = training_pool()
    digits = load_dataset("digits")
    job = pool.submit(
        workspace_id(at),
        digits,
        model_config_for(digits, "ae"),
        TrainConfig(epochs=500, batch_size=16),
    )
    deadline = time.monotonic() + POLL_LIMIT_S
    while job.snapshot().epoch < 1:
        assert time.monotonic() < deadline, "no epoch finished in time"
        time.sleep(0.1)
    at.run()
    at.button(key="train.stop").click().run()
    assert job.wait(POLL_LIMIT_S)
    _run_until(at, lambda a: a.session_state["aelab.selection"].entries)
    assert not at.exception and not at.error
    assert at.warning and "500" in at.warning[0].value  # "stopped after k of 500 epochs"
    (entry,) = at.session_state["aelab.selection"].entries
    images = decode_grid(entry.checkpoint.model, entry.checkpoint.latent_bounds, 3)
    assert np.all(np.isfinite(images)) and images.min() >= 0 and images.max() <= 1
