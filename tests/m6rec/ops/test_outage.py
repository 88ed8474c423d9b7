"""Database errors become a JSON 503 ``database_unavailable`` with ``Retry-After`` in each of
the three layers (issue 14, item 2): DRF's exception handler, the ops middleware's
``process_exception`` and ``handler500`` (an error raised in a middleware). The end-to-end test
against a stopped PostgreSQL is tests/reliability/test_database_outage.py."""

from __future__ import annotations

import json
from unittest import mock

import psycopg2
import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.test.client import RequestFactory

from m6rec.common.errors import api_exception_handler, is_database_outage
from m6rec.ops import outage

REFUSED = 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'


def assert_503(response, retry_after: int = 5) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(retry_after)
    body = json.loads(response.content) if hasattr(response, "content") else response.data
    assert body["error"]["code"] == "database_unavailable"
    assert body["error"]["details"] == {"retry_after": retry_after}


def test_which_errors_are_outages():
    assert is_database_outage(OperationalError(REFUSED))
    assert is_database_outage(InterfaceError("connection already closed"))
    assert is_database_outage(psycopg2.OperationalError("server closed the connection"))
    try:
        try:
            raise OperationalError(REFUSED)
        except OperationalError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_database_outage(wrapped)
    assert not is_database_outage(ValueError("x"))
    assert not is_database_outage(None)


def test_drf_handler_answers_503(settings):
    settings.M6REC_DB_RETRY_AFTER = 7
    response = api_exception_handler(OperationalError(REFUSED), {})
    response.render = lambda: None
    assert response.status_code == 503 and response["Retry-After"] == "7"
    assert response.data["error"]["code"] == "database_unavailable"
    assert response.data["error"]["details"] == {"retry_after": 7}
    assert api_exception_handler(ValueError("bug"), {}) is None  # still a 500


def test_api_request_whose_authentication_hits_a_dead_database_is_503():
    """Authentication runs inside the DRF view: the handler answers."""
    client = Client(raise_request_exception=False)
    with mock.patch(
        "m6rec.common.auth.ApiKeyAuthentication.authenticate",
        side_effect=OperationalError(REFUSED),
    ):
        response = client.get("/api/v1/popular", HTTP_AUTHORIZATION="Bearer m6r_" + "a" * 40)
    assert_503(response)


def test_process_exception_answers_503_and_leaves_other_errors():
    middleware = outage.DatabaseOutageMiddleware(lambda request: None)
    request = RequestFactory().get("/admin/")
    assert_503(middleware.process_exception(request, InterfaceError("connection already closed")))
    assert middleware.process_exception(request, KeyError("x")) is None


class _DatabaseDownMiddleware:
    """Raises like SessionMiddleware saving a session while PostgreSQL is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise OperationalError(REFUSED)


class _BugMiddleware(_DatabaseDownMiddleware):
    def __call__(self, request):
        raise ZeroDivisionError


@pytest.mark.parametrize("path", ["/api/v1/popular", "/admin/login/"])
def test_error_raised_in_a_middleware_is_503_through_handler500(settings, path):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}._DatabaseDownMiddleware"]
    response = Client(raise_request_exception=False).get(path)
    assert_503(response)


def test_other_errors_raised_in_a_middleware_stay_500(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}._BugMiddleware"]
    client = Client(raise_request_exception=False)
    api = client.get("/api/v1/popular")
    assert api.status_code == 500 and api.json()["error"]["code"] == "server_error"
    assert client.get("/admin/login/").status_code == 500
