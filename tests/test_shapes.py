"""The generated shapes dataset: deterministic, fast, in range, every factor recorded and usable for colour."""

from __future__ import annotations

import numpy as np
import pytest

from aelab.data import SOURCES, factor_classes, load_dataset, make_dataset
from aelab.errors import UnsupportedFile
from aelab.sources import SHAPE_NAMES, generate_shapes


def test_shapes_is_bundled_and_loads_with_its_factors() -> None:
    # How fast it loads is measured by bench/datasets.py, not asserted here (shared machines are noisy).
    assert SOURCES["shapes"].bundled
    dataset = load_dataset("shapes")
    assert dataset.images.shape == (4000, 1, 28, 28) and dataset.images.dtype == np.float32
    assert 0.0 <= dataset.images.min() and dataset.images.max() == 1.0
    assert dataset.label_names == SHAPE_NAMES
    assert np.bincount(dataset.labels).tolist() == [1000] * 4
    assert set(dataset.factors) == {"scale", "rotation", "x", "y"}
    for values in dataset.factors.values():
        assert values.shape == (4000,) and not values.flags.writeable


def test_shapes_are_deterministic() -> None:
    a, b = generate_shapes(per_class=20), generate_shapes(per_class=20)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    other = generate_shapes(per_class=20, seed=1)
    assert not np.array_equal(a[0], other[0])


def test_factors_describe_the_pictures() -> None:
    images, labels, factors = generate_shapes(per_class=50)
    area = images.sum(axis=(1, 2))
    # a bigger scale draws a bigger shape, for every kind of shape
    for k in range(len(SHAPE_NAMES)):
        mask = labels == k
        assert np.corrcoef(factors["scale"][mask], area[mask])[0, 1] > 0.95
    # the centre of mass follows the recorded position (y up, so rows go the other way)
    rows, cols = np.indices(images.shape[1:]) + 0.5
    col_centre = (images * cols).sum(axis=(1, 2)) / area - 14
    row_centre = (images * rows).sum(axis=(1, 2)) / area - 14
    assert np.corrcoef(factors["x"], col_centre)[0, 1] > 0.95
    assert np.corrcoef(factors["y"], -row_centre)[0, 1] > 0.9  # the heart's centroid sits a little off centre
    # shapes stay inside the frame: the outermost pixels are never fully covered
    assert max(images[:, 0].max(), images[:, -1].max(), images[:, :, 0].max(), images[:, :, -1].max()) < 0.5


def test_shapes_differ_by_class() -> None:
    images, labels, factors = generate_shapes(per_class=200)
    # the fraction of the bounding disc each shape fills is its own: square 2·0.7²/π = 0.62, ellipse
    # 0.95·0.55 = 0.52, triangle (3√3/4)·0.95²/π = 0.37, and the heart the most
    fill = images.sum(axis=(1, 2)) / (np.pi * (factors["scale"] * 14) ** 2)
    square, ellipse, heart, triangle = (fill[labels == k].mean() for k in range(4))
    assert heart > square > ellipse > triangle
    assert square == pytest.approx(0.62, abs=0.03) and triangle == pytest.approx(0.37, abs=0.03)


def test_factor_classes_bins_continuous_and_keeps_discrete() -> None:
    values = np.linspace(0, 1, 100)
    classes, names = factor_classes(values, bins=4)
    assert len(names) == 4 and np.bincount(classes).tolist() == [25] * 4
    assert names[0].startswith("0–") and names[-1].endswith("–1")
    assert classes[0] == 0 and classes[-1] == 3
    discrete, names = factor_classes(np.array([3, 1, 3, 2.5]))
    assert names == ("1", "2.5", "3") and discrete.tolist() == [2, 0, 2, 1]


def test_dataset_without_factors_stays_compatible() -> None:
    images = np.zeros((12, 4, 4), dtype=np.float32)
    assert make_dataset("plain", images).factors == {}


def test_bad_factors_are_refused() -> None:
    images = np.zeros((12, 4, 4), dtype=np.float32)
    with pytest.raises(UnsupportedFile, match=r"one number per image, shaped \(12,\)"):
        make_dataset("f", images, factors={"size": np.zeros(11)})
    with pytest.raises(UnsupportedFile, match="NaN or infinite"):
        make_dataset("f", images, factors={"size": np.full(12, np.nan)})
