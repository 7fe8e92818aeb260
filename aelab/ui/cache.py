"""Shared, immutable things every session reads: datasets, shipped models, codes, embeddings.

``st.cache_resource`` objects (datasets, checkpoints, embeddings) are shared by every session on the
server: never mutate what these return. ``st.cache_data`` results (codes) are copies per caller.

The one per-session exception: datasets uploaded in a session (:class:`SessionDatasets`) live in that
session's ``st.session_state``, never in a shared cache, and :func:`dataset` looks there first. Their names
("upload-" and a random hex id) are unique across sessions, so the shared caches keyed by a dataset name
(codes, PCA, UMAP) can never hand one session's upload to another.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from aelab.baselines import Embedding, fit_pca, fit_umap
from aelab.checkpoint import Checkpoint
from aelab.data import Dataset, load_dataset
from aelab.latent import PlaneMap, encode_images, fit_plane_map, plane_bounds
from aelab.recipes import load_pretrained
from aelab.ui.session import session_object

_heap_lock = threading.Lock()
_heap_frozen = False


def freeze_startup_heap() -> bool:
    """Take everything alive now out of the cyclic garbage collector's full passes, once per process.

    Call it right after the heavy imports (torch, scikit-learn, Streamlit: about 330,000 objects). Python's
    full (generation-2) collection walks every tracked object, and the allocations of one rerun are enough
    to set one off about once per click: 150-300 ms on a 2-core machine, which was the slow half of the
    click latency (BENCHMARKS.md, app latency). ``gc.freeze`` moves the objects to a permanent generation
    that is never scanned; they are still freed by reference counting. A ``gc.collect`` first keeps the
    start-up garbage out of it. Returns True for the call that froze, False afterwards.
    """
    global _heap_frozen
    with _heap_lock:
        if _heap_frozen:
            return False
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


@st.cache_resource(show_spinner=False, max_entries=8)
def _registered_dataset(name: str) -> Dataset:
    return load_dataset(name)


def dataset(name: str) -> Dataset:
    """This session's uploaded dataset ``name``, else the registered one (shared; read-only arrays)."""
    own = session_datasets().by_name.get(name)
    return own if own is not None else _registered_dataset(name)


@st.cache_resource(show_spinner=False, max_entries=16)
def pretrained(name: str) -> Checkpoint:
    """The shipped checkpoint ``pretrained/<name>.safetensors`` (e.g. "mnist5k-vae"), validated, eval mode.

    Verified against pretrained/SHA256SUMS first (:func:`aelab.recipes.load_pretrained`): a damaged or
    swapped file raises BadCheckpoint, which the model picker turns into a skipped entry, not a crash.
    A failure is not cached (st.cache_resource caches return values only), so a repaired file is picked up.
    """
    return load_pretrained(name)


@st.cache_data(show_spinner=False, max_entries=64)
def codes(entry_id: str, _checkpoint: Checkpoint, dataset_name: str) -> np.ndarray:
    """Codes (N, d) float32 of ALL images of ``dataset_name`` under the checkpoint's model.

    Keyed by ``entry_id`` (unique across sessions: a session model's id is a UUID) and the dataset name;
    the checkpoint itself is not hashed.
    """
    return encode_images(_checkpoint.model, dataset(dataset_name).images)


@st.cache_resource(show_spinner=False, max_entries=8)
def pca(dataset_name: str, k: int = 2) -> Embedding:
    """PCA with ``k`` components fitted on the dataset's training split."""
    return fit_pca(dataset(dataset_name), k)


@st.cache_resource(show_spinner=False, max_entries=4)
def umap(dataset_name: str) -> Embedding:
    """2-D UMAP fitted on the dataset's training split (slow the first time: show a spinner)."""
    return fit_umap(dataset(dataset_name))


def plane_map(entry_id: str, dataset_name: str, method: str, codes: np.ndarray) -> PlaneMap:
    """The fitted map of a model's codes (N, d) of a dataset onto the plane; Explore, Compare and Draw share it.

    ``method`` ("pca" or "umap") chooses the projection of d > 2 codes and is ignored otherwise (identity for
    d = 2, a line for d = 1), so every page asking for the same model and dataset gets the same cached map.
    """
    return _plane_map(entry_id, dataset_name, method if codes.shape[1] > 2 else "identity", codes)


@st.cache_resource(show_spinner=False, max_entries=16)
def _plane_map(entry_id: str, dataset_name: str, method: str, _codes: np.ndarray) -> PlaneMap:
    # Keyed like codes() (entry id, dataset name) plus the method. Shared between sessions: only transform /
    # inverse_transform are called on it, which do not change it.
    return fit_plane_map(_codes, method)


@st.cache_data(show_spinner=False, max_entries=16)
def plane_points(entry_id: str, dataset_name: str, method: str, _codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plane points (N, 2) of the codes under :func:`plane_map` and the plane's bounds (2, 2)."""
    points = plane_map(entry_id, dataset_name, method, _codes).to_plane(_codes)
    bounds = plane_bounds(points)
    if _codes.shape[1] == 1:
        bounds[1] = (-1.0, 1.0)
    return points, bounds
