"""Which dataset and model this session works with, and the models trained or uploaded in its workspace.

The sidebar's choice lives in one typed :class:`Selection` object in ``st.session_state``; pages read it
through :func:`current`. Models trained or uploaded are saved in the browser's workspace
(:mod:`aelab.ui.workspace`) and kept in the same object, so they appear in this workspace's model picker
only, and come back after a reload, in a new tab or after a server restart. The choice itself (language,
dataset, model per dataset) is the workspace's light state. Pretrained models come from the shared cache
and are never copied per session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

import streamlit as st

from aelab.checkpoint import Checkpoint
from aelab.data import SOURCES, Dataset, dataset_names
from aelab.errors import AelabError
from aelab.models import model_class
from aelab.recipes import PRETRAINED
from aelab.sources import ONLINE, is_cached
from aelab.ui import cache, workspace
from aelab.ui.i18n import LANGUAGE_KEY, LANGUAGES, t, t_or
from aelab.ui.session import session_object

SELECTION_KEY = "aelab.selection"
DEFAULT_DATASET = "mnist5k"

ModelSource = Literal["pretrained", "session", "upload"]


@dataclass(frozen=True, eq=False)
class ModelEntry:
    """A model the sidebar can pick.

    id: unique across every session on the server ("pretrained:<recipe>", or "<source>:<uuid>"), so it can
    key shared caches. checkpoint.model is the torch module: read-only, it may be shared between sessions.
    """

    id: str
    title: str
    source: ModelSource
    checkpoint: Checkpoint

    @property
    def dataset(self) -> str:
        """Name of the dataset the model was trained on."""
        return self.checkpoint.dataset


@dataclass(frozen=True)
class Current:
    """What the pages work with: the sidebar's dataset, and its chosen model.

    entry is None only when no model exists for the dataset (no shipped checkpoint, nothing trained or
    uploaded in this session); pages that need a model call :func:`require_model`.
    """

    dataset: Dataset
    entry: ModelEntry | None


@dataclass
class Selection:
    """This session's choice of dataset and model, and its own models (oldest first)."""

    dataset: str = DEFAULT_DATASET
    model: dict[str, str] = field(default_factory=dict)  # dataset name -> chosen entry id
    entries: list[ModelEntry] = field(default_factory=list)
    upload_error: str | None = None


def dataset_options(ready_only: bool = False) -> list[str]:
    """Dataset names this session can pick: the registered ones, then its own uploads (oldest first).

    With ``ready_only``, online datasets not yet in the per-user cache are left out (picking one would
    need the network).
    """
    names = [n for n in dataset_names() if not (ready_only and n in ONLINE and not is_cached(n))]
    return names + list(cache.session_datasets().by_name)


def dataset_label(name: str) -> str:
    """What a dataset picker shows for ``name``: the registry's short title, or an upload's file name."""
    own = cache.session_datasets().by_name.get(name)
    if own is not None:
        return own.title
    return SOURCES[name].title if name in SOURCES else name


def dataset_title(dataset: Dataset) -> str:
    """The dataset's title in the session's language (its own title when no translation is registered)."""
    return t_or(f"dataset.{dataset.name}", dataset.title)


def selection() -> Selection:
    """This session's :class:`Selection`, created on first use."""
    return session_object(SELECTION_KEY, Selection)


def _shipped(dataset_name: str) -> tuple[list[ModelEntry], list[str]]:
    """(usable shipped models for a dataset in recipe order, messages for the ones that failed verification)."""
    entries, problems = [], []
    for recipe in PRETRAINED:
        if recipe.dataset != dataset_name or not recipe.path.is_file():
            continue
        try:
            checkpoint = cache.pretrained(recipe.name)
        except AelabError as error:  # damaged, swapped or half-written: the other models stay usable
            problems.append(str(error))
            continue
        kind = recipe.model.kind
        title = t("model.pretrained", kind=t_or(f"kind_short.{kind}", model_class(kind).title))
        entries.append(ModelEntry(f"pretrained:{recipe.name}", title, "pretrained", checkpoint))
    return entries, problems


def pretrained_entries(dataset_name: str) -> list[ModelEntry]:
    """Shipped models for a dataset, in recipe order (the default model first); files failing verification are skipped."""
    return _shipped(dataset_name)[0]


def pretrained_problems(dataset_name: str) -> list[str]:
    """User-facing messages for the dataset's shipped files that failed verification (left out of the picker)."""
    return _shipped(dataset_name)[1]


def session_entries() -> list[ModelEntry]:
    """Models trained or uploaded in this session, oldest first."""
    return list(selection().entries)


def model_entries(dataset_name: str) -> list[ModelEntry]:
    """Every model the picker offers for a dataset: shipped ones, then this session's."""
    return pretrained_entries(dataset_name) + [e for e in selection().entries if e.dataset == dataset_name]


def chosen_entry(dataset_name: str) -> ModelEntry | None:
    """The model chosen for a dataset (the first offered if none was chosen yet, or the choice is gone)."""
    entries = model_entries(dataset_name)
    wanted = selection().model.get(dataset_name)
    return next((e for e in entries if e.id == wanted), entries[0] if entries else None)


def current() -> Current:
    """The sidebar's dataset and model for this session."""
    name = selection().dataset
    return Current(cache.dataset(name), chosen_entry(name))


def require_model() -> Current:
    """:func:`current`, or an info box and the end of this run when the dataset has no model yet."""
    now = current()
    if now.entry is None:
        st.info(t("state.no_model", dataset=dataset_title(now.dataset)))
        st.stop()
    return now


def select(entry: ModelEntry) -> None:
    """Make ``entry`` the chosen model (and its dataset the chosen dataset) from code, not from the sidebar.

    The sidebar's widgets show it from the next full run; :func:`current` returns it at once.
    """
    state = selection()
    if entry.dataset in dataset_options():
        state.dataset = entry.dataset
    state.model[entry.dataset] = entry.id


def add_session_model(
    title: str, checkpoint: Checkpoint, select: bool = True, *, source: ModelSource = "session"
) -> ModelEntry:
    """Add a model trained (``source="session"``) or uploaded (``"upload"``) and save it in the workspace.

    It appears in this workspace's model picker for ``checkpoint.dataset`` only. With ``select``, it becomes
    the chosen model (see :func:`select`; call ``st.rerun()`` to redraw the sidebar at once). When the
    workspace refuses it (quota, full disk), it is kept for this session and the sidebar says why.
    """
    if source not in ("session", "upload"):
        raise ValueError(f"source must be 'session' or 'upload'; got {source!r}")
    try:
        item = workspace.store().save_model(workspace.workspace(), checkpoint.to_bytes(), title, source)
    except AelabError as error:
        workspace.session().problems.append(t("state.not_saved", title=title, message=error))
        entry = ModelEntry(f"{source}:{uuid.uuid4().hex}", title, source, checkpoint)
    else:
        workspace.mark_loaded(item.name)
        entry = ModelEntry(stored_id(item.name), title, source, checkpoint)
    selection().entries.append(entry)
    if select:
        _select(entry)
    return entry


_select = select  # add_session_model's parameter shadows the function's name


def stored_source(name: str) -> ModelSource:
    """Whether the stored model ``name`` was trained ("session") or uploaded ("upload"): its name says."""
    return "upload" if name.startswith("upload-") else "session"


def stored_id(name: str) -> str:
    """The picker's id of the stored model ``name``: "<source>:<name>" (names are random, so unique across
    workspaces and safe as keys of shared caches)."""
    return f"{stored_source(name)}:{name}"


def stored_name(entry: ModelEntry) -> str | None:
    """The stored item behind a picker entry, or None for a shipped model or one kept for this session only."""
    name = entry.id.partition(":")[2]
    return name if entry.source != "pretrained" and "-" in name else None  # session-only ids are bare hex


def refresh_from_workspace() -> None:
    """Load what the workspace holds and this session does not yet (saved by another tab, a finished job,
    a share link); each item goes through the checks of an upload, and one that fails is left out with a
    message while the rest load."""
    own = workspace.session()
    if own.workspace is None:
        return
    store = workspace.store()
    for item in workspace.new_items("dataset"):
        workspace.mark_loaded(item.name)
        try:
            cache.add_session_dataset(store.load_dataset(own.workspace, item.name), f"stored:{item.name}")
        except AelabError as error:
            own.problems.append(t("state.refused", kind=item.title, message=error))
    for item in workspace.new_items("model"):
        workspace.mark_loaded(item.name)
        try:
            checkpoint = store.load_model(own.workspace, item.name)
        except AelabError as error:
            own.problems.append(t("state.refused", kind=item.title, message=error))
            continue
        entry = ModelEntry(stored_id(item.name), item.title, stored_source(item.name), checkpoint)
        selection().entries.append(entry)


def restore_choices() -> None:
    """Put the workspace's saved language, dataset and models back as the session's choice (call before the
    sidebar's widgets exist, in the run that opened the workspace)."""
    saved = workspace.light()
    # A link that asks for a language (?lang=zh) is followed; the saved one is for a plain reload.
    if saved.get("language") in LANGUAGES and st.query_params.get("lang") not in LANGUAGES:
        st.session_state[LANGUAGE_KEY] = saved["language"]
    state = selection()
    if isinstance(saved.get("model"), dict):
        state.model.update({str(k): str(v) for k, v in saved["model"].items()})
    if saved.get("dataset") in dataset_options():
        state.dataset = saved["dataset"]


def remember_choices() -> None:
    """Save the session's language, dataset and models in the workspace (written only when changed)."""
    state = selection()
    workspace.set_light("language", st.session_state.get(LANGUAGE_KEY))
    workspace.set_light("dataset", state.dataset)
    workspace.set_light("model", dict(state.model))
