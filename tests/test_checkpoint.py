from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_tensors

from aelab.checkpoint import MAX_BYTES, Header, ModelDoesNotFit, check_fits, load_checkpoint, read_header
from aelab.errors import BadCheckpoint
from aelab.latent import decode_grid


def test_round_trip_decodes_identical_images(trained_ae, tmp_path: Path) -> None:
    path = trained_ae.checkpoint.save(tmp_path / "model.safetensors")
    loaded = load_checkpoint(path)
    bounds = trained_ae.latent_bounds
    assert np.array_equal(decode_grid(loaded.model, bounds, 4), decode_grid(trained_ae.model, bounds, 4))
    assert loaded.kind == "ae" and loaded.dataset == "blobs8"
    assert loaded.label_names == ["NW", "NE", "SW", "SE"]
    assert np.allclose(loaded.latent_bounds, bounds)
    assert loaded.metrics["test_mse"] == pytest.approx(trained_ae.metrics.test_mse)
    assert loaded.training["epochs"] == 40 and loaded.training["config"]["seed"] == 0


def test_loading_from_bytes_matches_loading_from_a_file(trained_ae, tmp_path: Path) -> None:
    data = trained_ae.checkpoint.to_bytes()
    (tmp_path / "m.safetensors").write_bytes(data)
    a, b = load_checkpoint(data), load_checkpoint(tmp_path / "m.safetensors")
    assert a.header == b.header


class _Boom:
    """Unpickling this would create the marker file: proof that a loader ran code."""

    marker: str = ""

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_a_pickle_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _Boom.marker = str(marker)
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"state_dict": _Boom()}))
    with pytest.raises(BadCheckpoint, match="never unpickles"):
        load_checkpoint(evil)
    assert not marker.exists()


def test_a_torch_save_zip_is_refused_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "pwned2"
    _Boom.marker = str(marker)
    evil = tmp_path / "evil.pth"
    torch.save({"x": _Boom()}, evil)  # the zip format torch.save writes, with a code-running pickle inside
    assert not marker.exists()
    with pytest.raises(BadCheckpoint, match="never unpickles"):
        load_checkpoint(evil)
    assert not marker.exists()


@pytest.mark.parametrize("cut", [0, 5, 100, -1, -1000])
def test_truncated_and_empty_files_are_refused(trained_ae, cut: int) -> None:
    data = trained_ae.checkpoint.to_bytes()
    with pytest.raises(BadCheckpoint):
        load_checkpoint(data[:cut])


def _rewrite(data: bytes, edit) -> bytes:
    """Checkpoint bytes with the aelab header changed by ``edit(header)``; tensors kept as they are."""
    length = struct.unpack("<Q", data[:8])[0]
    outer = json.loads(data[8 : 8 + length])
    header = json.loads(outer["__metadata__"]["aelab"])
    edit(header)
    tensors = __import__("safetensors.torch", fromlist=["load"]).load(data)
    return save_tensors(tensors, metadata={"aelab": json.dumps(header)})


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda h: h["model"].update(hidden=[33, 16]), "tensor .* but the header's model needs"),
        (lambda h: h["model"].update(kind="vae"), "tensor .* but the header's model needs"),
        (lambda h: h["model"].update(latent_dim=3), "latent_bounds must be 3"),
        (lambda h: h.pop("metrics"), "lacks: metrics"),
        (lambda h: h.update(surprise=1), "unknown fields: surprise"),
        (lambda h: h.update(format_version=99), "version 99 is not supported"),
        (lambda h: h.update(format="other"), "not an aelab checkpoint"),
        (lambda h: h["model"].update(hidden=[10**6]), "hidden widths"),
        (lambda h: h["model"].update(hidden=[4096, 4096, 4096]), "header describes a model with"),
        (lambda h: h["model"].update(kind="os.system"), "unknown model kind"),
        (lambda h: h.update(image_shape=[1, 9, 9]), "image_shape .* disagrees"),
        (lambda h: h.update(label_names=["x"] * 5000), "label_names"),
        (lambda h: h["metrics"].update(test_mse=float("nan")), "not a finite number"),
        (lambda h: h.update(weights_sha256="0" * 64), "hash"),
        (lambda h: h.update(dataset=5), "'dataset' should be a str"),
    ],
)
def test_a_header_that_lies_is_refused_with_its_reason(trained_ae, edit, message: str) -> None:
    with pytest.raises(BadCheckpoint, match=message):
        load_checkpoint(_rewrite(trained_ae.checkpoint.to_bytes(), edit))


def test_tensors_of_the_wrong_dtype_or_with_nan_are_refused(trained_ae) -> None:
    data = trained_ae.checkpoint.to_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    metadata = json.loads(data[8 : 8 + length])["__metadata__"]
    state = {k: v.clone() for k, v in trained_ae.model.state_dict().items()}
    name = next(iter(state))
    as_double = dict(state, **{name: state[name].double()})
    with pytest.raises(BadCheckpoint, match="float64"):
        load_checkpoint(save_tensors(as_double, metadata=metadata))
    with_nan = dict(state, **{name: torch.full_like(state[name], float("nan"))})
    with pytest.raises(BadCheckpoint, match="NaN"):
        load_checkpoint(save_tensors(with_nan, metadata=metadata))


def test_a_plain_safetensors_file_without_our_header_is_refused() -> None:
    with pytest.raises(BadCheckpoint, match="no readable 'aelab' metadata"):
        load_checkpoint(save_tensors({"w": torch.zeros(3)}))


def test_a_huge_header_length_is_refused_before_reading() -> None:
    with pytest.raises(BadCheckpoint, match="header claims"):
        read_header(struct.pack("<Q", 2**60) + b"{}")


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as file:
        file.truncate(MAX_BYTES + 1)
    with pytest.raises(BadCheckpoint, match="limited to"):
        load_checkpoint(big)


def test_a_missing_file_is_reported() -> None:
    with pytest.raises(BadCheckpoint, match="no checkpoint file"):
        load_checkpoint("/nonexistent/model.safetensors")


def test_save_replaces_atomically_and_leaves_no_temp_files(trained_ae, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "model.safetensors"
    trained_ae.checkpoint.save(target)
    original = target.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        trained_ae.checkpoint.save(target)
    assert target.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_checkpoint_bytes_and_save_agree(trained_ae, tmp_path: Path) -> None:
    path = trained_ae.checkpoint.save(tmp_path / "a.safetensors")
    assert path.read_bytes() == trained_ae.checkpoint.to_bytes()


def test_the_typed_header_round_trips_through_the_files_json(trained_ae) -> None:
    header = trained_ae.checkpoint.header
    assert isinstance(header, Header) and header.image_shape == (1, 8, 8)
    assert Header.from_json(json.loads(json.dumps(header.to_json()))) == header
    assert read_header(trained_ae.checkpoint.to_bytes()) == header


def test_check_fits_says_which_shapes_disagree(trained_ae, tiny, tiny28) -> None:
    check_fits(trained_ae.checkpoint, tiny)  # the dataset it was trained on fits
    with pytest.raises(ModelDoesNotFit, match=r"takes images shaped \(1, 8, 8\), but .* has \(1, 28, 28\)") as caught:
        check_fits(trained_ae.checkpoint, tiny28)
    assert (caught.value.expected, caught.value.found) == ((1, 8, 8), (1, 28, 28))


def _zip_of(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_dataset_npz_given_as_a_checkpoint_is_named_for_what_it_is(tmp_path: Path) -> None:
    dataset = tmp_path / "digits.npz"
    np.savez(dataset, images=np.zeros((4, 8, 8), np.float32), labels=np.arange(4))
    with pytest.raises(BadCheckpoint) as error:
        load_checkpoint(dataset)
    message = str(error.value)
    assert message.startswith("digits.npz is a NumPy .npz archive of arrays ('images', 'labels')")
    assert "upload it as a dataset" in message and "PyTorch" not in message and "pickle" not in message


def test_a_zip_of_images_given_as_a_checkpoint_says_upload_it_as_a_dataset() -> None:
    data = _zip_of({"cats/1.png": b"x", "cats/2.png": b"x", "dogs/1.jpg": b"x"})
    with pytest.raises(BadCheckpoint) as error:
        load_checkpoint(data)  # bytes, as an upload arrives
    message = str(error.value)
    assert message.startswith("this file is a .zip of 3 images") and "upload it as a dataset" in message
    assert "pickle" not in message


def test_other_zips_and_damaged_zips_are_not_called_pickles(tmp_path: Path) -> None:
    notes = tmp_path / "notes.zip"
    notes.write_bytes(_zip_of({"a.txt": b"x", "b.txt": b"y"}))
    with pytest.raises(BadCheckpoint, match=r"^notes\.zip is a \.zip archive of 2 files \(a\.txt, b\.txt\)"):
        load_checkpoint(notes)
    with pytest.raises(BadCheckpoint, match="starts like a zip archive but cannot be read"):
        load_checkpoint(b"PK\x03\x04" + b"\0" * 100)


def test_a_torch_save_zip_is_named_as_a_pytorch_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(BadCheckpoint, match=r"^weights\.pth is a PyTorch checkpoint .* never unpickles"):
        load_checkpoint(path)
