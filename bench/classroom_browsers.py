"""A few real browsers on one aelab server: the smoke test beside bench/classroom.py's simulated class.

    .venv/bin/python bench/classroom_browsers.py [--sessions 5] [--clicks 20] [--budget 150]

bench/classroom.py measures a class with simulated students (Streamlit's websocket protocol, no browser),
because 30 Chromium contexts on the server's two cores measured the browsers (BENCHMARKS.md). This keeps
the real-browser run, with few students, as a check that the whole path works under concurrency: pages
open, the plane is drawn, clicks and slider keys reach the server, a training finishes, nobody sees
another's model.

Starts ``streamlit run app.py`` on 127.0.0.1 and one Debian Chromium (Playwright, async API) with one
browser context per student, all opened at once. Every student waits for the Explore plane, then clicks the
plane ``--clicks`` times at different empty spots and moves the plane panel's z₁ slider with the keyboard
after every fifth click (the page decodes both at once; what is timed is the server's answer: the first
nearest sample's picture changing); student 0 instead opens the Train page and trains a model (MLP autoencoder on MNIST-5k,
``--epochs`` epochs) and comes back to Explore. Everything stops at ``--budget`` seconds after the start;
the server and the browser are always stopped.

Reports: errors (JavaScript page errors, Streamlit exceptions drawn on a page, clicks whose nearest samples
never changed within 30 s, tracebacks in the server log), click-to-answer latency (pointerdown to the first
nearest sample's new ``src``, page clock) median and 95th percentile, split by whether a training was running,
slider-to-image latency, the server process's peak RSS (``VmHWM`` from /proc), and isolation: the trained
model is in the trainer's model picker only, and every other student's chosen model is unchanged.
Absolute times depend on the machine (2 shared cores here, with the browser's 30 renderers on the same
cores as the server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from app_latency import APP_DRAWN, CLICK_CLOCK, DECODED, EMPTY_SPOTS, SRC_CHANGED  # noqa: E402
from playwright.async_api import Page, async_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, run_streamlit  # noqa: E402
from tests.browser.live import APP_PLANE  # noqa: E402

N_POINTS = 5000  # MNIST-5k: every image is a point of the plane
OPEN_TIMEOUT_MS = 150_000
IMAGE_TIMEOUT_MS = 30_000
POINT_CAPTION = "[data-testid='stCaptionContainer']:has-text('z = (')"
CAPTION_CHANGED = """old => {
    const caption = [...document.querySelectorAll("[data-testid='stCaptionContainer']")]
        .find((e) => e.innerText.startsWith('z = ('));
    if (!caption || caption.innerText === old || window.__pressedAt === null) return false;
    return performance.now() - window.__pressedAt;
}"""
MODEL_PICKER = "[data-testid='stSidebar'] [data-testid='stSelectbox']:has-text('Model')"


@dataclass
class Student:
    index: int
    errors: list[str] = field(default_factory=list)
    clicks: list[tuple[float, float]] = field(default_factory=list)  # (wall time of the click, ms to new image)
    sliders: list[float] = field(default_factory=list)
    opened_ms: float | None = None
    model_before: str | None = None
    options_before: list[str] = field(default_factory=list)
    model_after: str | None = None
    options_after: list[str] = field(default_factory=list)


@dataclass
class Training:
    started: float | None = None
    finished: float | None = None
    outcome: str = "not started"


def server_pid(port: int) -> int:
    """The pid of this process's child `streamlit run` serving ``port``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and "streamlit" in cmdline and f"--server.port {port}" in cmdline:
            return int(entry.name)
    raise RuntimeError(f"no streamlit child process on port {port}")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


async def model_picker(page: Page) -> tuple[str, list[str]]:
    """(the chosen model's title, every title the sidebar's model picker offers)."""
    picker = page.locator(MODEL_PICKER).first
    chosen = (await picker.get_by_role("combobox").input_value()).strip()
    await picker.locator("button[aria-label='Open']").click()
    listbox = page.locator("[role='listbox'] [role='option']")
    await listbox.first.wait_for(timeout=10_000)
    options = [text.strip() for text in await listbox.all_inner_texts()]
    await page.keyboard.press("Escape")
    return chosen, options


async def open_explore(page: Page, url: str) -> float:
    # Not goto's default "load" wait (30 s): with 30 pages loading at once on 2 cores the static files alone
    # take longer; the plane being drawn is the signal that counts.
    await page.goto(url, wait_until="commit", timeout=OPEN_TIMEOUT_MS)
    handle = await page.wait_for_function(APP_DRAWN, arg=N_POINTS, polling=250, timeout=OPEN_TIMEOUT_MS)
    await page.locator(DECODED).first.wait_for(timeout=OPEN_TIMEOUT_MS)
    return float(await handle.json_value())


async def wait_image(page: Page, old: str | None) -> float:
    handle = await page.wait_for_function(SRC_CHANGED, arg=old, polling="raf", timeout=IMAGE_TIMEOUT_MS)
    return float(await handle.json_value())


async def explore(student: Student, page: Page, clicks: int, deadline: float) -> None:
    """Click the plane at different empty spots; after every fifth click, move the first slider with the keyboard."""
    spots = await page.evaluate(EMPTY_SPOTS, [clicks, 10])
    for k, spot in enumerate(spots):
        if time.monotonic() > deadline:
            return
        old = await page.locator(DECODED).first.get_attribute("src")
        await page.mouse.move(spot["x"], spot["y"])
        await page.wait_for_timeout(300)  # plotly reacts to a click only after the pointer rested on the spot
        await page.evaluate(CLICK_CLOCK)
        await page.mouse.click(spot["x"], spot["y"])
        try:
            student.clicks.append((time.monotonic(), await wait_image(page, old)))
        except Exception as error:
            student.errors.append(f"click {k}: no new image ({type(error).__name__})")
        await page.wait_for_timeout(400)
        if k % 5 == 4 and time.monotonic() < deadline:
            # A key step moves the point a little: the nearest samples may stay, so wait for the server's caption.
            old = await page.locator(POINT_CAPTION).first.inner_text()
            await page.evaluate(f"() => {APP_PLANE}.panel.querySelector('input[type=range]').focus()")
            await page.evaluate(CLICK_CLOCK)
            await page.evaluate("() => { window.__pressedAt = performance.now(); }")  # the key press, not a pointer
            await page.keyboard.press("ArrowRight")
            try:
                handle = await page.wait_for_function(CAPTION_CHANGED, arg=old, polling="raf", timeout=IMAGE_TIMEOUT_MS)
                student.sliders.append(float(await handle.json_value()))
            except Exception as error:
                student.errors.append(f"slider after click {k}: no new image ({type(error).__name__})")
            await page.wait_for_timeout(400)


async def train(student: Student, page: Page, training: Training, epochs: int, deadline: float) -> None:
    """Train an MLP autoencoder on MNIST-5k from the Train page, wait for it (or stop it at the deadline)."""
    await page.get_by_role("link", name="Train").click()
    epochs_input = page.get_by_label("Epochs")
    await epochs_input.wait_for(timeout=OPEN_TIMEOUT_MS)
    await epochs_input.fill(str(epochs))
    await epochs_input.press("Enter")
    await page.wait_for_timeout(1000)
    await page.locator("[data-testid='stMain'] button[kind='primary']:has-text('Train')").click()
    training.started = time.monotonic()
    done = page.locator("[data-testid='stMain'] [data-testid='stAlertContentSuccess']")
    failed = page.locator("[data-testid='stMain'] [data-testid='stAlertContentError']")
    while time.monotonic() < deadline - 20:
        if await done.count():
            training.outcome = "done"
            break
        if await failed.count():
            training.outcome = "failed: " + await failed.first.inner_text()
            student.errors.append(training.outcome)
            break
        await page.wait_for_timeout(500)
    else:
        await page.get_by_role("button", name="Stop").click()
        training.outcome = "stopped at the time budget"
        await page.locator("[data-testid='stMain'] [data-testid='stAlertContentWarning']").first.wait_for(
            timeout=30_000
        )
    training.finished = time.monotonic()
    await page.wait_for_timeout(1500)
    await page.get_by_role("link", name="Explore").click()
    await page.wait_for_function(APP_DRAWN, arg=N_POINTS, polling=250, timeout=OPEN_TIMEOUT_MS)


async def run_student(student: Student, browser, url: str, args, training: Training, deadline: float) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda error: student.errors.append(f"page error: {error}"))
    try:
        student.opened_ms = await open_explore(page, url)
        student.model_before, student.options_before = await model_picker(page)
        if student.index == 0:
            await train(student, page, training, args.epochs, deadline)
        else:
            await explore(student, page, args.clicks, deadline)
        # Wait for the trainer to finish before looking at everyone's picker.
        while training.finished is None and time.monotonic() < deadline and training.outcome != "not started":
            await asyncio.sleep(0.5)
        student.model_after, student.options_after = await model_picker(page)
        exceptions = await page.locator("[data-testid='stException']").count()
        if exceptions:
            student.errors.append(f"{exceptions} Streamlit exception(s) on the page")
    except Exception as error:
        student.errors.append(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")
    finally:
        await context.close()


def process_table() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command name, CPU ticks used so far: user + system) for every readable process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            table[int(entry.name)] = (int(fields[1]), name, int(fields[11]) + int(fields[12]))
    return table


def descendants(table: dict[int, tuple[int, str, int]], root: int) -> set[int]:
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (parent, _, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def sample(pid: int, stop: threading.Event, samples: list[int], cpu: dict[int, tuple[str, int]]) -> None:
    """Every 0.5 s: the server's RSS, and the CPU ticks of every process this benchmark started (last seen)."""
    while not stop.is_set():
        try:
            samples.append(memory_kb(pid)["VmRSS"])
        except OSError:
            return
        table = process_table()
        for child in descendants(table, os.getpid()):
            cpu[child] = (table[child][1], table[child][2])
        stop.wait(0.5)


async def main_async(args) -> int:
    logs = Path(tempfile.mkdtemp(prefix="aelab-classroom-"))
    log = logs / "server.log"
    students = [Student(i) for i in range(args.sessions)]
    training = Training()
    with run_streamlit(REPO / "app.py", log_path=log) as url:
        pid = server_pid(int(url.rsplit(":", 1)[1]))
        idle_kb = memory_kb(pid)["VmRSS"]
        stop, samples, cpu = threading.Event(), [], {}
        sampler = threading.Thread(target=sample, args=(pid, stop, samples, cpu), daemon=True)
        sampler.start()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                start = time.monotonic()
                deadline = start + args.budget
                await asyncio.gather(*(run_student(s, browser, url, args, training, deadline) for s in students))
                elapsed = time.monotonic() - start
            finally:
                await browser.close()
        stop.set()
        sampler.join()
        peak_kb = memory_kb(pid)["VmHWM"]
    ticks = os.sysconf("SC_CLK_TCK")
    server_cpu = cpu.get(pid, ("", 0))[1] / ticks
    browser_cpu = sum(t for p, (name, t) in cpu.items() if p != pid and "chrom" in name.lower()) / ticks
    server_log = log.read_text(errors="replace")
    tracebacks = server_log.count("Traceback (most recent call last)")

    clicks = [(t, ms) for s in students for t, ms in s.clicks]
    latencies = [ms for _, ms in clicks]
    during = [ms for t, ms in clicks if training.started and t >= training.started and t <= (training.finished or t)]
    outside = [ms for t, ms in clicks if not (training.started and training.started <= t <= (training.finished or t))]
    sliders = [ms for s in students for ms in s.sliders]
    errors = [f"student {s.index}: {e}" for s in students for e in s.errors]
    errors += [f"server log: {tracebacks} traceback(s)"] if tracebacks else []
    trainer = students[0]
    trained_titles = [o for o in trainer.options_after if o not in trainer.options_before]
    leaks = [s.index for s in students[1:] if any(o in s.options_after for o in trained_titles)]
    changed = [s.index for s in students[1:] if s.model_after is not None and s.model_after != s.model_before]
    looked = sum(1 for s in students[1:] if s.options_after)

    def stats(values: list[float]) -> str:
        if not values:
            return "none"
        return f"median {statistics.median(values):.0f} ms, p95 {np.percentile(values, 95):.0f} ms (n={len(values)})"

    opened = [s.opened_ms for s in students if s.opened_ms is not None]
    print(
        f"sessions: {args.sessions} (1 training, {args.sessions - 1} exploring), run time {elapsed:.0f} s "
        f"(budget {args.budget} s)"
    )
    print(f"plane drawn after opening: {stats(opened)}")
    print(f"clicks done: {len(latencies)} of {(args.sessions - 1) * args.clicks}")
    print(f"click to new image, all: {stats(latencies)}")
    print(f"  while the training ran: {stats(during)}")
    print(f"  without a training: {stats(outside)}")
    print(f"slider key to new image: {stats(sliders)}")
    print(
        f"training: {training.outcome}"
        + (f", {training.finished - training.started:.0f} s" if training.started and training.finished else "")
    )
    print(
        f"CPU time used during the run: server {server_cpu:.0f} s, Chromium (all renderers) {browser_cpu:.0f} s, "
        f"of {elapsed * (os.cpu_count() or 1):.0f} core-seconds available ({os.cpu_count()} cores x {elapsed:.0f} s)"
    )
    print(f"server RSS: idle after start {idle_kb / 1024:.0f} MB, peak (VmHWM) {peak_kb / 1024:.0f} MB")
    print(
        f"isolation: trained model in the trainer's picker: {trained_titles or 'NO'}; in another student's picker: "
        f"{leaks or 'none'} (of {looked} checked); another student's chosen model changed: {changed or 'none'}"
    )
    print(f"errors: {len(errors)}")
    for error in errors[:40]:
        print(f"  {error}")
    print(f"server log: {log}")
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    return 0 if not errors and not leaks and not changed and trained_titles else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the one training")
    parser.add_argument("--budget", type=float, default=150.0, help="seconds until every session stops")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
