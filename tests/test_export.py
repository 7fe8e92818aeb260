"""The browser decoder: the exported spec, decoder.js under node against PyTorch, and the offline explorer."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from torch import nn

from aelab.checkpoint import load_checkpoint
from aelab.data import Dataset, make_dataset
from aelab.errors import UnsupportedFile
from aelab.export import (
    DECODER_JS,
    LABEL_COLORS,
    UnsupportedExport,
    decode_floats,
    decoder_spec,
    encode_floats,
    explorer_data,
    explorer_html,
    plane_map_affine,
    runs_in_browser,
    spec_decode,
)
from aelab.latent import IdentityMap, LineMap, ReducerMap, decode_codes, fit_plane_map
from aelab.models import ModelConfig, build_model, kinds, model_class
from aelab.plane import PLANE_JS, decode_array
from aelab.recipes import TrainedModel, pretrained_paths

TOLERANCE = 1e-5  # per pixel, in [0, 1]
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed: the JavaScript decoder cannot be run")

# Reads {"spec": ..., "codes": [[...], ...]} on stdin, prints the decoded images as one JSON list of lists.
NODE_SCRIPT = """
const decoder = require(process.argv[1]).load(JSON.parse(require("fs").readFileSync(0, "utf8")).spec);
const input = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(input.codes.map((z, i) => Array.from(decoder.decode(z, input.labels[i])))));
"""


def js_decode(spec: dict, codes: np.ndarray, tmp_path, labels: np.ndarray | None = None) -> np.ndarray:
    """codes (N, d) -> images (N, C, H, W) decoded by decoder.js under node (told ``labels``, if conditional)."""
    codes_file = tmp_path / "codes.json"
    told = [None] * len(codes) if labels is None else np.asarray(labels).tolist()
    codes_file.write_text(json.dumps({"codes": codes.tolist(), "labels": told}))
    result = subprocess.run(
        [NODE, "-e", NODE_SCRIPT, str(DECODER_JS), str(codes_file)],
        input=json.dumps({"spec": spec}), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return np.array(json.loads(result.stdout), dtype=np.float64).reshape(len(codes), *spec["image_shape"])


CLASSES = 3  # what a conditional kind is told in these tests


def random_labels(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, CLASSES, n)


def random_codes(d: int, n: int = 12, seed: int = 0) -> np.ndarray:
    # Wide spread (σ = 3) so the ReLUs and the sigmoid's flat ends are both exercised.
    return (3 * np.random.default_rng(seed).standard_normal((n, d))).astype(np.float32)


def tiny_model(kind: str, side: int, channels: int = 1, latent_dim: int = 2):
    classes = CLASSES if model_class(kind).conditional else 0
    config = ModelConfig(kind=kind, image_shape=(channels, side, side), latent_dim=latent_dim, hidden=(48, 24),
                         channels=(6, 12), classes=classes, seed=3)  # fmt: skip
    model = build_model(config)
    with torch.no_grad():  # default init keeps most pixels near 0.5; wider weights make a harder comparison
        for p in model.decoder.parameters():
            p.mul_(3.0)
    return model


# --- decoder.js against PyTorch ------------------------------------------------------------------------


@needs_node
@pytest.mark.parametrize("side", [8, 28])
@pytest.mark.parametrize("kind", kinds())
def test_javascript_decoder_matches_pytorch(kind: str, side: int, tmp_path) -> None:
    model = tiny_model(kind, side)
    spec = json.loads(json.dumps(decoder_spec(model)))  # what the browser receives
    codes, labels = random_codes(2), random_labels(12)
    expected = decode_codes(model, codes, labels)  # every kind is told; only the conditional ones listen
    decoded = js_decode(spec, codes, tmp_path, labels)
    assert decoded.shape == expected.shape
    assert np.abs(decoded - expected).max() <= TOLERANCE
    assert expected.std() > 0.05, "the comparison should cover varied pixels, not a flat grey"


@needs_node
def test_javascript_decoder_handles_colour_odd_sides_and_wider_codes(tmp_path) -> None:
    # 3 channels, a side that is not a multiple of 4 (the conv decoder crops), 5-D codes.
    for kind in ("conv", "vae"):
        model = tiny_model(kind, 10, channels=3, latent_dim=5)
        codes = random_codes(5, n=6, seed=1)
        decoded = js_decode(decoder_spec(model), codes, tmp_path)
        assert np.abs(decoded - decode_codes(model, codes)).max() <= TOLERANCE


@needs_node
def test_javascript_decoder_matches_a_shipped_checkpoint(tmp_path) -> None:
    paths = pretrained_paths()
    if not paths:
        pytest.skip("no shipped checkpoint in pretrained/")
    model = load_checkpoint(paths[0]).model
    codes = random_codes(model.config.latent_dim, n=16, seed=2)
    decoded = js_decode(decoder_spec(model), codes, tmp_path)
    assert np.abs(decoded - decode_codes(model, codes)).max() <= TOLERANCE


@needs_node
def test_javascript_decoder_applies_the_plane_map(tmp_path) -> None:
    """decodePlane(x, y) decodes the PCA inverse of a plane point, as the app's click does."""
    model = tiny_model("ae", 8, latent_dim=4)
    codes = random_codes(4, n=200, seed=4)
    plane_map = fit_plane_map(codes, "pca")
    spec = decoder_spec(model, plane_map)
    points = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.7]], dtype=np.float32)
    script = (
        "const d = require(process.argv[1]).load(JSON.parse(require('fs').readFileSync(0, 'utf8')));"
        f"process.stdout.write(JSON.stringify({points.tolist()}.map(([x, y]) => Array.from(d.decodePlane(x, y)))));"
    )
    result = subprocess.run(
        [NODE, "-e", script, str(DECODER_JS)], input=json.dumps(spec), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    decoded = np.array(json.loads(result.stdout)).reshape(len(points), 1, 8, 8)
    expected = decode_codes(model, plane_map.to_latent(points))
    assert np.abs(decoded - expected).max() <= TOLERANCE


@needs_node
def test_javascript_decoder_of_a_conditional_model_draws_each_label_and_refuses_a_missing_one(tmp_path) -> None:
    model = tiny_model("cvae", 8)
    codes = np.repeat(random_codes(2, n=2, seed=5), CLASSES, axis=0)
    labels = np.tile(np.arange(CLASSES), 2)  # each code under every label: the analogy row
    decoded = js_decode(decoder_spec(model), codes, tmp_path, labels)
    assert np.abs(decoded - decode_codes(model, codes, labels)).max() <= TOLERANCE
    assert np.abs(decoded[0] - decoded[1]).max() > 0.05, "the label changes the picture"
    with pytest.raises(AssertionError, match=r"expected a label in 0\.\.2, got null"):
        js_decode(decoder_spec(model), codes[:1], tmp_path)


@needs_node
def test_javascript_decoder_refuses_a_spec_that_does_not_add_up(tmp_path) -> None:
    spec = decoder_spec(tiny_model("ae", 8))
    spec["image_shape"] = [1, 9, 9]
    result = subprocess.run([NODE, "-e", NODE_SCRIPT, str(DECODER_JS), "/dev/null"], input=json.dumps({"spec": spec}),
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0 and "not the image shape [1,9,9]" in result.stderr


# --- the spec itself -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", kinds())
def test_spec_layers_reproduce_the_decoder(kind: str) -> None:
    model = tiny_model(kind, 28)
    spec = decoder_spec(model)
    codes, labels = random_codes(2), random_labels(12)
    np.testing.assert_allclose(spec_decode(spec, codes, labels), decode_codes(model, codes, labels), atol=1e-6)
    assert spec["classes"] == (CLASSES if model.conditional else 0)
    assert spec["kind"] == kind and spec["image_shape"] == [1, 28, 28] and spec["latent_dim"] == 2
    ops = [layer["op"] for layer in spec["layers"]]
    assert ops[-1] in {"sigmoid", "reshape"} and "sigmoid" in ops
    assert ("conv_transpose2d" in ops) == (kind == "conv")


def test_spec_is_json_and_its_id_follows_the_weights() -> None:
    model = tiny_model("vae", 8)
    spec = decoder_spec(model)
    assert json.loads(json.dumps(spec)) == spec
    assert decoder_spec(model)["id"] == spec["id"]
    with torch.no_grad():
        model.decoder.net[0].bias.add_(0.1)
    assert decoder_spec(model)["id"] != spec["id"]


def test_floats_are_little_endian_float32() -> None:
    values = np.array([1.0, -2.5, 3e-8], dtype=np.float64)
    encoded = encode_floats(values)
    assert encoded["dtype"] == "f4"
    assert decode_floats(encoded).tolist() == values.astype(np.float32).tolist()
    assert np.frombuffer(__import__("base64").b64decode(encoded["bdata"]), dtype="<f4")[1] == -2.5


def test_plane_maps_become_affine_or_are_refused() -> None:
    assert plane_map_affine(IdentityMap(), 2) == {"matrix": [[1.0, 0.0], [0.0, 1.0]], "offset": [0.0, 0.0]}
    assert plane_map_affine(LineMap(), 1) == {"matrix": [[1.0], [0.0]], "offset": [0.0]}
    codes = random_codes(4, n=100)
    pca = fit_plane_map(codes, "pca")
    affine = plane_map_affine(pca, 4)
    points = np.array([[0.3, -1.2], [2.0, 0.5]], dtype=np.float32)
    np.testing.assert_allclose(points @ np.array(affine["matrix"]) + affine["offset"], pca.to_latent(points), atol=1e-5)

    class Curved:  # a UMAP stand-in: inverse_transform exists, but no components_
        def inverse_transform(self, points: np.ndarray) -> np.ndarray:
            return np.tanh(points)

    curved = ReducerMap(Curved())
    assert plane_map_affine(curved, 4) is None
    with pytest.raises(UnsupportedExport, match="no linear inverse"):
        decoder_spec(tiny_model("ae", 8, latent_dim=4), curved)


def test_a_decoder_outside_the_vocabulary_is_refused() -> None:
    model = tiny_model("ae", 8)
    assert runs_in_browser(model)
    model.decoder.net.append(nn.Tanh())  # a layer decoder.js does not know
    assert not runs_in_browser(model)
    with pytest.raises(UnsupportedExport, match="Tanh"):
        decoder_spec(model)


def test_label_colours_are_defined_once() -> None:
    import aelab.plane
    from aelab.ui.plane import LABEL_COLORS as APP_COLORS

    assert LABEL_COLORS is APP_COLORS is aelab.plane.LABEL_COLORS


# --- the offline explorer ------------------------------------------------------------------------------


def _inline_data(page: str) -> dict:
    match = re.search(r"const DATA = (\{.*?\});\n", page)
    assert match, "the page should hold its data inline"
    return json.loads(match[1])


def test_explorer_html_is_self_contained(trained_ae: TrainedModel, tiny: Dataset) -> None:
    page = explorer_html(trained_ae.checkpoint, tiny, grid=6)
    assert "/*@" not in page, "a placeholder was left in the page"
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page, re.I), "the page loads a file"
    assert "Plotly" in page and "AelabDecoder" in page
    assert "AelabPlane" in page and PLANE_JS.read_text(encoding="utf-8") in page, "the app's plane module, inlined"
    data = _inline_data(page)
    assert data["grid"] == 6 and data["latent_dim"] == 2
    plane = data["plane"]
    assert [t["name"] for t in plane["traces"]] == list(tiny.label_names)
    assert sum(len(decode_array(t["index"])) for t in plane["traces"]) == len(tiny)
    assert plane["decoder"]["plane_map"] is not None
    assert len(plane["panel"]["sliders"]) == 2 and plane["panel"]["spacing"] > 0
    assert data["texts"]["zh"]["far"].startswith("远离") and data["texts"]["en"]["far"].startswith("far from")
    assert "简体中文" in page and "解码器" in page and "decoder" in page


def test_explorer_escapes_hostile_label_names(trained_ae: TrainedModel, tiny: Dataset) -> None:
    names = ["</script><script>alert(1)</script>", "<!--", "b", "c"]
    hostile = make_dataset("hostile", tiny.images, tiny.labels, names)
    page = explorer_html(trained_ae.checkpoint, hostile, grid=4)
    # Only the page's own four script elements close: a name cannot end one early.
    assert page.lower().count("</script") == 4
    assert page.count("<!--") == explorer_html(trained_ae.checkpoint, tiny, grid=4).count("<!--")
    assert [t["name"] for t in _inline_data(page)["plane"]["traces"]] == names


def test_explorer_refuses_a_dataset_of_another_shape(trained_ae: TrainedModel, tiny28: Dataset) -> None:
    with pytest.raises(UnsupportedFile, match=r"\(1, 8, 8\).*\(1, 28, 28\)"):
        explorer_data(trained_ae.checkpoint, tiny28)


def test_cli_export_html(trained_ae: TrainedModel, tmp_path, capsys) -> None:
    from aelab.cli import main

    checkpoint = trained_ae.checkpoint.save(tmp_path / "tiny.safetensors")
    missing = main(["export-html", str(checkpoint), "--dataset", "no-such-data", "--out", str(tmp_path / "x.html")])
    assert missing == 2 and "unknown dataset 'no-such-data'" in capsys.readouterr().err

    out = tmp_path / "explorer.html"
    assert main(["export-html", str(checkpoint), "--dataset", "mnist5k", "--out", str(out)]) == 2
    assert "(1, 8, 8), but mnist5k has (1, 28, 28)" in capsys.readouterr().err
    assert not out.exists()

    paths = [p for p in pretrained_paths() if p.name.startswith("digits-")]
    if not paths:
        pytest.skip("no shipped digits checkpoint")
    assert main(["export-html", str(paths[0]), "--grid", "5", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert _inline_data(out.read_text(encoding="utf-8"))["grid"] == 5
