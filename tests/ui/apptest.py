"""Helpers shared by the AppTest suites: run app.py, or one page the way app.py's navigation runs it."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from aelab.ui.widgets import PICTURE_ROW_CLASS

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def page_script(module: str) -> None:
    """What app.py does for one page: page config, the shared sidebar, then the page (AppTest cannot switch
    to a callable st.Page, so the page is run the way app.py's navigation runs it)."""
    import importlib

    import streamlit as st

    from aelab.ui import sidebar, state, train_page, workspace

    st.set_page_config(layout="wide", page_title="aelab")
    with st.sidebar:
        opened = workspace.sync()
    state.refresh_from_workspace()
    if opened:
        state.restore_choices()
    sidebar.open_share_link()
    train_page.collect_finished_training()
    sidebar.render()
    state.remember_choices()
    importlib.import_module(module).render()


def with_cookie(app: AppTest, token: str) -> AppTest:
    """Have ``app``'s session start as a browser whose workspace cookie holds ``token`` (call before its first
    run: AppTest cannot send cookies, so the token is handed to the session the way a cookie would be)."""
    from aelab.ui.workspace import SESSION_KEY, WorkspaceSession

    app.session_state[SESSION_KEY] = WorkspaceSession(token=token or None)
    return app


def workspace_id(app: AppTest) -> str:
    """The id of ``app``'s workspace (the key of its training jobs); ``app`` has run at least once."""
    return app.session_state["aelab.workspace"].workspace.id


def run_app(**state: object) -> AppTest:
    """app.py run once with ``state`` put into the session first; fails on any exception."""
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


_FIGURE = re.compile(r'<img src="([^"]*)"[^>]*>.*?<figcaption[^>]*>(.*?)</figcaption>', re.S)


def picture_rows(app: AppTest) -> list[list[tuple[str, str]]]:
    """Each :func:`aelab.ui.widgets.picture_row` on the page, in order: its (image URL, caption) pairs."""
    bodies = [element.proto.body for element in app.get("html")]
    return [
        [(unescape(url), unescape(caption)) for url, caption in _FIGURE.findall(body)]
        for body in bodies
        if f'class="{PICTURE_ROW_CLASS}"' in body
    ]


def plane_traces(plane: dict[str, Any]) -> list[dict[str, Any]]:
    """The traces (points per label) a plane component's data draws: served as a file (``traces_url``,
    aelab.ui.plane.served_traces), read back from where the server wrote it, or inline."""
    from aelab.ui.plane import PUBLISHED_DIR

    if "traces" in plane:
        return plane["traces"]
    return json.loads((PUBLISHED_DIR / plane["traces_url"].rsplit("/", 1)[-1]).read_text())
