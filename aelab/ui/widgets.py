"""Small layouts more than one page shows: the metrics table, crisp images and a row of captioned pictures.

A page that needs either imports it from here, not from another page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from aelab.baselines import Metrics
from aelab.imaging import crisp_png
from aelab.ui.i18n import t


def metrics_table(rows: Sequence[Metrics]) -> pd.DataFrame:
    """Metrics as a table with translated column names, one row per method."""
    return pd.DataFrame(
        {
            t("metrics.method"): [m.method for m in rows],
            t("metrics.mse"): [round(m.test_mse, 5) for m in rows],
            t("metrics.knn"): [f"{m.knn_accuracy:.1%}" for m in rows],
            t("metrics.fit"): [None if m.fit_seconds is None else round(m.fit_seconds, 2) for m in rows],
        }
    )


def show_image(image: np.ndarray, target: int, caption: str | None = None, where: Any = st) -> None:
    """An image (C, H, W) or (H, W) in [0, 1] at about ``target`` px wide, its pixels repeated, not blurred,
    in ``where`` (the page, or a column)."""
    data, width = crisp_png(image, target)
    where.image(data, caption=caption, width=width, output_format="PNG")  # PNG: JPEG would blur the pixels


PICTURE_ROW_CLASS = "aelab-pictures"  # the row's element; its pictures are `img`, their captions `figcaption`


def picture_row_html(pictures: Sequence[tuple[str, str]], width: int) -> str:
    """The markup of :func:`picture_row`: one figure per (data URL, caption), captions escaped (label names
    come from uploaded datasets)."""
    figures = "".join(
        f'<figure style="margin:0;text-align:center"><img src="{html.escape(url)}" width="{int(width)}" '
        f'alt="{html.escape(caption)}" style="image-rendering:pixelated;display:block;margin:auto">'
        f'<figcaption style="font-size:0.8rem;opacity:0.6;padding-top:0.25rem">{html.escape(caption)}'
        "</figcaption></figure>"
        for url, caption in pictures
    )
    return f'<div class="{PICTURE_ROW_CLASS}" style="display:flex;flex-wrap:wrap;gap:0.75rem">{figures}</div>'


def picture_row(pictures: Sequence[tuple[str, str]], width: int) -> None:
    """Captioned pictures side by side, ``width`` px each, wrapping on a narrow screen: one element.

    ``pictures`` are (PNG data URL, caption) pairs (:func:`aelab.imaging.data_url`). Where a page redraws a row on every
    gesture (Explore's nearest samples) this is the cheap way: eight ``st.image`` in eight columns were 17
    elements and eight media files a click; with one row a click's script run in a class of 100 went from
    22.8 to 19.6 ms of CPU (BENCHMARKS.md, classroom).
    """
    st.html(picture_row_html(pictures, width))
