"""`aelab serve`: replicas behind nginx share the workspace store, and a replica's death loses no one's work.

The failover test starts 2 replicas and nginx on 127.0.0.1, has simulated students (bench/students.py,
Streamlit's websocket protocol) work through nginx, kills the replica that holds most of them, and checks
that they reconnect through the other one with their workspaces whole: every model still in their model
picker and in the store, and the point they chose still chosen. It needs nginx: `python3 run.py test`
installs Debian's package as root; elsewhere the test is skipped with the reason, unless
AELAB_REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aelab.cli import main
from aelab.serve import Cluster, nginx_binary, render_nginx_conf
from aelab.store import Store
from tests.browser.conftest import free_port

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from students import Student  # noqa: E402

STUDENTS = 6
MODEL_PICKER = "aelab.sidebar.model"


def _need_nginx() -> str:
    nginx = nginx_binary()
    if nginx is None:
        reason = "nginx is missing; install it with `apt-get install -y nginx` to run the load-balancer tests"
        if os.environ.get("AELAB_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (AELAB_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(reason)
    return nginx


def test_rendered_config_is_valid_nginx(tmp_path: Path) -> None:
    nginx = _need_nginx()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf("127.0.0.1:8501", [8502, 8503], tmp_path))
    text = conf.read_text()
    assert "@" not in text.replace("$", "")  # every field filled
    assert "server 127.0.0.1:8502 " in text and "server 127.0.0.1:8503 " in text
    check = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def _seed(store: Store, n: int) -> list[tuple[str, str]]:
    """n workspaces, each with one model of its own: (token, model title)."""
    data = (REPO / "pretrained" / "mnist5k-ae.safetensors").read_bytes()
    seeded = []
    for i in range(n):
        token, workspace, _ = store.open_workspace(None)
        title = f"seeded model {i}"
        store.save_model(workspace, data, title, origin="upload")
        seeded.append((token, title))
    return seeded


def _caption_point(student: Student) -> str:
    return next(text for text in student.texts if text.startswith("z = ("))


def test_students_survive_a_replica_killed_mid_run(tmp_path: Path) -> None:
    _need_nginx()
    data_dir = tmp_path / "store"
    seeded = _seed(Store(data_dir), STUDENTS)
    with Cluster(2, free_port(), data_dir=data_dir, run_dir=tmp_path / "run") as cluster:
        # A thread of its own: in a process that has run Playwright's sync API (the browser tests, collected
        # first), this thread already has a running event loop and asyncio.run would refuse.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _class_with_failover(cluster, seeded, data_dir)).result()


async def _class_with_failover(cluster: Cluster, seeded: list[tuple[str, str]], data_dir: Path) -> None:
    rng = random.Random(0)
    students = [Student(cluster.url, cookie=token, name=title) for token, title in seeded]
    for student in students:  # one at a time: the first run on each replica encodes the dataset
        opened = await student.open()
        assert opened.errors == []
    for student, (_, title) in zip(students, seeded):
        assert any(title in option for option in student.options[MODEL_PICKER]), student.options[MODEL_PICKER]
        clicked = await student.random_click(rng)
        assert clicked.errors == []
    chosen = {student.name: _caption_point(student) for student in students}
    served_by = Counter(student.replica for student in students)
    victim_address, _ = served_by.most_common(1)[0]
    victim = next(i for i, port in enumerate(cluster.replica_ports) if victim_address.endswith(f":{port}"))
    moved = [s for s in students if s.replica == victim_address]

    cluster.kill_replica(victim)
    await asyncio.sleep(1.0)  # the dropped websockets' close reaches the students

    for student in students:
        again = await student.rerun("after failover")  # a dropped tab reconnects and reruns (the browser does)
        assert again.errors == [], (student.name, again.errors)
        assert any(student.name in option for option in student.options[MODEL_PICKER])
        assert _caption_point(student) == chosen[student.name]  # the workspace's point, also on the new replica
        clicked = await student.random_click(rng)
        assert clicked.errors == []
    for student in students:
        await student.close()

    assert moved, "no student was on the killed replica"
    store = Store(data_dir)
    for token, title in seeded:
        _, workspace, fresh = store.open_workspace(token)
        assert not fresh
        assert [item.title for item in store.models(workspace)] == [title]  # 0 models lost


def test_serve_refuses_busy_ports(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--replicas", "2", "--port", str(port)]) != 0
    assert "busy" in capsys.readouterr().err
