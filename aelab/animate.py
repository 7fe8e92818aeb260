"""Animations a class can watch and keep: a training's codes forming clusters, and a walk across the plane.

Both come out as animated GIF bytes written by Pillow. :func:`replay_frames` draws one scatter of the test
codes per epoch on fixed axes, in the plane's label colours; :func:`walk_frames` decodes a straight path
between two codes. Sizes are bounded before anything is drawn: at most :data:`MAX_FRAMES` frames of at
most :data:`MAX_SIDE` pixels a side, and a walk needs two different, finite ends.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from aelab.errors import AelabError
from aelab.imaging import tile, to_pixels, upscale
from aelab.latent import analogies, decode_codes, line_codes, plane_bounds
from aelab.models import Autoencoder
from aelab.plane import label_colors

MAX_FRAMES = 300
MAX_SIDE = 1024  # pixels along a frame's longer side


class AnimationError(AelabError):
    """An animation that cannot be made as asked (no length, too many frames, too large)."""


def gif_bytes(frames: Sequence[Image.Image], fps: float = 10.0, hold_last_s: float = 0.0) -> bytes:
    """Frames as an animated GIF that loops, ``fps`` frames a second, the last shown ``hold_last_s`` longer
    (Pillow's encoder; it merges identical neighbouring frames into one longer frame)."""
    if not frames:
        raise AnimationError("an animation needs at least one frame")
    if not 0.5 <= fps <= 50:
        raise AnimationError(f"frames per second must be between 0.5 and 50; got {fps:g}")
    buffer = io.BytesIO()
    first, *rest = [frame.convert("RGB") for frame in frames]
    durations = [round(1000 / fps)] * len(frames)
    durations[-1] += round(1000 * hold_last_s)
    first.save(buffer, format="GIF", save_all=True, append_images=rest, duration=durations, loop=0)
    return buffer.getvalue()


def _check_size(frames: int, side: int) -> None:
    if not 1 <= frames <= MAX_FRAMES:
        raise AnimationError(f"an animation has 1 to {MAX_FRAMES} frames; this one would have {frames}")
    if side > MAX_SIDE:
        raise AnimationError(f"frames are limited to {MAX_SIDE} pixels a side; this one would be {side}")


# --- a walk across the plane -----------------------------------------------------------------------------


def walk_frames(
    model: Autoencoder,
    start: Sequence[float] | np.ndarray,
    end: Sequence[float] | np.ndarray,
    steps: int = 24,
    scale: int = 8,
    label: int | None = None,
) -> list[Image.Image]:
    """The images decoded at ``steps`` evenly spaced codes from ``start`` to ``end`` (each (d,)), as Pillow
    frames of ``scale``× the image size, crisp pixels. AnimationError for a walk that cannot be drawn.

    A conditional model draws each code as ``label``, or, when it is None, as its whole analogy row (every
    label side by side, 1 px apart): the walk then changes the style of every class at once.
    """
    d = model.config.latent_dim
    a, b = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    if a.shape != (d,) or b.shape != (d,):
        raise AnimationError(f"the model's codes have {d} numbers; the walk's ends have {a.size} and {b.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise AnimationError("the walk's ends must be finite numbers")
    if np.allclose(a, b):
        raise AnimationError("the walk has no length: its two ends are the same point")
    if steps < 2:
        raise AnimationError(f"a walk needs at least 2 steps; got {steps}")
    _, h, w = model.config.image_shape
    if scale < 1:
        raise AnimationError(f"the scale must be a whole number of at least 1; got {scale}")
    rows = model.conditional and label is None
    if rows:
        w = model.config.classes * (w + 1) + 1
    _check_size(steps, max(h, w) * scale)
    codes = line_codes(a, b, steps)
    if rows:
        images = np.stack([tile(row, columns=len(row)) for row in analogies(model, codes)])
    else:
        try:
            images = decode_codes(model, codes, label)
        except ValueError as error:  # a label outside the model's classes
            raise AnimationError(str(error)) from None
    return [Image.fromarray(to_pixels(upscale(image, scale))) for image in images]


def walk_gif(
    model: Autoencoder,
    start: Sequence[float] | np.ndarray,
    end: Sequence[float] | np.ndarray,
    steps: int = 24,
    scale: int = 8,
    fps: float = 12,
    label: int | None = None,
) -> bytes:
    """:func:`walk_frames` there and back again (so the loop does not jump), as GIF bytes."""
    frames = walk_frames(model, start, end, steps, scale, label)
    return gif_bytes(frames + frames[-2:0:-1], fps)


# --- a training's codes forming clusters -----------------------------------------------------------------


def replay_frames(
    epochs: Sequence[np.ndarray], labels: np.ndarray, size: int = 480, captions: Sequence[str] | None = None
) -> list[Image.Image]:
    """One scatter per epoch of codes (each (N, ≥1); the first two dimensions are drawn) on axes fixed across
    the frames, each point in its label's colour, with a caption (default "epoch i / n") at the top."""
    if not epochs:
        raise AnimationError("there is nothing to replay yet: no epoch has finished")
    _check_size(len(epochs), size)
    planes = [_first_two(codes) for codes in epochs]
    bounds = plane_bounds(np.concatenate(planes), percentile=0.5, pad=0.08)
    colours = label_colors(int(labels.max()) + 1 if len(labels) else 1)
    font = ImageFont.load_default(size=max(12, size // 30))
    captions = captions or [f"epoch {i} / {len(epochs)}" for i in range(1, len(epochs) + 1)]
    margin = size // 12
    frames = []
    for plane, caption in zip(planes, captions):
        frame = Image.new("RGB", (size, size), "white")
        draw = ImageDraw.Draw(frame)
        span = np.maximum(bounds[:, 1] - bounds[:, 0], 1e-9)
        xy = margin + (plane - bounds[:, 0]) / span * (size - 2 * margin)
        xy[:, 1] = size - xy[:, 1]  # y grows upwards, as on the plane
        radius = max(1.5, size / 240)
        for (x, y), label in zip(xy, labels):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colours[int(label)])
        draw.rectangle((margin // 2, margin // 2, size - margin // 2, size - margin // 2), outline="#999999")
        draw.text((margin, margin // 8), caption, fill="black", font=font)
        frames.append(frame)
    return frames


def replay_gif(
    epochs: Sequence[np.ndarray], labels: np.ndarray, size: int = 480, fps: float = 6, max_frames: int = 120
) -> bytes:
    """:func:`replay_frames` as GIF bytes, at most ``max_frames`` epochs evenly chosen (the first and the last
    always), each captioned with its real epoch number; the last is held a second before the loop restarts."""
    n = len(epochs)
    if n == 0:
        raise AnimationError("there is nothing to replay yet: no epoch has finished")
    chosen = np.unique(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int))
    captions = [f"epoch {i + 1} / {n}" for i in chosen]
    frames = replay_frames([epochs[i] for i in chosen], labels, size, captions)
    return gif_bytes(frames, fps, hold_last_s=1.0)


def _first_two(codes: np.ndarray) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.float64)
    return codes[:, :2] if codes.shape[1] >= 2 else np.column_stack([codes[:, 0], np.zeros(len(codes))])
