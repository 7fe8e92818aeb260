"""The baseline page for bench/app_latency.py: a plain Streamlit plotly scatter of the same points as Explore.

Run by the benchmark as ``streamlit run bench/minimal_scatter.py`` with ``AELAB_BENCH_POINTS`` naming an
.npz holding ``points`` (N, 2) float32 and ``labels`` (N,) int (the Explore plane's points, written by the
benchmark). It imports no torch and does no work beyond reading the file and drawing: the least a Streamlit
page that shows this scatter can cost.
"""

from __future__ import annotations

import os

import numpy as np
import plotly.express as px
import streamlit as st


@st.cache_data
def points(path: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path)
    return data["points"], data["labels"]


xy, labels = points(os.environ["AELAB_BENCH_POINTS"])
st.set_page_config(layout="wide", page_title="minimal scatter")
# One trace per label, like the Explore plane; plotly express picks WebGL above 1,000 points, as the plane does.
figure = px.scatter(x=xy[:, 0], y=xy[:, 1], color=labels.astype(str), height=560)
st.plotly_chart(figure, key="scatter")
