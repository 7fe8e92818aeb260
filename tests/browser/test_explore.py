"""The Explore page in a real browser: a click on empty space decodes it, the sliders follow, keys move them.

Runs app.py (the shipped VAE on MNIST-5k) and leaves a screenshot of the whole page (docs/explore.png with AELAB_UPDATE_DOCS=1).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import screenshot_path

pytestmark = pytest.mark.timeout(120)

SCREENSHOT = screenshot_path("explore.png")
PLANE = "window.__aelab.planes['explore.plane'].gd"
DECODED = "[data-testid='stMain'] [data-testid='stImage'] img"  # the first image on the page
SLIDER_STEP = 0.05  # the MNIST VAE's sliders: a 1-2-5 step of about 1/200 of the codes' range


def _open(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function("() => window.__aelab?.planes?.['explore.plane']?.drawn === true", timeout=90_000)
    page.locator(DECODED).first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)


def _decoded_src(page: Page) -> str:
    return page.locator(DECODED).first.get_attribute("src") or ""


def _slider_values(page: Page) -> list[float]:
    """The values the latent sliders show (z₁, z₂), read from their thumbs."""
    thumbs = page.locator("[data-testid='stMain'] [data-testid='stSliderThumbValue']")
    return [float(thumbs.nth(i).inner_text()) for i in range(2)]


def _empty_spot(page: Page) -> dict[str, float]:
    """A page pixel inside the plot, at least 25 px from every point and 60 px from the marker, with its data coordinate."""
    spot = page.evaluate(
        f"""() => {{
            const gd = {PLANE};
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
            const marker = (gd.layout.shapes || []).find(s => s.name === 'aelab-marker' && s.xsizemode === 'pixel');
            const points = [];
            for (const trace of gd.data) for (let i = 0; i < trace.x.length; i++)
                points.push([xa.d2p(trace.x[i]), ya.d2p(trace.y[i])]);
            let best = null;
            for (let fx = 0.05; fx < 0.96; fx += 0.05) for (let fy = 0.05; fy < 0.96; fy += 0.05) {{
                const px = fx * box.width, py = fy * box.height;
                let nearest = Infinity;
                for (const [qx, qy] of points) nearest = Math.min(nearest, Math.hypot(qx - px, qy - py));
                const fromMarker = marker ? Math.hypot(xa.d2p(marker.xanchor) - px, ya.d2p(marker.y0) - py) : Infinity;
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


def _wait_for_new_image(page: Page, old_src: str) -> None:
    page.wait_for_function(
        f"old => document.querySelector(\"{DECODED}\")?.getAttribute('src') !== old", arg=old_src, timeout=20_000
    )
    page.wait_for_timeout(300)


def test_click_on_empty_space_decodes_it_and_the_sliders_follow(
    page: Page, app_url: str, page_errors: list[str]
) -> None:
    _open(page, app_url)
    before_src, before_values = _decoded_src(page), _slider_values(page)
    spot = _empty_spot(page)

    page.mouse.move(spot["pageX"], spot["pageY"])
    page.wait_for_timeout(300)
    page.mouse.down()
    page.mouse.up()
    _wait_for_new_image(page, before_src)
    page.wait_for_function(
        "old => { const t = [...document.querySelectorAll(\"[data-testid='stMain'] [data-testid='stSliderThumbValue']\")]"
        ".slice(0, 2).map(e => e.innerText).join(); return t !== old; }",
        arg=",".join(f"{v:.2f}" for v in before_values),
        timeout=20_000,
    )
    tolerance = SLIDER_STEP / 2 + 2 * spot["perPixel"]
    assert _slider_values(page) == pytest.approx([spot["x"], spot["y"]], abs=tolerance)

    # The keyboard moves a slider; the image follows at once.
    clicked_src = _decoded_src(page)
    thumb = page.locator("[data-testid='stMain']").get_by_role("slider").first
    thumb.focus()
    key, sign = ("ArrowLeft", -1) if spot["x"] > 0 else ("ArrowRight", 1)  # towards the middle, away from the ends
    start = _slider_values(page)[0]
    for _ in range(6):
        thumb.press(key)
    expected = f"{start + sign * 6 * SLIDER_STEP:.2f}"
    page.wait_for_function(
        "expected => document.querySelector(\"[data-testid='stMain'] [data-testid='stSliderThumbValue']\")"
        "?.innerText === expected",
        arg=expected,
        timeout=20_000,
    )
    _wait_for_new_image(page, clicked_src)

    # The whole page, for the docs: a viewport as tall as the page, the pointer away from the plot.
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, height + 40)})
    page.mouse.move(5, 5)
    page.wait_for_timeout(1500)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_the_page_opens_in_chinese(page: Page, app_url: str, page_errors: list[str], tmp_path) -> None:
    _open(page, app_url + "/?lang=zh")
    assert page.get_by_role("heading", name="探索潜在空间").is_visible()
    assert page.get_by_text("以流形为背景").is_visible()
    page.screenshot(path=str(tmp_path / "explore-zh.png"))
