"""Hover decoding in a real browser: the Explore page decodes under the pointer without a server round trip,
and the exported offline explorer (the same plane module) decodes hover, click, cross drag, sliders and keys
from a file:// URL with the network cut off.

Leaves a screenshot (docs/hover.png with AELAB_UPDATE_DOCS=1): the Explore page with the hover preview showing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from aelab.checkpoint import load_checkpoint
from aelab.data import load_dataset
from aelab.export import write_explorer
from aelab.recipes import pretrained_paths

from .conftest import screenshot_path
from .live import (
    APP_PLANE,
    CHECKSUM,
    EXPLORER_PLANE,
    NEAREST_PICTURES,
    Frames,
    cross,
    image_checksum,
    plot_box,
    slider_thumb,
)

pytestmark = pytest.mark.timeout(150)

SCREENSHOT = screenshot_path("hover.png")
PREVIEW = f"{APP_PLANE}.preview"
HOVER_TOGGLE = "Decode on hover"
SMALL_MESSAGE_BYTES = 200_000  # a click's rerun; the decoder's weights alone are megabytes
POSITIONS = [(0.15, 0.2), (0.35, 0.75), (0.5, 0.5), (0.7, 0.3), (0.85, 0.8), (0.25, 0.45)]  # fractions of the plot


def _hover_at(page: Page, box: dict[str, float], fx: float, fy: float) -> None:
    page.mouse.move(box["left"] + fx * box["width"], box["top"] + fy * box["height"], steps=4)
    page.wait_for_timeout(120)  # a few display frames


def _preview(page: Page) -> tuple[bool, int]:
    """(is the preview shown, checksum of its pixels)."""
    shown = page.evaluate(f"{PREVIEW}.style.display === 'block'")
    return shown, page.evaluate(f"({CHECKSUM})({PREVIEW})")


def test_explore_page_decodes_under_the_pointer_without_the_server(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    frames = Frames()
    page.on("websocket", frames.on_websocket)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app_url)
    page.wait_for_function(
        f"() => !!window.__aelab?.planes?.['explore.plane']?.drawn && !!{APP_PLANE}.decoder", timeout=90_000
    )
    page.wait_for_timeout(1000)  # the run's last messages
    box = plot_box(page, APP_PLANE)

    sent_before = len(frames.sent)
    decodes_before = page.evaluate("window.__aelab.debug.hoverDecodes")
    pictures = []
    for fx, fy in POSITIONS:
        _hover_at(page, box, fx, fy)
        shown, checksum = _preview(page)
        assert shown, "the preview should follow the pointer over the plot"
        pictures.append(checksum)
    page.wait_for_timeout(300)
    assert len(set(pictures)) == len(POSITIONS), f"the preview should change from spot to spot: {pictures}"
    assert page.evaluate("window.__aelab.debug.hoverDecodes") - decodes_before >= len(POSITIONS)
    assert frames.sent[sent_before:] == [], "hovering sent messages to the server"

    # The preview is large enough to see: a whole-number multiple of the 28-pixel image, about 112 px.
    assert page.evaluate(f"[{PREVIEW}.width, {PREVIEW}.style.width]") == [28, "112px"]
    page.mouse.move(box["left"] + 0.62 * box["width"], box["top"] + 0.4 * box["height"], steps=3)
    page.wait_for_timeout(300)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), clip={"x": 0, "y": 0, "width": 1400, "height": 1000})

    # Hovering a data point shows its real image (from the dataset's sprite sheet) beside the decode.
    page.wait_for_function(f"() => !!{APP_PLANE}.sprite", timeout=30_000)
    seen = []
    for label in ("3", "7"):
        px, py = page.evaluate(
            f"""(label) => {{
                const gd = {APP_PLANE}.gd, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
                const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
                const t = gd.data.find(t => t.name === label);
                return [box.left + xa.d2p(t.x[0]), box.top + ya.d2p(t.y[0])];
            }}""",
            label,
        )
        page.mouse.move(px, py, steps=3)
        # The sample shown is the one plotly's hover label names (the point nearest the pointer).
        page.wait_for_function(
            f"""() => {{ const label = {APP_PLANE}.gd.querySelector('.hovertext')?.textContent || '';
                const m = label.match(/sample (\\d+)/);
                return !!m && {APP_PLANE}.sampleShown === Number(m[1]); }}""",
            timeout=10_000,
        )
        sample = f"{APP_PLANE}.box.querySelector('.aelab-hover-sample')"
        assert page.evaluate(f"{sample}.style.display") == "block"
        seen.append(page.evaluate(f"({CHECKSUM})({sample})"))
    assert seen[0] != seen[1], "two samples should show two different real images"

    # A click still decodes on the server, and its rerun does not re-send the plane (weights included).
    decoded_src = f'() => document.querySelector("{NEAREST_PICTURES}").src'  # nearest sample 1
    before_src = page.evaluate(decoded_src)
    received = len(frames.received)
    page.mouse.down()
    page.mouse.up()
    page.wait_for_function(f"(before) => ({decoded_src})() !== before", arg=before_src, timeout=15_000)
    page.wait_for_timeout(800)
    after_click = frames.received[received:]
    assert after_click and max(after_click) < SMALL_MESSAGE_BYTES, f"a click re-sent the plane: {after_click}"

    # Turning the toggle off stops hover decoding (and hides the preview); the plane is not redrawn.
    draws = page.evaluate("window.__aelab.debug.draws")
    page.get_by_text(HOVER_TOGGLE, exact=True).click()
    page.wait_for_function("() => window.__aelab.hover['explore.plane'] === false", timeout=30_000)
    page.wait_for_timeout(500)
    decodes = page.evaluate("window.__aelab.debug.hoverDecodes")
    for fx, fy in POSITIONS[:3]:
        _hover_at(page, box, fx, fy)
        assert _preview(page)[0] is False, "the preview should stay hidden with hover decoding off"
    assert page.evaluate("window.__aelab.debug.hoverDecodes") == decodes
    assert page.evaluate("window.__aelab.debug.draws") == draws, "the toggle redrew the plane"


@pytest.fixture(scope="module")
def explorer_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    paths = [p for p in pretrained_paths() if p.name.startswith("digits-")] or pretrained_paths()
    if not paths:
        pytest.skip("no shipped checkpoint in pretrained/")
    checkpoint = load_checkpoint(paths[0])
    return write_explorer(
        checkpoint, load_dataset(checkpoint.dataset), tmp_path_factory.mktemp("export") / "explorer.html"
    )


def test_exported_explorer_decodes_offline_from_a_file(browser: Browser, explorer_file: Path) -> None:
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 1000})
    refused: list[str] = []

    def only_the_file(route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_file)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(explorer_file.as_uri())
        page.wait_for_function("() => window.aelabExplorer?.drawn === true", timeout=30_000)
        box = page.evaluate(
            "() => { const r = document.querySelector('#plane .nsewdrag').getBoundingClientRect();"
            " return { left: r.left, top: r.top, width: r.width, height: r.height }; }"
        )
        preview = page.locator("#plane .aelab-hover-preview:not(.aelab-hover-sample)")
        pictures = []
        for fx, fy in POSITIONS[:4]:
            page.mouse.move(box["left"] + fx * box["width"], box["top"] + fy * box["height"], steps=4)
            page.wait_for_timeout(120)
            pictures.append(preview.evaluate(CHECKSUM))
        assert len(set(pictures)) == 4, f"the preview should change on hover: {pictures}"
        assert page.evaluate(f"{EXPLORER_PLANE}.hoverDecodes") >= 4

        # The same plane as the app: a click, a cross drag, a slider and the arrow keys decode in the page.
        start = image_checksum(page, EXPLORER_PLANE)
        page.mouse.move(box["left"] + 0.2 * box["width"], box["top"] + 0.8 * box["height"])
        page.wait_for_timeout(300)
        page.mouse.down()
        page.mouse.up()
        clicked = image_checksum(page, EXPLORER_PLANE)
        assert clicked != start
        at = cross(page, EXPLORER_PLANE)
        assert at["drawn"]
        page.mouse.move(at["pageX"], at["pageY"])
        page.wait_for_timeout(200)
        page.mouse.down()
        dragged = []
        for i in range(1, 6):
            page.mouse.move(at["pageX"] + 25 * i, at["pageY"] - 20 * i, steps=3)
            page.wait_for_timeout(50)
            dragged.append(image_checksum(page, EXPLORER_PLANE))
        page.mouse.up()
        assert len(set(dragged)) >= 4, dragged
        thumb = slider_thumb(page, EXPLORER_PLANE, 1)
        page.mouse.move(thumb["x"], thumb["y"])
        page.mouse.down()
        slid = []
        for i in range(1, 5):
            page.mouse.move(thumb["x"] + (-1) ** i * i * thumb["width"] / 12, thumb["y"], steps=2)
            page.wait_for_timeout(50)
            slid.append(image_checksum(page, EXPLORER_PLANE))
        page.mouse.up()
        assert len(set(slid)) >= 3, slid
        page.focus("#plane .aelab-plot-box")
        keyed = []
        for _ in range(3):
            page.keyboard.press("ArrowLeft")
            keyed.append(image_checksum(page, EXPLORER_PLANE))
        assert len(set(keyed)) == 3, keyed
        page.wait_for_timeout(600)
        gestures = page.evaluate("window.aelabExplorer.gestures.map(g => g.gesture)")
        assert gestures == ["click", "drag", "slider", "key"], gestures
        # The interpolation's ends are on the plane, and the panel's strip A → B was decoded in the page.
        assert page.evaluate(f"{EXPLORER_PLANE}.stripDraws") >= 1
        assert page.locator("#plane canvas.aelab-strip").is_visible()
        # The manifold grid was decoded in the page too: not a blank canvas.
        assert page.evaluate("document.getElementById('manifold').width") > 0
        page.get_by_role("button", name="简体中文").click()
        assert page.get_by_text("拖动十字").first.is_visible()
        assert page.get_by_role("slider", name="潜在维度 1（z₁）").is_visible()
        assert errors == [] and refused == [], (errors, refused)
    finally:
        context.close()
