"""Training that outlives a page script: a job per training run, and a bounded pool that runs them.

A Streamlit page script is rerun from the top at every widget interaction, so a training loop written in
it dies at the next click. Here a :class:`TrainingJob` runs :func:`aelab.recipes.train_model` in a daemon
thread of its own and publishes what a page wants to draw through :meth:`TrainingJob.snapshot`, an
immutable, thread-safe copy (state, epoch, time left, loss curves, the latest test codes). The page only
polls it.

A :class:`TrainingPool` caps how many jobs train at once on a server (the others wait, first come first
served, and know their place in the queue) and keys jobs by an opaque key (the app uses the workspace's
id), so a job is reachable only by the workspace that started it, from any of its pages or tabs. A job's
``keep`` callback runs in the worker thread as soon as the model is trained, so the result is saved (in
the app: into the workspace store) even when no page is open. One pool per server process is the intended use (the UI holds it in
``st.cache_resource``); nothing here imports Streamlit.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from aelab.data import Dataset
from aelab.errors import AelabError
from aelab.models import ModelConfig
from aelab.recipes import TrainedModel, train_model
from aelab.train import EpochReport, TrainConfig

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
ACTIVE_STATES = (QUEUED, RUNNING)
FINISHED_STATES = (DONE, STOPPED, FAILED)
REPLAY_POINTS = 1000  # test codes kept per epoch for the replay of a training


@dataclass(frozen=True)
class JobSnapshot:
    """What a job looks like at one instant; safe to read from any thread (nothing in it changes later).

    ``train_losses`` / ``test_losses``: one dict of loss terms per finished epoch (e.g. loss, mse; recon
    and kl for a VAE). ``codes``: (N_test, d) codes of the test split after the latest finished epoch
    (None before the first), ``labels``: (N_test,) their labels. ``queue_position``: 1 for the next job
    to start, None unless queued. ``model``: the trained model once the state is done, or stopped after
    training began; ``error``: the user-facing message when failed.
    """

    state: str
    dataset: str
    model_config: ModelConfig
    train_config: TrainConfig
    epoch: int
    epochs: int
    elapsed: float  # seconds since training started (0 while queued)
    seconds_left: float | None  # estimate from the finished epochs; None before the first
    train_losses: tuple[dict[str, float], ...]
    test_losses: tuple[dict[str, float], ...]
    codes: np.ndarray | None
    labels: np.ndarray
    replay: tuple[np.ndarray, ...] = ()  # per finished epoch: (n, ≤2) codes of a fixed test subset
    replay_labels: np.ndarray | None = None  # (n,) the labels of that subset
    queue_position: int | None = None
    error: str | None = None
    model: TrainedModel | None = None
    saved: object | None = None  # what the job's keep callback returned (the app: the stored item)
    save_error: str | None = None  # the keep callback's message when it refused (quota, full disk)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def progress(self) -> float:
        """Finished share of the epochs, in [0, 1]."""
        return 1.0 if self.state == DONE else self.epoch / max(self.epochs, 1)


class TrainingJob:
    """One training run of ``model_config`` on ``dataset``; started by a :class:`TrainingPool`.

    Everything the worker thread writes is guarded by one lock, and readers get :class:`JobSnapshot`
    copies, so a page may poll as often as it likes while the worker trains.
    """

    def __init__(self, dataset: Dataset, model_config: ModelConfig, train_config: TrainConfig) -> None:
        self.id = uuid.uuid4().hex  # lets a page remember which job's result it already collected
        self.dataset = dataset
        self.model_config = replace(model_config, image_shape=dataset.image_shape)
        self.train_config = train_config
        self.created = time.monotonic()
        self.finished_at: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._wake: Callable[[], None] = lambda: None  # set by the pool: a stop must wake a queued job
        self._queue_position: Callable[[TrainingJob], int | None] = lambda job: None
        self._state = QUEUED
        self._started: float | None = None
        self._epoch = 0
        self._seconds_left: float | None = None
        self._train_losses: list[dict[str, float]] = []
        self._test_losses: list[dict[str, float]] = []
        self._codes: np.ndarray | None = None
        self._labels = np.array(dataset.test_labels)
        self._replay: list[np.ndarray] = []
        self._replay_index = replay_subset(len(self._labels))
        self._error: str | None = None
        self._model: TrainedModel | None = None
        self._keep: Callable[[TrainedModel], object] | None = None  # set by the pool's submit
        self._saved: object | None = None
        self._save_error: str | None = None

    # --- what pages call ---------------------------------------------------------------------------------

    def snapshot(self) -> JobSnapshot:
        """A consistent, immutable copy of the job's progress."""
        position = self._queue_position(self)
        with self._lock:
            if self._started is None:
                elapsed = 0.0
            elif self._model is not None:
                elapsed = self._model.history.seconds
            else:
                elapsed = (self.finished_at or time.monotonic()) - self._started
            return JobSnapshot(
                state=self._state,
                dataset=self.dataset.name,
                model_config=self.model_config,
                train_config=self.train_config,
                epoch=self._epoch,
                epochs=self.train_config.epochs,
                elapsed=elapsed,
                seconds_left=self._seconds_left,
                train_losses=tuple(self._train_losses),
                test_losses=tuple(self._test_losses),
                codes=self._codes,
                labels=self._labels,
                replay=tuple(self._replay),
                replay_labels=self._labels[self._replay_index],
                queue_position=position if self._state == QUEUED else None,
                error=self._error,
                model=self._model,
                saved=self._saved,
                save_error=self._save_error,
            )

    def stop(self) -> None:
        """Ask the job to end: a queued job never starts; a running one ends after its current batch and
        still yields a usable, measured model (state ``stopped``)."""
        self._stop.set()
        self._wake()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (True) or ``timeout`` seconds passed (False)."""
        return self._done.wait(timeout)

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # --- what the worker thread calls ---------------------------------------------------------------------

    def _on_epoch(self, report: EpochReport) -> None:
        codes = report.test_codes()  # computed here, in the worker, not in the page's rerun
        with self._lock:
            self._epoch = report.epoch
            self._seconds_left = report.seconds_left
            self._train_losses.append(dict(report.train))
            self._test_losses.append(dict(report.test))
            self._codes = codes
            self._codes.setflags(write=False)
            kept = np.array(codes[self._replay_index, :2], dtype=np.float32)
            kept.setflags(write=False)
            self._replay.append(kept)

    def _finish(self, state: str, model: TrainedModel | None = None, error: str | None = None) -> None:
        with self._lock:
            self._state = state
            self._model = model
            self._error = error
            self.finished_at = time.monotonic()
            if state != FAILED:
                self._seconds_left = 0.0

    def _train(self) -> None:
        """Run the training in the calling thread and record how it ended; never raises."""
        with self._lock:
            self._state = RUNNING
            self._started = time.monotonic()
        lower_thread_priority(TRAINING_NICENESS)
        try:
            model = train_model(self.dataset, self.model_config, self.train_config, self._on_epoch, self._stop)
        except AelabError as error:  # TrainingDiverged and friends: their message is written for the user
            self._finish(FAILED, error=str(error))
        except ValueError as error:  # a config that fails validation
            self._finish(FAILED, error=str(error))
        except Exception as error:  # a worker thread must never die silently: the page has to see it
            log.exception("training job failed")
            self._finish(FAILED, error=f"training failed unexpectedly: {type(error).__name__}: {error}")
        else:
            self._keep_model(model)
            self._finish(STOPPED if model.history.stopped else DONE, model=model)
        finally:
            release_free_memory()

    def _keep_model(self, model: TrainedModel) -> None:
        """Hand the model to the keep callback (before the job reads as finished), unless no epoch finished."""
        if self._keep is None or model.history.epochs == 0:
            return
        try:
            saved = self._keep(model)
        except AelabError as error:  # quota or a full disk: the model stays downloadable from the page
            with self._lock:
                self._save_error = str(error)
        except Exception as error:
            log.exception("keeping a trained model failed")
            with self._lock:
                self._save_error = f"the model could not be saved: {type(error).__name__}: {error}"
        else:
            with self._lock:
                self._saved = saved


# How much nicer than the server's other threads a training thread runs. On a 2-core machine one training
# takes a whole core; at equal priority the page reruns of every other session (a click, a slider) queue
# behind it and took ~4x longer in bench/classroom.py. At nice +10 the scheduler serves them first and the
# training still gets every cycle nobody else wants.
TRAINING_NICENESS = 10


def lower_thread_priority(niceness: int) -> bool:
    """Raise the calling thread's nice value by ``niceness`` (Linux: nice is per thread). True if it changed.

    Only the calling thread changes, not the server process; torch's extra intra-op threads (when more than
    one is configured) keep their priority. Elsewhere, or when the OS refuses, nothing happens.
    """
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))
    except (AttributeError, OSError):  # no per-thread nice here (macOS, Windows)
        return False
    return True


def release_free_memory() -> bool:
    """Hand the allocator's free memory back to the OS (glibc's ``malloc_trim``); True if some went back.

    A training allocates and frees hundreds of MB of tensors in its own thread, whose malloc arena keeps the
    freed pages: a server's RSS stayed that much higher after a class had left (BENCHMARKS.md, issue 18).
    Elsewhere (macOS, musl, Windows) nothing happens.
    """
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def replay_subset(n: int, seed: int = 0) -> np.ndarray:
    """The indexes of the test codes a job keeps every epoch for a replay: all of them up to REPLAY_POINTS,
    else a fixed random subset (the same points in every frame)."""
    if n <= REPLAY_POINTS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, REPLAY_POINTS, replace=False))


def default_torch_threads(max_workers: int, cores: int | None = None) -> int:
    """Intra-op threads that let ``max_workers`` trainings share the machine's cores: cores // workers."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, max_workers))


class TrainingPool:
    """At most ``max_workers`` trainings at once; the rest wait in a first-come, first-served queue.

    Jobs are filed under a session key (an unguessable token the caller keeps per user session): only
    :meth:`job` with the same key returns it, so one session never sees another's runs. A session has at
    most one live job: submitting again stops the previous one. Finished jobs are forgotten after
    ``keep_finished_s`` seconds (their models live on in the session that collected them).
    """

    def __init__(self, max_workers: int = 2, torch_threads: int | None = None, keep_finished_s: float = 3600.0) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1; got {max_workers}")
        self.max_workers = max_workers
        self.keep_finished_s = keep_finished_s
        # torch.set_num_threads is process-global (ATen keeps one intra-op thread count for every thread
        # of the process; setting it in a worker changes it for all), so it cannot be set per job. Instead
        # the pool bounds concurrency and sizes the shared count once so that max_workers trainings
        # together use about the machine's cores: cores // max_workers each. It is only ever lowered,
        # never raised, so a host (or test suite) that chose fewer threads keeps its choice.
        threads = torch_threads or default_torch_threads(max_workers)
        if threads < torch.get_num_threads():
            torch.set_num_threads(threads)
        self._lock = threading.Condition()
        self._running = 0
        self._waiting: list[TrainingJob] = []
        self._jobs: dict[str, TrainingJob] = {}

    def submit(
        self,
        session_key: str,
        dataset: Dataset,
        model_config: ModelConfig,
        train_config: TrainConfig,
        keep: Callable[[TrainedModel], object] | None = None,
    ) -> TrainingJob:
        """File a new job for ``session_key`` and start it as soon as a worker is free; returns at once.

        ``keep(model)``, when given, runs in the worker thread once the model is trained (not for a run
        stopped before its first epoch); what it returns becomes the snapshot's ``saved``, and an
        AelabError it raises becomes ``save_error``.
        """
        job = TrainingJob(dataset, model_config, train_config)
        job._keep = keep
        job._wake = self._notify
        job._queue_position = self.queue_position
        with self._lock:
            self._forget_old()
            previous = self._jobs.get(session_key)
            self._jobs[session_key] = job
            self._waiting.append(job)
        if previous is not None:
            previous.stop()
        threading.Thread(target=self._run, args=(job,), name=f"aelab-train-{id(job):x}", daemon=True).start()
        return job

    def job(self, session_key: str) -> TrainingJob | None:
        """The latest job of this session (running, queued or finished), or None."""
        with self._lock:
            return self._jobs.get(session_key)

    def forget(self, session_key: str) -> None:
        """Stop this session's job, if any, and drop it."""
        with self._lock:
            job = self._jobs.pop(session_key, None)
        if job is not None:
            job.stop()

    def queue_position(self, job: TrainingJob) -> int | None:
        """1-based place of a queued job (1 starts next), or None when it is not waiting."""
        with self._lock:
            return self._waiting.index(job) + 1 if job in self._waiting else None

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    # --- internals ------------------------------------------------------------------------------------------

    def _notify(self) -> None:
        with self._lock:
            self._lock.notify_all()

    def _run(self, job: TrainingJob) -> None:
        """Body of a job's daemon thread: wait for its turn (or a stop), train, free the slot."""
        with self._lock:
            while not job.stop_requested and (self._running >= self.max_workers or self._waiting[0] is not job):
                self._lock.wait()
            self._waiting.remove(job)
            if job.stop_requested:
                self._lock.notify_all()  # the job behind this one may now be first
                job._finish(STOPPED)
                job._done.set()
                return
            self._running += 1
        try:
            job._train()
        finally:
            with self._lock:
                self._running -= 1
                self._lock.notify_all()
            job._done.set()  # only now: whoever waits on the job finds its slot already free

    def _forget_old(self) -> None:
        """Drop sessions whose job finished more than keep_finished_s ago (caller holds the lock)."""
        now = time.monotonic()
        for key in [
            k
            for k, job in self._jobs.items()
            if job.finished_at is not None and now - job.finished_at > self.keep_finished_s
        ]:
            del self._jobs[key]
