"""Shared fixtures: tiny generated datasets and quickly trained models, so the suite runs in seconds."""

from __future__ import annotations

import pytest
import torch
from synthetic import tiny_dataset

from aelab.data import Dataset
from aelab.models import ModelConfig
from aelab.recipes import TrainedModel, train_model
from aelab.train import TrainConfig

torch.set_num_threads(1)  # tiny models: threads cost more than they give, and xdist runs workers in parallel


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test its own workspace store: nothing a test saves lands in the user's real data directory."""
    monkeypatch.setenv("AELAB_DATA_DIR", str(tmp_path_factory.mktemp("aelab-data")))


@pytest.fixture(scope="session")
def tiny() -> Dataset:
    """240 8×8 grey images in 4 classes, split 192/48."""
    return tiny_dataset()


@pytest.fixture(scope="session")
def tiny28() -> Dataset:
    """120 28×28 grey images in 4 classes (for shape tests of the MNIST-sized path)."""
    return tiny_dataset(side=28, n=120)


@pytest.fixture(scope="session")
def trained_ae(tiny: Dataset) -> TrainedModel:
    """An MLP autoencoder trained for a few epochs on ``tiny``."""
    config = ModelConfig(kind="ae", hidden=(32, 16))
    return train_model(tiny, config, TrainConfig(epochs=40, batch_size=32, lr=5e-3))


@pytest.fixture(scope="session")
def trained_cvae(tiny: Dataset) -> TrainedModel:
    """A conditional VAE (told the label) trained for a few epochs on ``tiny``'s 4 classes."""
    config = ModelConfig(kind="cvae", hidden=(32, 16))
    return train_model(tiny, config, TrainConfig(epochs=40, batch_size=32, lr=5e-3))
