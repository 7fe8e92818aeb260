"""The latent plane: a Plotly scatter of 2-D codes where a click anywhere returns the data coordinate.

`st.plotly_chart(on_select=...)` only reports clicks on points; exploring a latent space needs the
coordinate of any spot, empty space included. `latent_plane` draws the codes with plotly.js inside an
`st.components.v2` component and sends `(x, y)` back to Python on every click.

How the pieces fit, and why:

- plotly.js (4.8 MB) is never sent over the websocket. Streamlit serves the copy that ships with the
  `plotly` Python package (`plotly/package_data/plotly.min.js`) through its component file route, and the
  browser loads it once per page with a `<script>` tag; the promise is kept on `window`.
- The widget is two elements. The *plane* carries the heavy, stable payload (the points, the background
  image) and never changes on a click, so Streamlit's message cache sends a short reference to it on every
  rerun instead of the points. The *marker relay* carries only `selected`; when it changes, its few lines
  of JavaScript move the cross on the existing plot (no redraw, zoom kept).
- A click is recognised from plotly.js's own drag handling: plotly dispatches a `click` on its drag
  rectangle only when the mouse did not move far enough to zoom or pan, so drag-zooms are not clicks.
  The pixel under the press is turned into data with the plot's axis objects (`xaxis.p2d`).

- Hover decoding (optional): with a `decoder` spec from `aelab.export.decoder_spec` in the plane's payload
  (it changes only with the model, so clicks still re-send nothing), the browser runs the decoder itself
  (`aelab/assets/decoder.js`, inlined here) on the point under the pointer, once per display frame, and
  draws it on a small pixelated canvas that follows the pointer. No message goes to the server while
  hovering. The relay's `hover` flag turns it off without touching the plane's payload.

For tests: `window.__aelab.debug` counts JavaScript runs, plotly.js loads, click handlers attached, draws,
marker moves, clicks and hover decodes (`hoverDecodes`); `window.__aelab.planes[key]` is a plane's state (`gd` is the plotly div). In
`AppTest` the plane is an UnknownElement: set `at.session_state[key] = {"click": {"x": .., "y": .., "n": 1}}`
and rerun to simulate a click.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import streamlit as st
from plotly.colors import qualitative
from streamlit import config as st_config
from streamlit.components.v1 import declare_component

# Plotly's default 10, then Dark24 for datasets with more classes (the three near-black Dark24 entries are
# left out: they vanish on Streamlit's dark theme). Label i is drawn in LABEL_COLORS[i % len(LABEL_COLORS)];
# other figures get the same colours with `color_discrete_sequence=LABEL_COLORS` and labels in index order.
LABEL_COLORS: list[str] = list(qualitative.Plotly) + [
    c for c in qualitative.Dark24 if c not in {"#222A2A", "#0D2A63", "#620042"}
]

PLOTLY_JS_DIR = Path(plotly.__file__).parent / "package_data"
DECODER_JS_FILE = Path(__file__).resolve().parents[1] / "assets" / "decoder.js"
HOVER_PREVIEW_PX = 112  # about this many CSS pixels for the hover preview's side (a whole multiple of the image's)
PLOTLY_JS_FILE = "plotly.min.js"

# The v1 component registry is used only as a file server for plotly.js; Streamlit prefixes the name with
# this module's name.
_PLOTLY_ASSET_NAME = "plotlyjs"


def label_colors(n: int) -> list[str]:
    """The colours of labels 0..n-1: `LABEL_COLORS` in order, cycled when there are more labels than colours."""
    return [LABEL_COLORS[i % len(LABEL_COLORS)] for i in range(n)]


def encode_array(values: np.ndarray, dtype: str) -> dict[str, str]:
    """A 1-D array as `{"dtype": "f4" | "i4", "bdata": base64 of little-endian bytes}`.

    This is plotly's own typed-array encoding; it is about half the size of JSON numbers and decodes in
    the browser into a `Float32Array` / `Int32Array` without parsing.
    """
    if dtype not in {"f4", "i4"}:
        raise ValueError(f"dtype must be 'f4' or 'i4'; got {dtype!r}")
    raw = np.ascontiguousarray(values, dtype="<" + dtype).tobytes()
    return {"dtype": dtype, "bdata": base64.b64encode(raw).decode("ascii")}


def decode_array(encoded: dict[str, str]) -> np.ndarray:
    """Inverse of `encode_array`: a 1-D float32 or int32 array."""
    return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype="<" + encoded["dtype"])


def plane_payload(
    points: np.ndarray,
    labels: np.ndarray,
    label_names: Sequence[str],
    bounds: np.ndarray,
    *,
    key: str,
    plotly_url: str,
    background: str | None = None,
    height: int = 520,
    decoder: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON the plane component draws; identical for identical inputs so that reruns can reuse it.

    points: (N, 2) data coordinates; labels: (N,) ints indexing `label_names`; bounds: (2, 2)
    `[[xmin, xmax], [ymin, ymax]]`. The result holds one trace per label name (in label order, empty classes
    included so that colours and legend entries do not depend on which classes are present), each with its
    points' x, y (float32) and sample indexes (int32) as `encode_array` dicts, and `decoder`, the browser
    decoder spec (with a plane map) for hover decoding or None. Raises ValueError with the expected shape
    when an input is malformed.
    """
    points = np.asarray(points)
    labels = np.asarray(labels)
    bounds = np.asarray(bounds, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be shaped (N, 2); got {points.shape}")
    if labels.shape != (points.shape[0],):
        raise ValueError(f"labels must be shaped ({points.shape[0]},) to match points; got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers indexing label_names; got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(label_names)):
        raise ValueError(
            f"labels must lie in 0..{len(label_names) - 1} to index the {len(label_names)} label names; "
            f"got {labels.min()}..{labels.max()}"
        )
    if bounds.shape != (2, 2) or not np.all(np.isfinite(bounds)) or np.any(bounds[:, 0] >= bounds[:, 1]):
        raise ValueError(f"bounds must be finite [[xmin, xmax], [ymin, ymax]] with min < max; got {bounds.tolist()}")
    if background is not None and not background.startswith("data:image/"):
        raise ValueError("background must be a data URL such as 'data:image/png;base64,...'")
    if decoder is not None and (decoder.get("format") != "aelab-decoder" or not decoder.get("plane_map")):
        raise ValueError("decoder must be an aelab.export.decoder_spec(model, plane_map) with a plane map")

    colors = label_colors(len(label_names))
    traces = []
    for label, (name, color) in enumerate(zip(label_names, colors)):
        (index,) = np.nonzero(labels == label)
        traces.append(
            {
                "name": str(name),
                "color": color,
                "x": encode_array(points[index, 0], "f4"),
                "y": encode_array(points[index, 1], "f4"),
                "index": encode_array(index, "i4"),
            }
        )
    return {
        "key": key,
        "plotly_url": plotly_url,
        "traces": traces,
        "bounds": bounds.tolist(),
        "background": background,
        "height": int(height),
        "decoder": decoder,
        # A new view (bounds) resets the user's zoom; anything else (a new background) keeps it.
        "view": json.dumps(bounds.tolist()),
    }


def marker_payload(key: str, selected: tuple[float, float] | None, *, hover: bool | None = None) -> dict[str, Any]:
    """The JSON the marker relay sends: which plane, where its cross goes (`None` removes it), and, when
    given, whether hover decoding is on (`hover`)."""
    if hover is not None:
        return {**marker_payload(key, selected), "hover": bool(hover)}
    if selected is None:
        return {"key": key, "selected": None}
    if len(selected) != 2:
        raise ValueError(f"selected must be an (x, y) pair; got {selected!r}")
    x, y = float(selected[0]), float(selected[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"selected must be two finite numbers; got {selected!r}")
    return {"key": key, "selected": [x, y]}


def parse_click(value: object) -> tuple[float, float] | None:
    """The `(x, y)` of a click state `{"x": float, "y": float, "n": nonce}` set by the browser, else None."""
    if not isinstance(value, dict):
        return None
    try:
        x, y = float(value["x"]), float(value["y"])
    except (KeyError, TypeError, ValueError):
        return None
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None


def plotly_js_url(base_url_path: str, asset_component: str) -> str:
    """The absolute URL path Streamlit serves plotly.min.js under.

    E.g. `/component/aelab.ui.plane.plotlyjs/plotly.min.js?v=6.…`; base_url_path is Streamlit's `server.baseUrlPath` ('' when the app is served at the root); the plotly
    version in the query string makes a browser cache drop the file when plotly is upgraded.
    """
    parts = [p for p in (base_url_path.strip("/"), "component", asset_component, PLOTLY_JS_FILE) if p]
    return "/" + "/".join(parts) + f"?v={plotly.__version__}"


def clicked_coordinate(key: str) -> tuple[float, float] | None:
    """The last clicked `(x, y)` of the plane with this key, read from session state (use it in `on_click`)."""
    state = st.session_state.get(key)
    return parse_click(state.get("click")) if isinstance(state, dict) else None


def _served_plotly_js_url() -> str:
    # Registering needs a running script; registering the same directory again on every run is a no-op.
    asset = declare_component(_PLOTLY_ASSET_NAME, path=str(PLOTLY_JS_DIR))
    if asset.url:  # a deployment that serves component files from elsewhere
        return asset.url.rstrip("/") + "/" + PLOTLY_JS_FILE + f"?v={plotly.__version__}"
    return plotly_js_url(str(st_config.get_option("server.baseUrlPath") or ""), asset.name)


def _ignore() -> None:
    """Stands in for a missing `on_click`: a callback is what declares `click` as the component's state."""


_REGISTRY_JS = r"""
function registry() {
  // Shared by the plane and the marker relay (separate modules), and by every plane on the page.
  window.__aelab = window.__aelab || {};
  const reg = window.__aelab;
  reg.planes = reg.planes || {};
  reg.selected = reg.selected || {};
  reg.hover = reg.hover || {};
  reg.debug = reg.debug || { runs: 0, plotlyLoads: 0, clickHandlers: 0, draws: 0, markerMoves: 0, clicks: 0, hoverDecodes: 0 };
  return reg;
}

function loadPlotly(url) {
  const reg = registry();
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!reg.plotly) {
    reg.debug.plotlyLoads += 1;
    reg.plotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error("plotly.js defined no window.Plotly")));
      script.onerror = () => {
        reg.plotly = null;  // let a later run try again
        reject(new Error("could not load plotly.js from " + url));
      };
      document.head.appendChild(script);
    });
  }
  return reg.plotly;
}
"""

_PLANE_JS = (
    _REGISTRY_JS
    + r"""
function webglAvailable() {
  const reg = registry();
  if (reg.webgl === undefined) {
    try {
      const canvas = document.createElement("canvas");
      reg.webgl = !!(canvas.getContext("webgl2") || canvas.getContext("webgl"));
    } catch (e) {
      reg.webgl = false;
    }
  }
  return reg.webgl;
}

function decode(encoded) {
  const bin = atob(encoded.bdata);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return encoded.dtype === "i4" ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
}

function markerShapes(marker) {
  if (!marker) return [];
  const [x, y] = marker;
  const arm = 9;  // pixels, so the cross keeps its size while zooming
  const across = { type: "line", xref: "x", yref: "y", xsizemode: "pixel", xanchor: x, x0: -arm, x1: arm, y0: y, y1: y };
  const down = { type: "line", xref: "x", yref: "y", ysizemode: "pixel", yanchor: y, y0: -arm, y1: arm, x0: x, x1: x };
  // A white cross under a dark one stays visible on points, on the background image and on both themes.
  const halo = { width: 5, color: "rgba(255,255,255,0.9)" };
  const ink = { width: 2, color: "#111111" };
  return [
    { ...across, name: "aelab-marker-halo", line: halo },
    { ...down, name: "aelab-marker-halo", line: halo },
    { ...across, name: "aelab-marker", line: ink },
    { ...down, name: "aelab-marker", line: ink },
  ];
}

function themeColor(el, name, fallback) {
  const value = getComputedStyle(el).getPropertyValue(name).trim();
  return value && value !== "unset" ? value : fallback;
}

function figure(state, data) {
  const type = webglAvailable() ? "scattergl" : "scatter";
  const traces = data.traces.map((t, label) => ({
    type,
    mode: "markers",
    name: t.name,
    uid: "label-" + label,  // lets plotly keep a class hidden from the legend across redraws
    x: decode(t.x),
    y: decode(t.y),
    customdata: decode(t.index),
    marker: { color: t.color, size: 5, opacity: 0.85 },
    hovertemplate: "%{fullData.name}<br>sample %{customdata}<extra></extra>",
  }));
  const [[x0, x1], [y0, y1]] = data.bounds;
  const text = themeColor(state.root, "--st-text-color", "#31333F");
  const axis = { zeroline: false, showgrid: true, gridcolor: "rgba(128,128,128,0.2)", linecolor: "rgba(128,128,128,0.5)", mirror: true, showline: true };
  const layout = {
    uirevision: data.view,
    height: data.height,
    margin: { l: 50, r: 10, t: 32, b: 40 },  // room above the plot for the modebar, clear of the legend
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: text },
    xaxis: { ...axis, range: [x0, x1], title: { text: "z₁" } },
    yaxis: { ...axis, range: [y0, y1], title: { text: "z₂" } },
    legend: { itemsizing: "constant" },
    hovermode: "closest",
    dragmode: "zoom",
    images: data.background
      ? [{ source: data.background, xref: "x", yref: "y", x: x0, y: y1, sizex: x1 - x0, sizey: y1 - y0, sizing: "stretch", layer: "below" }]
      : [],
    shapes: markerShapes(state.marker),
  };
  const config = { displaylogo: false, responsive: true, doubleClick: "reset", modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  return [traces, layout, config];
}

function inPlotArea(target) {
  // The main drag rectangle covers exactly the plotting area; axes, legend and modebar are elsewhere.
  return !!(target && target.classList && target.classList.contains("nsewdrag"));
}

function attachClickHandler(state) {
  const gd = state.gd;
  // The press position is used because plotly's synthetic click (sent only when the mouse did not
  // drag) copies the release event; a press also lets one click on a touch screen count once.
  gd.addEventListener("pointerdown", (e) => {
    state.press = e.button === 0 && inPlotArea(e.target) ? { ox: e.offsetX, oy: e.offsetY } : null;
  }, true);
  gd.addEventListener("click", (e) => {
    const press = state.press;
    state.press = null;
    if (!press || !inPlotArea(e.target) || e.detail > 1 || !gd._fullLayout) return;  // detail 2: plotly's reset double-click
    const xa = gd._fullLayout.xaxis;
    const ya = gd._fullLayout.yaxis;
    // offsetX/Y on the drag rectangle count from the plot's SVG origin, the axes from the plot area.
    const x = xa.p2d(press.ox - xa._offset);
    const y = ya.p2d(press.oy - ya._offset);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    state.setMarker([x, y]);
    registry().debug.clicks += 1;
    state.setStateValue("click", { x, y, n: Date.now() });  // the nonce makes a second click on the same spot a change
  });
  state.handlers += 1;
  registry().debug.clickHandlers += 1;
}

function hidePreview(state) {
  if (state.preview) state.preview.style.display = "none";
}

function setDecoder(state, spec) {
  // The spec is part of the plane's stable payload: load it only when the model (its id) changes.
  const id = spec ? spec.id : null;
  if (id === state.decoderId) return;
  state.decoderId = id;
  state.decoder = null;
  state.decoderError = null;
  hidePreview(state);
  if (!spec) return;
  try {
    state.decoder = globalThis.AelabDecoder.load(spec);
  } catch (err) {
    state.decoderError = String(err && err.message ? err.message : err);
  }
}

function attachHover(state) {
  const gd = state.gd;
  const preview = document.createElement("canvas");
  preview.className = "aelab-hover-preview";
  Object.assign(preview.style, {
    position: "absolute", display: "none", pointerEvents: "none", zIndex: 5, imageRendering: "pixelated",
    background: "#000", border: "2px solid rgba(255,255,255,0.95)", borderRadius: "4px",
    boxShadow: "0 1px 6px rgba(0,0,0,0.45)",
  });
  if (getComputedStyle(state.root).position === "static") state.root.style.position = "relative";
  state.root.appendChild(preview);
  state.preview = preview;
  state.hoverDecodes = 0;
  state.pending = null;
  state.frame = 0;

  const render = () => {
    state.frame = 0;
    const at = state.pending;
    state.pending = null;
    if (!at || !state.decoder || !state.hoverOn()) return;
    const start = performance.now();
    const [, h, w] = state.decoder.imageShape;
    globalThis.AelabDecoder.draw(preview, state.decoder.decodePlane(at.x, at.y), state.decoder.imageShape);
    state.lastDecodeMs = performance.now() - start;
    state.hoverDecodes += 1;
    registry().debug.hoverDecodes += 1;
    // Whole-number scale keeps the pixels square; the preview sits up-left of the pointer (plotly's
    // hover label goes to the right), flipping where it would leave the element.
    const scale = Math.max(1, Math.round(HOVER_PREVIEW_PX / Math.max(h, w)));
    const pw = w * scale, ph = h * scale, gap = 14;
    preview.style.width = pw + "px";
    preview.style.height = ph + "px";
    let left = at.px - pw - gap, top = at.py - ph - gap;
    if (left < 0) left = at.px + gap;
    if (top < 0) top = at.py + gap;
    preview.style.left = left + "px";
    preview.style.top = top + "px";
    preview.style.display = "block";
  };
  gd.addEventListener("pointermove", (e) => {
    if (!state.decoder || !state.hoverOn() || !inPlotArea(e.target) || !gd._fullLayout) {
      if (!inPlotArea(e.target)) hidePreview(state);
      return;
    }
    const xa = gd._fullLayout.xaxis;
    const ya = gd._fullLayout.yaxis;
    const x = xa.p2d(e.offsetX - xa._offset);
    const y = ya.p2d(e.offsetY - ya._offset);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const box = state.root.getBoundingClientRect();
    state.pending = { x, y, px: e.clientX - box.left, py: e.clientY - box.top };
    if (!state.frame) state.frame = requestAnimationFrame(render);  // at most one decode per display frame
  }, true);
  gd.addEventListener("pointerleave", () => hidePreview(state));
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const reg = registry();
  reg.debug.runs += 1;
  // Streamlit runs this again on the same element whenever `data` changes; everything that must exist
  // once (the plot div, its listeners) lives on the element.
  let state = parentElement.__aelabPlane;
  if (!state) {
    const gd = document.createElement("div");
    gd.className = "aelab-plane";
    parentElement.appendChild(gd);
    state = { root: parentElement, gd, handlers: 0, draws: 0, ticket: 0, drawn: false, press: null, key: data.key };
    state.marker = reg.selected[data.key] || null;
    state.setMarker = (marker) => {
      state.marker = marker;
      if (state.drawn && window.Plotly) {
        reg.debug.markerMoves += 1;
        window.Plotly.relayout(state.gd, { shapes: markerShapes(marker) });
      }
    };
    parentElement.__aelabPlane = state;
    attachClickHandler(state);
    state.hoverOn = () => reg.hover[state.key] !== false;
    state.setHover = (on) => {
      if (!on) hidePreview(state);
    };
    attachHover(state);
    // Streamlit changes the width without a window resize (sidebar, columns); plotly's own
    // `responsive` only follows the window.
    state.resize = new ResizeObserver(() => {
      if (state.drawn && window.Plotly) window.Plotly.Plots.resize(state.gd);
    });
    state.resize.observe(gd);
  }
  state.setStateValue = setStateValue;
  state.key = data.key;
  setDecoder(state, data.decoder || null);
  state.gd.style.height = data.height + "px";
  reg.planes[data.key] = state;

  const ticket = ++state.ticket;
  loadPlotly(data.plotly_url)
    .then((Plotly) => {
      if (ticket !== state.ticket) return;  // newer data arrived while plotly.js loaded
      return Plotly.react(state.gd, ...figure(state, data)).then(() => {
        state.drawn = true;
        state.draws += 1;
        reg.debug.draws += 1;
      });
    })
    .catch((err) => {
      state.gd.textContent = "The latent plane could not be drawn: " + err.message;
    });

  return () => {
    // Streamlit calls the cleanup of a run that was overtaken while loading; only the latest run may destroy.
    if (ticket !== state.ticket) return;
    state.ticket += 1;  // a draw still waiting for plotly.js must not draw into the removed div
    state.resize.disconnect();
    if (reg.planes[state.key] === state) delete reg.planes[state.key];
    if (window.Plotly) window.Plotly.purge(state.gd);
    if (state.frame) cancelAnimationFrame(state.frame);
    state.preview.remove();
    state.gd.remove();
    delete parentElement.__aelabPlane;
  };
}
"""
)

_MARKER_JS = (
    _REGISTRY_JS
    + r"""
export default function ({ data }) {
  const reg = registry();
  reg.selected[data.key] = data.selected;
  const plane = reg.planes[data.key];
  if (plane) plane.setMarker(data.selected);
  if (data.hover !== undefined) {
    reg.hover[data.key] = data.hover;
    if (plane) plane.setHover(data.hover);
  }
}
"""
)

# isolate_styles=False: plotly.js puts its CSS (modebar, hover labels) in document.head, which a shadow
# root would not see.
# decoder.js defines globalThis.AelabDecoder when the module runs; the preview size is a constant of the JS.
_PLANE_JS = (
    DECODER_JS_FILE.read_text(encoding="utf-8") + f"\nconst HOVER_PREVIEW_PX = {HOVER_PREVIEW_PX};\n" + _PLANE_JS
)
_plane_component = st.components.v2.component("aelab.latent_plane", js=_PLANE_JS, isolate_styles=False)
_marker_component = st.components.v2.component("aelab.latent_plane_marker", js=_MARKER_JS, isolate_styles=False)

# Starts loading plotly.js as soon as the page's first element arrives, before the plane exists: downloading
# and compiling plotly.min.js takes the browser 1-2 s, which then overlaps the server's imports and encoding
# instead of following them (BENCHMARKS.md, app latency). The plane's loadPlotly reuses the same promise.
_PREFETCH_JS = (
    _REGISTRY_JS
    + r"""
export default function ({ data }) {
  loadPlotly(data.url).catch(() => {});  // a failure is reported by the plane, which tries again
}
"""
)
_prefetch_component = st.components.v2.component("aelab.plotly_prefetch", js=_PREFETCH_JS, isolate_styles=False)


def prefetch_plotly() -> None:
    """Have the browser start loading plotly.js now (call early in a run, before slow imports or work).

    Draws nothing. Put it where an empty element's gap does not show (app.py calls it inside the sidebar).
    """
    _prefetch_component(key="aelab-plotly-prefetch", data={"url": _served_plotly_js_url()}, height="content")


def latent_plane(
    points: np.ndarray,
    labels: np.ndarray,
    label_names: Sequence[str],
    bounds: np.ndarray,
    *,
    key: str,
    selected: tuple[float, float] | None = None,
    background: str | None = None,
    height: int = 520,
    on_click: Callable[[], None] | None = None,
    decoder: dict[str, Any] | None = None,
    hover: bool = True,
) -> tuple[float, float] | None:
    """Draw the latent plane and return the last clicked data coordinate `(x, y)`, or None before any click.

    points: (N, 2) codes in data coordinates; labels: (N,) ints indexing `label_names` (colours follow
    `LABEL_COLORS`); bounds: (2, 2) `[[xmin, xmax], [ymin, ymax]]`, the initial view and the extent of
    `background`, an optional data-URL image (e.g. a decoded manifold grid) drawn under the points.
    `selected` places the cross marker (e.g. from sliders); a click also moves it. `on_click` runs as a
    widget callback before the rerun; read the coordinate there with `clicked_coordinate(key)`.
    `decoder` (from `aelab.export.decoder_spec(model, plane_map)`) turns on hover decoding in the browser;
    `hover=False` pauses it (a change of `hover` re-sends only the small relay, never the points or weights).
    """
    payload = plane_payload(
        points,
        labels,
        label_names,
        bounds,
        key=key,
        plotly_url=_served_plotly_js_url(),
        background=background,
        height=height,
        decoder=decoder,
    )
    # gap=None: the relay draws nothing and should not add a gap under the plot.
    with st.container(gap=None):
        result = _plane_component(key=key, data=payload, height=height, on_click_change=on_click or _ignore)
        relay = marker_payload(key, selected, hover=hover if decoder is not None else None)
        _marker_component(key=f"{key}-marker", data=relay, height="content")
    return parse_click(result.get("click"))
