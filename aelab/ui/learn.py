"""The Learn page: a short lesson on autoencoders, with two live pieces wired to the sidebar's model.

Written to be projected in a classroom: why reduce dimension, encoder φ and decoder ψ, the loss, one
hidden layer, what autoencoders are used for, how they relate to PCA, and style apart from class (the
conditional VAE). The live pieces: a denoising demo (noise slider → noisy digits → reconstructions), PCA
versus the autoencoder on the same digits, the latent axes, and, for a conditional model, the analogies.
A conditional model is told each example's own label.
"""

from __future__ import annotations

import numpy as np
import plotly.express as px
import streamlit as st
import torch

from aelab.baselines import reconstruction_mse
from aelab.checkpoint import Checkpoint
from aelab.data import Dataset
from aelab.imaging import png_bytes, tile
from aelab.latent import analogies, axis_traversal, encode_images, factor_correlations, reconstruct
from aelab.models import Autoencoder, corrupt
from aelab.ui import cache
from aelab.ui.i18n import t
from aelab.ui.state import ModelEntry, current

NOISE_SEED = 0
MAX_AXES = 4  # traversal rows shown; codes with more dimensions show their first four axes


def pick_examples(dataset: Dataset, classes: list[int], seed: int) -> np.ndarray:
    """One test image per chosen class, drawn with ``seed``: (len(classes), C, H, W)."""
    rng = np.random.default_rng(seed)
    labels = dataset.test_labels
    index = [int(rng.choice(np.flatnonzero(labels == k))) for k in classes if np.any(labels == k)]
    return np.array(dataset.test_images[index])


def _row_png(images: np.ndarray) -> bytes:
    """A row of images as one PNG (pixels repeated first, so they stay crisp when projected)."""
    return png_bytes(tile(images, columns=len(images)), max(1, 64 // images.shape[-1]))


def _row(png: bytes, caption: str) -> None:
    """A row's PNG (:func:`_row_png`) as wide as its column."""
    st.image(png, caption=caption, width="stretch")


# The live pieces are the same for every student with the same model and choices: each is computed and
# encoded once per server (a visit decoded with torch and encoded PNGs: ~75 ms of CPU, BENCHMARKS.md issue 18).
# Keyed by the model's entry id, the dataset and every choice that `_clean` / the images depend on.


@cache.shared_memo(max_entries=64)
def _denoised_rows(
    entry_id: str,
    dataset_name: str,
    picked: tuple,
    noise: float,
    _model: Autoencoder,
    _clean: np.ndarray,
    _labels: np.ndarray,
) -> tuple[bytes, bytes, bytes, float, float]:
    """(clean, noisy, denoised PNG rows, noisy MSE, denoised MSE) for the picked examples (classes, seed),
    whose labels a conditional model is told."""
    generator = torch.Generator().manual_seed(NOISE_SEED)
    noisy = corrupt(torch.from_numpy(_clean), noise, generator).numpy()
    denoised = reconstruct(_model, noisy, _labels)
    mse_noisy, mse_denoised = reconstruction_mse(_clean, noisy), reconstruction_mse(_clean, denoised)
    return _row_png(_clean), _row_png(noisy), _row_png(denoised), mse_noisy, mse_denoised


@cache.shared_memo(max_entries=64)
def _versus_rows(
    entry_id: str,
    dataset_name: str,
    picked: tuple,
    k: int,
    _model: Autoencoder,
    _clean: np.ndarray,
    _labels: np.ndarray,
) -> tuple[bytes, bytes, bytes, float, float]:
    """(originals, PCA(k), model PNG rows, PCA MSE, model MSE) for the picked examples (classes, seed)."""
    pca = cache.pca(dataset_name, k)
    by_pca = pca.inverse_transform(pca.transform(_clean))
    by_model = reconstruct(_model, _clean, _labels)
    mse_pca, mse_model = reconstruction_mse(_clean, by_pca), reconstruction_mse(_clean, by_model)
    return _row_png(_clean), _row_png(by_pca), _row_png(by_model), mse_pca, mse_model


@cache.shared_memo(max_entries=16)
def _axis_rows(entry_id: str, _checkpoint: Checkpoint, label: int) -> list[bytes]:
    """The PNG row of each traversed axis (the first MAX_AXES) over the checkpoint's latent bounds (drawn as
    ``label`` by a conditional model; ignored by the others)."""
    model, bounds = _checkpoint.model, _checkpoint.latent_bounds
    axes = range(min(MAX_AXES, model.config.latent_dim))
    told = label if model.conditional else None
    return [_row_png(axis_traversal(model, bounds, axis, steps=11, label=told)[1]) for axis in axes]


@cache.shared_memo(max_entries=16)
def _analogy_rows(
    entry_id: str, dataset_name: str, picked: tuple, _model: Autoencoder, _clean: np.ndarray, _labels: np.ndarray
) -> list[bytes]:
    """Per example, a PNG row: the example, then its code (told its own label) decoded under every label."""
    rows = analogies(_model, encode_images(_model, _clean, _labels))
    return [_row_png(np.concatenate([example[None], row])) for example, row in zip(_clean, rows, strict=True)]


def _lesson() -> None:
    st.subheader(t("learn.why.h"))
    st.write(t("learn.why"))
    st.subheader(t("learn.parts.h"))
    st.write(t("learn.parts"))
    st.latex(
        r"z = \varphi(x) \in \mathbb{R}^d, \qquad x' = \psi(z), \qquad "
        r"\mathcal{L}(\varphi, \psi) = \frac{1}{N} \sum_{i=1}^{N} \lVert x_i - \psi(\varphi(x_i)) \rVert^2"
    )
    st.write(t("learn.bottleneck"))
    st.subheader(t("learn.layer.h"))
    st.write(t("learn.layer"))
    st.latex(r"z = \sigma(W x + b), \qquad x' = \sigma'(W' z + b')")
    st.write(t("learn.layer_more"))
    st.subheader(t("learn.uses.h"))
    st.markdown(t("learn.uses"))
    st.latex(
        r"\text{denoising: } \lVert x - \psi(\varphi(\tilde{x})) \rVert^2, \quad \tilde{x} = x + \varepsilon, "
        r"\qquad \text{VAE: } \mathcal{L} = \text{reconstruction} + \beta \, \mathrm{KL}\big(q(z \mid x) \,\Vert\, \mathcal{N}(0, I)\big)"
    )
    st.subheader(t("learn.pca.h"))
    st.write(t("learn.pca"))
    st.subheader(t("learn.cvae.h"))
    st.write(t("learn.cvae"))
    st.latex(
        r"z = \varphi(x, y), \qquad x' = \psi(z, y), \qquad \mathcal{L} = \text{reconstruction}"
        r" + \beta \, \mathrm{KL}\big(q(z \mid x, y) \,\Vert\, \mathcal{N}(0, I)\big)"
    )
    st.write(t("learn.cvae_more"))


def _denoising(dataset: Dataset, entry: ModelEntry, clean: np.ndarray, labels: np.ndarray, picked: tuple) -> None:
    st.markdown(f"#### {t('learn.denoise.h')}")
    noise = st.slider(t("learn.noise"), 0.0, 1.0, 0.3, 0.05, key="learn.noise")
    rows = _denoised_rows(entry.id, dataset.name, picked, float(noise), entry.checkpoint.model, clean, labels)
    clean_png, noisy_png, denoised_png, mse_noisy, mse_denoised = rows
    _row(clean_png, t("learn.clean"))
    _row(noisy_png, t("learn.noisy", mse=mse_noisy))
    _row(denoised_png, t("learn.denoised", mse=mse_denoised))
    if not entry.checkpoint.model.denoises:
        st.caption(t("learn.not_dae"))


def _versus(dataset: Dataset, entry: ModelEntry, clean: np.ndarray, labels: np.ndarray, picked: tuple) -> None:
    st.markdown(f"#### {t('learn.versus.h')}")
    d = entry.checkpoint.model.config.latent_dim
    k = st.select_slider(
        t("learn.components"),
        (1, 2, 3, 5, 10, 20),
        value=2,
        key="learn.components",
        help=t("learn.components_help", d=d),
    )
    rows = _versus_rows(entry.id, dataset.name, picked, int(k), entry.checkpoint.model, clean, labels)
    clean_png, pca_png, model_png, mse_pca, mse_model = rows
    _row(clean_png, t("learn.originals"))
    _row(pca_png, t("learn.pca_recon", k=k, mse=mse_pca))
    _row(model_png, t("learn.ae_recon", d=d, mse=mse_model))
    st.caption(t("learn.versus_note"))


def _axes(dataset: Dataset, entry: ModelEntry, label: int) -> None:
    st.markdown(f"#### {t('learn.axes.h')}")
    st.write(t("learn.axes"))
    model = entry.checkpoint.model
    bounds = entry.checkpoint.latent_bounds
    for axis, png in enumerate(_axis_rows(entry.id, entry.checkpoint, label)):  # a conditional model: as `label`
        _row(png, t("learn.axis_row", axis=_axis_name(axis), low=bounds[axis, 0], high=bounds[axis, 1]))
    if not dataset.factors:
        st.info(t("learn.no_factors"), icon=":material/lightbulb:")
        return
    st.write(t("learn.factors"))
    correlations = factor_correlations(cache.codes(entry.id, entry.checkpoint, dataset.name), dataset.factors)
    names = list(correlations)
    figure = px.imshow(
        np.array([correlations[n] for n in names]),
        x=[_axis_name(i) for i in range(model.config.latent_dim)],
        y=names,
        zmin=0,
        zmax=1,
        text_auto=".2f",
        color_continuous_scale="Blues",
        aspect="auto",
        labels={"x": t("learn.axis"), "y": t("learn.factor"), "color": "|ρ|"},
    )
    figure.update_layout(height=80 + 40 * len(names), margin=dict(l=10, r=10, t=10, b=10))
    st.plotly_chart(figure, key="learn.factors_chart")


def _axis_name(axis: int) -> str:
    """z₁, z₂, … for axis 0, 1, …"""
    return "z" + str(axis + 1).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _live() -> None:
    st.subheader(t("learn.live.h"))
    now = current()
    dataset, entry = now.dataset, now.entry
    if entry is None:
        st.info(t("learn.no_model", dataset=dataset.title))
        return
    st.caption(t("learn.model", title=entry.title))
    names = list(dataset.label_names)
    picks, again = st.columns([4, 1], vertical_alignment="bottom")
    chosen = picks.multiselect(t("learn.pick"), names, default=names[: min(6, len(names))], key="learn.digits")
    seed = again.number_input(t("learn.examples"), 0, 10_000, 0, key="learn.seed")
    classes = [names.index(name) for name in chosen] or [0]
    clean = pick_examples(dataset, classes, int(seed))
    labels = np.array([k for k in classes if np.any(dataset.test_labels == k)])  # pick_examples' order
    picked = (tuple(classes), int(seed))  # what `clean` is made of, for the caches' keys
    denoise, versus = st.columns(2, gap="large")
    with denoise:
        _denoising(dataset, entry, clean, labels, picked)
    with versus:
        _versus(dataset, entry, clean, labels, picked)
    _axes(dataset, entry, int(labels[0]))
    _analogies(dataset, entry, clean, labels, picked)


def _analogies(dataset: Dataset, entry: ModelEntry, clean: np.ndarray, labels: np.ndarray, picked: tuple) -> None:
    """Each example's code (told its own label) decoded under every label: one row per example."""
    st.markdown(f"#### {t('learn.analogies.h')}")
    model = entry.checkpoint.model
    if not model.conditional:
        st.info(t("learn.analogies_other"), icon=":material/lightbulb:")
        return
    caption = t("learn.analogies_row", names=", ".join(dataset.label_names))
    for png in _analogy_rows(entry.id, dataset.name, picked, model, clean, labels):
        _row(png, caption)


def render() -> None:
    """The Learn page."""
    st.header(t("learn.title"))
    _lesson()
    st.divider()
    _live()
