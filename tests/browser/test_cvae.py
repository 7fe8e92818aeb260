"""A conditional VAE in a real browser: the plane's panel draws the code under every label in a row, decoded
in the page; moving the cross redraws the whole row every frame, with no message to the server until the
gesture ends; the row's pixels are torch's analogies; "Draw as" sets the large image's label.

Runs app.py with the shipped mnist5k-cvae chosen in the sidebar, and leaves a screenshot of the plane and its
panel (docs/explore-cvae.png with AELAB_UPDATE_DOCS=1).
"""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Page

from aelab.imaging import to_pixels
from aelab.latent import analogies
from aelab.recipes import load_pretrained

from .conftest import screenshot_path, wait_until_idle
from .live import APP_PLANE, CHECKSUM, Frames, cross, plot_box

pytestmark = pytest.mark.timeout(240)

SCREENSHOT = screenshot_path("explore-cvae.png")
ROW = f"{APP_PLANE}.panel.querySelector('canvas.aelab-row')"


def _open_cvae(page: Page, url: str, frames: Frames) -> None:
    page.on("websocket", frames.on_websocket)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(url)
    page.wait_for_function("() => !!window.__aelab?.planes?.['explore.plane']?.drawn", timeout=90_000)
    wait_until_idle(page)
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name="CVAE · pretrained", exact=True).click()
    page.wait_for_function(f"() => {APP_PLANE}.decoder?.classes === 10 && {APP_PLANE}.rowDraws >= 1", timeout=90_000)
    wait_until_idle(page)


def _row(page: Page) -> tuple[int, list[float], list[int]]:
    """The row canvas's checksum, the code it shows, and its grey values (R channel, row-major)."""
    return page.evaluate(
        f"""() => {{
            const c = {ROW}, data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const grey = [];
            for (let i = 0; i < data.length; i += 4) grey.push(data[i]);
            return [({CHECKSUM})(c), Array.from({APP_PLANE}.code), grey];
        }}"""
    )


def test_moving_the_cross_redraws_the_row_of_every_label_in_the_page(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    frames = Frames()
    _open_cvae(page, app_url, frames)
    assert page.locator("canvas.aelab-row").is_visible()
    names = page.locator(".aelab-row-names span").all_inner_texts()
    assert names == [str(k) for k in range(10)]

    # The row is torch's: the code under each label, 28 px cells 1 px apart (aelab.imaging.tile), to the grey level.
    _, code, grey = _row(page)
    model = load_pretrained("mnist5k-cvae").model
    expected = [to_pixels(image) for image in analogies(model, np.array([code], np.float32))[0]]
    canvas = np.array(grey).reshape(30, 10 * 29 + 1)
    for k, cell in enumerate(expected):
        assert np.abs(canvas[1:29, 1 + 29 * k : 29 + 29 * k].astype(int) - cell).max() <= 1, f"label {k}"

    # Dragging the cross: the whole row is redrawn on every step, and nothing is sent until the release.
    start = cross(page, APP_PLANE)
    area = plot_box(page, APP_PLANE)
    page.mouse.move(start["pageX"], start["pageY"])
    page.wait_for_timeout(300)
    mark, draws = len(frames.sent), page.evaluate(f"() => {APP_PLANE}.rowDraws")
    page.mouse.down()
    rows = []
    for i in range(1, 7):
        target = (area["left"] + (0.2 + 0.1 * i) * area["width"], area["top"] + 0.5 * area["height"])
        page.mouse.move(*target, steps=4)
        page.wait_for_timeout(60)
        rows.append(_row(page)[0])
    assert len(set(rows)) == 6, f"the row should change at every step of the drag: {rows}"
    assert frames.sent[mark:] == [], "a websocket frame was sent during the drag"
    assert page.evaluate(f"() => {APP_PLANE}.rowDraws") >= draws + 6
    page.mouse.up()
    wait_until_idle(page)
    assert len(frames.sent[mark:]) == 1, f"one message per drag, got {frames.sent[mark:]}"

    # "Draw as" 7: the large image is the row's seventh cell, and the strip A → B is redrawn as 7s.
    strip = f"({CHECKSUM})({APP_PLANE}.panel.querySelector('canvas.aelab-strip'))"
    before = page.evaluate(f"() => {strip}")
    page.get_by_test_id("stSelectbox").filter(has_text="Draw as").click()
    page.get_by_role("option", name="7", exact=True).click()
    page.wait_for_function(f"() => {APP_PLANE}.label === 7", timeout=60_000)
    wait_until_idle(page)
    same = page.evaluate(
        f"""() => {{
            const big = {APP_PLANE}.panel.querySelector('canvas.aelab-decoded'), row = {ROW};
            const a = big.getContext('2d').getImageData(0, 0, 28, 28).data;
            const b = row.getContext('2d').getImageData(1 + 29 * 7, 1, 28, 28).data;
            return a.every((v, i) => v === b[i]);
        }}"""
    )
    assert same, "the large image should be the code drawn as 7"
    page.wait_for_function(f"before => {strip} !== before", arg=before, timeout=10_000)
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    page.locator(".aelab-plane-wrap").screenshot(path=str(SCREENSHOT))


def test_the_offline_explorer_of_a_cvae_draws_the_row_too(browser, tmp_path) -> None:
    from aelab.data import load_dataset
    from aelab.export import write_explorer

    checkpoint = load_pretrained("digits-cvae")
    path = write_explorer(checkpoint, load_dataset("digits"), tmp_path / "cvae.html")
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(path.as_uri())
        plane = "window.aelabExplorer.plane"
        page.wait_for_function(f"() => window.aelabExplorer?.drawn === true && {plane}.rowDraws >= 1", timeout=30_000)
        row = f"({CHECKSUM})({plane}.panel.querySelector('canvas.aelab-row'))"
        before, draws = page.evaluate(f"() => [{row}, {plane}.rowDraws]")
        area = plot_box(page, plane)
        page.mouse.move(area["left"] + 0.8 * area["width"], area["top"] + 0.2 * area["height"])
        page.wait_for_timeout(300)
        page.mouse.down()
        page.mouse.up()
        page.wait_for_function(f"n => {plane}.rowDraws > n", arg=draws, timeout=10_000)
        assert page.evaluate(f"() => {row}") != before
        assert page.locator(".aelab-row-names span").count() == 10
        assert errors == []
    finally:
        context.close()
