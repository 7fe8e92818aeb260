"""Hostile and broken files at every library and command-line entry point: nothing runs, nothing is written.

tests/test_checkpoint.py covers load_checkpoint's own refusals one by one; this file builds the whole
catalogue of hostile files once (:func:`hostile_files` for checkpoints, :func:`hostile_datasets` for the
dataset uploads of aelab/uploads.py; both also used by tests/ui/test_hostile_app.py for the sidebar) and checks that `aelab eval`, `aelab sample` and `aelab info` each end every one of them
in one ``aelab: error:`` line and exit status 2: no traceback, no output file, and the code-running pickles'
marker directory never created.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from aelab import cli
from aelab.checkpoint import MAX_BYTES, load_checkpoint
from aelab.errors import BadCheckpoint, UnsupportedFile
from aelab.uploads import MAX_UPLOAD_BYTES, load_upload

# (name, builder(good checkpoint bytes, marker path) -> file bytes, a piece of the expected message)
HostileFile = tuple[str, Callable[[bytes, Path], bytes], str]


class CodeRunner:
    """Unpickling this calls os.mkdir(marker): the marker directory existing is proof that a loader ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _pickle(good: bytes, marker: Path) -> bytes:
    return pickle.dumps({"state_dict": CodeRunner(marker)})


def _torch_save(good: bytes, marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"state_dict": CodeRunner(marker)}, buffer)  # the zip torch.save writes, a code-running pickle inside
    return buffer.getvalue()


def _split(data: bytes) -> tuple[dict, bytes]:
    """(the safetensors JSON header, the raw tensor bytes after it)."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def _join(outer: dict, body: bytes) -> bytes:
    raw = json.dumps(outer).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def _first_tensor(outer: dict) -> str:
    return next(name for name in outer if name != "__metadata__")


def _lying_shape(good: bytes, marker: Path) -> bytes:
    """The safetensors header claims a first tensor 1,000 times larger than the bytes it points at."""
    outer, body = _split(good)
    outer[_first_tensor(outer)]["shape"][0] *= 1000
    return _join(outer, body)


def _lying_dtype(good: bytes, marker: Path) -> bytes:
    """The safetensors header calls float32 data float64 (same byte range: the element count no longer fits)."""
    outer, body = _split(good)
    outer[_first_tensor(outer)]["dtype"] = "F64"
    return _join(outer, body)


def _wrong_tensor_shape(good: bytes, marker: Path) -> bytes:
    """A well-formed safetensors file whose first tensor has another shape than the aelab header's model needs."""
    outer, _ = _split(good)
    tensors = dict(load_tensors(good))
    name = _first_tensor(outer)
    tensors[name] = torch.zeros(tensors[name].shape[0] + 1, *tensors[name].shape[1:])
    return save_tensors(tensors, metadata=outer["__metadata__"])


def _edit_header(edit: Callable[[dict], None]) -> Callable[[bytes, Path], bytes]:
    def build(good: bytes, marker: Path) -> bytes:
        outer, _ = _split(good)
        header = json.loads(outer["__metadata__"]["aelab"])
        edit(header)
        return save_tensors(dict(load_tensors(good)), metadata={"aelab": json.dumps(header)})

    return build


def _huge_header_length(good: bytes, marker: Path) -> bytes:
    return struct.pack("<Q", 2**62) + good[8:]


def _over_limit(good: bytes, marker: Path) -> bytes:
    return good + bytes(MAX_BYTES + 1 - len(good))  # a valid checkpoint padded past the limit


def hostile_files() -> list[HostileFile]:
    """Every kind of hostile or broken checkpoint aelab must refuse, with a piece of its message."""
    return [
        ("evil.pkl", _pickle, "never unpickles"),
        ("evil.pt", _torch_save, "never unpickles"),
        ("empty.safetensors", lambda good, marker: b"", "empty"),
        ("short.safetensors", lambda good, marker: good[:5], "too short"),
        (
            "truncated.safetensors",
            lambda good, marker: good[: len(good) // 2],
            "bytes of weights but the file has only",
        ),
        ("cut-header.safetensors", lambda good, marker: good[:200], "truncated"),
        ("lying-shape.safetensors", _lying_shape, "damaged"),
        ("lying-dtype.safetensors", _lying_dtype, "damaged"),
        ("wrong-tensor.safetensors", _wrong_tensor_shape, "the header's model needs"),
        ("missing-field.safetensors", _edit_header(lambda h: h.pop("label_names")), "lacks: label_names"),
        ("extra-field.safetensors", _edit_header(lambda h: h.update(run="os.system('id')")), "unknown fields: run"),
        ("huge-image.safetensors", _edit_header(lambda h: h.update(image_shape=[1, 10**6, 10**6])), "image_shape"),
        ("huge-latent.safetensors", _edit_header(lambda h: h["model"].update(latent_dim=10**9)), "latent"),
        ("huge-widths.safetensors", _edit_header(lambda h: h["model"].update(hidden=[10**7])), "hidden widths"),
        ("huge-header.safetensors", _huge_header_length, "header claims"),
        ("huge-file.safetensors", _over_limit, "limited to"),
    ]


HOSTILE = hostile_files()
HOSTILE_IDS = [name.split(".")[0] for name, _, _ in HOSTILE]


@pytest.fixture(scope="module")
def good_bytes(trained_ae) -> bytes:
    return trained_ae.checkpoint.to_bytes()


@pytest.mark.parametrize(("name", "build", "message"), HOSTILE, ids=HOSTILE_IDS)
def test_the_library_refuses_each_hostile_file_with_its_reason(
    good_bytes: bytes, tmp_path: Path, name: str, build, message: str
) -> None:
    marker = tmp_path / "ran-code"
    data = build(good_bytes, marker)
    path = tmp_path / name
    path.write_bytes(data)
    for source in (data, path):  # an upload arrives as bytes, the command line gives a path
        with pytest.raises(BadCheckpoint, match=message):
            load_checkpoint(source)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["eval", "sample", "info"])
@pytest.mark.parametrize(("name", "build", "message"), HOSTILE, ids=HOSTILE_IDS)
def test_every_command_ends_a_hostile_file_in_one_line_and_exit_2(
    good_bytes: bytes, tmp_path: Path, capsys, command: str, name: str, build, message: str
) -> None:
    marker = tmp_path / "ran-code"
    path = tmp_path / name
    path.write_bytes(build(good_bytes, marker))
    out = tmp_path / "samples.png"
    args = [command, str(path)] + (["--out", str(out)] if command == "sample" else [])
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("aelab: error:") and "\n" not in err and "Traceback" not in err, err
    assert message in err, err
    assert captured.out == ""  # `info` printed no header, `eval` no table
    assert not out.exists() and not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing else written beside the file


@pytest.mark.parametrize("command", ["eval", "sample", "info"])
def test_a_directory_or_a_device_as_checkpoint_path_ends_cleanly(tmp_path: Path, capsys, command: str) -> None:
    out = tmp_path / "out.png"
    for target in (tmp_path, Path("/dev/zero")):
        args = [command, str(target)] + (["--out", str(out)] if command == "sample" else [])
        assert cli.main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("aelab: error:") and "\n" not in err, err
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "{good}", "-n", "100000", "--out", "{out}"], "limited to 4096"),
        (["sample", "{good}", "-n", "4096", "--scale", "100000", "--out", "{out}"], "limited to 32"),
        (["sample", "{good}", "-n", "0", "--out", "{out}"], "must be a whole number"),
        (["sample", "{good}", "--scale", "-3", "--out", "{out}"], "must be a whole number"),
        (["eval", "{good}", "--dataset", "no-such-data"], "no-such-data"),
    ],
)
def test_absurd_flags_end_cleanly_and_write_nothing(
    good_bytes: bytes, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    good = tmp_path / "good.safetensors"
    good.write_bytes(good_bytes)
    out = tmp_path / "samples.png"
    args = [a.format(good=good, out=out) for a in args]
    try:
        status = cli.main(args)
    except SystemExit as exit_info:  # argparse's own refusal: usage and exit 2
        status = exit_info.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert not out.exists()


# --- dataset uploads (aelab/uploads.py; its own tests in tests/test_uploads.py cover the parsers in detail) ---


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _good_npz() -> bytes:
    rng = np.random.default_rng(0)
    return _npz(images=rng.integers(0, 255, (40, 8, 8), dtype=np.uint8), labels=np.arange(40) % 4)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def hostile_datasets() -> list[HostileFile]:
    """Hostile or broken dataset uploads, built by ``build(None, marker)``, with a piece of the expected message."""
    return [
        ("evil.npz", lambda _, marker: _npz(images=np.array([CodeRunner(marker), 1], dtype=object)), "pickle"),
        ("empty.npz", lambda _, marker: b"", "empty"),
        ("truncated.npz", lambda _, marker: _good_npz()[:300], "not a readable zip"),
        ("pickle.npz", lambda _, marker: pickle.dumps(CodeRunner(marker)), "not a readable zip"),
        ("huge.npz", lambda _, marker: bytes(MAX_UPLOAD_BYTES + 1), "at most"),
        ("nan.npz", lambda _, marker: _npz(images=np.full((20, 8, 8), np.nan)), "NaN"),
        ("escape.zip", lambda _, marker: _zip({"../0/a.png": b"x", "/etc/1/b.png": b"y"}), "path"),
        ("binary.csv", lambda _, marker: bytes(range(256)) * 8, "csv"),
    ]


HOSTILE_DATASETS = hostile_datasets()


@pytest.mark.parametrize(("name", "build", "message"), HOSTILE_DATASETS, ids=[n for n, _, _ in HOSTILE_DATASETS])
def test_a_hostile_dataset_upload_is_refused_and_runs_nothing(tmp_path: Path, name: str, build, message: str) -> None:
    marker = tmp_path / "ran-code"
    with pytest.raises(UnsupportedFile, match=f"(?i){message}"):
        load_upload(name, build(None, marker), "upload-test")
    assert not marker.exists()


@pytest.mark.parametrize(("name", "build", "message"), HOSTILE_DATASETS, ids=[n for n, _, _ in HOSTILE_DATASETS])
def test_aelab_data_import_refuses_hostile_files_and_writes_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, name: str, build, message: str
) -> None:
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("AELAB_CACHE", str(cache_dir))
    marker = tmp_path / "ran-code"
    path = tmp_path / name
    path.write_bytes(build(None, marker))
    assert cli.main(["data", "import", str(path), "--dataset", "mnist"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aelab: error:") and "\n" not in err and "Traceback" not in err, err
    assert not marker.exists()
    assert not cache_dir.exists() or not any(cache_dir.rglob("*.npz"))  # nothing imported


# --- a class on one server: a training must not starve the other sessions' clicks ---------------------------


def test_a_training_thread_runs_nicer_than_the_server(tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from aelab import jobs
    from aelab.models import ModelConfig
    from aelab.train import TrainConfig

    if not hasattr(os, "getpriority"):
        pytest.skip("no per-thread priorities on this OS")
    seen: list[int] = []
    real_train_model = jobs.train_model

    def recording_train_model(*args, **kwargs):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real_train_model(*args, **kwargs)

    monkeypatch.setattr(jobs, "train_model", recording_train_model)
    job = jobs.TrainingPool(max_workers=1).submit(
        "session", tiny, ModelConfig(kind="ae", hidden=(8,)), TrainConfig(epochs=1)
    )
    assert job.wait(60) and job.state == jobs.DONE
    server = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen == [min(19, server + jobs.TRAINING_NICENESS)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == server  # the caller's thread is unchanged
