from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from aelab.jobs import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    STOPPED,
    TrainingJob,
    TrainingPool,
    default_torch_threads,
)
from aelab.latent import encode_images
from aelab.models import ModelConfig
from aelab.train import TrainConfig

pytestmark = pytest.mark.timeout(60)

SMALL = ModelConfig(kind="ae", hidden=(32, 16))
FAST = TrainConfig(epochs=3, batch_size=64, lr=5e-3)
WAIT_S = 30


class Gate:
    """Holds every job at the end of epoch ``at`` until released, so tests can look at a job mid-run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: int = 1) -> None:
        self.at = at
        self.reached = threading.Event()
        self.release = threading.Event()
        original = TrainingJob._on_epoch

        def on_epoch(job: TrainingJob, report) -> None:
            original(job, report)
            if report.epoch == self.at:
                self.reached.set()
                assert self.release.wait(WAIT_S), "the test never released the gate"

        monkeypatch.setattr(TrainingJob, "_on_epoch", on_epoch)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate(monkeypatch)
    yield gate
    gate.release.set()  # never leave a worker blocked after a failing test


def test_a_job_completes_and_yields_a_usable_model(tiny) -> None:
    job = TrainingPool(max_workers=1).submit("s1", tiny, SMALL, FAST)
    assert job.wait(WAIT_S)
    snap = job.snapshot()
    assert snap.state == DONE and snap.error is None and snap.progress == 1.0
    assert snap.epoch == snap.epochs == 3
    assert len(snap.train_losses) == len(snap.test_losses) == 3 and "mse" in snap.test_losses[-1]
    assert snap.codes.shape == (len(tiny.test_idx), 2)
    assert np.array_equal(snap.labels, tiny.test_labels)
    trained = snap.model
    assert trained.history.epochs == 3 and trained.dataset == tiny.name
    assert 0 <= trained.metrics.knn_accuracy <= 1 and trained.metrics.test_mse > 0
    # the last live scatter shows exactly the final model's test codes
    assert np.allclose(snap.codes, encode_images(trained.model, tiny.test_images), atol=1e-6)
    assert trained.checkpoint.to_bytes()[:8]  # a checkpoint for the download button


def test_snapshots_advance_while_training(tiny, gate: Gate) -> None:
    gate.at = 2
    job = TrainingPool(max_workers=1).submit("s1", tiny, SMALL, TrainConfig(epochs=5, batch_size=64))
    assert gate.reached.wait(WAIT_S)
    mid = job.snapshot()
    assert mid.state == RUNNING and mid.active
    assert mid.epoch == 2 and mid.progress == pytest.approx(0.4)
    assert len(mid.test_losses) == 2 and mid.elapsed > 0 and mid.seconds_left > 0
    assert mid.codes.shape == (len(tiny.test_idx), 2) and not mid.codes.flags.writeable
    assert mid.model is None
    gate.release.set()
    assert job.wait(WAIT_S)
    end = job.snapshot()
    assert end.state == DONE and end.epoch == 5 and len(end.test_losses) == 5
    assert end.test_losses[:2] == mid.test_losses  # earlier snapshots are copies, not views that keep changing
    assert not np.array_equal(end.codes, mid.codes)


def test_stop_mid_run_still_yields_a_model(tiny, gate: Gate) -> None:
    job = TrainingPool(max_workers=1).submit("s1", tiny, SMALL, TrainConfig(epochs=50, batch_size=16))
    assert gate.reached.wait(WAIT_S)
    job.stop()
    gate.release.set()
    assert job.wait(WAIT_S)
    snap = job.snapshot()
    assert snap.state == STOPPED and not snap.active and snap.error is None
    # epoch 2 ends after its first batch and is not reported: one finished epoch
    assert snap.epoch == 1 and snap.model.history.stopped and snap.model.history.epochs == 1
    assert encode_images(snap.model.model, tiny.test_images).shape == (len(tiny.test_idx), 2)


def test_a_diverging_run_fails_with_its_message_and_the_pool_lives_on(tiny) -> None:
    pool = TrainingPool(max_workers=1)
    bad = pool.submit("s1", tiny, SMALL, TrainConfig(epochs=3, batch_size=32, lr=1e30))
    assert bad.wait(WAIT_S)
    snap = bad.snapshot()
    assert snap.state == FAILED and snap.model is None
    assert "diverged" in snap.error and "smaller learning rate" in snap.error
    assert pool.running == 0
    good = pool.submit("s1", tiny, SMALL, FAST)
    assert good.wait(WAIT_S) and good.state == DONE


def test_an_invalid_config_fails_with_a_message(tiny) -> None:
    job = TrainingPool(max_workers=1).submit("s1", tiny, ModelConfig(kind="ae", latent_dim=0), FAST)
    assert job.wait(WAIT_S)
    assert job.state == FAILED and "latent_dim" in job.snapshot().error


def test_the_pool_queues_beyond_its_workers_first_come_first_served(tiny, gate: Gate) -> None:
    pool = TrainingPool(max_workers=1)
    first = pool.submit("alice", tiny, SMALL, FAST)
    assert gate.reached.wait(WAIT_S)
    gate.at = -1  # only the first job pauses
    second = pool.submit("bob", tiny, SMALL, FAST)
    third = pool.submit("carol", tiny, SMALL, FAST)
    assert pool.running == 1 and pool.waiting == 2
    assert first.snapshot().queue_position is None
    assert (second.snapshot().state, second.snapshot().queue_position) == (QUEUED, 1)
    assert (third.snapshot().state, third.snapshot().queue_position) == (QUEUED, 2)
    second.stop()  # leaving the queue: it never starts and the one behind moves up
    assert second.wait(WAIT_S) and second.state == STOPPED and second.snapshot().model is None
    assert third.snapshot().queue_position == 1 and third.state == QUEUED
    gate.release.set()
    assert first.wait(WAIT_S) and third.wait(WAIT_S)
    assert first.state == DONE and third.state == DONE
    assert pool.running == 0 and pool.waiting == 0


def test_sessions_never_see_each_others_jobs(tiny) -> None:
    pool = TrainingPool(max_workers=2)
    alice = pool.submit("alice", tiny, ModelConfig(kind="ae", hidden=(32, 16), seed=1), FAST)
    bob = pool.submit("bob", tiny, ModelConfig(kind="vae", hidden=(32, 16), latent_dim=3), FAST)
    assert pool.job("alice") is alice and pool.job("bob") is bob
    assert pool.job("mallory") is None
    assert alice.wait(WAIT_S) and bob.wait(WAIT_S)
    a, b = pool.job("alice").snapshot(), pool.job("bob").snapshot()
    assert a.model.model.kind == "ae" and a.codes.shape[1] == 2
    assert b.model.model.kind == "vae" and b.codes.shape[1] == 3
    pool.forget("alice")
    assert pool.job("alice") is None and pool.job("bob") is bob


def test_a_new_job_replaces_and_stops_the_sessions_previous_one(tiny, gate: Gate) -> None:
    pool = TrainingPool(max_workers=2)
    old = pool.submit("s1", tiny, SMALL, TrainConfig(epochs=50, batch_size=16))
    assert gate.reached.wait(WAIT_S)
    gate.at = -1
    new = pool.submit("s1", tiny, SMALL, FAST)
    assert pool.job("s1") is new
    gate.release.set()
    assert old.wait(WAIT_S) and new.wait(WAIT_S)
    assert old.state == STOPPED and new.state == DONE


def test_torch_threads_are_shared_out_and_never_raised() -> None:
    assert default_torch_threads(2, cores=16) == 8
    assert default_torch_threads(30, cores=16) == 1
    before = torch.get_num_threads()
    TrainingPool(max_workers=1, torch_threads=before + 4)
    assert torch.get_num_threads() == before


def test_the_keep_callback_saves_the_model_before_the_job_reads_finished(tiny, tmp_path) -> None:
    from aelab.store import Store, StoredItem

    store = Store(tmp_path)
    _, workspace, _ = store.open_workspace(None)
    job = TrainingPool(max_workers=1).submit(
        workspace.id,
        tiny,
        SMALL,
        FAST,
        keep=lambda trained: store.save_model(workspace, trained.checkpoint.to_bytes(), "kept"),
    )
    assert job.wait(WAIT_S)
    snap = job.snapshot()  # nobody polled while it trained: the result landed anyway
    assert snap.state == DONE and isinstance(snap.saved, StoredItem) and snap.save_error is None
    assert store.models(workspace) == [snap.saved]
    loaded = store.load_model(workspace, snap.saved.name)
    assert loaded.header.weights_sha256 == snap.model.checkpoint.header.weights_sha256


def test_a_keep_callback_that_refuses_leaves_its_message_and_the_model(tiny, tmp_path) -> None:
    from aelab.store import Limits, Store

    store = Store(tmp_path, Limits(max_models=0))
    _, workspace, _ = store.open_workspace(None)
    job = TrainingPool(max_workers=1).submit(
        workspace.id,
        tiny,
        SMALL,
        FAST,
        keep=lambda trained: store.save_model(workspace, trained.checkpoint.to_bytes(), "x"),
    )
    assert job.wait(WAIT_S)
    snap = job.snapshot()
    assert snap.state == DONE and snap.saved is None and "already holds 0 models" in snap.save_error
    assert snap.model is not None and store.models(workspace) == []


@pytest.mark.slow
def test_stop_during_the_umap_neighbour_graph_ends_the_job_at_once(tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    from aelab.models import UMAPAutoencoder

    entered, leave = threading.Event(), threading.Event()
    original = UMAPAutoencoder.prepare

    def slow_prepare(self, train_images, augment=None) -> None:  # stands for a long graph build in numba
        entered.set()
        leave.wait(WAIT_S)
        original(self, train_images, augment)

    monkeypatch.setattr(UMAPAutoencoder, "prepare", slow_prepare)
    kept = []
    job = TrainingPool(max_workers=1).submit(
        "s1", tiny, ModelConfig(kind="umap-ae", hidden=(32, 16)), FAST, keep=kept.append
    )
    assert entered.wait(WAIT_S)
    job.stop()
    try:
        assert job.wait(5), "the stop was not honoured during the neighbour-graph preparation"
        snap = job.snapshot()
        assert snap.state == STOPPED and snap.epoch == 0 and snap.model.history.epochs == 0
        assert kept == []  # a run stopped before any epoch leaves nothing in the workspace
    finally:
        leave.set()
