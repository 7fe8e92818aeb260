"""The Draw page: draw a digit (or photograph one) and watch where it lands in the latent plane.

The component (aelab/assets/canvas.js) preprocesses, encodes and decodes the drawing in the page at every
animation frame while the pen moves, so the point moves across its small plane and the reconstruction
redraws with no server round trip. On pen-up it sends the canvas as a PNG; this page re-preprocesses it
with :func:`aelab.draw.preprocess`, re-encodes it with torch, and shows the nearest real samples and the
5-NN vote. Each drawing stays on the plane as a numbered marker (per dataset, in :class:`DrawState`).

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
    image_from_data_url,
    land,
    pack_drawings,
    pen_width,
    photo_steps,
    plane_projection,
    preprocess,
    unpack_drawings,
)
from aelab.errors import AelabError
from aelab.export import ASSETS, UnsupportedExport, decoder_spec, encode_floats, encoder_spec
from aelab.imaging import crisp_png
from aelab.latent import PlaneMap, encode_images, plane_bounds
from aelab.models import Autoencoder
from aelab.plane import LABEL_COLORS
from aelab.ui import cache, workspace
from aelab.ui.i18n import t
from aelab.ui.plane import served_layers
from aelab.ui.session import session_object
from aelab.ui.state import ModelEntry, require_model
from aelab.ui.widgets import show_image

STATE_KEY = "aelab.draw"
COMPONENT_KEY = "aelab-draw"
NEAREST_SHOWN = 8
MAX_DRAWINGS = 200  # kept per dataset in a session: a class's worth, and a bound a tampered client cannot lift
Source = Literal["canvas", "photo"]


@dataclass
class Drawing:
    """One drawing or photo: its number on the plane, the model input (C, H, W), and the code the browser
    computed for it (None for a photo)."""

    number: int
    input: np.ndarray
    source: Source
    browser_code: np.ndarray | None = None


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
    state.put(dataset.name, Drawing(number, image, "canvas", browser_code))
    _remember(state, dataset.name)


def _refusal(error: AelabError) -> str:
    """The user's message for a refused drawing, in the session's language where we have it."""
    text = str(error)
    if isinstance(error, NoDigit) and "empty" in text:
        return t("draw.empty")
    if isinstance(error, NoDigit) and "single dot" in text:
        return t("draw.dot")
    return text


def _show_landing(dataset: Dataset, drawing: Drawing, landing: Landing) -> None:
    label = dataset.label_names[landing.guess]
    st.markdown(t("draw.looks_like", n=drawing.number, label=label))
    votes = ", ".join(f"{dataset.label_names[i]} ×{n}" for i, n in enumerate(landing.votes) if n)
    if drawing.browser_code is not None and drawing.browser_code.shape == landing.code.shape:
        diff = float(np.abs(drawing.browser_code - landing.code).max())
        st.caption(t("draw.votes", k=VOTE_K, votes=votes, diff=diff))
    else:
        st.caption(t("draw.votes_photo", k=VOTE_K, votes=votes))
    st.markdown(f"**{t('draw.nearest')}**")
    columns = st.columns(NEAREST_SHOWN)
    for column, index, distance in zip(columns, landing.nearest, landing.distances, strict=False):
        with column:
            caption = f"{dataset.label_names[dataset.labels[index]]} · {distance:.2f}"
            show_image(dataset.images[index], 56, caption)


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
    landings: dict[int, Landing] = {}
    if drawings:
        drawn = encode_images(model, np.stack([d.input for d in drawings]))
        landings = {d.number: land(codes, dataset, code, plane_map) for d, code in zip(drawings, drawn, strict=True)}
    markers = [{"n": n, "x": float(landing.point[0]), "y": float(landing.point[1])} for n, landing in landings.items()]
    # The epoch changes with the dataset or when the markers are cleared: the canvas then numbers from `next`.
    epoch = f"{dataset.name}:{state.epoch}"
    relay = {"role": "markers", "key": COMPONENT_KEY, "markers": markers, "next": state.next_number(dataset.name),
             "epoch": epoch}  # fmt: skip
    _component(key=f"{COMPONENT_KEY}-markers", data=relay, height="content")

    if state.error:
        st.warning(state.error)
    latest = state.latest.get(dataset.name)
    if latest in landings:
        _show_landing(dataset, next(d for d in drawings if d.number == latest), landings[latest])
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
