"""The Draw page's JavaScript twins under node: encoder.js against PyTorch, preprocess.js against aelab.draw."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch
from test_draw import random_strokes

from aelab.checkpoint import load_checkpoint
from aelab.data import load_dataset
from aelab.draw import MNIST_CONVENTION, Convention, NoDigit, convention_for, preprocess, render_strokes
from aelab.export import ENCODER_JS, UnsupportedExport, encoder_spec
from aelab.latent import encode_images
from aelab.models import ModelConfig, build_model, kinds, model_class
from aelab.recipes import pretrained_paths

PREPROCESS_JS = ENCODER_JS.parent / "preprocess.js"
TOLERANCE = 1e-5  # per code coordinate
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed: the JavaScript twins cannot be run")

# Reads {"spec", "images": [[...C·H·W], ...]} on stdin, prints the codes as one JSON list of lists.
ENCODE_SCRIPT = """
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const encoder = require(process.argv[1]).load(input.spec);
process.stdout.write(JSON.stringify(input.images.map((x, i) => Array.from(encoder.encode(x, input.labels[i])))));
"""

# Reads {"drawings": [{strokes, h, w, pen}], "convention"} on stdin; prints, per drawing, its rendered ink's
# ink pixels (indices) and the preprocessed input (or the error).
PREPROCESS_SCRIPT = """
const P = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = input.drawings.map(({ strokes, h, w, pen }) => {
  const ink = P.renderStrokes(strokes, h, w, pen);
  const lit = [];
  for (let i = 0; i < ink.length; i++) if (ink[i] > 0) lit.push(i);
  const result = P.preprocess(ink, h, w, input.convention);
  return { lit, input: result.input ? Array.from(result.input) : null, error: result.error || null };
});
process.stdout.write(JSON.stringify(out));
"""


def run_node(script: str, module: str, payload: dict) -> object:
    result = subprocess.run([NODE, "-e", script, module], input=json.dumps(payload), capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def js_encode(spec: dict, images: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    told = [None] * len(images) if labels is None else np.asarray(labels).tolist()
    payload = {"spec": spec, "images": images.reshape(len(images), -1).tolist(), "labels": told}
    return np.array(run_node(ENCODE_SCRIPT, str(ENCODER_JS), payload), dtype=np.float64)


def tiny_model(kind: str, side: int, channels: int = 1, latent_dim: int = 2):
    classes = 3 if model_class(kind).conditional else 0
    config = ModelConfig(kind=kind, image_shape=(channels, side, side), latent_dim=latent_dim, hidden=(48, 24),
                         channels=(6, 12), classes=classes, seed=3)  # fmt: skip
    model = build_model(config)
    with torch.no_grad():  # wider weights than the default init: codes of varied sizes and signs
        for p in model.encoder.parameters():
            p.mul_(2.0)
    return model


def random_images(shape: tuple[int, ...], n: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (n, *shape)).astype(np.float32)


# --- encoder.js against PyTorch ------------------------------------------------------------------------


@needs_node
@pytest.mark.parametrize("side", [8, 28])
@pytest.mark.parametrize("kind", kinds())
def test_javascript_encoder_matches_pytorch(kind: str, side: int) -> None:
    model = tiny_model(kind, side)
    spec = json.loads(json.dumps(encoder_spec(model)))  # what the browser receives
    images = random_images((1, side, side))
    labels = np.arange(len(images)) % 3  # every kind is told; only the conditional ones listen
    expected = encode_images(model, images, labels)
    codes = js_encode(spec, images, labels)
    assert codes.shape == expected.shape == (10, 2)
    assert np.abs(codes - expected).max() <= TOLERANCE
    assert expected.std() > 0.01, "the comparison should cover varied codes"


@needs_node
def test_javascript_encoder_handles_colour_odd_sides_and_wider_codes() -> None:
    for kind in ("conv", "vae", "ae"):
        model = tiny_model(kind, 10, channels=3, latent_dim=5)
        images = random_images((3, 10, 10), n=6, seed=1)
        assert np.abs(js_encode(encoder_spec(model), images) - encode_images(model, images)).max() <= TOLERANCE


@needs_node
@pytest.mark.parametrize("name", ["mnist5k-umap-ae", "mnist5k-conv", "mnist5k-vae"])
def test_javascript_encoder_matches_a_shipped_checkpoint(name: str) -> None:
    paths = [p for p in pretrained_paths() if p.stem == name]
    if not paths:
        pytest.skip(f"{name} is not shipped in pretrained/")
    model = load_checkpoint(paths[0]).model
    images = load_dataset("mnist5k").test_images[:8]
    assert np.abs(js_encode(encoder_spec(model), images) - encode_images(model, images)).max() <= TOLERANCE


def test_a_vae_spec_takes_the_mean_and_an_unknown_layer_is_refused() -> None:
    spec = encoder_spec(tiny_model("vae", 8))
    assert spec["format"] == "aelab-encoder" and spec["layers"][-1] == {"op": "take", "count": 2}
    model = tiny_model("ae", 8)
    model.encoder.append(torch.nn.Tanh())
    with pytest.raises(UnsupportedExport, match="Tanh"):
        encoder_spec(model)


# --- preprocess.js against aelab.draw ------------------------------------------------------------------


def drawings(n: int, seed: int, canvas: tuple[int, int]) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        strokes = [np.round(s, 2) for s in random_strokes(rng, canvas)]
        out.append({"strokes": [s.tolist() for s in strokes], "h": canvas[0], "w": canvas[1],
                    "pen": round(float(rng.uniform(6, 34)), 2)})  # fmt: skip
    return out


@needs_node
@pytest.mark.parametrize(
    ("convention", "canvas"),
    [
        (MNIST_CONVENTION, (280, 280)),
        (Convention((8, 8), (8, 8), "box"), (240, 240)),
        (Convention((28, 28), (24, 24), "mass", 3), (200, 300)),
    ],
    ids=["mnist", "digits", "colour-wide-canvas"],
)
def test_javascript_preprocessing_matches_python_on_generated_strokes(convention: Convention, canvas) -> None:
    cases = drawings(150, seed=7, canvas=canvas)
    results = run_node(PREPROCESS_SCRIPT, str(PREPROCESS_JS), {"drawings": cases, "convention": convention.to_dict()})
    compared = 0
    worst = 0.0
    for case, js in zip(cases, results, strict=True):
        ink = render_strokes([np.array(s) for s in case["strokes"]], canvas, case["pen"])
        assert js["lit"] == np.flatnonzero(ink).tolist(), "both sides should rasterise the strokes identically"
        try:
            expected = preprocess(ink, convention)
        except NoDigit as error:
            assert js["error"] is not None and js["error"] in str(error).replace("single dot", "dot")
            continue
        got = np.array(js["input"], dtype=np.float32).reshape(expected.shape)
        worst = max(worst, float(np.abs(got - expected).max()))
        compared += 1
    print(f"preprocess.js vs aelab.draw: {compared} drawings, largest difference {worst:.2e}")
    assert compared >= 140
    assert worst <= 1 / 255, f"largest difference {worst:.2e} per pixel"


@needs_node
def test_javascript_preprocessing_refuses_an_empty_canvas_and_a_dot() -> None:
    cases = [{"strokes": [], "h": 280, "w": 280, "pen": 18}, {"strokes": [[[140, 140]]], "h": 280, "w": 280, "pen": 14}]
    results = run_node(
        PREPROCESS_SCRIPT, str(PREPROCESS_JS), {"drawings": cases, "convention": MNIST_CONVENTION.to_dict()}
    )
    assert [r["error"] for r in results] == ["empty", "dot"]


def test_conventions_serialise_for_the_browser() -> None:
    digits = convention_for(load_dataset("digits")).to_dict()
    assert digits == {"frame": [8, 8], "box": [8, 8], "centre": "box", "channels": 1, "ink_threshold": 0.1,
                      "min_extent": 0.16}  # fmt: skip
