"""Work in the latent plane: encode, bounds, decode points and grids, interpolate, sample, find neighbours.

Arrays in and out are numpy: codes (N, d) float32, images (N, C, H, W) float32 in [0, 1]. Models run in
eval mode under ``torch.no_grad`` on whatever device their parameters are on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from aelab.imaging import tile
from aelab.models import Autoencoder


def _device(model: Autoencoder) -> torch.device:
    return next(model.parameters()).device


Labels: TypeAlias = np.ndarray | torch.Tensor | int | None  # what a conditional model is told (see _labels)


def _labels(labels: Labels, n: int, device: torch.device) -> torch.Tensor | None:
    """Labels for n codes or images as a tensor: an array as it is, one int for all n, None as None.

    Only a conditional model (:attr:`aelab.models.Autoencoder.conditional`) reads them; the others ignore them.
    """
    if labels is None:
        return None
    if isinstance(labels, (int, np.integer)):
        return torch.full((n,), int(labels), dtype=torch.long, device=device)
    if isinstance(labels, torch.Tensor):
        return labels.to(device=device, dtype=torch.long)
    return torch.as_tensor(np.array(labels, dtype=np.int64), device=device)  # a copy: datasets are read-only


@torch.no_grad()
def encode_images(
    model: Autoencoder, images: np.ndarray | torch.Tensor, labels: Labels = None, batch_size: int = 1024
) -> np.ndarray:
    """images (N, C, H, W) -> codes (N, d) float32, in batches (eval mode; the model's mode is restored).

    ``labels`` (N,) (or one int for all): what a conditional model is told; other kinds ignore them.
    """
    was_training = model.training
    model.eval()
    if isinstance(images, torch.Tensor):
        x = images.to(_device(model), torch.float32)
    else:  # a copy: datasets are read-only, and torch warns about tensors over read-only memory
        x = torch.as_tensor(np.array(images, dtype=np.float32)).to(_device(model))
    y = _labels(labels, len(x), x.device)
    codes = [
        model.encode(x[i : i + batch_size], None if y is None else y[i : i + batch_size])
        for i in range(0, len(x), batch_size)
    ]
    model.train(was_training)
    return torch.cat(codes).cpu().numpy()


@torch.no_grad()
def decode_codes(model: Autoencoder, codes: np.ndarray, labels: Labels = None, batch_size: int = 1024) -> np.ndarray:
    """codes (N, d) -> images (N, C, H, W) in [0, 1]; ``labels`` as for :func:`encode_images`."""
    was_training = model.training
    model.eval()
    z = torch.as_tensor(np.asarray(codes, dtype=np.float32)).to(_device(model))
    y = _labels(labels, len(z), z.device)
    images = [
        model.decode(z[i : i + batch_size], None if y is None else y[i : i + batch_size])
        for i in range(0, len(z), batch_size)
    ]
    model.train(was_training)
    return torch.cat(images).cpu().numpy()


def reconstruct(model: Autoencoder, images: np.ndarray, labels: Labels = None) -> np.ndarray:
    """ψ(φ(x)) for images (N, C, H, W) (told ``labels``, for a conditional model)."""
    return decode_codes(model, encode_images(model, images, labels), labels)


def decode_point(model: Autoencoder, z: np.ndarray | list[float], label: int | None = None) -> np.ndarray:
    """One code (d,) -> one image (C, H, W)."""
    return decode_codes(model, np.asarray(z, dtype=np.float32)[None], label)[0]


def point_picture(model: Autoencoder, z: np.ndarray | list[float], label: int | None = None) -> np.ndarray:
    """What one code looks like, (C, H, W): its image, or, for a conditional model not given a ``label``, its
    analogy row (the code under every label, side by side 1 px apart)."""
    if label is not None or not model.conditional:
        return decode_point(model, z, label)
    row = analogies(model, np.asarray(z, dtype=np.float32)[None])[0]
    return tile(row, columns=len(row))


def analogies(model: Autoencoder, codes: np.ndarray) -> np.ndarray:
    """Each code decoded under every label of a conditional model: (N, classes, C, H, W).

    One code is one style; the row across the labels is that style drawn as every class (the analogies of
    Kingma et al., 2014).
    """
    codes = np.asarray(codes, dtype=np.float32)
    classes = model.config.classes
    if not model.conditional:
        raise ValueError(f"a {model.kind} model is not told labels: it has no analogies")
    images = decode_codes(model, np.repeat(codes, classes, axis=0), np.tile(np.arange(classes), len(codes)))
    return images.reshape(len(codes), classes, *images.shape[1:])


def likeliest_labels(model: Autoencoder, images: np.ndarray) -> np.ndarray:
    """For a conditional model, the label under which each image (N, C, H, W) is reconstructed best: (N,).

    What the model is told is part of its input; for an image with no label (a drawing, an upload) this
    picks the one that explains it best, as a classifier by reconstruction.
    """
    images = np.asarray(images, dtype=np.float32)
    classes = model.config.classes
    errors = np.stack(
        [
            ((reconstruct(model, images, label) - images) ** 2).reshape(len(images), -1).mean(1)
            for label in range(classes)
        ]
    )
    return errors.argmin(0)


def plane_bounds(codes: np.ndarray, percentile: float = 0.5, pad: float = 0.1) -> np.ndarray:
    """Robust box around the codes: (d, 2) of [low, high] per dimension.

    Takes the ``percentile``-th and (100 − percentile)-th percentiles (so a few outliers do not shrink the
    cloud to a dot), then pads each side by ``pad`` times the range. A degenerate dimension gets width 2.
    """
    low, high = np.percentile(codes, [percentile, 100 - percentile], axis=0)
    width = high - low
    width = np.where(width > 1e-6, width, 2.0)
    centre = (low + high) / 2
    half = width * (0.5 + pad)
    return np.stack([centre - half, centre + half], axis=1).astype(np.float64)


def grid_codes(
    bounds: np.ndarray, n: int, dims: tuple[int, int] = (0, 1), base: np.ndarray | None = None
) -> np.ndarray:
    """Codes of an n×n grid over ``bounds[dims]``, shaped (n, n, d), row 0 at the top (highest y).

    Other dimensions take ``base`` (default 0). Cell centres are used, so the grid tiles the box exactly.
    """
    bounds = np.asarray(bounds, dtype=np.float64)
    d = bounds.shape[0]
    base = np.zeros(d) if base is None else np.asarray(base, dtype=np.float64)
    (x0, x1), (y0, y1) = bounds[dims[0]], bounds[dims[1]]
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y1 - (np.arange(n) + 0.5) * (y1 - y0) / n
    codes = np.tile(base, (n, n, 1))
    codes[:, :, dims[0]] = xs[None, :]
    codes[:, :, dims[1]] = ys[:, None]
    return codes.astype(np.float32)


def decode_grid(
    model: Autoencoder,
    bounds: np.ndarray,
    n: int,
    dims: tuple[int, int] = (0, 1),
    base: np.ndarray | None = None,
    label: int | None = None,
) -> np.ndarray:
    """Decoded images of :func:`grid_codes` in one batched forward: (n, n, C, H, W), row 0 at the top."""
    codes = grid_codes(bounds, n, dims, base)
    images = decode_codes(model, codes.reshape(n * n, -1), label)
    return images.reshape(n, n, *images.shape[1:])


def interpolate(
    model: Autoencoder, z0: np.ndarray, z1: np.ndarray, steps: int = 10, label: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Straight line from z0 to z1 (both (d,)) in ``steps`` points: (codes (steps, d), images (steps, C, H, W))."""
    codes = line_codes(z0, z1, steps)
    return codes, decode_codes(model, codes, label)


def line_codes(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` evenly spaced codes from z0 to z1 (both (d,)), ends included: (steps, d) float32."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * np.asarray(z0, dtype=np.float64) + t * np.asarray(z1, dtype=np.float64)).astype(np.float32)


def axis_traversal(
    model: Autoencoder,
    bounds: np.ndarray,
    axis: int,
    steps: int = 9,
    base: np.ndarray | None = None,
    label: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Walk latent ``axis`` across ``bounds[axis]`` with the other dimensions held at ``base`` (default 0).

    Returns (codes (steps, d), images (steps, C, H, W)): what changes in the picture when only that
    coordinate of the code changes.
    """
    bounds = np.asarray(bounds, dtype=np.float64)
    codes = np.tile(np.zeros(bounds.shape[0]) if base is None else np.asarray(base, np.float64), (steps, 1))
    codes[:, axis] = np.linspace(bounds[axis, 0], bounds[axis, 1], steps)
    codes = codes.astype(np.float32)
    return codes, decode_codes(model, codes, label)


def factor_correlations(codes: np.ndarray, factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """|Spearman rank correlation| between each latent axis and each known factor of variation.

    codes: (N, d); factors: name -> (N,). Returns name -> (d,) in [0, 1]; a factor with one value only
    gets zeros. A column near 1 on one axis and near 0 on the others is a factor that axis alone encodes.
    """
    from scipy.stats import spearmanr

    result = {}
    for name, values in factors.items():
        row = np.zeros(codes.shape[1])
        if np.ptp(values) > 0:
            for axis in range(codes.shape[1]):
                if np.ptp(codes[:, axis]) > 0:
                    row[axis] = abs(spearmanr(codes[:, axis], values).statistic)
        result[name] = row
    return result


def default_ends(codes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where an interpolation starts: the codes of the first samples of the first two labels present (a
    visible walk between two classes), each (d,), copies."""
    present = np.unique(labels)
    first = int(np.argmax(labels == present[0]))
    second = int(np.argmax(labels == present[min(1, len(present) - 1)]))
    return codes[first].copy(), codes[second].copy()


def nearest(codes: np.ndarray, z: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of the k codes nearest to z, closest first."""
    distances = np.linalg.norm(codes - np.asarray(z, dtype=codes.dtype), axis=1)
    k = min(k, len(codes))
    index = np.argpartition(distances, k - 1)[:k]
    index = index[np.argsort(distances[index], kind="stable")]
    return index, distances[index]


# --- codes of any dimension on a plane and back ----------------------------------------------------------


@runtime_checkable
class Projection(Protocol):
    """The one shape of everything that learns a map to a few coordinates and back (scikit-learn's manners).

    ``fit(x)`` learns from x (N, ...) and returns the fitted object; ``transform``: x (N, ...) -> (N, k);
    ``inverse_transform``: (N, k) -> (N, ...) in x's space. Both are pure. A :class:`PlaneMap` (codes (N, d)
    <-> plane points (N, 2)) and :class:`aelab.baselines.Embedding` (images (N, C, H, W) <-> (N, k)) are
    projections; so are scikit-learn's PCA and umap-learn's UMAP themselves.
    """

    def fit(self, x: np.ndarray) -> Projection: ...

    def transform(self, x: np.ndarray) -> np.ndarray: ...

    def inverse_transform(self, y: np.ndarray) -> np.ndarray: ...


class PlaneMap(ABC):
    """A :class:`Projection` of codes (N, d) onto the plane (N, 2) and back; ``to_plane`` and ``to_latent``
    are its two directions in the words of the pages that draw the plane."""

    def fit(self, codes: np.ndarray) -> PlaneMap:
        """Nothing to learn unless a subclass says otherwise."""
        return self

    @abstractmethod
    def transform(self, codes: np.ndarray) -> np.ndarray:
        """codes (N, d) -> plane points (N, 2) float32."""

    @abstractmethod
    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        """plane points (N, 2) -> codes (N, d) float32."""

    def affine(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(components (2, d), mean (d,)) float64 when the map is affine, else None (UMAP).

        Then a plane point is p = (z − mean) · componentsᵀ and the way back is z = p · components + mean:
        the two matrices the browser needs to project (Draw) and to invert (Explore's decoder).
        """
        return None

    def to_plane(self, codes: np.ndarray) -> np.ndarray:
        return self.transform(codes)

    def to_latent(self, points: np.ndarray) -> np.ndarray:
        return self.inverse_transform(points)


class IdentityMap(PlaneMap):
    """d = 2: the plane is the latent space."""

    def transform(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(codes, dtype=np.float32)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, dtype=np.float32)

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        return np.eye(2), np.zeros(2)


class LineMap(PlaneMap):
    """d = 1: codes along x, y = 0."""

    def transform(self, codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes, dtype=np.float32)
        return np.concatenate([codes, np.zeros_like(codes)], axis=1)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, dtype=np.float32)[:, :1]

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([[1.0], [0.0]]), np.zeros(1)


class ReducerMap(PlaneMap):
    """d > 2: a scikit-learn-style reducer (PCA, UMAP) with 2 components, fitted by :meth:`fit`."""

    def __init__(self, reducer: Any) -> None:
        self.reducer = reducer

    def fit(self, codes: np.ndarray) -> ReducerMap:
        self.reducer.fit(codes)
        return self

    def transform(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(self.reducer.transform(np.asarray(codes, dtype=np.float32)), dtype=np.float32)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(self.reducer.inverse_transform(np.asarray(points, dtype=np.float32)), dtype=np.float32)

    def affine(self) -> tuple[np.ndarray, np.ndarray] | None:
        """A PCA that does not whiten is affine (components_, mean_); UMAP and a whitening PCA are not."""
        components = getattr(self.reducer, "components_", None)
        mean = getattr(self.reducer, "mean_", None)
        if components is None or mean is None or getattr(self.reducer, "whiten", True):
            return None
        return np.asarray(components, dtype=np.float64), np.asarray(mean, dtype=np.float64)


def fit_plane_map(codes: np.ndarray, method: str = "pca", seed: int = 0) -> PlaneMap:
    """The map for codes (N, d), fitted: identity for d = 2, a line for d = 1, PCA or UMAP for d > 2."""
    d = codes.shape[1]
    if d == 2:
        return IdentityMap()
    if d == 1:
        return LineMap()
    if method == "umap":
        import umap  # deferred: importing umap compiles numba code

        return ReducerMap(umap.UMAP(n_components=2, random_state=seed)).fit(codes)
    return ReducerMap(PCA(n_components=2, random_state=seed)).fit(codes)


# --- samplers: where new codes come from ----------------------------------------------------------------


class PriorSampler:
    """The VAE's prior N(0, I) over ``dim`` dimensions; nothing to fit."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def fit(self, codes: np.ndarray | None = None) -> PriorSampler:
        return self

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal((n, self.dim)).astype(np.float32)


class MixtureSampler:
    """A Gaussian mixture fitted to the training codes (scikit-learn), for kinds with no prior."""

    def __init__(self, n_components: int = 10, seed: int = 0) -> None:
        self.n_components = n_components
        self.seed = seed

    def fit(self, codes: np.ndarray) -> MixtureSampler:
        components = max(1, min(self.n_components, len(codes) // 5))
        self.mixture_ = GaussianMixture(components, covariance_type="full", random_state=self.seed).fit(codes)
        return self

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """n codes drawn from the fitted mixture; pure (the fitted object is never changed)."""
        rng = np.random.default_rng(seed)
        mixture = self.mixture_
        component = rng.choice(len(mixture.weights_), size=n, p=mixture.weights_ / mixture.weights_.sum())
        scale = np.linalg.cholesky(mixture.covariances_)  # (K, d, d)
        eps = rng.standard_normal((n, mixture.means_.shape[1]))
        return (mixture.means_[component] + np.einsum("nij,nj->ni", scale[component], eps)).astype(np.float32)


def samples_from_prior(model: Autoencoder) -> bool:
    """True when the model has a prior to sample (VAE); otherwise sampling needs its training codes."""
    return model.has_prior


def sampler_for(model: Autoencoder, train_codes: np.ndarray | None = None) -> PriorSampler | MixtureSampler:
    """A fitted sampler: the prior for a VAE, a mixture over ``train_codes`` (N, d) for every other kind."""
    if samples_from_prior(model):
        return PriorSampler(model.config.latent_dim)
    if train_codes is None:
        raise ValueError(f"sampling a {model.kind} model needs its training codes to fit a density")
    return MixtureSampler().fit(train_codes)


def generate(
    model: Autoencoder, n: int, seed: int = 0, train_codes: np.ndarray | None = None, label: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """n new images from the model's sampler: (codes (n, d), images (n, C, H, W)).

    A conditional model draws them as ``label``, or, when it is None, as every label in turn (0, 1, ...).
    """
    codes = sampler_for(model, train_codes).sample(n, seed)
    labels = generated_labels(model, n, label)
    return codes, decode_codes(model, codes, labels)


def generated_labels(model: Autoencoder, n: int, label: int | None = None) -> np.ndarray | None:
    """The labels :func:`generate` tells a conditional model for n samples (None for other kinds).

    ValueError for a label outside the model's classes.
    """
    if not model.conditional:
        return None
    classes = model.config.classes
    if label is None:
        return np.arange(n) % classes
    if not 0 <= int(label) < classes:
        raise ValueError(f"label {label} is outside this model's classes 0..{classes - 1}")
    return np.full(n, int(label))
