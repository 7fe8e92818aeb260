"""The sidebar every page shares: language, dataset (and a dataset upload), model picker and checkpoint upload.

The typed :class:`~aelab.ui.state.Selection` is the source of truth. Before the widgets are drawn, its
choice is written into their keys (allowed before a widget exists in a run), and their ``on_change``
callbacks write a user's choice back; so code can change the choice (a model trained on the Train page)
without touching a widget that already exists.

Datasets: an online dataset not cached yet is fetched when picked, with a progress bar; if that fails
(offline), the previous dataset stays chosen and the message says how to add the files by hand. An
uploaded dataset is parsed by :func:`aelab.uploads.load_upload`, kept in the session
(:func:`aelab.ui.cache.add_session_dataset`) and saved in the browser's workspace.

The workspace expander offers "Share this model" (a read-only link; whoever opens it gets a copy) and
"Delete my workspace".
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from aelab.checkpoint import ModelDoesNotFit, check_fits, load_checkpoint
from aelab.data import Dataset, dataset_names
from aelab.errors import AelabError
from aelab.sources import ONLINE, fetch, is_cached
from aelab.ui import cache, workspace
from aelab.ui.i18n import LANGUAGE_KEY, LANGUAGES, language, t
from aelab.ui.session import session_object
from aelab.ui.state import (
    DEFAULT_DATASET,
    ModelEntry,
    add_session_model,
    chosen_entry,
    dataset_label,
    dataset_options,
    model_entries,
    pretrained_problems,
    select,
    selection,
    stored_id,
    stored_name,
)
from aelab.uploads import FORMATS, load_upload

DATASET_KEY = "aelab.sidebar.dataset"
MODEL_KEY = "aelab.sidebar.model"
UPLOAD_KEY = "aelab.sidebar.upload"
DATA_KEY = "aelab.sidebar.data"
DATA_UPLOAD_KEY = "aelab.sidebar.data_upload"
DATA_SIDE_KEY = "aelab.sidebar.data_side"
DATA_RGB_KEY = "aelab.sidebar.data_rgb"


@dataclass
class DataState:
    """This session's dataset housekeeping: the last dataset that loaded, and the last problem to show."""

    loaded: str | None = None
    error: str | None = None
    notice: str | None = None


def _data_state() -> DataState:
    return session_object(DATA_KEY, DataState)


def _on_dataset() -> None:
    selection().dataset = st.session_state[DATASET_KEY]
    _data_state().error = None


def _ensure_dataset() -> None:
    """Load the chosen dataset (fetching an online one with a progress bar); on failure go back to the last one.

    Runs before the widgets, so a page never meets a dataset that cannot load.
    """
    state, data = selection(), _data_state()
    name = state.dataset
    if name == data.loaded:
        return
    try:
        if name in ONLINE and not is_cached(name):
            with st.sidebar, st.status(t("sidebar.fetching", title=ONLINE[name].title), expanded=True) as status:
                bar = st.progress(0.0)
                fetch(name, lambda fraction, message: bar.progress(fraction, text=message))
                status.update(state="complete", expanded=False)
        cache.dataset(name)
    except AelabError as error:
        data.error = t("sidebar.fetch_failed", title=dataset_label(name), message=error)
        state.dataset = data.loaded if data.loaded in dataset_options() else DEFAULT_DATASET
        return
    data.loaded = name


def _on_data_upload() -> None:
    """Parse a newly uploaded dataset file; on success keep it for this session and choose it, else keep the old one."""
    data = _data_state()
    data.error = data.notice = None
    file = st.session_state.get(DATA_UPLOAD_KEY)
    if file is None:
        return
    raw = file.getvalue()
    side, rgb = int(st.session_state.get(DATA_SIDE_KEY, 28)), bool(st.session_state.get(DATA_RGB_KEY, False))
    digest = hashlib.sha256(raw + f"|{side}|{rgb}".encode()).hexdigest()
    own = cache.session_datasets()
    name = own.by_digest.get(digest)
    if name is None:  # the same file uploaded again selects the dataset (and models) it already has
        try:
            uploaded = load_upload(file.name, raw, f"upload-{uuid.uuid4().hex[:12]}", side=side, rgb=rgb)
        except AelabError as error:
            data.error = t("sidebar.upload_refused", name=file.name, message=error)
            return
        cache.add_session_dataset(uploaded, digest)
        _keep_dataset(uploaded, file.name)
        name = uploaded.name
    uploaded = own.by_name[name]
    data.notice = t(
        "sidebar.data_loaded",
        title=uploaded.title,
        n=len(uploaded),
        shape=uploaded.image_shape,
        classes=uploaded.n_classes,
    )
    selection().dataset = data.loaded = name


def _keep_dataset(uploaded: Dataset, title: str) -> None:
    """Save an uploaded dataset in the workspace; beyond the session's limit the oldest goes, as in the session."""
    store, own = workspace.store(), workspace.workspace()
    try:
        stored = store.datasets(own)
        for old in stored[: max(0, len(stored) - cache.MAX_SESSION_DATASETS + 1)]:
            store.delete_item(own, old.name)
        store.save_dataset(own, uploaded, uploaded.title or title)
    except AelabError as error:
        workspace.session().problems.append(t("state.not_saved", title=title, message=error))
        return
    workspace.mark_loaded(uploaded.name)


def open_share_link() -> None:
    """Copy the model of a ``?share=`` link into this workspace and choose it (once the workspace is open)."""
    share = st.query_params.get("share")
    if not share or not workspace.is_open():
        return
    del st.query_params["share"]  # a reload must not copy it again, and the link should not linger in the bar
    try:
        item = workspace.store().copy_shared(share, workspace.workspace())
    except AelabError as error:
        _data_state().error = t("sidebar.upload_refused", name="share link", message=error)
        return
    if item is None:
        _data_state().error = t("sidebar.shared_gone")
        return
    from aelab.ui.state import refresh_from_workspace

    refresh_from_workspace()
    entry = next((e for e in selection().entries if e.id == stored_id(item.name)), None)
    if entry is not None:
        select(entry)
        _data_state().notice = t("sidebar.shared_copied", title=item.title)


def _workspace_box() -> None:
    """Share the chosen model; delete the workspace."""
    with st.expander(t("sidebar.workspace"), icon=":material/folder_shared:"):
        st.caption(t("sidebar.workspace_help"))
        entry = chosen_entry(selection().dataset)
        if st.button(t("sidebar.share"), key="aelab.sidebar.share", icon=":material/share:"):
            name = None if entry is None else stored_name(entry)
            if name is None:
                st.info(t("sidebar.share_only_saved"))
            else:
                link = workspace.store().share(workspace.workspace(), name)
                base = (st.context.url or "").split("?")[0]
                st.caption(t("sidebar.share_link"))
                st.code(f"{base}?share={link}", language=None)
        confirm = st.checkbox(t("sidebar.delete_confirm"), key="aelab.sidebar.delete_confirm")
        if st.button(t("sidebar.delete"), key="aelab.sidebar.delete", disabled=not confirm, icon=":material/delete:"):
            workspace.delete()
            st.rerun()


def dataset_upload() -> None:
    """The sidebar's dataset upload: a file, and for a .zip the image side and colour (call inside the sidebar)."""
    with st.expander(t("sidebar.data_upload"), icon=":material/upload_file:"):
        st.number_input(t("sidebar.data_side"), 4, 128, 28, key=DATA_SIDE_KEY)
        st.checkbox(t("sidebar.data_rgb"), key=DATA_RGB_KEY)
        st.file_uploader(
            t("sidebar.data_file"),
            type=[f.lstrip(".") for f in FORMATS],
            key=DATA_UPLOAD_KEY,
            on_change=_on_data_upload,
            help=t("sidebar.data_help"),
        )
        data = _data_state()
        if data.notice:
            st.success(data.notice, icon=":material/check:")


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
        if checkpoint.dataset not in dataset_options():
            raise AelabError(t("sidebar.unknown_dataset", dataset=checkpoint.dataset, known=", ".join(dataset_names())))
        check_fits(checkpoint, cache.dataset(checkpoint.dataset))
    except ModelDoesNotFit as error:
        message = t("sidebar.shape_mismatch", expected=error.expected, dataset=error.dataset, found=error.found)
        state.upload_error = t("sidebar.upload_refused", name=file.name, message=message)
        return
    except AelabError as error:
        state.upload_error = t("sidebar.upload_refused", name=file.name, message=error)
        return
    # The same weights uploaded again select the entry they already have.
    digest = checkpoint.header.weights_sha256
    for entry in state.entries:
        if entry.checkpoint.header.weights_sha256 == digest:
            select(entry)
            return
    add_session_model(t("sidebar.upload_title", name=Path(file.name).stem), checkpoint, source="upload")


def _sync_widgets() -> None:
    """Write the selection into the widgets' keys (before they exist in this run)."""
    state = selection()
    if state.dataset not in dataset_options():
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
    _ensure_dataset()
    _sync_widgets()
    state = selection()
    with st.sidebar:
        st.radio(
            t("sidebar.language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__, key=LANGUAGE_KEY, horizontal=True
        )
        labels = {name: dataset_label(name) for name in dataset_options()}  # read in this run: labels of uploads
        st.selectbox(
            t("sidebar.dataset"),
            list(labels),
            format_func=labels.__getitem__,
            key=DATASET_KEY,
            on_change=_on_dataset,
        )
        if _data_state().error:
            st.error(_data_state().error)
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
        for problem in pretrained_problems(state.dataset):
            st.warning(t("sidebar.pretrained_refused", message=problem), icon=":material/gpp_bad:")
        st.file_uploader(t("sidebar.upload"), key=UPLOAD_KEY, on_change=_on_upload, help=t("sidebar.upload_help"))
        if state.upload_error:
            st.error(state.upload_error)
        for problem in workspace.session().problems:
            st.warning(problem, icon=":material/warning:")
        workspace.session().problems.clear()
        dataset_upload()  # after the checkpoint uploader, so that one stays the sidebar's first file uploader
        _workspace_box()
