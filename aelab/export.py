"""Decoders for the browser, and the single-file offline explorer.

A 2-D decoder is a few hundred thousand to a few million multiply-adds: a browser runs it in about a
millisecond, so the plane can decode under the pointer with no server round trip. This module turns a
trained decoder into a *decoder spec*, a JSON-ready dict of its layers with the weights as base64 float32
little-endian, which the plain-JavaScript forward pass in ``aelab/assets/decoder.js`` runs (the app's
plane widget and the exported HTML use the same file). The layer vocabulary is what aelab's decoders are
made of: ``linear``, ``relu``, ``sigmoid``, ``reshape``, ``conv_transpose2d``, ``crop``; so ``MLPDecoder``
(kinds ae, vae, dae, umap-ae) and ``ConvDecoder`` (conv) both export. A module outside that vocabulary
raises :class:`UnsupportedExport`, and callers decode on the server instead.

The spec can carry a *plane map*: the affine map from a plane point (x, y) to a code z (d,), ``z = [x, y] ·
matrix + offset``, which covers the identity (d = 2), the line (d = 1) and a PCA projection (d > 2). A
UMAP projection has no affine inverse, so it has no plane map.

``explorer_html`` writes one self-contained HTML page (plotly.js from the plotly package, decoder.js, the
plane module plane.js that the app's component uses too, and the data inlined; nothing fetched): the
label-coloured plane with the same click, cross drag, arrow keys, sliders and hover decoding as the app, the
interpolation's draggable ends A and B with the strip A → B, a manifold grid, and a short explanation in English
and Simplified Chinese. No Streamlit here.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import torch
from torch import nn

from aelab.checkpoint import Checkpoint, check_fits
from aelab.data import Dataset
from aelab.errors import AelabError
from aelab.latent import PlaneMap, default_ends, encode_images, fit_plane_map, plane_bounds
from aelab.models import Autoencoder
from aelab.panel_words import PANEL_WORDS
from aelab.plane import LABEL_COLORS, plane_css, plane_js, plane_payload, slider_specs, sprite_sheet  # noqa: F401

SPEC_FORMAT = "aelab-decoder"
SPEC_VERSION = 1
ASSETS = Path(__file__).resolve().parent / "assets"
DECODER_JS = ASSETS / "decoder.js"
EXPLORER_TEMPLATE = ASSETS / "explorer.html"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
EXPLORER_GRID = 15  # manifold grid side in the explorer
EXPLORER_STEPS = 8  # images in the explorer's interpolation strip A → B, as in the app


class UnsupportedExport(AelabError):
    """A decoder (or plane map) that the browser's forward pass cannot run; decode it on the server."""


def encode_floats(values: np.ndarray | torch.Tensor) -> dict[str, str]:
    """Any array, flattened in C order, as `{"dtype": "f4", "bdata": base64 of float32 little-endian}`."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    raw = np.ascontiguousarray(values, dtype="<f4").tobytes()
    return {"dtype": "f4", "bdata": base64.b64encode(raw).decode("ascii")}


def decode_floats(encoded: dict[str, str]) -> np.ndarray:
    """Inverse of `encode_floats`: a 1-D float32 array."""
    return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype="<f4")


# --- decoder -> layer list -----------------------------------------------------------------------------


def _pair(value: int | str | tuple[int, ...]) -> list[int]:
    if isinstance(value, str):  # padding="same" / "valid": not something the browser decoder runs
        raise UnsupportedExport(f"the browser decoder needs numeric padding; got {value!r}")
    return [int(value), int(value)] if isinstance(value, int) else [int(v) for v in value]


def _module_layers(module: nn.Module) -> list[dict[str, Any]]:
    """The layers of a Sequential / Linear / ReLU / ConvTranspose2d module, in order."""
    if isinstance(module, nn.Sequential):
        return [layer for child in module for layer in _module_layers(child)]
    if isinstance(module, nn.Linear):
        bias: torch.Tensor = module.bias if module.bias is not None else torch.zeros(module.out_features)
        return [
            {
                "op": "linear",
                "in": module.in_features,
                "out": module.out_features,
                "weight": encode_floats(module.weight),
                "bias": encode_floats(bias),
            }
        ]
    if isinstance(module, nn.ReLU):
        return [{"op": "relu"}]
    if isinstance(module, nn.ConvTranspose2d):
        plain = (
            module.groups == 1
            and _pair(module.dilation) == [1, 1]
            and _pair(module.output_padding) == [0, 0]
            and module.padding_mode == "zeros"
        )
        if not plain:
            raise UnsupportedExport(
                "the browser decoder runs transposed convolutions without groups, dilation or output padding"
            )
        return [_conv_layer("conv_transpose2d", module)]
    raise UnsupportedExport(f"the browser decoder cannot run a {type(module).__name__} layer")


def _conv_layer(op: str, module: nn.Conv2d | nn.ConvTranspose2d) -> dict[str, Any]:
    """A plain (checked by the caller) convolution or transposed convolution as a browser layer ``op``."""
    bias = module.bias if module.bias is not None else torch.zeros(module.out_channels)
    return {
        "op": op,
        "in": module.in_channels,
        "out": module.out_channels,
        "kernel": _pair(module.kernel_size),
        "stride": _pair(module.stride),
        "padding": _pair(module.padding),
        "weight": encode_floats(module.weight),
        "bias": encode_floats(bias),
    }


def decoder_layers(model: Autoencoder) -> list[dict[str, Any]]:
    """The browser layer list of ``model``'s decoder, code to image, from the plan its kind gives
    (:meth:`aelab.models.Autoencoder.decoder_plan`): modules converted, written-out operations kept."""
    try:
        plan = model.decoder_plan()
    except AttributeError:  # a decoder that does not describe itself
        raise UnsupportedExport(
            f"the browser cannot run a {type(model.decoder).__name__}; images are decoded on the server"
        ) from None
    return [layer for step in plan for layer in (_module_layers(step) if isinstance(step, nn.Module) else [step])]


def runs_in_browser(model: Autoencoder) -> bool:
    """Whether decoder.js can run ``model``'s decoder (the offline explorer needs it)."""
    try:
        decoder_layers(model)
    except UnsupportedExport:
        return False
    return True


def plane_map_affine(plane_map: PlaneMap, latent_dim: int) -> dict[str, list] | None:
    """The affine inverse of a plane map, `{"matrix": (2, d), "offset": (d,)}` as lists, or None (e.g. UMAP).

    A code is z = [x, y] · matrix + offset (:meth:`aelab.latent.PlaneMap.affine`).
    """
    parts = plane_map.affine()
    if parts is None or parts[0].shape != (2, latent_dim):
        return None
    components, mean = parts
    return {"matrix": components.tolist(), "offset": mean.tolist()}


def decoder_spec(model: Autoencoder, plane_map: PlaneMap | None = None) -> dict[str, Any]:
    """The browser form of ``model``'s decoder (see the module docstring), with ``plane_map``'s affine inverse.

    Keys: format, version, id (a hash of the layers: equal specs have equal ids), kind, latent_dim,
    classes (how many labels a conditional kind is told, one-hot after the code; 0 for the others),
    image_shape [C, H, W], plane_map (None when ``plane_map`` is None), layers. Raises UnsupportedExport
    for a decoder the browser cannot run, or a plane map with no affine inverse (UMAP).
    """
    config = model.config
    layers = decoder_layers(model)
    affine = None
    if plane_map is not None:
        affine = plane_map_affine(plane_map, config.latent_dim)
        if affine is None:
            raise UnsupportedExport(
                "this projection of the codes (e.g. UMAP) has no linear inverse the browser could apply; "
                "images are decoded on the server"
            )
    body = {
        "latent_dim": config.latent_dim,
        "classes": config.classes,
        "image_shape": list(config.image_shape),
        "plane_map": affine,
        "layers": layers,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return {"format": SPEC_FORMAT, "version": SPEC_VERSION, "id": digest, "kind": config.kind, **body}


def spec_decode(spec: dict[str, Any], codes: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """A NumPy reference of decoder.js's forward pass: codes (N, d) -> images (N, C, H, W) via torch ops.

    Used to check a spec's layer list alone (without node) against the model it came from. ``labels`` (N,):
    what a conditional decoder (``classes`` > 0) is told, appended one-hot to the codes as decoder.js does.
    """
    x = torch.as_tensor(np.asarray(codes, dtype=np.float32))
    if spec.get("classes"):
        told = torch.as_tensor(np.asarray(labels, dtype=np.int64))
        x = torch.cat([x, torch.nn.functional.one_hot(told, spec["classes"]).float()], dim=1)
    for layer in spec["layers"]:
        op = layer["op"]
        if op == "linear":
            weight = torch.from_numpy(decode_floats(layer["weight"]).reshape(layer["out"], layer["in"]).copy())
            x = torch.nn.functional.linear(x.flatten(1), weight, torch.from_numpy(decode_floats(layer["bias"]).copy()))
        elif op == "relu":
            x = torch.relu(x)
        elif op == "sigmoid":
            x = torch.sigmoid(x)
        elif op == "reshape":
            x = x.reshape(len(x), *layer["shape"])
        elif op == "conv_transpose2d":
            kernel = decode_floats(layer["weight"]).reshape(layer["in"], layer["out"], *layer["kernel"]).copy()
            x = torch.nn.functional.conv_transpose2d(
                x,
                torch.from_numpy(kernel),
                torch.from_numpy(decode_floats(layer["bias"]).copy()),
                stride=layer["stride"],
                padding=layer["padding"],
            )
        elif op == "crop":
            _, h, w = layer["shape"]
            x = x[:, :, :h, :w]
        else:
            raise UnsupportedExport(f"unknown layer op {op!r}")
    return x.reshape(len(x), *spec["image_shape"]).numpy()


def decoder_js() -> str:
    """The source of the JavaScript forward pass (a UMD-style script: browser, ES module or node)."""
    return DECODER_JS.read_text(encoding="utf-8")


# --- the offline explorer ------------------------------------------------------------------------------


def _script_safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element: every '<' escaped, so no '</script' or '<!--' can occur."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


# The explorer's words for the plane's panel, in both languages (the page switches between them): Explore's
# (aelab.panel_words), and "where" and "strip_hint", the explorer's own (no server, no steps control).
_EXPLORER_WORDS = {
    **PANEL_WORDS,
    "where": ("Decoded in this page, with no server.", "在本页面中解码，无需服务器。"),
    "strip_hint": (
        "Drag A or B on the plane: the strip is decoded again as they move.",
        "在平面上拖动 A 或 B：插值条会随之重新解码。",
    ),
}
EXPLORER_TEXTS = {
    language: {key: pair[column] for key, pair in _EXPLORER_WORDS.items()}
    for column, language in enumerate(("en", "zh"))
}


def explorer_data(checkpoint: Checkpoint, dataset: Dataset, *, grid: int = EXPLORER_GRID) -> dict[str, Any]:
    """What the explorer page draws: the plane (aelab.plane.plane_payload, decoder and sliders included),
    the panel's words in both languages, the manifold grid's size, titles, metrics.

    The dataset is encoded with the checkpoint's model (codes of d ≠ 2 are drawn through a PCA of the
    codes, or a line for d = 1). Raises UnsupportedFile when the dataset's images do not fit the model,
    UnsupportedExport when its decoder cannot run in a browser.
    """
    check_fits(checkpoint, dataset)
    model = checkpoint.model
    codes = encode_images(model, dataset.images, dataset.labels)  # a conditional model is told the labels
    plane_map = fit_plane_map(codes, "pca")
    spec = decoder_spec(model, plane_map)
    points = plane_map.to_plane(codes)
    a, b = default_ends(codes, dataset.labels)
    bounds = plane_bounds(points)
    if codes.shape[1] == 1:
        bounds[1] = (-1.0, 1.0)
    plane = plane_payload(
        points,
        dataset.labels,
        dataset.label_names,
        bounds,
        key="explorer",
        height=720,
        decoder=spec,
        sliders=slider_specs(codes),
        texts=EXPLORER_TEXTS["en"],
        sprite=sprite_sheet(dataset.images),
    )
    metrics = {k: float(v) for k, v in checkpoint.metrics.items() if isinstance(v, (int, float)) and math.isfinite(v)}
    return {
        "plane": plane,
        "texts": EXPLORER_TEXTS,
        "start": plane_map.to_plane(codes[:1])[0].tolist(),  # the first sample's code, as in the app
        # The interpolation's ends A and B, where the app starts them: the plane draws them and the strip A → B.
        "ends": {"a": a.tolist(), "b": b.tolist(), "steps": EXPLORER_STEPS},
        "grid": int(grid),
        "model": model.title,
        "kind": model.kind,
        "dataset": dataset.title or dataset.name,
        "latent_dim": int(codes.shape[1]),
        "metrics": metrics,
    }


def explorer_html(checkpoint: Checkpoint, dataset: Dataset, *, grid: int = EXPLORER_GRID) -> str:
    """One self-contained HTML page (plotly.js, decoder.js, plane.js and the data inlined; it fetches nothing)."""
    data = explorer_data(checkpoint, dataset, grid=grid)
    plotly_js = PLOTLY_JS.read_text(encoding="utf-8")
    parts = {
        "TITLE": html.escape(f"aelab · {data['model']} · {data['dataset']}"),
        "PLOTLY_JS": plotly_js,
        "DECODER_JS": decoder_js(),
        "PLANE_JS": plane_js(),
        "PLANE_CSS": plane_css(),
        "DATA": _script_safe_json(data),
    }
    if "</style" in parts["PLANE_CSS"].lower():
        raise AelabError("PLANE_CSS contains '</style' and cannot be inlined")
    for name in ("PLOTLY_JS", "DECODER_JS", "PLANE_JS"):
        if "</script" in parts[name].lower():
            raise AelabError(f"{name} contains '</script' and cannot be inlined")  # never so far; checked, not assumed
    template = EXPLORER_TEMPLATE.read_text(encoding="utf-8")
    # One pass, so nothing inside an inserted part is taken for a placeholder.
    return re.sub(r"/\*@(TITLE|PLOTLY_JS|DECODER_JS|PLANE_JS|PLANE_CSS|DATA)@\*/", lambda m: parts[m[1]], template)


def write_explorer(checkpoint: Checkpoint, dataset: Dataset, out: str | Path, *, grid: int = EXPLORER_GRID) -> Path:
    """Write `explorer_html` to ``out`` (parents created) and return its path."""
    path = Path(out)
    text = explorer_html(checkpoint, dataset, grid=grid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- encoders for the browser (the Draw page: a drawing's code while the pen moves) ---------------------
# Kept in one block of its own: the encoder's spec and layer list, beside the decoder's but sharing only
# encode_floats, _pair and _conv_layer. aelab/assets/encoder.js runs it; tests/test_draw_js.py checks it against torch.

ENCODER_FORMAT = "aelab-encoder"
ENCODER_JS = ASSETS / "encoder.js"


def _encoder_module_layers(module: nn.Module) -> list[dict[str, Any]]:
    """The layers of an encoder's Sequential / Flatten / Linear / ReLU / Conv2d / ConvEncoder, in order."""
    from aelab.models import ConvEncoder  # here, not at the top: keeps this block self-contained for merging

    if isinstance(module, ConvEncoder):
        return [*_encoder_module_layers(module.features), *_encoder_module_layers(module.head)]
    if isinstance(module, nn.Sequential):
        return [layer for child in module for layer in _encoder_module_layers(child)]
    if isinstance(module, nn.Flatten):
        return [{"op": "flatten"}]
    if isinstance(module, nn.Conv2d):
        plain = module.groups == 1 and _pair(module.dilation) == [1, 1] and module.padding_mode == "zeros"
        if not plain or isinstance(module.padding, str):
            raise UnsupportedExport("the browser encoder runs convolutions without groups, dilation or named padding")
        return [_conv_layer("conv2d", module)]
    if isinstance(module, (nn.Linear, nn.ReLU)):
        return _module_layers(module)
    raise UnsupportedExport(f"the browser encoder cannot run a {type(module).__name__} layer")


def encoder_spec(model: Autoencoder) -> dict[str, Any]:
    """The browser form of ``model``'s encoder φ: image (C, H, W) -> code (d,), every kind.

    Keys: format ("aelab-encoder"), version, id, kind, latent_dim, classes, image_shape, layers. A VAE's
    encoder head gives μ and log σ² side by side; a ``take`` layer keeps the first d numbers, μ, which is
    what ``encode`` returns. A conditional kind's plan has a ``condition`` layer, which appends the label
    one-hot to the flat image. Raises UnsupportedExport for a layer encoder.js does not know.
    """
    config = model.config
    plan = model.encoder_plan()
    layers = [
        layer for step in plan for layer in (_encoder_module_layers(step) if isinstance(step, nn.Module) else [step])
    ]
    widths = [layer["out"] for layer in layers if layer["op"] == "linear"]
    takes = [layer["count"] for layer in layers if layer["op"] == "take"]
    if (takes[-1] if takes else widths[-1] if widths else None) != config.latent_dim:
        raise UnsupportedExport(f"the encoder does not end in {config.latent_dim} numbers")
    body = {
        "latent_dim": config.latent_dim,
        "classes": config.classes,
        "image_shape": list(config.image_shape),
        "layers": layers,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return {"format": ENCODER_FORMAT, "version": SPEC_VERSION, "id": digest, "kind": config.kind, **body}


def encoder_js() -> str:
    """The source of the JavaScript encoder (UMD-style, like decoder.js)."""
    return ENCODER_JS.read_text(encoding="utf-8")
