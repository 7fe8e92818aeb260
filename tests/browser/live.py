"""What the browser tests and bench/live.py read from a latent plane (plane.js) in a page.

`plane` is a JavaScript expression for the plane object: `window.__aelab.planes['explore.plane']` in the app,
`window.aelabExplorer.plane` in the offline explorer.
"""

from __future__ import annotations

from playwright.sync_api import Page, WebSocket

APP_PLANE = "window.__aelab.planes['explore.plane']"
# The nearest samples under the plane: one row of pictures (aelab.ui.widgets.picture_row), closest first.
NEAREST_PICTURES = "[data-testid='stMain'] .aelab-pictures img"
NEAREST_CAPTIONS = "[data-testid='stMain'] .aelab-pictures figcaption"
EXPLORER_PLANE = "window.aelabExplorer.plane"

# A checksum of a canvas's pixels (FNV-1a over the RGBA bytes): equal pictures, equal numbers.
CHECKSUM = """(canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 2166136261;
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 16777619) >>> 0;
    return h;
}"""


class Frames:
    """Websocket frames the page sent to the server and received from it (sizes in bytes)."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.received: list[int] = []

    def on_websocket(self, ws: WebSocket) -> None:
        ws.on("framesent", lambda payload: self.sent.append(len(payload)))
        ws.on("framereceived", lambda payload: self.received.append(len(payload)))


def image_checksum(page: Page, plane: str) -> int:
    """Checksum of the decoded image the plane's panel shows."""
    return page.evaluate(f"() => ({CHECKSUM})({plane}.panel.querySelector('canvas.aelab-decoded'))")


def cross(page: Page, plane: str) -> dict:
    """The cross: its data point, its page pixel, and whether the overlay has ink there (it was drawn)."""
    return page.evaluate(
        f"""() => {{
            const p = {plane};
            if (!p.point) return null;
            const [px, py] = p.toPixel(p.point[0], p.point[1]);
            const r = devicePixelRatio, box = p.gd.getBoundingClientRect();
            const ink = p.overlay.getContext('2d').getImageData(Math.round(px * r), Math.round(py * r), 1, 1).data[3];
            const drawn = !!p.crossPixel && Math.abs(p.crossPixel[0] - px) < 0.5 && Math.abs(p.crossPixel[1] - py) < 0.5;
            return {{ x: p.point[0], y: p.point[1], pageX: box.left + px, pageY: box.top + py, drawn: drawn && ink > 0,
                      code: p.code ? Array.from(p.code) : null }};
        }}"""
    )


def plot_box(page: Page, plane: str) -> dict[str, float]:
    """The plotting area on the page (CSS pixels) and the axis ranges shown."""
    return page.evaluate(
        f"""() => {{
            const p = {plane};
            const box = p.gd.querySelector('.nsewdrag').getBoundingClientRect();
            const [x0, x1] = p.gd._fullLayout.xaxis.range, [y0, y1] = p.gd._fullLayout.yaxis.range;
            return {{left: box.left, top: box.top, width: box.width, height: box.height, x0, x1, y0, y1}};
        }}"""
    )


def slider_thumb(page: Page, plane: str, dim: int) -> dict[str, float]:
    """Page pixel of a panel slider's thumb (its value's place along the track) and the track's width."""
    return page.evaluate(
        f"""(dim) => {{
            const input = {plane}.panel.querySelectorAll('input[type=range]')[dim];
            const r = input.getBoundingClientRect();
            const t = (Number(input.value) - Number(input.min)) / (Number(input.max) - Number(input.min));
            const thumb = 16;  // Chromium's default thumb width: its centre runs from thumb/2 to width - thumb/2
            return {{ x: r.left + thumb / 2 + t * (r.width - thumb), y: r.top + r.height / 2, width: r.width - thumb }};
        }}""",
        dim,
    )
