"""MNIST-style preprocessing of drawings and photos (aelab.draw)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from aelab.data import Dataset, load_dataset
from aelab.draw import (
    MAX_DATA_URL_CHARS,
    MAX_IMAGE_PIXELS,
    MNIST_CONVENTION,
    Convention,
    NoDigit,
    area_resize,
    convention_for,
    encode_drawings,
    image_from_data_url,
    land,
    live_label,
    pen_width,
    photo_steps,
    plane_projection,
    preprocess,
    read_grey,
    render_strokes,
    vote,
)
from aelab.errors import UnsupportedFile
from aelab.latent import encode_images, fit_plane_map, likeliest_labels
from aelab.recipes import TrainedModel

CANVAS = (280, 280)


def random_strokes(rng: np.random.Generator, canvas: tuple[int, int] = CANVAS) -> list[np.ndarray]:
    """One to three wobbly polylines somewhere on the canvas, like a hand's."""
    h, w = canvas
    strokes = []
    for _ in range(rng.integers(1, 4)):
        start = rng.uniform([0.15 * w, 0.15 * h], [0.85 * w, 0.85 * h])
        steps = rng.normal(0, 0.06 * w, size=(rng.integers(3, 12), 2)).cumsum(axis=0)
        strokes.append(np.clip(start + steps, 0, [w - 1, h - 1]))
    return strokes


def ink_extent(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_centre_of_mass_lands_at_14_14_and_the_ink_fits_20x20() -> None:
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(40):
        ink = render_strokes(random_strokes(rng), CANVAS, pen_width=rng.uniform(8, 30))
        try:
            image = preprocess(ink)
        except NoDigit:  # a short scribble: refused as a dot, tested below
            continue
        assert image.shape == (1, 28, 28) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
        cy, cx = ndimage.center_of_mass(image[0])
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
        assert max(ink_extent(image[0] > 0)) <= 20
        checked += 1
    assert checked >= 30


def test_aspect_ratio_is_kept() -> None:
    ink = np.zeros(CANVAS)
    ink[40:240, 100:200] = 1.0  # 200 tall, 100 wide: 20 × 10 once scaled
    assert ink_extent(preprocess(ink)[0] > 0) == (20, 10)
    wide = np.zeros(CANVAS)
    wide[100:160, 20:260] = 1.0  # 60 × 240: 5 × 20
    assert ink_extent(preprocess(wide)[0] > 0) == (5, 20)


def test_area_resize_averages_exactly() -> None:
    image = np.arange(16, dtype=np.float64).reshape(4, 4)
    np.testing.assert_allclose(area_resize(image, 2, 2), [[2.5, 4.5], [10.5, 12.5]])
    assert area_resize(np.ones((280, 130)), 20, 9).round(12).tolist() == np.ones((20, 9)).tolist()


def test_a_blank_canvas_and_a_single_dot_are_refused() -> None:
    with pytest.raises(NoDigit, match="empty"):
        preprocess(np.zeros(CANVAS))
    with pytest.raises(NoDigit, match="single dot"):
        preprocess(render_strokes([np.array([[140.0, 140.0]])], CANVAS, pen_width=14))
    faint = np.full(CANVAS, 0.05)  # below the ink threshold everywhere: still empty
    with pytest.raises(NoDigit, match="empty"):
        preprocess(faint)


def test_an_mnist_digit_comes_back_nearly_unchanged() -> None:
    digits = load_dataset("mnist5k").test_images[:200, 0]
    changes = np.array([np.abs(preprocess(x)[0] - x).mean() for x in digits])
    assert np.median(changes) < 1e-3 and changes.max() < 0.01


def test_conventions_follow_the_dataset() -> None:
    assert convention_for(load_dataset("mnist5k")) == MNIST_CONVENTION
    digits = load_dataset("digits")
    convention = convention_for(digits)
    assert convention == Convention((8, 8), (8, 8), "box")
    ink = np.zeros(CANVAS)
    ink[20:260, 100:180] = 1.0  # 240 × 80: 8 × 3 (rounded), box-centred
    image = preprocess(ink, convention)[0]
    assert image.shape == (8, 8)
    assert ink_extent(image > 0) == (8, 3)
    assert np.nonzero(image.any(axis=0))[0][0] == 2  # (8 - 3) // 2

    shapes = convention_for(load_dataset("shapes"))
    assert shapes.frame == (28, 28) and shapes.centre == "mass" and 7 <= shapes.box[0] <= 28


def test_a_colour_convention_copies_the_ink_into_each_channel() -> None:
    ink = render_strokes([np.array([[50.0, 50.0], [200.0, 220.0]])], CANVAS, pen_width=20)
    image = preprocess(ink, Convention((32, 32), (24, 24), "mass", 3))
    assert image.shape == (3, 32, 32)
    assert np.array_equal(image[0], image[2])


# --- photos ------------------------------------------------------------------------------------------------


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(array * 255, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def paper_photo(ink: np.ndarray, seed: int = 0) -> np.ndarray:
    """Dark ink on light, unevenly lit, noisy paper."""
    rng = np.random.default_rng(seed)
    h, w = ink.shape
    light = 0.75 + 0.15 * np.linspace(0, 1, w)[None, :] * np.ones((h, 1))
    return np.clip(light - 0.55 * ndimage.gaussian_filter(ink, 1.5) + rng.normal(0, 0.03, (h, w)), 0, 1)


def test_a_photo_goes_through_every_step_to_the_same_input() -> None:
    strokes = [np.array([[120.0, 60.0], [170.0, 60.0], [130.0, 250.0]])]  # a 7, 400×300 photo
    ink = render_strokes(strokes, (300, 400), pen_width=14)
    steps = photo_steps(png(paper_photo(ink)))
    for name in ("grey", "contrast", "threshold", "ink", "cropped"):
        stage = getattr(steps, name)
        assert stage.ndim == 2 and 0.0 <= stage.min() and stage.max() <= 1.0, name
    assert steps.grey.shape == (300, 400)
    assert steps.grey.mean() > 0.5 and steps.ink.mean() < 0.2, "dark ink on paper comes out white on black"
    clean = preprocess(ink)
    assert steps.input.shape == (1, 28, 28)
    assert np.abs(steps.input - clean).mean() < 0.06


def test_a_light_on_dark_photo_is_not_inverted() -> None:
    ink = render_strokes([np.array([[200.0, 40.0], [200.0, 260.0]])], (300, 400), pen_width=16)
    photo = 0.1 + 0.8 * ndimage.gaussian_filter(ink, 1.0)
    steps = photo_steps(png(photo))
    assert steps.ink[ink > 0].mean() > 0.8 and steps.ink[ink == 0].mean() < 0.05


@pytest.mark.parametrize(
    "photo",
    [np.full((200, 300), 0.7), np.random.default_rng(1).uniform(0, 1, (200, 300))],
    ids=["uniform", "noise"],
)
def test_a_photo_without_a_digit_is_refused(photo: np.ndarray) -> None:
    with pytest.raises(NoDigit):
        photo_steps(png(photo))


def test_a_file_that_is_not_an_image_is_refused() -> None:
    with pytest.raises(UnsupportedFile, match="not an image"):
        photo_steps(b"%PDF-1.4 this is not a picture")
    with pytest.raises(UnsupportedFile, match="damaged or truncated"):
        read_grey(png(np.ones((50, 50)))[:60])


def test_a_very_large_photo_is_refused_before_decoding() -> None:
    for side in (int(MAX_IMAGE_PIXELS**0.5) + 100, 10_000):  # past our limit; past Pillow's bomb limit too
        buffer = io.BytesIO()
        Image.new("1", (side, side)).save(buffer, format="PNG")  # compresses to a few kB
        with pytest.raises(UnsupportedFile, match="megapixel"):
            photo_steps(buffer.getvalue())
    with pytest.raises(UnsupportedFile, match="MB"):
        read_grey(b"\x89PNG" + bytes(16 * 1024 * 1024))


def test_transparent_pixels_read_as_black() -> None:
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[5:15, 8:12] = (255, 255, 255, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    grey = read_grey(buffer.getvalue())
    assert grey[0, 0] == 0.0 and grey[10, 10] == 1.0


# --- where a drawing lands ---------------------------------------------------------------------------------


def test_a_canvas_png_data_url_is_read_and_anything_else_refused() -> None:
    ink = render_strokes([np.array([[140.0, 40.0], [140.0, 240.0]])], CANVAS, pen_width=20)
    url = "data:image/png;base64," + base64.b64encode(png(ink)).decode()
    np.testing.assert_array_equal(image_from_data_url(url), ink)
    for bad, message in [
        (None, "did not arrive as a PNG"),
        ("data:image/svg+xml;base64,PHN2Zz4=", "did not arrive as a PNG"),
        ("data:image/png;base64,***", "damaged"),
        ("data:image/png;base64," + "A" * MAX_DATA_URL_CHARS, "larger than"),
    ]:
        with pytest.raises(UnsupportedFile, match=message):
            image_from_data_url(bad)


def test_plane_projections_are_the_plane_maps_forward_direction() -> None:
    rng = np.random.default_rng(0)
    for d in (1, 2, 5):
        codes = rng.normal(size=(200, d)).astype(np.float32)
        plane_map = fit_plane_map(codes, "pca")
        projection = plane_projection(plane_map, d)
        points = codes @ np.array(projection["matrix"]) + projection["offset"]
        np.testing.assert_allclose(points, plane_map.to_plane(codes), atol=1e-5)


def test_a_landing_votes_among_the_training_codes() -> None:
    digits = load_dataset("digits")
    codes = np.zeros((len(digits), 2), dtype=np.float32)
    codes[:, 0] = digits.labels * 10.0  # each label its own spot on a line
    landing = land(codes, digits, np.array([30.2, 0.0]), fit_plane_map(codes))
    assert landing.guess == 3 and landing.votes[3] == 5 and landing.votes.sum() == 5
    assert (digits.labels[landing.nearest] == 3).all() and np.all(np.diff(landing.distances) >= 0)
    np.testing.assert_allclose(landing.point, [30.2, 0.0], atol=1e-6)
    label, counts = vote(codes[:4], np.array([1, 1, 2, 2]), np.array([0.0, 0.0]), 3, k=4)
    assert label == 1 and counts.tolist() == [0, 2, 2]  # a tie goes to the smaller label, as in scikit-learn


def test_the_pen_suits_the_dataset() -> None:
    assert pen_width(MNIST_CONVENTION) == 28.4  # about 2.8 px of MNIST's 20-px box once scaled
    assert pen_width(Convention((8, 8), (8, 8), "box")) == 42.0


def test_packed_drawings_come_back_at_the_canvas_precision_and_bad_entries_are_dropped() -> None:
    from aelab.draw import SAVED_DRAWINGS_BYTES, pack_drawings, unpack_drawings

    rng = np.random.default_rng(0)
    drawings = [(i + 1, "canvas" if i % 2 else "photo", rng.random((1, 28, 28)).astype(np.float32)) for i in range(3)]
    back = unpack_drawings(pack_drawings(drawings), (1, 28, 28))
    assert [(n, s) for n, s, _ in back] == [(n, s) for n, s, _ in drawings]
    for (_, _, before), (_, _, after) in zip(drawings, back, strict=True):
        assert np.abs(after - before).max() <= 0.5 / 255 + 1e-7

    # Only the most recent that fit are kept, oldest first.
    many = [(i + 1, "canvas", np.zeros((1, 28, 28), np.float32)) for i in range(200)]
    packed = pack_drawings(many)
    assert len(str(packed)) <= SAVED_DRAWINGS_BYTES and packed[-1]["number"] == 200
    assert [e["number"] for e in packed] == sorted(e["number"] for e in packed)

    good = pack_drawings(drawings[:1])[0]
    tampered = [
        {**good, "shape": [1, 8, 8]},  # another dataset's size
        {**good, "number": -1},
        {**good, "number": True},
        {**good, "source": "script"},
        {**good, "pixels": "not base64!"},
        {**good, "pixels": base64.b64encode(b"short").decode()},
        "not a drawing",
    ]
    assert unpack_drawings(tampered, (1, 28, 28)) == []
    assert unpack_drawings("not a list", (1, 28, 28)) == []
    assert len(unpack_drawings([*tampered, good], (1, 28, 28))) == 1


def test_a_cvae_encodes_drawings_under_the_label_it_explains_best_or_the_one_chosen(
    trained_cvae: TrainedModel, tiny: Dataset
) -> None:
    model, inputs = trained_cvae.model, tiny.test_images[:6]
    codes, labels = encode_drawings(model, inputs)
    assert labels is not None
    np.testing.assert_array_equal(labels, likeliest_labels(model, inputs))
    np.testing.assert_allclose(codes, encode_images(model, inputs, labels), atol=1e-6)
    twos, told = encode_drawings(model, inputs, 2)
    assert told is not None and (told == 2).all()
    np.testing.assert_allclose(twos, encode_images(model, inputs, 2), atol=1e-6)
    assert np.abs(twos - encode_drawings(model, inputs, 3)[0]).max() > 1e-3, "the label told changes the code"
    with pytest.raises(ValueError, match=r"label 4 is outside this model's classes 0\.\.3"):
        encode_drawings(model, inputs, 4)


def test_other_kinds_encode_drawings_told_nothing(trained_ae: TrainedModel, tiny: Dataset) -> None:
    codes, labels = encode_drawings(trained_ae.model, tiny.test_images[:3], 2)
    assert labels is None
    np.testing.assert_allclose(codes, encode_images(trained_ae.model, tiny.test_images[:3]), atol=1e-6)


def test_the_live_label_is_the_chosen_one_else_the_servers_last_else_0() -> None:
    assert live_label(7, 3) == 7
    assert live_label(None, 3) == 3
    assert live_label(None, None) == 0
