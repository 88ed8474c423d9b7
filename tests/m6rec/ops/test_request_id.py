"""Request ids: accepted when valid, generated otherwise, visible through the contextvar."""

import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from m6rec.ops.middleware import RequestIdMiddleware
from m6rec.ops.request_id import clean_request_id, get_request_id


@pytest.mark.parametrize(
    "value",
    ["abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "Root=1-67891233:abcdef", "a.b_c-d"],
)
def test_valid_ids_are_kept(value):
    assert clean_request_id(value) == value


@pytest.mark.parametrize(
    "value", [None, "", "x" * 129, "has space", "line\nbreak", "<script>", "-leading", "é"]
)
def test_unsafe_ids_are_rejected(value):
    assert clean_request_id(value) is None


def _run(meta=None):
    seen = {}

    def view(request):
        seen["contextvar"] = get_request_id()
        seen["attribute"] = request.request_id
        return HttpResponse("ok")

    request = RequestFactory().get("/anything", **(meta or {}))
    response = RequestIdMiddleware(view)(request)
    return response, seen


def test_incoming_id_is_propagated_to_view_and_response():
    response, seen = _run({"HTTP_X_REQUEST_ID": "req-123"})
    assert seen == {"contextvar": "req-123", "attribute": "req-123"}
    assert response["X-Request-ID"] == "req-123"
    assert get_request_id() is None  # reset after the request


def test_missing_id_is_generated():
    response, seen = _run()
    assert len(seen["contextvar"]) == 32 and seen["contextvar"] == response["X-Request-ID"]


def test_invalid_id_is_replaced_not_echoed():
    response, seen = _run({"HTTP_X_REQUEST_ID": "evil id\r\nSet-Cookie: x"})
    assert response["X-Request-ID"] == seen["contextvar"]
    assert "evil" not in response["X-Request-ID"]


def test_ids_differ_between_requests():
    assert _run()[0]["X-Request-ID"] != _run()[0]["X-Request-ID"]


def test_full_stack_returns_header(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="through-the-stack")
    assert response["X-Request-ID"] == "through-the-stack"


def test_logs_inside_a_request_carry_the_id():
    from m6rec.ops.jsonlog import RequestIdFilter

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("m6rec.tests.request_id")
    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    try:

        def view(request):
            logger.warning("inside")
            return HttpResponse("ok")

        RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="log-me"))
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    assert [r.request_id for r in records] == ["log-me", None]
