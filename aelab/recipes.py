"""Train, evaluate, package: the one workflow the CLI, ``aelab pretrain`` and the app's Train page share.

:func:`train_model` builds a model for a dataset, fits it, measures it (test MSE, 5-NN accuracy of its
codes) and returns everything a checkpoint header needs. :data:`PRETRAINED` lists the recipes behind the
shipped checkpoints in ``pretrained/``; ``aelab pretrain`` replays them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from aelab.baselines import Metrics, evaluate_model, mean_image_mse
from aelab.checkpoint import Checkpoint, load_checkpoint
from aelab.data import Dataset
from aelab.errors import BadCheckpoint
from aelab.latent import encode_images, plane_bounds
from aelab.models import Autoencoder, ModelConfig, build_model, model_class
from aelab.train import EpochReport, History, TrainConfig, fit

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# A checkout keeps the shipped checkpoints in the top-level pretrained/; the wheel maps that folder into the
# package as aelab/pretrained (pyproject.toml's package-dir), so an installed aelab finds them there.
SOURCE_PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"


def shipped_files() -> Traversable:
    """The shipped checkpoints and their SHA256SUMS: package data when installed, else the checkout's folder."""
    packaged = resources.files("aelab") / "pretrained"
    return packaged if packaged.is_dir() else SOURCE_PRETRAINED_DIR


# The same folder as a path, for code that lists files (an installed wheel is unpacked on disk).
PRETRAINED_DIR = Path(str(shipped_files()))
# A model whose test MSE is at least this share of the average image's has learned nothing worth keeping.
LEARNED_FRACTION = 0.95
NOT_LEARNED = (
    "the model learned nothing: its reconstructions are no better than the average image "
    "(test MSE {mse:.4f}, average image {mean:.4f}). The learning rate ({lr:g}) is probably too high, or the "
    "run too short."
)


@dataclass
class TrainedModel:
    """A fitted model with what its checkpoint records."""

    model: Autoencoder
    dataset: str
    label_names: tuple[str, ...]
    history: History
    train_config: TrainConfig
    metrics: Metrics
    latent_bounds: np.ndarray  # (d, 2)
    mean_image_mse: float = float("nan")  # test MSE of the average training image, for comparison

    @property
    def learned(self) -> bool:
        """False when the model reconstructs no better than the average image: it learned nothing."""
        return not self.metrics.test_mse >= LEARNED_FRACTION * self.mean_image_mse

    @cached_property
    def checkpoint(self) -> Checkpoint:
        """The model as a checkpoint (save it with ``.save(path)``, or ``.to_bytes()`` for a download).

        Made once (hashing the weights): a trained model is not trained further, and the Train page asks
        for it up to three times per run (the workspace, the session's list, the download)."""
        return Checkpoint.of(
            self.model,
            dataset=self.dataset,
            label_names=self.label_names,
            latent_bounds=self.latent_bounds,
            training={
                "epochs": self.history.epochs,
                "stopped_early": self.history.stopped,
                "seconds": round(self.history.seconds, 2),
                "device": self.history.device,
                "config": self.train_config.to_dict(),
                "final_train_loss": self.history.train[-1] if self.history.train else {},
                "final_test_loss": self.history.test[-1] if self.history.test else {},
            },
            metrics={"test_mse": self.metrics.test_mse, "knn_accuracy": self.metrics.knn_accuracy},
        )


def train_model(
    dataset: Dataset,
    model_config: ModelConfig,
    train_config: TrainConfig,
    on_epoch: Callable[[EpochReport], None] | None = None,
    stop: threading.Event | None = None,
) -> TrainedModel:
    """Build a model for ``dataset``'s image shape, fit it, and measure it on the test split.

    ``model_config.image_shape`` (and a conditional kind's ``classes``) is taken from the dataset. Raises TrainingDiverged (weights restored) if
    the loss becomes NaN; a stopped run still returns a usable, measured model.
    """
    classes = dataset.n_classes if model_class(model_config.kind).conditional else model_config.classes
    config = replace(model_config, image_shape=dataset.image_shape, classes=classes)
    model = build_model(config)
    history = fit(model, dataset, train_config, on_epoch=on_epoch, stop=stop)
    metrics = evaluate_model(model, dataset, fit_seconds=history.seconds)
    bounds = plane_bounds(encode_images(model, dataset.train_images, dataset.train_labels))
    return TrainedModel(
        model, dataset.name, dataset.label_names, history, train_config, metrics, bounds, mean_image_mse(dataset)
    )


@dataclass(frozen=True)
class Recipe:
    """How one shipped checkpoint is made: ``pretrained/<name>.safetensors``."""

    dataset: str
    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def name(self) -> str:
        return f"{self.dataset}-{self.model.kind}"

    @property
    def path(self) -> Path:
        return PRETRAINED_DIR / f"{self.name}.safetensors"


# The layer widths, written once: small images such as digits' 8×8, and MNIST-sized ones. The recipes below
# and model_config_for (the Train page, the CLI) both take them from here.
_DIGITS: dict[str, Any] = dict(hidden=(128, 64), channels=(16, 32))
_MNIST: dict[str, Any] = dict(hidden=(512, 256), channels=(32, 64))
# Pixel count up to which a dataset counts as "small" (digits' 8×8) and gets the narrower layers.
SMALL_IMAGE_PIXELS = 16 * 16
# Training defaults that give a clear plane in seconds on a CPU, for small and MNIST-sized images.
_SMALL_TRAINING = TrainConfig(epochs=60, lr=3e-3, batch_size=32)
_LARGE_TRAINING = TrainConfig(epochs=15, lr=1e-3, batch_size=128)


def is_small(dataset: Dataset) -> bool:
    return dataset.image_shape[1] * dataset.image_shape[2] <= SMALL_IMAGE_PIXELS


def model_config_for(dataset: Dataset, kind: str, **chosen: Any) -> ModelConfig:
    """A model config for training ``kind`` on ``dataset``: the layer widths of the shipped recipes for the
    dataset's image size, the dataset's number of classes for a conditional kind, and whatever the user chose
    (``latent_dim``, ``seed``, the kind's settings...) in ``chosen``; everything not chosen keeps ModelConfig's
    default."""
    layers = _DIGITS if is_small(dataset) else _MNIST
    told = {"classes": dataset.n_classes} if model_class(kind).conditional else {}  # the labels it is told
    return ModelConfig(**{"kind": kind, "image_shape": dataset.image_shape, **layers, **told, **chosen})


def train_config_for(dataset: Dataset, **chosen: Any) -> TrainConfig:
    """The training defaults for ``dataset``'s image size, with what the user chose in ``chosen``."""
    return replace(_SMALL_TRAINING if is_small(dataset) else _LARGE_TRAINING, **chosen)


# Settings chosen by measurement (BENCHMARKS.md): small random shifts of the training images are what lets
# a 2-D autoencoder generalise from 4,000 digits; the wider "ae" is the one that reaches test MSE ≤ 0.040.
# The UMAP-structured models weigh the structure term 10× (its value is ~0.9, the MSE's ~0.04).
PRETRAINED: tuple[Recipe, ...] = (
    Recipe("mnist5k", ModelConfig(kind="vae", beta=1.0, **_MNIST), TrainConfig(epochs=100, shift=1.0)),
    Recipe("mnist5k", ModelConfig(kind="ae", hidden=(768, 384, 192)), TrainConfig(epochs=150, shift=1.5)),
    Recipe("mnist5k", ModelConfig(kind="conv", hidden=(256,), channels=(32, 64)), TrainConfig(epochs=100, shift=1.5)),
    Recipe("mnist5k", ModelConfig(kind="dae", noise=0.3, **_MNIST), TrainConfig(epochs=100, shift=1.0)),
    Recipe(
        "mnist5k",
        ModelConfig(kind="umap-ae", hidden=(768, 384, 192), umap_weight=10.0),
        TrainConfig(epochs=150, shift=1.5),
    ),
    # Told the label, the code holds the style: no shifts, so that the test MSE reaches 0.035 (BENCHMARKS.md, issue 17).
    Recipe("mnist5k", ModelConfig(kind="cvae", **_MNIST), TrainConfig(epochs=100)),
    Recipe("digits", ModelConfig(kind="ae", **_DIGITS), TrainConfig(epochs=200, batch_size=64)),
    Recipe("digits", ModelConfig(kind="vae", **_DIGITS), TrainConfig(epochs=200, batch_size=64)),
    Recipe("digits", ModelConfig(kind="umap-ae", umap_weight=10.0, **_DIGITS), TrainConfig(epochs=200, batch_size=64)),
    Recipe("digits", ModelConfig(kind="cvae", **_DIGITS), TrainConfig(epochs=200, batch_size=64)),
)


def pretrained_paths(directory: Path = PRETRAINED_DIR) -> list[Path]:
    """Shipped checkpoints present on disk, in recipe order (the default model first)."""
    return [directory / recipe.path.name for recipe in PRETRAINED if (directory / recipe.path.name).is_file()]


MANIFEST = "SHA256SUMS"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(directory: Path = PRETRAINED_DIR) -> Path:
    """Record the SHA-256 of every shipped checkpoint in ``directory/SHA256SUMS`` (sha256sum's format)."""
    lines = [f"{file_sha256(path)}  {path.name}\n" for path in pretrained_paths(directory)]
    manifest = directory / MANIFEST
    manifest.write_text("".join(lines))
    return manifest


def shipped_names() -> list[str]:
    """Names of the shipped checkpoints (e.g. "mnist5k-vae"), in recipe order: the default model first."""
    return [recipe.name for recipe in PRETRAINED]


def load_pretrained(name: str, directory: Traversable | None = None) -> Checkpoint:
    """The shipped checkpoint ``name`` (e.g. "mnist5k-vae"), verified against SHA256SUMS before it is read.

    ``directory`` defaults to :func:`shipped_files` (read through importlib.resources when installed).
    Shipped files are the one thing aelab trusts; the manifest makes sure what is on disk is what was
    shipped (not damaged, not swapped). Raises BadCheckpoint otherwise.
    """
    directory = shipped_files() if directory is None else directory
    filename = f"{name}.safetensors"
    path = directory / filename
    manifest = directory / MANIFEST
    expected = {}
    if manifest.is_file():
        for line in manifest.read_text().splitlines():
            digest, _, listed = line.partition("  ")
            expected[listed.strip()] = digest.strip()
    if filename not in expected:
        raise BadCheckpoint(f"{filename} is not listed in {manifest}; rebuild with `aelab pretrain`")
    if not path.is_file():
        raise BadCheckpoint(f"the shipped checkpoint {path} is missing; rebuild with `aelab pretrain`")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected[filename]:
        raise BadCheckpoint(f"{filename} does not match its SHA-256 in {MANIFEST}: the file was changed or damaged")
    return load_checkpoint(data)
