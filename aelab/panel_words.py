"""The decode panel's words, shared by the app's Explore page and the offline explorer: key -> (English,
Simplified Chinese).

Plain data, so that both the library (``aelab.export`` writes them into the offline page) and the UI's string
table (``aelab/ui/strings/explore.py``, as ``explore.<key>``) read the one copy.
"""

PANEL_WORDS: dict[str, tuple[str, str]] = {
    "decoded": ("Decoded image x̂ = ψ(z)", "解码图像 x̂ = ψ(z)"),
    "slider": ("latent dimension {i} ({name})", "潜在维度 {i}（{name}）"),
    "far": (
        "far from every training code: the decoder is extrapolating here",
        "远离所有训练编码：解码器在此处是外推",
    ),
    "row": ("ψ(z, y) for every label y: one style, every class", "每个标签 y 下的 ψ(z, y)：同一风格，所有类别"),
    "strip": ("Interpolation A → B", "插值 A → B"),
}
