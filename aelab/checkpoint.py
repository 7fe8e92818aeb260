"""Checkpoints: safetensors weights with aelab's JSON header in the file's metadata. Nothing is unpickled.

One ``.safetensors`` file holds a model: its tensors, and under the metadata key ``"aelab"`` a JSON header
with the format version, the model config (which rebuilds the modules), the dataset name, image shape,
label names, a training summary, metrics, the latent bounds of the training codes, and the SHA-256 of the
weights. Loading checks, in this order and before any model is built: the size, that the file is not a
pickle, the safetensors header, our header's fields and values, then every tensor's name, shape, dtype and
finiteness against the model the config describes, and the weights' hash. Any failure raises
BadCheckpoint saying what is wrong. Saving writes a temporary file beside the target, flushes it to disk
and renames it over the target, so a crash mid-save never leaves a partial checkpoint under the name.

In memory a checkpoint is a :class:`Checkpoint`: the model and its typed :class:`Header`. The one way out
is :meth:`Checkpoint.to_bytes` (and :meth:`Checkpoint.save`, which writes those bytes to a file); the one
way in is :func:`load_checkpoint`. :func:`check_fits` says whether a checkpoint's model takes a dataset's
images; the CLI, the app's sidebar and the offline export all ask it.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from aelab.errors import AelabError, BadCheckpoint, UnsupportedFile
from aelab.files import write_atomic
from aelab.models import Autoencoder, ModelConfig, build_model

if TYPE_CHECKING:
    from aelab.data import Dataset

FORMAT = "aelab-checkpoint"
FORMAT_VERSION = 1
MAX_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024
MAX_LABELS = 1000
REQUIRED_FIELDS = {
    "format": str,
    "format_version": int,
    "model": dict,
    "dataset": str,
    "image_shape": list,
    "label_names": list,
    "training": dict,
    "metrics": dict,
    "latent_bounds": list,
    "weights_sha256": str,
}


@dataclass(frozen=True)
class Header:
    """What a checkpoint records beside its weights (the file's JSON header, typed).

    model: the config that rebuilds the modules. dataset, label_names: what it was trained on. training: a
    summary (epochs, seconds, device, the train config, final losses). metrics: finite numbers such as
    test_mse and knn_accuracy. latent_bounds: (d, 2) [low, high] of the training codes. weights_sha256:
    the hash of the weights (:func:`weights_hash`), checked on loading.
    """

    model: ModelConfig
    dataset: str
    label_names: tuple[str, ...]
    latent_bounds: tuple[tuple[float, float], ...]
    weights_sha256: str
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.model.image_shape

    def to_json(self) -> dict[str, Any]:
        """The header as the file stores it (a JSON object with the fields of REQUIRED_FIELDS)."""
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "model": self.model.to_dict(),
            "dataset": self.dataset,
            "image_shape": list(self.image_shape),
            "label_names": list(self.label_names),
            "training": dict(self.training),
            "metrics": dict(self.metrics),
            "latent_bounds": [list(pair) for pair in self.latent_bounds],
            "weights_sha256": self.weights_sha256,
        }

    @classmethod
    def from_json(cls, header: object) -> Header:
        """Check a header read from a file (BadCheckpoint on anything wrong) and type it."""
        _check_header(header)
        assert isinstance(header, dict)
        return cls(
            model=_config_from(header),
            dataset=header["dataset"],
            label_names=tuple(header["label_names"]),
            latent_bounds=_bounds(header["latent_bounds"]),
            weights_sha256=header["weights_sha256"],
            training=header["training"],
            metrics={k: float(v) for k, v in header["metrics"].items()},
            format_version=header["format_version"],
        )


def _bounds(values: object) -> tuple[tuple[float, float], ...]:
    return tuple((float(low), float(high)) for low, high in np.asarray(values, dtype=np.float64).tolist())


@dataclass(frozen=True)
class Checkpoint:
    """A model and the header it came with (or will be saved with)."""

    model: Autoencoder
    header: Header

    @classmethod
    def of(
        cls,
        model: Autoencoder,
        *,
        dataset: str,
        label_names: list[str] | tuple[str, ...],
        latent_bounds: np.ndarray,
        training: dict | None = None,
        metrics: dict | None = None,
    ) -> Checkpoint:
        """The checkpoint of ``model`` as it is now (its weights hashed into the header)."""
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        header = Header(
            model=model.config,
            dataset=dataset,
            label_names=tuple(str(s) for s in label_names),
            latent_bounds=_bounds(latent_bounds),
            weights_sha256=weights_hash(state),
            training=dict(training or {}),
            metrics={k: float(v) for k, v in (metrics or {}).items()},
        )
        return cls(model, header)

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def dataset(self) -> str:
        return self.header.dataset

    @property
    def label_names(self) -> list[str]:
        return list(self.header.label_names)

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.header.metrics)

    @property
    def training(self) -> dict:
        return dict(self.header.training)

    @property
    def latent_bounds(self) -> np.ndarray:
        """(d, 2): [low, high] per latent dimension."""
        return np.asarray(self.header.latent_bounds, dtype=np.float64)

    def to_bytes(self) -> bytes:
        """The checkpoint file's bytes (a download button, the workspace store, :meth:`save`)."""
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        return save_tensors(state, metadata={"aelab": json.dumps(self.header.to_json())})

    def save(self, path: str | os.PathLike) -> Path:
        """Write the checkpoint to ``path`` atomically (a temp file in the same folder, fsync, rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp makes files private; a checkpoint is an ordinary, shareable file
        return write_atomic(path, self.to_bytes(), mode=0o644)


def check_fits(checkpoint: Checkpoint, dataset: Dataset) -> None:
    """Raise ModelDoesNotFit when ``checkpoint``'s model does not take ``dataset``'s images, UnsupportedFile
    when a conditional model is told another number of labels than the dataset has classes."""
    expected, found = tuple(checkpoint.header.image_shape), tuple(dataset.image_shape)
    if expected != found:
        raise ModelDoesNotFit(expected, dataset.name, found)
    classes = checkpoint.model.config.classes
    if checkpoint.model.conditional and classes != dataset.n_classes:
        raise UnsupportedFile(
            f"the model is told one of {classes} labels, but {dataset.name} has {dataset.n_classes} classes"
        )


class ModelDoesNotFit(UnsupportedFile):
    """A model whose input shape is not the dataset's (``expected``, ``dataset``, ``found`` for messages)."""

    def __init__(self, expected: tuple, dataset: str, found: tuple) -> None:
        super().__init__(f"the model takes images shaped {expected}, but {dataset} has {found}")
        self.expected, self.dataset, self.found = expected, dataset, found


def weights_hash(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the tensors' names and bytes, in name order (independent of file layout)."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def load_checkpoint(source: str | os.PathLike | bytes, *, name: str | None = None) -> Checkpoint:
    """Read and validate a checkpoint from a path or from bytes (an upload); raise BadCheckpoint if wrong.

    ``name`` is what messages call the file (a path's own name by default; "this file" for bytes).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise BadCheckpoint(f"no checkpoint file at {path}")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BadCheckpoint(
                f"{path.name} is {size / 2**20:.1f} MB; checkpoints are limited to {MAX_BYTES // 2**20} MB"
            )
        data = path.read_bytes()
    header = read_header(data, name=name)
    config = header.model
    needed = sum(t.numel() * t.element_size() for t in expected_state(config).values())
    if needed > len(data):
        raise BadCheckpoint(
            f"the header describes a model with {needed} bytes of weights but the file has only {len(data)} bytes"
        )
    try:
        tensors = load_tensors(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise BadCheckpoint(f"the weights in this checkpoint are damaged: {error}") from None
    _check_tensors(expected_state(config), tensors)
    model = build_model(config)
    if weights_hash(tensors) != header.weights_sha256:
        raise BadCheckpoint(
            "the weights do not match the hash in the checkpoint's header (the file was altered or damaged)"
        )
    model.load_state_dict(tensors, strict=True)
    return Checkpoint(model.eval(), header)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
NOT_A_MODEL = "aelab checkpoints are .safetensors files, e.g. from `aelab train --out model.safetensors`"


def describe_zip(data: bytes, name: str = "this file") -> str:
    """What a zip-based file given as a checkpoint really is, and what to do with it instead.

    Only the zip's directory (its file names) is read: nothing is extracted or unpickled.
    """
    try:
        names = [info.filename for info in zipfile.ZipFile(io.BytesIO(data)).infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError):
        return (
            f"{name} starts like a zip archive but cannot be read as one; it is not a model checkpoint. {NOT_A_MODEL}"
        )
    if any(n.endswith("data.pkl") or n.endswith("/version") for n in names):  # torch.save's zip format
        return (
            f"{name} is a PyTorch checkpoint (torch.save: a zip around a pickle); aelab never unpickles files, "
            f"because unpickling can run arbitrary code. Use an aelab checkpoint instead: {NOT_A_MODEL}"
        )
    if names and all(n.endswith(".npy") for n in names):
        arrays = ", ".join(repr(n.removesuffix(".npy")) for n in names[:5]) + (", …" if len(names) > 5 else "")
        return (
            f"{name} is a NumPy .npz archive of arrays ({arrays}), which is data, not a model: upload it as a "
            f"dataset in the app's sidebar (Dataset → your own file), then train a model on it. {NOT_A_MODEL}"
        )
    images = [n for n in names if n.lower().endswith(IMAGE_SUFFIXES)]
    if images:
        return (
            f"{name} is a .zip of {len(images)} images, which is data, not a model: upload it as a dataset in the "
            f"app's sidebar (Dataset → your own file; one folder per class), then train a model on it. {NOT_A_MODEL}"
        )
    listed = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    return f"{name} is a .zip archive of {len(names)} files ({listed}), not a model checkpoint. {NOT_A_MODEL}"


def read_header(data: bytes, *, name: str | None = None) -> Header:
    """aelab's header from checkpoint bytes, every field checked and typed; tensors are not read.

    ``name`` is what messages call the file ("this file" when not given).
    """
    name = name or "this file"
    if len(data) == 0:
        raise BadCheckpoint("the file is empty")
    if len(data) > MAX_BYTES:
        raise BadCheckpoint(
            f"the file is {len(data) / 2**20:.1f} MB; checkpoints are limited to {MAX_BYTES // 2**20} MB"
        )
    if len(data) < 8:
        raise BadCheckpoint(f"the file is only {len(data)} bytes: too short to be a safetensors checkpoint")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > MAX_HEADER_BYTES or 8 + header_length > len(data):
        # a pickle starts b"\x80<protocol>", any zip (torch.save, .npz, images) b"PK": absurd header lengths
        if data[:2] == b"PK":
            raise BadCheckpoint(describe_zip(data, name))
        if data[:1] == b"\x80":
            raise BadCheckpoint(
                f"{name} looks like a Python pickle (a PyTorch .pt/.pth); aelab never unpickles files, because "
                f"unpickling can run arbitrary code. Use an aelab checkpoint instead: {NOT_A_MODEL}"
            )
        raise BadCheckpoint(
            f"not a safetensors checkpoint, or a truncated one: its header claims {header_length} bytes "
            f"but the file has {len(data) - 8} after the length field"
        )
    try:
        outer = json.loads(data[8 : 8 + header_length].decode("utf-8"))
        header = json.loads(outer["__metadata__"]["aelab"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise BadCheckpoint(
            "not an aelab checkpoint: the safetensors header has no readable 'aelab' metadata"
        ) from None
    return Header.from_json(header)


def _check_header(header: object) -> None:
    if not isinstance(header, dict):
        raise BadCheckpoint("the aelab header is not a JSON object")
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise BadCheckpoint(f"the checkpoint header lacks: {', '.join(missing)}")
    extra = sorted(set(header) - set(REQUIRED_FIELDS))
    if extra:
        raise BadCheckpoint(f"the checkpoint header has unknown fields: {', '.join(extra)}")
    for name, kind in REQUIRED_FIELDS.items():
        if not isinstance(header[name], kind) or isinstance(header[name], bool):
            raise BadCheckpoint(f"header field {name!r} should be a {kind.__name__}; got {type(header[name]).__name__}")
    if header["format"] != FORMAT:
        raise BadCheckpoint(f"not an aelab checkpoint (format {header['format']!r})")
    if not 1 <= header["format_version"] <= FORMAT_VERSION:
        raise BadCheckpoint(
            f"checkpoint format version {header['format_version']} is not supported by this aelab "
            f"(it reads versions 1 to {FORMAT_VERSION}); upgrade aelab"
        )
    labels = header["label_names"]
    if len(labels) > MAX_LABELS or not all(isinstance(s, str) and len(s) <= 200 for s in labels):
        raise BadCheckpoint(f"label_names must be at most {MAX_LABELS} strings of at most 200 characters")
    bounds = header["latent_bounds"]
    try:
        bounds_array = np.asarray(bounds, dtype=np.float64)
    except (TypeError, ValueError):
        raise BadCheckpoint("latent_bounds must be a list of [low, high] pairs") from None
    latent_dim = header["model"].get("latent_dim")
    if bounds_array.shape != (latent_dim, 2) or not np.isfinite(bounds_array).all():
        raise BadCheckpoint(
            f"latent_bounds must be {latent_dim} finite [low, high] pairs; got shape {bounds_array.shape}"
        )
    for name, value in header["metrics"].items():
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BadCheckpoint(f"metric {name!r} is not a finite number")


def _config_from(header: dict) -> ModelConfig:
    try:
        config = ModelConfig.from_dict(header["model"])
        config.validate()
    except (TypeError, ValueError, AelabError) as error:
        raise BadCheckpoint(f"the checkpoint's model config is invalid: {error}") from None
    if list(config.image_shape) != header["image_shape"]:
        raise BadCheckpoint(
            f"image_shape {header['image_shape']} disagrees with the model config's {list(config.image_shape)}"
        )
    return config


def expected_state(config: ModelConfig) -> dict[str, torch.Tensor]:
    """The state dict the config's model has, built on the meta device: shapes and dtypes, no memory."""
    with torch.device("meta"):
        return build_model(config).state_dict()


def _check_tensors(expected: dict[str, torch.Tensor], tensors: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise BadCheckpoint(
            "the weights do not fit the model the header describes: "
            + "; ".join(
                [f"missing {', '.join(missing[:5])}"] * bool(missing)
                + [f"unexpected {', '.join(extra[:5])}"] * bool(extra)
            )
        )
    for name, want in expected.items():
        got = tensors[name]
        if got.shape != want.shape or got.dtype != want.dtype:
            raise BadCheckpoint(
                f"tensor {name!r} is {got.dtype} {tuple(got.shape)} but the header's model needs {want.dtype} {tuple(want.shape)}"
            )
        if got.is_floating_point() and not torch.isfinite(got).all():
            raise BadCheckpoint(f"tensor {name!r} contains NaN or infinite values")
