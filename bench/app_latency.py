"""How fast the running app feels in a real browser: first render of Explore, and click-to-image latency.

    .venv/bin/python bench/app_latency.py [--cold 2] [--warm 5] [--clicks 30]

Starts its own servers on 127.0.0.1 (``streamlit run app.py`` and ``streamlit run bench/minimal_scatter.py``)
and drives Debian's Chromium through Playwright; every server and the browser are stopped on exit.

- First render: milliseconds from navigation start (the page's ``performance.now()`` time origin) until the
  Explore plane is drawn with all its points (``window.__aelab.planes['explore.plane'].drawn`` and the
  plot's traces holding every point: plotly's ``_fullData[i]._length``), beside the same for a minimal Streamlit page that draws a plotly
  scatter of the same points with ``st.plotly_chart`` (the plotly div's traces holding every point).
  *Cold*: the first session on a freshly started server (Explore includes importing torch and loading
  the model); each cold run starts a new pair of servers. *Warm*: a new browser context on the already
  warm server, app and minimal page interleaved. Ratios app / minimal are measured in the same run.
- Click latency: on one Explore page, clicks at ``--clicks`` different empty spots of the plane; the time
  from the pointerdown (page clock) to the first nearest real sample changing its ``src``. Since the
  live-decoding issue (#12) the page draws the decoded image itself at once (bench/live.py times that), so
  this times the server's answer to a click. The figures from before #12 timed the server-decoded image
  (then the first ``st.image`` of the page).

Absolute times depend on the machine's load (2 shared cores here); the ratios are the robust figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, run_streamlit  # noqa: E402
from tests.browser.live import NEAREST_PICTURES  # noqa: E402

VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 180_000
DECODED = NEAREST_PICTURES  # .first: the nearest real sample, which a click's server run redraws

# Both return the page clock (ms since navigation start) once the scatter holds all n points, else false.
APP_DRAWN = """n => {
    const plane = window.__aelab?.planes?.['explore.plane'];
    if (!plane?.drawn || !plane.gd._fullData) return false;
    return plane.gd._fullData.reduce((sum, t) => sum + (t._length || 0), 0) === n ? performance.now() : false;
}"""
MINIMAL_DRAWN = """n => {
    const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
    if (!gd?._fullLayout || !gd._fullData) return false;
    return gd._fullData.reduce((sum, t) => sum + (t._length || 0), 0) === n ? performance.now() : false;
}"""

# Page pixels inside the plot area whose nearest point is at least `gap` px away, spread over the plane.
EMPTY_SPOTS = """([count, gap]) => {
    const gd = window.__aelab.planes['explore.plane'].gd;
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
    const points = [];
    for (const t of gd.data) for (let i = 0; i < t.x.length; i++) points.push([xa.d2p(t.x[i]), ya.d2p(t.y[i])]);
    const spots = [];
    for (let fx = 0.04; fx < 0.97; fx += 0.03) for (let fy = 0.04; fy < 0.97; fy += 0.03) {
        const px = fx * box.width, py = fy * box.height;
        let nearest = Infinity;
        for (const [qx, qy] of points) nearest = Math.min(nearest, Math.hypot(qx - px, qy - py));
        if (nearest >= gap) spots.push({ x: box.left + px, y: box.top + py, nearest });
    }
    // Greedy spread: each next spot as far as possible from the ones already chosen.
    const chosen = spots.length ? [spots[0]] : [];
    while (chosen.length < Math.min(count, spots.length)) {
        let best = null, bestDistance = -1;
        for (const s of spots) {
            const d = Math.min(...chosen.map(c => Math.hypot(c.x - s.x, c.y - s.y)));
            if (d > bestDistance) { best = s; bestDistance = d; }
        }
        chosen.push(best);
    }
    return chosen;
}"""

CLICK_CLOCK = """() => {
    if (!window.__benchClock) {
        window.__benchClock = true;
        document.addEventListener('pointerdown', () => { window.__pressedAt = performance.now(); }, true);
    }
    window.__pressedAt = null;
}"""
SRC_CHANGED = f"""old => {{
    const img = document.querySelector("{NEAREST_PICTURES}");
    if (!img || img.src === old || window.__pressedAt === null) return false;
    return performance.now() - window.__pressedAt;
}}"""


def plane_points() -> tuple[np.ndarray, np.ndarray, str]:
    """The Explore plane's default points: codes of all 5,000 MNIST-5k images under the model the app opens on
    (the first shipped MNIST-5k model that passes its SHA-256 check, normally the VAE), labels, its name."""
    from aelab.data import load_dataset
    from aelab.errors import AelabError
    from aelab.latent import encode_images
    from aelab.recipes import PRETRAINED, load_pretrained

    dataset = load_dataset("mnist5k")
    for recipe in (r for r in PRETRAINED if r.dataset == "mnist5k" and r.path.is_file()):
        try:
            model = load_pretrained(recipe.name).model
        except AelabError as error:
            print(f"skipping {recipe.name}: {error}", flush=True)
            continue
        codes = encode_images(model, dataset.images)
        return codes.astype(np.float32), np.asarray(dataset.labels), recipe.name
    raise SystemExit("no shipped MNIST-5k model passes its check; run `aelab pretrain`")


def first_render_ms(page: Page, url: str, signal: str, n: int) -> float:
    page.set_viewport_size(VIEWPORT)
    page.goto(url)
    handle = page.wait_for_function(signal, arg=n, polling="raf", timeout=TIMEOUT_MS)
    return float(handle.json_value())


def open_fresh(browser, url: str, signal: str, n: int) -> float:
    """First-render time in a new browser context (a new Streamlit session, nothing cached in the browser)."""
    context = browser.new_context()
    try:
        return first_render_ms(context.new_page(), url, signal, n)
    finally:
        context.close()


def click_latencies(page: Page, clicks: int) -> list[float]:
    """ms from pointerdown to the decoded image's new src, for ``clicks`` clicks at different empty spots."""
    page.locator(DECODED).first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    spots = page.evaluate(EMPTY_SPOTS, [clicks, 12])
    if len(spots) < clicks:
        raise RuntimeError(f"found only {len(spots)} empty spots on the plane")
    latencies = []
    for spot in spots:
        old = page.locator(DECODED).first.get_attribute("src")
        page.mouse.move(spot["x"], spot["y"])
        page.wait_for_timeout(300)  # plotly reacts to a click only after the pointer rested on the spot
        page.evaluate(CLICK_CLOCK)
        page.mouse.click(spot["x"], spot["y"])
        handle = page.wait_for_function(SRC_CHANGED, arg=old, polling="raf", timeout=30_000)
        latencies.append(float(handle.json_value()))
        page.wait_for_timeout(400)  # let the fragment's run finish (nearest samples) before the next click
    return latencies


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", type=int, default=2, help="cold starts (each on new servers)")
    parser.add_argument("--warm", type=int, default=5, help="warm first renders per page")
    parser.add_argument("--clicks", type=int, default=30)
    args = parser.parse_args(argv)

    points, labels, model_name = plane_points()
    n = len(points)
    print(f"Explore opens on {model_name}: {n} points", flush=True)
    logs = Path(tempfile.mkdtemp(prefix="aelab-bench-"))
    np.savez(logs / "points.npz", points=points, labels=labels)
    env = {"AELAB_BENCH_POINTS": str(logs / "points.npz")}
    app, minimal = REPO / "app.py", REPO / "bench" / "minimal_scatter.py"

    cold_app, cold_min, warm_app, warm_min, clicks = [], [], [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for run in range(args.cold):
                last = run == args.cold - 1
                with run_streamlit(app, log_path=logs / f"app-{run}.log") as app_url, \
                        run_streamlit(minimal, log_path=logs / f"min-{run}.log", env=env) as min_url:  # fmt: skip
                    cold_min.append(open_fresh(browser, min_url, MINIMAL_DRAWN, n))
                    cold_app.append(open_fresh(browser, app_url, APP_DRAWN, n))
                    print(f"cold {run + 1}: app {cold_app[-1]:.0f} ms, minimal {cold_min[-1]:.0f} ms", flush=True)
                    if not last:
                        continue
                    for i in range(args.warm):
                        warm_min.append(open_fresh(browser, min_url, MINIMAL_DRAWN, n))
                        warm_app.append(open_fresh(browser, app_url, APP_DRAWN, n))
                        print(f"warm {i + 1}: app {warm_app[-1]:.0f} ms, minimal {warm_min[-1]:.0f} ms", flush=True)
                    context = browser.new_context()
                    page = context.new_page()
                    first_render_ms(page, app_url, APP_DRAWN, n)
                    clicks = click_latencies(page, args.clicks)
                    context.close()
        finally:
            browser.close()

    median = statistics.median
    print()
    print("| measure | aelab Explore | minimal st.plotly_chart page | ratio |")
    print("|---|---|---|---|")
    print(
        f"| cold first render, median of {len(cold_app)} (ms) | {median(cold_app):.0f} | {median(cold_min):.0f} "
        f"| {median(cold_app) / median(cold_min):.2f} |"
    )
    print(
        f"| warm first render, median of {len(warm_app)} (ms) | {median(warm_app):.0f} | {median(warm_min):.0f} "
        f"| {median(warm_app) / median(warm_min):.2f} |"
    )
    print()
    print(f"cold app runs (ms): {[round(v) for v in cold_app]}; minimal: {[round(v) for v in cold_min]}")
    print(f"warm app runs (ms): {[round(v) for v in warm_app]}; minimal: {[round(v) for v in warm_min]}")
    print(
        f"click to new image over {len(clicks)} clicks: median {median(clicks):.0f} ms, "
        f"p95 {percentile(clicks, 95):.0f} ms, min {min(clicks):.0f}, max {max(clicks):.0f}"
    )
    print(f"server logs: {logs}")
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
