"""Colour (C = 3) through the whole path: models train and decode RGB, pictures come out as RGB PNGs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from synthetic import tiny_dataset

from aelab.checkpoint import load_checkpoint
from aelab.imaging import crisp_png, grid_image, png_bytes, tile
from aelab.latent import decode_grid, encode_images, plane_bounds
from aelab.models import ModelConfig
from aelab.recipes import train_model
from aelab.train import TrainConfig


@pytest.fixture(scope="module")
def rgb():
    return tiny_dataset(side=8, channels=3)


@pytest.mark.parametrize("kind", ["ae", "conv", "vae", "dae"])
def test_every_kind_trains_and_decodes_rgb(rgb, kind: str) -> None:
    trained = train_model(
        rgb, ModelConfig(kind=kind, hidden=(32, 16), channels=(8, 16)), TrainConfig(epochs=3, batch_size=64)
    )
    assert trained.history.train[-1]["loss"] < trained.history.train[0]["loss"]
    codes = encode_images(trained.model, rgb.images)
    grid = decode_grid(trained.model, plane_bounds(codes), 4)
    assert codes.shape == (len(rgb), 2) and grid.shape == (4, 4, 3, 8, 8)
    again = load_checkpoint(trained.checkpoint.to_bytes())  # an RGB checkpoint round-trips
    assert tuple(again.header.image_shape) == (3, 8, 8)


def test_rgb_pictures_are_rgb_pngs(rgb) -> None:
    picture = Image.open(io.BytesIO(png_bytes(tile(rgb.images[:6], columns=3), scale=2)))
    assert picture.mode == "RGB" and picture.size == (2 * (3 * 9 + 1), 2 * (2 * 9 + 1))
    grid = grid_image(np.stack([rgb.images[:3]] * 2))
    assert grid.shape == (3, 16, 24)
    grey = Image.open(io.BytesIO(png_bytes(tiny_dataset(side=8).images[0])))
    assert grey.mode == "L"


def test_crisp_pngs_repeat_whole_pixels_to_about_the_width_asked() -> None:
    image = np.zeros((1, 8, 8), np.float32)
    image[0, 0, 0] = 1.0
    data, width = crisp_png(image, 140)
    assert width == 144  # 18 × 8: the whole factor nearest 140 px
    picture = np.asarray(Image.open(io.BytesIO(data)))
    assert picture.shape == (144, 144) and set(np.unique(picture)) == {0, 255}  # repeated, not blurred
    assert (picture[:18, :18] == 255).all() and picture[18, 18] == 0
    assert crisp_png(image[0], 4) == crisp_png(image, 4)  # (H, W) is one grey channel; never below 1×
    assert crisp_png(image, 4)[1] == 8
