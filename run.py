#!/usr/bin/env python3
"""Set up aelab in ./.venv and start the app or run the tests: the two commands README.md gives.

    python3 run.py app     # set up, then start the app on http://localhost:8501
    python3 run.py test    # set up (with test tools and a headless browser), then run the whole suite

Setup is idempotent and quick the second time: it reinstalls only when pyproject.toml changed.
PyTorch: if the virtualenv has no torch yet, ``torch==2.13.0`` is installed first (set AELAB_TORCH to
another requirement, e.g. "torch==2.5.1", to choose). On Linux that is PyPI's ordinary build; a machine
that has a local CPU wheel of it (as our CI machines do) takes that one in seconds instead of
downloading the multi-GB CUDA build. An existing torch in the virtualenv is kept.
Browser tests use Debian's chromium, and the load-balancer tests Debian's nginx; on Debian/Ubuntu as root
they are installed with apt-get, elsewhere those tests are skipped with a message (set
AELAB_REQUIRE_BROWSER=1 to make that an error).
Only the standard library is used here, so it runs on a bare Python 3.10+.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
CHROMIUM = Path("/usr/bin/chromium")
NGINX = Path("/usr/sbin/nginx")
TORCH = os.environ.get("AELAB_TORCH", "torch==2.13.0")


def say(message: str) -> None:
    print(f"[aelab] {message}", flush=True)


def run(*command: str | Path, **kwargs) -> None:
    subprocess.run([str(c) for c in command], check=True, **kwargs)


def pip(*args: str) -> None:
    run(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", *args)


def has_module(name: str) -> bool:
    return subprocess.run([str(PYTHON), "-c", f"import {name}"], capture_output=True).returncode == 0


def setup(extras: str) -> None:
    """Create .venv and install aelab (editable) with ``extras``, skipping work already done."""
    if sys.version_info < (3, 10):  # noqa: UP036  (run.py must say so on an older Python, not crash)
        sys.exit(f"aelab needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        say(f"creating a virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".aelab-installed-{extras or 'app'}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + TORCH.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        say("dependencies are up to date")
        return
    if not has_module("torch"):
        say(f"installing PyTorch ({TORCH})")
        pip(TORCH)
    say("installing aelab and its dependencies")
    pip("-e", f"{ROOT}[{extras}]" if extras else str(ROOT))
    stamp.write_text(wanted)


def ensure_browser() -> None:
    """Install Debian's chromium (and CJK fonts for the Chinese UI), and nginx for the load-balancer tests
    (tests/test_serve.py), when missing and we may."""
    packages = [] if CHROMIUM.exists() else ["chromium", "fonts-noto-cjk"]
    if not (shutil.which("nginx") or NGINX.exists()):
        packages.append("nginx")
    if not packages:
        return
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        say(f"installing {', '.join(packages)} for the browser and load-balancer tests (apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(apt, "update", "-q", env=env)
        run(apt, "install", "-y", "-q", "--no-install-recommends", *packages, env=env)
    else:
        say(
            f"{', '.join(packages)} not installed and cannot be installed here (needs root and apt-get): "
            f"the tests that need them will be skipped. On Debian/Ubuntu: sudo apt-get install {' '.join(packages)}"
        )


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in ("app", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "app":
        setup("")
        say("starting the app: open http://localhost:8501 (Ctrl+C stops it)")
        return subprocess.call([str(PYTHON), "-m", "streamlit", "run", "app.py", *rest])
    setup("test")
    ensure_browser()
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
