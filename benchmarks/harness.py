"""Shared pieces of the benchmarks: the bench database, gunicorn on a free loopback port, the
order of interleaved rounds and the JSON result file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLATFORM = REPO / "platform"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/m6rec_bench"


def free_port() -> int:
    """A loopback TCP port nothing listens on (free until someone else binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alternating(round_index: int, conditions: list | tuple) -> list:
    """The order of ``conditions`` in round ``round_index`` (from 0): as given in even rounds,
    reversed in odd ones, so that a machine's drift favours none of them."""
    return list(conditions) if round_index % 2 == 0 else list(reversed(conditions))


def write_json(path: Path, result, *, indent: int = 2) -> None:
    """``result`` as JSON in ``path``: its folder created, the file replaced atomically (an
    interrupted run leaves the previous result, never half of one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=indent) + "\n", encoding="utf-8")
    tmp.replace(path)


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` when it does not exist yet."""
    import psycopg2

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


class Server:
    """gunicorn (deploy/gunicorn.conf.py, gthread) with ``workers`` × ``threads`` on a free
    loopback port; ready once ``ready_path`` answers 200. No worker recycling mid-measurement
    (each restart would reload the model)."""

    def __init__(
        self, env: dict[str, str], *, workers: int, threads: int, ready_path: str = "/healthz"
    ) -> None:
        self.port = free_port()
        self.ready_path = ready_path
        # Prometheus' multiprocess files are written on every request: keep them in memory, as
        # the compose file's tmpfs /tmp and the web pods' memory-backed emptyDir do
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.metrics_dir = tempfile.mkdtemp(prefix="m6rec-bench-prom-", dir=shm)
        self.env = dict(env)
        self.env.update(
            {
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "WEB_CONCURRENCY": str(workers),
                "GUNICORN_THREADS": str(threads),
                "GUNICORN_MAX_REQUESTS": "0",
                "GUNICORN_TIMEOUT": "120",
                "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir,
            }
        )
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        import http.client  # here: the scale curve's child measures its memory after imports

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
             "m6rec.wsgi"],
            cwd=REPO,
            env=self.env,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", self.ready_path)
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise SystemExit(f"gunicorn did not answer {self.ready_path} within 60 s")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
