"""This browser's workspace: the token the browser keeps, and the session's view of what the store holds.

The token lives in the browser's localStorage (``aelab/assets/workspace_token.js``) and reaches the server
through a tiny v2 component as its state. Why localStorage: it survives reloads, new tabs, sleep and server
restarts like a cookie would, but it is never sent with HTTP requests (so never to another app on the same
host, never into a server's access log), and unlike a URL token it does not show in screenshots, history
or a link pasted into a chat. See SECURITY.md.

:func:`sync` runs first in every run of the app. Until the browser has reported (the first run of a new
session), pages work as before; the first run after the report opens the workspace and loads its models,
datasets and light state into the session. A save before any report (AppTest, which runs no JavaScript)
opens a fresh workspace at once and tells the browser to keep its token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from aelab.errors import AelabError
from aelab.store import Store, StoredItem, Workspace, default_root

ASSET = Path(__file__).resolve().parents[1] / "assets" / "workspace_token.js"
TOKEN_KEY = "aelab-workspace-token"
SESSION_KEY = "aelab.workspace"

_token_component = st.components.v2.component(
    "aelab.workspace_token", js=ASSET.read_text(encoding="utf-8"), isolate_styles=False
)


@dataclass
class WorkspaceSession:
    """This session's open workspace (None until opened) and what was loaded from it."""

    token: str | None = None
    workspace: Workspace | None = None
    tell_browser: bool = False  # a new token the browser has not confirmed keeping yet
    loaded: set[str] = field(default_factory=set)  # stored item names already in the session
    light: dict[str, Any] = field(default_factory=dict)  # the light state as last read or written
    problems: list[str] = field(default_factory=list)  # saved items that failed their checks, for the sidebar


@st.cache_resource(show_spinner=False)
def _store(root: str) -> Store:
    store = Store(root)
    store.expire()  # once per process: the cleanup of idle workspaces
    return store


def store() -> Store:
    """The store of this server process (shared by every session; it holds no per-session state)."""
    return _store(str(default_root()))


def session() -> WorkspaceSession:
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = WorkspaceSession()
    return st.session_state[SESSION_KEY]


def _ignore() -> None:
    pass


def sync() -> bool:
    """Exchange the token with the browser; True when a workspace was opened in this run (call first in a run)."""
    own = session()
    data = {"store": own.token if own.tell_browser else None}
    with st.container(height=1, border=False, gap=None):  # draws nothing visible
        result = _token_component(key=TOKEN_KEY, data=data, height=0, on_token_change=_ignore)
    reported = result.get("token") if result is not None else None
    if reported is None:
        return False
    if own.workspace is None:
        _open(reported or None)
        return True
    if own.tell_browser and reported == own.token:
        own.tell_browser = False
    return False


def _open(token: str | None) -> None:
    own = session()
    own.token, own.workspace, fresh = store().open_workspace(token)
    own.tell_browser = fresh
    own.light = store().light(own.workspace)


def workspace() -> Workspace:
    """This session's workspace, opening a fresh one if the browser has not reported a token yet."""
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
    """Keep one small JSON value in the workspace (None removes it); written only when it changed.

    Before the workspace is open nothing is written (the browser's report, a moment away, brings back the
    saved values instead).
    """
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
