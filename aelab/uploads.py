"""A user's own dataset from an uploaded file: parsed in memory, validated where it enters, returned as a Dataset.

Formats (chosen by the file name's extension):

- ``.npz``: ``images`` shaped (N, H, W), (N, C, H, W) or (N, H, W, C) with C in {1, 3}; optional
  ``labels`` (N,) integers and ``label_names`` (strings). Loaded with ``allow_pickle=False``.
- ``.csv``: one image a row, one pixel a column (H·W columns of a square image), and a label column
  named ``label`` / ``class`` / ``target`` / ``y`` (the first column when there is no header row).
  Labels may be numbers or class names.
- ``.zip``: one folder per class holding PNG or JPEG images (optionally all inside one top folder),
  resized to a chosen square side, grey or RGB.

Pixel values 0–255 or 0–1 are detected (see :func:`aelab.data.make_dataset`). Anything wrong (an empty
or oversized file, a wrong shape or dtype, NaN or infinite values, images of mixed sizes, a file that is
not an image, zip entries with absolute or ``..`` paths, an archive that would expand far beyond its size)
raises :class:`~aelab.errors.UnsupportedFile` saying what was expected and what was found. Nothing is
written to disk: every file is read from memory.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

from aelab.data import Dataset, make_dataset
from aelab.errors import UnsupportedFile

MAX_UPLOAD_BYTES = 50 * 2**20  # the file as uploaded
MAX_EXPANDED_BYTES = 400 * 2**20  # everything inside an archive (.zip or .npz), uncompressed
MAX_EXPANSION_RATIO = 100  # uncompressed / compressed size of one archive member larger than 1 MiB
MAX_IMAGES = 100_000
MAX_VALUES = 60_000_000  # pixel values of the whole dataset (70,000 MNIST digits hold 54.9 million): 240 MB as float32
MAX_CLASSES = 1000
MAX_ZIP_ENTRIES = 20_000
MAX_SOURCE_PIXELS = 4096 * 4096  # one image in a .zip, before resizing (PIL's decompression-bomb guard is 89M)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LABEL_COLUMNS = ("label", "class", "target", "y")
FORMATS = (".npz", ".csv", ".zip")


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def _check_size(data: bytes, what: str) -> None:
    if len(data) == 0:
        raise UnsupportedFile(f"expected a {what}; the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnsupportedFile(
            f"expected a file of at most {_megabytes(MAX_UPLOAD_BYTES)}; this one has {_megabytes(len(data))}"
        )


def _open_archive(data: bytes, what: str) -> zipfile.ZipFile:
    """A zip archive over ``data`` whose members, as declared, expand to a sane size (zip bombs refused).

    The declared sizes bound what is read: zipfile stops each member at its declared size and checks
    its CRC, so an archive that lies about a size fails rather than expanding further.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise UnsupportedFile(f"expected a {what}; the file is not a readable zip archive ({error})") from None
    if len(members) > MAX_ZIP_ENTRIES:
        raise UnsupportedFile(f"expected at most {MAX_ZIP_ENTRIES:,} files in the archive; it lists {len(members):,}")
    expanded = sum(m.file_size for m in members)
    if expanded > MAX_EXPANDED_BYTES:
        raise UnsupportedFile(
            f"expected an archive expanding to at most {_megabytes(MAX_EXPANDED_BYTES)}; this one would expand "
            f"to {_megabytes(expanded)} from {_megabytes(len(data))} (a zip bomb?)"
        )
    for member in members:
        if member.file_size > 2**20 and member.file_size > MAX_EXPANSION_RATIO * max(member.compress_size, 1):
            raise UnsupportedFile(
                f"expected archive members compressed at most {MAX_EXPANSION_RATIO}:1; {member.filename!r} "
                f"expands from {member.compress_size:,} to {member.file_size:,} bytes (a zip bomb?)"
            )
    return archive


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as error:
        # RuntimeError: an encrypted member; NotImplementedError: an unsupported compression method
        raise UnsupportedFile(f"could not read {member.filename!r} from the archive ({error})") from None


def _check_count(n: int, values_per_image: int = 1) -> None:
    if n > MAX_IMAGES:
        raise UnsupportedFile(f"expected at most {MAX_IMAGES:,} images; found {n:,}")
    if n * values_per_image > MAX_VALUES:
        raise UnsupportedFile(
            f"expected at most {MAX_VALUES:,} pixel values in all; {n:,} images of {values_per_image:,} values "
            f"make {n * values_per_image:,}"
        )


def _check_labels(labels: np.ndarray | None) -> None:
    """Labels must be whole numbers in [0, MAX_CLASSES) (checked before make_dataset counts the classes)."""
    if labels is None or labels.size == 0:
        return
    if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)):
        raise UnsupportedFile(f"expected integer labels; got dtype {labels.dtype}")
    if not np.isfinite(labels).all():
        raise UnsupportedFile("expected integer labels; found NaN or infinite values")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= MAX_CLASSES:
        raise UnsupportedFile(f"expected labels between 0 and {MAX_CLASSES - 1}; found {low:g} to {high:g}")


def _value_info(images: np.ndarray) -> dict[str, str]:
    """Which pixel range was detected, for the dataset's info (make_dataset rescales 0–255 to 0–1)."""
    if images.size == 0 or images.dtype.kind not in "biuf":
        return {}
    high = float(np.max(images)) if np.isfinite(images).all() else float("nan")
    scale = "0–255" if np.issubdtype(images.dtype, np.integer) or high > 1 else "0–1"
    return {"values": f"pixel values {scale} (detected)"}


# --- .npz ------------------------------------------------------------------------------------------------


def parse_npz(data: bytes, name: str, title: str = "") -> Dataset:
    """A dataset from .npz bytes holding ``images`` and optionally ``labels`` and ``label_names``."""
    _check_size(data, ".npz file")
    _open_archive(data, ".npz file")  # an .npz is a zip: refuse bombs before numpy expands anything
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            keys = set(archive.files)
            if "images" not in keys:
                raise UnsupportedFile(
                    f"expected an .npz with an array named 'images' (and optionally 'labels', 'label_names'); "
                    f"found {', '.join(sorted(keys)) or 'no arrays'}"
                )
            images = archive["images"]
            labels = archive["labels"] if "labels" in keys else None
            names = archive["label_names"] if "label_names" in keys else None
    except UnsupportedFile:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, TypeError) as error:
        # ValueError covers object arrays, which need pickle and are refused
        raise UnsupportedFile(f"expected an .npz of plain numeric arrays; numpy could not read it ({error})") from None
    if images.ndim == 2 and int(np.sqrt(images.shape[1])) ** 2 == images.shape[1] and images.shape[1] > 1:
        side = int(np.sqrt(images.shape[1]))
        raise UnsupportedFile(
            f"expected 'images' shaped (N, H, W) or (N, C, H, W); got {images.shape} (flat rows: reshape them "
            f"to (N, {side}, {side}) first)"
        )
    if images.ndim == 4 and images.shape[1] not in (1, 3) and images.shape[3] in (1, 3):
        images = np.transpose(images, (0, 3, 1, 2))  # channels last, as most image libraries store them
    if images.ndim not in (3, 4):
        raise UnsupportedFile(f"expected 'images' shaped (N, H, W) or (N, C, H, W); got {images.shape}")
    if not np.issubdtype(images.dtype, np.number) and images.dtype != np.bool_:
        raise UnsupportedFile(f"expected numeric pixel values in 'images'; got dtype {images.dtype}")
    if images.shape[0] == 0:
        raise UnsupportedFile("expected at least 10 images; 'images' is empty")
    _check_count(images.shape[0], int(np.prod(images.shape[1:])))
    _check_labels(labels)
    label_names = None
    if names is not None:
        if names.dtype.kind not in "US" or names.ndim != 1:
            raise UnsupportedFile(
                f"expected 'label_names' as a 1-D array of strings; got {names.dtype} shaped {names.shape}"
            )
        label_names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names.tolist()]
    return make_dataset(name, images, labels, label_names, title=title or name, info=_value_info(images))


# --- .csv ------------------------------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_csv(data: bytes, name: str, title: str = "") -> Dataset:
    """A dataset from CSV bytes: one image a row, H·W pixel columns of a square image, and a label column."""
    rows = _csv_rows(data)
    has_header, label_column = _label_column(rows[0])
    body = rows[1:] if has_header else rows
    side = _csv_side(rows[0], body, has_header)
    table = np.array(body, dtype=object)
    pixels = _csv_pixels(np.delete(table, label_column, axis=1), has_header)
    labels, label_names = _csv_labels([cell.strip() for cell in table[:, label_column]])
    images = pixels.reshape(-1, side, side)
    return make_dataset(name, images, labels, label_names, title=title or name, info=_value_info(images))


def _csv_rows(data: bytes) -> list[list[str]]:
    """The .csv's non-blank rows as lists of cells (at least one row), or UnsupportedFile."""
    _check_size(data, ".csv file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnsupportedFile(f"expected a UTF-8 text .csv file; byte {error.start} is not text") from None
    if "\x00" in text:
        raise UnsupportedFile("expected a text .csv file; it contains NUL bytes (is it a binary file?)")
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise UnsupportedFile(f"expected a well-formed .csv file ({error})") from None
    if not rows:
        raise UnsupportedFile("expected rows of pixel values with a label column; the .csv has no rows")
    return rows


def _label_column(first_row: list[str]) -> tuple[bool, int]:
    """(whether the first row is a header, the label column's index): a named one, else the first column."""
    header = [cell.strip().lower() for cell in first_row]
    if all(_is_number(cell) for cell in header):
        return False, 0  # the common headerless layout (label, pixel 1, pixel 2, ...)
    found = [i for i, cell in enumerate(header) if cell in LABEL_COLUMNS]
    if not found:
        raise UnsupportedFile(
            f"expected a label column named one of {', '.join(LABEL_COLUMNS)}; the header has "
            f"{', '.join(header[:5])}{'…' if len(header) > 5 else ''}"
        )
    return True, found[0]


def _csv_side(first_row: list[str], body: list[list[str]], has_header: bool) -> int:
    """The image side: every row as wide as the first, whose cells besides the label are a square number."""
    width = len(first_row)
    if not body:
        raise UnsupportedFile("expected at least 10 images; the .csv has a header and no rows")
    _check_count(len(body), width)
    for number, row in enumerate(body, start=2 if has_header else 1):
        if len(row) != width:
            raise UnsupportedFile(
                f"expected {width} columns in every row (images of one size); row {number} has {len(row)}"
            )
    pixels_count = width - 1
    side = round(np.sqrt(pixels_count))
    if pixels_count < 4 or side * side != pixels_count:
        raise UnsupportedFile(
            f"expected a square number of pixel columns (e.g. 784 = 28×28) besides the label; got {pixels_count}"
        )
    return side


def _csv_pixels(pixel_cells: np.ndarray, has_header: bool) -> np.ndarray:
    """The pixel cells (N, H·W) of strings as float64, or UnsupportedFile naming the first row that is not."""
    try:
        return pixel_cells.astype(np.float64)
    except ValueError:
        bad = next(
            (r, c)
            for r in range(pixel_cells.shape[0])
            for c in range(pixel_cells.shape[1])
            if not _is_number(str(pixel_cells[r, c]))
        )
        raise UnsupportedFile(
            f"expected numbers in the pixel columns; row {bad[0] + (2 if has_header else 1)} has "
            f"{str(pixel_cells[bad])[:20]!r}"
        ) from None


def _csv_labels(label_cells: list[str]) -> tuple[np.ndarray, list[str] | None]:
    """Labels (N,) from numbers as they are, or from class names numbered in sorted order (with those names)."""
    if all(_is_number(cell) for cell in label_cells):
        labels = np.array([float(cell) for cell in label_cells])
        _check_labels(labels)
        return labels, None
    label_names = sorted(set(label_cells))
    return np.searchsorted(np.array(label_names), np.array(label_cells)).astype(np.int64), label_names


# --- .zip of class folders -------------------------------------------------------------------------------

ImageMembers = list[tuple[tuple[str, ...], zipfile.ZipInfo]]  # (the path's parts, the member), one per image


def _safe_parts(filename: str) -> tuple[str, ...]:
    """The path's parts, or UnsupportedFile for an absolute path or one that climbs out with ``..``."""
    if filename.startswith(("/", "\\")) or (len(filename) > 1 and filename[1] == ":"):
        raise UnsupportedFile(f"expected relative paths inside the zip; {filename!r} is absolute")
    parts = PurePosixPath(filename.replace("\\", "/")).parts
    if ".." in parts:
        raise UnsupportedFile(f"expected paths inside the zip's own folders; {filename!r} climbs out with '..'")
    return parts


def _skipped(parts: tuple[str, ...]) -> bool:
    """Entries that archivers add on their own (macOS resource forks, hidden files such as .DS_Store)."""
    return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts)


def parse_image_zip(data: bytes, name: str, side: int = 28, rgb: bool = False, title: str = "") -> Dataset:
    """A dataset from a .zip of class folders of PNG/JPEG images, each resized to side × side, grey or RGB.

    The folder names become the label names (sorted). All images must have one size; they are resized
    with Lanczos filtering. A single top folder wrapping the class folders is allowed.
    """
    if not 2 <= side <= 256:
        raise UnsupportedFile(f"expected an image side between 2 and 256 pixels; got {side}")
    _check_size(data, ".zip of class folders")
    archive = _open_archive(data, ".zip of class folders")
    files = _image_members(archive)
    _check_count(len(files), side * side * (3 if rgb else 1))
    files = _in_class_folders(files)
    classes = sorted({parts[0] for parts, _ in files})
    images, labels = _decode_images(archive, files, classes, side, rgb)
    return make_dataset(
        name,
        images,
        labels,
        classes,
        title=title or name,
        info={"values": "pixel values 0–255 (images)", "resized": f"{side}×{side} {'RGB' if rgb else 'grey'}"},
    )


def _image_members(archive: zipfile.ZipFile) -> ImageMembers:
    """The archive's images with their path parts, skipping folders and archiver junk; anything else is refused."""
    files: ImageMembers = []
    for member in archive.infolist():
        parts = _safe_parts(member.filename)
        if member.is_dir() or not parts or _skipped(parts):
            continue
        if Path(parts[-1]).suffix.lower() not in IMAGE_SUFFIXES:
            raise UnsupportedFile(f"expected only PNG or JPEG images in the class folders; found {member.filename!r}")
        files.append((parts, member))
    if not files:
        raise UnsupportedFile("expected one folder per class holding PNG or JPEG images; the zip holds no images")
    return files


def _in_class_folders(files: ImageMembers) -> ImageMembers:
    """The images with their class folder first: one top folder wrapping them all is dropped."""
    tops = {parts[0] for parts, _ in files}
    if len(tops) == 1 and all(len(parts) >= 3 for parts, _ in files):
        files = [(parts[1:], member) for parts, member in files]  # a zipped folder: its subfolders are the classes
    flat = [member.filename for parts, member in files if len(parts) < 2]
    if flat:
        raise UnsupportedFile(f"expected every image inside a class folder (class/image.png); {flat[0]!r} is not")
    return files


def _decode_images(
    archive: zipfile.ZipFile, files: ImageMembers, classes: list[str], side: int, rgb: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, side, side) uint8, or (N, 3, side, side) when rgb, and labels (N,) into ``classes``.

    Read in the order of the members' names; every image must have the size of the first.
    """
    mode = "RGB" if rgb else "L"
    images = np.empty((len(files), side, side, 3) if rgb else (len(files), side, side), dtype=np.uint8)
    labels = np.empty(len(files), dtype=np.int64)
    first_size: tuple[tuple[int, int], str] | None = None
    for i, (parts, member) in enumerate(sorted(files, key=lambda f: f[1].filename)):
        raw = _read_member(archive, member)
        images[i], first_size = _decode_image(raw, member.filename, mode, side, first_size)
        labels[i] = classes.index(parts[0])
    if rgb:
        images = np.transpose(images, (0, 3, 1, 2))
    return images, labels


def _decode_image(
    raw: bytes, filename: str, mode: str, side: int, first_size: tuple[tuple[int, int], str] | None
) -> tuple[np.ndarray, tuple[tuple[int, int], str]]:
    """One image as (side, side) or (side, side, 3) uint8 in PIL ``mode``, and the first image's (size, name).

    ``first_size`` is None for the first image; every later one must have its size.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as picture:
                if picture.format not in ("PNG", "JPEG"):
                    raise UnsupportedFile(f"expected PNG or JPEG images; {filename!r} is {picture.format or 'unknown'}")
                width, height = picture.size
                if width * height > MAX_SOURCE_PIXELS:
                    raise UnsupportedFile(
                        f"expected images of at most {MAX_SOURCE_PIXELS:,} pixels; {filename!r} is {width}×{height}"
                    )
                if first_size is None:
                    first_size = ((width, height), filename)
                elif first_size[0] != (width, height):
                    raise UnsupportedFile(
                        f"expected images of one size; {first_size[1]!r} is {first_size[0][0]}×{first_size[0][1]} "
                        f"but {filename!r} is {width}×{height}"
                    )
                converted = picture.convert(mode).resize((side, side), Image.Resampling.LANCZOS)
                return np.asarray(converted, dtype=np.uint8), first_size
    except UnsupportedFile:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        EOFError,
    ) as error:
        raise UnsupportedFile(f"expected a readable PNG or JPEG image; {filename!r} is not ({error})") from None


def load_upload(filename: str, data: bytes, name: str, *, side: int = 28, rgb: bool = False) -> Dataset:
    """Parse an uploaded file by its extension (.npz, .csv or .zip) into a dataset called ``name``.

    ``side`` and ``rgb`` apply to a .zip of images only. The title is the file's name.
    """
    suffix = Path(filename).suffix.lower()
    title = f"{Path(filename).name} (uploaded)"
    if suffix == ".npz":
        return parse_npz(data, name, title)
    if suffix == ".csv":
        return parse_csv(data, name, title)
    if suffix == ".zip":
        return parse_image_zip(data, name, side, rgb, title)
    raise UnsupportedFile(f"expected a {', '.join(FORMATS)} file; got {Path(filename).name!r}")
