"""The Compare page: the same test images placed in a plane by PCA, by the autoencoder and by UMAP.

Planes side by side, coloured alike: PCA(2), the chosen model, the shipped UMAP-structured autoencoder
where the dataset has one (and it is not the chosen model), UMAP. A click in any of them decodes that point
through the method's own way back to pixels (PCA's linear inverse, the decoder ψ, UMAP's interpolating
inverse). Below, one
table of the shared metrics (:mod:`aelab.baselines`): test reconstruction MSE, 5-NN accuracy of the codes,
fit time. Everything expensive is cached: fits and metrics per dataset, model metrics per model.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from aelab.baselines import Metrics, evaluate_embedding, evaluate_model
from aelab.checkpoint import Checkpoint
from aelab.latent import decode_point, plane_bounds
from aelab.models import UMAPAutoencoder
from aelab.ui import cache
from aelab.ui.i18n import register, t
from aelab.ui.plane import latent_plane
from aelab.ui.state import ModelEntry, pretrained_entries, require_model
from aelab.ui.widgets import metrics_table, show_image

register(
    {
        "compare.title": ("PCA, autoencoder and UMAP side by side", "PCA、自编码器与 UMAP 并排比较"),
        "compare.intro": (
            "The same test images of {dataset}, placed in a plane by each method; the colours are the classes. "
            "Click anywhere in a plane to decode that point with the method's own way back to an image.",
            "{dataset} 的同一批测试图像，分别由各方法放到平面上；颜色表示类别。"
            "点击平面上任意位置，用该方法自己的逆映射把这个点还原成图像。",
        ),
        "compare.pca": ("PCA (2 components)", "PCA（2 个主成分）"),
        "compare.pca_note": (
            "Linear: the best 2-D linear projection; its inverse maps a point back onto a plane of images.",
            "线性：最优的二维线性投影；其逆映射把点映回图像空间中的一个平面。",
        ),
        "compare.model": ("Autoencoder", "自编码器"),
        "compare.model_note": (
            "{title}. Non-linear, learned: the encoder φ places the images and the decoder ψ draws any point.",
            "{title}。非线性、可学习：编码器 φ 放置图像，解码器 ψ 可以画出任意一点。",
        ),
        "compare.model_dims": (
            "The model has {d} latent dimensions: the plane shows their PCA, as Explore does, and a click decodes "
            "the projection's inverse of that spot.",
            "该模型有 {d} 个潜在维度：平面与“探索”页一样显示其 PCA，点击会解码该位置经投影逆变换得到的编码。",
        ),
        "compare.structured": ("UMAP-structured autoencoder", "UMAP 结构自编码器"),
        "compare.structured_note": (
            "{title}. Trained on the reconstruction error plus UMAP's neighbour-graph term, which pulls neighbours "
            "together and pushes the rest apart as UMAP does: the classes separate more clearly than in a plain "
            "autoencoder's plane, and the decoder still draws any point at once.",
            "{title}。以重建误差加上 UMAP 邻居图项训练，该项像 UMAP 一样把近邻拉近、把其余推开：类别比普通自编码器的平面"
            "分得更清楚，而解码器仍能立刻画出任意一点。",
        ),
        "compare.umap": ("UMAP", "UMAP"),
        "compare.umap_note": (
            "Non-linear, neighbour-preserving; its inverse interpolates between training images and is slow.",
            "非线性，保持近邻关系；其逆映射在训练图像之间插值，速度较慢。",
        ),
        "compare.fitting_umap": (
            "Fitting UMAP on the training split (the first time also compiles numba code: up to a minute)…",
            "正在训练集上拟合 UMAP（首次还需编译 numba 代码：最多约一分钟）…",
        ),
        "compare.embedding_umap": ("Placing the test images with UMAP…", "正在用 UMAP 放置测试图像…"),
        "compare.decoding_umap": (
            "Decoding with UMAP's inverse (it interpolates between training images: a few seconds)…",
            "正在用 UMAP 的逆映射解码（在训练图像之间插值：需要几秒钟）…",
        ),
        "compare.click_hint": ("Click in the plane to decode a point.", "点击平面以解码一个点。"),
        "compare.decoded": ("Decoded at ({x:.2f}, {y:.2f})", "在 ({x:.2f}, {y:.2f}) 处解码"),
        "compare.metrics": ("Metrics on the test split", "测试集上的指标"),
        "compare.computing": ("Measuring each method on the test split…", "正在测试集上评估各方法…"),
        "compare.metrics_note": (
            "Reconstruction MSE: mean squared error per pixel between test images and their reconstructions "
            "(UMAP: the first {n} test images, its inverse is slow). 5-NN accuracy: share of test codes whose 5 "
            "nearest training codes vote for the right class. Fit time: seconds to fit or train (for the "
            "autoencoder, as recorded in its checkpoint).",
            "重建 MSE：测试图像与其重建之间每个像素的均方误差（UMAP 只用前 {n} 张测试图像，因其逆映射很慢）。"
            "5-近邻准确率：测试编码的 5 个最近训练编码投票给正确类别的比例。拟合时间：拟合或训练所用秒数"
            "（自编码器取其检查点中记录的值）。",
        ),
    }
)

# UMAP's inverse_transform takes tens to hundreds of ms an image: its MSE is measured on this many test images.
UMAP_RECONSTRUCT_LIMIT = 50
PLANE_HEIGHT = 400
PICTURE_WIDTH = 140  # px of a decoded point's image


def _embedding(dataset_name: str, method: str):
    return cache.pca(dataset_name, 2) if method == "pca" else cache.umap(dataset_name)


@st.cache_data(show_spinner=False, max_entries=16)
def embedding_metrics(dataset_name: str, method: str) -> Metrics:
    """Metrics of PCA(2) (``method="pca"``) or UMAP (``"umap"``) on the dataset's test split."""
    limit = UMAP_RECONSTRUCT_LIMIT if method == "umap" else None
    return evaluate_embedding(_embedding(dataset_name, method), cache.dataset(dataset_name), reconstruct_limit=limit)


@st.cache_data(show_spinner=False, max_entries=32)
def model_metrics(entry_id: str, _checkpoint: Checkpoint, dataset_name: str) -> Metrics:
    """Metrics of a model on the dataset's test split, keyed by its entry id; fit time from its header."""
    seconds = _checkpoint.training.get("seconds")
    return evaluate_model(_checkpoint.model, cache.dataset(dataset_name), fit_seconds=seconds)


@st.cache_data(show_spinner=False, max_entries=16)
def embedding_test_codes(dataset_name: str, method: str) -> np.ndarray:
    """(N_test, 2) codes of the dataset's test images under PCA(2) or UMAP."""
    return _embedding(dataset_name, method).transform(cache.dataset(dataset_name).test_images)


@st.cache_data(show_spinner=False, max_entries=256)
def embedding_decode(dataset_name: str, method: str, x: float, y: float) -> np.ndarray:
    """The image (C, H, W) that PCA's or UMAP's inverse map gives the point (x, y)."""
    return _embedding(dataset_name, method).inverse_transform(np.array([[x, y]], dtype=np.float32))[0]


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
                points = embedding_test_codes(dataset_name, method)
        else:
            points = embedding_test_codes(dataset_name, method)
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
        show_image(decode_point(entry.checkpoint.model, z), PICTURE_WIDTH, caption)
    elif method == "umap":
        with st.spinner(t("compare.decoding_umap"), show_time=True):
            show_image(embedding_decode(dataset_name, method, x, y), PICTURE_WIDTH, caption)
    else:
        show_image(embedding_decode(dataset_name, method, x, y), PICTURE_WIDTH, caption)


def render() -> None:
    """The Compare page."""
    now = require_model()
    dataset, entry = now.dataset, now.entry
    assert entry is not None  # require_model stops the page when there is no model
    st.header(t("compare.title"))
    st.caption(t("compare.intro", dataset=dataset.title))
    structured = structured_entry(dataset.name, entry)
    # (method, model entry for "model", title, note): PCA, the chosen model, the shipped UMAP-AE, UMAP.
    panels = [
        ("pca", None, t("compare.pca"), t("compare.pca_note")),
        ("model", entry, t("compare.model"), t("compare.model_note", title=entry.title)),
    ]
    if structured is not None:
        panels.append(
            ("model", structured, t("compare.structured"), t("compare.structured_note", title=structured.title))
        )
    panels.append(("umap", None, t("compare.umap"), t("compare.umap_note")))
    for column, (method, model_entry, title, note) in zip(st.columns(len(panels), gap="medium"), panels):
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
        models = [e for e in (entry, structured) if e is not None]
        rows = [
            replace(embedding_metrics(dataset.name, "pca"), method=t("compare.pca")),
            *(replace(model_metrics(e.id, e.checkpoint, dataset.name), method=e.title) for e in models),
            replace(embedding_metrics(dataset.name, "umap"), method=t("compare.umap")),
        ]
    st.dataframe(metrics_table(rows), hide_index=True)
    st.caption(t("compare.metrics_note", n=UMAP_RECONSTRUCT_LIMIT))
