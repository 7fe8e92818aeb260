from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from aelab.errors import BadCheckpoint
from aelab.recipes import (
    MANIFEST,
    PRETRAINED,
    PRETRAINED_DIR,
    load_pretrained,
    model_config_for,
    pretrained_paths,
    train_config_for,
    write_manifest,
)


def test_every_recipe_is_shipped_and_verifies() -> None:
    assert [p.name for p in pretrained_paths()] == [r.path.name for r in PRETRAINED]
    for recipe in PRETRAINED:
        checkpoint = load_pretrained(recipe.name)
        assert checkpoint.kind == recipe.model.kind and checkpoint.dataset == recipe.dataset
        assert checkpoint.model.config.latent_dim == 2
        assert recipe.path.stat().st_size < 8 * 2**20  # a few MB at most
        assert 0 < checkpoint.metrics["test_mse"] < 0.1


def test_the_default_model_is_the_mnist5k_vae() -> None:
    assert PRETRAINED[0].name == "mnist5k-vae"


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    for path in pretrained_paths():
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(PRETRAINED_DIR / MANIFEST, tmp_path / MANIFEST)
    return tmp_path


def test_a_changed_shipped_file_is_refused(shipped_copy: Path) -> None:
    path = shipped_copy / "digits-ae.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01  # one flipped bit in the last weight
    path.write_bytes(bytes(data))
    with pytest.raises(BadCheckpoint, match="does not match its SHA-256"):
        load_pretrained("digits-ae", shipped_copy)


def test_a_file_missing_from_the_manifest_is_refused(shipped_copy: Path) -> None:
    (shipped_copy / MANIFEST).write_text("")
    with pytest.raises(BadCheckpoint, match="not listed"):
        load_pretrained("digits-ae", shipped_copy)


def test_write_manifest_lists_every_file(shipped_copy: Path) -> None:
    lines = write_manifest(shipped_copy).read_text().splitlines()
    assert len(lines) == len(PRETRAINED) and all(len(line.split("  ")[0]) == 64 for line in lines)
    assert np.all(load_pretrained("digits-vae", shipped_copy).latent_bounds.shape == (2, 2))


def test_a_model_that_learned_nothing_is_flagged(tiny, trained_ae) -> None:
    from aelab.models import ModelConfig
    from aelab.recipes import train_model
    from aelab.train import TrainConfig

    assert trained_ae.learned and trained_ae.metrics.test_mse < 0.5 * trained_ae.mean_image_mse
    # a learning rate of 10 does not make the loss NaN here: the network collapses to a constant image
    collapsed = train_model(
        tiny, ModelConfig(kind="ae", hidden=(32, 16)), TrainConfig(epochs=10, lr=10, schedule="constant")
    )
    assert not collapsed.learned
    assert collapsed.metrics.test_mse >= 0.95 * collapsed.mean_image_mse


def test_model_config_for_follows_the_recipes(tiny, tiny28) -> None:
    small = model_config_for(tiny, "vae", latent_dim=3, beta=2.0, seed=4)
    assert (small.kind, small.latent_dim, small.beta, small.seed) == ("vae", 3, 2.0, 4)
    assert small.image_shape == tiny.image_shape and small.hidden == (128, 64)
    assert model_config_for(tiny28, "conv").hidden == (512, 256)


def test_train_config_for_gives_each_image_size_its_defaults_and_keeps_what_was_chosen(tiny, tiny28) -> None:
    small, large = train_config_for(tiny), train_config_for(tiny28)
    assert (small.epochs, small.lr, small.batch_size) == (60, 3e-3, 32)
    assert (large.epochs, large.lr, large.batch_size) == (15, 1e-3, 128)
    chosen = train_config_for(tiny28, epochs=3, seed=9)
    assert (chosen.epochs, chosen.seed, chosen.lr) == (3, 9, 1e-3)


def test_the_recipes_and_model_config_for_share_one_layer_table(tiny, tiny28) -> None:
    for recipe in PRETRAINED:
        if recipe.name in ("mnist5k-ae", "mnist5k-umap-ae", "mnist5k-conv"):
            continue  # these recipes choose layers of their own (deeper MLPs, a one-layer conv head)
        dataset = tiny if recipe.dataset == "digits" else tiny28
        config = model_config_for(dataset, recipe.model.kind)
        assert (config.hidden, config.channels) == (recipe.model.hidden, recipe.model.channels), recipe.name
