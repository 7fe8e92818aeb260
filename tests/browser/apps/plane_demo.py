"""Browser-test page for `aelab.ui.plane.latent_plane`: 5,000 points in 10 labelled clusters.

Test hooks: the code block `clicked: <x> <y> | runs: <n>` shows what `latent_plane` returned and how many
times the script ran; sliders x and y set the marker (a click moves them to the clicked spot); the
checkbox swaps in a background image, which changes the plane's data and so reruns its JavaScript.
The points lie within 4.5 of the origin, so the corners of the [-6, 6]² view are empty.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import streamlit as st
from PIL import Image

from aelab.ui.plane import clicked_coordinate, latent_plane

BOUNDS = np.array([[-6.0, 6.0], [-6.0, 6.0]])
STEP = 0.01


@st.cache_data
def clusters(n: int = 5000, k: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 2) around k centres on a circle of radius 3, and their labels (n,)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=n)
    angles = 2 * np.pi * np.arange(k) / k
    centres = 3.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = centres[labels] + np.clip(rng.normal(0.0, 0.35, size=(n, 2)), -1.4, 1.4)
    return points, labels


@st.cache_data
def gradient_png() -> str:
    """A soft 64x64 gradient as a data-URL PNG, standing in for a decoded manifold grid."""
    u, v = np.meshgrid(np.linspace(0, 1, 64), np.linspace(0, 1, 64))
    rgb = np.stack([220 + 35 * u, 225 + 30 * v, 245 - 20 * u * v], axis=-1).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def follow_click() -> None:
    clicked = clicked_coordinate("plane")
    if clicked is not None:
        st.session_state.x, st.session_state.y = (float(np.clip(round(c, 2), -6.0, 6.0)) for c in clicked)


st.session_state.runs = st.session_state.get("runs", 0) + 1
st.session_state.setdefault("x", 0.0)  # defaults here, not in the sliders, because follow_click sets them
st.session_state.setdefault("y", 0.0)
points, labels = clusters()
x = st.slider("x", -6.0, 6.0, step=STEP, key="x")
y = st.slider("y", -6.0, 6.0, step=STEP, key="y")
show_background = st.checkbox("background", key="background")
clicked = latent_plane(
    points,
    labels,
    [f"class {i}" for i in range(10)],
    BOUNDS,
    key="plane",
    selected=(x, y),
    background=gradient_png() if show_background else None,
    on_click=follow_click,
)
shown = "none" if clicked is None else f"{clicked[0]:.6f} {clicked[1]:.6f}"
st.code(f"clicked: {shown} | runs: {st.session_state.runs}", language=None)
