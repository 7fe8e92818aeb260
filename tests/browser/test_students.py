"""The simulated student (bench/students.py) is honest: its click is the browser's click, byte for byte where
it matters, and the server ends in the same state after either.

One server, one real click in Chromium on an empty spot of the Explore plane, and one simulated student
clicking the same plane point. Checked: the student sends the message the browser sent (rerun of the same
fragment, the plane's widget id, the same gesture state: x, y, the code z within float rounding, the
gesture's kind), and the server then holds the same point in both workspaces and shows both the same
caption and the same nearest samples.
"""

from __future__ import annotations

import asyncio
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page
from streamlit.proto.BackMsg_pb2 import BackMsg

from aelab.store import Store

from .conftest import REPO_ROOT, StreamlitServer
from .live import NEAREST_CAPTIONS
from .test_explore import _empty_spot, _open, _server_point

sys.path.insert(0, str(REPO_ROOT / "bench"))
from students import PLANE_KEY, Student

pytestmark = pytest.mark.timeout(180)


def _plane_messages(frames: list[bytes]) -> list[tuple[str, dict, str]]:
    """(fragment id, plane state, widget id) of each rerun the browser sent that carries a plane gesture."""
    found = []
    for frame in frames:
        back = BackMsg()
        back.ParseFromString(frame)
        if back.WhichOneof("type") != "rerun_script":
            continue
        for widget in back.rerun_script.widget_states.widgets:
            if widget.id.endswith(f"-{PLANE_KEY}") and widget.WhichOneof("value") == "json_value":
                found.append((back.rerun_script.fragment_id, json.loads(widget.json_value), widget.id))
    return found


def test_a_simulated_click_is_a_browser_click(
    page: Page, streamlit_server: StreamlitServer, tmp_path: Path, page_errors: list[str]
) -> None:
    data_dir = tmp_path / "store"
    url = streamlit_server(REPO_ROOT / "app.py", env={"AELAB_DATA_DIR": str(data_dir)})
    sent: list[bytes] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.append(p if isinstance(p, bytes) else b"")))
    _open(page, url)
    spot = _empty_spot(page)
    page.mouse.move(spot["pageX"], spot["pageY"])
    page.wait_for_timeout(300)  # plotly reacts to a click only after the pointer rested on the spot
    mark = len(sent)
    page.mouse.down()
    page.mouse.up()
    page.wait_for_function(
        "old => [...document.querySelectorAll(\"[data-testid='stCaptionContainer']\")]"
        ".some(e => e.innerText.startsWith('z = (') && e.innerText !== old)",
        arg=page.locator("[data-testid='stCaptionContainer']", has_text="z = (").first.inner_text(),
        timeout=30_000,
    )
    [(fragment, browser_state, widget_id)] = _plane_messages(sent[mark:])
    click = browser_state["click"]
    browser_nearest = page.locator(NEAREST_CAPTIONS).all_inner_texts()
    browser_point = _server_point(page)

    student = Student(url)

    async def simulate() -> None:
        assert (await student.open()).errors == []
        answer = await student.click(click["x"], click["y"])
        assert answer.errors == []
        await student.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(asyncio.run, simulate()).result()
    mine = student._states[student.widgets[PLANE_KEY].id]  # what the student sent for the plane
    my_click = json.loads(mine.json_value)["click"]
    assert student.widgets[PLANE_KEY].id == widget_id
    assert student.widgets[PLANE_KEY].fragment_id == fragment
    assert set(my_click) == set(click) and my_click["gesture"] == click["gesture"] == "click"
    assert my_click["z"] == pytest.approx(click["z"], abs=1e-5)  # the browser's z is float32 arithmetic
    caption = next(text for text in student.texts if text.startswith("z = ("))
    assert [float(v) for v in caption[5:-1].split(",")] == browser_point
    assert student.captions[:8] == [text.strip() for text in browser_nearest]

    store = Store(data_dir)
    browser_token = next(c["value"] for c in page.context.cookies() if c["name"] == "aelab_workspace")
    points = []
    for token in (browser_token, student.cookie):
        _, workspace, fresh = store.open_workspace(token)
        assert not fresh
        points.append(store.light(workspace)["explore.point"])
    assert points[0]["model"] == points[1]["model"]
    assert points[1]["z"] == pytest.approx(points[0]["z"], abs=1e-5)
