"""m6rec.common.postgresql: a connection in steady use skips Django's per-request health check,
one idle longer than M6REC_DB_HEALTH_CHECK_IDLE is checked (and replaced when dead)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def wrapper():
    """A second connection to the test database, persistent and health-checked as in
    production; request boundaries are simulated with ``close_if_unusable_or_obsolete``."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL backend")
    conn = connections.create_connection("default")
    conn.settings_dict = {**conn.settings_dict, "CONN_MAX_AGE": None, "CONN_HEALTH_CHECKS": True}
    assert conn.__class__.__module__ == "m6rec.common.postgresql.base"
    yield conn
    conn.close()


def backend_pid(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        assert cursor.fetchone()[0] is True


def next_request(conn) -> None:
    conn.close_if_unusable_or_obsolete()  # request_finished
    conn.close_if_unusable_or_obsolete()  # request_started


def test_a_connection_idle_longer_than_the_window_is_checked_and_replaced(wrapper, settings):
    settings.M6REC_DB_HEALTH_CHECK_IDLE = 0.0
    pid = backend_pid(wrapper)
    next_request(wrapper)
    terminate(pid)
    assert backend_pid(wrapper) != pid  # the check found it dead: a new session, no error


def test_a_connection_in_steady_use_is_not_checked(wrapper, settings):
    settings.M6REC_DB_HEALTH_CHECK_IDLE = 60.0
    pid = backend_pid(wrapper)
    next_request(wrapper)
    terminate(pid)
    # no SELECT 1 went first: the request's own query meets the dead session ...
    with pytest.raises(DatabaseError):
        backend_pid(wrapper)
    # ... and the request's end drops it, so the next request reconnects
    next_request(wrapper)
    assert wrapper.connection is None
    assert backend_pid(wrapper) != pid


def test_a_steady_connection_costs_one_round_trip_per_request(wrapper, settings):
    """What the window buys: without it, Django checks the connection before every request's
    first query."""
    settings.M6REC_DB_HEALTH_CHECK_IDLE = 60.0
    backend_pid(wrapper)
    for _ in range(3):
        next_request(wrapper)
        assert wrapper.health_check_done  # nothing to send before the query
    settings.M6REC_DB_HEALTH_CHECK_IDLE = 0.0
    next_request(wrapper)
    assert not wrapper.health_check_done  # Django's SELECT 1 runs before the next query
