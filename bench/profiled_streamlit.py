"""`streamlit run` with every script run profiled: where a server's CPU goes, per kind of run.

    AELAB_PROFILE_DIR=/tmp/prof python bench/profiled_streamlit.py run app.py --server.headless true ...

Each run of a session's script (a full run or a fragment's) is timed with ``time.thread_time`` and profiled
with cProfile on that same clock; runs are grouped by kind (``full:<page hash>`` or ``fragment``). On
SIGUSR1 the server writes, under ``$AELAB_PROFILE_DIR``, ``runs.json`` (CPU ms of every run by kind, the
whole process's CPU seconds, so that what runs outside the script threads shows as the difference, and
Python's cyclic collections per generation with their CPU ms) and ``<kind>.pstats`` per kind
(``AELAB_PROFILE_CPROFILE=0``: none, the runs are only timed), then clears them. Read with
``pstats.Stats(path).sort_stats("tottime")``. On SIGUSR2 it appends
to ``memory.jsonl`` the sessions alive, the Python objects, and the RSS before and after a full GC and after
glibc's ``malloc_trim(0)``: whether memory a class left behind is held by Python or only by the allocator.
"""

from __future__ import annotations

import cProfile
import ctypes
import gc
import json
import os
import pstats
import signal
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

from streamlit.runtime.scriptrunner import script_runner
from streamlit.web import cli

OUT = Path(os.environ.get("AELAB_PROFILE_DIR", "/tmp/aelab-profile"))
_lock = threading.Lock()
_runs: dict[str, list[float]] = defaultdict(list)
_stats: dict[str, pstats.Stats] = {}
_original = script_runner.ScriptRunner._run_script
_CPROFILE = os.environ.get("AELAB_PROFILE_CPROFILE", "1") != "0"  # "0": time the runs only

# Python's own cyclic collections (Streamlit's post-run one is off in .streamlit/config.toml): how many of each
# generation, and the CPU they took on the thread that ran them (a collection holds the GIL throughout).
_gc: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
_gc_started: dict[int, float] = {}


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[threading.get_ident()] = time.thread_time()
        return
    started = _gc_started.pop(threading.get_ident(), None)
    if started is not None:
        figures = _gc[f"gen{info['generation']}"]
        figures[0] += 1
        figures[1] += (time.thread_time() - started) * 1000


gc.callbacks.append(_gc_timer)


def _profiled(self: script_runner.ScriptRunner, rerun_data: script_runner.RerunData) -> None:
    kind = "fragment" if rerun_data.fragment_id_queue else f"full:{rerun_data.page_script_hash or 'default'}"
    profile = cProfile.Profile(time.thread_time)
    started = time.thread_time()
    if _CPROFILE:
        profile.enable()
    try:
        _original(self, rerun_data)
    finally:
        profile.disable()
        spent = (time.thread_time() - started) * 1000
        with _lock:
            _runs[kind].append(spent)
            if not _CPROFILE:
                pass
            elif kind in _stats:
                _stats[kind].add(profile)
            else:
                _stats[kind] = pstats.Stats(profile)


# The main thread (Tornado's event loop: websocket frames, ForwardMsg serialisation) is profiled too, from one
# SIGUSR1 to the next: a signal handler runs in the main thread, so enabling a profiler there profiles it.
_main_profile: list[cProfile.Profile] = []


def _dump(*_: object) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if _CPROFILE:
        if _main_profile:
            _main_profile[0].disable()
            _main_profile.pop().dump_stats(OUT / "main_thread.pstats")
        _main_profile.append(cProfile.Profile(time.thread_time))
        _main_profile[0].enable()
    with _lock:
        times = os.times()
        gc_ms = {generation: {"count": count, "cpu_ms": round(ms, 1)} for generation, (count, ms) in _gc.items()}
        (OUT / "runs.json").write_text(
            json.dumps({"runs": _runs, "process_cpu_s": times.user + times.system, "gc": gc_ms})
        )
        _gc.clear()
        for kind, stats in _stats.items():
            stats.dump_stats(OUT / f"{kind.replace(':', '_')}.pstats")
        _runs.clear()
        _stats.clear()


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _memory(*_: object) -> None:
    """Where the memory is: sessions alive, Python objects, RSS before and after a full GC and malloc_trim."""
    from streamlit.runtime import Runtime

    manager = Runtime.instance()._session_mgr
    objects = gc.get_objects()  # those the collector scans: the frozen start-up heap is not among them
    figures: dict[str, object] = {"rss_mb": _rss_mb(), "objects": len(objects)}
    figures["object_types"] = Counter(type(o).__qualname__ for o in objects).most_common(12)
    figures["object_modules"] = Counter(type(o).__module__ for o in objects).most_common(8)
    sized = [(len(o), type(o).__qualname__, repr(o)[:80]) for o in objects if isinstance(o, (list, dict, tuple, set))]
    figures["largest_containers"] = sorted(sized, reverse=True)[:10]  # each of their items is visited per scan
    del sized
    del objects
    figures["active_sessions"] = len(manager.list_active_sessions())
    figures["sessions"] = len(manager.list_sessions())
    figures["gc_collected"] = gc.collect()
    figures["rss_after_gc_mb"] = _rss_mb()
    figures["objects_after_gc"] = len(gc.get_objects())
    figures["malloc_trim"] = ctypes.CDLL("libc.so.6").malloc_trim(0)
    figures["rss_after_trim_mb"] = _rss_mb()
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "memory.jsonl").open("a") as out:
        out.write(json.dumps(figures) + "\n")


script_runner.ScriptRunner._run_script = _profiled  # type: ignore[method-assign]
signal.signal(signal.SIGUSR1, _dump)
signal.signal(signal.SIGUSR2, _memory)

if __name__ == "__main__":
    sys.argv[0] = "streamlit"
    sys.exit(cli.main())
