"""The latent plane in a real browser: clicks anywhere return data coordinates, cheaply, without redraws.

Runs tests/browser/apps/plane_demo.py (5,000 points in 10 clusters inside [-4.5, 4.5]², view [-6, 6]²).
Plotly acts on a mouse event only after the pointer has moved to the spot and rested a moment, hence
`_click` and `_drag`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, WebSocket

from .conftest import APPS, StreamlitServer, screenshot_path
from .live import cross

pytestmark = pytest.mark.timeout(60)

SCREENSHOT = screenshot_path("plane-demo.png")
SMALL_MESSAGE_BYTES = 20_000  # a rerun after a click or slider move; the scatter alone is ~90 KB
SCATTER_BYTES = 50_000
SLIDER_STEP = 0.01
PLANE = "document.querySelector('.aelab-plane')"
DEBUG = "window.__aelab.debug"


@dataclass
class Frames:
    """Sizes in bytes of the websocket frames the page received, in arrival order."""

    received: list[int] = field(default_factory=list)

    def on_websocket(self, ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: self.received.append(len(payload)))

    def mark(self) -> int:
        return len(self.received)

    def since(self, mark: int) -> list[int]:
        return self.received[mark:]


@pytest.fixture(scope="module")
def demo_url(streamlit_server: StreamlitServer) -> str:
    return streamlit_server(APPS / "plane_demo.py")


@pytest.fixture
def frames(page: Page) -> Frames:
    log = Frames()
    page.on("websocket", log.on_websocket)
    return log


def _open(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1100, "height": 1000})
    page.goto(url)
    page.wait_for_function("() => window.__aelab?.planes?.plane?.drawn === true", timeout=30_000)
    _wait_for_runs(page, 1)


def _shown(page: Page) -> tuple[tuple[float, float] | None, int]:
    """What the demo printed: the returned coordinate (None before a click) and the script's run count."""
    text = page.locator("code", has_text="clicked:").inner_text()
    match = re.search(r"clicked: (none|(\S+) (\S+)) \| runs: (\d+)", text)
    assert match, text
    coordinate = None if match[1] == "none" else (float(match[2]), float(match[3]))
    return coordinate, int(match[4])


def _wait_for_runs(page: Page, runs: int) -> None:
    page.locator("code", has_text=f"| runs: {runs}").wait_for(timeout=15_000)
    # Streamlit's last messages of a run (script finished, widget states) follow the new element shortly.
    page.wait_for_timeout(500)


def _plot_area(page: Page) -> dict[str, float]:
    """The plotting area on the page: its box in CSS pixels and the axis ranges currently shown."""
    return page.evaluate(
        f"""() => {{
            const gd = {PLANE};
            const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
            const [x0, x1] = gd._fullLayout.xaxis.range, [y0, y1] = gd._fullLayout.yaxis.range;
            return {{left: box.left, top: box.top, width: box.width, height: box.height, x0, x1, y0, y1}};
        }}"""
    )


def _to_data(area: dict[str, float], px: float, py: float) -> tuple[float, float]:
    x = area["x0"] + (px - area["left"]) / area["width"] * (area["x1"] - area["x0"])
    y = area["y1"] - (py - area["top"]) / area["height"] * (area["y1"] - area["y0"])
    return x, y


def _pixel_tolerance(area: dict[str, float], pixels: float = 1.5) -> float:
    return pixels * max((area["x1"] - area["x0"]) / area["width"], (area["y1"] - area["y0"]) / area["height"])


def _nearest_point_pixels(page: Page, px: float, py: float) -> float:
    """Distance in CSS pixels from a page pixel to the nearest drawn point."""
    return page.evaluate(
        f"""([px, py]) => {{
            const gd = {PLANE};
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
            let best = Infinity;
            for (const trace of gd.data) for (let i = 0; i < trace.x.length; i++) {{
                const dx = box.left + xa.d2p(trace.x[i]) - px, dy = box.top + ya.d2p(trace.y[i]) - py;
                best = Math.min(best, Math.hypot(dx, dy));
            }}
            return best;
        }}""",
        [px, py],
    )


def _marker(page: Page) -> tuple[float, float] | str | None:
    """The cross's data coordinate, after checking that the overlay drew it there (ink at its centre)."""
    found = cross(page, "window.__aelab.planes.plane")
    if found is None:
        return None
    if not found["drawn"]:
        return "cross not drawn"
    return (found["x"], found["y"])


def _first_point_of(page: Page, label: str) -> tuple[float, float, tuple[float, float]]:
    """The page pixel and data coordinate of the first point drawn for a label."""
    px, py, x, y = page.evaluate(
        f"""(label) => {{
            const gd = {PLANE};
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
            const trace = gd.data.find(t => t.name === label);
            return [box.left + xa.d2p(trace.x[0]), box.top + ya.d2p(trace.y[0]), trace.x[0], trace.y[0]];
        }}""",
        label,
    )
    return px, py, (x, y)


def _click(page: Page, px: float, py: float) -> None:
    page.mouse.move(px, py)
    page.wait_for_timeout(300)
    page.mouse.down()
    page.mouse.up()


def _drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.wait_for_timeout(300)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    page.mouse.up()
    page.wait_for_timeout(300)


def _empty_corner(page: Page, area: dict[str, float]) -> tuple[float, float]:
    # Inside the demo's [-6, 6]² bounds (the sliders' range; equal axis scales may show more than that).
    x = min(5.4, area["x1"] - 0.05 * (area["x1"] - area["x0"]))
    y = min(5.4, area["y1"] - 0.06 * (area["y1"] - area["y0"]))
    px = area["left"] + (x - area["x0"]) / (area["x1"] - area["x0"]) * area["width"]
    py = area["top"] + (area["y1"] - y) / (area["y1"] - area["y0"]) * area["height"]
    assert _nearest_point_pixels(page, px, py) > 40, "the demo's top-right corner should hold no points"
    return px, py


def _ranges(area: dict[str, float]) -> tuple[float, float, float, float]:
    return area["x0"], area["x1"], area["y0"], area["y1"]


def test_click_on_empty_space_returns_its_data_coordinate(
    page: Page, demo_url: str, frames: Frames, page_errors: list[str]
) -> None:
    _open(page, demo_url)
    assert max(frames.received) > SCATTER_BYTES, "the first render should carry the scatter"
    assert _shown(page) == (None, 1)
    assert _marker(page) == (0.0, 0.0)  # the sliders' start

    area = _plot_area(page)
    px, py = _empty_corner(page, area)
    expected = _to_data(area, px, py)
    tolerance = _pixel_tolerance(area)
    mark = frames.mark()
    _click(page, px, py)

    drawn_at_once = _marker(page)
    assert drawn_at_once == pytest.approx(expected, abs=tolerance)
    _wait_for_runs(page, 2)
    returned, _ = _shown(page)
    assert returned == pytest.approx(expected, abs=tolerance)
    # The demo's click callback moves the sliders to the click, rounded to their step.
    assert _marker(page) == pytest.approx(returned, abs=SLIDER_STEP)
    after_click = frames.since(mark)
    assert after_click and sum(after_click) < SMALL_MESSAGE_BYTES, (
        f"a click should not resend the scatter: {after_click}"
    )
    assert page.evaluate(f"{DEBUG}.clicks") == 1

    # A click on a point counts as well, at the point's own coordinate; hovering it names label and sample.
    px, py, point = _first_point_of(page, "class 3")
    page.mouse.move(px, py)
    page.wait_for_timeout(300)
    hover = page.locator(".aelab-plane .hovertext").text_content() or ""
    assert "class 3" in hover and re.search(r"sample \d+", hover), hover
    page.mouse.down()
    page.mouse.up()
    _wait_for_runs(page, 3)
    assert _shown(page)[0] == pytest.approx(point, abs=tolerance)


def test_slider_moves_marker_without_redrawing_or_unzooming(
    page: Page, demo_url: str, frames: Frames, page_errors: list[str]
) -> None:
    _open(page, demo_url)
    area = _plot_area(page)
    left, top, width, height = area["left"], area["top"], area["width"], area["height"]
    _drag(page, (left + 0.3 * width, top + 0.3 * height), (left + 0.7 * width, top + 0.7 * height))
    zoomed = _plot_area(page)
    assert _ranges(zoomed) != _ranges(area), "the drag should have zoomed in"
    page.wait_for_timeout(500)
    assert page.evaluate(f"{DEBUG}.clicks") == 0 and _shown(page) == (None, 1), "a drag-zoom is not a click"

    page.evaluate(f"{PLANE}.__testTag = 'same element'")
    mark = frames.mark()
    thumb = page.get_by_role("slider").first
    thumb.focus()
    for _ in range(3):
        thumb.press("ArrowRight")
    page.wait_for_function(
        "() => Math.abs((window.__aelab.planes.plane.point?.[0] ?? 0) - 0.03) < 1e-9",
        timeout=15_000,
    )
    page.wait_for_timeout(500)

    assert _marker(page) == pytest.approx((3 * SLIDER_STEP, 0.0))
    assert page.evaluate(f"{PLANE}.__testTag") == "same element", "the plot was remounted"
    assert page.evaluate(f"[{DEBUG}.runs, {DEBUG}.draws]") == [1, 1], "the scatter was redrawn"
    assert _ranges(_plot_area(page)) == pytest.approx(_ranges(zoomed)), "the zoom was lost"
    after_slider = frames.since(mark)
    assert after_slider and max(after_slider) < SMALL_MESSAGE_BYTES, f"a slider move resent the scatter: {after_slider}"

    # The legend still hides a class, and clicking it is not a click on the plane.
    runs = _shown(page)[1]
    page.locator(".aelab-plane .legend .traces", has_text="class 0").click()
    page.wait_for_function(f"() => {PLANE}._fullData[0].visible === 'legendonly'", timeout=5_000)
    page.wait_for_timeout(300)
    assert page.evaluate(f"{DEBUG}.clicks") == 0 and _shown(page)[1] == runs


def test_new_data_keeps_zoom_and_a_single_click_handler(page: Page, demo_url: str, page_errors: list[str]) -> None:
    _open(page, demo_url)
    area = _plot_area(page)
    left, top, width, height = area["left"], area["top"], area["width"], area["height"]
    _drag(page, (left + 0.45 * width, top + 0.02 * height), (left + 0.999 * width, top + 0.6 * height))
    zoomed = _plot_area(page)
    assert _ranges(zoomed) != _ranges(area)

    # Each toggle changes the plane's data (a background image), so its JavaScript runs again on the same element.
    checkbox = page.get_by_text("background", exact=True)
    for runs in (2, 3, 4):
        checkbox.click()
        _wait_for_runs(page, runs)
        page.wait_for_function(f"() => {DEBUG}.draws === {runs}", timeout=15_000)
    has_background = page.evaluate(f"({PLANE}.layout.images || []).length")
    assert has_background == 1
    assert page.evaluate(f"[{DEBUG}.runs, {DEBUG}.clickHandlers, window.__aelab.planes.plane.handlers]") == [4, 1, 1]
    assert _ranges(_plot_area(page)) == pytest.approx(_ranges(zoomed)), "new data reset the zoom"

    px, py = _empty_corner(page, zoomed)
    expected = _to_data(zoomed, px, py)
    _click(page, px, py)
    _wait_for_runs(page, 5)
    page.wait_for_timeout(500)
    returned, runs = _shown(page)
    assert runs == 5, "one click should rerun the script once"
    assert page.evaluate(f"{DEBUG}.clicks") == 1
    assert returned == pytest.approx(expected, abs=_pixel_tolerance(zoomed))

    # The modebar is outside the plotting area: resetting the view there is not a click on the plane.
    page.locator(".aelab-plane [data-title='Reset axes']").click()
    page.wait_for_timeout(300)
    assert _ranges(_plot_area(page)) == pytest.approx(_ranges(area))
    assert page.evaluate(f"{DEBUG}.clicks") == 1

    page.mouse.move(5, 5)  # away from the plot, so no hover label or modebar in the picture
    page.wait_for_timeout(400)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
