"""This browser's workspace: the token the browser keeps, and the session's view of what the store holds.

The token lives in a first-party cookie, written by a tiny v2 component (``aelab/assets/workspace_cookie.js``)
and read by the server from ``st.context.cookies`` when a session starts. Why a cookie: the server knows
the workspace in the very first run of a session, before anything is drawn, so a reload, a new tab, a
reconnect after sleep and a server restart open the same workspace with no extra rerun. (localStorage was
tried first: its value reaches the server only through a component's report, and that report's rerun,
arriving during the first run, dropped the page the URL asked for.) Unlike a URL token it does not show in
screenshots, the history or a link pasted into a chat; ``SameSite=Strict`` keeps it off cross-site
requests. See SECURITY.md.

:func:`sync` runs first in every run of the app: it opens the workspace of the cookie's token (a missing,
malformed or unknown one gets a fresh workspace) and hands the token to the component, which writes the
cookie when the browser does not hold it yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from aelab.errors import AelabError
from aelab.store import Store, StoredItem, Workspace, default_root
from aelab.ui.session import session_object

log = logging.getLogger(__name__)

ASSET = Path(__file__).resolve().parents[1] / "assets" / "workspace_cookie.js"
COOKIE = "aelab_workspace"
COMPONENT_KEY = "aelab-workspace-cookie"
SESSION_KEY = "aelab.workspace"

_cookie_component = st.components.v2.component(
    "aelab.workspace_cookie", js=ASSET.read_text(encoding="utf-8"), isolate_styles=False
)


@dataclass
class WorkspaceSession:
    """This session's open workspace (None until opened) and what was loaded from it."""

    token: str | None = None  # before the workspace opens: a token to try first (tests stand in for a cookie)
    workspace: Workspace | None = None
    loaded: set[str] = field(default_factory=set)  # stored item names already in the session
    light: dict[str, Any] = field(default_factory=dict)  # the light state as last read or written
    problems: list[str] = field(default_factory=list)  # saved items that failed their checks, for the sidebar


@st.cache_resource(show_spinner=False)
def _store(root: str) -> Store:
    store = Store(root)
    if store.problem:  # the index was damaged and rebuilt from the files: the person running the server should know
        log.warning(store.problem)
    store.expire()  # once per process: the cleanup of idle workspaces
    return store


def store() -> Store:
    """The store of this server process (shared by every session; it holds no per-session state)."""
    return _store(str(default_root()))


def session() -> WorkspaceSession:
    return session_object(SESSION_KEY, WorkspaceSession)


def sync() -> bool:
    """Open this browser's workspace (first run of a session) and have the browser keep its token; True
    when the workspace was opened in this run. Call first in every run."""
    own = session()
    opened = own.workspace is None
    if opened:
        cookie = st.context.cookies.get(COOKIE)
        _open(cookie if isinstance(cookie, str) and cookie else own.token)  # AppTest's cookies are mocks
    with st.container(height=1, border=False, gap=None):  # draws nothing visible
        _cookie_component(key=COMPONENT_KEY, data={"token": own.token}, height=0)
    return opened


def _open(token: str | None) -> None:
    own = session()
    own.token, own.workspace, _fresh = store().open_workspace(token)
    own.light = store().light(own.workspace)


def workspace() -> Workspace:
    """This session's workspace (opened by :func:`sync`; opened fresh here if a caller came first)."""
    own = session()
    if own.workspace is None:
        _open(None)
    assert own.workspace is not None
    return own.workspace


def is_open() -> bool:
    return session().workspace is not None


def new_items(kind: str) -> list[StoredItem]:
    """Stored items of ``kind`` this session has not loaded yet (saved by another tab, a job, a share)."""
    own = session()
    if own.workspace is None:
        return []
    return [item for item in store().items(own.workspace, kind) if item.name not in own.loaded]


def mark_loaded(name: str) -> None:
    session().loaded.add(name)


def light() -> dict[str, Any]:
    """The workspace's light state (language, choices, current point, drawings...) as last read or written."""
    return dict(session().light)


def set_light(key: str, value: Any) -> None:
    """Keep one small JSON value in the workspace (None removes it); written only when it changed."""
    own = session()
    if own.workspace is None or own.light.get(key) == value:
        return
    try:
        store().set_light(own.workspace, key, value)
    except AelabError as error:
        own.problems.append(str(error))
        return
    if value is None:
        own.light.pop(key, None)
    else:
        own.light[key] = value


def delete() -> None:
    """Delete this workspace and everything in it; the session starts again with a fresh one."""
    own = session()
    if own.workspace is not None:
        store().delete_workspace(own.workspace)
    st.session_state.clear()  # every page's state held things from the deleted workspace
    _open(None)
