"""deploy/run-local.sh: start → deploy/smoke.py (health, ingest, train, recommend) → stop.

Real processes (gunicorn, a Celery worker, beat) against the local PostgreSQL (a database of
its own, dropped afterwards) and Redis (database 13, so no other worker takes its tasks).
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "deploy" / "run-local.sh"
PROCESSES = ("web", "worker", "beat")
UNDER_CI = os.environ.get("M6REC_REQUIRE_SERVICES") == "1"

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reachable(host, port) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def launcher_env(tmp_path_factory):
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/m6rec")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    db, rd = urlsplit(database_url), urlsplit(redis_url)
    for what, host, port in (
        ("PostgreSQL", db.hostname or "127.0.0.1", db.port or 5432),
        ("Redis", rd.hostname or "127.0.0.1", rd.port or 6379),
    ):
        if not _reachable(host, port):
            message = f"{what} is not reachable at {host}:{port}"
            if UNDER_CI:
                pytest.fail(message + " (M6REC_REQUIRE_SERVICES=1)")
            pytest.skip(message)
    name = f"m6rec_launcher_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(db._replace(path=f"/{name}")),
        "REDIS_URL": urlunsplit(rd._replace(path="/13")),
        "M6REC_VAR_DIR": str(tmp_path_factory.mktemp("launcher-var")),
        "M6REC_PORT": str(_free_port()),
        "M6REC_STOP_TIMEOUT": "60",
        "WEB_CONCURRENCY": "2",
    }
    for key in ("DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(key, None)
    yield env
    subprocess.run(["bash", str(LAUNCHER), "stop"], env=env, timeout=180, check=False)
    import psycopg2

    conn = psycopg2.connect(
        host=db.hostname or "127.0.0.1",
        port=db.port or 5432,
        user=db.username or "postgres",
        password=db.password or "",
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # database 13 is this test's alone


def launcher(env, *args, timeout=300):
    return subprocess.run(
        ["bash", str(LAUNCHER), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def pids(env) -> dict[str, int]:
    run = Path(env["M6REC_VAR_DIR"]) / "run"
    files = {p: run / f"{p}.pid" for p in PROCESSES}
    return {p: int(f.read_text()) for p, f in files.items() if f.exists()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as stopped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_start_smoke_stop(launcher_env):
    env = launcher_env
    started = launcher(env, "start")
    assert started.returncode == 0, started.stderr
    running = pids(env)
    assert set(running) == set(PROCESSES) and all(alive(p) for p in running.values())
    assert launcher(env, "status").returncode == 0

    smoke = launcher(
        env,
        "smoke",
        "--require-training",
        "--require-recommendations",
        "--train-timeout",
        "420",
        timeout=600,
    )
    print(smoke.stdout)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    for step in ("healthz", "readyz", "create tenant", "ingest", "train", "recommend"):
        assert f"OK   {step}" in smoke.stdout
    assert "strategy=model" in smoke.stdout

    # Production-like: JSON log lines; web and worker samples summed on /metrics.
    log_dir = Path(env["M6REC_VAR_DIR"]) / "log"
    web_lines = [ln for ln in (log_dir / "web.log").read_text().splitlines() if ln.strip()]
    assert web_lines and all(json.loads(ln)["level"] for ln in web_lines)
    url = f"http://127.0.0.1:{env['M6REC_PORT']}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    assert 'm6rec_training_runs_total{outcome="succeeded",queue="small"} 1.0' in text
    assert 'strategy="model"' in text

    stopped = launcher(env, "stop", timeout=240)
    assert stopped.returncode == 0, stopped.stderr
    assert not any(alive(p) for p in running.values())
    assert pids(env) == {}
    assert launcher(env, "status").returncode == 3


def test_foreground_run_stops_cleanly_on_sigterm(launcher_env):
    env = launcher_env
    proc = subprocess.Popen(
        ["bash", str(LAUNCHER), "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{env['M6REC_PORT']}/readyz"
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if urllib.request.urlopen(url, timeout=2).status == 200 and len(pids(env)) == 3:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "launcher did not become ready"
            time.sleep(0.5)
        time.sleep(2)  # worker and beat up
        running = pids(env)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "signal: stopping" in output
    assert not any(alive(p) for p in running.values())
