"""Online sources against a local stand-in of the remote: fetched once, cached, offline after; imports by hand.

Nothing here touches the internet: the OpenML fetch is replaced by a function that serves small generated
arrays (and counts its calls), or one that fails the way an offline machine does. The cache directory is
a temporary folder (AELAB_CACHE).
"""

from __future__ import annotations

import gzip
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from aelab import cli, sources
from aelab.data import SOURCES, dataset_names, load_dataset
from aelab.errors import UnsupportedFile
from aelab.sources import ONLINE, SourceUnavailable, fetch, import_files, is_cached, load_online, read_idx


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AELAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def stand_in(n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """What fetch_openml returns for an MNIST-like set, but small: pixels (n, 784) float, labels as strings."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 784)).astype(np.float64), (np.arange(n) % 10).astype(str).astype(object)


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace OpenML by a local stand-in; the list records each dataset it was asked for."""
    calls: list[str] = []

    def fake(spec, data_home: Path):
        calls.append(spec.openml_name)
        assert Path(data_home).is_relative_to(sources.cache_dir())  # the library's own cache is ours too
        return stand_in()

    monkeypatch.setattr(sources, "_fetch_openml", fake)
    return calls


def test_online_sources_are_registered_but_not_bundled() -> None:
    for name in ("mnist", "fashion", "kmnist"):
        assert name in dataset_names() and not SOURCES[name].bundled
    assert "mnist" not in dataset_names(bundled_only=True)
    assert len(ONLINE["fashion"].label_names) == len(ONLINE["kmnist"].label_names) == 10


def test_cache_dir_is_per_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AELAB_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert sources.cache_dir() == tmp_path / "aelab"
    monkeypatch.setenv("AELAB_CACHE", str(tmp_path / "mine"))
    assert sources.cache_dir() == tmp_path / "mine"


def test_first_use_fetches_with_progress_and_second_use_reads_the_cache(cache: Path, remote: list[str]) -> None:
    seen: list[tuple[float, str]] = []
    assert not is_cached("fashion")
    first = load_online("fashion", progress=lambda f, m: seen.append((f, m)))
    assert remote == ["Fashion-MNIST"]
    assert (cache / "fashion.npz").is_file() and is_cached("fashion")
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert "downloading" in seen[0][1]

    second = load_dataset("fashion")  # through the registry, as the app and the CLI do
    assert remote == ["Fashion-MNIST"]  # no second download
    assert first.images.shape == second.images.shape == (50, 1, 28, 28)
    np.testing.assert_array_equal(first.images, second.images)
    assert second.label_names[0] == "T-shirt/top" and second.labels.max() == 9


def test_offline_first_use_says_how_to_place_the_files(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(spec, data_home):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(sources, "_fetch_openml", offline)
    with pytest.raises(SourceUnavailable) as error:
        load_dataset("kmnist")
    message = str(error.value)
    assert "could not download Kuzushiji-MNIST" in message and "name resolution" in message
    assert "train-images-idx3-ubyte.gz" in message and "aelab data import FOLDER --dataset kmnist" in message
    assert str(cache / "kmnist.npz") in message
    assert not (cache / "kmnist.npz").exists()


def test_a_bad_download_is_not_cached(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "_fetch_openml", lambda spec, home: (np.zeros((5, 10)), np.zeros(5)))
    with pytest.raises(UnsupportedFile, match=r"\(N, 28, 28\) or \(N, 784\) in the OpenML download"):
        fetch("mnist")
    assert not is_cached("mnist")


def test_a_damaged_cache_file_says_to_delete_it(cache: Path) -> None:
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(UnsupportedFile, match=r"is damaged.*delete it"):
        load_online("mnist")


def idx_bytes(array: np.ndarray) -> bytes:
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder: Path, n_train: int = 30, n_test: int = 10, compress: bool = True) -> None:
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for stem, array in arrays.items():
        data = idx_bytes(array)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)


@pytest.mark.parametrize("compress", [True, False])
def test_import_idx_folder_then_load_offline(cache: Path, tmp_path: Path, remote: list[str], compress: bool) -> None:
    write_idx_folder(tmp_path / "files", compress=compress)
    path = import_files(tmp_path / "files", "mnist")
    assert path == cache / "mnist.npz"
    dataset = load_dataset("mnist")
    assert dataset.images.shape == (40, 1, 28, 28) and remote == []


def test_import_keras_npz(cache: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_train=np.arange(20) % 10,
        x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        y_test=np.arange(10) % 10,
    )
    import_files(tmp_path / "mnist.npz", "kmnist")
    assert len(load_dataset("kmnist")) == 30


def test_import_refuses_bad_files(cache: Path, tmp_path: Path) -> None:
    write_idx_folder(tmp_path / "short")
    (tmp_path / "short" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(UnsupportedFile, match=r"expected t10k-labels-idx1-ubyte\.gz .* not there"):
        import_files(tmp_path / "short", "mnist")
    with pytest.raises(UnsupportedFile, match="magic 00 00 08 0n"):
        read_idx(b"hello world")
    with pytest.raises(UnsupportedFile, match=r"says \(2, 28, 28\) values but holds 10 bytes"):
        read_idx(b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 28, 28) + b"x" * 10)
    with pytest.raises(UnsupportedFile, match=r"not a readable \.gz"):
        read_idx(b"\x1f\x8b broken")
    np.savez(tmp_path / "other.npz", pixels=np.zeros(3))
    with pytest.raises(UnsupportedFile, match=r"x_train, y_train, x_test, y_test.*found pixels"):
        import_files(tmp_path / "other.npz", "mnist")
    with pytest.raises(UnsupportedFile, match="a folder holding"):
        import_files(tmp_path / "missing.bin", "mnist")
    assert not is_cached("mnist")


def test_cli_data_import_and_fetch(
    cache: Path, tmp_path: Path, remote: list[str], capsys: pytest.CaptureFixture
) -> None:
    write_idx_folder(tmp_path / "files")
    assert cli.main(["data", "import", str(tmp_path / "files"), "--dataset", "fashion"]) == 0
    assert "imported" in capsys.readouterr().out and is_cached("fashion")
    assert cli.main(["data", "fetch", "mnist"]) == 0
    assert cli.main(["data", "fetch", "mnist"]) == 0  # second time: from the cache
    assert remote == ["mnist_784"]
    assert cli.main(["data", "import", str(tmp_path / "nothing"), "--dataset", "mnist"]) == 2
    assert "aelab: error: expected a folder holding" in capsys.readouterr().err


def test_cli_offline_error_is_one_line(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(
        sources, "_fetch_openml", lambda spec, home: (_ for _ in ()).throw(OSError("network is unreachable"))
    )
    assert cli.main(["data", "fetch", "fashion"]) == 2
    err = capsys.readouterr().err
    assert err.count("aelab: error:") == 1 and "aelab data import FOLDER --dataset fashion" in err
