"""The latent plane in Streamlit: the browser decodes every point the user picks; Python hears finished gestures.

`st.plotly_chart(on_select=...)` only reports clicks on points; exploring a latent space needs the
coordinate of any spot, and drawing an image on every frame of a drag needs the decoder in the page. The
plane is one JavaScript module, ``aelab/assets/plane.js``, shared with the offline explorer; this module
wraps it in an `st.components.v2` component (glue: ``assets/plane_component.js``).

How the pieces fit, and why:

- plotly.js (4.8 MB) is never sent over the websocket. Streamlit serves the copy that ships with the
  `plotly` Python package (`plotly/package_data/plotly.min.js`) through its component file route, and the
  browser loads it once per page with a `<script>` tag; the promise is kept on `window`.
- The widget is two elements. The *plane* carries the heavy, stable payload (points, decoder weights,
  slider ranges, its words) and never changes on a gesture, so Streamlit's message cache sends a short
  reference to it on every rerun. The *relay* (``assets/plane_relay.js``) carries where the server put the
  point, the gesture it answers, the hover flag and, for a model the browser cannot decode, the server's
  image; a few hundred bytes. A third element, `interpolation_ends` (``assets/plane_ends.js``), carries the
  interpolation's ends A and B and its number of steps: the plane draws A and B as markers one can drag and
  decodes the strip A → B in its panel, in the same frame as the drag.
- With a decoder spec (`aelab.export.decoder_spec`) and `sliders`, the plane has its panel: the decoded
  image, drawn by the page in the same frame as a click, a drag of the cross, an arrow key or a slider
  move, and one slider per latent dimension. The server hears one message per finished gesture (the
  component's `click` state: `{"x", "y", "z", "n", "gesture"}`) and reruns only what needs the data.

For tests: `window.__aelab.debug` counts JavaScript runs, plotly.js loads, click handlers attached, draws,
marker moves, clicks, hover decodes, image draws and gestures sent; `window.__aelab.planes[key]` is a
plane (plane.js's object: `gd` the plotly div, `point`, `code`, `timings`). In `AppTest` the plane is an
UnknownElement: set `at.session_state[key] = {"click": {"x": .., "y": .., "n": 1}}` (and `"z"` for a
slider) and rerun to simulate a gesture.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import math
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import streamlit as st
from streamlit import config as st_config
from streamlit.components.v1 import declare_component

from aelab.plane import (  # noqa: F401  (re-exported: pages import the plane's colours from here)
    ASSETS,
    LABEL_COLORS,
    SliderSpec,
    decode_array,
    encode_array,
    label_colors,
    plane_css,
    plane_js,
    plane_payload,
    traces,
)

PLOTLY_JS_DIR = Path(plotly.__file__).parent / "package_data"
PLOTLY_JS_FILE = "plotly.min.js"
FAR_OUTSIDE = 1.0  # a picked coordinate more than this many ranges outside the bounds is refused, not clamped

# The v1 component registry is used only as a file server for plotly.js; Streamlit prefixes the name with
# this module's name.
_PLOTLY_ASSET_NAME = "plotlyjs"


def marker_payload(
    key: str,
    selected: tuple[float, float] | None,
    *,
    hover: bool | None = None,
    code: Sequence[float] | None = None,
    answers: int | None = None,
    image: str | None = None,
) -> dict[str, Any]:
    """The JSON the relay sends: which plane, where its cross goes (`None` removes it), and, when given,
    the full code there, the gesture nonce this rerun answers, whether hover decoding is on, and a
    server-decoded image (a data URL) for a plane whose browser cannot decode."""
    if selected is None:
        payload: dict[str, Any] = {"key": key, "selected": None}
    else:
        if len(selected) != 2:
            raise ValueError(f"selected must be an (x, y) pair; got {selected!r}")
        x, y = float(selected[0]), float(selected[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"selected must be two finite numbers; got {selected!r}")
        payload = {"key": key, "selected": [x, y]}
    if code is not None:
        payload["code"] = [float(v) for v in code]
    if answers is not None:
        payload["n"] = answers
    if hover is not None:
        payload["hover"] = bool(hover)
    if image is not None:
        payload["image"] = image
    return payload


def ends_payload(
    plane_key: str, a: Sequence[float], b: Sequence[float], steps: int, *, answers: int | None = None
) -> dict[str, Any]:
    """The JSON the interpolation's relay sends: which plane, the ends' full codes a and b (d each), the strip's
    number of images (1 to 64) and, when given, the gesture nonce this run answers."""
    a_list, b_list = [float(v) for v in a], [float(v) for v in b]
    if len(a_list) != len(b_list) or not all(math.isfinite(v) for v in a_list + b_list):
        raise ValueError(f"a and b must be codes of the same length with finite numbers; got {a_list!r}, {b_list!r}")
    if not 1 <= int(steps) <= 64:
        raise ValueError(f"steps must lie in 1..64; got {steps!r}")
    payload: dict[str, Any] = {"plane": plane_key, "a": a_list, "b": b_list, "steps": int(steps)}
    if answers is not None:
        payload["n"] = answers
    return payload


def interpolation_ends(
    plane_key: str, a: Sequence[float], b: Sequence[float], steps: int, *, answers: int | None = None
) -> None:
    """Tell the plane `plane_key` where the interpolation's ends are; the plane draws A and B on its overlay
    and decodes the strip A → B in its panel (it needs a browser decoder). Draws nothing here; place it
    anywhere on the page, e.g. beside the controls that change the ends, so that only their fragment reruns.
    A finished drag of A or B comes back as the plane's gesture with `"gesture": "a"` or `"b"`."""
    with st.container(gap=None):
        _ends_component(key=f"{plane_key}-ends", data=ends_payload(plane_key, a, b, steps, answers=answers),
                        height="content")  # fmt: skip


def parse_click(value: object) -> tuple[float, float] | None:
    """The `(x, y)` of a gesture state `{"x": float, "y": float, "n": nonce, ...}` set by the browser, else None."""
    if not isinstance(value, dict):
        return None
    try:
        x, y = float(value["x"]), float(value["y"])
    except (KeyError, TypeError, ValueError):
        return None
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None


def parse_code(value: object, specs: Sequence[SliderSpec]) -> tuple[np.ndarray | None, str | None]:
    """The code `z` (d,) a gesture state carries, clamped to the sliders' ranges, or why it is refused.

    Returns `(z, None)` for a usable code (a coordinate a little outside its range is clamped), `(None,
    None)` when the state carries no code, and `(None, message)` for a code of the wrong length, with a
    non-number, NaN or infinity, or farther than `FAR_OUTSIDE` ranges outside its slider's range: a typing
    slip or a tampered client, refused with the reason.
    """
    if not isinstance(value, dict) or value.get("z") is None:
        return None, None
    raw = value["z"]
    if not isinstance(raw, list) or len(raw) != len(specs):
        return None, f"expected a code of {len(specs)} numbers; got {raw!r:.80}"
    try:
        z = np.array([float(v) for v in raw], dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"expected a code of {len(specs)} numbers; got {raw!r:.80}"
    if not np.all(np.isfinite(z)):
        return None, "a coordinate of the code is not a finite number (NaN or infinity)"
    low = np.array([s.low for s in specs])
    high = np.array([s.high for s in specs])
    slack = FAR_OUTSIDE * (high - low)
    if np.any(z < low - slack) or np.any(z > high + slack):
        return None, f"the code {np.round(z, 3).tolist()} lies far outside the latent bounds; it was refused"
    return np.clip(z, low, high), None


def point_outside(point: tuple[float, float], bounds: np.ndarray) -> bool:
    """Whether a plane point lies more than `FAR_OUTSIDE` ranges outside the plane's bounds (2, 2)."""
    bounds = np.asarray(bounds, dtype=float)
    span = bounds[:, 1] - bounds[:, 0]
    xy = np.asarray(point, dtype=float)
    return bool(np.any(xy < bounds[:, 0] - FAR_OUTSIDE * span) or np.any(xy > bounds[:, 1] + FAR_OUTSIDE * span))


def plotly_js_url(base_url_path: str, asset_component: str) -> str:
    """The absolute URL path Streamlit serves plotly.min.js under.

    E.g. `/component/aelab.ui.plane.plotlyjs/plotly.min.js?v=6.…`; base_url_path is Streamlit's `server.baseUrlPath` ('' when the app is served at the root); the plotly
    version in the query string makes a browser cache drop the file when plotly is upgraded.
    """
    parts = [p for p in (base_url_path.strip("/"), "component", asset_component, PLOTLY_JS_FILE) if p]
    return "/" + "/".join(parts) + f"?v={plotly.__version__}"


def clicked_coordinate(key: str) -> tuple[float, float] | None:
    """The last picked `(x, y)` of the plane with this key, read from session state (use it in `on_click`)."""
    state = st.session_state.get(key)
    return parse_click(state.get("click")) if isinstance(state, dict) else None


def _served_plotly_js_url() -> str:
    # Registering needs a running script; registering the same directory again on every run is a no-op.
    asset = declare_component(_PLOTLY_ASSET_NAME, path=str(PLOTLY_JS_DIR))
    if asset.url:  # a deployment that serves component files from elsewhere
        return asset.url.rstrip("/") + "/" + PLOTLY_JS_FILE + f"?v={plotly.__version__}"
    return plotly_js_url(str(st_config.get_option("server.baseUrlPath") or ""), asset.name)


# The plane's heavy, stable parts (the decoder's weights, the dataset's sprite sheet, the points) go to the
# browser as files, not inside the component's data. Streamlit serialises, hashes and compares a component's
# data on every run of its fragment, i.e. on every gesture: with the weights inline that was ~40 ms of
# server CPU per click (BENCHMARKS.md, classroom). The files are content-addressed (a new model, a new
# name), written once per process into one folder per user, and served by Streamlit's component file
# route, like plotly.js; the browser caches them. Replicas on one machine share the folder.
PUBLISHED_DIR = Path(tempfile.gettempdir()) / f"aelab-plane-files-{getpass.getuser()}"
_PUBLISHED_ASSET_NAME = "planefiles"
_PUBLISHED_LIMIT = 32  # light copies remembered (one per decoder, sprite or set of points in use)
_published: OrderedDict[tuple[Hashable, ...], tuple[tuple[object, ...], Any, Path]] = OrderedDict()
_published_lock = threading.Lock()


def _publish(content: bytes, suffix: str) -> Path:
    """Write ``content`` to PUBLISHED_DIR under its hash (once); returns the file."""
    PUBLISHED_DIR.mkdir(parents=True, exist_ok=True)
    target = PUBLISHED_DIR / (hashlib.sha256(content).hexdigest()[:32] + suffix)
    if not target.exists():
        partial = target.with_suffix(f".{os.getpid()}-{threading.get_ident()}.part")
        partial.write_bytes(content)
        os.replace(partial, target)  # atomic: a browser never reads half a file
    return target


def _published_url(target: Path) -> str:
    asset = declare_component(_PUBLISHED_ASSET_NAME, path=str(PUBLISHED_DIR))
    if asset.url:
        return asset.url.rstrip("/") + "/" + target.name
    base = str(st_config.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + "/".join(p for p in (base, "component", asset.name, target.name) if p)


def _light(key: tuple[Hashable, ...], sources: tuple[object, ...], make: Callable[[], tuple[Any, Path]]) -> Any:
    """The light copy of shared, read-only ``sources`` (cached values), made once per ``key``, which names
    them by ``id`` (and by whatever else the copy depends on); its file is written again if something removed
    it (a temp-folder cleaner)."""
    with _published_lock:
        known = _published.get(key)
        if known is not None and all(a is b for a, b in zip(known[0], sources)) and known[2].exists():
            _published.move_to_end(key)
            return known[1]
        light, target = make()
        _published[key] = (sources, light, target)  # holds the sources, so their ids are not reused meanwhile
        while len(_published) > _PUBLISHED_LIMIT:
            _published.popitem(last=False)
        return light


def served_layers(spec: dict[str, Any]) -> dict[str, Any]:
    """A decoder's or encoder's spec with its layers replaced by `layers_url` (plane.js and canvas.js fetch them)."""

    def make() -> tuple[dict[str, Any], Path]:
        target = _publish(json.dumps(spec["layers"]).encode(), ".json")
        light = {key: value for key, value in spec.items() if key != "layers"}
        light["layers_url"] = _published_url(target)
        return light, target

    return _light(("layers", id(spec)), (spec,), make)


def _light_sprite(sprite: dict[str, Any]) -> dict[str, Any]:
    """The sprite sheet with its PNG served as a file instead of a data URL."""

    def make() -> tuple[dict[str, Any], Path]:
        target = _publish(base64.b64decode(sprite["url"].split(",", 1)[1]), ".png")
        return {**sprite, "url": _published_url(target)}, target

    return _light(("sprite", id(sprite)), (sprite,), make)


def served_traces(points: np.ndarray, labels: np.ndarray, label_names: Sequence[str]) -> str:
    """The URL of the plane's points (``plane_payload``'s traces) as a served file, made once per points and
    labels array (pass the cached ones). Inline, the 5,000 points were ~80 KB of the component's data that
    Streamlit serialised twice and hashed twice on every click (with the store's kept connections, a click's
    script run in a class of 100 went from 19.6 to 14-16 ms of CPU; BENCHMARKS.md, classroom)."""
    names = tuple(str(name) for name in label_names)

    def make() -> tuple[str, Path]:
        target = _publish(json.dumps(traces(points, labels, names)).encode(), ".json")
        return _published_url(target), target

    return _light(("traces", id(points), id(labels), names), (points, labels), make)


def _ignore() -> None:
    """Stands in for a missing `on_click`: a callback is what declares `click` as the component's state."""


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


# The plane's module is decoder.js (globalThis.AelabDecoder), plane.js (globalThis.AelabPlane), then the
# glue's `export default`. isolate_styles=False: plotly.js puts its CSS (modebar, hover labels) in
# document.head, which a shadow root would not see.
PLANE_MODULE = _asset("decoder.js") + "\n" + plane_js() + "\n" + _asset("plane_component.js")
_plane_component = st.components.v2.component(
    "aelab.latent_plane", js=PLANE_MODULE, css=plane_css(), isolate_styles=False
)
RELAY_MODULE = _asset("plane_relay.js")
_marker_component = st.components.v2.component("aelab.latent_plane_marker", js=RELAY_MODULE, isolate_styles=False)
_ends_component = st.components.v2.component(
    "aelab.latent_plane_ends", js=_asset("plane_ends.js"), isolate_styles=False
)

# Starts loading plotly.js as soon as the page's first element arrives, before the plane exists: downloading
# and compiling plotly.min.js takes the browser 1-2 s, which then overlaps the server's imports and encoding
# instead of following them (BENCHMARKS.md, app latency). The plane's loadPlotly reuses the same promise.
PREFETCH_MODULE = plane_js() + "\n" + _asset("plotly_prefetch.js")
_prefetch_component = st.components.v2.component("aelab.plotly_prefetch", js=PREFETCH_MODULE, isolate_styles=False)


def prefetch_plotly() -> None:
    """Have the browser start loading plotly.js now (call early in a run, before slow imports or work).

    Draws nothing. Put it where an empty element's gap does not show (app.py calls it inside the sidebar).
    """
    _prefetch_component(key="aelab-plotly-prefetch", data={"url": _served_plotly_js_url()}, height="content")


def _served(drawn: dict[str, Any]) -> dict[str, Any]:
    """What the plane draws, with the decoder's weights and a data-URL sprite sheet swapped for served,
    content-addressed files (see `served_layers`), so a rerun re-sends none of those megabytes."""
    decoder, sprite = drawn.get("decoder"), drawn.get("sprite")
    return {
        **drawn,
        "decoder": served_layers(decoder) if decoder is not None else None,
        "sprite": _light_sprite(sprite) if sprite is not None and sprite["url"].startswith("data:") else sprite,
    }


def latent_plane(
    points: np.ndarray,
    labels: np.ndarray,
    label_names: Sequence[str],
    bounds: np.ndarray,
    *,
    key: str,
    selected: tuple[float, float] | None = None,
    height: int = 520,
    on_click: Callable[[], None] | None = None,
    hover: bool = True,
    code: Sequence[float] | None = None,
    answers: int | None = None,
    image: str | None = None,
    **drawn: Any,
) -> tuple[float, float] | None:
    """Draw the latent plane and return the last picked data coordinate `(x, y)`, or None before any gesture.

    points: (N, 2) codes in data coordinates; labels: (N,) ints indexing `label_names` (colours follow
    `LABEL_COLORS`); bounds: (2, 2) `[[xmin, xmax], [ymin, ymax]]`, the initial view; `height`: the tallest
    the plot may be (its height follows its width, for equal scale on both axes). What else the plane draws
    (`background`, `decoder`, `sliders`, `texts`, `spacing`, `grid`, `sprite`) goes in `drawn`, as
    `aelab.plane.plane_payload` documents it; with a `decoder` the browser decodes (hover, click, drag, keys,
    sliders). `selected` places the cross marker; a gesture also moves it. `on_click` runs as a widget
    callback before the rerun; read the coordinate there with `clicked_coordinate(key)` or the whole state.
    `hover=False` pauses the hover preview; `code` is the full code at `selected`; `answers` the nonce of the
    gesture this run applied; `image` a server-decoded data URL where the browser cannot decode. Changing
    any of `selected`, `code`, `answers`, `hover` or `image` re-sends only the small relay, never the points
    or weights.
    """
    payload = plane_payload(
        points,
        labels,
        label_names,
        bounds,
        key=key,
        plotly_url=_served_plotly_js_url(),
        height=height,
        traces_url=served_traces(points, labels, label_names),
        **_served(drawn),
    )
    # gap=None: the relay draws nothing and should not add a gap under the plot.
    with st.container(gap=None):
        result = _plane_component(key=key, data=payload, height="content", on_click_change=on_click or _ignore)
        browser_decodes = drawn.get("decoder") is not None
        relay = marker_payload(
            key, selected, hover=hover if browser_decodes else None, code=code, answers=answers, image=image
        )
        _marker_component(key=f"{key}-marker", data=relay, height="content")
    return parse_click(result.get("click"))
