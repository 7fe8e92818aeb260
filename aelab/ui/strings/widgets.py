"""The words of aelab/ui/widgets.py: key -> (English, Simplified Chinese)."""

STRINGS: dict[str, tuple[str, str]] = {
    "compare.pca": ("PCA (2 components)", "PCA（2 个主成分）"),  # the baseline's row on Train and Compare
    "metrics.method": ("Method", "方法"),
    "metrics.mse": ("Test reconstruction MSE", "测试重建 MSE"),
    "metrics.knn": ("5-NN accuracy", "5-近邻准确率"),
    "metrics.fit": ("Fit time (s)", "拟合时间（秒）"),
}
