"""The UMAP-structured autoencoder: its structure term, honest encoding of new data, round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aelab.baselines import knn_accuracy
from aelab.checkpoint import load_checkpoint
from aelab.latent import encode_images
from aelab.models import ModelConfig, UMAPAutoencoder, build_model
from aelab.recipes import train_model
from aelab.train import TrainConfig

SMALL = dict(hidden=(32, 16), n_neighbors=10)


@pytest.fixture(scope="module")
def trained(tiny):
    config = ModelConfig(kind="umap-ae", umap_weight=0.05, **SMALL)
    return train_model(tiny, config, TrainConfig(epochs=30, batch_size=32, lr=3e-3))


def test_the_structure_term_decreases_on_a_clustered_set(tiny) -> None:
    model = build_model(ModelConfig(kind="umap-ae", image_shape=tiny.image_shape, umap_weight=1.0, **SMALL))
    model.prepare(torch.from_numpy(np.array(tiny.train_images)))
    generator = torch.Generator().manual_seed(0)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    with torch.no_grad():
        before = np.mean([float(model.structure_loss(generator)) for _ in range(10)])
    for _ in range(150):
        loss = model.structure_loss(generator)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        after = np.mean([float(model.structure_loss(generator)) for _ in range(10)])
    assert after < 0.7 * before


def test_training_reports_the_structure_term_and_separates_classes(trained, tiny) -> None:
    assert "umap" in trained.history.train[-1]
    codes_train = encode_images(trained.model, tiny.train_images)
    codes_test = encode_images(trained.model, tiny.test_images)
    assert knn_accuracy(codes_train, tiny.train_labels, codes_test, tiny.test_labels) > 0.9
    assert trained.metrics.test_mse < 0.05


def test_encoding_new_data_refits_nothing(trained, tiny, monkeypatch) -> None:
    import umap.umap_

    def refuse(*args, **kwargs):
        raise AssertionError("encoding must not build a UMAP graph")

    monkeypatch.setattr(umap.umap_, "fuzzy_simplicial_set", refuse)
    assert not hasattr(trained.model, "_heads")  # the training graph was released after fit
    fresh = np.random.default_rng(5).uniform(0, 1, size=(7, 1, 8, 8)).astype(np.float32)
    first = encode_images(trained.model, fresh)
    assert np.array_equal(first, encode_images(trained.model, fresh))
    # each image is encoded on its own: the batch it comes in does not change its code
    assert np.allclose(first[:3], encode_images(trained.model, fresh[:3]), atol=1e-5)


def test_checkpoint_round_trip_gives_identical_codes(trained, tiny) -> None:
    loaded = load_checkpoint(trained.checkpoint.to_bytes())
    assert loaded.kind == "umap-ae" and loaded.model.config.umap_weight == 0.05
    assert np.array_equal(encode_images(loaded.model, tiny.images), encode_images(trained.model, tiny.images))


def test_prepare_starts_the_encoder_from_the_graphs_spectral_layout(tiny) -> None:
    from umap.spectral import spectral_layout
    from umap.umap_ import fuzzy_simplicial_set

    config = ModelConfig(kind="umap-ae", image_shape=tiny.image_shape, **SMALL)
    flat = np.array(tiny.train_images).reshape(len(tiny.train_images), -1)
    graph, _, _ = fuzzy_simplicial_set(flat, config.n_neighbors, np.random.RandomState(config.seed), "euclidean")
    layout = spectral_layout(flat, graph.tocsr(), 2, np.random.RandomState(config.seed))

    def agreement(warm_start_steps: int) -> tuple[float, float]:
        """(smallest |correlation| of a code axis with the same layout axis, largest |coordinate|)."""
        model = build_model(config)
        model.warm_start_steps = warm_start_steps
        model.prepare(torch.from_numpy(np.array(tiny.train_images)))
        codes = encode_images(model, tiny.train_images)
        correlation = min(abs(np.corrcoef(codes[:, i], layout[:, i])[0, 1]) for i in range(2))
        return correlation, float(np.abs(codes).max())

    # Before any training step, the codes already follow UMAP's initial layout, scaled as UMAP scales it
    # (largest coordinate 10; 500 steps get most of the way); from random weights they do not.
    warm_correlation, warm_spread = agreement(UMAPAutoencoder.warm_start_steps)
    cold_correlation, _ = agreement(0)
    assert warm_correlation > 0.9
    assert cold_correlation < warm_correlation - 0.1
    assert 4 < warm_spread < 13
