"""Train one configuration and print its test MSE and 5-NN accuracy: the runs that chose the recipes.

    .venv/bin/python bench/sweep.py --kind ae --hidden 768 384 192 --shift 1.5 --epochs 150
    .venv/bin/python bench/sweep.py --kind umap-ae --hidden 768 384 192 --shift 1.5 --epochs 150 --umap-weight 1

One line per run: the settings, test MSE, 5-NN accuracy of the test codes against the training codes, the
same accuracy within the training split (even against odd samples: does the plane separate the classes
at all, or only fail to generalise?), the final training terms, the parameter count and the seconds taken.
Runs use one torch thread so several can share the machine; seconds are therefore not comparable with
other tables.
"""

from __future__ import annotations

import argparse
import time

import torch

from aelab.baselines import knn_accuracy
from aelab.data import load_dataset
from aelab.latent import encode_images
from aelab.models import ModelConfig, count_parameters
from aelab.recipes import train_model
from aelab.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist5k")
    parser.add_argument("--kind", default="ae")
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 256])
    parser.add_argument("--shift", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--schedule", default="cosine")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--umap-weight", type=float, default=0.01)
    parser.add_argument("--n-neighbors", type=int, default=15)
    parser.add_argument("--min-dist", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights and the training's randomness")
    args = parser.parse_args()
    torch.set_num_threads(1)

    dataset = load_dataset(args.dataset)
    model_config = ModelConfig(
        kind=args.kind,
        hidden=tuple(args.hidden),
        umap_weight=args.umap_weight,
        n_neighbors=args.n_neighbors,
        min_dist=args.min_dist,
        seed=args.seed,
    )
    train_config = TrainConfig(
        epochs=args.epochs, shift=args.shift, schedule=args.schedule, weight_decay=args.weight_decay, seed=args.seed
    )
    start = time.perf_counter()
    trained = train_model(dataset, model_config, train_config)
    seconds = time.perf_counter() - start
    codes = encode_images(trained.model, dataset.train_images)
    within_train = knn_accuracy(codes[::2], dataset.train_labels[::2], codes[1::2], dataset.train_labels[1::2])
    final = {k: round(v, 4) for k, v in trained.history.train[-1].items()}
    print(
        f"{vars(args)} | test MSE {trained.metrics.test_mse:.4f} | 5-NN {trained.metrics.knn_accuracy:.3f} "
        f"| 5-NN within train {within_train:.3f} | train {final} | params {count_parameters(trained.model)} "
        f"| {seconds:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
