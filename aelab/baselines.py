"""Baselines that embed the same data in a plane (PCA, UMAP) and the metrics every method is judged by.

Metrics, for any method that maps images to codes and (maybe) back:

- test reconstruction MSE: mean squared error per pixel between the test images and their reconstructions;
- latent kNN accuracy: a 5-nearest-neighbour classifier fitted on the training codes predicts the test
  codes' labels; the share it gets right says how well the plane separates the classes.

PCA and UMAP are used through their scikit-learn-style estimators; :class:`Embedding` wraps one with the
flattening to and from image shape, so every method answers ``fit(images)``, ``transform(images)`` and
``inverse_transform(codes)`` alike: the :class:`aelab.latent.Projection` shape that plane maps share.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

from aelab.data import Dataset
from aelab.latent import analogies, decode_codes, encode_images
from aelab.models import Autoencoder

KNN_K = 5


@dataclass(frozen=True)
class Metrics:
    """How well one method does on a dataset's test split."""

    method: str
    test_mse: float
    knn_accuracy: float
    fit_seconds: float | None = None

    def to_dict(self) -> dict[str, float | str | None]:
        return {
            "method": self.method,
            "test_mse": self.test_mse,
            "knn_accuracy": self.knn_accuracy,
            "fit_seconds": self.fit_seconds,
        }


def reconstruction_mse(images: np.ndarray, reconstructions: np.ndarray) -> float:
    """Mean squared error per pixel between two arrays of the same shape."""
    return float(np.mean((np.asarray(images, np.float64) - np.asarray(reconstructions, np.float64)) ** 2))


def knn_accuracy(
    train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray, test_labels: np.ndarray, k: int = KNN_K
) -> float:
    """Share of test codes whose k nearest training codes vote for their true label."""
    classifier = KNeighborsClassifier(n_neighbors=min(k, len(train_codes))).fit(train_codes, train_labels)
    return float(classifier.score(test_codes, test_labels))


def mean_image_mse(dataset: Dataset) -> float:
    """Test MSE of the laziest reconstruction: the average training image for every test image.

    A model that does no better has learned nothing about the images (a too-high learning rate often ends
    there without the loss ever becoming NaN).
    """
    return reconstruction_mse(dataset.test_images, dataset.train_images.mean(axis=0, keepdims=True))


class Embedding:
    """A scikit-learn-style reducer (PCA, UMAP) over images of one shape: a :class:`aelab.latent.Projection`.

    fit: images (N, C, H, W) flattened, timed into ``fit_seconds_``; transform: images -> codes (N, k);
    inverse_transform: codes (N, k) -> images (N, C, H, W) in [0, 1].
    """

    def __init__(self, name: str, reducer: Any) -> None:
        self.name = name
        self.reducer = reducer

    def fit(self, images: np.ndarray) -> Embedding:
        start = time.perf_counter()
        self.reducer.fit(images.reshape(len(images), -1))
        self.fit_seconds_ = time.perf_counter() - start
        self.image_shape_: tuple[int, ...] = tuple(images.shape[1:])
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self.reducer.transform(images.reshape(len(images), -1)), dtype=np.float32)

    def inverse_transform(self, codes: np.ndarray) -> np.ndarray:
        flat = np.asarray(self.reducer.inverse_transform(np.asarray(codes, dtype=np.float32)), dtype=np.float32)
        return np.clip(flat, 0.0, 1.0).reshape(len(codes), *self.image_shape_)


def fit_pca(dataset: Dataset, n_components: int = 2, seed: int = 0) -> Embedding:
    """PCA fitted on the training split."""
    pca = PCA(n_components=n_components, random_state=seed)
    return Embedding(f"PCA({n_components})", pca).fit(dataset.train_images)


def fit_umap(
    dataset: Dataset, n_components: int = 2, n_neighbors: int = 15, min_dist: float = 0.1, seed: int = 0
) -> Embedding:
    """UMAP (umap-learn) fitted on the training split; slow to import and fit the first time (numba)."""
    import umap  # deferred: importing umap compiles numba code, seconds we only pay when asked

    reducer = umap.UMAP(n_components=n_components, n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed)
    return Embedding("UMAP", reducer).fit(dataset.train_images)


def evaluate_embedding(embedding: Embedding, dataset: Dataset, reconstruct_limit: int | None = None) -> Metrics:
    """Metrics of a fitted PCA/UMAP embedding on the test split.

    UMAP's inverse_transform is slow (tens of ms a point); ``reconstruct_limit`` caps how many test images
    its MSE is measured on (the first ones of the split; None measures all).
    """
    train_codes = embedding.transform(dataset.train_images)
    test_codes = embedding.transform(dataset.test_images)
    accuracy = knn_accuracy(train_codes, dataset.train_labels, test_codes, dataset.test_labels)
    count = len(test_codes) if reconstruct_limit is None else min(reconstruct_limit, len(test_codes))
    mse = reconstruction_mse(dataset.test_images[:count], embedding.inverse_transform(test_codes[:count]))
    return Metrics(embedding.name, mse, accuracy, embedding.fit_seconds_)


def evaluate_model(
    model: Autoencoder, dataset: Dataset, name: str | None = None, fit_seconds: float | None = None
) -> Metrics:
    """Test reconstruction MSE and 5-NN accuracy of the model's codes on the dataset's split.

    A conditional model is told the true labels, for both: its codes then hold what the label does not.
    """
    test_images, test_labels = dataset.test_images, dataset.test_labels
    test_codes = encode_images(model, test_images, test_labels)
    mse = reconstruction_mse(test_images, decode_codes(model, test_codes, test_labels))
    accuracy = knn_accuracy(
        encode_images(model, dataset.train_images, dataset.train_labels), dataset.train_labels, test_codes, test_labels
    )
    return Metrics(name or model.kind, mse, accuracy, fit_seconds)


def style_consistency(model: Autoencoder, dataset: Dataset, n: int = 100, seed: int = 0) -> float:
    """How often a conditional model's analogies are read as the label they were drawn as.

    The codes of the first ``n`` test images (each told its own label) are decoded under every label; a
    logistic regression trained on the dataset's training split reads each image, and the result is the
    share it reads as the label asked for. 1.0: one code keeps its style and the label alone sets the
    class; ``1 / classes``: the label is ignored.
    """
    from sklearn.linear_model import LogisticRegression

    flat = lambda images: np.asarray(images, dtype=np.float32).reshape(len(images), -1)  # noqa: E731
    classifier = LogisticRegression(max_iter=2000, random_state=seed)
    classifier.fit(flat(dataset.train_images), dataset.train_labels)
    count = min(n, len(dataset.test_idx))
    codes = encode_images(model, dataset.test_images[:count], dataset.test_labels[:count])
    rows = analogies(model, codes)  # (count, classes, C, H, W)
    read = classifier.predict(flat(rows.reshape(-1, *rows.shape[2:]))).reshape(count, -1)
    return float((read == np.arange(rows.shape[1])[None]).mean())
