"""Several aelab processes behind nginx on one machine: `aelab serve --replicas N --port P`.

Replica i is ``streamlit run`` of the packaged app on 127.0.0.1, port P + 1 + i; nginx listens on P and
keeps each browser on one replica (``deploy/nginx.conf`` says how and why). Every replica gets the same
``AELAB_DATA_DIR``, so they share one workspace store (SQLite in WAL mode plus files: several processes
may read and write it at once). A replica that dies is skipped by nginx; its students reconnect to
another and find their workspaces there. DEPLOY.md covers several machines.

:class:`Cluster` is the same as a context manager, for tests and benchmarks.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aelab.errors import AelabError
from aelab.store import default_root

NGINX_CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"
START_TIMEOUT_S = 120.0  # a cold replica imports torch: 5-6 s on a quiet machine, far more on a busy one


def nginx_binary() -> str | None:
    """nginx's path (PATH, then Debian's /usr/sbin), or None."""
    return shutil.which("nginx") or (str(Path("/usr/sbin/nginx")) if Path("/usr/sbin/nginx").exists() else None)


def render_nginx_conf(listen: str, upstream_ports: Sequence[int], run_dir: Path, template: Path = NGINX_CONF) -> str:
    """deploy/nginx.conf with its fields filled: nginx on ``listen`` (e.g. "127.0.0.1:8501") in front of
    replicas on 127.0.0.1 at ``upstream_ports``, writing its pid, log and buffers under ``run_dir``."""
    if not template.exists():
        raise AelabError(f"{template} is missing: `aelab serve` runs from a checkout of aelab (it ships deploy/)")
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in upstream_ports)
    text = template.read_text(encoding="utf-8")
    return text.replace("@LISTEN@", listen).replace("@UPSTREAMS@", servers).replace("@RUN_DIR@", str(run_dir))


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` and wait; kill it if it has not ended 15 s later (a server's shutdown)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Cluster:
    """N replicas of the app and nginx in front of them; started on enter, always stopped on exit.

    ``host``/``port``: where nginx listens; replicas take the ports after it. ``data_dir``: the shared
    workspace store (default: this process's ``AELAB_DATA_DIR`` or the per-user folder). ``streamlit_args``
    go to every replica. Logs and nginx's files go to ``run_dir`` (a new temporary folder by default).
    """

    replicas: int
    port: int
    host: str = "127.0.0.1"
    data_dir: Path | None = None
    streamlit_args: Sequence[str] = ()
    run_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list, init=False)
    nginx: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def replica_ports(self) -> list[int]:
        return [self.port + 1 + i for i in range(self.replicas)]

    def replica_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[i]}"

    def __enter__(self) -> Cluster:
        if self.replicas < 1:
            raise AelabError(f"--replicas must be at least 1; got {self.replicas}")
        nginx = nginx_binary()
        if nginx is None:
            raise AelabError("nginx is not installed; on Debian/Ubuntu: sudo apt-get install nginx")
        self.run_dir = Path(self.run_dir or tempfile.mkdtemp(prefix="aelab-serve-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o755)  # nginx's workers (user nobody when started as root) write their buffers here
        data_dir = Path(self.data_dir or default_root())
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "AELAB_DATA_DIR": str(data_dir)}
        from aelab.cli import app_command  # the same streamlit command `aelab app` runs

        try:
            for i, port in enumerate(self.replica_ports):
                log = (self.run_dir / f"replica-{i}.log").open("wb")
                command = app_command("127.0.0.1", port, self.streamlit_args)
                self.processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
                log.close()
            conf = self.run_dir / "nginx.conf"
            conf.write_text(render_nginx_conf(f"{self.host}:{self.port}", self.replica_ports, self.run_dir))
            nginx_log = (self.run_dir / "nginx.log").open("wb")
            self.nginx = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", str(self.run_dir), "-g", "daemon off;"],
                stdout=nginx_log,
                stderr=subprocess.STDOUT,
            )
            nginx_log.close()
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        pending = set(range(self.replicas))
        while pending:
            for i in sorted(pending):
                if self.processes[i].poll() is not None:
                    raise AelabError(f"replica {i} exited; see {self.run_dir}/replica-{i}.log")
                if _healthy(self.replica_url(i)):
                    pending.discard(i)
            assert self.nginx is not None
            if self.nginx.poll() is not None:
                raise AelabError(f"nginx exited: {(self.run_dir or Path()).joinpath('nginx.log').read_text()}")
            if time.monotonic() > deadline:
                raise AelabError(f"replicas {sorted(pending)} were not up after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.3)
        while not _healthy(self.url):
            if time.monotonic() > deadline:
                raise AelabError(f"nginx did not answer on {self.url}")
            time.sleep(0.2)

    def kill_replica(self, i: int) -> None:
        """Kill replica i at once (SIGKILL: a crash, not a shutdown)."""
        self.processes[i].send_signal(signal.SIGKILL)
        self.processes[i].wait(timeout=10)

    def wait(self) -> int:
        """Block until nginx or a replica exits (or Ctrl+C); the code of the first to exit."""
        while True:
            for process in [self.nginx, *self.processes]:
                if process is not None and process.poll() is not None:
                    return process.returncode
            time.sleep(0.5)

    def stop(self) -> None:
        if self.nginx is not None:
            stop_process(self.nginx)
        for process in self.processes:
            stop_process(process)

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def serve(replicas: int, port: int, host: str, streamlit_args: Sequence[str] = ()) -> int:
    """`aelab serve`: start the cluster, say where it is, run until Ctrl+C or until a process exits."""
    with Cluster(replicas, port, host, streamlit_args=streamlit_args) as cluster:
        print(
            f"aelab: {replicas} replica(s) on 127.0.0.1:{cluster.replica_ports[0]}-{cluster.replica_ports[-1]}, "
            f"nginx on {cluster.url} (store {os.environ.get('AELAB_DATA_DIR') or default_root()}; "
            f"logs in {cluster.run_dir}); Ctrl+C stops them",
            file=sys.stderr,
            flush=True,
        )
        try:
            return cluster.wait()
        except KeyboardInterrupt:
            return 0
