"""The sidebar every page shares: language, dataset, model picker and checkpoint upload.

The typed :class:`~aelab.ui.state.Selection` is the source of truth. Before the widgets are drawn, its
choice is written into their keys (allowed before a widget exists in a run), and their ``on_change``
callbacks write a user's choice back; so code can change the choice (a model trained on the Train page)
without touching a widget that already exists.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from aelab.checkpoint import load_checkpoint
from aelab.data import SOURCES, dataset_names
from aelab.errors import AelabError
from aelab.ui import cache
from aelab.ui.i18n import LANGUAGE_KEY, LANGUAGES, language, register, t
from aelab.ui.state import (
    DEFAULT_DATASET,
    ModelEntry,
    add_session_model,
    chosen_entry,
    model_entries,
    select,
    selection,
)

DATASET_KEY = "aelab.sidebar.dataset"
MODEL_KEY = "aelab.sidebar.model"
UPLOAD_KEY = "aelab.sidebar.upload"

register(
    {
        "nav.explore": ("Explore", "探索"),
        "nav.train": ("Train", "训练"),
        "nav.compare": ("Compare", "比较"),
        "nav.learn": ("Learn", "学习"),
        "sidebar.language": ("Language / 语言", "Language / 语言"),
        "sidebar.dataset": ("Dataset", "数据集"),
        "sidebar.model": ("Model", "模型"),
        "sidebar.no_model": ("No model for this dataset yet.", "该数据集还没有模型。"),
        "sidebar.metrics": (
            "Latent dimension {d} · test MSE {mse:.4f} · 5-NN accuracy {acc:.0%}",
            "潜在维度 {d} · 测试 MSE {mse:.4f} · 5-近邻准确率 {acc:.0%}",
        ),
        "sidebar.upload": ("Upload a checkpoint", "上传检查点"),
        "sidebar.upload_help": (
            "An aelab .safetensors file, from the Train page's download or `aelab train`. "
            "Nothing in it is executed.",
            "aelab 的 .safetensors 文件（来自“训练”页的下载或 `aelab train`）。文件中的任何内容都不会被执行。",
        ),
        "sidebar.upload_title": ("{name} · uploaded", "{name} · 已上传"),
        "sidebar.upload_refused": ("Could not use {name}: {message}", "无法使用 {name}：{message}"),
        "sidebar.unknown_dataset": (
            "it was trained on the dataset '{dataset}', which this app does not have (it has: {known})",
            "它是在数据集“{dataset}”上训练的，本应用没有该数据集（现有：{known}）",
        ),
        "sidebar.shape_mismatch": (
            "it expects images shaped {expected}, but {dataset} has images shaped {found}",
            "它需要形状为 {expected} 的图像，但 {dataset} 的图像形状为 {found}",
        ),
    }
)


def _on_dataset() -> None:
    selection().dataset = st.session_state[DATASET_KEY]


def _on_model() -> None:
    state = selection()
    state.model[state.dataset] = st.session_state[MODEL_KEY]


def _on_upload() -> None:
    """Load a newly uploaded checkpoint; on any problem keep the current model and remember the message."""
    state = selection()
    state.upload_error = None
    file = st.session_state.get(UPLOAD_KEY)
    if file is None:
        return
    try:
        checkpoint = load_checkpoint(file.getvalue())
        if checkpoint.dataset not in dataset_names():
            raise AelabError(
                t("sidebar.unknown_dataset", dataset=checkpoint.dataset, known=", ".join(dataset_names()))
            )
        expected = tuple(checkpoint.model.config.image_shape)
        found = cache.dataset(checkpoint.dataset).image_shape
        if expected != found:
            raise AelabError(t("sidebar.shape_mismatch", expected=expected, dataset=checkpoint.dataset, found=found))
    except AelabError as error:
        state.upload_error = t("sidebar.upload_refused", name=file.name, message=error)
        return
    # The same weights uploaded again select the entry they already have.
    digest = checkpoint.header["weights_sha256"]
    for entry in state.entries:
        if entry.checkpoint.header.get("weights_sha256") == digest:
            select(entry)
            return
    add_session_model(t("sidebar.upload_title", name=Path(file.name).stem), checkpoint, source="upload")


def _sync_widgets() -> None:
    """Write the selection into the widgets' keys (before they exist in this run)."""
    state = selection()
    if state.dataset not in dataset_names():
        state.dataset = DEFAULT_DATASET
    st.session_state[DATASET_KEY] = state.dataset
    entry = chosen_entry(state.dataset)
    if entry is not None:
        st.session_state[MODEL_KEY] = entry.id


def _model_caption(entry: ModelEntry) -> str:
    metrics = entry.checkpoint.metrics
    d = entry.checkpoint.model.config.latent_dim
    if {"test_mse", "knn_accuracy"} <= metrics.keys():
        return t("sidebar.metrics", d=d, mse=metrics["test_mse"], acc=metrics["knn_accuracy"])
    return ""


def render() -> None:
    """Draw the sidebar's widgets (call once per run, before the page)."""
    if LANGUAGE_KEY not in st.session_state:
        requested = st.query_params.get("lang")  # ?lang=zh opens the app in Chinese
        st.session_state[LANGUAGE_KEY] = requested if requested in LANGUAGES else language()
    _sync_widgets()
    state = selection()
    with st.sidebar:
        st.radio(
            t("sidebar.language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__, key=LANGUAGE_KEY, horizontal=True
        )
        st.selectbox(
            t("sidebar.dataset"),
            dataset_names(),
            format_func=lambda name: SOURCES[name].title,
            key=DATASET_KEY,
            on_change=_on_dataset,
        )
        entries = {entry.id: entry for entry in model_entries(state.dataset)}
        if entries:
            st.selectbox(
                t("sidebar.model"),
                list(entries),
                format_func=lambda entry_id: entries[entry_id].title,
                key=MODEL_KEY,
                on_change=_on_model,
            )
            caption = _model_caption(entries[st.session_state[MODEL_KEY]])
            if caption:
                st.caption(caption)
        else:
            st.info(t("sidebar.no_model"))
        st.file_uploader(t("sidebar.upload"), key=UPLOAD_KEY, on_change=_on_upload, help=t("sidebar.upload_help"))
        if state.upload_error:
            st.error(state.upload_error)
