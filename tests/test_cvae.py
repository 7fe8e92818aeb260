"""The conditional VAE beyond its model: labels through evaluation, analogies, the label a model explains best,
generation by label, walks of rows, checkpoints, and the CLI's --label."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aelab import cli
from aelab.animate import AnimationError, walk_frames
from aelab.checkpoint import check_fits, load_checkpoint
from aelab.data import Dataset, make_dataset
from aelab.errors import UnsupportedFile
from aelab.latent import (
    analogies,
    decode_codes,
    decode_point,
    encode_images,
    generate,
    likeliest_labels,
    point_picture,
    reconstruct,
)
from aelab.recipes import TrainedModel


def test_a_trained_cvae_round_trips_through_its_checkpoint(trained_cvae: TrainedModel, tiny: Dataset, tmp_path) -> None:
    path = trained_cvae.checkpoint.save(tmp_path / "c.safetensors")
    loaded = load_checkpoint(path)
    assert loaded.kind == "cvae" and loaded.model.conditional and loaded.model.config.classes == tiny.n_classes
    images, labels = tiny.test_images[:12], tiny.test_labels[:12]
    np.testing.assert_array_equal(
        reconstruct(loaded.model, images, labels), reconstruct(trained_cvae.model, images, labels)
    )
    assert trained_cvae.metrics.test_mse < 0.7 * trained_cvae.mean_image_mse, "it learned"


def test_analogies_decode_each_code_under_every_label(trained_cvae: TrainedModel, tiny: Dataset) -> None:
    model = trained_cvae.model
    codes = encode_images(model, tiny.test_images[:3], tiny.test_labels[:3])
    rows = analogies(model, codes)
    assert rows.shape == (3, 4, 1, 8, 8)
    for label in range(4):
        np.testing.assert_allclose(rows[:, label], decode_codes(model, codes, label), atol=1e-6)


def test_a_model_not_told_labels_has_no_analogies(trained_ae: TrainedModel) -> None:
    with pytest.raises(ValueError, match="not told labels"):
        analogies(trained_ae.model, np.zeros((1, 2), np.float32))


def test_the_label_a_cvae_explains_best_is_mostly_the_true_one(trained_cvae: TrainedModel, tiny: Dataset) -> None:
    guessed = likeliest_labels(trained_cvae.model, tiny.test_images)
    assert guessed.shape == (len(tiny.test_idx),)
    assert (guessed == tiny.test_labels).mean() > 0.5  # chance is 0.25


def test_generation_draws_the_chosen_label_or_every_label_in_turn(trained_cvae: TrainedModel) -> None:
    model = trained_cvae.model
    codes, every = generate(model, 8, seed=1)
    np.testing.assert_allclose(every, decode_codes(model, codes, np.arange(8) % 4), atol=1e-6)
    _, twos = generate(model, 8, seed=1, label=2)
    np.testing.assert_allclose(twos, decode_codes(model, codes, 2), atol=1e-6)
    with pytest.raises(ValueError, match=r"label 4 is outside this model's classes 0\.\.3"):
        generate(model, 8, label=4)


def test_a_walk_of_a_cvae_draws_every_labels_row_or_one_label(trained_cvae: TrainedModel) -> None:
    model = trained_cvae.model
    rows = walk_frames(model, [-1.0, 0.0], [1.0, 0.5], steps=4, scale=2)
    assert len(rows) == 4 and rows[0].size == (2 * (4 * 9 + 1), 2 * 10)  # 4 labels of 8 px, 1 px apart
    single = walk_frames(model, [-1.0, 0.0], [1.0, 0.5], steps=4, scale=2, label=3)
    assert single[0].size == (16, 16)
    with pytest.raises(AnimationError, match="outside this model's classes"):
        walk_frames(model, [-1.0, 0.0], [1.0, 0.5], steps=4, label=7)


def test_a_cvae_does_not_fit_data_with_other_classes(trained_cvae: TrainedModel, tiny: Dataset) -> None:
    check_fits(trained_cvae.checkpoint, tiny)
    three = make_dataset("three", tiny.images, np.minimum(tiny.labels, 2))
    with pytest.raises(UnsupportedFile, match="told one of 4 labels, but three has 3 classes"):
        check_fits(trained_cvae.checkpoint, three)


def test_the_cli_samples_and_animates_a_label_and_refuses_a_foreign_one(
    trained_cvae: TrainedModel, tmp_path: Path, capsys
) -> None:
    checkpoint = str(trained_cvae.checkpoint.save(tmp_path / "c.safetensors"))
    names = trained_cvae.label_names
    png = tmp_path / "s.png"
    assert cli.main(["sample", checkpoint, "-n", "8", "--label", names[2], "--scale", "1", "--out", str(png)]) == 0
    assert f"wrote 8 samples of {names[2]}" in capsys.readouterr().out
    assert cli.main(["sample", checkpoint, "-n", "8", "--label", "1", "--scale", "1", "--out", str(png)]) == 0
    assert cli.main(["sample", checkpoint, "-n", "8", "--scale", "1", "--out", str(png)]) == 0
    assert Image.open(png).size == (4 * 9 + 1, 2 * 9 + 1)  # every label in turn: one label per column
    assert cli.main(["sample", checkpoint, "--label", "9", "--out", str(png)]) == 2
    assert "label '9' is not one of this model's classes" in capsys.readouterr().err
    gif = tmp_path / "w.gif"
    assert cli.main(["animate", checkpoint, "--from=-1,0", "--to", "1,0", "--steps", "3", "--out", str(gif)]) == 0
    assert Image.open(gif).size == (3 * (4 * 9 + 1), 3 * 10)  # the row of every label, 3× by default


def test_label_is_refused_for_a_model_that_is_not_told_labels(trained_ae: TrainedModel, tmp_path: Path, capsys) -> None:
    checkpoint = str(trained_ae.checkpoint.save(tmp_path / "a.safetensors"))
    assert cli.main(["sample", checkpoint, "--label", "1", "--out", str(tmp_path / "s.png")]) == 2
    assert "--label is for a model told the label (such as a cvae); this one is of kind ae" in capsys.readouterr().err


def test_style_consistency_is_high_when_the_label_sets_the_class_and_chance_when_ignored(
    trained_cvae: TrainedModel, tiny: Dataset
) -> None:
    from aelab.baselines import style_consistency

    told = style_consistency(trained_cvae.model, tiny, n=20)
    assert 0.75 <= told <= 1.0
    deaf = load_checkpoint(trained_cvae.checkpoint.to_bytes()).model
    with torch.no_grad():  # a decoder that no longer hears the label: every row is one class, read once in 4
        deaf.decoder.net[0].weight[:, 2:] = 0
    assert style_consistency(deaf, tiny, n=20) <= 0.5


def test_a_point_of_a_cvae_is_pictured_as_its_row_or_as_one_label(trained_cvae: TrainedModel, trained_ae) -> None:
    model, z = trained_cvae.model, np.array([0.5, -0.5], np.float32)
    row = point_picture(model, z)
    assert row.shape == (1, 10, 4 * 9 + 1)  # 4 labels of 8 px, 1 px apart and around
    np.testing.assert_allclose(row[:, 1:9, 10:18], decode_point(model, z, 1), atol=1e-6)
    np.testing.assert_allclose(point_picture(model, z, 2), decode_point(model, z, 2), atol=1e-6)
    np.testing.assert_allclose(point_picture(trained_ae.model, z), decode_point(trained_ae.model, z))
