"""aelab as users get it: `python -m build`, the wheel installed into a fresh virtualenv outside the source tree
(no editable install, no PYTHONPATH), then the command, the shipped models and the app from that install.

Slow (about two minutes: the build, then pip filling the virtualenv from the package registry or its cache),
so the sdist, the wheel and the virtualenv are made once per module and shared by its tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from playwright.sync_api import Page

from aelab import __version__
from aelab.recipes import MANIFEST, PRETRAINED
from aelab.serve import stop_process

from .live import NEAREST_PICTURES

ROOT = Path(__file__).resolve().parents[2]
PIP = ["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", "-q"]
WHEEL_LIMIT = 100 * 2**20  # PyPI's default limit per file

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("wheel")]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    sdist: Path
    venv: Path
    home: Path  # an empty working directory outside the source tree

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    @property
    def env(self) -> dict[str, str]:
        """The user's environment: the virtualenv's bin first, nothing that points at the checkout."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        return {**env, "PATH": f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "PYTHONNOUSERSITE": "1"}

    def run(self, *command: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(c) for c in command], cwd=self.home, env=self.env, capture_output=True, text=True, timeout=timeout
        )


def _check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the sdist and the wheel (isolated, as pip and PyPI do), install the wheel into a fresh virtualenv."""
    started = time.monotonic()
    work = tmp_path_factory.mktemp("package")
    dist, venv, home = work / "dist", work / "venv", work / "home"
    home.mkdir()
    _check(subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], capture_output=True, text=True, timeout=600))  # fmt: skip
    (wheel,) = dist.glob("aelab-*.whl")
    (sdist,) = dist.glob("aelab-*.tar.gz")
    print(f"built the sdist and the wheel in {time.monotonic() - started:.0f} s")
    _check(subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300))
    result = Installed(wheel, sdist, venv, home)
    # torch first, pinned to the version this suite runs on: an unpinned `torch` from the wheel's dependencies
    # would resolve to PyPI's multi-GB CUDA build; the machines we test on have a local CPU build of this
    # version, so this takes seconds and the check stays honest (every other dependency comes from the wheel's
    # own metadata, resolved by pip as a user's install would be).
    _check(result.run(result.bin("python"), *PIP, f"torch=={torch.__version__.split('+')[0]}", timeout=900))
    print(f"virtualenv with torch after {time.monotonic() - started:.0f} s")
    _check(result.run(result.bin("python"), *PIP, wheel, timeout=900))
    print(f"wheel installed after {time.monotonic() - started:.0f} s")
    return result


def test_the_wheel_holds_the_package_the_app_and_the_shipped_models(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "aelab"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    missing = sorted(set(tracked or [str(p.relative_to(ROOT)) for p in (ROOT / "aelab").rglob("*.py")]) - names)
    assert missing == [], f"files of the package missing from the wheel: {missing}"
    shipped = {f"aelab/pretrained/{r.name}.safetensors" for r in PRETRAINED} | {f"aelab/pretrained/{MANIFEST}"}
    assert shipped <= names and "aelab/ui/app.py" in names and "aelab/__main__.py" in names
    assert not any(n.startswith(("pretrained/", "tests/", "bench/")) for n in names)  # no second, top-level copy
    assert installed.wheel.stat().st_size < WHEEL_LIMIT
    with tarfile.open(installed.sdist) as sdist:  # the wheel is built from the sdist, so it must carry them too
        in_sdist = {Path(n).relative_to(Path(n).parts[0]).as_posix() for n in sdist.getnames() if "/" in n}
    assert {f"pretrained/{r.name}.safetensors" for r in PRETRAINED} | {f"pretrained/{MANIFEST}"} <= in_sdist


def test_the_installed_command_runs_outside_the_source_tree(installed: Installed) -> None:
    where = _check(installed.run(installed.bin("python"), "-c", "import aelab; print(aelab.__file__)")).stdout
    assert Path(where.strip()).is_relative_to(installed.venv), f"aelab imported from {where}, not the install"
    assert _check(installed.run(installed.bin("aelab"), "--version")).stdout.strip() == f"aelab {__version__}"
    table = _check(installed.run(installed.bin("aelab"), "eval", "mnist5k-vae")).stdout
    assert "vae (mnist5k-vae)" in table and "PCA(2)" in table, table
    unknown = installed.run(installed.bin("python"), "-m", "aelab", "eval", "mnist5k-gan")
    assert unknown.returncode == 2 and "shipped models: mnist5k-vae" in unknown.stderr


@pytest.fixture(scope="module")
def installed_app(installed: Installed) -> Iterator[str]:
    """`aelab app` from the installed wheel on a free local port; its URL once /_stcore/health answers."""
    from browser.conftest import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = installed.home / "app.log"
    with log.open("wb") as out:
        command = [str(installed.bin("aelab")), "app", "--port", str(port), "--host", "127.0.0.1"]
        app = subprocess.Popen(
            [*command, "--", "--server.fileWatcherType", "none"],
            cwd=installed.home,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200 and response.read().strip() == b"ok":
                            break
                except OSError:
                    pass
                assert app.poll() is None, f"aelab app exited ({app.returncode}):\n{log.read_text()}"
                assert time.monotonic() < deadline, f"aelab app was not healthy after 120 s:\n{log.read_text()}"
                time.sleep(0.3)
            yield url
        finally:
            stop_process(app)
    # Stopping `aelab app` stops its Streamlit too (it forwards SIGTERM): nothing answers on the port after.
    deadline = time.monotonic() + 15
    while _answers(url) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not _answers(url), "Streamlit kept serving after `aelab app` was stopped"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
            return True
    except OSError:
        return False


def test_the_installed_app_answers_its_health_check(installed_app: str) -> None:
    with urllib.request.urlopen(f"{installed_app}/_stcore/health", timeout=10) as response:
        assert response.status == 200


def test_explore_draws_the_shipped_model_from_the_installed_wheel(
    installed_app: str, page: Page, page_errors: list[str]
) -> None:
    # pytest-playwright's page (Debian's chromium, tests/browser/conftest.py): a sync_playwright of the test's
    # own cannot start inside the event loop pytest-playwright keeps running for the other browser tests.
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(installed_app)
    page.wait_for_function("() => window.__aelab?.planes?.['explore.plane']?.drawn === true", timeout=120_000)
    points = page.evaluate("() => window.__aelab.planes['explore.plane'].gd.data.reduce((n, t) => n + t.x.length, 0)")
    assert points > 100, f"the plane shows {points} points"
    page.locator(NEAREST_PICTURES).first.wait_for(timeout=60_000)
