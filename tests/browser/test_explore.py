"""The Explore page in a real browser: the browser decodes every click, cross drag, slider move and arrow key
at once, sends nothing to the server during a gesture and one message after it, and the server ends up with
the final point (its caption and the nearest samples follow).

Runs app.py (the shipped VAE on MNIST-5k) and leaves a screenshot of the whole page (docs/explore.png with AELAB_UPDATE_DOCS=1).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from .conftest import screenshot_path, wait_until_idle
from .live import APP_PLANE, NEAREST_CAPTIONS, NEAREST_PICTURES, Frames, cross, image_checksum, plot_box, slider_thumb

pytestmark = pytest.mark.timeout(180)

SCREENSHOT = screenshot_path("explore.png")
PLANE = f"{APP_PLANE}.gd"
NEAREST = NEAREST_PICTURES  # .first: nearest sample 1


def _open(page: Page, url: str, frames: Frames | None = None) -> None:
    if frames is not None:
        page.on("websocket", frames.on_websocket)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function(f"() => window.__aelab?.planes?.['explore.plane']?.drawn === true && !!{APP_PLANE}.decoder",
                           timeout=90_000)  # fmt: skip
    page.locator(NEAREST).first.wait_for(timeout=30_000)
    wait_until_idle(page)


def _server_point(page: Page) -> list[float]:
    """The point the server holds, from the page's caption "z = (…)" under the plane."""
    text = page.locator("[data-testid='stCaptionContainer']", has_text="z = (").first.inner_text()
    return [float(v) for v in re.search(r"z = \(([^)]*)\)", text)[1].split(",")]


def _settle_and_check_server(page: Page, frames: Frames, mark: int) -> None:
    """After a gesture: exactly one message went to the server, and it ends up with the plane's point."""
    expected = [round(v, 2) for v in cross(page, APP_PLANE)["code"]]
    page.wait_for_function(
        "expected => { const c = [...document.querySelectorAll(\"[data-testid='stCaptionContainer']\")]"
        ".find(e => e.innerText.startsWith('z = (')); return c && c.innerText === 'z = (' + expected + ')'; }",
        arg=", ".join(f"{v:.2f}" for v in expected),
        timeout=30_000,
    )
    wait_until_idle(page)
    assert len(frames.sent[mark:]) == 1, f"one message per gesture, got {frames.sent[mark:]}"
    assert _server_point(page) == pytest.approx(expected, abs=0.0051)
    # The nearest sample the server shows is the nearest code to that point: distance under its caption.
    first = page.locator(NEAREST_CAPTIONS).first.inner_text()
    assert re.fullmatch(r"\d · \d+\.\d\d", first.strip()), first


def _empty_spot(page: Page) -> dict[str, float]:
    """A page pixel inside the plot, at least 25 px from every point and 60 px from the cross, with its data coordinate."""
    spot = page.evaluate(
        f"""() => {{
            const p = {APP_PLANE}, gd = p.gd;
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
            const points = [];
            for (const trace of gd.data) for (let i = 0; i < trace.x.length; i++)
                points.push([xa.d2p(trace.x[i]), ya.d2p(trace.y[i])]);
            let best = null;
            for (let fx = 0.05; fx < 0.96; fx += 0.05) for (let fy = 0.05; fy < 0.96; fy += 0.05) {{
                const px = fx * box.width, py = fy * box.height;
                let nearest = Infinity;
                for (const [qx, qy] of points) nearest = Math.min(nearest, Math.hypot(qx - px, qy - py));
                const fromMarker = p.point ? Math.hypot(xa.d2p(p.point[0]) - px, ya.d2p(p.point[1]) - py) : Infinity;
                if (nearest > 25 && fromMarker > 60 && (!best || nearest > best.nearest))
                    best = {{ nearest, px, py }};
            }}
            if (!best) return null;
            return {{ pageX: box.left + best.px, pageY: box.top + best.py, x: xa.p2d(best.px), y: ya.p2d(best.py),
                      perPixel: Math.max((xa.range[1] - xa.range[0]) / box.width, (ya.range[1] - ya.range[0]) / box.height) }};
        }}"""
    )
    assert spot is not None, "no empty spot in the plane"
    return spot


def test_click_on_empty_space_decodes_it_at_once_and_the_server_follows(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    frames = Frames()
    _open(page, app_url, frames)
    before = image_checksum(page, APP_PLANE)
    before_nearest = page.locator(NEAREST).first.get_attribute("src")
    spot = _empty_spot(page)

    page.mouse.move(spot["pageX"], spot["pageY"])
    page.wait_for_timeout(300)
    mark = len(frames.sent)
    page.mouse.down()
    page.mouse.up()
    # Drawn by the page itself, before any answer from the server.
    drawn = page.evaluate(f"() => [{APP_PLANE}.timings.click.length, {APP_PLANE}.imageDraws]")
    assert drawn[0] == 1
    assert image_checksum(page, APP_PLANE) != before
    at = cross(page, APP_PLANE)
    assert at["drawn"] and [at["x"], at["y"]] == pytest.approx([spot["x"], spot["y"]], abs=2 * spot["perPixel"])
    _settle_and_check_server(page, frames, mark)
    assert page.locator(NEAREST).first.get_attribute("src") != before_nearest
    # The panel's sliders follow the click.
    values = page.evaluate(
        f"() => [...{APP_PLANE}.panel.querySelectorAll('input[type=range]')].map(i => Number(i.value))"
    )
    assert values == pytest.approx([spot["x"], spot["y"]], abs=0.05)


def test_dragging_the_cross_decodes_every_frame_and_sends_one_message(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    frames = Frames()
    _open(page, app_url, frames)
    area = plot_box(page, APP_PLANE)
    start = cross(page, APP_PLANE)
    page.mouse.move(start["pageX"], start["pageY"])
    page.wait_for_timeout(300)
    mark = len(frames.sent)
    page.mouse.down()
    pictures = []
    target = (area["left"] + 0.3 * area["width"], area["top"] + 0.3 * area["height"])
    for i in range(1, 7):
        f = i / 6
        page.mouse.move(start["pageX"] + f * (target[0] - start["pageX"]), start["pageY"] + f * (target[1] - start["pageY"]),
                        steps=5)  # fmt: skip
        page.wait_for_timeout(60)
        pictures.append(image_checksum(page, APP_PLANE))
    assert len(set(pictures)) >= 5, f"the image should change while dragging: {pictures}"
    assert frames.sent[mark:] == [], "a websocket frame was sent during the drag"
    ranges = plot_box(page, APP_PLANE)
    assert [ranges[k] for k in ("x0", "x1", "y0", "y1")] == [area[k] for k in ("x0", "x1", "y0", "y1")], (
        "dragging the cross zoomed the plot"
    )
    page.mouse.up()
    end = cross(page, APP_PLANE)
    assert end["pageX"] == pytest.approx(target[0], abs=2) and end["pageY"] == pytest.approx(target[1], abs=2)
    assert page.evaluate(f"() => {APP_PLANE}.timings.drag.length") >= 6
    _settle_and_check_server(page, frames, mark)

    # Dragging elsewhere still zooms, and is not a gesture.
    mark = len(frames.sent)
    page.mouse.move(area["left"] + 0.6 * area["width"], area["top"] + 0.6 * area["height"])
    page.wait_for_timeout(300)
    page.mouse.down()
    page.mouse.move(area["left"] + 0.9 * area["width"], area["top"] + 0.9 * area["height"], steps=10)
    page.mouse.up()
    page.wait_for_timeout(500)
    assert plot_box(page, APP_PLANE)["x1"] - plot_box(page, APP_PLANE)["x0"] < area["x1"] - area["x0"]
    assert frames.sent[mark:] == [] and cross(page, APP_PLANE)["x"] == pytest.approx(end["x"], abs=1e-6)


def test_a_panel_slider_decodes_while_dragged_and_the_keys_move_the_cross(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    frames = Frames()
    _open(page, app_url, frames)
    thumb = slider_thumb(page, APP_PLANE, 0)
    page.mouse.move(thumb["x"], thumb["y"])
    page.wait_for_timeout(200)
    mark = len(frames.sent)
    page.mouse.down()
    pictures, values = [], []
    for i in range(1, 7):
        page.mouse.move(thumb["x"] - i * thumb["width"] / 10, thumb["y"], steps=3)
        page.wait_for_timeout(60)
        pictures.append(image_checksum(page, APP_PLANE))
        values.append(page.locator(".aelab-slider-value").first.inner_text())
    assert len(set(pictures)) >= 5, f"the image should change while sliding: {pictures}"
    assert len(set(values)) >= 5, f"the slider's shown value should follow: {values}"
    assert frames.sent[mark:] == [], "a websocket frame was sent while sliding"
    page.mouse.up()
    _settle_and_check_server(page, frames, mark)
    assert cross(page, APP_PLANE)["drawn"]

    # Arrow keys on the focused plot: each press decodes at once, the server hears once they rest.
    mark = len(frames.sent)
    page.focus(".aelab-plot-box")
    start = cross(page, APP_PLANE)
    pictures = []
    for _ in range(5):
        page.keyboard.press("ArrowUp")
        pictures.append(image_checksum(page, APP_PLANE))
    assert len(set(pictures)) == 5, f"every key press should draw a new image: {pictures}"
    area = plot_box(page, APP_PLANE)
    assert cross(page, APP_PLANE)["y"] == pytest.approx(start["y"] + 0.05 * (area["y1"] - area["y0"]), rel=1e-3)
    _settle_and_check_server(page, frames, mark)

    # The whole page, for the docs: a viewport as tall as the page, the pointer away from the plot.
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, height + 40)})
    page.evaluate("() => document.activeElement?.blur()")  # no keyboard focus ring in the picture
    page.mouse.move(5, 5)
    page.wait_for_timeout(1500)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_the_plane_is_the_main_object_and_stacks_on_a_narrow_window(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    _open(page, app_url)
    sizes = page.evaluate(
        f"""() => {{
            const p = {APP_PLANE}, gd = p.gd, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const main = document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect();
            return {{ plot: p.box.getBoundingClientRect().width, content: main.width,
                      xScale: xa._length / (xa.range[1] - xa.range[0]), yScale: ya._length / (ya.range[1] - ya.range[0]),
                      panelTop: p.panel.getBoundingClientRect().top, plotTop: p.box.getBoundingClientRect().top }};
        }}"""
    )
    assert sizes["plot"] >= 0.5 * sizes["content"], sizes
    assert sizes["xScale"] == pytest.approx(sizes["yScale"], rel=0.01), "both axes should have the same scale"
    assert sizes["panelTop"] == pytest.approx(sizes["plotTop"], abs=2), "the image sits beside the plot"
    page.set_viewport_size({"width": 700, "height": 1000})
    page.wait_for_timeout(1000)
    narrow = page.evaluate(
        f"() => [{APP_PLANE}.panel.getBoundingClientRect().top, {APP_PLANE}.box.getBoundingClientRect().bottom]"
    )
    assert narrow[0] >= narrow[1] - 1, "on a narrow window the image goes under the plot"


def test_the_page_opens_in_chinese(page: Page, app_url: str, page_errors: list[str], tmp_path) -> None:
    _open(page, app_url + "/?lang=zh")
    assert page.get_by_role("heading", name="探索潜在空间").is_visible()
    assert page.get_by_text("以流形为背景").is_visible()
    assert page.get_by_role("slider", name="潜在维度 1（z₁）").is_visible()
    page.screenshot(path=str(tmp_path / "explore-zh.png"))


def test_the_manifold_under_the_points_is_decoded_in_the_page_and_follows_the_zoom(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    _open(page, app_url)
    page.get_by_text("Manifold as background", exact=True).click()
    page.wait_for_function(f"() => {APP_PLANE}.gridDraws >= 1", timeout=60_000)
    area = plot_box(page, APP_PLANE)
    shown = page.evaluate(f"() => {APP_PLANE}.gridRanges")
    assert shown == [[area["x0"], area["x1"]], [area["y0"], area["y1"]]]
    ink = page.evaluate(
        f"""() => {{ const c = {APP_PLANE}.box.querySelector('canvas.aelab-underlay');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let painted = 0; for (let i = 3; i < d.length; i += 4) painted += d[i] > 0; return painted / (d.length / 4); }}"""
    )
    assert ink > 0.5, f"the grid should cover the plot area: {ink:.2f} of the canvas painted"
    decodes = page.evaluate(f"() => {APP_PLANE}.gridDecodes")
    assert decodes == 15 * 15

    # Zoom in: the grid is decoded again over the new window.
    page.mouse.move(area["left"] + 0.2 * area["width"], area["top"] + 0.2 * area["height"])
    page.wait_for_timeout(300)
    page.mouse.down()
    page.mouse.move(area["left"] + 0.5 * area["width"], area["top"] + 0.5 * area["height"], steps=8)
    page.mouse.up()
    page.wait_for_function(f"() => {APP_PLANE}.gridDraws >= 2", timeout=60_000)
    zoomed = plot_box(page, APP_PLANE)
    assert zoomed["x1"] - zoomed["x0"] < 0.6 * (area["x1"] - area["x0"])
    assert page.evaluate(f"() => {APP_PLANE}.gridRanges") == [
        [zoomed["x0"], zoomed["x1"]],
        [zoomed["y0"], zoomed["y1"]],
    ]
    assert page.evaluate(f"() => {APP_PLANE}.gridDecodes") == 2 * 15 * 15


def test_far_from_the_data_is_marked_in_both_languages(page: Page, app_url: str, page_errors: list[str]) -> None:
    for url, words in ((app_url, "far from every training code"), (app_url + "/?lang=zh", "远离所有训练编码")):
        _open(page, url)
        note = page.locator(".aelab-far-note")
        # On a sample's own code (where the page opens) the image is not marked.
        assert not note.is_visible()
        # An empty corner of the plane, far from every code: marked, with its words.
        ratio = page.evaluate(
            f"""() => {{ const p = {APP_PLANE}, [x0, x1] = p.gd._fullLayout.xaxis.range, [y0, y1] = p.gd._fullLayout.yaxis.range;
                p.select(x0 + 0.02 * (x1 - x0), y1 - 0.02 * (y1 - y0)); return p.farRatio; }}"""
        )
        assert ratio > page.evaluate(f"() => {APP_PLANE}.data.panel.far_ratio")
        assert note.is_visible() and words in note.inner_text()
        assert "aelab-far" in (page.locator("canvas.aelab-decoded").get_attribute("class") or "")
