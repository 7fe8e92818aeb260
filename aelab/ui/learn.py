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
from aelab.data import Dataset
from aelab.imaging import png_bytes, tile
from aelab.latent import analogies, axis_traversal, encode_images, factor_correlations, reconstruct
from aelab.models import corrupt
from aelab.ui import cache
from aelab.ui.i18n import t
from aelab.ui.state import ModelEntry, current

NOISE_SEED = 0


def pick_examples(dataset: Dataset, classes: list[int], seed: int) -> np.ndarray:
    """One test image per chosen class, drawn with ``seed``: (len(classes), C, H, W)."""
    rng = np.random.default_rng(seed)
    labels = dataset.test_labels
    index = [int(rng.choice(np.flatnonzero(labels == k))) for k in classes if np.any(labels == k)]
    return np.array(dataset.test_images[index])


def _row(images: np.ndarray, caption: str) -> None:
    """A row of images as wide as its column (pixels repeated first, so they stay crisp when projected)."""
    scale = max(1, 64 // images.shape[-1])
    st.image(png_bytes(tile(images, columns=len(images)), scale), caption=caption, width="stretch")


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


def _denoising(dataset: Dataset, entry: ModelEntry, clean: np.ndarray, labels: np.ndarray) -> None:
    st.markdown(f"#### {t('learn.denoise.h')}")
    noise = st.slider(t("learn.noise"), 0.0, 1.0, 0.3, 0.05, key="learn.noise")
    generator = torch.Generator().manual_seed(NOISE_SEED)
    noisy = corrupt(torch.from_numpy(clean), noise, generator).numpy()
    denoised = reconstruct(entry.checkpoint.model, noisy, labels)
    _row(clean, t("learn.clean"))
    _row(noisy, t("learn.noisy", mse=reconstruction_mse(clean, noisy)))
    _row(denoised, t("learn.denoised", mse=reconstruction_mse(clean, denoised)))
    if not entry.checkpoint.model.denoises:
        st.caption(t("learn.not_dae"))


def _versus(dataset: Dataset, entry: ModelEntry, clean: np.ndarray, labels: np.ndarray) -> None:
    st.markdown(f"#### {t('learn.versus.h')}")
    d = entry.checkpoint.model.config.latent_dim
    k = st.select_slider(
        t("learn.components"),
        (1, 2, 3, 5, 10, 20),
        value=2,
        key="learn.components",
        help=t("learn.components_help", d=d),
    )
    pca = cache.pca(dataset.name, k)
    by_pca = pca.inverse_transform(pca.transform(clean))
    by_model = reconstruct(entry.checkpoint.model, clean, labels)
    _row(clean, t("learn.originals"))
    _row(by_pca, t("learn.pca_recon", k=k, mse=reconstruction_mse(clean, by_pca)))
    _row(by_model, t("learn.ae_recon", d=d, mse=reconstruction_mse(clean, by_model)))
    st.caption(t("learn.versus_note"))


MAX_AXES = 4  # traversal rows shown; codes with more dimensions show their first four axes


def _axes(dataset: Dataset, entry: ModelEntry, label: int) -> None:
    st.markdown(f"#### {t('learn.axes.h')}")
    st.write(t("learn.axes"))
    model = entry.checkpoint.model
    bounds = entry.checkpoint.latent_bounds
    for axis in range(min(MAX_AXES, model.config.latent_dim)):
        _, images = axis_traversal(model, bounds, axis, steps=11, label=label)  # a conditional model: as `label`
        _row(images, t("learn.axis_row", axis=_axis_name(axis), low=bounds[axis, 0], high=bounds[axis, 1]))
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
    denoise, versus = st.columns(2, gap="large")
    with denoise:
        _denoising(dataset, entry, clean, labels)
    with versus:
        _versus(dataset, entry, clean, labels)
    _axes(dataset, entry, int(labels[0]))
    _analogies(dataset, entry, clean, labels)


def _analogies(dataset: Dataset, entry: ModelEntry, clean: np.ndarray, labels: np.ndarray) -> None:
    """Each example's code (told its own label) decoded under every label: one row per example."""
    st.markdown(f"#### {t('learn.analogies.h')}")
    model = entry.checkpoint.model
    if not model.conditional:
        st.info(t("learn.analogies_other"), icon=":material/lightbulb:")
        return
    rows = analogies(model, encode_images(model, clean, labels))
    names = ", ".join(dataset.label_names)
    for example, row in zip(clean, rows):
        _row(np.concatenate([example[None], row]), t("learn.analogies_row", names=names))


def render() -> None:
    """The Learn page."""
    st.header(t("learn.title"))
    _lesson()
    st.divider()
    _live()
