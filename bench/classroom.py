"""A class on one aelab server (or behind nginx), measured without browsers: simulated students.

    .venv/bin/python bench/classroom.py --students 30 100 [--minutes 2] [--think 3] [--train-share 0.05]
                                        [--json PATH] [--url http://127.0.0.1:PORT --pid PID ...]

For each class size, a fresh ``streamlit run app.py`` on 127.0.0.1 (its own empty workspace store,
``server.disconnectedSessionTTL`` set to ``--retention`` seconds instead of 120 so that "after they
left" is reached quickly) and that many :class:`students.Student` s (bench/students.py: Streamlit's
websocket protocol, no browser). All students open the app within ``--arrive`` seconds; each then, after
a think time drawn from an exponential of mean ``--think`` seconds, does one of: a click on the plane
(60 %), a release of a plane slider (15 %), a release of the manifold's grid-size slider (10 %), a page
switch to Learn or Draw and back to Explore (15 %). About ``--train-share`` of them open Train, set 3
epochs, press Train, follow the progress fragment's polls (``auto_rerun``) until the job ends, and go back
to exploring. After ``--minutes`` the students close their sockets; the server's RSS is read again once
the disconnected sessions have expired (``--retention`` + 10 s, then one probe session touches the
session store so that the expired ones are dropped).

Reported per class size: p50 / p95 / p99 of send-to-``script_finished`` per kind of interaction (and of all
of them once every student's opening has been answered, the arrival burst over), errors,
bytes, the server's CPU-seconds per interaction (utime + stime of the process from /proc; the niced
training threads are counted apart and left out of the per-interaction figure), peak RSS (sampled every
0.5 s), RSS per session ((peak - RSS before the class) / students) and RSS after they left. The students'
own process runs on the same cores; its CPU is reported too. ``--json PATH`` writes
``{"runs": [{"students", "p95_ms", "errors", "cpu_ms_per_interaction", "peak_rss_mb", "rss_after_mb", ...}]}``.

``--replicas N`` runs the class through nginx in front of N replicas instead (aelab.serve.Cluster, the
same as ``aelab serve --replicas N``; needs nginx); the replicas' CPU and RSS are summed. ``--url`` and
``--pid`` aim the class at a server already running: ``--pid`` may be given once per server process.

The real-browser classroom, with few students, is bench/classroom_browsers.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from students import Interaction, Student  # noqa: E402

from aelab.serve import Cluster  # noqa: E402
from tests.browser.conftest import free_port, run_streamlit  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TRAIN_EPOCHS = 3


# --- the server process, read from /proc -------------------------------------------------------------------


def cpu_s(pid: int) -> float:
    """utime + stime of a process, all its threads (living and ended), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def niced_threads_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each living thread of the process that runs at a positive nice (aelab's training)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[16]) > 0:  # field 19 of stat, nice
            out[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB / 1024


def streamlit_child(parent: int) -> int:
    """The pid of the python process `run_streamlit` started (a child of this process)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == parent and b"streamlit" in cmdline:
                return int(entry.name)
    raise RuntimeError("no streamlit child process")


@dataclass
class Sampler:
    """Samples the servers' RSS and their training threads' CPU every 0.5 s while a class runs."""

    pids: list[int]
    peak_mb: float = 0.0
    training: dict[tuple[int, int], float] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
        self.sample()

    def sample(self) -> None:
        total = 0.0
        for pid in self.pids:
            try:
                total += rss_mb(pid)
                for tid, seconds in niced_threads_cpu(pid).items():
                    self.training[(pid, tid)] = seconds
            except OSError:  # a replica that was stopped
                continue
        self.peak_mb = max(self.peak_mb, total)

    def total_cpu(self) -> float:
        return sum(cpu_s(pid) for pid in self.pids if Path(f"/proc/{pid}").exists())

    def total_rss(self) -> float:
        return sum(rss_mb(pid) for pid in self.pids if Path(f"/proc/{pid}").exists())


# --- one student -------------------------------------------------------------------------------------------


async def explore_once(student: Student, rng: random.Random) -> None:
    roll = rng.random()
    if roll < 0.60:
        await student.random_click(rng)
    elif roll < 0.75:
        await student.plane_slider(rng)
    elif roll < 0.85:
        await student.slider("explore.grid_size", rng.randint(8, 25), kind="grid_slider")
    else:
        await student.switch_page(rng.choice(["learn", "draw"]))
        await asyncio.sleep(rng.expovariate(1 / 2.0))
        await student.switch_page("explore")


async def train_once(student: Student, deadline: float) -> None:
    """Open Train, set a short training, press Train, follow its progress polls, come back to Explore."""
    await student.switch_page("train")
    epochs = next(key for key in student.widgets if key.startswith("train.epochs."))
    student.set_widget(epochs, int_value=TRAIN_EPOCHS)
    await student.button("train.start", kind="train_start")
    while student.auto_rerun is not None and time.monotonic() < deadline:
        await asyncio.sleep(student.auto_rerun[0])
        if student.auto_rerun is not None:
            await student.poll()
    await student.switch_page("explore")


async def attend(
    student: Student, rng: random.Random, *, arrive_s: float, think_s: float, trains: bool, deadline: float
) -> None:
    await asyncio.sleep(rng.uniform(0, arrive_s))
    try:
        await student.open()
    except OSError as error:
        student.interactions.append(Interaction("open", 0.0, 0, [f"could not connect: {error}"], time.monotonic()))
        return
    trained = not trains
    while time.monotonic() < deadline:
        await asyncio.sleep(min(rng.expovariate(1 / think_s), max(0.0, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            break
        if not trained:
            trained = True
            await train_once(student, deadline)
        else:
            await explore_once(student, rng)
    await student.close()


# --- a class -----------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


async def run_class(url: str, pids: list[int], args: argparse.Namespace, n: int) -> dict:
    rng = random.Random(args.seed)
    trainers = set(rng.sample(range(n), max(0, round(n * args.train_share))))
    students = [Student(url, name=f"s{i}") for i in range(n)]
    warmup = Student(url, name="warm-up")  # the first run pays the imports and the dataset's encoding
    await warmup.open()
    await warmup.close()
    sampler = Sampler(pids)
    sampler.sample()
    rss_before = sampler.total_rss()
    sampler.peak_mb = rss_before
    cpu_before = sampler.total_cpu()
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    started = time.monotonic()
    deadline = started + args.minutes * 60
    await asyncio.gather(
        *(
            attend(
                s,
                random.Random(args.seed * 1000 + i),
                arrive_s=args.arrive,
                think_s=args.think,
                trains=i in trainers,
                deadline=deadline,
            )
            for i, s in enumerate(students)
        )
    )
    wall = time.monotonic() - started
    stop.set()
    await sampling
    cpu = sampler.total_cpu() - cpu_before
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = (own_after.ru_utime + own_after.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
    training_cpu = sum(sampler.training.values())
    interactions = [i for s in students for i in s.interactions]
    errors = [(s.name, i.kind, e) for s in students for i in s.interactions for e in i.errors]
    by_kind: dict[str, list[Interaction]] = defaultdict(list)
    for i in interactions:
        by_kind["page" if i.kind.startswith("page:") else i.kind].append(i)

    # After they left: wait out the disconnected-session TTL, then one probe session makes the server touch its
    # session store (expired entries are dropped on access).
    await asyncio.sleep(args.retention + 10)
    probe = Student(url, name="probe")
    await probe.open()
    await probe.close()
    await asyncio.sleep(5)
    rss_after = sampler.total_rss()

    kinds = {
        kind: {
            "count": len(items),
            "p50_ms": round(percentile([i.ms for i in items], 50), 1),
            "p95_ms": round(percentile([i.ms for i in items], 95), 1),
            "p99_ms": round(percentile([i.ms for i in items], 99), 1),
            "kb_mean": round(statistics.fmean(i.bytes for i in items) / 1024, 1),
        }
        for kind, items in sorted(by_kind.items())
    }
    counted = [i for i in interactions if i.kind != "open"]  # opening is reported apart: 4 MB and a full run
    # Once the whole class is in: the arrival burst (every student's first full run within --arrive seconds)
    # is over, and what is left is the class at work.
    opens = [i for i in interactions if i.kind == "open"]
    all_in = max((i.started + i.ms / 1000 for i in opens), default=started)
    settled = [i.ms for i in counted if i.started >= all_in]
    return {
        "students": n,
        "behind": f" through nginx, {args.replicas} replicas" if args.replicas else "",
        "trainers": len(trainers),
        "interactions": len(interactions),
        "wall_s": round(wall, 1),
        "p95_ms": round(percentile([i.ms for i in counted], 95), 1),
        "p50_ms": round(percentile([i.ms for i in counted], 50), 1),
        "p99_ms": round(percentile([i.ms for i in counted], 99), 1),
        "all_in_after_s": round(all_in - started, 1),
        "settled_interactions": len(settled),
        "settled_p50_ms": round(percentile(settled, 50), 1),
        "settled_p95_ms": round(percentile(settled, 95), 1),
        "errors": len(errors),
        "error_examples": sorted({f"{kind}: {e}" for _, kind, e in errors})[:10],
        "cpu_s": round(cpu, 1),
        "training_cpu_s": round(training_cpu, 1),
        "cpu_ms_per_interaction": round((cpu - training_cpu) * 1000 / max(1, len(interactions)), 1),
        "students_cpu_s": round(own_cpu, 1),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(sampler.peak_mb, 1),
        "rss_per_session_mb": round((sampler.peak_mb - rss_before) / n, 2),
        "rss_after_mb": round(rss_after, 1),
        "kinds": kinds,
        "load_average": os.getloadavg(),
    }


def report(run: dict) -> None:
    print(
        f"\n{run['students']} students{run['behind']} ({run['trainers']} training), {run['interactions']} interactions in "
        f"{run['wall_s']} s; load average {', '.join(f'{v:.2f}' for v in run['load_average'])}"
    )
    print(f"  {'kind':<14}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'KB':>9}")
    for kind, k in run["kinds"].items():
        print(f"  {kind:<14}{k['count']:>7}{k['p50_ms']:>9}{k['p95_ms']:>9}{k['p99_ms']:>9}{k['kb_mean']:>9}")
    print(f"  all but open: p50 {run['p50_ms']} ms, p95 {run['p95_ms']} ms, p99 {run['p99_ms']} ms")
    print(
        f"  once all {run['students']} were in (after {run['all_in_after_s']} s): {run['settled_interactions']} "
        f"interactions, p50 {run['settled_p50_ms']} ms, p95 {run['settled_p95_ms']} ms"
    )
    print(f"  errors: {run['errors']} {run['error_examples']}")
    print(
        f"  server CPU {run['cpu_s']} s (training threads {run['training_cpu_s']} s): "
        f"{run['cpu_ms_per_interaction']} ms per interaction without training; students' own CPU "
        f"{run['students_cpu_s']} s"
    )
    print(
        f"  RSS before {run['rss_before_mb']} MB, peak {run['peak_rss_mb']} MB "
        f"({run['rss_per_session_mb']} MB per session), after they left {run['rss_after_mb']} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, nargs="+", default=[30, 100])
    parser.add_argument("--minutes", type=float, default=2.0, help="how long each class explores")
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds between a student's gestures")
    parser.add_argument("--arrive", type=float, default=10.0, help="students open the app within this many s")
    parser.add_argument("--train-share", type=float, default=0.05)
    parser.add_argument("--retention", type=int, default=20, help="server.disconnectedSessionTTL (s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replicas", type=int, help="through nginx in front of this many replicas")
    parser.add_argument("--url", help="a server already running (then --pid its process, or several)")
    parser.add_argument("--pid", type=int, action="append", default=[])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    runs = []
    for n in args.students:
        with ExitStack() as stack:
            if args.url:
                url, pids = args.url, args.pid
            elif args.replicas:
                run_dir = Path(tempfile.mkdtemp(prefix="aelab-classroom-"))
                cluster = stack.enter_context(
                    Cluster(
                        args.replicas,
                        free_port(),
                        data_dir=run_dir / "store",
                        run_dir=run_dir,
                        streamlit_args=[f"--server.disconnectedSessionTTL={args.retention}"],
                    )
                )
                url, pids = cluster.url, [process.pid for process in cluster.processes]
                print(f"logs: {run_dir}")
            else:
                logs = Path(tempfile.mkdtemp(prefix="aelab-classroom-"))
                url = stack.enter_context(
                    run_streamlit(
                        REPO / "app.py",
                        log_path=logs / "server.log",
                        args=[f"--server.disconnectedSessionTTL={args.retention}"],
                    )
                )
                pids = [streamlit_child(os.getpid())]
                print(f"server log: {logs / 'server.log'}")
            run = asyncio.run(run_class(url, pids, args, n))
        report(run)
        runs.append(run)
    if args.json:
        args.json.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    return 0 if all(run["errors"] == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
