from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from aelab.baselines import (
    Embedding,
    evaluate_embedding,
    evaluate_model,
    fit_pca,
    fit_umap,
    knn_accuracy,
    reconstruction_mse,
)
from aelab.latent import Projection


def test_reconstruction_mse_is_the_mean_per_pixel() -> None:
    a = np.zeros((2, 1, 2, 2))
    b = np.full((2, 1, 2, 2), 0.5)
    assert reconstruction_mse(a, b) == pytest.approx(0.25)


def test_knn_accuracy_on_separable_and_shuffled_labels() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 50)
    codes = rng.normal(size=(100, 2)) + labels[:, None] * 20
    assert knn_accuracy(codes[::2], labels[::2], codes[1::2], labels[1::2]) == 1.0
    assert knn_accuracy(codes[::2], rng.permutation(labels[::2]), codes[1::2], labels[1::2]) < 0.8


def test_pca_embedding_and_inverse(tiny) -> None:
    pca = fit_pca(tiny, 2)
    codes = pca.transform(tiny.test_images)
    assert codes.shape == (len(tiny.test_idx), 2)
    back = pca.inverse_transform(codes)
    assert back.shape == tiny.test_images.shape and back.min() >= 0 and back.max() <= 1
    full = fit_pca(tiny, 40)
    assert evaluate_embedding(full, tiny).test_mse < evaluate_embedding(pca, tiny).test_mse


def test_embeddings_share_the_plane_maps_projection_shape(tiny) -> None:
    embedding = Embedding("PCA(3)", PCA(n_components=3, random_state=0))
    assert isinstance(embedding, Projection)
    assert embedding.fit(tiny.train_images) is embedding and embedding.fit_seconds_ >= 0
    codes = embedding.transform(tiny.test_images)
    assert codes.shape == (len(tiny.test_idx), 3) and codes.dtype == np.float32
    images = embedding.inverse_transform(codes[:5])
    assert images.shape == (5, *tiny.image_shape) and images.dtype == np.float32
    # The same fit through fit_pca gives the same codes: one way to fit, whoever calls it.
    np.testing.assert_allclose(fit_pca(tiny, 3).transform(tiny.test_images), codes, atol=1e-5)


def test_pca_separates_the_four_blob_classes(tiny) -> None:
    metrics = evaluate_embedding(fit_pca(tiny), tiny)
    assert metrics.knn_accuracy > 0.9 and metrics.method == "PCA(2)" and metrics.fit_seconds >= 0


def test_model_metrics_are_measured_on_the_test_split(trained_ae, tiny) -> None:
    metrics = evaluate_model(trained_ae.model, tiny)
    assert 0 < metrics.test_mse < 0.05
    assert 0 <= metrics.knn_accuracy <= 1
    assert metrics.test_mse == pytest.approx(trained_ae.metrics.test_mse)


@pytest.mark.slow
def test_umap_embeds_and_inverts(tiny) -> None:
    embedding = fit_umap(tiny, n_neighbors=10)
    metrics = evaluate_embedding(embedding, tiny, reconstruct_limit=8)
    assert metrics.knn_accuracy > 0.9
    assert 0 < metrics.test_mse < 0.2
    assert embedding.inverse_transform(np.zeros((3, 2), np.float32)).shape == (3, 1, 8, 8)
