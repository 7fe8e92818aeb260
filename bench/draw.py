"""Drawings versus the real digits, and the browser's time per stroke update, for every shipped MNIST model.

1. **Re-render every test digit as a canvas drawing.** Each of the 1,000 MNIST-5k test digits is drawn as
   it would arrive from the 280×280 canvas: its 28×28 frame scaled to a random size (140–260 px, so the
   ink is about 100–185 px tall: 10× and thereabouts) by bilinear interpolation, binarised at 0.5 (strokes,
   not grey levels), its pen width changed by a random radius (eroded by up to 3 px or dilated by up to
   8 px), and the ink placed at a random offset inside the canvas. Seeded (``--seed``).
2. **For each shipped MNIST model**, the drawings go through :func:`aelab.draw.preprocess` and the encoder:
   - ``fidelity_ratio``: the 5-NN label accuracy of the drawings' codes (neighbours among the training
     codes) divided by the same model's accuracy on the original test images (target ≥ 0.95);
   - ``median_code_shift``: the median distance between a drawing's code and its original's code,
     relative to the spread of the test codes (the root of their total variance).
3. **The browser side**: the real Draw page (``streamlit run app.py``, Debian's Chromium headless), each
   model picked in the sidebar, ``--strokes`` mouse strokes drawn; every live update (read the canvas,
   preprocess, encode, decode, redraw input, reconstruction and plane), as canvas.js times it into
   ``window.__aelabDraw.timings``: p50 and p95 ms (target p95 ≤ 16.7 ms for the MLP models).

    .venv/bin/python bench/draw.py [--strokes 12] [--seed 0] [--json PATH] [--no-browser]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from aelab.baselines import knn_accuracy  # noqa: E402
from aelab.data import load_dataset  # noqa: E402
from aelab.draw import CANVAS_SIDE, MNIST_CONVENTION, preprocess  # noqa: E402
from aelab.latent import encode_images  # noqa: E402
from aelab.recipes import PRETRAINED, load_pretrained  # noqa: E402

SHORT_TITLES = {"ae": "AE (MLP)", "conv": "Conv AE", "vae": "VAE", "dae": "Denoising AE", "umap-ae": "UMAP-AE"}


def as_drawing(digit: np.ndarray, rng: np.random.Generator, canvas: int = CANVAS_SIDE) -> np.ndarray:
    """A 28×28 digit in [0, 1] -> binary ink (canvas, canvas) as the canvas would send it (see the docstring)."""
    size = int(rng.integers(140, 261))
    image = Image.fromarray(digit.astype(np.float32), mode="F").resize((size, size), Image.Resampling.BILINEAR)
    ink = np.asarray(image) > 0.5
    radius = rng.uniform(-3, 8)
    if radius > 0:
        ink = ndimage.distance_transform_edt(~ink) <= radius
    elif radius < 0:
        thinner = ndimage.distance_transform_edt(ink) > -radius
        ink = thinner if thinner.sum() > 0.3 * ink.sum() else ink  # never erase most of a thin digit
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = min(crop.shape[0], canvas), min(crop.shape[1], canvas)
    top, left = int(rng.integers(0, canvas - h + 1)), int(rng.integers(0, canvas - w + 1))
    out = np.zeros((canvas, canvas))
    out[top : top + h, left : left + w] = crop[:h, :w]
    return out


def fidelity(seed: int) -> dict[str, dict[str, float]]:
    data = load_dataset("mnist5k")
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    drawn = np.stack([preprocess(as_drawing(d[0], rng), MNIST_CONVENTION) for d in data.test_images])
    print(f"re-rendered {len(drawn)} test digits as drawings in {time.perf_counter() - started:.1f} s")
    results = {}
    for recipe in PRETRAINED:
        if recipe.dataset != "mnist5k" or not recipe.path.is_file():
            continue
        model = load_pretrained(recipe.name).model
        train = encode_images(model, data.train_images)
        original = encode_images(model, data.test_images)
        drawing = encode_images(model, drawn)
        accuracy = knn_accuracy(train, data.train_labels, original, data.test_labels)
        drawn_accuracy = knn_accuracy(train, data.train_labels, drawing, data.test_labels)
        spread = math.sqrt(float(original.var(axis=0).sum()))
        shift = float(np.median(np.linalg.norm(drawing - original, axis=1))) / spread
        results[recipe.name] = {
            "kind": recipe.model.kind,
            "accuracy_original": accuracy,
            "accuracy_drawn": drawn_accuracy,
            "fidelity_ratio": drawn_accuracy / accuracy,
            "median_code_shift": shift,
        }
        print(f"{recipe.name}: 5-NN {accuracy:.3f} original, {drawn_accuracy:.3f} drawn; shift {shift:.3f}")
    return results


def stroke_points(rng: np.random.Generator) -> list[tuple[float, float]]:
    """A wobbly stroke of about 40 mouse moves across the canvas."""
    start = rng.uniform(50, 230, 2)
    steps = rng.normal(0, 6, (40, 2)).cumsum(axis=0) + np.linspace(0, 1, 40)[:, None] * rng.uniform(-120, 120, 2)
    return [tuple(p) for p in np.clip(start + steps, 5, CANVAS_SIDE - 5)]


def browser_times(names: dict[str, str], strokes: int, seed: int) -> dict[str, list[float]]:
    """name -> the page's live update times (ms) while drawing ``strokes`` strokes with the model picked."""
    from browser.conftest import CHROMIUM, CHROMIUM_ARGS, run_streamlit
    from playwright.sync_api import sync_playwright

    instance = "window.__aelabDraw.instances['aelab-draw']"
    times: dict[str, list[float]] = {}
    rng = np.random.default_rng(seed)
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_streamlit(REPO / "app.py", log_path=Path(tmp) / "streamlit.log", timeout_s=180) as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{url}/draw")
        page.wait_for_function("() => !!window.__aelabDraw?.instances?.['aelab-draw']?.encoder", timeout=180_000)
        for name, kind in names.items():
            page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Model").click()
            page.get_by_role("option", name=f"{SHORT_TITLES[kind]} · pretrained", exact=True).click()
            page.wait_for_function(f"() => {instance}.encoder?.kind === '{kind}'", timeout=180_000)
            page.wait_for_timeout(1500)
            box = page.get_by_test_id("aelab-draw-canvas").bounding_box()
            page.locator("[data-tool='clear']").click()
            page.evaluate("() => { window.__aelabDraw.timings = []; }")
            for _ in range(strokes):
                points = stroke_points(rng)
                page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
                page.mouse.down()
                for x, y in points[1:]:
                    page.mouse.move(box["x"] + x, box["y"] + y)
                page.mouse.up()
                page.wait_for_timeout(200)
            times[name] = page.evaluate("() => window.__aelabDraw.timings.slice()")
            print(f"{name}: {len(times[name])} live updates, p95 {np.percentile(times[name], 95):.2f} ms")
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=12, help="mouse strokes drawn per model in the browser")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser timing")
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = fidelity(args.seed)
    timings = {}
    if not args.no_browser:
        timings = browser_times({n: r["kind"] for n, r in results.items()}, args.strokes, args.seed)
    load_after = os.getloadavg()
    print()
    print(
        f"{datetime.date.today()} · {platform.node()} · {os.cpu_count()} cores · load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after · seed {args.seed} · {args.strokes} strokes per model"
    )
    header = ["model", "5-NN original", "5-NN drawn", "fidelity ratio", "median code shift",
              "live updates", "update p50 ms", "update p95 ms"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    out = {}
    for name, r in results.items():
        t = timings.get(name)
        p50, p95 = (float(np.percentile(t, 50)), float(np.percentile(t, 95))) if t else (None, None)
        cells = [name, f"{r['accuracy_original']:.3f}", f"{r['accuracy_drawn']:.3f}", f"{r['fidelity_ratio']:.3f}",
                 f"{r['median_code_shift']:.3f}", str(len(t)) if t else "–", f"{p50:.2f}" if t else "–",
                 f"{p95:.2f}" if t else "–"]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
        out[name] = {"fidelity_ratio": r["fidelity_ratio"], "median_code_shift": r["median_code_shift"],
                     "stroke_p95_ms": p95}  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"models": out}, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
