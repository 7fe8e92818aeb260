"""Small layouts more than one page shows: the metrics table and crisp images.

A page that needs either imports it from here, not from another page.
"""

from __future__ import annotations

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
