"""Training: ``fit(model, dataset, config, on_epoch=...)``.

Seeded and reproducible on the CPU (same seed, same weights), on CUDA when present; whole-tensor batches
from shuffled indices (no per-sample Python); progress leaves through a callback so the CLI draws a tqdm
bar and the app a Streamlit progress bar from the same loop; a stop flag ends training after the current
batch; a NaN or infinite loss stops training, restores the last good weights and raises TrainingDiverged.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from aelab.data import Dataset
from aelab.errors import TrainingDiverged
from aelab.latent import encode_images
from aelab.models import Augment, Autoencoder

# A test loss this many times the untrained model's counts as divergence even while it is still finite.
EXPLODE_FACTOR = 1000.0


@dataclass
class TrainConfig:
    """How to train. ``device``: "auto" (CUDA when present), "cpu" or "cuda"."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"  # "cosine": the learning rate anneals to 0 over the epochs; "constant"
    shift: float = 0.0  # augmentation: training images move by up to this many pixels each way (0: off)
    seed: int = 0
    device: str = "auto"

    def validate(self) -> None:
        if not 1 <= self.epochs <= 10_000:
            raise ValueError(f"epochs must be between 1 and 10000; got {self.epochs}")
        if not 1 <= self.batch_size <= 65_536:
            raise ValueError(f"batch size must be between 1 and 65536; got {self.batch_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be a positive number; got {self.lr}")
        if not (math.isfinite(self.weight_decay) and 0 <= self.weight_decay <= 1):
            raise ValueError(f"weight decay must be in [0, 1]; got {self.weight_decay}")
        if not (math.isfinite(self.shift) and 0 <= self.shift <= 8):
            raise ValueError(f"shift must be between 0 and 8 pixels; got {self.shift}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be cosine or constant; got {self.schedule!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda; got {self.device!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EpochReport:
    """What the callback gets after each epoch. ``train``/``test``: loss terms averaged over samples."""

    epoch: int  # 1-based
    epochs: int
    train: dict[str, float]
    test: dict[str, float]
    elapsed: float  # seconds since fit started
    test_codes: Callable[[], np.ndarray]  # (N_test, d), computed only when called

    @property
    def seconds_left(self) -> float:
        return self.elapsed / self.epoch * (self.epochs - self.epoch)


@dataclass
class History:
    """Loss terms per finished epoch, and how the run ended."""

    train: list[dict[str, float]] = field(default_factory=list)
    test: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False
    device: str = "cpu"

    @property
    def epochs(self) -> int:
        return len(self.train)


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``: "auto" is CUDA when this PyTorch sees a GPU, else the CPU.

    Raises ValueError, in the user's words, for "cuda" where there is none (torch's own error is an
    AssertionError deep in ``model.to``)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        build = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise ValueError(
            f"device cuda was asked for, but this PyTorch ({torch.__version__}, {build}) sees no CUDA GPU; "
            "use --device auto or cpu"
        )
    return torch.device(name)


def load_optimiser_modules() -> None:
    """Import now what torch's first optimiser imports lazily (``torch._dynamo``: ~2 s of Python on 2 cores).

    That import holds the GIL: on a server, the first training job paid it while every other session's clicks
    waited (BENCHMARKS.md, classroom). The app calls this once per process at start-up instead.
    """
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


@torch.no_grad()
def evaluate(
    model: Autoencoder,
    images: torch.Tensor,
    batch_size: int = 1024,
    generator: torch.Generator | None = None,
    labels: torch.Tensor | None = None,
) -> dict[str, float]:
    """Loss terms of ``model.loss`` in eval mode, averaged over all of ``images`` (B, C, H, W) (and their
    ``labels`` (B,), which a conditional model is told)."""
    was_training = model.training
    model.eval()
    totals: dict[str, torch.Tensor] = {}
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        told = None if labels is None else labels[start : start + batch_size]
        for name, value in model.loss(batch, generator, told).items():
            totals[name] = totals.get(name, 0) + value.detach() * len(batch)
    model.train(was_training)
    return {name: float(total) / len(images) for name, total in totals.items()}


def random_shift(images: torch.Tensor, pixels: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image (B, C, H, W) translated by its own random offset of up to ``pixels`` along each axis.

    One batched ``grid_sample`` (bilinear, zeros outside): a little translation is the cheapest way to
    make a 2-D autoencoder generalise from a few thousand images.
    """
    n, _, h, w = images.shape
    offsets = (torch.rand(n, 2, generator=generator, device=images.device) * 2 - 1) * pixels
    theta = torch.zeros(n, 2, 3, device=images.device, dtype=images.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = offsets[:, 0] * 2 / w  # affine_grid works in [-1, 1] units
    theta[:, 1, 2] = offsets[:, 1] * 2 / h
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


PREPARE_POLL_S = 0.05


def _prepare(model: Autoencoder, train_x: torch.Tensor, augment: Augment | None, stop: threading.Event | None) -> bool:
    """Run ``model.prepare`` so that a stop is honoured during it; False when stopped before it ended.

    A preparation can take seconds in code that never looks at a flag (the UMAP-structured model's
    neighbour graph, in numba), so with a stop flag it runs in a thread of its own that the caller
    abandons on a stop: the thread finishes in the background and drops what it built.
    """
    if stop is None:
        model.prepare(train_x, augment)
        return True
    outcome: dict[str, BaseException | None] = {}
    abandoned = threading.Event()

    def work() -> None:
        try:
            model.prepare(train_x, augment)
            outcome["error"] = None
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error
        if abandoned.is_set():
            model.release()

    worker = threading.Thread(target=work, name="aelab-prepare", daemon=True)
    worker.start()
    while worker.is_alive():
        if stop.is_set():
            abandoned.set()
            return False
        worker.join(PREPARE_POLL_S)
    if outcome.get("error") is not None:
        raise outcome["error"]  # type: ignore[misc]
    return True


class _Diverged(Exception):
    """An epoch's loss went bad; ``what`` says how. :func:`fit` restores the weights and raises TrainingDiverged."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def fit(
    model: Autoencoder,
    dataset: Dataset,
    config: TrainConfig,
    on_epoch: Callable[[EpochReport], None] | None = None,
    stop: threading.Event | None = None,
) -> History:
    """Train ``model`` in place on ``dataset``'s training split; evaluate on its test split each epoch.

    Returns the History. If ``stop`` is set, training ends after the current batch (the epoch is then
    not reported) and ``History.stopped`` is True. On a NaN or infinite loss the weights of the last
    finished epoch (or the initial ones) are restored and TrainingDiverged is raised, carrying the history.
    """
    config.validate()
    device = resolve_device(config.device)
    model.to(device)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    train_x = torch.from_numpy(np.array(dataset.train_images)).to(device)
    test_x = torch.from_numpy(np.array(dataset.test_images)).to(device)
    train_y = torch.from_numpy(np.array(dataset.train_labels, dtype=np.int64)).to(device)
    test_y = torch.from_numpy(np.array(dataset.test_labels, dtype=np.int64)).to(device)
    augment = _augmentation(config)
    history = History(device=str(device))
    if not _prepare(model, train_x, augment, stop):
        history.stopped = True
    else:
        try:
            _train(model, (train_x, train_y), (test_x, test_y), config, augment, generator, history, on_epoch, stop)
        finally:
            model.release()
    model.eval()
    model.to("cpu")  # trained on a GPU or not, the model comes back where the app, the store and checkpoints use it
    return history


def _augmentation(config: TrainConfig) -> Augment | None:
    """The augmentation of training batches (and of the images a kind's preparation draws); None when off."""
    if config.shift <= 0:
        return None
    return lambda images, generator: random_shift(images, config.shift, generator)


def _train(
    model: Autoencoder,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    config: TrainConfig,
    augment: Augment | None,
    generator: torch.Generator,
    history: History,
    on_epoch: Callable[[EpochReport], None] | None,
    stop: threading.Event | None,
) -> None:
    """The epochs of :func:`fit`, filling ``history``; the one place that restores weights after a divergence.

    ``train`` and ``test``: (images, labels) of each split.
    """
    (train_x, _), (test_x, test_y) = train, test
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = _scheduler(optimiser, config, math.ceil(len(train_x) / config.batch_size))
    shuffle_generator = torch.Generator().manual_seed(config.seed)
    last_good = copy.deepcopy(model.state_dict())
    initial_loss = evaluate(model, test_x, generator=generator, labels=test_y)["loss"]
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(len(train_x), generator=shuffle_generator).to(train_x.device)
        try:
            train_terms = _train_epoch(model, train, order, config, augment, optimiser, scheduler, generator, stop)
            if train_terms is None:
                history.stopped = True
                break
            test_terms = evaluate(model, test_x, generator=generator, labels=test_y)
            _check_epoch(train_terms, test_terms, initial_loss)
        except _Diverged as diverged:
            model.load_state_dict(last_good)
            model.eval()
            history.seconds = time.perf_counter() - start
            restored = f"the end of epoch {epoch - 1}" if epoch > 1 else "their initial values"
            raise TrainingDiverged(
                f"training diverged: {diverged.what} in epoch {epoch}; the weights were restored to {restored}. "
                f"Try a smaller learning rate (it was {config.lr:g}).",
                history,
            ) from None
        last_good = copy.deepcopy(model.state_dict())
        history.train.append(train_terms)
        history.test.append(test_terms)
        history.seconds = time.perf_counter() - start
        if on_epoch is not None:
            codes = partial(encode_images, model, test_x, test_y)  # computed only when the callback asks
            on_epoch(EpochReport(epoch, config.epochs, train_terms, test_terms, history.seconds, codes))
    history.seconds = time.perf_counter() - start


def _scheduler(
    optimiser: torch.optim.Optimizer, config: TrainConfig, batches_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Cosine annealing to 0 over every batch of the run, or None for a constant learning rate."""
    if config.schedule != "cosine":
        return None
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs * batches_per_epoch)


def _train_epoch(
    model: Autoencoder,
    train: tuple[torch.Tensor, torch.Tensor],
    order: torch.Tensor,
    config: TrainConfig,
    augment: Augment | None,
    optimiser: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    generator: torch.Generator,
    stop: threading.Event | None,
) -> dict[str, float] | None:
    """One pass over the training images (N, C, H, W) and labels (N,) in ``order``: loss terms averaged over samples.

    Returns None when ``stop`` was set (after the current batch); raises _Diverged, before the step, on a
    loss that is not finite.
    """
    model.train()
    train_x, train_y = train
    sums: dict[str, torch.Tensor] = {}
    for first in range(0, len(train_x), config.batch_size):
        index = order[first : first + config.batch_size]
        batch = train_x[index]
        if augment is not None:
            batch = augment(batch, generator)
        terms = model.loss(batch, generator, train_y[index])
        loss = terms["loss"]
        if not torch.isfinite(loss):
            raise _Diverged(f"the loss became {float(loss.detach())}")
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if scheduler is not None:
            scheduler.step()
        for name, value in terms.items():
            sums[name] = sums.get(name, 0) + value.detach() * len(batch)
        if stop is not None and stop.is_set():
            return None
    return {name: float(total) / len(train_x) for name, total in sums.items()}


def _check_epoch(train_terms: dict[str, float], test_terms: dict[str, float], initial_loss: float) -> None:
    """Raise _Diverged when an epoch's losses are not finite, or the test loss exploded past EXPLODE_FACTOR."""
    if test_terms["loss"] > EXPLODE_FACTOR * max(initial_loss, 1e-8):
        raise _Diverged(f"the test loss grew to {test_terms['loss']:.3g}, over {EXPLODE_FACTOR:g}× its starting value,")
    if not all(math.isfinite(v) for v in (*train_terms.values(), *test_terms.values())):
        raise _Diverged("the test loss became non-finite")
