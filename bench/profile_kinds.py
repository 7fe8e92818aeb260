"""What each kind of interaction costs the server, alone: one student, sequential, profiled.

    .venv/bin/python bench/profile_kinds.py [--repeat 20] [--out /tmp/aelab-kinds] [--top 25]

Starts bench/profiled_streamlit.py on app.py (its own empty store), opens one warm-up student, then for each
kind (opening, click, plane slider, grid slider, page switch Explore -> Learn / Draw -> Explore) repeats it
``--repeat`` times and prints the server process's CPU ms per interaction (from /proc: every thread), the
script threads' part (``time.thread_time`` of every script run), and the top functions by own time.
Profiles are left under ``--out/<kind>/`` for pstats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from classroom import cpu_s, streamlit_child  # noqa: E402
from students import Student  # noqa: E402

from tests.browser.conftest import run_streamlit  # noqa: E402


def dump(pid: int, prof_dir: Path, into: Path | None) -> dict:
    """Ask the server for its profiles (SIGUSR1), wait for them, move them to `into` (None: discard)."""
    shutil.rmtree(prof_dir, ignore_errors=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while not (prof_dir / "runs.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the pstats files are written after runs.json... give them a moment
    runs = json.loads((prof_dir / "runs.json").read_text())
    if into is not None:
        shutil.rmtree(into, ignore_errors=True)
        shutil.copytree(prof_dir, into)
    return runs


async def kinds(url: str, pid: int, prof_dir: Path, out: Path, repeat: int) -> None:
    rng = random.Random(0)
    warm = Student(url, name="warm")
    await warm.open()
    for _ in range(3):
        await warm.random_click(rng)
    await warm.close()

    async def opening(student: Student) -> Student:
        fresh = Student(url, name=f"s{rng.random()}")
        await fresh.open()
        await fresh.close()
        return student

    student = Student(url, name="one")
    await student.open()
    actions = {
        "open": opening,
        "click": lambda s: s.random_click(rng),
        "plane_slider": lambda s: s.plane_slider(rng),
        "grid_slider": lambda s: s.slider("explore.grid_size", rng.randint(8, 25), kind="grid_slider"),
        "to_learn": lambda s: s.switch_page("learn"),
        "to_explore_from_learn": lambda s: s.switch_page("explore"),
        "to_draw": lambda s: s.switch_page("draw"),
        "to_explore_from_draw": lambda s: s.switch_page("explore"),
    }
    pairs = {"to_learn": "to_explore_from_learn", "to_draw": "to_explore_from_draw"}
    for name in actions:
        if name.startswith("to_explore"):
            continue
        results: dict[str, list[float]] = {name: [], pairs.get(name, name): []}
        dump(pid, prof_dir, None)
        walls: dict[str, list[float]] = {name: [], pairs.get(name, name): []}
        for _ in range(repeat):
            for step in dict.fromkeys([name, pairs.get(name, name)]):
                before = cpu_s(pid)
                started = time.monotonic()
                await actions[step](student)
                walls[step].append((time.monotonic() - started) * 1000)
                await asyncio.sleep(0.15)  # the event loop's sends after script_finished
                results[step].append((cpu_s(pid) - before) * 1000)
        runs = dump(pid, prof_dir, out / name)
        script = {k: round(statistics.median(v), 1) for k, v in runs["runs"].items()}
        for step, values in results.items():
            print(
                f"{step:24s} process CPU median {statistics.median(values):6.1f} ms  mean {statistics.mean(values):6.1f}"
                f"  wall median {statistics.median(walls[step]):6.1f} ms"
            )
        print(f"{'':24s} script runs (median ms by kind): {script}", flush=True)
    await student.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("/tmp/aelab-kinds"))
    parser.add_argument("--no-cprofile", action="store_true", help="time the runs only (cProfile adds ~3x)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="aelab-kinds-"))
    prof_dir = tmp / "prof"
    env = {"AELAB_PROFILE_DIR": str(prof_dir), "AELAB_DATA_DIR": str(tmp / "data")}
    if args.no_cprofile:
        env["AELAB_PROFILE_CPROFILE"] = "0"
    profiled = REPO / "bench" / "profiled_streamlit.py"
    with run_streamlit(REPO / "app.py", log_path=tmp / "server.log", env=env, launcher=profiled) as url:
        pid = streamlit_child(os.getpid())
        print(f"load average {os.getloadavg()}", flush=True)
        asyncio.run(kinds(url, pid, prof_dir, args.out, args.repeat))
        print(f"load average {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
