from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from aelab.errors import TrainingDiverged
from aelab.models import ModelConfig, build_model, kinds, model_class
from aelab.train import TrainConfig, evaluate, fit, random_shift

SMALL = dict(hidden=(32, 16), channels=(4, 8))


@pytest.mark.parametrize("kind", kinds())
def test_training_lowers_the_test_loss(tiny, kind: str) -> None:
    classes = tiny.n_classes if model_class(kind).conditional else 0
    model = build_model(ModelConfig(kind=kind, image_shape=tiny.image_shape, classes=classes, **SMALL))
    labels = torch.from_numpy(np.array(tiny.test_labels))
    before = evaluate(model, torch.from_numpy(np.array(tiny.test_images)), labels=labels)["mse"]
    history = fit(model, tiny, TrainConfig(epochs=20, batch_size=32, lr=3e-3))
    assert history.epochs == 20 and not history.stopped
    assert history.test[-1]["mse"] < 0.7 * before
    assert history.test[-1]["loss"] < history.test[0]["loss"]


def test_same_seed_gives_identical_weights(tiny) -> None:
    def train(seed: int) -> dict[str, torch.Tensor]:
        model = build_model(ModelConfig(kind="vae", image_shape=tiny.image_shape, seed=seed, **SMALL))
        fit(model, tiny, TrainConfig(epochs=3, batch_size=32, seed=seed))
        return model.state_dict()

    a, b, c = train(0), train(0), train(1)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_callback_gets_losses_time_and_test_codes(tiny) -> None:
    reports = []
    model = build_model(ModelConfig(kind="ae", image_shape=tiny.image_shape, latent_dim=2, **SMALL))
    fit(model, tiny, TrainConfig(epochs=3, batch_size=64), on_epoch=reports.append)
    assert [r.epoch for r in reports] == [1, 2, 3]
    assert all(r.epochs == 3 and r.elapsed > 0 for r in reports)
    assert reports[-1].seconds_left == 0
    assert "mse" in reports[0].train and "mse" in reports[0].test
    codes = reports[-1].test_codes()
    assert codes.shape == (len(tiny.test_idx), 2)


def test_stop_flag_ends_training_after_the_current_batch(tiny) -> None:
    stop = threading.Event()
    batches = []
    model = build_model(ModelConfig(kind="ae", image_shape=tiny.image_shape, **SMALL))
    original_loss = model.loss

    def counting_loss(x, generator=None, labels=None):
        batches.append(len(x))
        if len(batches) == 2:
            stop.set()
        return original_loss(x, generator)

    model.loss = counting_loss  # type: ignore[method-assign]
    history = fit(model, tiny, TrainConfig(epochs=50, batch_size=16), stop=stop)
    assert history.stopped and history.epochs == 0 and len(batches) == 2
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert not model.training


def test_nan_guard_stops_and_restores_last_good_weights(tiny) -> None:
    model = build_model(ModelConfig(kind="ae", image_shape=tiny.image_shape, **SMALL))
    fit(model, tiny, TrainConfig(epochs=2, batch_size=32))
    good = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(TrainingDiverged, match="smaller learning rate") as caught:
        fit(model, tiny, TrainConfig(epochs=5, batch_size=32, lr=1e30, schedule="constant"))
    assert caught.value.history.epochs == 0  # it diverged in its first epoch, so the last good weights are the start
    assert all(torch.equal(good[k], v) for k, v in model.state_dict().items())


def test_an_exploding_but_finite_loss_also_counts_as_divergence(tiny) -> None:
    model = build_model(ModelConfig(kind="vae", image_shape=tiny.image_shape, **SMALL))
    snapshots = [{k: v.clone() for k, v in model.state_dict().items()}]
    keep = lambda report: snapshots.append({k: v.clone() for k, v in model.state_dict().items()})  # noqa: E731
    with pytest.raises(TrainingDiverged, match="over 1000× its starting value") as caught:
        fit(model, tiny, TrainConfig(epochs=30, batch_size=32, lr=100, schedule="constant"), on_epoch=keep)
    assert len(snapshots) == caught.value.history.epochs + 1
    assert all(torch.equal(snapshots[-1][k], v) for k, v in model.state_dict().items())


def test_nan_input_is_caught_as_divergence(tiny) -> None:
    model = build_model(ModelConfig(kind="ae", image_shape=tiny.image_shape, **SMALL))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.loss = lambda x, generator=None, labels=None: {"loss": torch.tensor(float("nan")), "mse": torch.tensor(0.0)}  # type: ignore[method-assign]
    with pytest.raises(TrainingDiverged, match="nan"):
        fit(model, tiny, TrainConfig(epochs=1))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_random_shift_moves_each_image_by_at_most_the_given_pixels() -> None:
    image = torch.zeros(1, 1, 9, 9)
    image[0, 0, 4, 4] = 1.0
    shifted = random_shift(image.repeat(200, 1, 1, 1), 2.0, torch.Generator().manual_seed(0))
    assert shifted.shape == (200, 1, 9, 9)
    rows, cols = torch.meshgrid(torch.arange(9.0), torch.arange(9.0), indexing="ij")
    mass = shifted.sum((1, 2, 3))
    centre_x = (shifted[:, 0] * cols).sum((1, 2)) / mass
    centre_y = (shifted[:, 0] * rows).sum((1, 2)) / mass
    assert (centre_x - 4).abs().max() <= 2.0 + 1e-4 and (centre_y - 4).abs().max() <= 2.0 + 1e-4
    assert (centre_x - 4).abs().max() > 1.0  # really moved, in both directions
    assert (centre_x - 4).min() < 0 < (centre_x - 4).max()


def test_shift_augmentation_trains_and_stays_reproducible(tiny) -> None:
    def train() -> dict[str, torch.Tensor]:
        model = build_model(ModelConfig(kind="ae", image_shape=tiny.image_shape, **SMALL))
        fit(model, tiny, TrainConfig(epochs=2, batch_size=32, shift=1.0))
        return model.state_dict()

    a, b = train(), train()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"shift": -1.0}, "shift"),
        ({"epochs": 0}, "epochs"),
        ({"lr": float("nan")}, "learning rate"),
        ({"lr": -1.0}, "learning rate"),
        ({"batch_size": 0}, "batch size"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_train_config_is_refused(tiny, changes: dict, message: str) -> None:
    model = build_model(ModelConfig(kind="ae", image_shape=tiny.image_shape, **SMALL))
    with pytest.raises(ValueError, match=message):
        fit(model, tiny, TrainConfig(**changes))


def test_cuda_without_a_gpu_is_refused_in_words_and_auto_picks_what_there_is(monkeypatch) -> None:
    from aelab.train import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(ValueError, match="sees no CUDA GPU; use --device auto or cpu"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"  # where a GPU is, the trainer and `aelab train` use it


def test_a_trained_model_comes_back_on_the_cpu(tiny) -> None:
    model = build_model(ModelConfig(kind="ae", image_shape=tiny.image_shape, **SMALL))
    history = fit(model, tiny, TrainConfig(epochs=1, device="auto"))
    assert history.device in ("cpu", "cuda:0", "cuda")
    assert {p.device.type for p in model.parameters()} == {"cpu"}


def test_evaluate_builds_no_autograd_graph() -> None:
    model = build_model(ModelConfig(kind="ae", image_shape=(1, 8, 8), hidden=(16,)))
    seen = []
    original = model.loss

    def loss(*args: object) -> dict[str, torch.Tensor]:
        seen.append(torch.is_grad_enabled())
        return original(*args)

    model.loss = loss  # type: ignore[method-assign]
    evaluate(model, torch.rand(4, 1, 8, 8))
    assert seen == [False]


def test_the_optimisers_lazy_modules_can_be_loaded_ahead() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from aelab.train import load_optimiser_modules; "
        "assert 'torch._dynamo' not in sys.modules; load_optimiser_modules(); "
        "assert 'torch._dynamo' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
