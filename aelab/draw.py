"""From a drawing or a photo to the input a model sees: MNIST-style preprocessing, and the photo path.

A drawing arrives as *ink*: a grey (H, W) array in [0, 1], white ink on black (the canvas draws that way).
:func:`preprocess` turns it into the dataset's input, following LeCun's description of MNIST:

1. crop to the ink (pixels above :data:`INK_THRESHOLD`);
2. scale the crop so its longer side fills a box (20×20 for MNIST) keeping the aspect ratio, anti-aliased
   by exact area averaging (each output pixel is the mean of the input area it covers);
3. place it in the frame (28×28) with its centre of mass at the frame's centre (14, 14), shifted by whole
   pixels as MNIST was; ink that a far-off centre of mass pushes past the edge is cut;
4. white ink on black, copied into every channel for a colour dataset.

Each dataset has its own :class:`Convention` (:func:`convention_for`):

- ``mnist5k`` and ``mnist``: 28×28 frame, 20×20 box, centred by the centre of mass (LeCun's MNIST);
- ``digits`` (scikit-learn's 8×8 UCI optical digits): the longer side fills the whole 8×8 frame and the
  box is centred, as in that set (its digits are 8 rows tall, bounding-box centred). Area averaging a
  binary 10× drawing down to 8×8 is the set's own 4×4 block count divided by 16;
- any other dataset: its own frame, and a box measured on its training images (the 90th percentile of
  the ink's longer side), centred by the centre of mass.

The same steps run in the browser (``aelab/assets/preprocess.js``), so the point moves while the pen
does; tests/test_draw_js.py checks the two agree to 1/255 per pixel. Resizing is area averaging written
out as two small weight matrices rather than Pillow's BOX filter because the JavaScript twin must
reproduce it exactly.

A photo (:func:`photo_steps`) goes through contrast, threshold, inversion and clean-up first, every step
kept for display. Problems are refused with :class:`NoDigit` (nothing drawable) or
:class:`~aelab.errors.UnsupportedFile` (not an image, too large). No Streamlit here.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from aelab.data import Dataset
from aelab.errors import AelabError, UnsupportedFile
from aelab.latent import PlaneMap, encode_images, likeliest_labels, nearest
from aelab.models import Autoencoder

INK_THRESHOLD = 0.1  # a pixel brighter than this is ink when cropping
# The ink's longer side must span this share of the canvas' longer side, or it is a dot: a tap of the widest
# pen (0.15 of the canvas, for the 8×8 digits) stays below it.
MIN_EXTENT = 0.16
MAX_IMAGE_BYTES = 15 * 1024 * 1024  # a photo file
MAX_IMAGE_PIXELS = 40_000_000  # a photo's width × height (a 40-megapixel camera), checked before decoding
PHOTO_SIDE = 560  # a photo is shrunk to this longer side first: enough for a digit, fast to clean up
MNIST_NAMES = ("mnist5k", "mnist")


class NoDigit(AelabError):
    """A drawing or photo with nothing that can be read as a digit (blank, a dot, no ink found)."""


@dataclass(frozen=True)
class Convention:
    """How a dataset's images were made from ink: frame (H, W), the box the ink's longer side is scaled
    into (box_h, box_w), how the box is placed ("mass": centre of mass at the frame's centre; "box": the
    box centred), and channels (ink copied into each)."""

    frame: tuple[int, int]
    box: tuple[int, int]
    centre: Literal["mass", "box"]
    channels: int = 1

    def to_dict(self) -> dict[str, object]:
        """The JSON form that preprocess.js reads (with the module's thresholds, so they are defined once)."""
        return {
            "frame": list(self.frame),
            "box": list(self.box),
            "centre": self.centre,
            "channels": self.channels,
            "ink_threshold": INK_THRESHOLD,
            "min_extent": MIN_EXTENT,
        }


MNIST_CONVENTION = Convention((28, 28), (20, 20), "mass")


def convention_for(dataset: Dataset) -> Convention:
    """The preprocessing convention of ``dataset`` (see the module docstring)."""
    c, h, w = dataset.image_shape
    if dataset.name in MNIST_NAMES and (h, w) == (28, 28):
        return Convention((28, 28), (20, 20), "mass", c)
    if dataset.name == "digits":
        return Convention((h, w), (h, w), "box", c)
    # Measured: the longer side of each training image's ink, relative to the frame's longer side.
    ink = dataset.train_images.max(axis=1) > INK_THRESHOLD  # (N, H, W)
    rows, cols = ink.any(axis=2), ink.any(axis=1)

    def extent(mask: np.ndarray) -> np.ndarray:
        first = mask.argmax(axis=1)
        last = mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1)
        return np.where(mask.any(axis=1), last - first + 1, 0)

    longer = np.maximum(extent(rows) / h, extent(cols) / w)
    share = float(np.percentile(longer[longer > 0], 90)) if (longer > 0).any() else 20 / 28
    share = min(max(share, 0.25), 1.0)
    return Convention((h, w), (max(1, round(h * share)), max(1, round(w * share))), "mass", c)


# --- the steps ---------------------------------------------------------------------------------------------


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the pixels above INK_THRESHOLD; NoDigit when there are none or only a dot."""
    mask = ink > INK_THRESHOLD
    if not mask.any():
        raise NoDigit("the canvas is empty: draw a digit first")
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    top, left = int(rows[0]), int(cols[0])
    height, width = int(rows[-1]) - top + 1, int(cols[-1]) - left + 1
    if max(height, width) < MIN_EXTENT * max(ink.shape):
        raise NoDigit("that is a single dot, not a digit: draw a longer stroke")
    return top, left, height, width


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: output pixel o is the mean of input interval [o·n_in/n_out, (o+1)·n_in/n_out)."""
    step = n_in / n_out
    weights = np.zeros((n_out, n_in))
    for o in range(n_out):
        start, end = o * step, (o + 1) * step
        for i in range(math.floor(start), min(math.ceil(end), n_in)):
            weights[o, i] = (min(end, i + 1) - max(start, i)) / step
    return weights


def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w) -> (height, width) by exact area averaging (anti-aliased going down, box-like going up)."""
    return area_weights(image.shape[0], height) @ image @ area_weights(image.shape[1], width).T


def scaled_size(height: int, width: int, box: tuple[int, int]) -> tuple[int, int]:
    """The crop's size once its longer side fills the box, aspect ratio kept (each side at least 1 pixel)."""
    scale = min(box[0] / height, box[1] / width)
    return max(1, math.floor(height * scale + 0.5)), max(1, math.floor(width * scale + 0.5))


def place(patch: np.ndarray, convention: Convention) -> np.ndarray:
    """The patch in the frame (H, W): centre of mass at the frame's centre, or the box centred."""
    fh, fw = convention.frame
    ph, pw = patch.shape
    if convention.centre == "mass":
        cy, cx = ndimage.center_of_mass(patch)
        top, left = math.floor(fh / 2 - cy + 0.5), math.floor(fw / 2 - cx + 0.5)
    else:
        top, left = (fh - ph) // 2, (fw - pw) // 2
    frame = np.zeros((fh, fw))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + ph, fh), min(left + pw, fw)
    frame[r0:r1, c0:c1] = patch[r0 - top : r1 - top, c0 - left : c1 - left]
    return frame


def preprocess(ink: np.ndarray, convention: Convention = MNIST_CONVENTION) -> np.ndarray:
    """Ink (H, W) in [0, 1], white on black -> the model's input (C, H', W') float32 in [0, 1].

    Raises NoDigit for an empty canvas or a single dot.
    """
    ink = np.asarray(ink, dtype=np.float64)
    if ink.ndim != 2:
        raise ValueError(f"ink must be a grey (H, W) array; got shape {ink.shape}")
    top, left, height, width = ink_box(ink)
    crop = ink[top : top + height, left : left + width]
    patch = np.clip(area_resize(crop, *scaled_size(height, width, convention.box)), 0.0, 1.0)
    frame = place(patch, convention)
    return np.repeat(frame[None], convention.channels, axis=0).astype(np.float32)


# --- images and photos -------------------------------------------------------------------------------------


def read_grey(data: bytes, max_side: int | None = None) -> np.ndarray:
    """An image file's bytes -> grey (H, W) float in [0, 1] (transparent pixels read as black).

    Refuses, with UnsupportedFile, a file over MAX_IMAGE_BYTES or MAX_IMAGE_PIXELS and anything Pillow
    cannot read as an image. ``max_side`` shrinks a larger image (aspect kept) before converting.
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise UnsupportedFile(
            f"the photo is {len(data) / 2**20:.1f} MB; the limit is {MAX_IMAGE_BYTES // 2**20} MB: send a smaller one"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UnsupportedFile(
                    f"the photo is {width}×{height} pixels; the limit is {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
                )
            image.draft("L", (max_side, max_side) if max_side else image.size)  # JPEG: decode at a reduced size
            if max_side and max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.BOX)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
                image = Image.alpha_composite(black, rgba)
            grey = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsupportedFile(
            f"the photo has more pixels than the {MAX_IMAGE_PIXELS // 1_000_000}-megapixel limit"
        ) from None
    except UnidentifiedImageError as error:
        raise UnsupportedFile(f"this file is not an image aelab can read (PNG, JPEG, …): {error}") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise UnsupportedFile(f"this image file is damaged or truncated: {error}") from None
    if grey.size == 0:
        raise UnsupportedFile("the image has no pixels")
    return grey


@dataclass(frozen=True)
class PhotoSteps:
    """Every stage of a photo's way to the model input, each a grey (H, W) array in [0, 1] for display, and
    the input itself (C, H', W')."""

    grey: np.ndarray
    contrast: np.ndarray
    threshold: np.ndarray
    ink: np.ndarray
    cropped: np.ndarray
    input: np.ndarray


def otsu_threshold(values: np.ndarray, bins: int = 256) -> tuple[float, float]:
    """Otsu's threshold of values in [0, 1], and how well it separates them (between-class / total variance)."""
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    p = counts / max(counts.sum(), 1)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    total_mean, total_var = m0[-1], float((p * (centres - m0[-1]) ** 2).sum())
    w1 = 1 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * w0 - m0) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0
    best = int(np.argmax(between))
    return float(edges[best + 1]), float(between[best] / total_var) if total_var > 0 else 0.0


def photo_steps(data: bytes, convention: Convention = MNIST_CONVENTION) -> PhotoSteps:
    """A photo of a handwritten digit (dark ink on light paper, or light on dark) -> every step and the input.

    Contrast: stretch the 1st–99th percentiles to [0, 1]. Threshold: Otsu's, on a lightly blurred copy (a clean photo separates at 0.75–0.96 of the variance, texture or noise at about 0.65).
    Invert: the background (the larger side of the threshold) becomes black. Clean-up: keep the connected
    ink regions at least a tenth the size of the largest (specks and paper texture go). Then the drawing's
    preprocessing. Raises NoDigit when no ink stands out from the background.
    """
    grey = read_grey(data, max_side=PHOTO_SIDE)
    low, high = np.percentile(grey, [1, 99])
    if high - low < 0.05:
        raise NoDigit("the photo is nearly uniform: no digit stands out from the background")
    contrast = np.clip((grey - low) / (high - low), 0.0, 1.0)
    smooth = ndimage.gaussian_filter(contrast, sigma=max(1.0, max(grey.shape) / 400))
    level, separation = otsu_threshold(smooth)
    dark_ink = (smooth > level).mean() > 0.5  # most of the photo is light: paper, so the ink is dark
    mask = smooth <= level if dark_ink else smooth > level
    ink = 1.0 - contrast if dark_ink else contrast
    labels, count = ndimage.label(mask)
    if count:
        sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, count + 1))
        mask = np.isin(labels, 1 + np.nonzero(sizes >= 0.1 * sizes.max())[0])
    share = mask.mean()
    if separation < 0.7 or not 0.001 <= share <= 0.3:
        raise NoDigit(
            "no digit found in the photo: write it dark on plain light paper, fill the frame, and avoid shadows"
        )
    ink = np.where(mask, ink, 0.0)
    peak = np.percentile(ink[mask], 90)
    ink = np.clip(ink / max(peak, 1e-6), 0.0, 1.0)
    top, left, height, width = ink_box(ink)
    cropped = ink[top : top + height, left : left + width]
    return PhotoSteps(grey, contrast, mask.astype(np.float64), ink, cropped, preprocess(ink, convention))


# --- strokes -----------------------------------------------------------------------------------------------


def render_strokes(strokes: list[np.ndarray], size: tuple[int, int], pen_width: float) -> np.ndarray:
    """Binary ink (H, W): 1 where a pixel's centre lies within pen_width / 2 of a stroke, else 0.

    strokes: polylines, each (K, 2) of (x, y) in pixels (a single point is a dot). The reference
    rasteriser that the benchmark and the browser twin test share (preprocess.js has the same function).
    """
    height, width = size
    ink = np.zeros((height, width))
    radius = pen_width / 2
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        pairs = itertools.pairwise(points) if len(points) > 1 else [(points[0], points[0])]
        for (x0, y0), (x1, y1) in pairs:
            # Only the pixels of the segment's bounding box, grown by the radius.
            r0, r1 = max(0, math.floor(min(y0, y1) - radius)), min(height, math.ceil(max(y0, y1) + radius) + 1)
            c0, c1 = max(0, math.floor(min(x0, x1) - radius)), min(width, math.ceil(max(x0, x1) + radius) + 1)
            if r0 >= r1 or c0 >= c1:
                continue
            px, py = xs[r0:r1, c0:c1], ys[r0:r1, c0:c1]
            dx, dy = x1 - x0, y1 - y0
            length2 = dx * dx + dy * dy
            t = np.zeros_like(px) if length2 == 0 else np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0, 1)
            near = (px - x0 - t * dx) ** 2 + (py - y0 - t * dy) ** 2 <= radius * radius
            ink[r0:r1, c0:c1][near] = 1.0
    return ink


# --- where a drawing lands -----------------------------------------------------------------------------------

CANVAS_SIDE = 280  # the drawing canvas, in pixels: 10× an MNIST digit
MAX_DATA_URL_CHARS = 2_000_000  # a PNG data URL from the canvas (a drawn 280×280 canvas is about 5-20 kB)
VOTE_K = 5  # neighbours in the vote, as in the 5-NN accuracy the models are measured by


def pen_width(convention: Convention, canvas_side: int = CANVAS_SIDE) -> float:
    """A pen width (canvas pixels) that gives the dataset's own stroke width once the drawing is scaled.

    A drawing fills about 3/4 of the canvas. Measured as ink mass over stroke length on the datasets' own
    images (mean ink × pixels ÷ the length of a 1 or the perimeter of a 0): MNIST's strokes are 2.5–3 px
    wide in a 20-px box, so the pen is about 0.135 of the drawn digit (28 px on the 280-px canvas); the
    8×8 digits' are 1–2.4 px of 8, so about a fifth (42 px).
    """
    share = 0.2 if max(convention.box) <= 8 else 0.135
    return round(0.75 * canvas_side * share, 1)


def image_from_data_url(url: object) -> np.ndarray:
    """A canvas' ``data:image/png;base64,…`` (as the browser sends it) -> grey (H, W) in [0, 1].

    Refuses with UnsupportedFile anything that is not a PNG data URL of a sane size (the value comes from
    the client, which may be tampered with).
    """
    prefix = "data:image/png;base64,"
    if not isinstance(url, str) or not url.startswith(prefix):
        raise UnsupportedFile("the drawing did not arrive as a PNG image")
    if len(url) > MAX_DATA_URL_CHARS:
        raise UnsupportedFile(f"the drawing is larger than {MAX_DATA_URL_CHARS // 1_000_000} MB")
    try:
        data = base64.b64decode(url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise UnsupportedFile("the drawing's PNG data is damaged") from None
    return read_grey(data)


def plane_projection(plane_map: PlaneMap, latent_dim: int) -> dict[str, list] | None:
    """The affine map code -> plane point, {"matrix": (d, 2), "offset": (2,)}, or None (UMAP: not affine).

    Identity for d = 2, (z, 0) for d = 1, and a PCA's transform (z − mean) · componentsᵀ for d > 2
    (:meth:`aelab.latent.PlaneMap.affine`).
    """
    parts = plane_map.affine()
    if parts is None or parts[0].shape != (2, latent_dim):
        return None
    components, mean = parts
    # 0.0 − m, not −m: a zero offset stays 0.0 rather than -0.0 in the JSON.
    return {"matrix": components.T.tolist(), "offset": (0.0 - mean @ components.T).tolist()}


@dataclass(frozen=True)
class Landing:
    """Where an input lands: its code (d,), plane point (2,), the nearest samples of the dataset (indices
    and distances, closest first), and the vote of the VOTE_K nearest training codes (label index, and the
    count per label)."""

    code: np.ndarray
    point: np.ndarray
    nearest: np.ndarray
    distances: np.ndarray
    guess: int
    votes: np.ndarray


def vote(
    train_codes: np.ndarray, train_labels: np.ndarray, code: np.ndarray, n_labels: int, k: int = VOTE_K
) -> tuple[int, np.ndarray]:
    """(label, counts per label) of the k nearest training codes; a tie goes to the smaller label, as in
    scikit-learn's KNeighborsClassifier (which the 5-NN accuracy uses)."""
    distances = np.linalg.norm(train_codes - code, axis=1)
    k = min(k, len(train_codes))
    index = np.argpartition(distances, k - 1)[:k]
    counts = np.bincount(np.asarray(train_labels)[index], minlength=n_labels)
    return int(counts.argmax()), counts


def land(codes: np.ndarray, dataset: Dataset, code: np.ndarray, plane_map: PlaneMap, *, k_nearest: int = 8) -> Landing:
    """The landing of ``code`` (d,) among ``codes`` (N, d), the codes of every image of ``dataset``."""
    code = np.asarray(code, dtype=np.float32).reshape(-1)
    index, distances = nearest(codes, code, k_nearest)
    guess, votes = vote(codes[dataset.train_idx], dataset.train_labels, code, dataset.n_classes)
    point = plane_map.to_plane(code[None])[0]
    return Landing(code, np.asarray(point, dtype=np.float64), index, distances, guess, votes)


def encode_drawings(
    model: Autoencoder, inputs: np.ndarray, label: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Drawings' model inputs (N, C, H, W) -> (codes (N, d), the labels they were encoded under (N,) or None).

    A conditional model is told ``label`` for every drawing, or, when it is None, the label it explains each
    drawing best by (:func:`aelab.latent.likeliest_labels`): a drawing comes with no label of its own. Other
    kinds are told nothing, and the labels are None.
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    if not model.conditional:
        return encode_images(model, inputs), None
    if label is None:
        labels = likeliest_labels(model, inputs).astype(np.int64)
    else:
        if not 0 <= label < model.config.classes:
            raise ValueError(f"label {label} is outside this model's classes 0..{model.config.classes - 1}")
        labels = np.full(len(inputs), label, dtype=np.int64)
    return encode_images(model, inputs, labels), labels


def live_label(chosen: int | None, decided: int | None) -> int:
    """The label the browser encodes under while the pen moves (one encode per frame, so no search): the
    chosen one, else the one the server decided for the latest drawing, else 0."""
    if chosen is not None:
        return chosen
    return 0 if decided is None else decided


# --- keeping drawings in a workspace -------------------------------------------------------------------------

SAVED_DRAWINGS_BYTES = 60_000  # the most recent drawings that fit in this much JSON are kept (the store takes 64 KB)


def pack_drawings(drawings: list[tuple[int, str, np.ndarray]]) -> list[dict[str, object]]:
    """Drawings ``(number, source, model input (C, H, W) in [0, 1])`` as small JSON for the workspace.

    Each input is kept as bytes (steps of 1/255, the canvas's own precision) in base64; the most recent that
    fit in ``SAVED_DRAWINGS_BYTES`` are kept, oldest first.
    """
    packed: list[dict[str, object]] = []
    size = 0
    for number, source, image in reversed(drawings):
        pixels = np.clip(np.round(np.asarray(image, dtype=np.float64) * 255), 0, 255).astype(np.uint8)
        entry: dict[str, object] = {
            "number": int(number),
            "source": str(source),
            "shape": [int(s) for s in pixels.shape],
            "pixels": base64.b64encode(pixels.tobytes()).decode("ascii"),
        }
        size += len(str(entry)) + 8
        if size > SAVED_DRAWINGS_BYTES:
            break
        packed.append(entry)
    return packed[::-1]


def unpack_drawings(value: object, image_shape: tuple[int, int, int]) -> list[tuple[int, str, np.ndarray]]:
    """Inverse of :func:`pack_drawings` for a dataset of ``image_shape`` (C, H, W).

    Read back from disk, so checked like any input: an entry of another shape, a number out of range, an
    unknown source or pixels that do not decode is dropped, never trusted.
    """
    drawings: list[tuple[int, str, np.ndarray]] = []
    if not isinstance(value, list):
        return drawings
    for entry in value:
        if not isinstance(entry, dict) or entry.get("shape") != list(image_shape):
            continue
        number, source = entry.get("number"), entry.get("source")
        if type(number) is not int or not 1 <= number <= 1_000_000 or source not in ("canvas", "photo"):
            continue
        try:
            raw = base64.b64decode(str(entry.get("pixels")), validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) != math.prod(image_shape):
            continue
        image = np.frombuffer(raw, dtype=np.uint8).reshape(image_shape).astype(np.float32) / 255.0
        drawings.append((number, source, image))
    return drawings
