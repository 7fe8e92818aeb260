"""Shared, immutable things every session reads: datasets, shipped models, codes, embeddings.

``st.cache_resource`` objects (datasets, checkpoints, embeddings) are shared by every session on the
server: never mutate what these return. ``st.cache_data`` results (codes) are copies per caller.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from aelab.baselines import Embedding, fit_pca, fit_umap
from aelab.checkpoint import Checkpoint, load_checkpoint
from aelab.data import Dataset, load_dataset
from aelab.latent import encode_images
from aelab.recipes import PRETRAINED_DIR


@st.cache_resource(show_spinner=False, max_entries=8)
def dataset(name: str) -> Dataset:
    """The registered dataset ``name`` (read-only arrays)."""
    return load_dataset(name)


@st.cache_resource(show_spinner=False, max_entries=16)
def pretrained(name: str) -> Checkpoint:
    """The shipped checkpoint ``pretrained/<name>.safetensors`` (e.g. "mnist5k-vae"), validated, eval mode."""
    return load_checkpoint(PRETRAINED_DIR / f"{name}.safetensors")


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
