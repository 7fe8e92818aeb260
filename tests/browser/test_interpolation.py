"""Interpolation on the Explore page in a real browser: A and B are markers on the plane; dragging one redraws
the strip A → B in the plane's panel on every frame, decoded by the page, with no websocket message during the
drag and exactly one after it, and the server ends up with the new end.

Runs app.py (the shipped VAE on MNIST-5k) and leaves a screenshot of the plane with A, B and the strip
(docs/explore-interpolation.png with AELAB_UPDATE_DOCS=1).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from .conftest import screenshot_path, wait_until_idle
from .live import APP_PLANE, CHECKSUM, Frames, cross, plot_box

pytestmark = pytest.mark.timeout(180)

SCREENSHOT = screenshot_path("explore-interpolation.png")


def _open(page: Page, url: str, frames: Frames) -> None:
    page.on("websocket", frames.on_websocket)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function(f"() => !!window.__aelab?.planes?.['explore.plane']?.drawn && {APP_PLANE}.stripDraws >= 1"
                           f" && !!{APP_PLANE}.endPixels", timeout=90_000)  # fmt: skip
    wait_until_idle(page)


def _strip_checksum(page: Page) -> int:
    return page.evaluate(f"() => ({CHECKSUM})({APP_PLANE}.panel.querySelector('canvas.aelab-strip'))")


def _end(page: Page, which: str) -> dict:
    """End `which` ("a" or "b"): its page pixel, its lettered disc's page pixel, its plane point and its code."""
    return page.evaluate(
        f"""(which) => {{
            const p = {APP_PLANE}, box = p.gd.getBoundingClientRect(), [px, py] = p.endPixels[which];
            const tag = AelabPlane.END_TAG_PX;
            return {{ pageX: box.left + px, pageY: box.top + py, discX: box.left + px + tag, discY: box.top + py - tag,
                      point: p.ends['p' + which], code: Array.from(p.ends[which]) }};
        }}""",
        which,
    )


def _server_ends(page: Page) -> tuple[list[float], list[float]]:
    """A and B as the server holds them, from the Interpolation section's caption "A = (…) · B = (…)"."""
    text = page.locator("[data-testid='stCaptionContainer']", has_text="A = (").first.inner_text()
    found = re.search(r"A = \(([^)]*)\) · B = \(([^)]*)\)", text)
    assert found, text
    return [float(v) for v in found[1].split(",")], [float(v) for v in found[2].split(",")]


def test_dragging_a_redraws_the_strip_every_frame_and_sends_one_message(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    frames = Frames()
    _open(page, app_url, frames)
    steps = page.evaluate(f"() => {APP_PLANE}.ends.steps")
    assert steps == 8 and page.locator("canvas.aelab-strip").is_visible()
    a, b = _end(page, "a"), _end(page, "b")
    # The strip's ends are the server's A and B.
    server_a, server_b = _server_ends(page)
    assert server_a == pytest.approx(a["code"], abs=0.0051) and server_b == pytest.approx(b["code"], abs=0.0051)
    start_cross = cross(page, APP_PLANE)
    area = plot_box(page, APP_PLANE)
    before = _strip_checksum(page)

    # The page opens with the cross on sample 0, which is also A: A is taken by its lettered disc (a press on the
    # spot itself takes the cross), and keeps its offset from the pointer.
    page.mouse.move(a["discX"], a["discY"])
    page.wait_for_timeout(300)
    mark = len(frames.sent)
    page.mouse.down()
    target = (area["left"] + 0.25 * area["width"], area["top"] + 0.7 * area["height"])
    offset = (a["pageX"] - a["discX"], a["pageY"] - a["discY"])
    strips = []
    for i in range(1, 7):
        f = i / 6
        page.mouse.move(a["discX"] + f * (target[0] - offset[0] - a["discX"]),
                        a["discY"] + f * (target[1] - offset[1] - a["discY"]), steps=5)  # fmt: skip
        page.wait_for_timeout(60)
        strips.append(_strip_checksum(page))
    assert len(set(strips)) >= 5 and before not in strips, f"the strip should change while A moves: {strips}"
    assert frames.sent[mark:] == [], "a websocket frame was sent during the drag"
    moved = _end(page, "a")
    assert moved["pageX"] == pytest.approx(target[0], abs=2) and moved["pageY"] == pytest.approx(target[1], abs=2)
    assert _end(page, "b")["code"] == pytest.approx(b["code"]), "B stays where it was"
    page.mouse.up()
    assert page.evaluate(f"() => {APP_PLANE}.timings.ends.length") >= 6

    # One message after the release; the server ends up with the new A (its caption), and nothing else moved.
    expected = ", ".join(f"{v:.2f}" for v in moved["code"])
    page.wait_for_function(
        "expected => [...document.querySelectorAll(\"[data-testid='stCaptionContainer']\")]"
        ".some(e => e.innerText.startsWith('A = (' + expected + ')'))",
        arg=expected,
        timeout=30_000,
    )
    wait_until_idle(page)
    assert len(frames.sent[mark:]) == 1, f"one message per drag, got {frames.sent[mark:]}"
    assert _server_ends(page)[0] == pytest.approx(moved["code"], abs=0.0051)
    assert _end(page, "a")["code"] == pytest.approx(moved["code"], abs=1e-5), "the server's answer keeps A there"
    after = cross(page, APP_PLANE)
    assert [after["x"], after["y"]] == pytest.approx([start_cross["x"], start_cross["y"]], abs=1e-6)
    ranges = ("x0", "x1", "y0", "y1")
    assert [plot_box(page, APP_PLANE)[k] for k in ranges] == [area[k] for k in ranges], "dragging A zoomed the plot"

    # "B = current point" (a server button) reaches the plane: B jumps to the cross and the strip is redrawn.
    drawn = _strip_checksum(page)
    page.get_by_role("button", name="B = current point").click()
    page.wait_for_function(
        f"([x, y]) => {{ const p = {APP_PLANE}.ends.pb; return Math.abs(p[0] - x) < 1e-4 && Math.abs(p[1] - y) < 1e-4; }}",
        arg=[after["x"], after["y"]],
        timeout=30_000,
    )
    wait_until_idle(page)
    assert _strip_checksum(page) != drawn

    # B pressed by its disc and let go where it was: not a change, no message.
    b = _end(page, "b")
    page.mouse.move(b["discX"], b["discY"])
    page.wait_for_timeout(300)
    mark = len(frames.sent)
    page.mouse.down()
    page.mouse.up()
    page.wait_for_timeout(500)
    assert frames.sent[mark:] == [] and _end(page, "b")["code"] == pytest.approx(b["code"])

    # For the docs and for a look: the plane with A, B, the dashed path and the strip beside it.
    page.mouse.move(5, 5)
    page.wait_for_timeout(500)
    page.locator(".aelab-plane-wrap").screenshot(path=str(SCREENSHOT))


def test_the_strip_follows_the_steps_slider_and_speaks_chinese(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    frames = Frames()
    _open(page, app_url + "/?lang=zh", frames)
    assert page.get_by_text("插值 A → B").is_visible()
    assert _strip_cells(page) == (4, 2), "8 images in two rows of 4"
    slider = page.get_by_role("slider", name="步数")
    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => {APP_PLANE}.ends.steps === 12", timeout=30_000)
    assert _strip_cells(page) == (6, 2)
    for _ in range(9):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => {APP_PLANE}.ends.steps === 3", timeout=30_000)
    assert _strip_cells(page) == (3, 1)


def _strip_cells(page: Page) -> tuple[int, int]:
    """Columns and rows of 28 × 28 images (1 px of white between them) the strip's canvas holds."""
    width, height = page.evaluate(f"() => {{ const c = {APP_PLANE}.panel.querySelector('canvas.aelab-strip');"
                                  " return [c.width, c.height]; }")  # fmt: skip
    assert (width - 1) % 29 == 0 and (height - 1) % 29 == 0, (width, height)
    return (width - 1) // 29, (height - 1) // 29
