"""JSON errors for everything under /api/, including Django-level 404s and 500s.

DRF's exception handler covers the views; this middleware covers what happens outside them
(no matching URL, an unexpected exception, a too-large body rejected by Django itself).
"""

from __future__ import annotations

import logging

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404

from m6rec.common.errors import json_error_response

logger = logging.getLogger("m6rec.api")

_STATUS_CODES = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "Forbidden."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "Request body is too large."),
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
