"""The words of aelab/ui/explore.py: key -> (English, Simplified Chinese)."""

from aelab.panel_words import PANEL_WORDS

STRINGS: dict[str, tuple[str, str]] = {
    # The decode panel's words, the offline explorer's too (aelab/panel_words.py).
    **{f"explore.{key}": pair for key, pair in PANEL_WORDS.items()},
    "explore.title": ("Explore the latent space", "探索潜在空间"),
    "explore.intro": (
        "**{model}** · {dataset}. Each dot is the code z = φ(x) of one image, coloured by its label. "
        "Click anywhere on the plane, or move the sliders, to decode that point: x̂ = ψ(z).",
        "**{model}** · {dataset}。每个点是一张图像的编码 z = φ(x)，颜色表示标签。"
        "点击平面上任意位置或拖动滑块，即可解码该点：x̂ = ψ(z)。",
    ),
    "explore.encoding": ("Encoding the dataset…", "正在编码数据集…"),
    "explore.projection": ("Plane shows", "平面显示"),
    "explore.projection_pca": ("PCA of the codes", "编码的 PCA"),
    "explore.projection_umap": ("UMAP of the codes (slow)", "编码的 UMAP（较慢）"),
    "explore.projection_note": (
        "The codes have {d} dimensions; the plane shows a 2-D projection of them. "
        "A click decodes the projection's inverse of that spot; the sliders set all {d} dimensions.",
        "编码有 {d} 个维度；平面显示其二维投影。点击会解码该位置经投影逆变换得到的编码；滑块可设置全部 {d} 个维度。",
    ),
    "explore.line_note": (
        "The codes have 1 dimension: the plane spreads them along z₁ (the vertical axis means nothing).",
        "编码只有 1 个维度：平面沿 z₁ 展开（纵轴无意义）。",
    ),
    "explore.fitting_umap": ("Fitting UMAP to the codes (first time only)…", "正在对编码拟合 UMAP（仅首次）…"),
    "explore.background": ("Manifold as background", "以流形为背景"),
    "explore.background_help": (
        "Draw the decoded grid (see Manifold below) under the points.",
        "在点的下方绘制解码网格（见下方“流形”）。",
    ),
    "explore.point": ("z = ({values})", "z = ({values})"),
    "explore.nearest": ("Nearest real samples", "最近的真实样本"),
    "explore.nearest_help": (
        "The {k} images whose codes φ(x) are closest to z, closest first; under each, its label and its "
        "Euclidean distance ‖φ(x) − z‖ in the latent space.",
        "编码 φ(x) 与 z 最接近的 {k} 张图像，由近到远；每张图下方为其标签及潜在空间中的欧氏距离 ‖φ(x) − z‖。",
    ),
    "explore.nearest_caption": ("{label} · {distance:.2f}", "{label} · {distance:.2f}"),
    "explore.grid": ("Manifold", "流形"),
    "explore.grid_help": (
        "ψ decoded on an n × n grid over the plane's bounds; top-left is (min z₁, max z₂).",
        "在平面范围内的 n × n 网格上用 ψ 解码；左上角为 (最小 z₁, 最大 z₂)。",
    ),
    "explore.grid_size": ("Grid size n", "网格大小 n"),
    "explore.interpolation": ("Interpolation", "插值"),
    "explore.interpolation_help": (
        "ψ((1 − t)·A + t·B) for t from 0 to 1: a straight line between two codes.",
        "t 从 0 到 1 时的 ψ((1 − t)·A + t·B)：两个编码之间的直线。",
    ),
    "explore.set_a": ("A = current point", "A = 当前点"),
    "explore.set_b": ("B = current point", "B = 当前点"),
    "explore.steps": ("Steps", "步数"),
    "explore.ends": ("A = ({a}) · B = ({b})", "A = ({a}) · B = ({b})"),
    "explore.strip_hint": (
        "Drag A or B on the plane. Steps: under Interpolation below.",
        "在平面上拖动 A 或 B。步数：见下方“插值”。",
    ),
    "explore.strip_in_browser": (
        "Your browser decodes the strip beside the plane, where A and B are markers you can drag.",
        "插值条由你的浏览器在平面旁解码；A 和 B 是平面上可拖动的标记。",
    ),
    "explore.walk_gif": ("Walk A → B as a GIF", "将 A → B 的路径下载为 GIF"),
    "explore.walk_png": ("Strip as a PNG", "将插值条下载为 PNG"),
    "explore.walk_no_length": (
        "A and B are the same point: move one to record a walk.",
        "A 与 B 是同一个点：移动其中一个即可录制路径。",
    ),
    "explore.draw_as": ("Draw as", "绘制为"),
    "explore.draw_as_help": (
        "This model is told the label: the code z holds the style, the label the class. The large image, the "
        "manifold, the strip and new samples are drawn as this label; the row under the image shows z under "
        "every label.",
        "该模型会被告知标签：编码 z 保存风格，标签决定类别。大图、流形、插值条和新样本都按此标签绘制；"
        "图像下方的一行显示 z 在每个标签下的解码。",
    ),
    "explore.every_label": ("every label in turn", "依次使用每个标签"),
    "explore.generate_label": ("Labels of the new samples", "新样本的标签"),
    "explore.generate_conditional": (
        "New codes z ~ N(0, I) from the prior, each decoded with the label chosen here.",
        "从先验 z ~ N(0, I) 中抽取新编码，并按此处选择的标签解码。",
    ),
    "explore.analogies": (
        "This sample's style as every label: z = φ(x, its label), then ψ(z, y) for each y",
        "该样本的风格用于每个标签：z = φ(x, 其标签)，再对每个 y 计算 ψ(z, y)",
    ),
    "explore.generate": ("Generate", "生成"),
    "explore.generate_prior": (
        "New codes drawn from the VAE's prior z ~ N(0, I), then decoded.",
        "从 VAE 的先验 z ~ N(0, I) 中抽取新编码，再解码。",
    ),
    "explore.generate_mixture": (
        "This model has no prior: new codes are drawn from a Gaussian mixture fitted to its training codes, "
        "then decoded.",
        "该模型没有先验：新编码从拟合其训练编码的高斯混合模型中抽取，再解码。",
    ),
    "explore.count": ("How many", "数量"),
    "explore.resample": ("New sample", "重新采样"),
    "explore.download": ("Download PNG", "下载 PNG"),
    "explore.seed": ("{n} samples · seed {seed}", "{n} 个样本 · 随机种子 {seed}"),
    "explore.reconstruction": ("Reconstruction", "重建"),
    "explore.reconstruction_help": (
        "An image x of the dataset, its reconstruction ψ(φ(x)) and the absolute difference.",
        "数据集中的一张图像 x、其重建 ψ(φ(x)) 以及两者的绝对差。",
    ),
    "explore.index": ("Sample index", "样本编号"),
    "explore.random": ("Random sample", "随机样本"),
    "explore.original": ("x (label {label}, {split})", "x（标签 {label}，{split}）"),
    "explore.split_train": ("training split", "训练集"),
    "explore.split_test": ("test split", "测试集"),
    "explore.reconstructed": ("ψ(φ(x))", "ψ(φ(x))"),
    "explore.difference": ("|x − ψ(φ(x))|", "|x − ψ(φ(x))|"),
    "explore.mse": ("MSE per pixel: {mse:.4f}", "每像素 MSE：{mse:.4f}"),
    "explore.colour_by": ("Colour points by", "点的颜色表示"),
    "explore.colour_by_help": (
        "The class, or one of the dataset's known factors of variation (continuous ones in five bins).",
        "类别，或数据集已知的某个变化因素（连续因素分为五档）。",
    ),
    "explore.colour_label": ("class", "类别"),
    "explore.hover": ("Decode on hover", "悬停即解码"),
    "explore.hover_help": (
        "Your browser runs the decoder ψ on the point under the pointer as you move, with no round trip to "
        "the server; a click still picks the point.",
        "移动指针时，由你的浏览器对指针下的点运行解码器 ψ，无需往返服务器；点击仍然用于选定该点。",
    ),
    "explore.hover_server": (
        "This model or projection cannot run in the browser, so images are decoded on the server: a click, "
        "a drag of the cross or a slider shows its image after a round trip, and there is no hover preview.",
        "该模型或投影无法在浏览器中运行，图像由服务器解码：点击、拖动十字或滑块后，图像要等一次往返才显示，也没有悬停预览。",
    ),
    "explore.where_browser": (
        "Decoded by your browser as you click, drag the cross, press the arrow keys or slide.",
        "点击、拖动十字、按方向键或拖动滑块时，由你的浏览器即时解码。",
    ),
    "explore.no_sprite": (
        "This dataset's images are too many to send to the browser (over {mb:.0f} MB as one picture): "
        "hovering a point shows the decode at the pointer, not the sample's real image.",
        "该数据集的图像太多，无法发送到浏览器（合成一张图超过 {mb:.0f} MB）：悬停在点上只显示指针处的解码，不显示样本的真实图像。",
    ),
    "explore.where_server": ("Decoded on the server.", "由服务器解码。"),
    "explore.refused": ("The plane sent a point that was refused: {reason}.", "平面发送的点被拒绝：{reason}。"),
    "explore.refused_reason_bad": (
        "its coordinates are not two finite numbers",
        "其坐标不是两个有限的数",
    ),
    "explore.far_outside": (
        "the point lies far outside the plane's bounds",
        "该点远在平面范围之外",
    ),
    "explore.export_html": ("Offline explorer (HTML)", "离线探索页（HTML）"),
    "explore.export_html_help": (
        "One HTML file with this model's plane, hover decoding and manifold: it opens in any browser "
        "without a network or Python, e.g. for a classroom.",
        "一个 HTML 文件，包含该模型的平面、悬停解码和流形：无需网络或 Python，任何浏览器都能打开，适合课堂使用。",
    ),
}
