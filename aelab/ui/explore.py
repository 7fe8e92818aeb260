"""Explore: the latent plane of the sidebar's model, and what can be decoded from it.

The page opens on the shipped VAE for MNIST-5k. A click anywhere on the plane (or a slider) picks a code z;
the decoder ψ turns it into an image at once. Below: the real samples whose codes lie nearest to z, the
manifold of decoded images over the plane, interpolation between two codes, new samples, and
reconstructions ψ(φ(x)) of dataset images.

What is decoded where: the plane component (aelab.ui.plane, plane.js) holds the decoder's weights
(aelab.export.decoder_spec) and its sliders, so a click, a drag of the cross, an arrow key or a slider move
is decoded and drawn by the browser in the same frame; so is the interpolation strip A → B, in the plane's
panel, while A or B (markers on the plane) is dragged. The server hears one message per finished gesture
and reruns only the fragment that needs the data: the gesture is validated (NaN, infinity or far outside
the bounds is refused with a message; a little outside is clamped), the point is kept in the page's state
and the nearest real samples are found. A model or projection the browser cannot decode (e.g. UMAP of
d > 2 codes) keeps the server path: the server decodes the point and the relay carries the picture, the
server draws the interpolation strip, and the page says so. The plane's payload depends only on the model,
the projection, the background and the language, so a gesture's rerun re-sends only the small relay (a
finished drag of A or B reruns the page once, to bring the Interpolation section's ends up to date). Every section below is a fragment of its
own; the offline explorer (aelab.export.explorer_html) is a download button. Codes of latent dimension
d ≠ 2 are drawn through a :class:`PlaneMap` (PCA or UMAP of the codes for d > 2), and the sliders cover all d.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import streamlit as st

from aelab.animate import walk_gif
from aelab.data import Dataset, factor_classes
from aelab.imaging import crisp_png, data_url, grid_image, png_bytes, tile
from aelab.latent import (
    PlaneMap,
    analogies,
    decode_point,
    default_ends,
    encode_images,
    interpolate,
    nearest,
    samples_from_prior,
)
from aelab.models import Autoencoder
from aelab.plane import SPRITE_LIMIT_BYTES, SliderSpec, slider_specs
from aelab.ui import cache, workspace
from aelab.ui.i18n import t
from aelab.ui.plane import interpolation_ends, latent_plane, parse_click, parse_code, point_outside
from aelab.ui.state import ModelEntry, dataset_title, require_model
from aelab.ui.widgets import picture_row

STATE_KEY = "aelab.explore"
# The workspace's current point and interpolation ends: {"model": entry id, "z", "a", "b": [d floats] each}.
POINT_LIGHT_KEY = "explore.point"
PLANE_KEY = "explore.plane"
GRID_SIZE_KEY = "explore.grid_size"
BACKGROUND_KEY = "explore.background"
HOVER_KEY = "explore.hover"
PROJECTION_KEY = "explore.projection"
INDEX_KEY = "explore.index"
STEPS_KEY = "explore.steps"
COUNT_KEY = "explore.count"
WALK_GIF_STEPS = 24  # images in a recorded walk A → B (the GIF goes there and back)
COLOUR_KEY = "explore.colour_by"
DRAW_AS_KEY = "explore.draw_as"  # the label a conditional model's single images are drawn as
GENERATE_LABEL_KEY = "explore.generate_label"

DECODED_WIDTH = 224  # CSS pixels of the large decoded image (the plane's panel draws it at the same size)
NEAREST_K = 8
NEAREST_WIDTH = 56  # CSS pixels of each nearest sample
PLANE_HEIGHT = 760  # the tallest the plot may be; its height follows its width (equal scale on both axes)


# --- per-session state -------------------------------------------------------------------------------------


@dataclass
class ExploreState:
    """The chosen code and the interpolation ends, for one model (reset when the model changes). All (d,)."""

    entry_id: str
    point: np.ndarray
    a: np.ndarray
    b: np.ndarray
    generate_seed: int = 0
    seen_click: object = None  # the plane's last gesture already applied (the component keeps its last one)
    answered: int | None = None  # its nonce, sent back so the plane knows the server has caught up
    refused: str | None = None  # why the last gesture was refused, shown once
    background_size: int | None = None  # the grid size drawn under the plane, None without a background


def _saved_codes(entry_id: str, codes: np.ndarray) -> dict[str, np.ndarray]:
    """The point ("z") and interpolation ends ("a", "b") this workspace last chose on this model's plane.

    Read back from the store, so checked like anything sent by a browser: d finite numbers, clamped to the
    sliders' ranges; one that is missing or refused is left out.
    """
    saved = workspace.light().get(POINT_LIGHT_KEY)
    if not isinstance(saved, dict) or saved.get("model") != entry_id:
        return {}
    specs = slider_specs(codes)
    found = {}
    for name in ("z", "a", "b"):
        z, _reason = parse_code({"z": saved.get(name)}, specs)
        if z is not None:
            found[name] = z
    return found


def _remember_point(state: ExploreState) -> None:
    codes = {"z": state.point, "a": state.a, "b": state.b}
    workspace.set_light(
        POINT_LIGHT_KEY, {"model": state.entry_id, **{k: [float(v) for v in z] for k, z in codes.items()}}
    )


def _state(entry: ModelEntry, codes: np.ndarray, labels: np.ndarray) -> ExploreState:
    state = st.session_state.get(STATE_KEY)
    if not isinstance(state, ExploreState) or state.entry_id != entry.id:
        a, b = default_ends(codes, labels)
        saved = _saved_codes(entry.id, codes)  # a reload or a new tab comes back to the same point and ends
        start = saved.get("z", codes[0].astype(np.float64).copy())  # else sample 0's code
        state = ExploreState(entry.id, start, saved.get("a", a), saved.get("b", b))
        state.seen_click = _last_click()  # a click made on another model's plane is not a choice for this one
        st.session_state[STATE_KEY] = state
    return state


def _last_click() -> object:
    """The plane's last click as the component stores it ({"x", "y", "n"}), or None."""
    value = st.session_state.get(PLANE_KEY)
    return value.get("click") if isinstance(value, dict) else None


def _follow_click(state: ExploreState, plane_map: PlaneMap, specs: list[SliderSpec], bounds: np.ndarray) -> bool:
    """A gesture not seen before becomes the point (or, for a drag of A or B, that interpolation end), after
    validation; returns whether an interpolation end moved.

    The browser sends the plane point (x, y) and, where it decodes, the full code z. A code is used as it is
    (a slider sets any dimension); otherwise the plane point goes through the projection's inverse. Either
    is clamped to the sliders' ranges; NaN, infinity or a point far outside the bounds is refused with a
    message and the point (or end) stays where it was. Read at the start of the run rather than in an
    on_click callback, so that a gesture set through session state works the same.
    """
    click = _last_click()
    if click == state.seen_click:
        return False
    state.seen_click = click
    state.refused = None
    nonce = click.get("n") if isinstance(click, dict) else None
    state.answered = nonce if isinstance(nonce, int) and not isinstance(nonce, bool) else None
    z, reason = parse_code(click, specs)
    if z is None and reason is None:
        clicked = parse_click(click)
        if clicked is None:
            reason = t("explore.refused_reason_bad") if isinstance(click, dict) else None
        elif point_outside(clicked, bounds):
            reason = t("explore.far_outside")
        else:
            z = plane_map.to_latent(np.array([clicked], dtype=np.float32))[0].astype(np.float64)
            z = np.clip(z, [s.low for s in specs], [s.high for s in specs])
    if reason is not None:
        state.refused = t("explore.refused", reason=reason)
    end = click.get("gesture") if isinstance(click, dict) else None
    if z is not None and end in ("a", "b"):
        setattr(state, end, z)
        _remember_point(state)
        return True
    if z is not None:
        state.point = z
        _remember_point(state)
    return False


# --- pictures ----------------------------------------------------------------------------------------------


def _fmt(values: np.ndarray) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


# --- the page ------------------------------------------------------------------------------------------------


def render() -> None:
    """The Explore page for the sidebar's dataset and model."""
    now = require_model()
    entry, dataset = now.entry, now.dataset
    assert entry is not None  # require_model stopped the run otherwise
    with st.spinner(t("explore.encoding")):
        codes = cache.codes(entry.id, entry.checkpoint, dataset.name)
    _state(entry, codes, dataset.labels)
    specs = cache.slider_specs(entry.id, dataset.name, codes)
    st.session_state.setdefault(GRID_SIZE_KEY, 15)
    st.session_state.setdefault(PROJECTION_KEY, "pca")

    st.header(t("explore.title"))
    st.caption(t("explore.intro", model=entry.title, dataset=dataset_title(dataset)))
    # Outside the fragments: both change the plane and the manifold below, so they rerun the whole page.
    d = codes.shape[1]
    options, notes = st.columns([1, 2], vertical_alignment="center")
    options.checkbox(t("explore.background"), key=BACKGROUND_KEY, help=t("explore.background_help"))
    _hover_options(options, entry, dataset)
    if entry.checkpoint.model.conditional:
        options.selectbox(
            t("explore.draw_as"),
            range(dataset.n_classes),
            format_func=lambda k: dataset.label_names[k],
            key=DRAW_AS_KEY,
            help=t("explore.draw_as_help"),
        )
    if dataset.factors:
        options.selectbox(
            t("explore.colour_by"),
            ["label", *dataset.factors],
            key=COLOUR_KEY,
            format_func=lambda f: t("explore.colour_label") if f == "label" else f,
            help=t("explore.colour_by_help"),
        )
    if d > 2:
        with notes:
            st.radio(
                t("explore.projection"),
                ["pca", "umap"],
                format_func=lambda m: t(f"explore.projection_{m}"),
                key=PROJECTION_KEY,
                horizontal=True,
                help=t("explore.projection_note", d=d),
            )
    elif d == 1:
        notes.caption(t("explore.line_note"))
    _view(entry, dataset, codes, specs)
    left, right = st.columns(2, gap="large")
    with left, st.container(border=True):
        _manifold_section(entry, dataset, codes)
    with right, st.container(border=True):
        _interpolation_section(entry, dataset, codes)
    left, right = st.columns(2, gap="large")
    with left, st.container(border=True):
        _generate_section(entry, dataset, codes)
    with right, st.container(border=True):
        _reconstruction_section(entry, dataset)


def drawn_label(entry: ModelEntry) -> int | None:
    """The label a conditional model draws single images as (the "Draw as" choice); None for other kinds."""
    model = entry.checkpoint.model
    if not model.conditional:
        return None
    chosen = st.session_state.get(DRAW_AS_KEY, 0)
    return chosen if isinstance(chosen, int) and 0 <= chosen < model.config.classes else 0


def colouring(dataset: Dataset) -> tuple[np.ndarray, tuple[str, ...]]:
    """What the plane's colours and legend show: (classes (N,), names): the labels, or a chosen factor's bins."""
    factor = st.session_state.get(COLOUR_KEY, "label")
    if factor not in dataset.factors:
        return dataset.labels, dataset.label_names
    return factor_classes(dataset.factors[factor])


def _current_map(
    entry: ModelEntry, dataset: Dataset, codes: np.ndarray
) -> tuple[str, PlaneMap, np.ndarray, np.ndarray]:
    """(projection method, map, plane points (N, 2), plane bounds (2, 2)) for the chosen projection."""
    method = st.session_state[PROJECTION_KEY] if codes.shape[1] > 2 else "identity"
    with st.spinner(t("explore.fitting_umap") if method == "umap" else t("explore.encoding")):
        plane_map = cache.plane_map(entry.id, dataset.name, method, codes)
        points, bounds = cache.plane_points(entry.id, dataset.name, method, codes)
    return method, plane_map, points, bounds


def _plane_texts(in_browser: bool) -> dict[str, str]:
    """The plane panel's words in the page's language (plane.js fills {i} and {name} in `slider`)."""
    return {
        "decoded": t("explore.decoded"),
        "slider": t("explore.slider"),
        "far": t("explore.far"),
        "where": t("explore.where_browser") if in_browser else t("explore.where_server"),
        "strip": t("explore.strip"),
        "strip_hint": t("explore.strip_hint"),
        "row": t("explore.row"),
    }


@st.fragment
def _view(entry: ModelEntry, dataset: Dataset, codes: np.ndarray, specs: list[SliderSpec]) -> None:
    """The plane with its decoded image and sliders (plane.js), then the nearest samples of the chosen point."""
    state = _state(entry, codes, dataset.labels)
    model = entry.checkpoint.model
    method, plane_map, points, bounds = _current_map(entry, dataset, codes)
    if _follow_click(state, plane_map, specs, bounds):
        # A or B moved: the browser has drawn the strip already; the Interpolation section's caption (another
        # fragment) is brought up to date by one rerun of the page, once per finished drag.
        st.rerun(scope="app")
    decoder = cache.browser_decoder(entry.id, dataset.name, method, model, plane_map)  # None: decode on the server only
    label = drawn_label(entry)
    background, grid = None, None
    state.background_size = None
    if st.session_state.get(BACKGROUND_KEY):
        state.background_size = int(st.session_state[GRID_SIZE_KEY])
        if decoder is not None:  # the browser decodes it over the visible window, again on zoom and pan
            grid = state.background_size
        else:
            background = cache.manifold_background(
                entry.id, dataset.name, method, state.background_size, bounds, model, plane_map, label
            )

    # Where the browser cannot decode, the server does, and the relay carries the picture to the panel.
    image = None
    if decoder is None:
        image = data_url(crisp_png(decode_point(model, state.point, label), DECODED_WIDTH)[0])
    selected = plane_map.to_plane(state.point[None].astype(np.float32))[0]
    colours, colour_names = colouring(dataset)
    latent_plane(
        points,
        colours,
        colour_names,
        bounds,
        key=PLANE_KEY,
        selected=(float(selected[0]), float(selected[1])),
        background=background,
        height=PLANE_HEIGHT,
        decoder=decoder,
        hover=bool(st.session_state.get(HOVER_KEY, True)),
        sliders=specs,
        texts=_plane_texts(decoder is not None),
        code=state.point.tolist(),
        answers=state.answered,
        image=image,
        spacing=cache.spacing(entry.id, dataset.name, method, points),
        grid=grid,
        sprite=cache.sprite(dataset.name, dataset.images),
        label=label,
    )
    if state.refused:
        st.warning(state.refused, icon=":material/block:")
    if decoder is None:
        st.caption(t("explore.hover_server"))
    if cache.sprite(dataset.name, dataset.images) is None:
        st.caption(t("explore.no_sprite", mb=SPRITE_LIMIT_BYTES / 1e6))
    st.caption(t("explore.point", values=_fmt(state.point)))
    _nearest_samples(dataset, codes, state.point)


def _nearest_samples(dataset: Dataset, codes: np.ndarray, point: np.ndarray) -> None:
    """The K real samples whose codes are nearest the point, closest first, with their labels and distances."""
    st.markdown(f"**{t('explore.nearest')}**", help=t("explore.nearest_help", k=NEAREST_K))
    index, distances = nearest(codes, point.astype(np.float32), NEAREST_K)
    pictures = [
        (
            cache.sample_data_url(dataset.name, int(i), dataset.images),
            t("explore.nearest_caption", label=dataset.label_names[dataset.labels[i]], distance=float(distance)),
        )
        for i, distance in zip(index, distances)
    ]
    picture_row(pictures, NEAREST_WIDTH)


# --- hover decoding and the offline explorer ------------------------------------------------------------


def _hover_options(column: Any, entry: ModelEntry, dataset: Dataset) -> None:
    """The hover toggle and the offline explorer's download button (built only when clicked)."""
    st.session_state.setdefault(HOVER_KEY, True)
    column.checkbox(t("explore.hover"), key=HOVER_KEY, help=t("explore.hover_help"))
    if cache.runs_in_browser(entry.id, entry.checkpoint.model):
        column.download_button(
            t("explore.export_html"),
            lambda: cache.explorer_html(entry.id, dataset.name, entry.checkpoint, dataset),
            file_name=f"aelab-{entry.id.split(':')[-1][:24]}-explorer.html",
            mime="text/html",
            on_click="ignore",
            icon=":material/download:",
            key="explore.export_html",
            help=t("explore.export_html_help"),
        )


@st.fragment
def _manifold_section(entry: ModelEntry, dataset: Dataset, codes: np.ndarray) -> None:
    st.subheader(t("explore.grid"), help=t("explore.grid_help"))
    n = st.slider(t("explore.grid_size"), 8, 25, key=GRID_SIZE_KEY)
    method, plane_map, _, bounds = _current_map(entry, dataset, codes)
    label = drawn_label(entry)
    cache.show_cached(
        ("manifold", entry.id, dataset.name, method, n, bounds.tobytes(), label),
        lambda: grid_image(
            cache.manifold(entry.id, dataset.name, method, n, bounds, entry.checkpoint.model, plane_map, label)
        ),
        520,
    )
    background_size = st.session_state[STATE_KEY].background_size
    if background_size is not None and background_size != n:
        st.rerun(scope="app")  # the plane's background shows the grid of the old size: redraw the plane too


@st.fragment
def _interpolation_section(entry: ModelEntry, dataset: Dataset, codes: np.ndarray) -> None:
    """Steps and "A/B = current point"; where the browser decodes, the plane draws A, B and the strip (the
    ends go to it through a small relay, so only this fragment reruns), else the server decodes the strip."""
    st.subheader(t("explore.interpolation"), help=t("explore.interpolation_help"))
    state = st.session_state[STATE_KEY]
    steps = st.slider(t("explore.steps"), 3, 16, 8, key=STEPS_KEY)
    set_a, set_b = st.columns(2)
    if set_a.button(t("explore.set_a"), key="explore.set_a", width="stretch"):
        state.a = state.point.copy()
        _remember_point(state)
    if set_b.button(t("explore.set_b"), key="explore.set_b", width="stretch"):
        state.b = state.point.copy()
        _remember_point(state)
    method, plane_map, _, _ = _current_map(entry, dataset, codes)
    if cache.browser_decoder(entry.id, dataset.name, method, entry.checkpoint.model, plane_map) is not None:
        interpolation_ends(PLANE_KEY, state.a.tolist(), state.b.tolist(), steps, answers=state.answered)
        st.caption(t("explore.strip_in_browser"))
    else:
        label = drawn_label(entry)
        cache.show_cached(
            ("interpolation", entry.id, state.a.tobytes(), state.b.tobytes(), steps, label),
            lambda: tile(interpolate(entry.checkpoint.model, state.a, state.b, steps, label)[1], columns=steps, pad=1),
            60 * steps,
        )
    st.caption(t("explore.ends", a=_fmt(state.a), b=_fmt(state.b)))
    _walk_downloads(entry, state.a.copy(), state.b.copy(), steps)


def _walk_downloads(entry: ModelEntry, a: np.ndarray, b: np.ndarray, steps: int) -> None:
    """The walk A → B to keep: an animated GIF (there and back) and the strip as a PNG, each made only when
    its button is pressed (the walk as it stands now; a walk with no length says so). A conditional model's GIF
    walks every label's row at once; its PNG strip is drawn as the chosen label."""
    model = entry.checkpoint.model
    label = drawn_label(entry)
    name = f"{entry.id.partition(':')[2] or 'model'}-walk"
    if np.allclose(a, b):
        st.caption(t("explore.walk_no_length"))
        return
    gif, png = st.columns(2)
    gif.download_button(
        t("explore.walk_gif"),
        lambda: walk_gif(model, a.tolist(), b.tolist(), steps=WALK_GIF_STEPS),
        file_name=f"{name}.gif",
        mime="image/gif",
        icon=":material/animated_images:",
        key="explore.walk_gif",
        on_click="ignore",
        width="stretch",
    )
    png.download_button(
        t("explore.walk_png"),
        lambda: png_bytes(tile(interpolate(model, a, b, steps, label)[1], columns=steps, pad=1), scale=4),
        file_name=f"{name}.png",
        mime="image/png",
        icon=":material/image:",
        key="explore.walk_png",
        on_click="ignore",
        width="stretch",
    )


@st.fragment
def _generate_section(entry: ModelEntry, dataset: Dataset, codes: np.ndarray) -> None:
    st.subheader(t("explore.generate"))
    model = entry.checkpoint.model
    label = _generate_label(model, dataset)
    state = st.session_state[STATE_KEY]
    n = st.slider(t("explore.count"), 4, 64, 16, step=4, key=COUNT_KEY)
    resample, download = st.columns(2)
    if resample.button(t("explore.resample"), key="explore.resample", icon=":material/casino:", width="stretch"):
        state.generate_seed += 1
    seed = state.generate_seed

    def images() -> np.ndarray:
        return cache.generated(entry.id, dataset.name, n, seed, model, codes[dataset.train_idx], label)

    pictures = cache.pictures(("generated", entry.id, dataset.name, n, seed, label), lambda: list(images()), 52)
    st.image([data for data, _ in pictures], width=pictures[0][1], output_format="PNG")
    st.caption(t("explore.seed", n=n, seed=state.generate_seed))
    download.download_button(
        t("explore.download"),
        cache.mosaic_png(entry.id, dataset.name, n, seed, images, label),
        file_name=f"aelab-{entry.id.split(':')[-1][:24]}-samples-{state.generate_seed}.png",
        mime="image/png",
        on_click="ignore",
        icon=":material/download:",
        key="explore.download",
        width="stretch",
    )


def _generate_label(model: Autoencoder, dataset: Dataset) -> int | None:
    """The caption of how samples are drawn and, for a conditional model, the label chosen for them (None:
    every label in turn)."""
    if not model.conditional:
        st.caption(t("explore.generate_prior") if samples_from_prior(model) else t("explore.generate_mixture"))
        return None
    st.caption(t("explore.generate_conditional"))
    return st.selectbox(
        t("explore.generate_label"),
        [None, *range(dataset.n_classes)],
        format_func=lambda k: t("explore.every_label") if k is None else dataset.label_names[k],
        key=GENERATE_LABEL_KEY,
    )


def _random_index(size: int) -> None:
    st.session_state[INDEX_KEY] = int(np.random.default_rng().integers(size))


@st.fragment
def _reconstruction_section(entry: ModelEntry, dataset: Dataset) -> None:
    st.subheader(t("explore.reconstruction"), help=t("explore.reconstruction_help"))
    index_column, button_column = st.columns([3, 2], vertical_alignment="bottom")
    st.session_state.setdefault(INDEX_KEY, int(dataset.test_idx[0]))
    index = index_column.number_input(t("explore.index"), 0, len(dataset) - 1, step=1, key=INDEX_KEY)
    button_column.button(
        t("explore.random"),
        key="explore.random",
        on_click=_random_index,
        args=(len(dataset),),
        icon=":material/shuffle:",
        width="stretch",
    )
    model = entry.checkpoint.model
    told = int(dataset.labels[index]) if model.conditional else None
    original, rebuilt, mse = cache.reconstruction(entry.id, dataset.name, int(index), model, dataset.images, told)
    split = t("explore.split_test") if np.isin(index, dataset.test_idx) else t("explore.split_train")
    label = dataset.label_names[dataset.labels[index]]
    columns = st.columns(3)
    for column, kind, image, caption in zip(
        columns,
        ("x", "rebuilt", "difference"),
        (original[0], rebuilt[0], np.abs(original[0] - rebuilt[0])),
        (t("explore.original", label=label, split=split), t("explore.reconstructed"), t("explore.difference")),
    ):
        with column:
            key = ("reconstruction", entry.id, dataset.name, int(index), kind)
            cache.show_cached(key, partial(np.asarray, image), 120, caption)
    st.markdown(t("explore.mse", mse=mse))
    if told is not None:  # the sample's own style, drawn as every label
        code = encode_images(model, original, told)
        cache.show_cached(
            ("analogies", entry.id, dataset.name, int(index)),
            lambda: tile(analogies(model, code)[0], columns=dataset.n_classes),
            60 * dataset.n_classes,
            t("explore.analogies"),
        )
