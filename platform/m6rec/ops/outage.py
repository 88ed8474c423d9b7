"""Database outages answer 503 ``database_unavailable`` with ``Retry-After``, never 500.

Three layers, so that no path through Django turns a lost database into a 500:

* DRF views (the whole API): ``m6rec.common.errors.api_exception_handler`` maps the error,
  wherever in the view it was raised (authentication, throttling, the view, the serializer).
* Other views (admin, schema): :class:`DatabaseOutageMiddleware` (``process_exception``).
* Everything else, e.g. a middleware that queries the database (sessions): Django answers
  an exception raised in a middleware through ``handler500``, which is :func:`server_error`
  (``m6rec.urls``); it reads the exception being handled and answers 503 for an outage.

``/healthz`` and ``/metrics`` never touch the database; ``/readyz`` answers its own 503.
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from m6rec.common.errors import (
    database_unavailable_response,
    is_database_outage,
    json_error_response,
)


class DatabaseOutageMiddleware:
    """``process_exception`` for database errors: the JSON 503. List it after
    ``ApiJsonErrorsMiddleware`` (exception hooks run bottom-up), so it sees them first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if is_database_outage(exception):
            return database_unavailable_response()
        return None


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """``handler500``: 503 for a database outage; the API's JSON 500 under ``/api/``;
    Django's page elsewhere. Called while Django handles the exception (``sys.exc_info``)."""
    if is_database_outage(sys.exc_info()[1]):
        return database_unavailable_response()
    if request.path_info.startswith("/api/"):
        return json_error_response(500, "server_error", "Internal server error.")
    return defaults.server_error(request, *args, **kwargs)
