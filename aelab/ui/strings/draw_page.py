"""The words of aelab/ui/draw_page.py: key -> (English, Simplified Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "nav.draw": ("Draw", "手写"),
    "draw.title": ("Draw a digit and watch where it lands", "写一个数字，看它落在哪里"),
    "draw.intro": (
        "Draw in the black square with the mouse, a finger or a pen. While you draw, the page itself turns "
        "the drawing into the model's input (cropped, scaled into the box, centred by its centre of mass), "
        "encodes it with φ and decodes it with ψ: the red cross moves across the plane and the reconstruction "
        "ψ(φ(x)) redraws. When you lift the pen, the server encodes it again and finds the nearest real samples.",
        "用鼠标、手指或触控笔在黑色方框里书写。书写时，页面本身把笔迹变成模型的输入（裁剪、缩放到框内、按质心居中），"
        "用编码器 φ 编码，再用解码器 ψ 解码：红色十字在平面上移动，重建图像 ψ(φ(x)) 随之更新。抬笔后，服务器再次编码并找出最近的真实样本。",
    ),
    "draw.pen": ("Pen", "笔"),
    "draw.eraser": ("Eraser", "橡皮"),
    "draw.undo": ("Undo", "撤销"),
    "draw.clear": ("Clear (new drawing)", "清空（开始新的手写）"),
    "draw.input": ("Model input {shape}", "模型输入 {shape}"),
    "draw.reconstruction": ("Reconstruction ψ(φ(x))", "重建 ψ(φ(x))"),
    "draw.plane": ("Where it lands (numbered: your drawings)", "落点（编号：你的手写）"),
    "draw.hint": ("Draw a digit here", "在这里写一个数字"),
    "draw.empty": ("The canvas is empty: draw a digit first.", "画布是空的：请先写一个数字。"),
    "draw.dot": (
        "That is a single dot, not a digit: draw a longer stroke.",
        "这只是一个点，不是数字：请画长一些。",
    ),
    "draw.style_neighbours": (
        "Drawing {n}'s code holds its style: the nearest training codes are drawn alike, whatever their class",
        "第 {n} 幅手写的编码保存的是风格：最近的训练编码写法相似，而类别各不相同",
    ),
    "draw.looks_like": ("Drawing {n} looks most like a **{label}**", "第 {n} 幅手写最像 **{label}**"),
    "draw.votes": (
        "Votes of the {k} nearest training codes: {votes}. Browser and server codes differ by {diff:.1e}.",
        "{k} 个最近训练编码的投票：{votes}。浏览器与服务器的编码相差 {diff:.1e}。",
    ),
    "draw.votes_photo": (
        "Votes of the {k} nearest training codes: {votes}.",
        "{k} 个最近训练编码的投票：{votes}。",
    ),
    "draw.votes_relabelled": (
        "Votes of the {k} nearest training codes: {votes}. While you drew, the browser told the model {live}; "
        "the server told it {label}, so their codes differ.",
        "{k} 个最近训练编码的投票：{votes}。书写时浏览器告诉模型的标签是 {live}，服务器告诉它的是 {label}，所以两者的编码不同。",
    ),
    "draw.told": ("This drawing is a", "这幅手写是"),
    "draw.told_best": ("the label the model explains it best by", "模型最能解释它的标签"),
    "draw.told_help": (
        "A conditional VAE is told the label with each image. A drawing has none: by default the server tries "
        "every label and keeps the one under which the drawing is reconstructed best; or choose one. While "
        "you draw, the page encodes under the chosen label, or the one the server decided last.",
        "条件 VAE 对每幅图像都会被告知其标签。手写没有标签：默认情况下，服务器逐一尝试每个标签，保留重建效果最好的那个；"
        "你也可以自己选一个。书写时，页面按所选标签编码，或按服务器最近一次决定的标签编码。",
    ),
    "draw.styles": (
        "Drawing {n}, encoded as a {label} ({how}), redrawn as every label in its own style",
        "第 {n} 幅手写按 {label} 编码（{how}），以它自己的风格重画成每个标签",
    ),
    "draw.how_best": ("the label the model explains it best by", "模型最能解释它的标签"),
    "draw.how_chosen": ("as you chose", "由你选择"),
    "draw.nearest": ("Nearest real samples", "最近的真实样本"),
    "draw.clear_markers": ("Clear the numbered markers", "清除编号标记"),
    "draw.markers": ("Drawings on the plane: {count}", "平面上的手写：{count} 幅"),
    "draw.no_browser": (
        "This model's encoder cannot run in the browser: the point moves when you lift the pen.",
        "此模型的编码器无法在浏览器中运行：抬笔后点才会移动。",
    ),
    "draw.photo": ("A photo of a handwritten digit", "手写数字的照片"),
    "draw.photo_help": (
        "Write a digit dark on plain light paper, fill most of the frame, and avoid shadows. The photo goes "
        "through the same path: contrast and threshold, invert, crop, centre.",
        "在浅色白纸上用深色笔写一个数字，让它占据画面的大部分，并避免阴影。照片经过同样的处理：对比度与阈值、反相、裁剪、居中。",
    ),
    "draw.upload": ("Upload a photo", "上传照片"),
    "draw.camera": ("Take a photo", "拍照"),
    "draw.steps": (
        "Photo · contrast · threshold · inverted ink · cropped · model input",
        "照片 · 对比度 · 阈值 · 反相笔迹 · 裁剪 · 模型输入",
    ),
    "draw.step.grey": ("Photo", "照片"),
    "draw.step.contrast": ("Contrast", "对比度"),
    "draw.step.threshold": ("Threshold", "阈值"),
    "draw.step.ink": ("Inverted ink", "反相笔迹"),
    "draw.step.cropped": ("Cropped", "裁剪"),
    "draw.step.input": ("Model input", "模型输入"),
    "draw.convention.mass": (
        "Preprocessing: crop to the ink, scale its longer side into {box}×{box}, place it in {side}×{side} with "
        "its centre of mass at the centre (as MNIST was made).",
        "预处理：裁剪到笔迹，把长边缩放到 {box}×{box}，按质心居中放入 {side}×{side}（与 MNIST 的做法相同）。",
    ),
    "draw.convention.box": (
        "Preprocessing: crop to the ink, scale its longer side to the full {side}×{side} frame and centre the "
        "box (as the 8×8 digits were made).",
        "预处理：裁剪到笔迹，把长边缩放到整个 {side}×{side}，并居中（与 8×8 数字的做法相同）。",
    ),
}
