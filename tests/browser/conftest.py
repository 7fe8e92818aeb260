"""Browser-test harness: Debian's Chromium driven by Playwright, and Streamlit servers started per script.

Fixtures for any browser test of aelab (the plane demo here, the real app.py elsewhere):

- `page` / `browser` / `context` come from pytest-playwright; this file points its launch at
  /usr/bin/chromium with flags that work offline, headless and without a GPU. Without that binary the
  browser tests are skipped with the reason, unless `AELAB_REQUIRE_BROWSER=1` (CI), where they fail.
- `streamlit_server(script, env=..., args=...)` starts `streamlit run` on a free local port, waits for
  `/_stcore/health` and returns the app's URL; servers are reused for the same script and options within a
  session and always stopped (terminate, then kill) when the session ends. `run_streamlit` is the same as a
  context manager for tests that need a server of their own.

Every test in tests/browser is marked `browser`, so `pytest -m "not browser"` leaves them out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from aelab.serve import stop_process

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = Path(__file__).resolve().parent
APPS = BROWSER_TESTS / "apps"
SERVER_START_TIMEOUT_S = 90.0  # a cold start that imports torch takes 5-6 s on a quiet machine, far more under load

StreamlitServer = Callable[..., str]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real browser against a Streamlit server (slow)")
    # pytest-playwright 0.10 defines its base_url fixture in a way pytest 9 deprecates; nothing we can act on.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:Session-scoped fixtures defined as instance methods:pytest.PytestRemovedIn10Warning",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_TESTS in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's Chromium (Playwright's own cannot be downloaded here)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install it with `apt-get install -y chromium` to run the browser tests"
        if os.environ.get("AELAB_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (AELAB_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(log: Path, n: int = 40) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(lines[-n:])


@contextmanager
def run_streamlit(
    script: str | os.PathLike[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    timeout_s: float = SERVER_START_TIMEOUT_S,
    port: int | None = None,
    launcher: str | os.PathLike[str] | None = None,
) -> Iterator[str]:
    """Run `streamlit run script` on a free 127.0.0.1 port; yield its URL once healthy; always stop it.

    env is added to this process's environment (the repo root is put on PYTHONPATH so scripts can import
    aelab); args are extra `streamlit run` options such as `--server.maxUploadSize=5`. Server output goes
    to log_path, whose tail is shown when the server does not come up. launcher, a Python file that ends in
    streamlit's CLI (bench/profiled_streamlit.py), replaces `-m streamlit`.
    """
    port = port or free_port()  # a restart on the same port: the browser reconnects to the same URL
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, *([str(launcher)] if launcher else ["-m", "streamlit"]), "run", str(script),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",  # tests never edit the script; watching the repo costs CPU
        *args,
    ]  # fmt: skip
    full_env = {**os.environ, **(env or {})}
    if "AELAB_DATA_DIR" not in (env or {}):  # every server its own workspace store, never the user's own
        full_env["AELAB_DATA_DIR"] = tempfile.mkdtemp(prefix="aelab-data-", dir=log_path.parent)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), full_env.get("PYTHONPATH", "")) if p)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("wb")
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=full_env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while not _healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit was not healthy after {timeout_s:.0f} s:\n{_tail(log_path)}")
            time.sleep(0.2)
        yield url
    finally:
        stop_process(process)
        log_file.close()


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """A factory: `streamlit_server(script, env=None, args=())` returns the URL of a running server.

    Servers are shared by every test that asks for the same script, env and args (each browser page is a new
    Streamlit session, so tests do not see each other's widget state; `st.cache_*` is shared). All are
    stopped at the end of the session.
    """
    running: dict[tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]], str] = {}
    stack: list[Any] = []
    logs = tmp_path_factory.mktemp("streamlit-logs")

    def start(script: str | os.PathLike[str], *, env: Mapping[str, str] | None = None, args: Sequence[str] = ()) -> str:
        identity = (str(Path(script).resolve()), tuple(sorted((env or {}).items())), tuple(args))
        if identity not in running:
            server = run_streamlit(
                identity[0], log_path=logs / f"{Path(script).stem}-{len(running)}.log", env=env, args=args
            )
            running[identity] = server.__enter__()
            stack.append(server)
        return running[identity]

    try:
        yield start
    finally:
        for server in reversed(stack):
            server.__exit__(None, None, None)


def wait_until_idle(page: Any, quiet_ms: int = 600, timeout_ms: int = 60_000) -> None:
    """Wait until the app has finished its reruns: no "Running…" status for ``quiet_ms`` in a row.

    A widget change reruns the script on the server; pressing the next button before that rerun ends can
    race it on a loaded machine. Streamlit shows its status widget while a run is in progress.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').filter(has_text="Running").count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the app was still running after {timeout_ms} ms")


def screenshot_path(name: str) -> Path:
    """Where a browser test saves its screenshot ``name``: docs/ when AELAB_UPDATE_DOCS=1 (to refresh the
    pictures README shows), otherwise a temporary folder, so a test run leaves the working tree as it was."""
    folder = (
        REPO_ROOT / "docs"
        if os.environ.get("AELAB_UPDATE_DOCS") == "1"
        else Path(tempfile.gettempdir()) / "aelab-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@pytest.fixture(scope="module")
def app_url(streamlit_server: StreamlitServer) -> str:
    """The URL of ``streamlit run app.py`` (one server, shared by every test that asks for it)."""
    return streamlit_server(REPO_ROOT / "app.py")


@pytest.fixture
def page_errors(page: Any) -> Iterator[list[str]]:
    """JavaScript errors raised on the page during the test; the test fails if there were any."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield errors
    assert errors == [], f"JavaScript errors on the page: {errors}"
