from __future__ import annotations

import numpy as np
import pytest

from aelab.latent import (
    MixtureSampler,
    PlaneMap,
    PriorSampler,
    Projection,
    axis_traversal,
    decode_codes,
    decode_grid,
    decode_point,
    encode_images,
    factor_correlations,
    fit_plane_map,
    generate,
    grid_codes,
    interpolate,
    nearest,
    plane_bounds,
    sampler_for,
)
from aelab.models import ModelConfig, build_model


def test_encode_and_decode_shapes(trained_ae, tiny) -> None:
    codes = encode_images(trained_ae.model, tiny.images)
    assert codes.shape == (len(tiny), 2) and codes.dtype == np.float32
    images = decode_codes(trained_ae.model, codes[:7])
    assert images.shape == (7, 1, 8, 8)
    assert decode_point(trained_ae.model, [0.0, 0.0]).shape == (1, 8, 8)


def test_plane_bounds_ignore_outliers_and_pad() -> None:
    rng = np.random.default_rng(0)
    codes = rng.uniform(-1, 1, size=(1000, 2))
    codes[0] = [1000.0, -1000.0]
    bounds = plane_bounds(codes, percentile=0.5, pad=0.1)
    assert bounds.shape == (2, 2)
    assert np.all(bounds[:, 0] < -1.0) and np.all(bounds[:, 1] > 1.0)
    assert np.all(bounds[:, 1] - bounds[:, 0] < 3.0)


def test_plane_bounds_of_a_constant_dimension_are_not_empty() -> None:
    codes = np.zeros((50, 2))
    bounds = plane_bounds(codes)
    assert np.all(bounds[:, 1] > bounds[:, 0])


def test_grid_codes_run_left_to_right_and_top_to_bottom() -> None:
    codes = grid_codes(np.array([[0.0, 4.0], [0.0, 2.0]]), 4)
    assert codes.shape == (4, 4, 2)
    assert codes[0, 0].tolist() == [0.5, 1.75]  # top-left cell centre: smallest x, largest y
    assert codes[3, 3].tolist() == [3.5, 0.25]
    assert np.all(np.diff(codes[0, :, 0]) > 0) and np.all(np.diff(codes[:, 0, 1]) < 0)


def test_grid_codes_hold_other_dimensions_at_base() -> None:
    codes = grid_codes(np.array([[0, 1], [0, 1], [0, 1]]), 3, dims=(0, 2), base=np.array([9.0, 7.0, 9.0]))
    assert np.all(codes[:, :, 1] == 7.0)


def test_decode_grid_is_one_batch_of_the_right_shape(trained_ae) -> None:
    grid = decode_grid(trained_ae.model, trained_ae.latent_bounds, 5)
    assert grid.shape == (5, 5, 1, 8, 8)
    codes = grid_codes(trained_ae.latent_bounds, 5)
    assert np.allclose(grid[1, 2], decode_point(trained_ae.model, codes[1, 2]), atol=1e-6)


def test_interpolation_runs_from_one_code_to_the_other(trained_ae) -> None:
    z0, z1 = np.array([-1.0, 2.0]), np.array([3.0, 0.0])
    codes, images = interpolate(trained_ae.model, z0, z1, steps=9)
    assert codes.shape == (9, 2) and images.shape == (9, 1, 8, 8)
    assert np.allclose(codes[0], z0) and np.allclose(codes[-1], z1) and np.allclose(codes[4], (z0 + z1) / 2)


def test_nearest_returns_the_closest_first() -> None:
    codes = np.array([[0.0, 0.0], [5.0, 5.0], [1.0, 0.0], [0.0, 3.0]], dtype=np.float32)
    index, distances = nearest(codes, np.array([0.9, 0.1]), k=3)
    assert index.tolist() == [2, 0, 3]
    assert np.all(np.diff(distances) >= 0)
    assert len(nearest(codes, np.zeros(2), k=10)[0]) == 4


def test_prior_sampler_for_a_vae_is_standard_normal() -> None:
    model = build_model(ModelConfig(kind="vae", image_shape=(1, 8, 8), latent_dim=3, hidden=(8,)))
    sampler = sampler_for(model)
    assert isinstance(sampler, PriorSampler)
    codes = sampler.sample(4000, seed=1)
    assert codes.shape == (4000, 3)
    assert abs(codes.mean()) < 0.05 and abs(codes.std() - 1) < 0.05
    assert np.array_equal(codes, sampler.sample(4000, seed=1))


def test_mixture_sampler_follows_the_training_codes_and_is_pure(trained_ae, tiny) -> None:
    codes = encode_images(trained_ae.model, tiny.train_images)
    sampler = sampler_for(trained_ae.model, codes)
    assert isinstance(sampler, MixtureSampler)
    before = sampler.mixture_.means_.copy()
    samples = sampler.sample(2000, seed=0)
    assert np.array_equal(samples, sampler.sample(2000, seed=0))
    assert np.array_equal(before, sampler.mixture_.means_)
    assert np.allclose(samples.mean(0), codes.mean(0), atol=0.15 * codes.std(0).max())
    lo, hi = codes.min(0), codes.max(0)
    assert np.mean(np.all((samples > lo - 1) & (samples < hi + 1), axis=1)) > 0.95


def test_sampling_a_non_vae_without_codes_says_what_is_missing(trained_ae) -> None:
    with pytest.raises(ValueError, match="training codes"):
        sampler_for(trained_ae.model)


def test_generate_returns_codes_and_images(trained_ae, tiny) -> None:
    codes, images = generate(trained_ae.model, 6, seed=2, train_codes=encode_images(trained_ae.model, tiny.images))
    assert codes.shape == (6, 2) and images.shape == (6, 1, 8, 8)
    assert images.min() >= 0 and images.max() <= 1


def test_plane_maps_go_back_and_forth() -> None:
    rng = np.random.default_rng(0)
    codes3 = (rng.normal(size=(200, 3)) * [3.0, 1.0, 0.2]).astype(np.float32)
    pca = fit_plane_map(codes3, "pca")
    points = pca.to_plane(codes3)
    assert points.shape == (200, 2)
    # Back to the latent space and down again lands on the same plane point (PCA's inverse is a section).
    np.testing.assert_allclose(pca.to_plane(pca.to_latent(points[:5])), points[:5], atol=1e-4)
    assert pca.to_latent(points[:5]).shape == (5, 3)

    codes2 = codes3[:, :2]
    np.testing.assert_array_equal(fit_plane_map(codes2).to_plane(codes2), codes2)
    line = fit_plane_map(codes3[:, :1])
    assert line.to_plane(codes3[:, :1]).shape == (200, 2)
    np.testing.assert_array_equal(line.to_latent(line.to_plane(codes3[:, :1])), codes3[:, :1])


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_every_plane_map_is_a_projection_that_round_trips(d: int) -> None:
    rng = np.random.default_rng(1)
    codes = (rng.normal(size=(120, d)) * np.linspace(3.0, 0.2, d)).astype(np.float32)
    plane_map = fit_plane_map(codes, "pca")
    assert isinstance(plane_map, Projection) and isinstance(plane_map, PlaneMap)
    assert plane_map.fit(codes) is plane_map  # fit returns the fitted object, as scikit-learn's do
    points = plane_map.transform(codes)
    assert points.shape == (120, 2) and points.dtype == np.float32
    back = plane_map.inverse_transform(points[:7])
    assert back.shape == (7, d) and back.dtype == np.float32
    # Down, up and down again lands on the same plane point: each inverse is a section of its transform.
    np.testing.assert_allclose(plane_map.transform(back), points[:7], atol=1e-4)
    np.testing.assert_array_equal(plane_map.to_plane(codes), points)
    np.testing.assert_array_equal(plane_map.to_latent(points[:7]), back)
    # PCA, the identity and the line are affine, and their matrices give the same two directions.
    components, mean = plane_map.affine()
    np.testing.assert_allclose((codes - mean) @ components.T, points, atol=1e-4)
    np.testing.assert_allclose(points[:7] @ components + mean, back, atol=1e-4)


def test_axis_traversal_changes_only_one_coordinate(trained_ae) -> None:
    codes, images = axis_traversal(trained_ae.model, trained_ae.latent_bounds, axis=1, steps=5)
    assert codes.shape == (5, 2) and images.shape == (5, 1, 8, 8)
    assert np.all(codes[:, 0] == 0)
    assert np.allclose(codes[[0, -1], 1], trained_ae.latent_bounds[1])


def test_factor_correlations_find_the_axis_that_encodes_a_factor() -> None:
    rng = np.random.default_rng(0)
    size, angle = rng.uniform(0, 1, 500), rng.uniform(0, 1, 500)
    codes = np.stack([np.exp(size) + 0.01 * rng.normal(size=500), rng.normal(size=500)], axis=1)
    result = factor_correlations(codes, {"size": size, "angle": angle, "constant": np.ones(500)})
    assert result["size"][0] > 0.95 and result["size"][1] < 0.2
    assert np.all(result["angle"] < 0.2)
    assert np.all(result["constant"] == 0)
