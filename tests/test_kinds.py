"""Adding a model kind touches one file: a toy kind registered here reaches the CLI, the Train page (with its
own setting) and checkpoints, with nothing else changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest
from synthetic import tiny_dataset
from ui.apptest import page_script

from aelab import cli
from aelab.checkpoint import load_checkpoint
from aelab.data import Source, register_source
from aelab.export import decoder_spec, encoder_spec
from aelab.models import MODEL_CLASSES, Autoencoder, Setting, all_settings, kinds, model_class, register_model

register_source(Source("blobs8", "Blobs 8×8", lambda: tiny_dataset(), "tiny generated test set"))


class ToyAutoencoder(Autoencoder):
    """An MLP autoencoder whose loss also pulls the codes towards 0 by ``min_dist`` (a field it borrows)."""

    kind = "toy-ae"
    title = "Toy autoencoder"
    settings = (Setting("min_dist", "Toy pull towards 0", 0.0, 0.5, 0.05),)

    def loss(
        self, x: torch.Tensor, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        z = self.encode(x)
        mse = F.mse_loss(self.decode(z), x)
        return {"loss": mse + self.config.min_dist * z.pow(2).mean(), "mse": mse}


@pytest.fixture
def toy_kind():
    register_model(ToyAutoencoder)
    yield ToyAutoencoder
    MODEL_CLASSES.pop(ToyAutoencoder.kind)


def test_a_registered_kind_is_trained_and_saved_by_the_cli_with_its_setting(toy_kind, tmp_path: Path, capsys) -> None:
    assert "toy-ae" in kinds() and model_class("toy-ae") is ToyAutoencoder
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    helptext = capsys.readouterr().out
    assert "toy-ae" in helptext and "Toy pull towards 0 (umap-ae, toy-ae" in " ".join(helptext.split())
    out = tmp_path / "toy.safetensors"
    args = ["train", "--dataset", "blobs8", "--model", "toy-ae", "--min-dist", "0.25", "--epochs", "2", "--out"]
    assert cli.main([*args, str(out)]) == 0
    checkpoint = load_checkpoint(out)
    assert isinstance(checkpoint.model, ToyAutoencoder) and checkpoint.kind == "toy-ae"
    assert checkpoint.model.config.min_dist == 0.25
    assert checkpoint.model.config.hidden == (128, 64)  # the dataset's layer widths, from recipes
    # The browser plans come with the base class: the export needs nothing new either.
    assert decoder_spec(checkpoint.model)["kind"] == "toy-ae" and encoder_spec(checkpoint.model)["latent_dim"] == 2


def test_a_registered_kind_appears_on_the_train_page_with_its_own_setting(toy_kind) -> None:
    at = AppTest.from_function(page_script, args=("aelab.ui.train_page",), default_timeout=60)
    at.session_state["aelab.language"] = "en"
    at.run()
    assert "Toy autoencoder" in at.selectbox(key="train.kind").options  # the class's title, in English
    at.selectbox(key="train.kind").set_value("toy-ae").run()
    assert not at.exception
    slider = at.slider(key="train.min_dist")
    assert (slider.label, slider.min, slider.max, slider.value) == ("Toy pull towards 0", 0.0, 0.5, 0.1)


def test_only_a_class_with_a_name_and_config_fields_for_settings_registers() -> None:
    class Nameless(Autoencoder):
        kind = ""

    class Unknown(Autoencoder):
        kind = "unknown-setting"
        settings = (Setting("temperature", "Temperature", 0.0, 1.0),)

    with pytest.raises(ValueError, match="needs a name"):
        register_model(Nameless)
    with pytest.raises(ValueError, match="must be ModelConfig fields; not: temperature"):
        register_model(Unknown)
    assert "unknown-setting" not in kinds() and "temperature" not in all_settings()
