"""The Compare page: the same test images placed in a plane by PCA, by the autoencoder and by UMAP.

Planes side by side, coloured alike: PCA(2), the chosen model, the shipped UMAP-structured autoencoder
where the dataset has one (and it is not the chosen model), the shipped VAE beside a conditional VAE (or
the conditional VAE beside a VAE: told the label, its codes no longer hold the class), UMAP. A click in any of them decodes that point
through the method's own way back to pixels (PCA's linear inverse, the decoder ψ, UMAP's interpolating
inverse). Below, one
table of the shared metrics (:mod:`aelab.baselines`): test reconstruction MSE, 5-NN accuracy of the codes,
fit time. Everything expensive is cached in :mod:`aelab.ui.cache`: fits and metrics per dataset, model
metrics per model.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import streamlit as st

from aelab.latent import plane_bounds, point_picture
from aelab.models import UMAPAutoencoder
from aelab.ui import cache
from aelab.ui.i18n import t
from aelab.ui.plane import latent_plane
from aelab.ui.state import ModelEntry, pretrained_entries, require_model
from aelab.ui.widgets import metrics_table, show_image

PLANE_HEIGHT = 400
MAX_PER_ROW = 4  # planes side by side in one row
PICTURE_WIDTH = 140  # px of a decoded point's image


def structured_entry(dataset_name: str, chosen: ModelEntry) -> ModelEntry | None:
    """The shipped UMAP-structured autoencoder for a dataset, shown beside the chosen model; None when no such
    file ships (or passes its check) or when it is the chosen model already."""
    return next(
        (
            e
            for e in pretrained_entries(dataset_name)
            if isinstance(e.checkpoint.model, UMAPAutoencoder) and e.id != chosen.id
        ),
        None,
    )


def label_partner(dataset_name: str, chosen: ModelEntry) -> ModelEntry | None:
    """The shipped model that shows what telling the label changes: for a conditional model, the dataset's
    VAE (a prior, no label); for a VAE, the conditional one. None for other kinds or when none ships."""
    model = chosen.checkpoint.model
    if not (model.conditional or model.has_prior):
        return None
    wanted = lambda m: m.has_prior and m.conditional != model.conditional  # noqa: E731
    return next((e for e in pretrained_entries(dataset_name) if wanted(e.checkpoint.model)), None)


@st.fragment
def _plane_column(method: str, dataset_name: str, entry: ModelEntry | None) -> None:
    """One method's plane and the image decoded at its last click; a click reruns only this column."""
    dataset = cache.dataset(dataset_name)
    if method == "model":
        assert entry is not None  # a "model" panel always carries its entry
        codes = cache.codes(entry.id, entry.checkpoint, dataset_name)
        # The same plane as Explore's (PCA of the codes for d > 2), so a model looks alike on both pages.
        plane_map = cache.plane_map(entry.id, dataset_name, "pca", codes)
        points = plane_map.to_plane(codes[dataset.test_idx])
        key = f"compare.plane.model.{entry.id}"
    else:
        if method == "umap":
            with st.spinner(t("compare.embedding_umap"), show_time=True):
                points = cache.embedding_test_codes(dataset_name, method)
        else:
            points = cache.embedding_test_codes(dataset_name, method)
        key = f"compare.plane.{method}.{dataset_name}"
    bounds = plane_bounds(points)
    clicked = latent_plane(points, dataset.test_labels, dataset.label_names, bounds, key=key, height=PLANE_HEIGHT)
    if clicked is None:
        st.caption(t("compare.click_hint"))
        return
    x, y = clicked
    caption = t("compare.decoded", x=x, y=y)
    if method == "model":
        assert entry is not None
        z = plane_map.to_latent(np.array([[x, y]], dtype=np.float32))[0]
        model = entry.checkpoint.model  # a conditional model draws the code under every label, in a row
        width = PICTURE_WIDTH * (2 if model.conditional else 1)
        show_image(point_picture(model, z), width, caption)
    elif method == "umap":
        with st.spinner(t("compare.decoding_umap"), show_time=True):
            show_image(cache.embedding_decode(dataset_name, method, x, y), PICTURE_WIDTH, caption)
    else:
        show_image(cache.embedding_decode(dataset_name, method, x, y), PICTURE_WIDTH, caption)


def render() -> None:
    """The Compare page."""
    now = require_model()
    dataset, entry = now.dataset, now.entry
    assert entry is not None  # require_model stops the page when there is no model
    st.header(t("compare.title"))
    st.caption(t("compare.intro", dataset=dataset.title))
    structured = structured_entry(dataset.name, entry)
    # (method, model entry for "model", title, note): PCA, the chosen model, the shipped model told the label
    # or not (beside it), the shipped UMAP-AE, UMAP.
    panels = [
        ("pca", None, t("compare.pca"), t("compare.pca_note")),
        ("model", entry, t("compare.model"), t("compare.model_note", title=entry.title)),
    ]
    partner = label_partner(dataset.name, entry)
    if partner is not None:
        told = partner.checkpoint.model.conditional
        note = t("compare.told_note" if told else "compare.untold_note", title=partner.title)
        panels.append(("model", partner, t("compare.told" if told else "compare.untold"), note))
    if structured is not None:
        panels.append(
            ("model", structured, t("compare.structured"), t("compare.structured_note", title=structured.title))
        )
    panels.append(("umap", None, t("compare.umap"), t("compare.umap_note")))
    # Up to four planes side by side; more (a CVAE beside the VAE) in two rows of equal columns, so no plane
    # is squeezed under the width its legend and axes need.
    per_row = len(panels) if len(panels) <= MAX_PER_ROW else math.ceil(len(panels) / 2)
    columns = [c for first in range(0, len(panels), per_row) for c in st.columns(per_row, gap="medium")]
    for column, (method, model_entry, title, note) in zip(columns, panels):
        with column:
            st.subheader(title)
            st.caption(note)
            if model_entry is not None and model_entry.checkpoint.model.config.latent_dim > 2:
                st.caption(t("compare.model_dims", d=model_entry.checkpoint.model.config.latent_dim))
            if method == "umap":
                with st.spinner(t("compare.fitting_umap"), show_time=True):
                    cache.umap(dataset.name)
            _plane_column(method, dataset.name, model_entry)
    st.subheader(t("compare.metrics"))
    with st.spinner(t("compare.computing"), show_time=True):
        models = [e for e in (entry, partner, structured) if e is not None]
        rows = [
            replace(cache.embedding_metrics(dataset.name, "pca"), method=t("compare.pca")),
            *(replace(cache.model_metrics(e.id, e.checkpoint, dataset.name), method=e.title) for e in models),
            replace(cache.embedding_metrics(dataset.name, "umap"), method=t("compare.umap")),
        ]
    st.dataframe(metrics_table(rows), hide_index=True)
    st.caption(t("compare.metrics_note", n=cache.UMAP_RECONSTRUCT_LIMIT))
