"""Every page's caches: datasets, shipped models, codes, plane maps, embeddings, metrics and what is drawn from them.

Keys are consistent: whatever depends on a model's codes is keyed by the model's entry id and the dataset's
name first (then the projection method where a plane map is involved); what depends on a dataset only, by its
name. Arguments starting with ``_`` are not hashed: the keys before them say what they are.

:func:`shared_memo` results (datasets, checkpoints, embeddings, pictures) are shared by every session on the
server: never mutate what these return (arrays among them are flagged read-only). ``st.cache_data`` results
(pictures decoded from a model, metrics) are copies per caller.

The one per-session exception: datasets uploaded in a session (:class:`SessionDatasets`) live in that
session's ``st.session_state``, never in a shared cache, and :func:`dataset` looks there first. Their names
("upload-" and a random hex id) are unique across sessions, so the shared caches keyed by a dataset name
(codes, PCA, UMAP) can never hand one session's upload to another.
"""

from __future__ import annotations

import functools
import gc
import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

import numpy as np
import streamlit as st

from aelab import export, plane
from aelab.baselines import (
    Embedding,
    Metrics,
    evaluate_embedding,
    evaluate_model,
    fit_pca,
    fit_umap,
    reconstruction_mse,
)
from aelab.checkpoint import Checkpoint
from aelab.data import Dataset, load_dataset
from aelab.imaging import crisp_png, data_url, grid_image, png_bytes, tile
from aelab.latent import (
    PlaneMap,
    decode_codes,
    encode_images,
    fit_plane_map,
    generate,
    grid_codes,
    plane_bounds,
    reconstruct,
)
from aelab.models import Autoencoder
from aelab.plane import SliderSpec
from aelab.recipes import load_pretrained
from aelab.train import load_optimiser_modules
from aelab.ui.session import session_object

_heap_lock = threading.Lock()
_heap_frozen = False

P = ParamSpec("P")
R = TypeVar("R")


class SharedMemo(Generic[P, R]):
    """A process-wide cache of a function's results, shared by every session, like ``st.cache_resource``.

    Keyed by the arguments whose names do not start with ``_`` (the same rule as Streamlit's caches), which
    must be hashable: ids, names, sizes. ``st.cache_*`` hashes every argument on every call and reads the
    function's signature each time (``inspect.signature``): about a third of a click's CPU went to that on
    the hot path (BENCHMARKS.md, issue 18). Here a call that hits costs a dict lookup. At most
    ``max_entries`` results are kept (least recently used out); a key's first call runs once even when
    several sessions ask at the same time; a raised error is not cached. Never mutate what it returns.
    """

    def __init__(self, func: Callable[P, R], max_entries: int) -> None:
        functools.update_wrapper(self, func)
        self._func, self._max = func, max_entries
        self._names = list(inspect.signature(func).parameters)
        self._keyed = [i for i, name in enumerate(self._names) if not name.startswith("_")]
        self._values: OrderedDict[tuple, R] = OrderedDict()
        self._making: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def _key(self, args: tuple, kwargs: dict[str, Any]) -> tuple:
        named = tuple(sorted((k, v) for k, v in kwargs.items() if not k.startswith("_")))
        return tuple(args[i] for i in self._keyed if i < len(args)) + named

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key = self._key(args, kwargs)
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:  # one session computes a key; the others asking for it meanwhile wait, then read it
            with self._lock:
                if key in self._values:
                    return self._values[key]
            try:
                value = self._func(*args, **kwargs)
            finally:
                with self._lock:
                    self._making.pop(key, None)
            with self._lock:
                self._values[key] = value
                while len(self._values) > self._max:
                    self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def shared_memo(max_entries: int) -> Callable[[Callable[P, R]], SharedMemo[P, R]]:
    """Decorator: :class:`SharedMemo` of at most ``max_entries`` results."""
    return lambda func: SharedMemo(func, max_entries)


def freeze_startup_heap() -> bool:
    """Take everything alive now out of the cyclic garbage collector's full passes, once per process.

    Call it right after the heavy imports (torch, scikit-learn, Streamlit: about 330,000 objects). Python's
    full (generation-2) collection walks every tracked object, and the allocations of one rerun are enough
    to set one off about once per click: 150-300 ms on a 2-core machine, which was the slow half of the
    click latency (BENCHMARKS.md, app latency). ``gc.freeze`` moves the objects to a permanent generation
    that is never scanned; they are still freed by reference counting. A ``gc.collect`` first keeps the
    start-up garbage out of it. Returns True for the call that froze, False afterwards.

    The modules the first training would import (:func:`aelab.train.load_optimiser_modules`) are imported
    first, so that they are frozen too and no training job holds the GIL for seconds importing them.
    """
    global _heap_frozen
    with _heap_lock:
        if _heap_frozen:
            return False
        load_optimiser_modules()
        gc.collect()
        gc.freeze()
        _heap_frozen = True
        return True


SESSION_DATASETS_KEY = "aelab.session_datasets"
MAX_SESSION_DATASETS = 3  # uploads kept per session (the oldest is dropped): each may hold up to 240 MB


@dataclass
class SessionDatasets:
    """Datasets uploaded in this session: name -> Dataset (oldest first), and the upload's SHA-256 -> name."""

    by_name: dict[str, Dataset] = field(default_factory=dict)
    by_digest: dict[str, str] = field(default_factory=dict)


def session_datasets() -> SessionDatasets:
    """This session's :class:`SessionDatasets`, created on first use."""
    return session_object(SESSION_DATASETS_KEY, SessionDatasets)


def add_session_dataset(data: Dataset, digest: str) -> None:
    """Keep ``data`` (named "upload-<hex>") for this session only, dropping the oldest beyond the limit."""
    own = session_datasets()
    own.by_name[data.name] = data
    own.by_digest[digest] = data.name
    while len(own.by_name) > MAX_SESSION_DATASETS:
        oldest = next(iter(own.by_name))
        del own.by_name[oldest]
        own.by_digest = {d: n for d, n in own.by_digest.items() if n != oldest}


@shared_memo(max_entries=8)
def _registered_dataset(name: str) -> Dataset:
    return load_dataset(name)


def dataset(name: str) -> Dataset:
    """This session's uploaded dataset ``name``, else the registered one (shared; read-only arrays)."""
    own = session_datasets().by_name.get(name)
    return own if own is not None else _registered_dataset(name)


@shared_memo(max_entries=16)
def pretrained(name: str) -> Checkpoint:
    """The shipped checkpoint ``pretrained/<name>.safetensors`` (e.g. "mnist5k-vae"), validated, eval mode.

    Verified against pretrained/SHA256SUMS first (:func:`aelab.recipes.load_pretrained`): a damaged or
    swapped file raises BadCheckpoint, which the model picker turns into a skipped entry, not a crash.
    A failure is not cached (:class:`SharedMemo` caches return values only), so a repaired file is picked up.
    """
    return load_pretrained(name)


def read_only(array: np.ndarray) -> np.ndarray:
    """``array``, flagged read-only: a shared result that a caller tried to change would raise, not leak."""
    array.setflags(write=False)
    return array


@st.cache_data(show_spinner=False, max_entries=64)
def codes(entry_id: str, _checkpoint: Checkpoint, dataset_name: str) -> np.ndarray:
    """Codes (N, d) float32 of ALL images of ``dataset_name`` under the checkpoint's model.

    Keyed by ``entry_id`` (unique across sessions: a session model's id is a UUID) and the dataset name;
    the checkpoint itself is not hashed. A conditional model is told each image's own label. A copy per caller:
    UMAP (numba) refuses read-only arrays.
    """
    data = dataset(dataset_name)
    return encode_images(_checkpoint.model, data.images, data.labels)


@shared_memo(max_entries=8)
def pca(dataset_name: str, k: int = 2) -> Embedding:
    """PCA with ``k`` components fitted on the dataset's training split."""
    return fit_pca(dataset(dataset_name), k)


@shared_memo(max_entries=4)
def umap(dataset_name: str) -> Embedding:
    """2-D UMAP fitted on the dataset's training split (slow the first time: show a spinner)."""
    return fit_umap(dataset(dataset_name))


def plane_map(entry_id: str, dataset_name: str, method: str, codes: np.ndarray) -> PlaneMap:
    """The fitted map of a model's codes (N, d) of a dataset onto the plane; Explore, Compare and Draw share it.

    ``method`` ("pca" or "umap") chooses the projection of d > 2 codes and is ignored otherwise (identity for
    d = 2, a line for d = 1), so every page asking for the same model and dataset gets the same cached map.
    """
    return _plane_map(entry_id, dataset_name, method if codes.shape[1] > 2 else "identity", codes)


@shared_memo(max_entries=16)
def _plane_map(entry_id: str, dataset_name: str, method: str, _codes: np.ndarray) -> PlaneMap:
    # Keyed like codes() (entry id, dataset name) plus the method. Shared between sessions: only transform /
    # inverse_transform are called on it, which do not change it.
    return fit_plane_map(_codes, method)


@shared_memo(max_entries=16)
def plane_points(entry_id: str, dataset_name: str, method: str, _codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plane points (N, 2) of the codes under :func:`plane_map` and the plane's bounds (2, 2), read-only."""
    points = plane_map(entry_id, dataset_name, method, _codes).to_plane(_codes)
    bounds = plane_bounds(points)
    if _codes.shape[1] == 1:
        bounds[1] = (-1.0, 1.0)
    return read_only(points), read_only(bounds)


@shared_memo(max_entries=16)
def slider_specs(entry_id: str, dataset_name: str, _codes: np.ndarray) -> list[SliderSpec]:
    """One slider per latent dimension of a model's codes (N, d) of a dataset."""
    return plane.slider_specs(_codes)


@shared_memo(max_entries=16)
def spacing(entry_id: str, dataset_name: str, method: str, _points: np.ndarray) -> float:
    """The plane points' typical k-th neighbour distance (the "far from the data" cue's yardstick)."""
    return plane.typical_spacing(_points)


@shared_memo(max_entries=8)
def sprite(dataset_name: str, _images: np.ndarray) -> dict | None:
    """The dataset's images as one PNG sheet for real images on hover, once per dataset (shared, read-only)."""
    return plane.sprite_sheet(_images)


@st.cache_data(show_spinner=False, max_entries=32)
def manifold(
    entry_id: str,
    dataset_name: str,
    method: str,
    n: int,
    bounds: np.ndarray,
    _model: Autoencoder,
    _map: PlaneMap,
    label: int | None = None,
) -> np.ndarray:
    """Decoded n×n grid over the plane's bounds (2, 2): (n, n, C, H, W), row 0 at the top (drawn as
    ``label`` by a conditional model).

    Keyed like :func:`plane_map` (entry, dataset, method), whose map ``_map`` is.
    """
    points = grid_codes(bounds, n).reshape(n * n, 2)
    images = decode_codes(_model, _map.to_latent(points), label)
    return images.reshape(n, n, *images.shape[1:])


@st.cache_data(show_spinner=False, max_entries=32)
def manifold_background(
    entry_id: str,
    dataset_name: str,
    method: str,
    n: int,
    bounds: np.ndarray,
    _model: Autoencoder,
    _map: PlaneMap,
    label: int | None = None,
) -> str:
    """The manifold as a faded data-URL PNG (dark strokes on light grey) so the coloured points stay readable."""
    picture = grid_image(manifold(entry_id, dataset_name, method, n, bounds, _model, _map, label))
    faded = 1.0 - 0.55 * picture
    factor = max(1, 600 // max(picture.shape[-2:]))
    return data_url(png_bytes(faded, factor))


@st.cache_data(show_spinner=False, max_entries=32)
def generated(
    entry_id: str,
    dataset_name: str,
    n: int,
    seed: int,
    _model: Autoencoder,
    _train_codes: np.ndarray,
    label: int | None = None,
) -> np.ndarray:
    """n new images (n, C, H, W) from the model's sampler (fitted to its training codes of the dataset); a
    conditional model draws them as ``label``, or every label in turn when it is None."""
    return generate(_model, n, seed, train_codes=_train_codes, label=label)[1]


# --- pictures: the same for every student, so encoded once --------------------------------------------------


@shared_memo(max_entries=256)
def pictures(key: tuple, _make: Callable[[], list[np.ndarray]], target: int) -> list[tuple[bytes, int]]:
    """Crisp PNGs (and widths) of the images ``_make()`` returns, kept per ``key``: everything the images
    depend on (entry id, dataset, sizes, seeds, ends...). A full run of Explore re-encoded every section's
    pictures, the same for every student; cached here, a run re-sends bytes it already has."""
    return [crisp_png(image, target) for image in _make()]


def show_cached(key: tuple, make: Callable[[], np.ndarray], target: int, caption: str | None = None) -> None:
    """``st.image`` of the one image ``make()`` returns, its PNG cached under ``key`` (see :func:`pictures`)."""
    [(data, width)] = pictures(key, lambda: [make()], target)
    st.image(data, caption=caption, width=width, output_format="PNG")  # PNG: JPEG would blur the pixels


@shared_memo(max_entries=8192)
def sample_data_url(dataset_name: str, index: int, _images: np.ndarray) -> str:
    """The dataset's image ``index`` as a PNG data URL: a sample's picture is the same for every student and
    every gesture (the nearest samples re-encoded 8 PNGs per click before)."""
    return data_url(png_bytes(_images[index]))


@shared_memo(max_entries=256)
def reconstruction(
    entry_id: str, dataset_name: str, index: int, _model: Autoencoder, _images: np.ndarray, label: int | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """(x (1, C, H, W), ψ(φ(x)) (1, C, H, W), their MSE per pixel) for the dataset's image ``index`` (and its
    ``label``, which a conditional model is told)."""
    original = _images[index : index + 1]
    rebuilt = reconstruct(_model, original, label)
    return original, rebuilt, float(reconstruction_mse(original, rebuilt))


@shared_memo(max_entries=32)
def mosaic_png(
    entry_id: str, dataset_name: str, n: int, seed: int, _images: Callable[[], np.ndarray], label: int | None = None
) -> bytes:
    """The generated samples (as ``label``, for a conditional model) as one PNG for the download button
    (8 per row, 4x)."""
    return png_bytes(tile(_images(), columns=8), 4)


@shared_memo(max_entries=16)
def browser_decoder(entry_id: str, dataset_name: str, method: str, _model: Autoencoder, _map: PlaneMap) -> dict | None:
    """The decoder spec for the plane's hover decoding, or None where the browser cannot run it.

    Shared, not cache_data: the spec (megabytes of base64) is shared read-only, never copied per run.
    """
    try:
        return export.decoder_spec(_model, _map)
    except export.UnsupportedExport:
        return None


@shared_memo(max_entries=16)
def runs_in_browser(entry_id: str, _model: Autoencoder) -> bool:
    """Whether decoder.js can run the model's decoder (the offline explorer needs it)."""
    return export.runs_in_browser(_model)


@st.cache_data(show_spinner=False, max_entries=2)
def explorer_html(entry_id: str, dataset_name: str, _checkpoint: Checkpoint, _dataset: Dataset) -> str:
    """The offline explorer of a model over a dataset, as one HTML file."""
    return export.explorer_html(_checkpoint, _dataset)


# --- Compare: PCA(2) and UMAP of a dataset, and the metrics of every method ----------------------------------

# UMAP's inverse_transform takes tens to hundreds of ms an image: its MSE is measured on this many test images.
UMAP_RECONSTRUCT_LIMIT = 50


def embedding(dataset_name: str, method: str) -> Embedding:
    """PCA(2) (``method="pca"``) or UMAP (``"umap"``) fitted on the dataset's training split."""
    return pca(dataset_name, 2) if method == "pca" else umap(dataset_name)


@st.cache_data(show_spinner=False, max_entries=16)
def embedding_metrics(dataset_name: str, method: str) -> Metrics:
    """Metrics of PCA(2) (``method="pca"``) or UMAP (``"umap"``) on the dataset's test split."""
    limit = UMAP_RECONSTRUCT_LIMIT if method == "umap" else None
    return evaluate_embedding(embedding(dataset_name, method), dataset(dataset_name), reconstruct_limit=limit)


@st.cache_data(show_spinner=False, max_entries=32)
def model_metrics(entry_id: str, _checkpoint: Checkpoint, dataset_name: str) -> Metrics:
    """Metrics of a model on the dataset's test split, keyed by its entry id; fit time from its header."""
    seconds = _checkpoint.training.get("seconds")
    return evaluate_model(_checkpoint.model, dataset(dataset_name), fit_seconds=seconds)


@st.cache_data(show_spinner=False, max_entries=16)
def embedding_test_codes(dataset_name: str, method: str) -> np.ndarray:
    """(N_test, 2) codes of the dataset's test images under PCA(2) or UMAP."""
    return embedding(dataset_name, method).transform(dataset(dataset_name).test_images)


@st.cache_data(show_spinner=False, max_entries=256)
def embedding_decode(dataset_name: str, method: str, x: float, y: float) -> np.ndarray:
    """The image (C, H, W) that PCA's or UMAP's inverse map gives the point (x, y)."""
    return embedding(dataset_name, method).inverse_transform(np.array([[x, y]], dtype=np.float32))[0]
