"""Scale: encode time and Explore's first render for 5,000 versus 70,000 points.

Run: ``.venv/bin/python bench/scale.py`` (about a minute on 2 cores). The 70k set is full MNIST when it is
in the per-user cache (``aelab data fetch mnist``), else a stand-in of MNIST's size: the 5,000 bundled
digits repeated 14 times with a little pixel noise (same shape, dtype and value statistics). The model is
the shipped ``mnist5k-vae``. Explore's first render is one AppTest run of app.py on a cold cache for that
dataset (the session's upload path, so the dataset is not re-read from disk); it covers encoding, the plane
payload and the decoded views, not the browser's drawing. The plane's payload size is printed too: it is
what the browser receives. Absolute seconds depend on the shared machine; the 70k / 5k ratios are measured
in the same process, back to back.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aelab.checkpoint import load_checkpoint  # noqa: E402
from aelab.data import Dataset, load_dataset, make_dataset  # noqa: E402
from aelab.latent import encode_images  # noqa: E402
from aelab.recipes import PRETRAINED_DIR  # noqa: E402
from aelab.sources import is_cached  # noqa: E402

REPEATS = 3


def mnist_sized() -> tuple[Dataset, str]:
    """70,000 28×28 digits: full MNIST if cached, else the generated stand-in."""
    if is_cached("mnist"):
        return load_dataset("mnist"), "full MNIST (cached)"
    small = load_dataset("mnist5k")
    rng = np.random.default_rng(0)
    images = np.tile(small.images, (14, 1, 1, 1))
    images = np.clip(images + rng.normal(0, 0.02, images.shape).astype(np.float32), 0, 1)
    return make_dataset(
        "upload-bench70k", images, np.tile(small.labels, 14), small.label_names
    ), "stand-in (mnist5k × 14 + noise)"


def time_encode(model, images: np.ndarray) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        encode_images(model, images)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_explore(dataset: Dataset, checkpoint) -> tuple[float, int]:
    """Seconds of one cold Explore run of app.py with ``dataset`` as this session's dataset, and the plane payload bytes."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from aelab.ui.cache import SESSION_DATASETS_KEY, SessionDatasets
    from aelab.ui.state import ModelEntry, Selection

    st.cache_data.clear()
    st.cache_resource.clear()  # the plane map too: nothing of this dataset's is cached before the run
    entry = ModelEntry(
        f"session:bench-{dataset.name}",
        "bench",
        "session",
        replace(checkpoint, header=replace(checkpoint.header, dataset=dataset.name)),
    )
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    app.session_state[SESSION_DATASETS_KEY] = SessionDatasets({dataset.name: dataset}, {"bench": dataset.name})
    app.session_state["aelab.selection"] = Selection(
        dataset=dataset.name, model={dataset.name: entry.id}, entries=[entry]
    )
    start = time.perf_counter()
    app.run()
    seconds = time.perf_counter() - start
    assert not app.exception, [e.value for e in app.exception]
    plane = next(c for c in app.get("bidi_component") if json.loads(c.proto.json or "{}").get("key") == "explore.plane")
    return seconds, len(plane.proto.json)


def main() -> None:
    torch.set_num_threads(2)
    checkpoint = load_checkpoint(
        PRETRAINED_DIR / "mnist5k-vae.safetensors"
    )  # pretrained/ may be mid-rebuild: no manifest check
    small = load_dataset("mnist5k")
    small = make_dataset("upload-bench5k", small.images, small.labels, small.label_names)
    large, origin = mnist_sized()
    model = checkpoint.model

    time_explore(small, checkpoint)  # warm-up: imports, plotly, the component's assets
    rows = []
    for dataset in (small, large):
        explore, payload = time_explore(dataset, checkpoint)
        encode = time_encode(model, dataset.images)
        rows.append((len(dataset), encode, explore, payload))
    (_n5, e5, x5, p5), (_n70, e70, x70, p70) = rows
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, Python {platform.python_version()}")
    print(f"70k set: {origin}; model: mnist5k-vae; encode: median of {REPEATS}; Explore: one cold AppTest run")
    print("| points | encode (s) | Explore first render (s) | plane payload (MB) |")
    print("|---:|---:|---:|---:|")
    for n, encode, explore, payload in rows:
        print(f"| {n:,} | {encode:.3f} | {explore:.2f} | {payload / 1e6:.2f} |")
    print(f"| ratio 70k / 5k | {e70 / e5:.1f}× | {x70 / x5:.1f}× | {p70 / p5:.1f}× |")


if __name__ == "__main__":
    main()
