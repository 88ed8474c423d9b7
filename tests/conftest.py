"""Shared test set-up: real PostgreSQL and Redis, or a clear skip (a failure under CI).

Set M6REC_REQUIRE_SERVICES=1 (``.ci/run`` does) to turn "service not reachable" skips into
failures, so CI can never pass by skipping.
"""

import os
import socket
from urllib.parse import urlsplit

import pytest

REQUIRE_SERVICES = os.environ.get("M6REC_REQUIRE_SERVICES") == "1"


def _reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def service_unavailable(what: str, address: str) -> None:
    """Skip the current test (or fail it under M6REC_REQUIRE_SERVICES=1)."""
    message = f"{what} is not reachable at {address}; start it or set the URL (see README)."
    if REQUIRE_SERVICES:
        pytest.fail(message + " M6REC_REQUIRE_SERVICES=1 forbids skipping.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Runs before pytest-django creates the test database: check PostgreSQL is there."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        service_unavailable("PostgreSQL", f"DATABASE_URL (got engine {db['ENGINE']})")
    host, port = db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
    if not _reachable(host, port):
        service_unavailable("PostgreSQL", f"{host}:{port}")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis URL the tests use; skips (fails under CI) when Redis is down."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parts = urlsplit(url)
    if not _reachable(parts.hostname or "127.0.0.1", parts.port or 6379):
        service_unavailable("Redis", url)
    return url


@pytest.fixture
def celery_eager():
    """Run Celery tasks in-process (unit tests of services; the integration tests start a
    real worker)."""
    from m6rec.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = old
