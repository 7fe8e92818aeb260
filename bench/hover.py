"""Hover decoding in the browser versus a click's server round trip, on the real Explore page.

Starts `streamlit run app.py`, opens it in Debian's Chromium (Playwright), and for the shipped MLP model
(the sidebar's default) and a convolutional model measures, in the same run:

- decode ms: one call of decoder.js's forward pass in the page (median of 300 at random plane points);
- hover fps: preview decodes completed per second while the mouse moves over the plane in small steps
  (the widget's `window.__aelab.debug.hoverDecodes` counter), beside the pointer events per second the
  page received (the widget decodes at most once per display frame, so fps ≤ min(events/s, frame rate));
- click ms: time from a click on the plane to the first server-drawn image in the page changing (median of
  8). Since issue 12 the page draws the decoded image itself at once, and the first server image is the
  nearest real sample: this is now the server's round trip for the nearest samples (bench/live.py times
  the decoded image and the nearest samples separately).

The conv model is pretrained/mnist5k-conv.safetensors when it exists, otherwise a model of the same recipe
trained for one epoch (decode cost depends on the layer shapes, not on the weights; the table says which);
either is uploaded through the sidebar.

    .venv/bin/python bench/hover.py [--clicks 8] [--moves 400]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser.conftest import CHROMIUM, CHROMIUM_ARGS, run_streamlit  # noqa: E402
from browser.live import NEAREST_PICTURES  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

PLANE = "window.__aelab.planes['explore.plane']"
DECODED_SRC = f'() => document.querySelector("{NEAREST_PICTURES}")?.src'  # the server's answer to a click


def conv_checkpoint(workdir: Path) -> tuple[Path, str]:
    """The shipped conv checkpoint, or a one-epoch model of its recipe (same layer shapes) and a note."""
    from aelab.recipes import PRETRAINED

    recipe = next(r for r in PRETRAINED if r.name == "mnist5k-conv")
    if recipe.path.is_file():
        return recipe.path, "shipped"
    from dataclasses import replace

    from aelab.data import load_dataset
    from aelab.recipes import train_model

    print("pretrained/mnist5k-conv.safetensors is absent: training its recipe for 1 epoch to get the same shapes")
    trained = train_model(load_dataset(recipe.dataset), recipe.model, replace(recipe.train, epochs=1))
    return trained.checkpoint.save(
        workdir / "mnist5k-conv-1epoch.safetensors"
    ), "recipe shapes, 1 epoch (shipped file absent)"


def wait_for_decoder(page: Page, kind: str | None = None) -> None:
    condition = f"!!window.__aelab?.planes?.['explore.plane']?.drawn && !!{PLANE}.decoder"
    if kind:
        condition += f" && {PLANE}.decoder.kind === '{kind}'"
    page.wait_for_function(f"() => {condition}", timeout=180_000)
    page.wait_for_timeout(1500)


def plot_box(page: Page) -> dict[str, float]:
    return page.evaluate(
        f"() => {{ const r = {PLANE}.gd.querySelector('.nsewdrag').getBoundingClientRect();"
        " return { left: r.left, top: r.top, width: r.width, height: r.height }; }"
    )


def decode_ms(page: Page, n: int = 300) -> float:
    return page.evaluate(
        f"""(n) => {{
            const d = {PLANE}.decoder, gd = {PLANE}.gd;
            const [x0, x1] = gd._fullLayout.xaxis.range, [y0, y1] = gd._fullLayout.yaxis.range;
            const times = [];
            for (let i = 0; i < n; i++) {{
                const x = x0 + Math.random() * (x1 - x0), y = y0 + Math.random() * (y1 - y0);
                const t = performance.now();
                d.decodePlane(x, y);
                times.push(performance.now() - t);
            }}
            times.sort((a, b) => a - b);
            return times[Math.floor(n / 2)];
        }}""",
        n,
    )


def hover_rate(page: Page, box: dict[str, float], moves: int) -> tuple[float, float, float]:
    """(decodes per second, pointer events per second, seconds) over `moves` small mouse steps."""
    page.evaluate(
        f"() => {{ window.__benchMoves = 0; {PLANE}.gd.addEventListener('pointermove', () => window.__benchMoves++, true); }}"
    )
    left, top, width, height = box["left"], box["top"], box["width"], box["height"]
    page.mouse.move(left + 0.1 * width, top + 0.5 * height)
    page.wait_for_timeout(200)
    start = page.evaluate("() => [performance.now(), window.__aelab.debug.hoverDecodes, window.__benchMoves]")
    for i in range(moves // 20):
        # A zigzag over the plot in 20-step segments of about 3 pixels a step, like a hand moving the mouse
        # (each segment is one Playwright call, so the events come at the browser's pace, not Python's).
        fx = 0.1 + 0.8 * ((i % 10) + 1) / 10 if (i // 10) % 2 == 0 else 0.9 - 0.8 * ((i % 10) + 1) / 10
        fy = 0.35 + 0.3 * (i % 2)
        page.mouse.move(left + fx * width, top + fy * height, steps=20)
    page.wait_for_timeout(50)
    end = page.evaluate("() => [performance.now(), window.__aelab.debug.hoverDecodes, window.__benchMoves]")
    seconds = (end[0] - start[0]) / 1000
    return (end[1] - start[1]) / seconds, (end[2] - start[2]) / seconds, seconds


def click_latencies(page: Page, box: dict[str, float], clicks: int) -> list[float]:
    """Milliseconds from mouse release to a new decoded image in the page, for clicks at different spots."""
    latencies = []
    for i in range(clicks):
        fx, fy = 0.15 + 0.7 * ((i * 0.37) % 1), 0.15 + 0.7 * ((i * 0.61 + 0.2) % 1)
        page.mouse.move(box["left"] + fx * box["width"], box["top"] + fy * box["height"], steps=3)
        page.wait_for_timeout(400)  # plotly acts on a click only after the pointer rests
        before = page.evaluate(DECODED_SRC)
        page.mouse.down()
        start = time.perf_counter()
        page.mouse.up()
        page.wait_for_function(f"(before) => ({DECODED_SRC})() !== before", arg=before, polling="raf", timeout=30_000)
        latencies.append(1000 * (time.perf_counter() - start))
        page.wait_for_timeout(700)  # let the rerun finish before the next click
    return latencies


def measure(page: Page, label: str, note: str, moves: int, clicks: int) -> list[str]:
    box = plot_box(page)
    hover_rate(page, box, 100)  # warm-up: JIT, first paints
    spec = page.evaluate(f"() => [{PLANE}.decoder.kind, {PLANE}.decoder.imageShape]")
    ms = decode_ms(page)
    fps, events, seconds = hover_rate(page, box, moves)
    latencies = click_latencies(page, box, clicks)
    click_ms = statistics.median(latencies)
    print(
        f"{label}: decode {ms:.2f} ms, hover {fps:.1f} decodes/s over {seconds:.1f} s ({events:.0f} pointer events/s), "
        f"click {click_ms:.0f} ms (min {min(latencies):.0f}, max {max(latencies):.0f})"
    )
    return [label, spec[0], note, f"{ms:.2f}", f"{fps:.1f}", f"{events:.0f}", f"{click_ms:.0f}",
            f"{min(latencies):.0f}–{max(latencies):.0f}", f"{click_ms / (1000 / fps):.1f}×"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=8)
    parser.add_argument("--moves", type=int, default=400)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        conv_path, conv_note = conv_checkpoint(Path(tmp))
        with (
            run_streamlit(REPO / "app.py", log_path=Path(tmp) / "streamlit.log", timeout_s=180) as url,
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            wait_for_decoder(page)
            title = page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer'] strong").first.inner_text()
            rows.append(measure(page, title.strip(), "shipped (sidebar default)", args.moves, args.clicks))
            # Uploaded through the sidebar whether shipped or not: the same path works for both.
            page.locator("[data-testid='stSidebar'] input[type='file']").first.set_input_files(str(conv_path))
            wait_for_decoder(page, "conv")
            rows.append(measure(page, "mnist5k conv", conv_note, args.moves, args.clicks))
            browser.close()
    header = ["model", "kind", "weights", "decode ms (JS, median)", "hover decodes/s", "pointer events/s",
              "click → image ms (median)", "click range ms", "click / hover frame"]  # fmt: skip
    print()
    print(
        f"{datetime.date.today()} · {platform.node()} · {platform.processor() or platform.machine()} · "
        f"Chromium headless · {args.moves} mouse steps, {args.clicks} clicks per model"
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
