"""Helpers shared by the AppTest suites: run app.py, or one page the way app.py's navigation runs it."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def page_script(module: str) -> None:
    """What app.py does for one page: page config, the shared sidebar, then the page (AppTest cannot switch
    to a callable st.Page, so the page is run the way app.py's navigation runs it)."""
    import importlib

    import streamlit as st

    from aelab.ui import sidebar

    st.set_page_config(layout="wide", page_title="aelab")
    sidebar.render()
    importlib.import_module(module).render()


def run_app(**state: object) -> AppTest:
    """app.py run once with ``state`` put into the session first; fails on any exception."""
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app
