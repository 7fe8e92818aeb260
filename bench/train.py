"""Training throughput against a plain PyTorch loop, and the quality table of every shipped model.

    .venv/bin/python bench/train.py                 # both parts
    .venv/bin/python bench/train.py --skip-quality  # throughput only
    .venv/bin/python bench/train.py --kinds         # quality only (no kinds to time)

Throughput: aelab's ``fit`` and a hand-written loop train the same model (same config and initial
weights) on the same MNIST-5k training tensors for the same epochs with the same optimiser, schedule and
per-epoch test evaluation; runs alternate (aelab, plain, aelab, plain, ...) and the medians are compared,
so the machine's noise hits both alike. The ratio is aelab's samples/s over the plain loop's (target ≥ 0.95).

Quality: test reconstruction MSE and 5-NN accuracy of each checkpoint in pretrained/ on its dataset's
fixed split, beside PCA(2) and UMAP fitted on the same training split. A conditional model (cvae) is told
the true labels, and its style consistency is reported in the MSE column: the share of its analogies (100
test codes, each decoded under every label) that a logistic regression trained on the training split reads
as the label asked for (aelab.baselines.style_consistency). UMAP's inverse_transform is slow,
so its MSE is measured on the first --umap-inverse test images (all of its kNN uses every test image).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from aelab.baselines import evaluate_embedding, evaluate_model, fit_pca, fit_umap, style_consistency
from aelab.checkpoint import load_checkpoint
from aelab.data import load_dataset
from aelab.models import ModelConfig, build_model
from aelab.recipes import PRETRAINED, pretrained_paths
from aelab.train import TrainConfig, fit


def plain_loop(model, train_x: torch.Tensor, test_x: torch.Tensor, config: TrainConfig) -> None:
    """What one writes by hand: shuffle, batch, step, evaluate the test loss once an epoch."""
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps = config.epochs * ((len(train_x) + config.batch_size - 1) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(config.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        for first in range(0, len(train_x), config.batch_size):
            loss = model.loss(train_x[order[first : first + config.batch_size]])["loss"]
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
        model.eval()
        with torch.no_grad():
            model.loss(test_x)["loss"].item()


def throughput(kind: str, epochs: int, repeats: int) -> tuple[float, float]:
    dataset = load_dataset("mnist5k")
    config = TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, device="cpu")
    train_x = torch.from_numpy(np.array(dataset.train_images))
    test_x = torch.from_numpy(np.array(dataset.test_images))
    samples = epochs * len(train_x)
    times: dict[str, list[float]] = {"aelab": [], "plain": []}
    for _ in range(repeats):
        for name in ("aelab", "plain"):
            model = build_model(ModelConfig(kind=kind))
            start = time.perf_counter()
            if name == "aelab":
                fit(model, dataset, config)
            else:
                plain_loop(model, train_x, test_x, config)
            times[name].append(time.perf_counter() - start)
    aelab, plain = (samples / statistics.median(times[n]) for n in ("aelab", "plain"))
    return aelab, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kinds", nargs="*", default=["ae", "conv"], help="kinds to time; none: skip throughput")
    parser.add_argument("--umap-inverse", type=int, default=200)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    )

    if args.kinds:
        print(
            f"\n## Training throughput on MNIST-5k (4,000 training images, {args.epochs} epochs, median of {args.repeats})"
        )
        print("| model | aelab fit (samples/s) | plain loop (samples/s) | ratio |")
        print("|---|---|---|---|")
    for kind in args.kinds:
        aelab, plain = throughput(kind, args.epochs, args.repeats)
        print(f"| {kind} | {aelab:,.0f} | {plain:,.0f} | {aelab / plain:.3f} |", flush=True)

    if args.skip_quality:
        return
    print("\n## Quality on each dataset's test split (MSE per pixel; 5-NN accuracy of the 2-D codes)")
    print("| dataset | method | test MSE | 5-NN accuracy | fit seconds |")
    print("|---|---|---|---|---|")
    recipes = {r.path.name: r for r in PRETRAINED}
    for dataset_name in dict.fromkeys(r.dataset for r in PRETRAINED):
        dataset = load_dataset(dataset_name)
        for path in pretrained_paths():
            recipe = recipes[path.name]
            if recipe.dataset != dataset_name:
                continue
            checkpoint = load_checkpoint(path)
            m = evaluate_model(checkpoint.model, dataset, name=recipe.name)
            print(
                f"| {dataset_name} | {recipe.name} | {m.test_mse:.4f} | {m.knn_accuracy:.3f} | {checkpoint.training['seconds']:.1f} |",
                flush=True,
            )
        pca = evaluate_embedding(fit_pca(dataset), dataset)
        print(
            f"| {dataset_name} | PCA(2) | {pca.test_mse:.4f} | {pca.knn_accuracy:.3f} | {pca.fit_seconds:.2f} |",
            flush=True,
        )
        for path in pretrained_paths():
            checkpoint = load_checkpoint(path)
            if recipes[path.name].dataset == dataset_name and checkpoint.model.conditional:
                consistency = style_consistency(checkpoint.model, dataset, n=100)
                print(
                    f"| {dataset_name} | {recipes[path.name].name}: style consistency (100 test codes × every label) | {consistency:.3f} | | |"
                )
        umap = evaluate_embedding(fit_umap(dataset), dataset, reconstruct_limit=args.umap_inverse)
        print(
            f"| {dataset_name} | UMAP (MSE on {args.umap_inverse} test images) | {umap.test_mse:.4f} | {umap.knn_accuracy:.3f} | {umap.fit_seconds:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
