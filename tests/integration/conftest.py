"""Integration fixtures: a REAL ``celery -A m6rec worker`` subprocess on a Redis broker,
working on pytest-django's PostgreSQL test database (tests use ``transactional_db`` so the
worker sees committed rows), plus MovieLens slices to ingest through the API.
"""

from __future__ import annotations

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
    db = os.environ.get("M6REC_IT_BROKER_DB", "13")
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def _switch_broker(app, url: str) -> None:
    """Point the in-process Celery app (the publisher) at ``url``, dropping pooled connections."""
    app.conf.broker_url = url
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker, redis_url, tmp_path_factory):
    """Start ``celery -A m6rec worker`` (2 processes) against the test database; yields a
    handle with ``media_root`` and ``log``. Stopped (SIGTERM, then SIGKILL) at module end."""
    from django.conf import settings

    from m6rec.celery import app

    media = tmp_path_factory.mktemp("media")
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    broker = _broker_url(redis_url)
    env = {
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
    }
    # purge leftovers of an earlier, interrupted session on this broker database
    import redis

    redis.Redis.from_url(broker).flushdb()
    name = f"it-{uuid.uuid4().hex[:8]}@%h"
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
        f"--hostname={name}",
    ]
    log = log_path.open("w")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + WORKER_READY_TIMEOUT
    while "ready." not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"celery worker did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.5)

    old = {
        "broker": app.conf.broker_url,
        "media": settings.MEDIA_ROOT,
    }
    _switch_broker(app, broker)
    settings.MEDIA_ROOT = str(media)

    class Handle:
        media_root = media
        process = proc

        @staticmethod
        def log() -> str:
            return log_path.read_text()

    try:
        yield Handle
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        _switch_broker(app, old["broker"])
        settings.MEDIA_ROOT = old["media"]


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
