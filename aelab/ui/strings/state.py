"""The words of aelab/ui/state.py: key -> (English, Simplified Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "kind.ae": ("Autoencoder (MLP)", "自编码器（MLP）"),
    "kind.conv": ("Convolutional autoencoder", "卷积自编码器"),
    "kind.vae": ("Variational autoencoder", "变分自编码器"),
    "kind.dae": ("Denoising autoencoder", "去噪自编码器"),
    "kind.umap-ae": ("UMAP-structured autoencoder", "UMAP 结构自编码器"),
    "kind.cvae": ("Conditional VAE (told the label)", "条件变分自编码器（已知标签）"),
    "kind_short.ae": ("AE (MLP)", "自编码器（MLP）"),
    "kind_short.conv": ("Conv AE", "卷积自编码器"),
    "kind_short.vae": ("VAE", "变分自编码器 VAE"),
    "kind_short.dae": ("Denoising AE", "去噪自编码器"),
    "kind_short.umap-ae": ("UMAP-AE", "UMAP 自编码器"),
    "kind_short.cvae": ("CVAE", "条件 VAE（CVAE）"),
    "model.pretrained": ("{kind} · pretrained", "{kind} · 预训练"),
    "dataset.mnist5k": ("MNIST-5k (5,000 handwritten digits, 28×28)", "MNIST-5k（5,000 张手写数字，28×28）"),
    "dataset.digits": ("Digits (1,797 handwritten digits, 8×8)", "Digits（1,797 张手写数字，8×8）"),
    "state.not_saved": (
        "{title} is kept for this session only: {message}",
        "{title} 仅在本次会话中保留：{message}",
    ),
    "state.refused": ("A saved {kind} was left out: {message}", "已略过一个保存的{kind}：{message}"),
    "state.no_model": (
        "No model for {dataset} yet: train one on the Train page or upload a checkpoint.",
        "{dataset} 还没有模型：请在“训练”页训练一个，或上传检查点。",
    ),
}
