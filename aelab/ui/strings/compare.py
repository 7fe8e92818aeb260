"""The words of aelab/ui/compare.py: key -> (English, Simplified Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "compare.title": ("PCA, autoencoder and UMAP side by side", "PCA、自编码器与 UMAP 并排比较"),
    "compare.intro": (
        "The same test images of {dataset}, placed in a plane by each method; the colours are the classes. "
        "Click anywhere in a plane to decode that point with the method's own way back to an image.",
        "{dataset} 的同一批测试图像，分别由各方法放到平面上；颜色表示类别。"
        "点击平面上任意位置，用该方法自己的逆映射把这个点还原成图像。",
    ),
    "compare.pca_note": (
        "Linear: the best 2-D linear projection; its inverse maps a point back onto a plane of images.",
        "线性：最优的二维线性投影；其逆映射把点映回图像空间中的一个平面。",
    ),
    "compare.model": ("Autoencoder", "自编码器"),
    "compare.model_note": (
        "{title}. Non-linear, learned: the encoder φ places the images and the decoder ψ draws any point.",
        "{title}。非线性、可学习：编码器 φ 放置图像，解码器 ψ 可以画出任意一点。",
    ),
    "compare.model_dims": (
        "The model has {d} latent dimensions: the plane shows their PCA, as Explore does, and a click decodes "
        "the projection's inverse of that spot.",
        "该模型有 {d} 个潜在维度：平面与“探索”页一样显示其 PCA，点击会解码该位置经投影逆变换得到的编码。",
    ),
    "compare.structured": ("UMAP-structured autoencoder", "UMAP 结构自编码器"),
    "compare.structured_note": (
        "{title}. Trained on the reconstruction error plus UMAP's neighbour-graph term, which pulls neighbours "
        "together and pushes the rest apart as UMAP does: the classes separate more clearly than in a plain "
        "autoencoder's plane, and the decoder still draws any point at once.",
        "{title}。以重建误差加上 UMAP 邻居图项训练，该项像 UMAP 一样把近邻拉近、把其余推开：类别比普通自编码器的平面"
        "分得更清楚，而解码器仍能立刻画出任意一点。",
    ),
    "compare.told": ("Told the label (CVAE)", "已知标签（CVAE）"),
    "compare.told_note": (
        "{title}. The same VAE, but its encoder and decoder are also told each image's label: the code no longer "
        "has to hold the class, so the colours mix and the 5-NN accuracy of the codes falls towards chance. "
        "What the code holds now is the style; a click draws it as every label.",
        "{title}。同样的 VAE，但其编码器和解码器还会被告知每张图像的标签：编码不再需要保存类别，因此颜色混在一起，"
        "编码的 5-NN 准确率降到接近随机。编码现在保存的是风格；点击会把它画成每个标签。",
    ),
    "compare.untold": ("Not told the label (VAE)", "未知标签（VAE）"),
    "compare.untold_note": (
        "{title}. Not told the label, a 2-D code must hold the class as well as the style: the colours form "
        "clusters, and the codes' 5-NN accuracy is far above the conditional model's.",
        "{title}。未被告知标签时，二维编码既要保存类别也要保存风格：颜色形成簇，其编码的 5-NN 准确率远高于条件模型。",
    ),
    "compare.umap": ("UMAP", "UMAP"),
    "compare.umap_note": (
        "Non-linear, neighbour-preserving; its inverse interpolates between training images and is slow.",
        "非线性，保持近邻关系；其逆映射在训练图像之间插值，速度较慢。",
    ),
    "compare.fitting_umap": (
        "Fitting UMAP on the training split (the first time also compiles numba code: up to a minute)…",
        "正在训练集上拟合 UMAP（首次还需编译 numba 代码：最多约一分钟）…",
    ),
    "compare.embedding_umap": ("Placing the test images with UMAP…", "正在用 UMAP 放置测试图像…"),
    "compare.decoding_umap": (
        "Decoding with UMAP's inverse (it interpolates between training images: a few seconds)…",
        "正在用 UMAP 的逆映射解码（在训练图像之间插值：需要几秒钟）…",
    ),
    "compare.click_hint": ("Click in the plane to decode a point.", "点击平面以解码一个点。"),
    "compare.decoded": ("Decoded at ({x:.2f}, {y:.2f})", "在 ({x:.2f}, {y:.2f}) 处解码"),
    "compare.metrics": ("Metrics on the test split", "测试集上的指标"),
    "compare.computing": ("Measuring each method on the test split…", "正在测试集上评估各方法…"),
    "compare.metrics_note": (
        "Reconstruction MSE: mean squared error per pixel between test images and their reconstructions "
        "(UMAP: the first {n} test images, its inverse is slow). 5-NN accuracy: share of test codes whose 5 "
        "nearest training codes vote for the right class. Fit time: seconds to fit or train (for the "
        "autoencoder, as recorded in its checkpoint).",
        "重建 MSE：测试图像与其重建之间每个像素的均方误差（UMAP 只用前 {n} 张测试图像，因其逆映射很慢）。"
        "5-近邻准确率：测试编码的 5 个最近训练编码投票给正确类别的比例。拟合时间：拟合或训练所用秒数"
        "（自编码器取其检查点中记录的值）。",
    ),
}
