"""The Draw page: draw a digit (or photograph one) and watch where it lands in the latent plane.

The component (aelab/assets/canvas.js) preprocesses, encodes and decodes the drawing in the page at every
animation frame while the pen moves, so the point moves across its small plane and the reconstruction
redraws with no server round trip. On pen-up it sends the canvas as a PNG; this page re-preprocesses it
with :func:`aelab.draw.preprocess`, re-encodes it with torch, and shows the nearest real samples and the
5-NN vote. Each drawing stays on the plane as a numbered marker (per dataset, in :class:`DrawState`).

A conditional model (a cvae) is told a label with each drawing: the one chosen above the canvas, or the one
it explains the drawing best by (:func:`aelab.draw.encode_drawings`). While the pen moves the browser encodes
under the chosen label, or the server's last decision (the markers' relay carries it: one encode per frame).
After pen-up the drawing's code is redrawn under every label, in the drawing's own style.

The small plane is the component's own (``drawPlane`` in canvas.js), kept apart so that the shared plane
module of the Explore page can replace it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import streamlit as st

from aelab.data import Dataset
from aelab.draw import (
    CANVAS_SIDE,
    VOTE_K,
    Landing,
    NoDigit,
    convention_for,
    encode_drawings,
    image_from_data_url,
    land,
    live_label,
    pack_drawings,
    pen_width,
    photo_steps,
    plane_projection,
    preprocess,
    unpack_drawings,
)
from aelab.errors import AelabError
from aelab.export import ASSETS, UnsupportedExport, decoder_spec, encode_floats, encoder_spec
from aelab.imaging import crisp_png, tile
from aelab.latent import PlaneMap, analogies, plane_bounds
from aelab.models import Autoencoder
from aelab.plane import LABEL_COLORS
from aelab.ui import cache, workspace
from aelab.ui.i18n import t
from aelab.ui.plane import served_layers
from aelab.ui.session import session_object
from aelab.ui.state import ModelEntry, require_model
from aelab.ui.widgets import picture_row, show_image

STATE_KEY = "aelab.draw"
COMPONENT_KEY = "aelab-draw"
TOLD_KEY = "aelab-draw-told"  # the label a conditional model is told with a drawing (None: the one it explains best)
NEAREST_SHOWN = 8
MAX_DRAWINGS = 200  # kept per dataset in a session: a class's worth, and a bound a tampered client cannot lift
Source = Literal["canvas", "photo"]


@dataclass
class Drawing:
    """One drawing or photo: its number on the plane, the model input (C, H, W), the code the browser
    computed for it (None for a photo) and the label it told a conditional model (None otherwise)."""

    number: int
    input: np.ndarray
    source: Source
    browser_code: np.ndarray | None = None
    browser_label: int | None = None


@dataclass
class DrawState:
    """This session's drawings per dataset name (kept in the workspace too), the number of the
    latest, the last refusal, the marker epoch (bumped when the markers are cleared), and the photo last read."""

    drawings: dict[str, list[Drawing]] = field(default_factory=dict)
    latest: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    epoch: int = 0
    photo_id: str | None = None
    received: str | None = None  # the nonce of the last canvas message handled

    def put(self, dataset_name: str, drawing: Drawing) -> None:
        """Add the drawing, or replace the one with its number (a drawing grows stroke by stroke); beyond
        MAX_DRAWINGS the oldest goes."""
        kept = [d for d in self.drawings.get(dataset_name, []) if d.number != drawing.number]
        self.drawings[dataset_name] = [*kept, drawing][-MAX_DRAWINGS:]
        self.latest[dataset_name] = drawing.number
        self.error = None

    def clear(self, dataset_name: str) -> None:
        """Drop the dataset's drawings; the canvas numbers from 1 again (the epoch tells it)."""
        self.drawings[dataset_name] = []
        self.latest.pop(dataset_name, None)
        self.epoch += 1

    def next_number(self, dataset_name: str) -> int:
        return 1 + max((d.number for d in self.drawings.get(dataset_name, [])), default=0)


def draw_state(dataset: Dataset) -> DrawState:
    """This session's drawings, with ``dataset``'s brought back from the workspace the first time it is drawn on."""
    state = session_object(STATE_KEY, DrawState)
    if dataset.name not in state.drawings:
        saved = unpack_drawings(workspace.light().get(_light_key(dataset.name)), dataset.image_shape)
        state.drawings[dataset.name] = [Drawing(number, image, source) for number, source, image in saved]  # type: ignore[arg-type]
    return state


def _light_key(dataset_name: str) -> str:
    return f"draw.{dataset_name}"[:100]


def _remember(state: DrawState, dataset_name: str) -> None:
    """Keep the dataset's drawings in the workspace, so that a reload or a restart finds them on the plane."""
    drawings = state.drawings.get(dataset_name, [])
    packed = pack_drawings([(d.number, d.source, d.input) for d in drawings])
    workspace.set_light(_light_key(dataset_name), packed or None)


def _clear(state: DrawState, dataset_name: str) -> None:
    state.clear(dataset_name)
    _remember(state, dataset_name)


# encoder.js builds on decoder.js (its weight reader and linear layer), so decoder.js comes first.
_JS = "\n".join((ASSETS / name).read_text(encoding="utf-8") for name in ("preprocess.js", "decoder.js", "encoder.js"))
_JS += "\n" + (ASSETS / "canvas.js").read_text(encoding="utf-8")
_component = st.components.v2.component(
    "aelab.draw_canvas", js=_JS, css=(ASSETS / "draw.css").read_text(encoding="utf-8")
)


@cache.shared_memo(max_entries=8)
def _payload(entry_id: str, dataset_name: str, _model: Autoencoder, _codes: np.ndarray, _map: PlaneMap) -> dict:
    """The component's heavy, stable data (specs, the plane); shared between sessions: never mutate it."""
    dataset = cache.dataset(dataset_name)
    convention = convention_for(dataset)
    points = _map.to_plane(_codes)
    try:
        encoder = encoder_spec(_model)
    except UnsupportedExport:
        encoder = None
    try:
        decoder = decoder_spec(_model)
    except UnsupportedExport:
        decoder = None
    plane = {
        "id": f"{entry_id}:{dataset_name}",
        "x": encode_floats(points[:, 0]),
        "y": encode_floats(points[:, 1]),
        "labels": dataset.labels.astype(int).tolist(),
        "colors": LABEL_COLORS,
        "names": [str(n) for n in dataset.label_names],
        "bounds": plane_bounds(points).tolist(),
        "projection": plane_projection(_map, _codes.shape[1]),
    }
    return {
        "role": "canvas",
        "key": COMPONENT_KEY,
        "canvas": CANVAS_SIDE,
        "pen": pen_width(convention),
        "convention": convention.to_dict(),
        "encoder": encoder,
        "decoder": decoder,
        "plane": plane,
    }


def _strings(dataset: Dataset) -> dict[str, str]:
    _, h, w = dataset.image_shape
    shape = f"{h}×{w}"
    keys = ("pen", "eraser", "undo", "clear", "reconstruction", "plane", "hint", "empty", "dot")
    return {**{k: t(f"draw.{k}") for k in keys}, "input": t("draw.input", shape=shape)}


def _square(image: np.ndarray) -> np.ndarray:
    """A grey (H, W) image centred on a black square of its longer side."""
    h, w = image.shape
    side = max(h, w)
    out = np.zeros((side, side), dtype=image.dtype)
    out[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = image
    return out


def _receive(state: DrawState, dataset: Dataset, value: object) -> None:
    """A pen-up from the canvas: re-preprocess the PNG here, keep the drawing (or the refusal)."""
    if not isinstance(value, dict) or value.get("sent") == state.received:
        return
    state.received = str(value.get("sent"))
    number = value.get("n")
    if not isinstance(number, int) or not 1 <= number <= 10_000:
        state.error = "the drawing's number is missing or out of range"
        return
    try:
        ink = image_from_data_url(value.get("png"))
        image = preprocess(ink, convention_for(dataset))
    except AelabError as error:
        state.error = _refusal(error)
        return
    code = value.get("code")
    browser_code = None  # only shown beside torch's code; anything odd is dropped, not trusted
    if isinstance(code, list) and 0 < len(code) <= 64 and all(type(v) in (int, float) for v in code):
        browser_code = np.asarray(code, dtype=np.float64)
        if not np.isfinite(browser_code).all():
            browser_code = None
    label = value.get("label")
    browser_label = label if type(label) is int and 0 <= label < 1000 else None
    state.put(dataset.name, Drawing(number, image, "canvas", browser_code, browser_label))
    _remember(state, dataset.name)


def _refusal(error: AelabError) -> str:
    """The user's message for a refused drawing, in the session's language where we have it."""
    text = str(error)
    if isinstance(error, NoDigit) and "empty" in text:
        return t("draw.empty")
    if isinstance(error, NoDigit) and "single dot" in text:
        return t("draw.dot")
    return text


def _label_name(dataset: Dataset, label: int) -> str:
    return dataset.label_names[label] if 0 <= label < len(dataset.label_names) else str(label)


def _votes_caption(dataset: Dataset, drawing: Drawing, landing: Landing, told: int | None) -> str:
    """The vote, and how far the browser's code was from the server's (when both encoded under one label)."""
    votes = ", ".join(f"{dataset.label_names[i]} ×{n}" for i, n in enumerate(landing.votes) if n)
    browser = drawing.browser_code
    if browser is None or browser.shape != landing.code.shape or (told is not None and drawing.browser_label is None):
        return t("draw.votes_photo", k=VOTE_K, votes=votes)
    if told is not None and drawing.browser_label != told:
        live, label = _label_name(dataset, drawing.browser_label or 0), _label_name(dataset, told)
        return t("draw.votes_relabelled", k=VOTE_K, votes=votes, live=live, label=label)
    return t("draw.votes", k=VOTE_K, votes=votes, diff=float(np.abs(browser - landing.code).max()))


def _show_styles(
    dataset: Dataset, model: Autoencoder, drawing: Drawing, code: np.ndarray, told: int, chosen: bool
) -> None:
    """A conditional model's row: the drawing's code (its style) decoded under every label."""
    how = t("draw.how_chosen") if chosen else t("draw.how_best")
    caption = t("draw.styles", n=drawing.number, label=_label_name(dataset, told), how=how)
    classes = model.config.classes
    show_image(tile(analogies(model, code[None])[0], columns=classes), 56 * classes, caption)


def _show_landing(dataset: Dataset, drawing: Drawing, landing: Landing, told: int | None) -> None:
    if told is None:
        st.markdown(t("draw.looks_like", n=drawing.number, label=dataset.label_names[landing.guess]))
    else:  # a conditional model's code holds the style: its neighbours' labels are no guess of the class
        st.markdown(t("draw.style_neighbours", n=drawing.number))
    st.caption(_votes_caption(dataset, drawing, landing, told))
    st.markdown(f"**{t('draw.nearest')}**")
    pictures = [
        (
            cache.sample_data_url(dataset.name, int(index), dataset.images),
            f"{dataset.label_names[dataset.labels[index]]} · {distance:.2f}",
        )
        for index, distance in zip(landing.nearest[:NEAREST_SHOWN], landing.distances[:NEAREST_SHOWN], strict=True)
    ]
    picture_row(pictures, 56)


def _told(model: Autoencoder, dataset: Dataset) -> int | None:
    """For a conditional model, the picker above the canvas: the label every drawing is told, or None (the
    one the model explains each drawing best by, the default). None for the other kinds."""
    if not model.conditional:
        return None
    classes = model.config.classes
    chosen = st.selectbox(
        t("draw.told"),
        [None, *range(classes)],
        key=TOLD_KEY,
        format_func=lambda c: t("draw.told_best") if c is None else _label_name(dataset, c),
        help=t("draw.told_help"),
    )
    return chosen if isinstance(chosen, int) and 0 <= chosen < classes else None


def _landings(
    model: Autoencoder,
    codes: np.ndarray,
    dataset: Dataset,
    plane_map: PlaneMap,
    drawings: list[Drawing],
    chosen: int | None,
) -> tuple[dict[int, Landing], dict[int, int]]:
    """Each drawing's landing, and the label it was told (a conditional model only), by drawing number."""
    if not drawings:
        return {}, {}
    drawn, labels = encode_drawings(model, np.stack([d.input for d in drawings]), chosen)
    landings = {d.number: land(codes, dataset, code, plane_map) for d, code in zip(drawings, drawn, strict=True)}
    told = {} if labels is None else {d.number: int(y) for d, y in zip(drawings, labels, strict=True)}
    return landings, told


@st.fragment
def _workbench(entry: ModelEntry, dataset: Dataset) -> None:
    """The canvas, its relay, and the server's answer to the last pen-up (a pen-up reruns only this)."""
    model = entry.checkpoint.model
    codes = cache.codes(entry.id, entry.checkpoint, dataset.name)
    plane_map = cache.plane_map(entry.id, dataset.name, "pca", codes)
    payload = _payload(entry.id, dataset.name, model, codes, plane_map)
    state = draw_state(dataset)
    if payload["encoder"] is None:
        st.info(t("draw.no_browser"))
    chosen = _told(model, dataset)
    # The weights go as content-addressed files: inline, every pen-up re-sent and re-hashed ~1.3 MB.
    specs = {role: served_layers(payload[role]) if payload[role] else None for role in ("encoder", "decoder")}
    result = _component(
        key=COMPONENT_KEY,
        data={**payload, **specs, "strings": _strings(dataset)},
        height="content",
        on_drawing_change=lambda: None,
    )
    _receive(state, dataset, result.get("drawing"))

    drawings = state.drawings.get(dataset.name, [])
    landings, told = _landings(model, codes, dataset, plane_map, drawings, chosen)
    latest = state.latest.get(dataset.name)
    markers = [{"n": n, "x": float(landing.point[0]), "y": float(landing.point[1])} for n, landing in landings.items()]
    # The epoch changes with the dataset or when the markers are cleared: the canvas then numbers from `next`.
    # `label`: what the browser tells a conditional model while the pen moves.
    epoch = f"{dataset.name}:{state.epoch}"
    decided = told.get(latest) if latest is not None else None
    label = live_label(chosen, decided) if model.conditional else None
    relay = {"role": "markers", "key": COMPONENT_KEY, "markers": markers, "next": state.next_number(dataset.name),
             "epoch": epoch, "label": label}  # fmt: skip
    _component(key=f"{COMPONENT_KEY}-markers", data=relay, height="content")

    if state.error:
        st.warning(state.error)
    if latest is not None and latest in landings:
        drawing = next(d for d in drawings if d.number == latest)
        if decided is not None:
            _show_styles(dataset, model, drawing, landings[latest].code, decided, chosen is not None)
        _show_landing(dataset, drawing, landings[latest], decided)
    if drawings:
        left, right = st.columns([3, 1])
        left.caption(t("draw.markers", count=len(drawings)))
        right.button(t("draw.clear_markers"), key="aelab-draw-clear", on_click=_clear, args=(state, dataset.name))


def _photo(dataset: Dataset) -> None:
    """Upload or camera: every step shown, and the result kept as a drawing like the canvas's."""
    state = draw_state(dataset)
    with st.expander(t("draw.photo")):
        st.caption(t("draw.photo_help"))
        upload_col, camera_col = st.columns(2)
        upload = upload_col.file_uploader(t("draw.upload"), key="aelab-draw-upload")
        camera = camera_col.camera_input(t("draw.camera"), key="aelab-draw-camera")
        photo = camera or upload
        if photo is None:
            return
        try:
            steps = photo_steps(photo.getvalue(), convention_for(dataset))
        except AelabError as error:
            st.error(str(error))
            return
        names = ("grey", "contrast", "threshold", "ink", "cropped", "input")
        columns = st.columns(len(names))
        for column, name in zip(columns, names, strict=True):
            image = getattr(steps, name)
            if name == "cropped":  # centred on a black square, so every step shows at the same height
                image = _square(image)
            column.image(crisp_png(image, 112)[0], caption=t(f"draw.step.{name}"), width=112, output_format="PNG")
        if state.photo_id != photo.file_id:  # a new photo joins the plane once, as the latest drawing
            state.photo_id = photo.file_id
            state.put(dataset.name, Drawing(state.next_number(dataset.name), steps.input, "photo"))
            _remember(state, dataset.name)
            st.rerun()


def render() -> None:
    now = require_model()
    dataset, entry = now.dataset, now.entry
    assert entry is not None  # require_model stops the run otherwise
    st.header(t("draw.title"))
    st.caption(t("draw.intro"))
    convention = convention_for(dataset)
    side, box = convention.frame[0], convention.box[0]
    st.caption(t(f"draw.convention.{convention.centre}", side=side, box=box))
    _workbench(entry, dataset)
    _photo(dataset)
