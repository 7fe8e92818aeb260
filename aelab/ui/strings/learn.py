"""The words of aelab/ui/learn.py: key -> (English, Simplified Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "learn.title": ("What an autoencoder does", "自编码器是做什么的"),
    "learn.why.h": ("Why reduce dimension?", "为什么要降维？"),
    "learn.why": (
        "A 28×28 image is a list of 784 numbers, a point in a 784-dimensional space. Handwritten digits fill "
        "only a thin part of that space: a few factors (which digit, its slant, the stroke's thickness) "
        "describe most of the variation. Finding a few numbers that capture those factors lets us see a "
        "whole dataset at once, compare images by meaning rather than by pixels, remove noise and even "
        "draw new images.",
        "一张 28×28 的图像是 784 个数，也就是 784 维空间中的一个点。手写数字只占据这个空间中很薄的一部分："
        "少数几个因素（是哪个数字、倾斜程度、笔画粗细）就能描述大部分变化。找到几个能概括这些因素的数，"
        "我们就能一眼看到整个数据集、按含义而非像素比较图像、去除噪声，甚至画出新的图像。",
    ),
    "learn.parts.h": ("Encoder φ and decoder ψ", "编码器 φ 与解码器 ψ"),
    "learn.parts": (
        "An autoencoder is two functions trained together. The encoder φ compresses an image x into a short "
        "code z (here d = 2 numbers, so the code is a point in a plane); the decoder ψ turns a code back into "
        "an image. Training adjusts both so that the reconstruction ψ(φ(x)) is as close as possible to x, on "
        "average over the N training images:",
        "自编码器是一起训练的两个函数。编码器 φ 把图像 x 压缩成一个简短的编码 z（这里 d = 2 个数，"
        "所以编码是平面上的一个点）；解码器 ψ 把编码还原成图像。训练同时调整两者，使重建 ψ(φ(x)) 在 N 张"
        "训练图像上平均而言尽可能接近 x：",
    ),
    "learn.bottleneck": (
        "The code is far smaller than the image (the bottleneck), so the network cannot simply copy its "
        "input: it has to keep what matters most for redrawing the image and discard the rest.",
        "编码远小于图像（即“瓶颈”），网络无法简单地复制输入：它必须保留重画图像最需要的信息，舍弃其余部分。",
    ),
    "learn.layer.h": ("One hidden layer", "一个隐藏层"),
    "learn.layer": (
        "In the simplest autoencoder each side is one layer: a matrix W (d×n) and bias b, then a non-linearity "
        "σ such as ReLU; the decoder has its own W′ (n×d), b′ and an output function σ′, here the sigmoid, "
        "which keeps every pixel between 0 and 1:",
        "最简单的自编码器每一侧只有一层：矩阵 W（d×n）和偏置 b，再接一个非线性函数 σ（如 ReLU）；"
        "解码器有自己的 W′（n×d）、b′ 和输出函数 σ′，这里用 sigmoid，使每个像素保持在 0 到 1 之间：",
    ),
    "learn.layer_more": (
        "The models in this app stack two or three such layers on each side (or convolutions), but the idea is "
        "the same. Training is gradient descent on the loss above.",
        "本应用中的模型在每一侧叠加两三层这样的层（或卷积层），但思路相同。训练就是对上面的损失做梯度下降。",
    ),
    "learn.uses.h": ("What autoencoders are used for", "自编码器的用途"),
    "learn.uses": (
        "- **Denoising.** Train on corrupted inputs x̃ but measure the error against the clean x: "
        "the network learns to remove the noise (try it below).\n"
        "- **Visualisation.** With d = 2 the codes of a whole dataset fit in one picture, and similar images "
        "land near each other (the Explore page).\n"
        "- **Generation.** The decoder can draw any point of the plane, not only codes of real images. A "
        "variational autoencoder (VAE) also pulls the codes towards a standard normal distribution, so that "
        "points drawn from it decode to plausible images; β weighs that pull against reconstruction.",
        "- **去噪。** 用加了噪声的输入 x̃ 训练，但以干净的 x 计算误差：网络学会去除噪声（见下方演示）。\n"
        "- **可视化。** 当 d = 2 时，整个数据集的编码可以画在一张图里，相似的图像落在相近的位置（见“探索”页）。\n"
        "- **生成。** 解码器可以画出平面上的任意一点，而不仅是真实图像的编码。变分自编码器（VAE）还会把编码"
        "拉向标准正态分布，使从中抽取的点能解码成合理的图像；β 权衡这种拉力与重建质量。",
    ),
    "learn.pca.h": ("Autoencoder versus PCA", "自编码器与 PCA"),
    "learn.pca": (
        "Principal component analysis (PCA) projects the images onto the d directions of largest variance. "
        "If φ and ψ are linear (no σ) and the loss is the squared error, the best autoencoder spans exactly "
        "the same subspace as the first d principal components (Baldi and Hornik, 1989): PCA is the linear "
        "autoencoder's optimum. The non-linearities let an autoencoder bend its surface through image space, "
        "so at the same d it usually reconstructs better and separates the classes more clearly. The price: "
        "it must be trained, and its answer depends on the seed.",
        "主成分分析（PCA）把图像投影到方差最大的 d 个方向上。如果 φ 和 ψ 都是线性的（没有 σ）且损失是平方误差，"
        "最优的自编码器张成的子空间恰好与前 d 个主成分相同（Baldi 与 Hornik，1989）：PCA 就是线性自编码器的最优解。"
        "非线性让自编码器能在图像空间中弯曲它的曲面，因此在相同的 d 下，它通常重建得更好、类别分得更开。"
        "代价是：它需要训练，而且结果取决于随机种子。",
    ),
    "learn.cvae.h": ("Style apart from class: the conditional VAE", "风格与类别分离：条件 VAE"),
    "learn.cvae": (
        "A conditional VAE (CVAE) is told each image's label y, in the encoder and in the decoder. The decoder "
        "knows the class already, so a 2-D code no longer has to hold it: the code holds what the label does "
        "not say, the style (slant, width, thickness). In its plane the colours mix, and the codes' 5-NN "
        "accuracy falls towards chance.",
        "条件 VAE（CVAE）在编码器和解码器中都会被告知每张图像的标签 y。解码器已经知道类别，因此二维编码不再需要保存类别："
        "编码保存标签没有说明的内容，即风格（倾斜、宽度、笔画粗细）。在它的平面中颜色混在一起，编码的 5-NN 准确率降到接近随机。",
    ),
    "learn.cvae_more": (
        "One code decoded under every label draws every digit in one style: the analogies of Kingma et al. "
        "(2014, semi-supervised learning with deep generative models). Choose a CVAE in the sidebar, then on "
        "Explore the row under the decoded image shows the code under every label, and on Compare its plane "
        "stands beside the VAE's.",
        "把同一个编码在每个标签下解码，就会以同一种风格画出所有数字：这就是 Kingma 等人（2014，基于深度生成模型的半监督学习）"
        "的类比图。在侧栏中选择一个 CVAE，然后在“探索”页，解码图像下方的一行显示该编码在每个标签下的解码；"
        "在“比较”页，它的平面与 VAE 的平面并排显示。",
    ),
    "learn.analogies.h": ("One style, every class", "同一风格，所有类别"),
    "learn.analogies_other": (
        "With a conditional VAE (CVAE · pretrained in the sidebar), each example below would be redrawn as every "
        "label in its own style. This model is not told the label, so its code holds the class too.",
        "使用条件 VAE（侧栏中的 CVAE · 预训练）时，下面的每个样例都会以其自身风格被重画为每个标签。"
        "当前模型不会被告知标签，因此其编码也保存了类别。",
    ),
    "learn.analogies_row": (
        "The example, then its code z = φ(x, y) decoded as ψ(z, y′) for y′ = {names}",
        "样例，然后是其编码 z = φ(x, y) 依次按 y′ = {names} 解码的 ψ(z, y′)",
    ),
    "learn.live.h": ("Try it with the current model", "用当前模型试一试"),
    "learn.no_model": (
        "No model for {dataset} yet: train one on the Train page to try the live examples.",
        "{dataset} 还没有模型：请在“训练”页训练一个模型，再来尝试这些实时示例。",
    ),
    "learn.model": ("Current model: {title}", "当前模型：{title}"),
    "learn.pick": ("Digits to use", "选用的数字"),
    "learn.examples": ("Other examples", "换一批样本"),
    "learn.denoise.h": ("Denoising", "去噪"),
    "learn.noise": ("Noise (standard deviation)", "噪声（标准差）"),
    "learn.clean": ("Clean images x", "干净图像 x"),
    "learn.noisy": ("Noisy input x̃ · MSE to x: {mse:.4f}", "带噪输入 x̃ · 与 x 的 MSE：{mse:.4f}"),
    "learn.denoised": ("Reconstruction ψ(φ(x̃)) · MSE to x: {mse:.4f}", "重建 ψ(φ(x̃)) · 与 x 的 MSE：{mse:.4f}"),
    "learn.not_dae": (
        "This model was not trained on noisy inputs; pick a denoising autoencoder in the sidebar (or train "
        "one) to see the difference training with noise makes.",
        "该模型没有用带噪输入训练；在侧边栏选择去噪自编码器（或训练一个），看看带噪训练带来的差别。",
    ),
    "learn.versus.h": ("PCA versus the autoencoder", "PCA 与自编码器"),
    "learn.components": ("PCA components", "PCA 主成分数"),
    "learn.components_help": (
        "How many numbers PCA may keep per image; the autoencoder keeps {d}.",
        "PCA 每张图像可以保留多少个数；自编码器保留 {d} 个。",
    ),
    "learn.originals": ("Originals", "原图"),
    "learn.pca_recon": ("PCA({k}) reconstruction · MSE {mse:.4f}", "PCA({k}) 重建 · MSE {mse:.4f}"),
    "learn.ae_recon": (
        "Autoencoder reconstruction (d = {d}) · MSE {mse:.4f}",
        "自编码器重建（d = {d}）· MSE {mse:.4f}",
    ),
    "learn.versus_note": (
        "MSE: mean squared error per pixel over the digits shown.",
        "MSE：所示数字上每个像素的均方误差。",
    ),
    "learn.axes.h": ("What each latent axis encodes", "每个潜在轴编码了什么"),
    "learn.axes": (
        "Move along one axis of the code and hold the others at 0: each row below is ψ of those codes, "
        "from the low end of the axis to the high end. What changes along a row is what that coordinate "
        "means to the decoder.",
        "沿编码的一个轴移动、其余坐标保持为 0：下面每一行是这些编码经 ψ 解码的结果，从该轴的低端到高端。"
        "一行中发生变化的，就是该坐标对解码器的含义。",
    ),
    "learn.axis_row": ("{axis} from {low:.2f} to {high:.2f}", "{axis} 从 {low:.2f} 到 {high:.2f}"),
    "learn.factors": (
        "This dataset records how each image was drawn, so we can measure which axis follows which factor: "
        "|Spearman correlation| between each axis and each factor over the whole dataset (1: the axis orders "
        "the images exactly by that factor; 0: it ignores it). A factor with one bright cell is disentangled.",
        "这个数据集记录了每张图像的生成因素，因此可以度量哪个轴对应哪个因素：在整个数据集上计算每个轴与每个因素的"
        "|Spearman 相关系数|（1：该轴完全按这个因素排列图像；0：与它无关）。某个因素只在一个格子里明亮，"
        "说明它被解耦了。",
    ),
    "learn.no_factors": (
        "To see which axis captures which factor of variation, choose the Shapes dataset (it records each "
        "image's scale, rotation and position) and train a model on it on the Train page — a VAE with a "
        "larger β separates the factors more.",
        "想看哪个轴捕捉了哪个变化因素，请选择 Shapes 数据集（它记录了每张图像的缩放、旋转和位置），并在“训练”页"
        "用它训练一个模型——β 更大的 VAE 会把因素分得更开。",
    ),
    "learn.axis": ("axis", "轴"),
    "learn.factor": ("factor", "因素"),
}
