"""Live decoding on the real Explore page: from an input event to the decoded pixels, per gesture, per model.

Starts `streamlit run app.py`, opens it in Debian's Chromium (Playwright) at 1,400 × 1,000, and for each
shipped MNIST-5k model (every entry of the sidebar's model picker on MNIST-5k) measures in the page:

- event → pixels (ms, p50 / p95): `performance.now()` after the decoded image is drawn minus the input
  event's `timeStamp` (plane.js records it per gesture in `plane.timings`), for
  - click: `--clicks` clicks at different spots, the button held 80 ms as a hand does (from the pointer-up);
  - drag: one drag of the cross with `--moves` pointer moves (≥ 200), from each move to its frame's draw;
  - slider: a drag of the z₁ slider of the panel, `--moves` / 2 pointer moves;
  - keys: `--keys` arrow-key presses on the focused plot;
  - interpolation: one drag of the end A (taken by its disc) with `--moves` pointer moves, from each move
    to the first images of its strip A → B drawn (as many of the 8 as fit in plane.js's 8 ms budget, nearest
    A first), and to the whole strip drawn (where a newer move did not replace it first);
- drag frames share: animation frames during a cross drag that drew a new image / all its frames, for a
  drag scripted in the page (pointer events every 4 ms, as a fast mouse sends them: whether decoding keeps
  up with the display); the Playwright drag's share is printed too, but it is bounded by how fast
  Playwright delivers input events on the machine (one per frame at best), not by the decoder;
- messages and bytes per gesture: websocket frames the page sent from a gesture's start until the app is
  idle again, divided by the gestures (target ≤ 1), and during the drags (target 0);
- neighbours ms: from a click's pointer-up to the server's nearest samples changing in the page (p50);
- server round trip ms: from a click's pointer-up to the server's answer to that gesture in the page (the
  relay naming its nonce): what a click cost when the server decoded the image, measured in the same run.

    .venv/bin/python bench/live.py [--clicks 20] [--moves 240] [--keys 30] [--json live.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser.conftest import CHROMIUM, CHROMIUM_ARGS, run_streamlit, wait_until_idle  # noqa: E402
from browser.live import APP_PLANE, NEAREST_PICTURES, Frames, cross, plot_box, slider_thumb  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

MODEL_PICKER = "[data-testid='stSidebar'] [data-testid='stSelectbox']:has-text('Model')"
TARGET_MS = {"conv": 33.0}  # p95 targets: 16.7 ms for the MLP decoders, 33 ms for conv
MLP_TARGET_MS = 16.7
STEPS = 8  # pointer events per Playwright mouse.move call
CLICK_HOLD_MS = 80  # a person's click holds the button about this long (plotly's press handling runs meanwhile)

# Marks the time (performance.now) whenever the first nearest-sample image changes, and the server's answer.
WATCH = f"""() => {{
    window.__bench = {{ nearestAt: 0 }};
    const main = document.querySelector("[data-testid='stMain']");
    new MutationObserver(() => {{
        const img = document.querySelector("{NEAREST_PICTURES}");
        const src = img && img.getAttribute('src');
        if (src && src !== window.__bench.src) {{ window.__bench.src = src; window.__bench.nearestAt = performance.now(); }}
    }}).observe(main, {{ subtree: true, childList: true, attributes: true, attributeFilter: ['src'] }});
}}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def wait_for_model(page: Page, kind: str | None = None) -> None:
    condition = f"!!window.__aelab?.planes?.['explore.plane']?.drawn && !!{APP_PLANE}.decoder"
    if kind:
        condition += f" && {APP_PLANE}.decoder.kind === '{kind}'"
    page.wait_for_function(f"() => {condition}", timeout=180_000)
    wait_until_idle(page)
    page.evaluate(WATCH)


def model_options(page: Page) -> list[str]:
    picker = page.locator(MODEL_PICKER).first
    picker.locator("button[aria-label='Open']").click()
    options = page.locator("[role='listbox'] [role='option']")
    options.first.wait_for(timeout=10_000)
    titles = [t.strip() for t in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return titles


def choose_model(page: Page, title: str) -> None:
    page.locator(MODEL_PICKER).first.locator("button[aria-label='Open']").click()
    page.locator("[role='listbox'] [role='option']", has_text=title).first.click()
    page.wait_for_timeout(500)


def reset_timings(page: Page) -> None:
    page.evaluate(
        f"() => {{ const p = {APP_PLANE}; p.timings = {{click: [], drag: [], slider: [], key: [], ends: [], endsFull: []}};"
        " p.dragStats = {frames: 0, drawn: 0}; }"
    )


def settle(page: Page) -> None:
    """Wait until the server has answered the last gesture and the app is idle."""
    page.wait_for_function(
        f"() => window.__aelab.selected['explore.plane']?.n === {APP_PLANE}.lastSent", timeout=60_000
    )
    wait_until_idle(page, quiet_ms=400)


def clicks(page: Page, frames: Frames, n: int) -> dict[str, list[float]]:
    box = plot_box(page, APP_PLANE)
    neighbours, round_trips, sent, sent_bytes = [], [], 0, 0
    for i in range(n):
        fx, fy = 0.12 + 0.76 * ((i * 0.37) % 1), 0.12 + 0.76 * ((i * 0.61 + 0.2) % 1)
        page.mouse.move(box["left"] + fx * box["width"], box["top"] + fy * box["height"], steps=2)
        page.wait_for_timeout(300)  # plotly acts on a click only after the pointer rests
        mark = len(frames.sent)
        page.mouse.down()
        page.wait_for_timeout(CLICK_HOLD_MS)
        page.mouse.up()
        answered = page.wait_for_function(
            f"""() => {{ const p = {APP_PLANE}, r = window.__aelab.selected['explore.plane'];
                return r?.n === p.lastSent && window.__bench.nearestAt > p.releasedAt
                    ? [window.__bench.nearestAt - p.releasedAt, window.__benchAt['explore.plane'] - p.releasedAt] : false; }}""",
            polling="raf",
            timeout=60_000,
        ).json_value()
        neighbours.append(answered[0])
        round_trips.append(answered[1])
        wait_until_idle(page, quiet_ms=400)
        sent += len(frames.sent[mark:])
        sent_bytes += sum(frames.sent[mark:])
    times = page.evaluate(f"() => {APP_PLANE}.timings.click")
    return {"times": times, "neighbours": neighbours, "round_trips": round_trips, "messages": [sent / n],
            "bytes": [sent_bytes / n]}  # fmt: skip


def loop_drag(page: Page, frames: Frames, box: dict, grab: tuple[float, float], moves: int) -> tuple[int, int]:
    """Press at ``grab``, drag around a loop over the plot in ``moves`` pointer moves, release, and let the page
    settle; returns (the index of the first websocket frame of the gesture, the frames sent during the drag)."""
    page.mouse.move(*grab)
    page.wait_for_timeout(300)
    mark = len(frames.sent)
    page.mouse.down()
    cx, cy = box["left"] + box["width"] / 2, box["top"] + box["height"] / 2
    r = 0.3 * min(box["width"], box["height"])
    # Eight pointer events per Playwright call, sent at the browser's pace (one call per event would pace
    # them at Python's round trip, slower than the display on a loaded machine).
    for i in range(1, moves // STEPS + 1):
        a = 2 * math.pi * i * STEPS / moves
        page.mouse.move(cx + r * math.cos(a), cy + r * math.sin(a), steps=STEPS)
    during = len(frames.sent[mark:])
    page.mouse.up()
    settle(page)
    return mark, during


def drag_cross(page: Page, frames: Frames, moves: int) -> dict[str, object]:
    box = plot_box(page, APP_PLANE)
    start = cross(page, APP_PLANE)
    mark, during = loop_drag(page, frames, box, (start["pageX"], start["pageY"]), moves)
    stats = page.evaluate(f"() => {APP_PLANE}.dragStats")
    return {"times": page.evaluate(f"() => {APP_PLANE}.timings.drag"), "during": during,
            "after": len(frames.sent[mark:]) - during, "bytes": sum(frames.sent[mark:]),
            "share": stats["drawn"] / max(1, stats["frames"]), "frames": stats["frames"]}  # fmt: skip


# A hand at a high-rate mouse, simulated in the page: pointer events every 4 ms (several per display frame),
# dispatched straight to the plot, so the share of frames with a new image shows whether decoding keeps up
# with the display rather than how fast Playwright can deliver input on a loaded machine.
SCRIPTED_DRAG = """async (moves) => {
    const p = window.__aelab.planes['explore.plane'], gd = p.gd, rect = gd.getBoundingClientRect();
    const area = gd.querySelector('.nsewdrag');
    const [sx, sy] = p.crossPixel;
    const event = (x, y) => ({ clientX: rect.left + x, clientY: rect.top + y, pointerId: 1, pointerType: 'mouse',
                               isPrimary: true, button: 0, buttons: 1, bubbles: true, cancelable: true });
    area.dispatchEvent(new PointerEvent('pointerdown', event(sx, sy)));
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const cx = xa._offset + xa._length / 2, cy = ya._offset + ya._length / 2, r = 0.3 * Math.min(xa._length, ya._length);
    await new Promise((resolve) => {
        let i = 0;
        const timer = setInterval(() => {
            const a = 2 * Math.PI * i / moves;
            gd.dispatchEvent(new PointerEvent('pointermove', event(cx + r * Math.cos(a), cy + r * Math.sin(a))));
            if (++i >= moves) { clearInterval(timer); resolve(); }
        }, 4);
    });
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const [ex, ey] = p.crossPixel;
    gd.dispatchEvent(new PointerEvent('pointerup', { ...event(ex, ey), buttons: 0 }));
}"""


def scripted_drag(page: Page, frames: Frames, moves: int) -> dict[str, object]:
    mark = len(frames.sent)
    page.evaluate(SCRIPTED_DRAG, moves)
    settle(page)
    stats = page.evaluate(f"() => {APP_PLANE}.dragStats")
    return {"times": page.evaluate(f"() => {APP_PLANE}.timings.drag"), "messages": len(frames.sent[mark:]),
            "share": stats["drawn"] / max(1, stats["frames"]), "frames": stats["frames"]}  # fmt: skip


def drag_slider(page: Page, frames: Frames, moves: int) -> dict[str, object]:
    thumb = slider_thumb(page, APP_PLANE, 0)
    page.mouse.move(thumb["x"], thumb["y"])
    page.wait_for_timeout(200)
    mark = len(frames.sent)
    page.mouse.down()
    for i in range(1, moves // STEPS + 1):
        # Back and forth over part of the track, a pixel or two a move.
        f = (i % 12) / 12
        x = thumb["x"] + (0.5 - abs(f - 0.5)) * thumb["width"] * 0.5 - thumb["width"] * 0.1
        page.mouse.move(x, thumb["y"], steps=STEPS)
    during = len(frames.sent[mark:])
    page.mouse.up()
    settle(page)
    return {"times": page.evaluate(f"() => {APP_PLANE}.timings.slider"), "during": during,
            "after": len(frames.sent[mark:]) - during, "bytes": sum(frames.sent[mark:])}  # fmt: skip


def drag_end(page: Page, frames: Frames, moves: int) -> dict[str, object]:
    """Drag the interpolation's end A by its lettered disc around a loop; every frame redraws the strip A → B."""
    box = plot_box(page, APP_PLANE)
    disc = page.evaluate(
        f"""() => {{ const p = {APP_PLANE}, r = p.gd.getBoundingClientRect(), [x, y] = p.endPixels.a;
            return [r.left + x + AelabPlane.END_TAG_PX, r.top + y - AelabPlane.END_TAG_PX, p.ends.steps]; }}"""
    )
    mark, during = loop_drag(page, frames, box, (disc[0], disc[1]), moves)
    stats = page.evaluate(f"() => {APP_PLANE}.dragStats")
    return {"times": page.evaluate(f"() => {APP_PLANE}.timings.ends"), "during": during, "steps": disc[2],
            "full": page.evaluate(f"() => {APP_PLANE}.timings.endsFull"),
            "after": len(frames.sent[mark:]) - during, "bytes": sum(frames.sent[mark:]),
            "share": stats["drawn"] / max(1, stats["frames"]), "frames": stats["frames"]}  # fmt: skip


def arrow_keys(page: Page, frames: Frames, presses: int) -> dict[str, object]:
    page.focus(".aelab-plot-box")
    mark = len(frames.sent)
    for i in range(presses):
        page.keyboard.press("ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft")
    settle(page)
    return {"times": page.evaluate(f"() => {APP_PLANE}.timings.key"), "messages": len(frames.sent[mark:]),
            "bytes": sum(frames.sent[mark:])}  # fmt: skip


def measure(page: Page, frames: Frames, args: argparse.Namespace) -> dict[str, object]:
    kind = page.evaluate(f"() => {APP_PLANE}.decoder.kind")
    # Warm-up: JIT and first paints (a few clicks and keys, not counted).
    reset_timings(page)
    clicks(page, frames, 2)
    reset_timings(page)
    click = clicks(page, frames, args.clicks)
    reset_timings(page)
    drag = drag_cross(page, frames, args.moves)
    reset_timings(page)
    scripted = scripted_drag(page, frames, args.moves)
    reset_timings(page)
    slider = drag_slider(page, frames, args.moves // 2)
    reset_timings(page)
    keys = arrow_keys(page, frames, args.keys)
    reset_timings(page)
    ends = drag_end(page, frames, args.moves)
    # The clicks, one cross drag, one slider drag, one run of keys and one drag of A (the scripted drag aside).
    gestures = args.clicks + 4
    messages = click["messages"][0] * args.clicks + drag["during"] + drag["after"]
    messages += slider["during"] + slider["after"] + keys["messages"] + ends["during"] + ends["after"]
    sent_bytes = click["bytes"][0] * args.clicks + drag["bytes"] + slider["bytes"] + keys["bytes"] + ends["bytes"]
    return {
        "kind": kind,
        "click_p50_ms": statistics.median(click["times"]),
        "click_p95_ms": percentile(click["times"], 95),
        "drag_p50_ms": statistics.median(drag["times"]),
        "drag_p95_ms": percentile(drag["times"], 95),
        "slider_p50_ms": statistics.median(slider["times"]),
        "slider_p95_ms": percentile(slider["times"], 95),
        "keys_p50_ms": statistics.median(keys["times"]),
        "keys_p95_ms": percentile(keys["times"], 95),
        "interp_p50_ms": statistics.median(ends["times"]),
        "interp_p95_ms": percentile(ends["times"], 95),
        "interp_full_p50_ms": statistics.median(ends["full"]),
        "interp_full_p95_ms": percentile(ends["full"], 95),
        "interp_full_draws": len(ends["full"]),
        "interp_steps": ends["steps"],
        "interp_draws": len(ends["times"]),
        "interp_frames_share": ends["share"],
        "interp_messages_during": ends["during"],
        "interp_messages_after": ends["after"],
        "drag_frames_share": scripted["share"],
        "drag_frames": scripted["frames"],
        "scripted_drag_p50_ms": statistics.median(scripted["times"]),
        "scripted_drag_p95_ms": percentile(scripted["times"], 95),
        "scripted_drag_messages": scripted["messages"],
        "playwright_drag_frames_share": drag["share"],
        "playwright_drag_frames": drag["frames"],
        "drag_draws": len(drag["times"]),
        "slider_draws": len(slider["times"]),
        "messages_during_drags": drag["during"] + slider["during"] + ends["during"],
        "messages_per_gesture": messages / gestures,
        "bytes_per_gesture": sent_bytes / gestures,
        "neighbours_p50_ms": statistics.median(click["neighbours"]),
        "neighbours_p95_ms": percentile(click["neighbours"], 95),
        "server_round_trip_p50_ms": statistics.median(click["round_trips"]),
        "server_round_trip_p95_ms": percentile(click["round_trips"], 95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--moves", type=int, default=240, help="pointer moves of the cross drag (≥ 200)")
    parser.add_argument("--keys", type=int, default=30)
    parser.add_argument("--models", nargs="*", help="only these kinds (e.g. vae conv); default: every shipped one")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    print(f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC · {platform.platform()} · "
          f"{os.cpu_count()} CPUs · load average {os.getloadavg()[0]:.2f} (1 min)")  # fmt: skip
    results: dict[str, dict[str, object]] = {}
    log = Path(tempfile.mkdtemp(prefix="aelab-live-")) / "streamlit.log"
    with run_streamlit(REPO / "app.py", log_path=log) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        frames = Frames()
        page.on("websocket", frames.on_websocket)
        # Stamp the relay's arrival time, so the server's answer can be timed in the page.
        page.add_init_script(
            "window.__aelab = window.__aelab || {}; window.__benchAt = {}; window.__aelab.selected = new Proxy({}, {"
            " set(t, k, v) { t[k] = v; window.__benchAt[k] = performance.now(); return true; } });"
        )
        page.goto(url)
        wait_for_model(page)
        titles = model_options(page)
        for title in titles:
            current = page.locator(MODEL_PICKER).first.get_by_role("combobox").input_value().strip()
            if current != title:
                before = page.evaluate(f"() => {APP_PLANE}.decoder.id")
                choose_model(page, title)
                page.wait_for_function(f"(id) => {APP_PLANE}?.decoder && {APP_PLANE}.decoder.id !== id", arg=before,
                                       timeout=180_000)  # fmt: skip
            wait_for_model(page)
            kind = page.evaluate(f"() => {APP_PLANE}.decoder.kind")
            if args.models and kind not in args.models:
                continue
            name = f"mnist5k-{kind}"
            results[name] = {"title": title, **measure(page, frames, args)}
            r = results[name]
            target = TARGET_MS.get(kind, MLP_TARGET_MS)
            print(
                f"{name:17} click p50/p95 {r['click_p50_ms']:.1f}/{r['click_p95_ms']:.1f} ms · "
                f"drag {r['drag_p50_ms']:.1f}/{r['drag_p95_ms']:.1f} ms ({r['drag_draws']} draws, new image in "
                f"{100 * r['playwright_drag_frames_share']:.0f} % of {r['playwright_drag_frames']} frames) · "
                f"scripted drag {r['scripted_drag_p50_ms']:.1f}/{r['scripted_drag_p95_ms']:.1f} ms, new image in "
                f"{100 * r['drag_frames_share']:.0f} % of {r['drag_frames']} frames, "
                f"{r['scripted_drag_messages']} message · "
                f"slider {r['slider_p50_ms']:.1f}/{r['slider_p95_ms']:.1f} ms · keys {r['keys_p50_ms']:.1f}/"
                f"{r['keys_p95_ms']:.1f} ms · interpolation drag ({r['interp_steps']} images): first images "
                f"{r['interp_p50_ms']:.1f}/{r['interp_p95_ms']:.1f} ms, whole strip {r['interp_full_p50_ms']:.1f}/"
                f"{r['interp_full_p95_ms']:.1f} ms ({r['interp_draws']} moves, {r['interp_full_draws']} whole strips, new images in "
                f"{100 * r['interp_frames_share']:.0f} % of frames, {r['interp_messages_during']} messages during, "
                f"{r['interp_messages_after']} after) · target p95 ≤ {target} ms · {r['messages_per_gesture']:.2f} messages "
                f"({r['bytes_per_gesture']:.0f} B) per gesture, {r['messages_during_drags']} during drags · "
                f"nearest samples p50 {r['neighbours_p50_ms']:.0f} ms (p95 {r['neighbours_p95_ms']:.0f}) · "
                f"server round trip p50 {r['server_round_trip_p50_ms']:.0f} ms (p95 {r['server_round_trip_p95_ms']:.0f})"
            )
        browser.close()
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    if args.json:
        args.json.write_text(json.dumps({"models": results}, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
