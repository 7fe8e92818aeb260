"""Simulated students: Streamlit's own websocket protocol, spoken with no browser.

A :class:`Student` is one browser tab of aelab as the server sees it. It opens
``ws://HOST/_stcore/stream`` with the ``streamlit`` subprotocol (the browser offers
``["streamlit", <xsrf or placeholder>, <last session id>]``; the second entry is checked only with
``st.login``), sends the ``aelab_workspace`` cookie once it holds one, and then talks in the installed
streamlit package's protobufs: a ``BackMsg`` ``rerun_script`` (a ``ClientState`` with the page, the
widget states and the fragment to rerun) and the ``ForwardMsg`` stream back, up to ``script_finished``.

What a student learns from the first run, like a browser does:

- widget ids, from the elements of the deltas (every widget element carries its id, which ends in the
  user key, e.g. ``...-explore.grid_size``), and the fragment each one lives in (``delta.fragment_id``);
  a widget inside a fragment reruns only that fragment, as the browser does;
- the pages, from the ``navigation`` message (``url_pathname`` to ``page_script_hash``);
- its workspace token, from the data of the workspace-cookie component (``aelab.workspace_cookie``): the
  browser writes that cookie; a student keeps it and sends it as a ``Cookie`` header on every reconnect,
  so a reload, a reconnect or another replica opens the same workspace;
- the latent plane's bounds, from the plane component's data, so a click lands on the plane.

Messages the server marks cacheable are remembered by hash and listed in ``cached_message_hashes`` on
every rerun, as the browser does; the server then sends a short ``ref_hash`` instead of the element.
Parsed facts are kept per hash in one table shared by every student of the process, so a hundred students
parse the multi-megabyte plane payload once.

What each interaction records (:class:`Interaction`): send to ``script_finished`` in ms, the bytes of
every frame received meanwhile, and its errors (exception elements, a run that ended with a compile
error, a dropped connection, a timeout). Measuring tool, not part of the library: ``bench/classroom.py``
drives a class of these, and ``tests/browser/test_students.py`` checks one against a Playwright click.
"""

from __future__ import annotations

import asyncio
import html
import json
import random
import re
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

COOKIE = "aelab_workspace"
PLANE_KEY = "explore.plane"
COOKIE_COMPONENT = "aelab.workspace_cookie"
PLANE_COMPONENT = "aelab.latent_plane"
XSRF_PLACEHOLDER = "PLACEHOLDER_AUTH_TOKEN"  # what the browser offers when it holds no XSRF token
MAX_MESSAGE_BYTES = 512 * 2**20  # the plane's first message carries points, decoder weights and a sprite sheet
RUN_TIMEOUT_S = 120.0

FINISHED = ForwardMsg.ScriptFinishedStatus
DONE = {FINISHED.FINISHED_SUCCESSFULLY, FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


@dataclass(frozen=True)
class Widget:
    """A widget as the browser knows it: its id, its element type and the fragment it reruns (or "")."""

    id: str
    type: str
    fragment_id: str


@dataclass
class Facts:
    """What one delta tells a student (kept per message hash, shared by all students)."""

    widget: Widget | None = None
    key: str | None = None  # the user key the widget id ends with
    error: str | None = None  # an exception element's message
    token: str | None = None  # the workspace cookie component's token
    bounds: list[list[float]] | None = None  # the plane's [[xmin, xmax], [ymin, ymax]]
    sliders: list[tuple[float, float]] | None = None  # the panel's latent sliders' (low, high)
    affine: tuple[list[list[float]], list[float]] | None = None  # z = [x, y] . matrix + offset (None: UMAP)
    text: str | None = None  # a markdown / caption's body, for tests that compare what a page shows
    options: list[str] | None = None  # a selectbox's options as shown (e.g. the sidebar's model picker)
    captions: list[str] | None = None  # the captions of an image list or a row of pictures (Explore's nearest)


@dataclass
class Interaction:
    """One message sent and the server's answer up to ``script_finished``."""

    kind: str
    ms: float
    bytes: int
    errors: list[str]
    started: float  # time.monotonic() at send


@dataclass
class Student:
    """One simulated browser tab on ``url`` (``http://127.0.0.1:PORT``, with or without a path prefix)."""

    url: str
    cookie: str | None = None  # the workspace token, as the browser's cookie holds it
    replica_cookie: str | None = None  # nginx's `aelab_replica` (deploy/nginx.conf), when behind it
    replica: str | None = None  # the replica that answered the page load (nginx's X-Aelab-Replica header)
    name: str = "student"
    interactions: list[Interaction] = field(default_factory=list)
    widgets: dict[str, Widget] = field(default_factory=dict)  # by user key
    pages: dict[str, str] = field(default_factory=dict)  # url_pathname -> page_script_hash
    page_hash: str = ""
    bounds: list[list[float]] | None = None
    sliders: list[tuple[float, float]] | None = None
    affine: tuple[list[list[float]], list[float]] | None = None
    texts: list[str] = field(default_factory=list)  # markdown / captions of the last run, in order
    options: dict[str, list[str]] = field(default_factory=dict)  # selectbox options by user key
    captions: list[str] = field(default_factory=list)  # image captions of the last run, in order
    session_id: str = ""
    auto_rerun: tuple[float, str] | None = None  # (interval s, fragment id) the server asked the page to poll

    def __post_init__(self) -> None:
        self._ws: ClientConnection | None = None
        self._states: dict[str, WidgetState] = {}  # every widget value this tab has set, sent on every rerun
        self._cached: set[str] = set()
        self._finished: asyncio.Future[int] | None = None
        self._errors: list[str] = []
        self._bytes = 0
        self._reader: asyncio.Task[None] | None = None
        self._clicks = 0

    # --- connection -------------------------------------------------------------------------------------

    def _cookie_header(self) -> dict[str, str]:
        cookies = {COOKIE: self.cookie, "aelab_replica": self.replica_cookie}
        pairs = [f"{name}={value}" for name, value in cookies.items() if value]
        return {"Cookie": "; ".join(pairs)} if pairs else {}

    async def load_page(self) -> None:
        """GET the app's page, as a browser does before it opens the websocket (nginx's cookie comes here)."""

        def get() -> None:
            request = urllib.request.Request(self.url.rstrip("/") + "/", headers=self._cookie_header())
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                self.replica = response.headers.get("X-Aelab-Replica")
                for header in response.headers.get_all("Set-Cookie") or []:
                    name, _, rest = header.partition("=")
                    if name.strip() == "aelab_replica":
                        self.replica_cookie = rest.split(";", 1)[0]

        await asyncio.to_thread(get)

    async def connect(self) -> None:
        """Open the websocket (again, after a drop: the last session id is offered, as the browser does)."""
        ws_url = self.url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        headers = self._cookie_header()
        protocols = ["streamlit", XSRF_PLACEHOLDER] + ([self.session_id] if self.session_id else [])
        self._ws = await connect(
            ws_url,
            subprotocols=[Subprotocol(p) for p in protocols],
            additional_headers=headers,
            max_size=MAX_MESSAGE_BYTES,
            open_timeout=60,
            ping_interval=None,  # the server pings; a loaded event loop must not drop a quiet student
            compression=None,  # the browser's permessage-deflate is off in Streamlit's server too
        )
        self._reader = asyncio.create_task(self._read(self._ws))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None

    async def _read(self, ws: ClientConnection) -> None:
        while True:
            try:
                frame = await ws.recv()
            except ConnectionClosed:
                self._ws = None if self._ws is ws else self._ws
                self._fail("connection closed")
                return
            assert isinstance(frame, bytes)
            self._bytes += len(frame)
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            self._handle(msg)

    def _fail(self, error: str) -> None:
        if self._finished is not None and not self._finished.done():
            self._errors.append(error)
            self._finished.set_result(-1)

    # --- the messages -------------------------------------------------------------------------------------

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if msg.metadata.cacheable and msg.hash:
            self._cached.add(msg.hash)
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self.page_hash = msg.new_session.page_script_hash or self.page_hash
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            for page in msg.navigation.app_pages:  # the default page's url path is "" (the app's root)
                if page.is_default:
                    self.pages.setdefault(page.page_name.lower(), page.page_script_hash)
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            pass
        elif kind == "delta":
            self._learn(facts_of(msg.hash, msg.delta))
        elif kind == "ref_hash":
            facts = KNOWN.get(msg.ref_hash)
            if facts is not None:
                self._learn(facts)
        elif kind == "auto_rerun":
            self.auto_rerun = (msg.auto_rerun.interval, msg.auto_rerun.fragment_id)
        elif kind == "stop_auto_rerun":
            self.auto_rerun = None
        elif kind == "script_finished":
            status = msg.script_finished
            if status == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                self._errors.append("script finished with a compile error")
            if status != FINISHED.FINISHED_EARLY_FOR_RERUN and self._finished and not self._finished.done():
                self._finished.set_result(int(status))

    def _learn(self, facts: Facts) -> None:
        if facts.widget is not None and facts.key is not None:
            self.widgets[facts.key] = facts.widget
        if facts.error is not None:
            self._errors.append(facts.error)
        if facts.token is not None:
            self.cookie = facts.token  # what workspace_cookie.js writes into document.cookie
        if facts.bounds is not None:
            self.bounds, self.sliders, self.affine = facts.bounds, facts.sliders, facts.affine
        if facts.text is not None:
            self.texts.append(facts.text)
        if facts.captions is not None:
            self.captions.extend(facts.captions)
        if facts.options is not None and facts.key is not None:
            self.options[facts.key] = facts.options

    # --- interactions -------------------------------------------------------------------------------------

    async def rerun(
        self, kind: str, *, fragment_id: str = "", page_hash: str | None = None, auto: bool = False
    ) -> Interaction:
        """Send ``rerun_script`` with every widget state this tab holds; wait for ``script_finished``."""
        if self._ws is None:
            await self.connect()
        assert self._ws is not None
        back = BackMsg()
        state = back.rerun_script
        state.query_string = ""
        state.page_script_hash = page_hash if page_hash is not None else self.page_hash
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.widget_states.widgets.extend(self._states.values())
        state.cached_message_hashes.extend(sorted(self._cached))
        self._errors, self._bytes, self.texts, self.captions = [], 0, [], []
        self._finished = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        try:
            await self._ws.send(back.SerializeToString())
            await asyncio.wait_for(self._finished, RUN_TIMEOUT_S)
        except (ConnectionClosed, asyncio.TimeoutError, OSError) as error:
            self._errors.append(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
        interaction = Interaction(kind, (time.monotonic() - started) * 1000, self._bytes, list(self._errors), started)
        self.interactions.append(interaction)
        if page_hash is not None:
            self.page_hash = page_hash
        return interaction

    async def open(self) -> Interaction:
        """A tab opening the app at its root: the page load, then the websocket and the default page, Explore."""
        await self.load_page()
        await self.connect()
        return await self.rerun("open")

    def set_widget(self, key: str, **value: Any) -> Widget:
        """Set a widget's value as the browser would (e.g. ``double_array_value=[12]``); returns the widget."""
        widget = self.widgets[key]
        state = WidgetState(id=widget.id)
        name, raw = next(iter(value.items()))
        if name in ("double_array_value", "int_array_value", "string_array_value"):
            getattr(state, name).data.extend(raw)
        else:
            setattr(state, name, raw)
        self._states[widget.id] = state
        return widget

    async def click(self, x: float, y: float, z: list[float] | None = None, gesture: str = "click") -> Interaction:
        """A finished gesture on the plane: the component state plane.js sends (``send`` in plane.js).

        ``z`` is the code the browser decoded there: the plane map's affine inverse of (x, y) (z = (x, y)
        on a d = 2 plane, PCA's inverse for d > 2); None where the browser cannot decode (UMAP).
        """
        self._clicks += 1
        if z is None and self.affine is not None:
            matrix, offset = self.affine
            z = [x * matrix[0][i] + y * matrix[1][i] + offset[i] for i in range(len(offset))]
        n = int(time.time() * 1000) * 10 + self._clicks % 10
        value = {"click": {"x": x, "y": y, "z": z, "n": n, "gesture": gesture}}
        widget = self.set_widget(PLANE_KEY, json_value=json.dumps(value))
        return await self.rerun(gesture, fragment_id=widget.fragment_id)

    async def random_click(self, rng: random.Random) -> Interaction:
        assert self.bounds is not None, "the plane has not arrived yet"
        (x0, x1), (y0, y1) = self.bounds
        return await self.click(rng.uniform(x0, x1), rng.uniform(y0, y1))

    async def plane_slider(self, rng: random.Random) -> Interaction:
        """Release of one of the plane panel's latent sliders: the same message with the new full code z and
        its place on the plane ((z - offset) . matrix^T, exact for the identity and for PCA's orthonormal rows)."""
        assert self.sliders is not None and self.affine is not None, "this plane has no browser sliders"
        z = [rng.uniform(low, high) for low, high in self.sliders]
        matrix, offset = self.affine
        x, y = (sum((z[i] - offset[i]) * row[i] for i in range(len(z))) for row in matrix)
        return await self.click(x, y, z, gesture="slider")

    async def slider(self, key: str, value: float, kind: str = "slider") -> Interaction:
        """Release of an ``st.slider``: its value, rerunning its fragment only (as the browser does)."""
        widget = self.set_widget(key, double_array_value=[value])
        return await self.rerun(kind, fragment_id=widget.fragment_id)

    async def button(self, key: str, kind: str = "button") -> Interaction:
        widget = self.set_widget(key, trigger_value=True)
        try:
            return await self.rerun(kind, fragment_id=widget.fragment_id)
        finally:
            self._states.pop(widget.id, None)  # a trigger is sent once

    async def switch_page(self, url_path: str) -> Interaction:
        # The browser drops the states of widgets that are no longer on the page.
        self._states.clear()
        return await self.rerun(f"page:{url_path}", page_hash=self.pages[url_path])

    async def poll(self) -> Interaction:
        """One of the reruns a `run_every` fragment (training progress) asks the browser for."""
        assert self.auto_rerun is not None
        return await self.rerun("poll", fragment_id=self.auto_rerun[1], auto=True)


# --- what a delta says, parsed once per message hash -----------------------------------------------------

KNOWN: dict[str, Facts] = {}
FIGCAPTION = re.compile(r"<figcaption[^>]*>(.*?)</figcaption>", re.S)


def facts_of(hash_: str, delta: Any) -> Facts:
    if hash_ and hash_ in KNOWN:
        return KNOWN[hash_]
    facts = Facts()
    if delta.WhichOneof("type") == "new_element":
        element = delta.new_element
        kind = element.WhichOneof("type")
        proto = getattr(element, kind) if kind else None
        widget_id = getattr(proto, "id", "") if proto is not None else ""
        if kind == "exception":
            facts.error = f"{element.exception.type}: {element.exception.message}"
        elif kind == "markdown":
            facts.text = element.markdown.body
        elif kind == "bidi_component":
            _component_facts(element.bidi_component, facts)
        elif kind == "imgs":
            facts.captions = [image.caption for image in element.imgs.imgs if image.caption]
        elif kind == "html":  # a row of pictures (aelab.ui.widgets.picture_row): its figures' captions
            facts.captions = [html.unescape(c) for c in FIGCAPTION.findall(element.html.body)] or None
        elif kind == "selectbox":
            facts.options = list(element.selectbox.options)
        if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
            facts.widget = Widget(widget_id, kind or "", delta.fragment_id)
            facts.key = widget_id.split("-", 2)[2] if widget_id.count("-") >= 2 else None
            if facts.key == "None":
                facts.key = None
    if hash_:
        KNOWN[hash_] = facts
    return facts


def _component_facts(component: Any, facts: Facts) -> None:
    name = component.component_name
    if name.endswith(COOKIE_COMPONENT) and component.json:
        token = json.loads(component.json).get("token")
        facts.token = token if isinstance(token, str) else None
    elif name.endswith(PLANE_COMPONENT) and component.json:
        data = json.loads(component.json)
        facts.bounds = data.get("bounds")
        panel = data.get("panel") or {}
        facts.sliders = [(s["low"], s["high"]) for s in panel.get("sliders") or []] or None
        plane_map = (data.get("decoder") or {}).get("plane_map")
        if isinstance(plane_map, dict) and "matrix" in plane_map:
            facts.affine = (plane_map["matrix"], plane_map["offset"])
