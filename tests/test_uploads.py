"""Uploaded datasets: every format loads, every bad case is refused with a message saying what and why.

All files are generated here, in memory; the hypothesis tests feed the parsers random and mutated bytes
and accept no exception other than UnsupportedFile.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from synthetic import blobs

from aelab import uploads
from aelab.errors import UnsupportedFile
from aelab.uploads import load_upload, parse_csv, parse_image_zip, parse_npz


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def csv_bytes(images: np.ndarray, labels, header: bool = True) -> bytes:
    flat = images.reshape(len(images), -1)
    lines = []
    if header:
        lines.append(",".join(["label", *[f"pixel{i}" for i in range(flat.shape[1])]]))
    for label, row in zip(labels, flat):
        lines.append(",".join([str(label), *[f"{v:g}" for v in row]]))
    return ("\n".join(lines) + "\n").encode()


def png(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def class_folders(
    n_per_class: int = 6, size: tuple[int, int] = (16, 16), prefix: str = "", rgb: bool = False
) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    entries = {}
    for label in ("cat", "dog"):
        for i in range(n_per_class):
            shape = (size[1], size[0], 3) if rgb else (size[1], size[0])
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            entries[f"{prefix}{label}/{i}.{'jpg' if i % 2 else 'png'}"] = png(pixels, "JPEG" if i % 2 else "PNG")
    return entries


# --- formats that load -------------------------------------------------------------------------------


def test_npz_grey_uint8_with_labels_and_names() -> None:
    images, labels = blobs(n=40, side=8)
    data = npz_bytes(
        images=(images[:, 0] * 255).astype(np.uint8), labels=labels, label_names=np.array(["a", "b", "c", "d"])
    )
    dataset = parse_npz(data, "up")
    assert dataset.images.shape == (40, 1, 8, 8) and dataset.images.dtype == np.float32
    assert 0.0 <= dataset.images.min() and dataset.images.max() <= 1.0 and dataset.images.max() > 0.8
    assert dataset.label_names == ("a", "b", "c", "d")
    assert dataset.info["values"] == "pixel values 0–255 (detected)"
    np.testing.assert_array_equal(dataset.labels, labels)


def test_npz_float01_rgb_nchw_and_nhwc_agree() -> None:
    images, labels = blobs(n=30, side=8, channels=3)
    nchw = parse_npz(npz_bytes(images=images, labels=labels), "a")
    nhwc = parse_npz(npz_bytes(images=np.transpose(images, (0, 2, 3, 1)), labels=labels), "b")
    assert nchw.image_shape == nhwc.image_shape == (3, 8, 8)
    np.testing.assert_allclose(nchw.images, nhwc.images)
    np.testing.assert_allclose(nchw.images, images)  # 0–1 floats are kept, not divided by 255
    assert nchw.info["values"] == "pixel values 0–1 (detected)"


def test_npz_without_labels_is_one_class() -> None:
    images, _ = blobs(n=20, side=6)
    dataset = parse_npz(npz_bytes(images=images), "u")
    assert dataset.n_classes == 1 and set(dataset.labels) == {0}


def test_npz_with_more_classes_than_test_images_still_splits() -> None:
    images = np.zeros((20, 4, 4), dtype=np.uint8)
    dataset = parse_npz(npz_bytes(images=images, labels=np.arange(20) % 10), "many-classes")
    assert len(dataset.test_idx) == 4 and len(dataset.train_idx) == 16


def test_csv_with_header_numeric_labels() -> None:
    images, labels = blobs(n=24, side=6)
    dataset = parse_csv(csv_bytes((images * 255).round(), labels), "c")
    assert dataset.images.shape == (24, 1, 6, 6)
    np.testing.assert_allclose(dataset.images, (images * 255).round() / 255, atol=1e-6)
    np.testing.assert_array_equal(dataset.labels, labels)


def test_csv_headerless_label_first_and_class_names() -> None:
    images, labels = blobs(n=20, side=4)
    names = np.array(["north", "east", "south", "west"])[labels]
    headerless = parse_csv(csv_bytes(images, labels, header=False), "h")
    assert headerless.images.shape == (20, 1, 4, 4)
    named = parse_csv(csv_bytes(images, names), "n")
    assert named.label_names == ("east", "north", "south", "west")
    assert [named.label_names[k] for k in named.labels] == names.tolist()


@pytest.mark.parametrize("rgb", [False, True])
def test_zip_of_class_folders_resized(rgb: bool) -> None:
    dataset = parse_image_zip(zip_bytes(class_folders(rgb=rgb)), "z", side=10, rgb=rgb)
    assert dataset.images.shape == (12, 3 if rgb else 1, 10, 10)
    assert dataset.label_names == ("cat", "dog")
    assert np.bincount(dataset.labels).tolist() == [6, 6]
    assert dataset.info["resized"] == f"10×10 {'RGB' if rgb else 'grey'}"


def test_zip_inside_one_top_folder_and_macos_junk_is_skipped() -> None:
    entries = class_folders(prefix="pets/")
    entries["__MACOSX/pets/cat/._0.png"] = b"\x00\x05\x16\x07junk"
    entries["pets/.DS_Store"] = b"junk"
    dataset = parse_image_zip(zip_bytes(entries), "z", side=8)
    assert dataset.label_names == ("cat", "dog") and len(dataset) == 12


def test_load_upload_dispatches_by_extension() -> None:
    images, labels = blobs(n=20, side=6)
    assert load_upload("mine.NPZ", npz_bytes(images=images, labels=labels), "x").title == "mine.NPZ (uploaded)"
    assert len(load_upload("mine.csv", csv_bytes(images, labels), "y")) == 20
    assert len(load_upload("pets.zip", zip_bytes(class_folders()), "z", side=8)) == 12


# --- refused, with a message --------------------------------------------------------------------------


def refused(match: str, call, *args, **kwargs) -> str:
    with pytest.raises(UnsupportedFile, match=match) as error:
        call(*args, **kwargs)
    return str(error.value)


def test_empty_and_oversized_files(monkeypatch: pytest.MonkeyPatch) -> None:
    for parse in (parse_npz, parse_csv, parse_image_zip):
        refused("the file is empty", parse, b"", "e")
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 100)
    message = refused("at most 0.0 MB", parse_npz, b"x" * 101, "big")
    assert "this one has" in message


def test_unknown_extension() -> None:
    assert "got 'model.safetensors'" in refused(
        r"expected a \.npz, \.csv, \.zip file", load_upload, "model.safetensors", b"x", "n"
    )


@pytest.mark.parametrize(
    "arrays, match",
    [
        ({"pixels": np.zeros((20, 4, 4))}, r"array named 'images'.*found pixels"),
        ({"images": np.zeros((20, 784))}, r"reshape them to \(N, 28, 28\)"),
        ({"images": np.zeros(784)}, r"got \(784,\)"),
        ({"images": np.zeros((20, 5, 4, 4))}, r"1 \(grey\) or 3 \(RGB\) channels; got 5"),
        ({"images": np.full((20, 4, 4), "a")}, "numeric pixel values in .images.; got dtype <U1"),
        ({"images": np.zeros((20, 4, 4), dtype=np.complex64)}, "numeric pixel values"),
        ({"images": np.full((20, 4, 4), np.nan)}, "NaN or infinite"),
        ({"images": np.full((20, 4, 4), np.inf)}, "NaN or infinite"),
        ({"images": np.full((20, 4, 4), 300.0)}, r"\[0, 1\] or \[0, 255\]; found \[300, 300\]"),
        ({"images": np.full((20, 4, 4), -1.0)}, r"found \[-1, -1\]"),
        ({"images": np.zeros((0, 4, 4))}, "'images' is empty"),
        ({"images": np.zeros((3, 4, 4))}, "at least 10 images; got 3"),
        ({"images": np.zeros((20, 4, 4)), "labels": np.zeros(19)}, r"one label per image, shaped \(20,\); got \(19,\)"),
        ({"images": np.zeros((20, 4, 4)), "labels": np.full(20, 0.5)}, "integer labels"),
        ({"images": np.zeros((20, 4, 4)), "labels": np.full(20, 10**9)}, "labels between 0 and 999"),
        (
            {"images": np.zeros((20, 4, 4)), "labels": np.arange(20) % 3, "label_names": np.array(["a"])},
            "only 1 label names",
        ),
        ({"images": np.zeros((20, 4, 4)), "label_names": np.zeros(2)}, "'label_names' as a 1-D array of strings"),
    ],
)
def test_bad_npz_contents(arrays: dict, match: str) -> None:
    refused(match, parse_npz, npz_bytes(**arrays), "bad")


def test_npz_with_object_array_is_refused_without_unpickling() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, images=np.array([np.zeros((4, 4)), np.zeros((5, 5))], dtype=object))
    refused("plain numeric arrays.*pickle", parse_npz, buffer.getvalue(), "obj")


def test_npz_that_is_not_a_zip() -> None:
    refused("not a readable zip archive", parse_npz, b"PK\x03\x04 not really", "n")


def damaged_deflate(data: bytes) -> bytes:
    """The zip ``data`` with its first member's compressed stream broken (a reserved deflate block type)."""
    member = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    header = member.header_offset  # the local header: 30 bytes, then the name and the extra field
    name_length = int.from_bytes(data[header + 26 : header + 28], "little")
    extra_length = int.from_bytes(data[header + 28 : header + 30], "little")
    start = header + 30 + name_length + extra_length
    return data[:start] + b"\x07" + data[start + 1 :]


def test_npz_and_zip_with_a_damaged_compressed_member_are_refused() -> None:
    npz = npz_bytes(images=np.zeros((12, 4, 4), dtype=np.uint8))
    refused("numpy could not read it", parse_npz, damaged_deflate(npz), "z")
    refused("could not read", parse_image_zip, damaged_deflate(zip_bytes(class_folders())), "z")


def test_too_many_images(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_IMAGES", 15)
    refused("at most 15 images; found 20", parse_npz, npz_bytes(images=np.zeros((20, 4, 4))), "many")


@pytest.mark.parametrize(
    "text, match",
    [
        ("label,a,b,c,d\n" + "0,1,2,3\n" * 12, r"5 columns in every row \(images of one size\); row 2 has 4"),
        ("label,a,b,c\n" + "0,1,2,3\n" * 12, "square number of pixel columns.*got 3"),
        ("name,a,b,c,d\n" + "0,1,2,3,4\n" * 12, "label column named one of label, class"),
        ("label,a,b,c,d\n" + "0,1,2,x,4\n" * 12, "numbers in the pixel columns; row 2 has 'x'"),
        ("label,a,b,c,d\n" + "0,1,2,nan,4\n" * 12, "NaN or infinite"),
        ("label,a,b,c,d\n" + "0,1,2,400,4\n" * 12, r"\[0, 255\]; found \[1, 400\]"),
        ("label,a,b,c,d\n", "a header and no rows"),
        ("\n\n", "has no rows"),
        ("label,a,b,c,d\n" + "-1,1,2,3,4\n" * 12, "labels between 0 and 999"),
    ],
)
def test_bad_csv_contents(text: str, match: str) -> None:
    refused(match, parse_csv, text.encode(), "bad")


def test_binary_file_named_csv() -> None:
    refused("UTF-8 text", parse_csv, b"\xff\xfe\x00\x01" * 10, "bin")
    refused("NUL bytes", parse_csv, b"label,a\x00\n", "nul")


def test_zip_entry_with_dotdot_or_absolute_path_is_refused() -> None:
    for evil in ("../escape/0.png", "cat/../../0.png", "/etc/cat/0.png", "C:/cat/0.png", "\\cat\\0.png"):
        entries = class_folders()
        entries[evil] = png(np.zeros((16, 16), dtype=np.uint8))
        message = refused("expected (relative paths|paths inside)", parse_image_zip, zip_bytes(entries), "evil")
        assert repr(evil) in message


def test_zip_with_non_image_file_is_refused() -> None:
    entries = class_folders()
    entries["cat/notes.txt"] = b"hello"
    assert "'cat/notes.txt'" in refused("only PNG or JPEG images", parse_image_zip, zip_bytes(entries), "t")


def test_zip_with_image_that_does_not_decode_or_is_another_format() -> None:
    entries = class_folders()
    entries["dog/broken.png"] = b"\x89PNG\r\n\x1a\n but then nothing"
    refused("readable PNG or JPEG image; 'dog/broken.png'", parse_image_zip, zip_bytes(entries), "b")
    entries = class_folders()
    entries["dog/sneaky.png"] = png(np.zeros((16, 16), dtype=np.uint8), "GIF")
    refused("'dog/sneaky.png' is GIF", parse_image_zip, zip_bytes(entries), "g")


def test_zip_with_images_of_mixed_sizes_is_refused() -> None:
    entries = class_folders()
    entries["dog/wide.png"] = png(np.zeros((16, 20), dtype=np.uint8))
    message = refused("images of one size", parse_image_zip, zip_bytes(entries), "m")
    assert "16×16" in message and "'dog/wide.png' is 20×16" in message


def test_zip_without_class_folders_or_images() -> None:
    refused("holds no images", parse_image_zip, zip_bytes({"empty/": b""}), "e")
    entries = {"a.png": png(np.zeros((4, 4), dtype=np.uint8)), **class_folders()}
    refused("inside a class folder", parse_image_zip, zip_bytes(entries), "f")


def test_zip_bomb_is_refused_before_expanding() -> None:
    bomb = zip_bytes({"cat/0.png": b"\x00" * (8 * 2**20)})  # 8 MiB of zeros compress to ~8 KB
    assert len(bomb) < 2**16
    message = refused("compressed at most 100:1.*zip bomb", parse_image_zip, bomb, "bomb")
    assert "'cat/0.png'" in message
    refused("zip bomb", parse_npz, zip_bytes({"images.npy": b"\x00" * (8 * 2**20)}), "bomb")


def test_zip_bomb_by_total_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_EXPANDED_BYTES", 10_000)
    message = refused("expanding to at most", parse_image_zip, zip_bytes(class_folders(size=(64, 64))), "big")
    assert "would expand to" in message


def test_huge_source_image_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_SOURCE_PIXELS", 100)
    refused("at most 100 pixels", parse_image_zip, zip_bytes(class_folders()), "huge")


def test_side_out_of_range() -> None:
    refused("between 2 and 256", parse_image_zip, zip_bytes(class_folders()), "s", side=1000)


def test_nothing_is_written_to_disk(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    entries = class_folders()
    entries["../../escape.png"] = png(np.zeros((16, 16), dtype=np.uint8))
    with pytest.raises(UnsupportedFile):
        parse_image_zip(zip_bytes(entries), "w")
    parse_image_zip(zip_bytes(class_folders()), "ok", side=8)
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "escape.png").exists()


# --- fuzzing: nothing but our own clear errors --------------------------------------------------------

VALID_NPZ = npz_bytes(images=(blobs(n=12, side=4)[0][:, 0] * 255).astype(np.uint8), labels=blobs(n=12, side=4)[1])
VALID_CSV = csv_bytes(blobs(n=12, side=4)[0], blobs(n=12, side=4)[1])
VALID_ZIP = zip_bytes(class_folders(n_per_class=5, size=(6, 6)), compression=zipfile.ZIP_STORED)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mutated(valid: bytes):
    """Valid bytes with a few positions overwritten, truncated or extended."""
    return st.tuples(
        st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)), max_size=8),
        st.integers(0, len(valid)),
        st.binary(max_size=16),
    ).map(lambda m: _apply(valid, *m))


def _apply(valid: bytes, edits: list[tuple[int, int]], cut: int, tail: bytes) -> bytes:
    data = bytearray(valid)
    for position, value in edits:
        data[position] = value
    return bytes(data[: max(cut, 1)]) + tail


def accepts_or_refuses(parse, data: bytes, **kwargs) -> None:
    try:
        dataset = parse(data, "fuzz", **kwargs)
    except UnsupportedFile as error:
        assert str(error)
    else:
        assert np.isfinite(dataset.images).all() and 0 <= dataset.images.min() and dataset.images.max() <= 1


@FUZZ
@given(st.one_of(st.binary(max_size=300), mutated(VALID_NPZ)))
def test_fuzz_npz(data: bytes) -> None:
    accepts_or_refuses(parse_npz, data)


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode), mutated(VALID_CSV)))
def test_fuzz_csv(data: bytes) -> None:
    accepts_or_refuses(parse_csv, data)


@FUZZ
@given(st.one_of(st.binary(max_size=300), mutated(VALID_ZIP)))
def test_fuzz_zip(data: bytes) -> None:
    accepts_or_refuses(parse_image_zip, data, side=6)
