"""Turning image arrays into pictures: tiles, upscaling and PNG bytes.

Images come in as (N, C, H, W) or (C, H, W) float arrays in [0, 1]; pictures go out as uint8 arrays
(H, W) for grey or (H, W, 3) for colour, or as PNG bytes.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_pixels(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [0, 1] -> uint8 (H, W) for C = 1 or (H, W, 3) for C = 3."""
    image = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    pixels = np.round(image * 255).astype(np.uint8)
    return pixels[0] if pixels.shape[0] == 1 else np.transpose(pixels, (1, 2, 0))


def tile(images: np.ndarray, columns: int | None = None, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """A mosaic of images (N, C, H, W) in rows of ``columns`` (default: square-ish) -> (C, H', W').

    Cells are separated by ``pad`` pixels of ``pad_value``; an incomplete last row is padded too.
    """
    images = np.asarray(images, dtype=np.float32)
    n, c, h, w = images.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    canvas = np.full((c, rows * (h + pad) + pad, columns * (w + pad) + pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        canvas[:, top : top + h, left : left + w] = images[i]
    return canvas


def grid_image(grid: np.ndarray, pad: int = 0) -> np.ndarray:
    """A decoded grid (rows, cols, C, H, W) -> one image (C, rows·H, cols·W), row 0 at the top."""
    rows, cols = grid.shape[:2]
    return tile(grid.reshape(rows * cols, *grid.shape[2:]), columns=cols, pad=pad)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """(C, H, W) -> (C, H·factor, W·factor) by pixel repetition (crisp pixels, no blur)."""
    return np.repeat(np.repeat(image, factor, axis=-2), factor, axis=-1)


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """(C, H, W) in [0, 1] -> PNG file bytes, each pixel drawn as scale×scale."""
    picture = Image.fromarray(to_pixels(upscale(image, scale) if scale > 1 else image))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    """PNG bytes -> a ``data:image/png;base64,…`` URL (what a page or the plane shows without a file)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def crisp_png(image: np.ndarray, target: int) -> tuple[bytes, int]:
    """(C, H, W) or (H, W) in [0, 1] -> (PNG bytes, width in px): upscaled by the whole factor that brings its
    width closest to ``target`` px, by pixel repetition, so a small image stays sharp when shown large."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[None]
    factor = max(1, round(target / image.shape[-1]))
    return png_bytes(image, factor), image.shape[-1] * factor
