"""Integration fixtures: a REAL ``celery -A m6rec worker`` subprocess on a Redis broker,
working on pytest-django's PostgreSQL test database (tests use ``transactional_db`` so the
worker sees committed rows), plus MovieLens slices to ingest through the API.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
import pytest

from m6rec.common.testing import *  # noqa: F403 - shared fixtures and helpers

REPO = Path(__file__).resolve().parents[2]
# Small engine settings: the integration tests check the loop, not model quality.
TRAIN_CONFIG = {
    "time_budget_s": 15,
    "use_fusion": False,
    "mf_factors": [16],
    "mf_iterations": 4,
    "mf_max_trials": 2,
    "ease_lambdas": [200.0, 500.0],
}
WORKER_READY_TIMEOUT = 90


def _database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def _broker_url(redis_url: str) -> str:
    """The tests' own Redis database for the broker, so no other worker steals the tasks."""
    parts = urlsplit(redis_url)
    db = os.environ.get("M6REC_IT_BROKER_DB", "14")
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def _switch_broker(app, url: str) -> None:
    """Point the in-process Celery app (the publisher) at ``url``, dropping pooled connections
    (celery keeps them in kombu's global pool registries, keyed by URL)."""
    from kombu import pools

    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


class Worker:
    """A ``celery -A m6rec worker`` subprocess (its own process group) and its log."""

    def __init__(self, *, broker: str, redis_url: str, media: Path, log_path: Path, env=None):
        self.media_root = media
        self.log_path = log_path
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "m6rec.settings.test",
            "PYTHONPATH": os.pathsep.join([str(REPO / "platform"), str(REPO)]),
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": broker,
            "M6REC_MEDIA_ROOT": str(media),
            "M6REC_TRAIN_CONFIG": json.dumps(TRAIN_CONFIG),
            "M6REC_TRAINING_LOCK_TIMEOUT": "60",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "m6rec",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--queues=small,large",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=it-{uuid.uuid4().hex[:8]}@%h",
        ]
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the pool too
        )
        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while "ready." not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"celery worker did not start:\n{self.log()[-4000:]}")
            time.sleep(0.5)

    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), like an OOM kill."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def start_worker(django_db_setup, redis_url, tmp_path_factory):
    """Factory: ``start_worker(env={...})`` starts a worker on the test database and the tests'
    broker; the in-process publisher and MEDIA_ROOT follow it. All stopped at module end."""
    import redis
    from django.test.utils import override_settings

    from m6rec.celery import app

    broker = _broker_url(redis_url)
    redis.Redis.from_url(broker).flushdb()  # leftovers of an interrupted session
    media = tmp_path_factory.mktemp("media")
    old_broker = app.conf.broker_url
    _switch_broker(app, broker)
    # override_settings sends setting_changed: the cached default storage forgets the previous
    # module's MEDIA_ROOT (a plain assignment left bundles published under the old one)
    media_override = override_settings(MEDIA_ROOT=str(media))
    media_override.enable()
    workers: list[Worker] = []

    def start(env: dict | None = None) -> Worker:
        log_path = tmp_path_factory.mktemp("worker") / "worker.log"
        worker = Worker(broker=broker, redis_url=redis_url, media=media, log_path=log_path, env=env)
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.stop()
        _switch_broker(app, old_broker)
        media_override.disable()


@pytest.fixture(scope="module")
def celery_worker(start_worker):
    """One shared worker (2 processes) for a test module."""
    return start_worker()


@pytest.fixture(scope="session")
def loop():
    """Helpers for the loop tests (importlib mode: tests cannot import conftest modules)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        ratings=movielens_ratings,
        rows=interaction_rows,
        ingest=ingest,
        wait_for_run=wait_for_run,
    )


def movielens_ratings() -> np.ndarray:
    """(user, item, rating, timestamp) int64 rows of ml-100k, else the bundled
    ml-latest-small (the repository's copy) when the shared datasets are absent."""
    from engine.data import default_datasets_dir

    u_data = default_datasets_dir() / "ml-100k" / "u.data"
    if u_data.is_file():
        return np.loadtxt(u_data, dtype=np.int64)
    small = REPO / "platform/m6rec/catalog/sample_data/ml-latest-small/ratings.csv"
    rows = np.genfromtxt(small, delimiter=",", skip_header=1)
    rows[:, 2] = np.ceil(rows[:, 2])
    return rows.astype(np.int64)


def interaction_rows(ratings: np.ndarray, users: range) -> list[dict]:
    mask = np.isin(ratings[:, 0], np.asarray(list(users)))
    return [
        {
            "user_id": str(u),
            "item_id": str(i),
            "type": "like",
            "value": float(r),
            "timestamp": int(t),
            "event_id": f"ml-{u}-{i}",
        }
        for u, i, r, t in ratings[mask].tolist()
    ]


def ingest(client, rows: list[dict], batch: int = 5000) -> None:
    for start in range(0, len(rows), batch):
        response = client.post(
            "/api/v1/interactions", {"interactions": rows[start : start + batch]}, format="json"
        )
        assert response.status_code in (200, 201), response.content[:500]


def wait_for_run(client, run_id: int, *, timeout: float = 150.0, worker=None) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/models/runs/{run_id}").json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.5)
    log = worker.log()[-4000:] if worker else ""
    pytest.fail(f"run {run_id} did not finish in {timeout}s: {body}\nworker log:\n{log}")
