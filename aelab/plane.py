"""What the browser's latent plane draws, built without Streamlit: colours, typed arrays, the plane payload.

The plane itself is one JavaScript module, ``aelab/assets/plane.js``, used by the app's Streamlit component
(``aelab.ui.plane``) and by the offline explorer (``aelab.export``). Both hand it the dict that
:func:`plane_payload` builds, so the colours, the typed-array encoding and the slider ranges exist once.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from plotly.colors import qualitative

from aelab.imaging import data_url, png_bytes
from aelab.latent import plane_bounds

ASSETS = Path(__file__).resolve().parent / "assets"
PLANE_JS = ASSETS / "plane.js"
PLANE_CSS = ASSETS / "plane.css"

# Plotly's default 10, then Dark24 for datasets with more classes (the three near-black Dark24 entries are
# left out: they vanish on Streamlit's dark theme). Label i is drawn in LABEL_COLORS[i % len(LABEL_COLORS)];
# other figures get the same colours with `color_discrete_sequence=LABEL_COLORS` and labels in index order.
LABEL_COLORS: list[str] = list(qualitative.Plotly) + [
    c for c in qualitative.Dark24 if c not in {"#222A2A", "#0D2A63", "#620042"}
]
SLIDER_STEPS = 200  # about this many slider steps across a dimension's range
FAR_K = 5  # the "far from the data" cue compares the k-th nearest code's distance ...
FAR_RATIO = 4.0  # ... with the codes' own typical k-th neighbour distance; past this ratio the image is marked


def label_colors(n: int) -> list[str]:
    """The colours of labels 0..n-1: `LABEL_COLORS` in order, cycled when there are more labels than colours."""
    return [LABEL_COLORS[i % len(LABEL_COLORS)] for i in range(n)]


def encode_array(values: np.ndarray, dtype: str) -> dict[str, str]:
    """A 1-D array as `{"dtype": "f4" | "i4", "bdata": base64 of little-endian bytes}`.

    This is plotly's own typed-array encoding; it is about half the size of JSON numbers and decodes in
    the browser into a `Float32Array` / `Int32Array` without parsing (``AelabPlane.array`` in plane.js).
    """
    if dtype not in {"f4", "i4"}:
        raise ValueError(f"dtype must be 'f4' or 'i4'; got {dtype!r}")
    raw = np.ascontiguousarray(values, dtype="<" + dtype).tobytes()
    return {"dtype": dtype, "bdata": base64.b64encode(raw).decode("ascii")}


def decode_array(encoded: Mapping[str, str]) -> np.ndarray:
    """Inverse of `encode_array`: a 1-D float32 or int32 array."""
    return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype="<" + encoded["dtype"])


@dataclass(frozen=True)
class SliderSpec:
    """Range and step of the slider for one latent dimension, on a round grid of ``step``."""

    low: float
    high: float
    step: float

    @property
    def decimals(self) -> int:
        return max(0, -math.floor(math.log10(self.step) + 1e-9))

    def snap(self, value: float) -> float:
        """The nearest slider value to ``value`` (clipped to the range)."""
        return round(min(max(round(value / self.step) * self.step, self.low), self.high), self.decimals)


def slider_specs(codes: np.ndarray) -> list[SliderSpec]:
    """One slider per latent dimension over the codes' robust bounds, with a 1-2-5 step of ~1/200 of the range."""
    specs = []
    for low, high in plane_bounds(codes):
        raw = (high - low) / SLIDER_STEPS
        power = 10.0 ** math.floor(math.log10(raw))
        step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
        specs.append(SliderSpec(math.floor(low / step) * step, math.ceil(high / step) * step, step))
    return [SliderSpec(round(s.low, s.decimals), round(s.high, s.decimals), s.step) for s in specs]


def kth_distance(points: np.ndarray, at: np.ndarray, k: int = FAR_K) -> float:
    """Distance from ``at`` (2,) to its k-th nearest point of ``points`` (N, 2) (plane.js's ``kthDistance``)."""
    distances = np.sort(np.linalg.norm(np.asarray(points, dtype=np.float64) - np.asarray(at, dtype=np.float64), axis=1))
    return float(distances[min(k, len(distances)) - 1])


def typical_spacing(points: np.ndarray, k: int = FAR_K, sample: int = 1000) -> float:
    """The median, over up to ``sample`` of the points (N, 2), of the distance to their k-th nearest other point.

    What "near the data" means on this plane; the browser compares the cursor's ``kth_distance`` with it.
    """
    points = np.asarray(points, dtype=np.float64)
    if len(points) <= k:
        return 0.0
    chosen = points[np.linspace(0, len(points) - 1, min(sample, len(points))).astype(int)]
    kth = []
    for start in range(0, len(chosen), 100):  # 100 rows at a time: a few MB, not a (sample, N, 2) block
        distances = np.linalg.norm(chosen[start : start + 100, None, :] - points[None, :, :], axis=2)
        kth.append(np.partition(distances, k, axis=1)[:, k])  # column 0 is the point itself
    return float(np.median(np.concatenate(kth)))


SPRITE_LIMIT_BYTES = 4_000_000  # a sprite sheet's PNG larger than this is not sent (hover shows the decode only)


def sprite_sheet(images: np.ndarray, limit_bytes: int = SPRITE_LIMIT_BYTES) -> dict[str, Any] | None:
    """The dataset's images (N, C, H, W) in [0, 1] as one PNG sheet, for real images on hover; None past the limit.

    Image i sits at column i % columns, row i // columns. Returns `{"url": data URL, "columns", "count",
    "shape": [C, H, W]}`, or None when the PNG would exceed ``limit_bytes`` (MNIST-5k's 5,000 digits take
    0.86 MB, 1.1 MB as base64; 70,000 MNIST digits, about 12 MB, are not sent).
    """
    images = np.asarray(images, dtype=np.float32)
    n, c, h, w = images.shape
    if n == 0 or n * c * h * w > 4 * limit_bytes:  # far past the limit even after compression: do not encode
        return None
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    sheet = np.zeros((c, rows * h, columns * w), dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, columns)
        sheet[:, r * h : (r + 1) * h, k * w : (k + 1) * w] = images[i]
    png = png_bytes(sheet)
    if len(png) > limit_bytes:
        return None
    return {"url": data_url(png), "columns": columns, "count": n, "shape": [c, h, w]}


def plane_payload(
    points: np.ndarray,
    labels: np.ndarray,
    label_names: Sequence[str],
    bounds: np.ndarray,
    *,
    key: str,
    background: str | None = None,
    height: int = 520,
    decoder: dict[str, Any] | None = None,
    sliders: Sequence[SliderSpec] | None = None,
    texts: Mapping[str, str] | None = None,
    spacing: float | None = None,
    grid: int | None = None,
    sprite: dict[str, Any] | None = None,
    traces_url: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON plane.js draws; identical for identical inputs so that reruns can reuse it.

    points: (N, 2) data coordinates; labels: (N,) ints indexing `label_names`; bounds: (2, 2)
    `[[xmin, xmax], [ymin, ymax]]`. The result holds one trace per label name (in label order, empty classes
    included so that colours and legend entries do not depend on which classes are present), each with its
    points' x, y (float32) and sample indexes (int32) as `encode_array` dicts; `decoder`, the browser
    decoder spec (with a plane map) or None; `height`, the tallest the plot may be (CSS px). With `sliders`
    the plane has its panel: the decoded image, one slider per latent dimension (their ranges), the "far
    from the data" cue (`spacing`, `far_k`, `far_ratio`), and `texts`, the panel's words in the page's
    language; `spacing` is `typical_spacing(points)` when not given (pass a cached one: it costs tens of
    milliseconds for 5,000 points). `grid` = n has the browser decode the manifold (an n × n grid over the
    visible window) under the points, again after every zoom or pan; it needs `decoder`. `sprite` (from
    `sprite_sheet` of the images the sample indexes refer to) shows a hovered point's real image beside the
    decode. `extra` keys (e.g. `plotly_url`) are passed through. Raises ValueError with the expected
    shape when an input is malformed. With ``traces_url`` (where :func:`traces` of the same points, labels
    and names is served as a JSON file) the payload carries that URL instead of the traces, and plane.js
    fetches them.
    """
    points = np.asarray(points)
    labels = np.asarray(labels)
    bounds = np.asarray(bounds, dtype=float)
    _check_points(points, labels, len(label_names), bounds)
    _check_layers(background, decoder, grid, sliders)
    return {
        "key": key,
        **extra,
        **({"traces_url": traces_url} if traces_url else {"traces": traces(points, labels, label_names)}),
        "bounds": bounds.tolist(),
        "background": background,
        "height": int(height),
        "decoder": decoder,
        "panel": None if sliders is None else _panel(sliders, texts, spacing, points),
        "grid": None if grid is None else int(grid),
        "sprite": sprite,
        # A new view (bounds) resets the user's zoom; anything else (a new background) keeps it.
        "view": json.dumps(bounds.tolist()),
    }


def _check_points(points: np.ndarray, labels: np.ndarray, label_count: int, bounds: np.ndarray) -> None:
    """ValueError, naming the expected shape, for points, labels or bounds that plane.js could not draw."""
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be shaped (N, 2); got {points.shape}")
    if labels.shape != (points.shape[0],):
        raise ValueError(f"labels must be shaped ({points.shape[0]},) to match points; got {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers indexing label_names; got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= label_count):
        raise ValueError(
            f"labels must lie in 0..{label_count - 1} to index the {label_count} label names; "
            f"got {labels.min()}..{labels.max()}"
        )
    if bounds.shape != (2, 2) or not np.all(np.isfinite(bounds)) or np.any(bounds[:, 0] >= bounds[:, 1]):
        raise ValueError(f"bounds must be finite [[xmin, xmax], [ymin, ymax]] with min < max; got {bounds.tolist()}")


def _check_layers(
    background: str | None, decoder: dict[str, Any] | None, grid: int | None, sliders: Sequence[SliderSpec] | None
) -> None:
    """ValueError for a background, decoder, grid or slider set that does not fit together."""
    if background is not None and not background.startswith("data:image/"):
        raise ValueError("background must be a data URL such as 'data:image/png;base64,...'")
    if decoder is not None and (decoder.get("format") != "aelab-decoder" or not decoder.get("plane_map")):
        raise ValueError("decoder must be an aelab.export.decoder_spec(model, plane_map) with a plane map")
    if grid is not None and (decoder is None or not 2 <= int(grid) <= 64):
        raise ValueError(f"grid must be a size from 2 to 64 with a decoder to draw it; got {grid!r}")
    if sliders is not None and decoder is not None and len(sliders) != decoder["latent_dim"]:
        raise ValueError(f"need one slider per latent dimension ({decoder['latent_dim']}); got {len(sliders)}")


def traces(points: np.ndarray, labels: np.ndarray, label_names: Sequence[str]) -> list[dict[str, Any]]:
    """One trace per label name, in label order: name, colour, and its points' x, y and sample indexes."""
    traces = []
    for label, (name, color) in enumerate(zip(label_names, label_colors(len(label_names)))):
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
    return traces


def _panel(
    sliders: Sequence[SliderSpec], texts: Mapping[str, str] | None, spacing: float | None, points: np.ndarray
) -> dict[str, Any]:
    """The decode panel: slider ranges, its words, and the "far from the data" cue's spacing and thresholds."""
    return {
        "sliders": [{"low": s.low, "high": s.high, "step": s.step, "decimals": s.decimals} for s in sliders],
        "texts": dict(texts or {}),
        "spacing": float(spacing) if spacing is not None else typical_spacing(points) if len(points) else 0.0,
        "far_k": FAR_K,
        "far_ratio": FAR_RATIO,
    }


def plane_js() -> str:
    """The source of the plane module (a UMD-style script: sets ``globalThis.AelabPlane``; node can require it)."""
    return PLANE_JS.read_text(encoding="utf-8")


def plane_css() -> str:
    """The plane module's style sheet (layout of the plot and its panel, the pixelated image, the sliders)."""
    return PLANE_CSS.read_text(encoding="utf-8")
