"""Fault-injection fixtures: throwaway services the tests start, stop and restart themselves.

Never the shared PostgreSQL or Redis: each test session gets its own PostgreSQL cluster
(``initdb`` + ``pg_ctl`` on a free port in a temporary directory; run as the ``postgres`` user
when the tests run as root, since PostgreSQL refuses to run as root), its own
``redis-server`` and a gunicorn with the production settings over plain HTTP on a free
loopback port. A missing binary skips (fails under ``M6REC_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
REQUIRE_SERVICES = os.environ.get("M6REC_REQUIRE_SERVICES") == "1"


def missing(message: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(message + " M6REC_REQUIRE_SERVICES=1 forbids skipping.", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(interval)
    raise RuntimeError(f"{what} within {timeout:.0f} s")


# ---------------------------------------------------------------------- PostgreSQL
def _pg_bindir() -> Path | None:
    """The server binaries' folder: Debian's versioned one (the newest), else ``initdb`` on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    found = candidates[0] if candidates else shutil.which("initdb")
    return Path(found).parent if found else None


class ThrowawayPostgres:
    """A private PostgreSQL cluster; ``stop()`` / ``start()`` keep its port and data."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="m6rec-pg-"))
        self.data = self.root / "data"
        self.user = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self.user = "postgres"
            try:
                entry = pwd.getpwnam(self.user)
            except KeyError:
                missing("tests run as root and there is no 'postgres' user to run PostgreSQL.")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bindir / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def url(self, name: str = "m6rec") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast``: disconnect every client and shut down; ``immediate``: like a crash."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------------- Redis
class ThrowawayRedis:
    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="m6rec-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        os.makedirs(self.dir, exist_ok=True)  # stop() removes it; a test may start it again
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._ping, timeout=10, what="throwaway redis-server did not answer")

    def _ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------- the live server
def server_env(*, database_url: str, redis_url: str, media: Path, **extra: str) -> dict:
    """The production settings over plain HTTP on loopback, with this session's services."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "m6rec.settings.production",
        "DJANGO_SECRET_KEY": "reliability-tests-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "M6REC_MEDIA_ROOT": str(media),
        "M6REC_API_KEY_RATE": "1000000/min",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(REPO / "platform"), str(REPO)]),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout


class LiveServer:
    """gunicorn (deploy/gunicorn.conf.py) on a free loopback port; ``request()`` returns
    ``(status, headers, body bytes)`` and never raises for an HTTP status."""

    def __init__(self, env: dict, *, workers: int = 2, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.metrics_dir = tempfile.mkdtemp(prefix="m6rec-prom-")
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": "1",
            "GUNICORN_TIMEOUT": "60",
            "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir,
        }
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy/gunicorn.conf.py"),
             "m6rec.wsgi:application"],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_for(
                lambda: self.request("GET", "/healthz")[0] == 200,
                timeout=90,
                what="gunicorn did not answer /healthz",
                interval=0.3,
            )
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"gunicorn did not start:\n{self.log()[-4000:]}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body=None, *, token: str | None = None,
                timeout: float = 30.0):  # fmt: skip
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        shutil.rmtree(self.metrics_dir, ignore_errors=True)


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def throwaway_postgres():
    """A migrated private PostgreSQL cluster (database ``m6rec``) for the whole session."""
    bindir = _pg_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        missing("PostgreSQL server binaries (initdb, pg_ctl) are not installed.")
    server = ThrowawayPostgres(bindir)
    try:
        server.start()
        server.execute("CREATE DATABASE m6rec")
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def throwaway_redis():
    executable = shutil.which("redis-server")
    if executable is None:
        missing("redis-server is not installed (needed for a throwaway Redis).")
    server = ThrowawayRedis(executable)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_stack(throwaway_postgres, throwaway_redis, tmp_path_factory):
    """Migrated database, collected static files, one tenant with an all-scopes key and a few
    rows, gunicorn (2 processes) with the production settings. ``SimpleNamespace(server,
    postgres, redis, token, tenant, env, manage)``; a test that stops a service must start it
    again."""
    media = tmp_path_factory.mktemp("media")
    env = server_env(
        database_url=throwaway_postgres.url(),
        redis_url=throwaway_redis.url,
        media=media,
        DJANGO_STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
    )
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")  # the admin's pages need the manifest
    output = manage(env, "create_tenant", "shop", "--name", "Shop", "--domain", "ecommerce")
    token = output.strip().splitlines()[-1].strip()
    server = LiveServer(env, log_path=tmp_path_factory.mktemp("web") / "web.log")
    try:
        stack = SimpleNamespace(
            server=server,
            postgres=throwaway_postgres,
            redis=throwaway_redis,
            token=token,
            tenant="shop",
            env=env,
            manage=lambda *args: manage(env, *args),
        )
        seed(stack)
        yield stack
    finally:
        server.stop()


def seed(stack) -> None:
    """Three items, two users, interactions: enough for every read endpoint to answer."""
    server, token = stack.server, stack.token
    items = [{"item_id": f"i{n}", "properties": {}, "categories": ["c"]} for n in range(3)]
    users = [{"user_id": f"u{n}", "properties": {}} for n in range(2)]
    interactions = [
        {"user_id": f"u{u}", "item_id": f"i{i}", "event_id": f"e{u}-{i}"}
        for u in range(2)
        for i in range(3)
        if (u + i) % 2 == 0
    ]
    for path, body in (
        ("/api/v1/items", {"items": items}),
        ("/api/v1/users", {"users": users}),
        ("/api/v1/interactions", {"interactions": interactions}),
    ):
        status, _, content = server.request("POST", path, body, token=token)
        assert status in (200, 201), (path, status, content[:500])
