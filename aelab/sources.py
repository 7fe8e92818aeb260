"""Dataset sources beyond the two bundled digit sets: a generated ``shapes`` set and three online sets.

``shapes`` (bundled, deterministic, no files): 28×28 grey images of a square, an ellipse, a heart or a
triangle, each at a random scale, rotation and position, with every factor recorded in
``Dataset.factors`` so the Explore plane can be coloured by any of them.

Online sources (``mnist``: all 70,000 MNIST digits; ``fashion``: Fashion-MNIST; ``kmnist``:
Kuzushiji-MNIST) are fetched once through scikit-learn's :func:`~sklearn.datasets.fetch_openml` (which
verifies the download's MD5 checksum against OpenML's description and keeps its own copy under
``<cache>/openml``), converted to one compact ``<cache>/<name>.npz`` and read from there on every later
use, offline. Without a network, :class:`SourceUnavailable` says which files to fetch by hand and how
``aelab data import`` puts them in place. The cache directory is ``$AELAB_CACHE``, else
``$XDG_CACHE_HOME/aelab``, else ``~/.cache/aelab``.
"""

from __future__ import annotations

import functools
import gzip
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aelab.data import Dataset, Source, make_dataset
from aelab.errors import AelabError, UnknownName, UnsupportedFile

# (fraction done in [0, 1], what is happening now); what it returns is ignored (a Streamlit bar returns itself)
Progress = Callable[[float, str], object]


class SourceUnavailable(AelabError):
    """An online dataset that is neither cached nor downloadable now; the message says how to add it by hand."""


# --- generated shapes ------------------------------------------------------------------------------------

SHAPE_NAMES = ("square", "ellipse", "heart", "triangle")
SHAPES_PER_CLASS = 1000
SHAPES_SIDE = 28
SHAPES_SEED = 0
_SUPERSAMPLE = 3  # sub-pixels per pixel side: smooth (anti-aliased) edges at a cost of 9× the points


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether points (u, v) of the unit frame (y up) lie inside shape ``shape``; each shape fits the unit disc."""
    if shape == 0:  # square, corners on a circle of radius 0.99
        return np.maximum(np.abs(u), np.abs(v)) <= 0.7
    if shape == 1:  # ellipse, 2:1.1 axes
        return (u / 0.95) ** 2 + (v / 0.55) ** 2 <= 1.0
    if shape == 2:  # heart: (x² + y² − 1)³ − x²y³ ≤ 0, shifted and shrunk to fit the unit disc
        x, y = u * 1.3, v * 1.3 + 0.2  # the curve reaches 1.28 from (0, 0.2): now inside the unit disc
        return (x**2 + y**2 - 1) ** 3 - x**2 * y**3 <= 0
    # equilateral triangle with circumradius 0.95, apex up: inside all three edges (apothem 0.475)
    inside = v >= -0.475
    for nx, ny in ((np.sqrt(3) / 2, 0.5), (-np.sqrt(3) / 2, 0.5)):
        inside &= nx * u + ny * v <= 0.475
    return inside


def generate_shapes(
    per_class: int = SHAPES_PER_CLASS, side: int = SHAPES_SIDE, seed: int = SHAPES_SEED
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Images (N, side, side) float32 in [0, 1], labels (N,) into SHAPE_NAMES, and factors, each (N,).

    Factors: ``scale`` (radius as a fraction of the half side, 0.35–0.7), ``rotation`` (degrees, 0–360),
    ``x`` and ``y`` (centre offset from the image centre in pixels, y up; chosen so the shape stays inside).
    The same seed gives the same images, bit for bit.
    """
    rng = np.random.default_rng(seed)
    n = per_class * len(SHAPE_NAMES)
    labels = np.repeat(np.arange(len(SHAPE_NAMES)), per_class)
    rng.shuffle(labels)
    half = side / 2
    scale = rng.uniform(0.35, 0.7, n)
    radius = scale * half
    rotation = rng.uniform(0.0, 360.0, n)
    room = half - radius - 0.5
    x, y = rng.uniform(-1, 1, n) * room, rng.uniform(-1, 1, n) * room

    # Sub-pixel centres in pixel units relative to the image centre (rows go down, so y is negated).
    offsets = (np.arange(side * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - half
    cols, rows = np.meshgrid(offsets, -offsets)
    images = np.empty((n, side, side), dtype=np.float32)
    for start in range(0, n, 256):  # in chunks: the sub-pixel grids of all images at once would take ~1 GB
        part = slice(start, min(start + 256, n))
        theta = np.deg2rad(rotation[part])[:, None, None]
        dx, dy = cols[None] - x[part, None, None], rows[None] - y[part, None, None]
        # Rotate the sampling points by −θ (the shape by +θ) and divide by the radius: the unit frame.
        u = (np.cos(theta) * dx + np.sin(theta) * dy) / radius[part, None, None]
        v = (-np.sin(theta) * dx + np.cos(theta) * dy) / radius[part, None, None]
        fine = np.zeros(u.shape, dtype=np.float32)
        for k in range(len(SHAPE_NAMES)):
            mask = labels[part] == k
            fine[mask] = _inside(k, u[mask], v[mask])
        images[part] = fine.reshape(-1, side, _SUPERSAMPLE, side, _SUPERSAMPLE).mean(axis=(2, 4))
    factors = {"scale": scale, "rotation": rotation, "x": x, "y": y}
    return images, labels, factors


def load_shapes() -> Dataset:
    """The registered ``shapes`` dataset: 4,000 images, 1,000 of each shape, with its factors."""
    images, labels, factors = generate_shapes()
    return make_dataset(
        "shapes",
        images,
        labels,
        SHAPE_NAMES,
        title="Shapes (4,000 generated shapes with known factors, 28×28)",
        info={"source": f"generated by aelab.sources.generate_shapes (seed {SHAPES_SEED})"},
        factors=factors,
    )


# --- the per-user cache ----------------------------------------------------------------------------------


def cache_dir() -> Path:
    """The per-user cache directory (not created here)."""
    if os.environ.get("AELAB_CACHE"):
        return Path(os.environ["AELAB_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aelab"


@dataclass(frozen=True)
class OnlineSpec:
    """An online dataset of 28×28 grey images with ten classes, distributed as the four MNIST IDX files."""

    name: str
    title: str
    openml_name: str
    label_names: tuple[str, ...]
    homepage: str
    description: str

    @property
    def cache_file(self) -> Path:
        return cache_dir() / f"{self.name}.npz"


IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

ONLINE: dict[str, OnlineSpec] = {
    spec.name: spec
    for spec in (
        OnlineSpec(
            "mnist",
            "MNIST (70,000 handwritten digits, 28×28)",
            "mnist_784",
            tuple(str(d) for d in range(10)),
            "https://yann.lecun.com/exdb/mnist/",
            "all 70,000 MNIST digits; downloaded once (about 15 MB)",
        ),
        OnlineSpec(
            "fashion",
            "Fashion-MNIST (70,000 clothing images, 28×28)",
            "Fashion-MNIST",
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
            "https://github.com/zalandoresearch/fashion-mnist",
            "Zalando's 70,000 clothing images; downloaded once (about 30 MB)",
        ),
        OnlineSpec(
            "kmnist",
            "Kuzushiji-MNIST (70,000 cursive Japanese characters, 28×28)",
            "Kuzushiji-MNIST",
            ("お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"),
            "https://github.com/rois-codh/kmnist",
            "70,000 cursive hiragana, one per row of the syllabary; downloaded once (about 20 MB)",
        ),
    )
}


def _spec(name: str) -> OnlineSpec:
    try:
        return ONLINE[name]
    except KeyError:
        raise UnknownName(f"unknown online dataset {name!r}; choose one of: {', '.join(ONLINE)}") from None


def is_cached(name: str) -> bool:
    """Whether the online dataset ``name`` is in the cache (so loading it needs no network)."""
    return _spec(name).cache_file.is_file()


def manual_instructions(spec: OnlineSpec) -> str:
    """How to put the files in place by hand, for the offline message."""
    return (
        f"To add it by hand, download the four files {', '.join(IDX_FILES)} from {spec.homepage} into a "
        f"folder on a machine with internet access, copy the folder here and run "
        f"`aelab data import FOLDER --dataset {spec.name}` (an .npz with x_train, y_train, x_test, y_test "
        f"works too); it writes {spec.cache_file}."
    )


def _fetch_openml(spec: OnlineSpec, data_home: Path) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (N, 784), labels (N,)) from OpenML; scikit-learn verifies the download's MD5 checksum."""
    from sklearn.datasets import fetch_openml

    bunch = fetch_openml(spec.openml_name, version=1, data_home=str(data_home), as_frame=False, parser="liac-arff")
    return np.asarray(bunch.data), np.asarray(bunch.target)


def _write_cache(spec: OnlineSpec, images: np.ndarray, labels: np.ndarray) -> Path:
    """Write images (N, 28, 28) uint8 and labels (N,) uint8 to the cache atomically (readers never see half a file)."""
    target = spec.cache_file
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{spec.name}-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez_compressed(file, images=images, labels=labels)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _checked(spec: OnlineSpec, images: np.ndarray, labels: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Images as (N, 28, 28) uint8 and labels (N,) uint8 in 0–9, or UnsupportedFile naming ``where``."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise UnsupportedFile(
            f"expected {spec.title} images shaped (N, 28, 28) or (N, 784) in {where}; got {images.shape}"
        )
    if labels.dtype.kind in "USO":  # OpenML gives labels as strings "0".."9" (an object array)
        try:
            labels = labels.astype(str).astype(np.int64)
        except (ValueError, TypeError):
            raise UnsupportedFile(f"expected labels 0–9 in {where}; found {labels[:3].tolist()}…") from None
    if labels.shape != (len(images),):
        raise UnsupportedFile(f"expected {len(images)} labels in {where}; got an array shaped {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) and not (
        np.issubdtype(labels.dtype, np.floating) and np.isfinite(labels).all()
    ):
        raise UnsupportedFile(f"expected integer labels 0–9 in {where}; got dtype {labels.dtype}")
    if len(images) == 0 or labels.min() < 0 or labels.max() > 9:
        raise UnsupportedFile(f"expected a non-empty set with labels 0–9 in {where}")
    if not np.isfinite(images).all() or images.min() < 0 or images.max() > 255:
        raise UnsupportedFile(f"expected pixel values 0–255 in {where}; found [{images.min()}, {images.max()}]")
    return np.round(images).astype(np.uint8), labels.astype(np.uint8)


def fetch(name: str, progress: Progress | None = None) -> Path:
    """Make sure the online dataset ``name`` is in the cache, downloading it if needed; returns the cache file.

    ``progress(fraction, message)`` is told of each stage (download, conversion, saving). Raises
    SourceUnavailable, with the steps to add the files by hand, when the download fails.
    """
    spec = _spec(name)
    report = progress or (lambda fraction, message: None)
    if spec.cache_file.is_file():
        report(1.0, f"{spec.title}: cached in {spec.cache_file}")
        return spec.cache_file
    report(0.0, f"downloading {spec.title} from OpenML (first use only)")
    try:
        pixels, labels = _fetch_openml(spec, cache_dir() / "openml")
    except (OSError, ValueError) as error:  # URLError is an OSError; a checksum mismatch is a ValueError
        raise SourceUnavailable(f"could not download {spec.title} ({error}). {manual_instructions(spec)}") from error
    report(0.8, "checking and converting")
    images, labels = _checked(spec, pixels, labels, "the OpenML download")
    report(0.9, f"saving to {spec.cache_file}")
    path = _write_cache(spec, images, labels)
    report(1.0, f"{spec.title}: {len(images):,} images cached in {path}")
    return path


def load_online(name: str, progress: Progress | None = None) -> Dataset:
    """The online dataset ``name`` from the cache, fetched first if it is not there yet."""
    spec = _spec(name)
    path = fetch(name, progress)
    try:
        with np.load(path, allow_pickle=False) as archive:
            images, labels = _checked(spec, archive["images"], archive["labels"], str(path))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise UnsupportedFile(f"the cached file {path} is damaged ({error}); delete it to download again") from None
    return make_dataset(
        spec.name,
        images,
        labels,
        spec.label_names,
        title=spec.title,
        info={"source": f"{spec.homepage}, via OpenML, cached in {path}"},
    )


# --- importing the standard files by hand ---------------------------------------------------------------


def read_idx(data: bytes, where: str = "the file") -> np.ndarray:
    """An IDX array (the MNIST file format: magic, big-endian dims, then the values); gzip is detected.

    Raises UnsupportedFile for anything that is not a well-formed IDX file of unsigned bytes.
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise UnsupportedFile(f"{where} is not a readable .gz file ({error})") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08 or not 1 <= data[3] <= 3:
        raise UnsupportedFile(
            f"expected an IDX file of unsigned bytes (magic 00 00 08 0n) in {where}; got {data[:4].hex()}"
        )
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    body = memoryview(data)[4 + 4 * ndim :]
    if len(body) != int(np.prod(dims)):
        raise UnsupportedFile(f"{where} says {dims} values but holds {len(body)} bytes")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _find(folder: Path, stem: str) -> Path:
    for candidate in (folder / stem, folder / stem.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    raise UnsupportedFile(f"expected {stem} (or its unzipped form) in {folder}; it is not there")


def read_standard_files(path: Path, spec: OnlineSpec) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) uint8) from a folder of the four IDX files or one .npz.

    The .npz holds ``x_train, y_train, x_test, y_test`` (the Keras layout) or ``images, labels``; it is
    read with allow_pickle=False.
    """
    path = Path(path)
    if path.is_dir():
        parts = [read_idx(_find(path, stem).read_bytes(), stem) for stem in IDX_FILES]
        images, labels = np.concatenate([parts[0], parts[2]]), np.concatenate([parts[1], parts[3]])
    elif path.suffix == ".npz" and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as archive:
                keys = set(archive.files)
                if {"x_train", "y_train", "x_test", "y_test"} <= keys:
                    images = np.concatenate([archive["x_train"], archive["x_test"]])
                    labels = np.concatenate([archive["y_train"], archive["y_test"]])
                elif {"images", "labels"} <= keys:
                    images, labels = archive["images"], archive["labels"]
                else:
                    raise UnsupportedFile(
                        f"expected arrays x_train, y_train, x_test, y_test (or images, labels) in {path}; "
                        f"found {', '.join(sorted(keys)) or 'none'}"
                    )
        # EOFError: np.load of an empty file; zlib.error: a damaged compressed member
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            raise UnsupportedFile(f"{path} is not a readable .npz ({error})") from None
    else:
        raise UnsupportedFile(f"expected a folder holding {', '.join(IDX_FILES)}, or an .npz file; got {path}")
    return _checked(spec, images, labels, str(path))


def import_files(path: Path, name: str) -> Path:
    """Check the standard files at ``path`` and write them to the cache of online dataset ``name``."""
    spec = _spec(name)
    images, labels = read_standard_files(path, spec)
    return _write_cache(spec, images, labels)


def builtin_sources() -> list[Source]:
    """This module's sources, for :data:`aelab.data.SOURCES` to register: ``shapes``, then the online sets."""
    shapes = Source(
        "shapes", "Shapes (generated)", load_shapes, "4,000 generated shapes with known factors, 28×28, bundled"
    )
    online = [
        Source(
            spec.name,
            spec.title.split(" (")[0],
            functools.partial(load_online, spec.name),
            spec.description,
            bundled=False,
        )
        for spec in ONLINE.values()
    ]
    return [shapes, *online]
