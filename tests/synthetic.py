"""Small generated datasets for tests: fast to make, easy to learn, with known classes."""

from __future__ import annotations

import numpy as np

from aelab.data import Dataset, make_dataset


def blobs(
    n: int = 240, side: int = 8, classes: int = 4, channels: int = 1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, C, side, side) and labels (n,): class k is a bright square in quadrant k plus a little noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    images = rng.uniform(0, 0.1, size=(n, channels, side, side)).astype(np.float32)
    half = side // 2
    for k in range(classes):
        r, c = divmod(k % 4, 2)
        images[labels == k, :, r * half : (r + 1) * half, c * half : (c + 1) * half] += 0.8
    return np.clip(images, 0, 1), labels


def tiny_dataset(side: int = 8, channels: int = 1, n: int = 240) -> Dataset:
    images, labels = blobs(n=n, side=side, channels=channels)
    return make_dataset(f"blobs{side}", images, labels, ["NW", "NE", "SW", "SE"])
