"""The words of aelab/ui/sidebar.py: key -> (English, Simplified Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "nav.explore": ("Explore", "探索"),
    "nav.train": ("Train", "训练"),
    "nav.compare": ("Compare", "比较"),
    "nav.learn": ("Learn", "学习"),
    "sidebar.language": ("Language / 语言", "Language / 语言"),
    "sidebar.dataset": ("Dataset", "数据集"),
    "sidebar.model": ("Model", "模型"),
    "sidebar.no_model": ("No model for this dataset yet.", "该数据集还没有模型。"),
    "sidebar.metrics": (
        "Latent dimension {d} · test MSE {mse:.4f} · 5-NN accuracy {acc:.0%}",
        "潜在维度 {d} · 测试 MSE {mse:.4f} · 5-近邻准确率 {acc:.0%}",
    ),
    "sidebar.upload": ("Upload a checkpoint", "上传检查点"),
    "sidebar.upload_help": (
        "An aelab .safetensors file, from the Train page's download or `aelab train`. Nothing in it is executed.",
        "aelab 的 .safetensors 文件（来自“训练”页的下载或 `aelab train`）。文件中的任何内容都不会被执行。",
    ),
    "sidebar.upload_title": ("{name} · uploaded", "{name} · 已上传"),
    "sidebar.pretrained_refused": (
        "A shipped model was left out: {message}",
        "已略过一个预训练模型：{message}",
    ),
    "sidebar.upload_refused": ("Could not use {name}: {message}", "无法使用 {name}：{message}"),
    "sidebar.fetching": ("Fetching {title} (first use only)…", "正在获取 {title}（仅首次）…"),
    "sidebar.fetch_failed": ("Could not load {title}: {message}", "无法加载 {title}：{message}"),
    "sidebar.data_upload": ("Use your own dataset", "使用你自己的数据集"),
    "sidebar.data_file": ("Dataset file (.npz, .csv or .zip)", "数据集文件（.npz、.csv 或 .zip）"),
    "sidebar.data_help": (
        ".npz with `images` (N, H, W) or (N, C, H, W) and optional `labels`, `label_names`; "
        ".csv with one pixel per column and a `label` column; .zip with one folder per class of PNG/JPEG "
        "images. Pixel values 0–255 or 0–1. Kept in this browser's workspace.",
        ".npz：包含 `images`（N, H, W）或（N, C, H, W），可选 `labels`、`label_names`；"
        ".csv：每列一个像素，外加 `label` 列；.zip：每个类别一个文件夹，内含 PNG/JPEG 图像。"
        "像素值 0–255 或 0–1。保存在此浏览器的工作区中。",
    ),
    "sidebar.data_side": ("Image side for a .zip (pixels)", ".zip 图像边长（像素）"),
    "sidebar.data_rgb": ("Colour (RGB) for a .zip", ".zip 使用彩色（RGB）"),
    "sidebar.data_loaded": (
        "{title}: {n} images shaped {shape}, {classes} classes.",
        "{title}：{n} 张图像，形状 {shape}，{classes} 个类别。",
    ),
    "sidebar.unknown_dataset": (
        "it was trained on the dataset '{dataset}', which this app does not have (it has: {known})",
        "它是在数据集“{dataset}”上训练的，本应用没有该数据集（现有：{known}）",
    ),
    "sidebar.workspace": ("Your workspace", "你的工作区"),
    "sidebar.workspace_help": (
        "Models you train or upload, your datasets and your choices are kept on this server for this "
        "browser, and come back after a reload or a restart.",
        "你训练或上传的模型、你的数据集和选择都保存在服务器上，与此浏览器对应，刷新或重启后仍然存在。",
    ),
    "sidebar.share": ("Share this model", "分享此模型"),
    "sidebar.share_link": (
        "Anyone who opens this link gets a copy of the model in their own workspace; nothing else of yours "
        "is reachable through it:",
        "打开此链接的人会在自己的工作区得到此模型的副本；你的其他内容都无法通过它访问：",
    ),
    "sidebar.share_only_saved": (
        "Only a model you trained or uploaded can be shared.",
        "只能分享你训练或上传的模型。",
    ),
    "sidebar.shared_copied": (
        "A shared model was copied into your workspace: {title}",
        "已将分享的模型复制到你的工作区：{title}",
    ),
    "sidebar.shared_gone": (
        "This share link is unknown or its model was deleted.",
        "此分享链接无效，或其模型已被删除。",
    ),
    "sidebar.delete_confirm": ("Yes, delete everything I made", "是的，删除我创建的一切"),
    "sidebar.delete": ("Delete my workspace", "删除我的工作区"),
    "sidebar.shape_mismatch": (
        "it expects images shaped {expected}, but {dataset} has images shaped {found}",
        "它需要形状为 {expected} 的图像，但 {dataset} 的图像形状为 {found}",
    ),
}
