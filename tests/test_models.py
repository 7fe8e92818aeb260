from __future__ import annotations

import pytest
import torch

from aelab.errors import UnknownName
from aelab.models import ModelConfig, build_model, corrupt, kinds, model_class

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 13, 17)]


@pytest.mark.parametrize("kind", kinds())
@pytest.mark.parametrize("shape", SHAPES)
def test_every_kind_maps_images_to_codes_and_back_in_range(kind: str, shape: tuple) -> None:
    classes = 4 if model_class(kind).conditional else 0
    model = build_model(
        ModelConfig(kind=kind, image_shape=shape, latent_dim=3, hidden=(32, 16), channels=(4, 8), classes=classes)
    )
    x, labels = torch.rand(6, *shape), torch.arange(6) % 4  # every kind is told; only the conditional ones listen
    z = model.encode(x, labels)
    assert z.shape == (6, 3)
    x_hat = model.decode(z, labels)
    assert x_hat.shape == (6, *shape)
    assert x_hat.min() >= 0 and x_hat.max() <= 1
    terms = model.loss(x, None, labels)
    assert {"loss", "mse"} <= set(terms)
    assert all(t.ndim == 0 and torch.isfinite(t) for t in terms.values())


def test_vae_reports_reconstruction_and_kl_separately_and_beta_weighs_kl() -> None:
    x = torch.rand(8, 1, 8, 8)
    losses = {}
    for beta in (0.0, 4.0):
        model = build_model(ModelConfig(kind="vae", image_shape=(1, 8, 8), hidden=(16,), beta=beta))
        terms = model.loss(x, torch.Generator().manual_seed(0))
        assert {"recon", "kl"} <= set(terms)
        losses[beta] = terms
    assert torch.isclose(losses[0.0]["loss"], losses[0.0]["recon"])
    assert torch.isclose(losses[4.0]["loss"], losses[4.0]["recon"] + 4.0 * losses[4.0]["kl"])


def test_vae_encode_is_the_posterior_mean_and_deterministic() -> None:
    model = build_model(ModelConfig(kind="vae", image_shape=(1, 8, 8), hidden=(16,)))
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(model.encode(x), model.encode(x))
    assert torch.equal(model.encode(x), model.posterior(x)[0])


def test_dae_corrupts_only_in_training_mode() -> None:
    model = build_model(ModelConfig(kind="dae", image_shape=(1, 8, 8), hidden=(16,), noise=0.5))
    x = torch.rand(4, 1, 8, 8)
    model.eval()
    clean = F_mse(model(x), x)
    assert torch.isclose(model.loss(x)["mse"], clean)
    model.train()
    assert not torch.isclose(model.loss(x, torch.Generator().manual_seed(1))["mse"], clean)


def F_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).mean()


def test_corrupt_stays_in_range_and_is_seeded() -> None:
    x = torch.rand(3, 1, 8, 8)
    a = corrupt(x, 0.5, torch.Generator().manual_seed(0))
    b = corrupt(x, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.min() >= 0 and a.max() <= 1 and not torch.equal(a, x)


def test_same_seed_same_weights_and_global_rng_untouched() -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = build_model(ModelConfig(kind="conv", image_shape=(1, 8, 8), seed=7))
    b = build_model(ModelConfig(kind="conv", image_shape=(1, 8, 8), seed=7))
    assert torch.equal(torch.rand(1), expected_next)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_config_round_trips_through_a_dict() -> None:
    config = ModelConfig(kind="vae", image_shape=(3, 8, 8), latent_dim=5, hidden=(10, 7), beta=2.5)
    assert ModelConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"kind": "gan"}, "unknown model kind"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"hidden": (10**6,)}, "hidden"),
        ({"image_shape": (2, 8, 8)}, "image_shape"),
        ({"beta": float("nan")}, "beta"),
    ],
)
def test_absurd_configs_are_refused_before_building(changes: dict, message: str) -> None:
    with pytest.raises((ValueError, UnknownName), match=message):
        build_model(ModelConfig(**changes))


def test_from_dict_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown"):
        ModelConfig.from_dict({"kind": "ae", "image_shape": [1, 8, 8], "latent_dim": 2, "evil": 1})


def test_a_conditional_vae_is_told_the_label_and_refuses_missing_or_foreign_labels() -> None:
    model = build_model(ModelConfig(kind="cvae", image_shape=(1, 8, 8), hidden=(16,), classes=3))
    x, z = torch.rand(4, 1, 8, 8), torch.zeros(3, 2)
    under_each = model.decode(z, torch.arange(3))
    assert not torch.allclose(under_each[0], under_each[1]), "the label reaches the decoder"
    assert not torch.allclose(model.encode(x, torch.zeros(4)), model.encode(x, torch.ones(4))), "and the encoder"
    with pytest.raises(ValueError, match="needs the labels"):
        model.encode(x)
    with pytest.raises(ValueError, match=r"label 3 is outside this model's classes 0\.\.2"):
        model.decode(z, torch.tensor([0, 1, 3]))
    with pytest.raises(ValueError, match="expected 3 labels, one per image or code; got 2"):
        model.decode(z, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="needs data with 2 to 1000 classes"):
        build_model(ModelConfig(kind="cvae", image_shape=(1, 8, 8), classes=1))
    with pytest.raises(ValueError, match="is not told labels"):
        build_model(ModelConfig(kind="vae", image_shape=(1, 8, 8), classes=3))
