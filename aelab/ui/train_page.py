"""The Train page: choose a model and its training settings, watch it learn, keep the result.

Training runs in a :class:`aelab.jobs.TrainingJob` owned by a server-wide :class:`~aelab.jobs.TrainingPool`
(a page script is rerun at every click, which would kill a loop written here). The page files the job
under the workspace's id, and a fragment that reruns every half second while the job is active draws its
progress, the loss curves and the test codes moving in the plane. Switching pages, reloading the page or
opening another tab finds the same job. When it ends, the worker thread saves the model in the workspace
(even if no page is open), and it joins the workspace's models in the sidebar.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from aelab.animate import replay_gif
from aelab.baselines import Metrics
from aelab.jobs import DONE, FAILED, QUEUED, JobSnapshot, TrainingJob, TrainingPool
from aelab.models import Setting, kinds, model_class
from aelab.recipes import TrainedModel, model_config_for, train_config_for
from aelab.store import StoredItem
from aelab.ui import cache, workspace
from aelab.ui.i18n import language, t, t_or
from aelab.ui.plane import label_colors
from aelab.ui.session import session_object
from aelab.ui.state import (
    add_session_model,
    dataset_label,
    dataset_options,
    refresh_from_workspace,
    select,
    selection,
    stored_id,
)
from aelab.ui.widgets import metrics_table

STATE_KEY = "aelab.train"
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
BATCH_SIZES = (16, 32, 64, 128, 256)
POLL_S = 0.5
# Trainings that may run at once on one server; the rest queue. Each gets cores // this many torch threads.
MAX_TRAININGS = int(os.environ.get("AELAB_MAX_TRAININGS", "2"))


@dataclass
class TrainPageState:
    """This session's side of training: what it collected from the workspace's jobs."""

    collected: dict[str, str] = field(default_factory=dict)  # job id -> title of the sidebar entry it became
    checkpoints: dict[str, bytes] = field(default_factory=dict)  # job id -> checkpoint bytes for the download


def page_state() -> TrainPageState:
    return session_object(STATE_KEY, TrainPageState)


@st.cache_resource(show_spinner=False)
def training_pool() -> TrainingPool:
    """The one pool of this server process, shared by every session (jobs inside are keyed per workspace)."""
    return TrainingPool(max_workers=MAX_TRAININGS)


def current_job() -> TrainingJob | None:
    """This workspace's latest training job, if any (started in this tab, an earlier page or another tab)."""
    if not workspace.is_open():
        return None
    return training_pool().job(workspace.workspace().id)


def kind_title(kind: str) -> str:
    """A model kind's name in the session's language (the library's English title for a kind with no string)."""
    return t_or(f"kind.{kind}", model_class(kind).title)


def _setting_widget(setting: Setting) -> float:
    """The Train page's control for one of the chosen kind's settings (its range and default from models.py)."""
    label = t_or(f"train.{setting.name}", setting.title)
    help_text = t_or(f"train.{setting.name}_help", setting.help) or None
    key = f"train.{setting.name}"
    if setting.choices:
        return st.select_slider(
            label, setting.choices, setting.default, format_func="{:g}".format, key=key, help=help_text
        )
    if setting.integer:
        low, high, step, default = int(setting.low), int(setting.high), int(setting.step), int(setting.default)
        return st.slider(label, low, high, default, step, key=key, help=help_text)
    return st.slider(label, setting.low, setting.high, setting.default, setting.step, key=key, help=help_text)


# --- settings ---------------------------------------------------------------------------------------------


def _settings(active: bool) -> None:
    """The settings column; Train files a new job for this session."""
    st.subheader(t("train.settings"))
    labels = {n: dataset_label(n) for n in dataset_options(ready_only=True)}  # uploads too; nothing to fetch
    names = list(labels)
    current_dataset = selection().dataset
    name = st.selectbox(
        t("train.dataset"),
        names,
        index=names.index(current_dataset) if current_dataset in names else 0,
        format_func=labels.__getitem__,
        key="train.dataset",
    )
    kind = st.selectbox(t("train.kind"), kinds(), format_func=kind_title, key="train.kind")
    latent_dim = st.number_input(
        t("train.latent_dim"), 1, 16, 2, key="train.latent_dim", help=t("train.latent_dim_help")
    )
    dataset = cache.dataset(name)
    defaults = train_config_for(dataset)
    # Keys per dataset: each dataset keeps its own sensible defaults and the user's changes to them.
    epochs = st.number_input(t("train.epochs"), 1, 500, defaults.epochs, key=f"train.epochs.{name}")
    lr = st.select_slider(t("train.lr"), LEARNING_RATES, defaults.lr, format_func="{:g}".format, key=f"train.lr.{name}")
    batch_size = st.select_slider(
        t("train.batch_size"), BATCH_SIZES, defaults.batch_size, key=f"train.batch_size.{name}"
    )
    settings = {s.name: _setting_widget(s) for s in model_class(kind).settings if s.on_page}
    seed = st.number_input(t("train.seed"), 0, 1_000_000, 0, key="train.seed")
    if st.button(t("train.start"), type="primary", disabled=active, key="train.start", icon=":material/play_arrow:"):
        model_config = model_config_for(dataset, kind, latent_dim=int(latent_dim), seed=int(seed), **settings)
        train_config = train_config_for(
            dataset, epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), seed=int(seed)
        )
        title = t("train.model_title", kind=kind_title(kind), time=time.strftime("%H:%M:%S"))
        training_pool().submit(
            workspace.workspace().id, dataset, model_config, train_config, keep=_keeper(title, dataset.name)
        )
        st.rerun()  # redraw with the job active: the Train button disabled, the progress fragment polling


# --- progress -----------------------------------------------------------------------------------------------


def loss_figure(snap: JobSnapshot) -> go.Figure:
    """Train and test loss per finished epoch."""
    epochs = list(range(1, len(snap.train_losses) + 1))
    figure = go.Figure()
    figure.add_scatter(
        x=epochs, y=[terms["loss"] for terms in snap.train_losses], name=t("train.train_curve"), mode="lines+markers"
    )
    figure.add_scatter(
        x=epochs, y=[terms["loss"] for terms in snap.test_losses], name=t("train.test_curve"), mode="lines+markers"
    )
    figure.update_layout(
        title=t("train.loss_title"),
        xaxis_title=t("train.epoch_axis"),
        yaxis_title=t("train.loss_axis"),
        height=380,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
    )
    figure.update_xaxes(range=[0.5, max(snap.epochs, 1) + 0.5])
    return figure


def codes_figure(snap: JobSnapshot, label_names: tuple[str, ...]) -> go.Figure:
    """The test codes of the latest epoch, one trace per class in the plane's colours."""
    codes, labels = snap.codes, snap.labels
    assert codes is not None  # drawn only once an epoch has codes
    colors = label_colors(len(label_names))
    figure = go.Figure()
    for k, name in enumerate(label_names):
        mask = labels == k
        figure.add_scattergl(
            x=codes[mask, 0],
            y=codes[mask, 1] if codes.shape[1] > 1 else 0 * codes[mask, 0],
            mode="markers",
            name=str(name),
            marker=dict(color=colors[k], size=5, opacity=0.8),
        )
    d = codes.shape[1]
    title = t("train.scatter_title", epoch=snap.epoch) if d == 2 else t("train.scatter_dims", epoch=snap.epoch, d=d)
    figure.update_layout(
        title=title,
        height=380,
        margin=dict(l=10, r=10, t=50, b=10),
        xaxis_title="z₁",
        yaxis_title="z₂",
        legend=dict(itemsizing="constant"),
    )
    return figure


def _keeper(title: str, dataset_name: str) -> Callable[[TrainedModel], StoredItem]:
    """The job's keep callback: save the model in this workspace from the worker thread, page or no page."""
    store, own = workspace.store(), workspace.workspace()

    def keep(trained: TrainedModel) -> StoredItem:
        return store.save_model(own, trained.checkpoint.to_bytes(), title, origin="session")

    return keep


def _collect(job: TrainingJob, snap: JobSnapshot) -> None:
    """Make a finished job's model the chosen one in this session (once): the one the job saved in the
    workspace, or, when the workspace refused it, a model kept for this session only."""
    state = page_state()
    if job.id in state.collected or snap.model is None:
        return
    trained = snap.model
    if isinstance(snap.saved, StoredItem):
        refresh_from_workspace()
        entry = next((e for e in selection().entries if e.id == stored_id(snap.saved.name)), None)
        # Chosen once per job, not again in every later session (a reload must keep a choice made since).
        if entry is not None and workspace.light().get("collected_job") != job.id:
            select(entry)
            workspace.set_light("collected_job", job.id)
        state.collected[job.id] = snap.saved.title
    elif trained.history.epochs == 0:  # stopped before its first epoch finished: nothing worth keeping
        state.collected[job.id] = ""
        return
    else:  # the workspace refused it (quota, full disk): trying again says why, or succeeds if room was made
        title = t("train.model_title", kind=kind_title(trained.model.kind), time=time.strftime("%H:%M:%S"))
        add_session_model(title, trained.checkpoint, select=True)
        state.collected[job.id] = title
    state.checkpoints = {job.id: trained.checkpoint.to_bytes()}  # only the latest run's bytes are kept


def collect_finished_training() -> None:
    """Add this session's finished run to its models whichever page is open (app.py calls it before the
    sidebar is drawn), so a run that ends while the user explores joins the picker at their next click."""
    job = current_job()
    if job is not None:
        snap = job.snapshot()
        if snap.finished:
            _collect(job, snap)


def _results(job: TrainingJob, snap: JobSnapshot) -> None:
    """What a finished job leaves: its message, its metrics beside PCA(2)'s, the checkpoint download."""
    state = page_state()
    if snap.state == FAILED:
        st.error(t("train.failed", message=snap.error), icon=":material/error:")
        return
    if snap.model is None:
        st.info(t("train.stopped_in_queue"))
        return
    title = state.collected.get(job.id, "")
    trained = snap.model
    dataset = cache.dataset(snap.dataset)
    if snap.state == DONE:
        st.success(
            t(
                "train.done",
                kind=kind_title(trained.model.kind),
                dataset=dataset.title,
                epochs=trained.history.epochs,
                seconds=trained.history.seconds,
                title=title,
            )
        )
    else:
        st.warning(t("train.stopped", epochs=trained.history.epochs, total=snap.epochs, title=title))
    if not trained.learned:
        st.warning(
            t(
                "train.not_learned",
                mse=trained.metrics.test_mse,
                mean=trained.mean_image_mse,
                lr=trained.train_config.lr,
            ),
            icon=":material/warning:",
        )
    st.caption(t("train.metrics", dataset=dataset.title))
    ours = Metrics(
        kind_title(trained.model.kind), trained.metrics.test_mse, trained.metrics.knn_accuracy, trained.history.seconds
    )
    pca = replace(cache.embedding_metrics(snap.dataset, "pca"), method=t("compare.pca"))
    st.dataframe(metrics_table([ours, pca]), hide_index=True)
    data = state.checkpoints.get(job.id)
    if data is not None:
        st.download_button(
            t("train.download"),
            data,
            file_name=f"{snap.dataset}-{trained.model.kind}.safetensors",
            mime="application/octet-stream",
            help=t("train.download_help"),
            icon=":material/download:",
            key="train.download",
        )


REPLAY_FRAMES = 60  # epochs drawn in the page's replay at most (evenly chosen); the GIF takes up to 120


@cache.shared_memo(max_entries=64)
def _progress_figures(
    job_id: str, epoch: int, finished: int, language: str, _snap: JobSnapshot, _label_names: tuple[str, ...]
) -> tuple[go.Figure, go.Figure]:
    """(loss curves, codes scatter) of a job as of its latest finished epoch, built once for every poll of it.

    The progress fragment polls twice a second and an epoch takes seconds: building two plotly figures per
    poll was most of a training student's polls. Shared: st.plotly_chart copies a figure (to_dict), never
    changes it.
    """
    return loss_figure(_snap), codes_figure(_snap, _label_names)


def replay_figure(snap: JobSnapshot, label_names: tuple[str, ...]) -> go.Figure:
    """The kept test codes of every epoch as one Plotly animation (▶ and an epoch slider, played in the
    browser) on axes fixed across the epochs, one trace per class in the plane's colours."""
    n = len(snap.replay)
    chosen = sorted({round(i) for i in np.linspace(0, n - 1, min(n, REPLAY_FRAMES))})
    labels = snap.replay_labels if snap.replay_labels is not None else snap.labels
    colors = label_colors(len(label_names))
    everything = np.concatenate([snap.replay[i] for i in chosen])
    low, high = everything.min(0), everything.max(0)
    pad = 0.05 * np.maximum(high - low, 1e-6)

    def traces(codes: np.ndarray) -> list[go.Scattergl]:
        y = codes[:, 1] if codes.shape[1] > 1 else 0 * codes[:, 0]
        return [
            go.Scattergl(
                x=codes[labels == k, 0],
                y=y[labels == k],
                mode="markers",
                name=str(name),
                marker=dict(color=colors[k], size=5, opacity=0.8),
            )
            for k, name in enumerate(label_names)
        ]

    frames = [go.Frame(data=traces(snap.replay[i]), name=str(i + 1)) for i in chosen]
    figure = go.Figure(data=traces(snap.replay[chosen[0]]), frames=frames)
    steps = [
        dict(method="animate", label=frame.name, args=[[frame.name], dict(mode="immediate", frame=dict(duration=0))])
        for frame in frames
    ]
    play = dict(frame=dict(duration=150, redraw=True), transition=dict(duration=0), fromcurrent=True)
    figure.update_layout(
        height=440,
        margin=dict(l=10, r=10, t=30, b=10),
        xaxis=dict(range=[low[0] - pad[0], high[0] + pad[0]], title="z₁"),
        yaxis=dict(range=[low[-1] - pad[-1], high[-1] + pad[-1]], title="z₂"),
        legend=dict(itemsizing="constant"),
        updatemenus=[
            dict(
                type="buttons",
                x=0,
                y=1.12,
                xanchor="left",
                buttons=[dict(label=t("train.play"), method="animate", args=[None, play])],
            )
        ],
        sliders=[dict(steps=steps, active=0, currentvalue=dict(prefix=t("train.epoch_axis") + " "), pad=dict(t=40))],
    )
    return figure


REPLAY_FIGURE_KEY = "train.replay_figure"


def _kept_replay_figure(snap: JobSnapshot, label_names: tuple[str, ...]) -> go.Figure:
    """:func:`replay_figure`, built once per finished run and language in this session (up to 60 frames of
    Plotly objects: every rerun of the page rebuilt it before). The run's last replay array identifies it."""
    key = (len(snap.replay), language())
    kept = st.session_state.get(REPLAY_FIGURE_KEY)
    if not (isinstance(kept, tuple) and kept[0] is snap.replay[-1] and kept[1] == key):
        kept = (snap.replay[-1], key, replay_figure(snap, label_names))
        st.session_state[REPLAY_FIGURE_KEY] = kept
    return kept[2]


def _replay(snap: JobSnapshot) -> None:
    """The finished run's replay: an animation in the page and a GIF to keep (made only when asked)."""
    if len(snap.replay) < 2:
        return
    label_names = cache.dataset(snap.dataset).label_names
    st.subheader(t("train.replay"), help=t("train.replay_help"))
    st.plotly_chart(_kept_replay_figure(snap, label_names), key="train.replay_chart", width="stretch")
    labels = snap.replay_labels if snap.replay_labels is not None else snap.labels
    st.download_button(
        t("train.replay_gif"),
        lambda: replay_gif(snap.replay, labels),
        file_name=f"{snap.dataset}-{snap.model_config.kind}-training.gif",
        mime="image/gif",
        icon=":material/animated_images:",
        key="train.replay_gif",
        on_click="ignore",
    )


def _job_view() -> None:
    """Progress, curves, scatter and results of this session's job (a fragment, polled while active)."""
    job = current_job()
    if job is None:
        return
    snap = job.snapshot()
    if snap.finished and job.id not in page_state().collected and snap.model is not None:
        _collect(job, snap)
        st.rerun()  # a full run: the sidebar shows the new model and this fragment stops polling
    if snap.state == QUEUED:
        st.info(
            t("train.queued", position=snap.queue_position or 1, running=training_pool().running),
            icon=":material/hourglass_top:",
        )
    elif snap.active:
        starting = "train.starting_umap" if model_class(snap.model_config.kind).slow_prepare else "train.starting"
        text = (
            t("train.progress", epoch=snap.epoch, epochs=snap.epochs, elapsed=snap.elapsed, left=snap.seconds_left)
            if snap.seconds_left is not None
            else t(starting, elapsed=snap.elapsed)
        )
        st.progress(snap.progress, text=text)
    if snap.active and st.button(t("train.stop"), key="train.stop", icon=":material/stop:"):
        job.stop()
    if snap.codes is not None:
        label_names = cache.dataset(snap.dataset).label_names
        curves, scatter = st.columns(2)
        losses, codes = _progress_figures(job.id, snap.epoch, len(snap.train_losses), language(), snap, label_names)
        curves.plotly_chart(losses, key="train.loss_chart", width="stretch")
        scatter.plotly_chart(codes, key="train.codes_chart", width="stretch")
    if snap.finished:
        _results(job, snap)
        _replay(snap)


def render() -> None:
    """The Train page."""
    st.header(t("train.title"))
    st.caption(t("train.intro"))
    job = current_job()
    active = job is not None and job.snapshot().active
    settings, progress = st.columns([1, 3], gap="large")
    with settings:
        _settings(active)
    with progress:
        st.fragment(_job_view, run_every=POLL_S if active else None)()
