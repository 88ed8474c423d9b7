"""JSON errors for everything under /api/, including Django-level 404s and 500s.

DRF's exception handler covers the views; this middleware covers what happens outside them
(no matching URL, an unexpected exception, a too-large body rejected by Django itself).
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.handlers.wsgi import LimitedStream
from django.http import Http404

from m6rec.common.errors import json_error_response
from m6rec.common.parsers import max_body_bytes

logger = logging.getLogger("m6rec.api")

_STATUS_CODES = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "Forbidden."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "Request body is too large."),
    414: ("uri_too_long", "Request URI is too long."),
    500: ("server_error", "Internal server error."),
}


class ApiJsonErrorsMiddleware:
    prefix = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def _is_api(self, request) -> bool:
        return request.path_info.startswith(self.prefix)

    def __call__(self, request):
        response = self.get_response(request)
        if not self._is_api(request) or response.status_code < 400:
            return response
        content_type = response.get("Content-Type", "")
        if "json" in content_type or response.status_code not in _STATUS_CODES:
            return response
        code, message = _STATUS_CODES[response.status_code]
        return json_error_response(response.status_code, code, message)

    def process_exception(self, request, exception):
        if not self._is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return json_error_response(413, *_STATUS_CODES[413])
        if isinstance(exception, Http404 | PermissionDenied | BadRequest | SuspiciousOperation):
            return None  # Django answers 4xx; __call__ turns the page into JSON
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return json_error_response(500, *_STATUS_CODES[500])


def max_url_bytes() -> int:
    return int(settings.M6REC_MAX_URL_BYTES)


class RequestLimitsMiddleware:
    """The URL and body limits, answered in the API's JSON error shape.

    * A URL (path and query string) longer than ``M6REC_MAX_URL_BYTES`` (8190, gunicorn's former
      request-line limit) is a 414 ``uri_too_long``. gunicorn's own limit is lifted
      (``limit_request_line = 0`` in deploy/gunicorn.conf.py; its parser still stops at 1 MiB)
      so that this answer, not gunicorn's text/html page, reaches the client.
    * A chunked body (``Transfer-Encoding: chunked``, no ``Content-Length``) is read here, up to
      ``M6REC_MAX_BODY_BYTES``: within the limit the view sees it like any other body (Django
      alone would read it as empty); one byte more is a 413 ``request_too_large``. Django's
      ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only checks a declared ``Content-Length``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        url_bytes = len(request.META.get("RAW_URI") or request.get_full_path())
        limit = max_url_bytes()
        if url_bytes > limit:
            return json_error_response(
                414,
                *_STATUS_CODES[414],
                {"max_bytes": limit, "received_bytes": url_bytes},
            )
        if _is_chunked(request.META):
            refused = self._read_chunked_body(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def _read_chunked_body(request):
        """Buffer the body (at most the limit + 1 byte read) and hand it on with its length."""
        limit = max_body_bytes()
        stream = request.environ.get("wsgi.input")
        if stream is None:
            return None
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = stream.read(min(64 * 1024, limit + 1 - size))
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        if size > limit:
            response = json_error_response(
                413, *_STATUS_CODES[413], {"max_bytes": limit, "transfer_encoding": "chunked"}
            )
            response["Connection"] = "close"  # the rest of the body is never read
            return response
        data = b"".join(parts)
        request.META["CONTENT_LENGTH"] = str(len(data))
        request._stream = LimitedStream(io.BytesIO(data), len(data))
        return None


def _is_chunked(meta) -> bool:
    encoding = meta.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in encoding.lower() and not meta.get("CONTENT_LENGTH")
