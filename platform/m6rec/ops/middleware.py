"""Ops middleware. Order in ``MIDDLEWARE`` (first entries, before SecurityMiddleware)::

"m6rec.ops.middleware.RequestIdMiddleware",
"m6rec.ops.middleware.HealthCheckMiddleware",
"m6rec.ops.middleware.MetricsMiddleware",
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import metrics, views
from .request_id import (
    HEADER,
    META_KEY,
    clean_request_id,
    new_request_id,
    reset_request_id,
    set_request_id,
)

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Accepts a valid ``X-Request-ID`` (else generates one), exposes it through
    ``m6rec.ops.request_id.get_request_id()`` and ``request.request_id``, and returns it in the
    ``X-Request-ID`` response header."""

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.META.get(META_KEY)) or new_request_id()
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[HEADER] = request_id
        return response


class HealthCheckMiddleware:
    """Serves /healthz, /readyz and /metrics before host validation and the HTTPS redirect:
    kubelet, load balancers and Prometheus reach pods by IP over plain HTTP."""

    ROUTES = {"/healthz": views.healthz, "/readyz": views.readyz, "/metrics": views.metrics_view}

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.ROUTES.get(request.path_info.rstrip("/") or "/")
        if view is not None:
            return view(request)
        return self.get_response(request)


def endpoint_label(request: HttpRequest) -> str:
    """The route's name (or its pattern), never the raw path: no tenant or user ids."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class MetricsMiddleware:
    """Observes ``m6rec_http_request_duration_seconds`` for every request it sees."""

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.observe_request(
            endpoint=endpoint_label(request),
            method=request.method or "GET",
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response
