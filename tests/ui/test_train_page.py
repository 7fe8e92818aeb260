"""The Train page through AppTest: settings in both languages, a real one-epoch training on digits polled
to the end, its model in this session's list only, and a diverging run's message."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from aelab.data import load_dataset
from aelab.jobs import TrainingPool
from aelab.recipes import model_config_for
from aelab.train import TrainConfig

from .apptest import page_script, workspace_id

pytestmark = pytest.mark.timeout(120)

POLL_LIMIT_S = 45


def open_train(language: str = "en") -> AppTest:
    at = AppTest.from_function(page_script, args=("aelab.ui.train_page",), default_timeout=60)
    at.session_state["aelab.language"] = language
    return at.run()


def run_until(at: AppTest, done, limit_s: float = POLL_LIMIT_S) -> AppTest:
    """Rerun the page (as the polling fragment would) until ``done(at)`` or the time limit."""
    deadline = time.monotonic() + limit_s
    while not done(at):
        assert time.monotonic() < deadline, "the training did not finish in time"
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    ("language", "title", "button"), [("en", "Train an autoencoder", "Train"), ("zh", "训练自编码器", "训练")]
)
def test_the_page_renders_in_both_languages(language: str, title: str, button: str) -> None:
    at = open_train(language)
    assert not at.exception
    assert at.header[0].value == title
    assert at.button(key="train.start").label == button
    assert at.number_input(key="train.latent_dim").value == 2
    assert not at.get("progress") and not at.error


def test_beta_and_noise_appear_for_their_kinds_only() -> None:
    at = open_train()
    keys = lambda: {s.key for s in at.slider}  # noqa: E731
    assert not {"train.beta", "train.noise"} & keys()
    at.selectbox(key="train.kind").set_value("vae").run()
    assert "train.beta" in keys() and "train.noise" not in keys()
    at.selectbox(key="train.kind").set_value("dae").run()
    assert "train.noise" in keys() and "train.beta" not in keys()
    assert "train.umap_weight" not in {s.key for s in at.select_slider}
    assert not at.exception


@pytest.mark.timeout(240)
def test_a_umap_ae_is_trained_with_the_chosen_structure_weight() -> None:
    at = open_train()
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.selectbox(key="train.kind").set_value("umap-ae").run()
    weight = at.select_slider(key="train.umap_weight")
    assert weight.value == 10.0  # the shipped models' weight
    weight.set_value(3.0).run()
    at.number_input(key="train.epochs.digits").set_value(1).run()
    at.button(key="train.start").click().run()
    assert not at.exception
    run_until(at, lambda at: len(at.success) > 0, limit_s=150)  # the neighbour graph comes first (numba)
    checkpoint = at.session_state["aelab.selection"].entries[0].checkpoint
    assert checkpoint.kind == "umap-ae" and checkpoint.model.config.umap_weight == 3.0


def test_one_epoch_on_digits_completes_and_joins_this_sessions_models() -> None:
    at = open_train()
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.number_input(key="train.epochs.digits").set_value(1).run()
    at.button(key="train.start").click().run()
    assert not at.exception
    run_until(at, lambda at: len(at.success) > 0)
    assert "digits" in at.success[0].value.lower() or "Digits" in at.success[0].value
    entries = at.session_state["aelab.selection"].entries
    assert len(entries) == 1 and entries[0].source == "session" and entries[0].dataset == "digits"
    assert entries[0].checkpoint.training["epochs"] == 1
    # it is the sidebar's chosen model now, and the metrics sit beside PCA(2)'s
    assert at.session_state["aelab.sidebar.model"] == entries[0].id
    table = at.dataframe[0].value
    assert len(table) == 2 and "PCA (2 components)" in set(table.iloc[:, 0])
    assert at.get("download_button")
    # another session on the same server sees neither the job nor the model
    other = open_train()
    assert not other.success and not other.error and not other.get("progress")
    assert other.session_state["aelab.selection"].entries == []


def test_a_finished_run_can_be_replayed_in_the_page_and_kept_as_a_gif() -> None:
    from aelab.ui.train_page import training_pool

    at = open_train()
    digits = load_dataset("digits")
    job = training_pool().submit(
        workspace_id(at), digits, model_config_for(digits, "ae"), TrainConfig(epochs=3, batch_size=64, lr=3e-3)
    )
    assert job.wait(POLL_LIMIT_S)
    at.run()
    assert not at.exception
    charts = {chart.proto.id: chart for chart in at.get("plotly_chart")}
    replay = next(json.loads(c.proto.spec) for c in charts.values() if '"frames"' in c.proto.spec)
    assert [frame["name"] for frame in replay["frames"]] == ["1", "2", "3"]  # one frame per epoch, in order
    assert len(replay["frames"][0]["data"]) == len(digits.label_names)  # a trace per class
    assert replay["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"
    labels = {b.proto.label for b in at.get("download_button")}
    assert "Download the replay as a GIF" in labels
    kept = at.session_state["train.replay_figure"][2]
    at.run()
    assert at.session_state["train.replay_figure"][2] is kept, "a rerun reuses the finished run's replay figure"


def test_a_diverging_run_shows_its_message_and_adds_no_model() -> None:
    from aelab.ui.train_page import training_pool

    at = open_train()
    pool: TrainingPool = training_pool()
    digits = load_dataset("digits")
    job = pool.submit(
        workspace_id(at),
        digits,
        model_config_for(digits, "ae"),
        TrainConfig(epochs=2, lr=1e30),
    )
    assert job.wait(POLL_LIMIT_S)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "diverged" in at.error[0].value and "smaller learning rate" in at.error[0].value
    assert at.session_state["aelab.selection"].entries == []


def switchable_script() -> None:
    """Like app.py: collect a finished run, draw the sidebar, then the page named in session state."""
    import importlib

    import streamlit as st

    from aelab.ui import sidebar, train_page

    st.set_page_config(layout="wide", page_title="aelab")
    train_page.collect_finished_training()
    sidebar.render()
    importlib.import_module(st.session_state.get("test.page", "aelab.ui.train_page")).render()


def test_a_run_that_ends_on_another_page_still_joins_the_picker() -> None:
    at = AppTest.from_function(switchable_script, default_timeout=60)
    at.run()
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.number_input(key="train.epochs.digits").set_value(2).run()
    at.button(key="train.start").click().run()
    at.session_state["test.page"] = "aelab.ui.learn"  # the user goes to Learn while it trains
    run_until(at, lambda at: len(at.session_state["aelab.selection"].entries) == 1)
    entry = at.session_state["aelab.selection"].entries[0]
    assert entry.source == "session" and entry.checkpoint.training["epochs"] == 2
    assert at.session_state["aelab.sidebar.model"] == entry.id


def test_a_cvae_is_trained_from_the_page_told_the_labels_and_replayed() -> None:
    at = open_train()
    at.selectbox(key="train.dataset").set_value("digits").run()
    assert "Conditional VAE (told the label)" in at.selectbox(key="train.kind").options
    at.selectbox(key="train.kind").set_value("cvae").run()
    assert at.slider(key="train.beta").value == 1.0  # a VAE's KL weight, inherited
    at.number_input(key="train.epochs.digits").set_value(2).run()
    at.button(key="train.start").click().run()
    assert not at.exception
    run_until(at, lambda at: len(at.success) > 0)
    [entry] = at.session_state["aelab.selection"].entries
    assert entry.checkpoint.kind == "cvae" and entry.checkpoint.model.config.classes == 10
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"frames"' in c.proto.spec]
    assert [frame["name"] for frame in charts[0]["frames"]] == ["1", "2"]  # the replay of a run told the labels
