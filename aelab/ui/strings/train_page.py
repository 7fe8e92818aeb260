"""The words of aelab/ui/train_page.py: key -> (English, Simplified Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "train.title": ("Train an autoencoder", "训练自编码器"),
    "train.intro": (
        "Pick a model and its settings, press Train, and watch the test codes gather into clusters as the "
        "loss falls. You can visit other pages meanwhile: the training goes on.",
        "选择模型和训练设置，点击“训练”，看着损失下降、测试样本的编码逐渐聚成簇。"
        "训练期间可以切换到其他页面，训练不会中断。",
    ),
    "train.settings": ("Settings", "设置"),
    "train.dataset": ("Dataset", "数据集"),
    "train.kind": ("Model", "模型"),
    "train.latent_dim": ("Latent dimension", "潜在维度"),
    "train.latent_dim_help": (
        "2 draws the plane directly; with more, the scatter shows the first two dimensions.",
        "为 2 时可直接画出平面；更高时散点图只显示前两个维度。",
    ),
    "train.epochs": ("Epochs", "训练轮数"),
    "train.lr": ("Learning rate", "学习率"),
    "train.batch_size": ("Batch size", "批大小"),
    "train.beta": ("β (weight of the KL term)", "β（KL 项的权重）"),
    "train.beta_help": (
        "Larger β pulls the codes towards the prior N(0, I): a smoother plane, blurrier images.",
        "β 越大，编码越贴近先验 N(0, I)：平面更平滑，图像更模糊。",
    ),
    "train.noise": ("Input noise (standard deviation)", "输入噪声（标准差）"),
    "train.umap_weight": ("Weight of the UMAP structure term", "UMAP 结构项的权重"),
    "train.umap_weight_help": (
        "0 trains a plain autoencoder; higher pulls graph neighbours together and pushes the rest apart "
        "harder. The shipped models use 10 (the term is about 20 times larger than the MSE).",
        "0 即普通自编码器；越大，邻居图中的近邻被拉得越紧、其余的被推得越开。预训练模型用 10（该项约为 MSE 的 20 倍）。",
    ),
    "train.replay": ("Replay the training", "回放训练过程"),
    "train.replay_help": (
        "The test codes after every epoch: press ▶ to watch the clusters form, or drag the epoch slider.",
        "每一轮之后的测试集编码：按 ▶ 观看聚类形成，或拖动轮次滑块。",
    ),
    "train.replay_gif": ("Download the replay as a GIF", "将回放下载为 GIF"),
    "train.play": ("▶ Play", "▶ 播放"),
    "train.seed": ("Seed", "随机种子"),
    "train.start": ("Train", "训练"),
    "train.stop": ("Stop", "停止"),
    "train.queued": (
        "Waiting for a free trainer: place {position} in the queue ({running} trainings running on this server).",
        "等待空闲的训练槽位：排在第 {position} 位（服务器上正有 {running} 个训练在运行）。",
    ),
    "train.starting": ("Starting… {elapsed:.0f} s", "正在启动… {elapsed:.0f} 秒"),
    "train.starting_umap": (
        "Building UMAP's neighbour graph of the training images and starting the encoder from its layout "
        "(before the first epoch; 20-40 s on MNIST-5k)… {elapsed:.0f} s",
        "正在构建训练图像的 UMAP 邻居图，并让编码器从其布局起步（在第一轮之前；MNIST-5k 上约 20–40 秒）… {elapsed:.0f} 秒",
    ),
    "train.progress": (
        "Epoch {epoch} of {epochs} · {elapsed:.1f} s elapsed · about {left:.0f} s left",
        "第 {epoch}/{epochs} 轮 · 已用 {elapsed:.1f} 秒 · 约剩 {left:.0f} 秒",
    ),
    "train.loss_title": ("Loss per epoch", "每轮的损失"),
    "train.loss_axis": ("loss", "损失"),
    "train.epoch_axis": ("epoch", "轮"),
    "train.train_curve": ("train", "训练集"),
    "train.test_curve": ("test", "测试集"),
    "train.scatter_title": ("Test codes after epoch {epoch}", "第 {epoch} 轮后的测试集编码"),
    "train.scatter_dims": (
        "Test codes after epoch {epoch} (dimensions 1 and 2 of {d})",
        "第 {epoch} 轮后的测试集编码（{d} 维中的第 1、2 维）",
    ),
    "train.done": (
        "{kind} trained on {dataset} for {epochs} epochs in {seconds:.1f} s. "
        "It is now selected in the sidebar as “{title}”.",
        "{kind} 已在 {dataset} 上训练 {epochs} 轮，用时 {seconds:.1f} 秒。它已作为“{title}”在侧边栏中选中。",
    ),
    "train.not_learned": (
        "This model learned nothing: its reconstructions are no better than the average image (test MSE "
        "{mse:.4f}, average image {mean:.4f}). The learning rate ({lr:g}) is probably too high, or the run "
        "too short.",
        "这个模型什么也没学到：它的重建并不比平均图像更好（测试 MSE {mse:.4f}，平均图像 {mean:.4f}）。"
        "学习率（{lr:g}）可能太高，或训练太短。",
    ),
    "train.stopped": (
        "Stopped after {epochs} of {total} epochs. The model as it was is selected in the sidebar as “{title}”.",
        "在第 {epochs}/{total} 轮后停止。当时的模型已作为“{title}”在侧边栏中选中。",
    ),
    "train.stopped_in_queue": ("Stopped before it started.", "在开始之前已停止。"),
    "train.failed": ("Training failed: {message}", "训练失败：{message}"),
    "train.model_title": ("{kind} · trained {time}", "{kind} · 训练于 {time}"),
    "train.metrics": ("On the test split of {dataset}", "在 {dataset} 的测试集上"),
    "train.download": ("Download the checkpoint", "下载检查点"),
    "train.download_help": (
        "A .safetensors file: upload it in the sidebar later, or use it with `aelab eval`.",
        "一个 .safetensors 文件：之后可在侧边栏上传，或用于 `aelab eval`。",
    ),
}
