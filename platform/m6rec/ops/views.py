"""Probes and metrics. Plain Django views: no authentication, sessions or DRF machinery.

``HealthCheckMiddleware`` serves these paths before host validation and the HTTPS redirect
(kubelet and Prometheus call pods by IP over plain HTTP); the URL routes in ``urls.py`` serve
them too when the middleware is not installed.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import checks, metrics


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches neither the database nor Redis."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers a query and Redis a ping (503 otherwise)."""
    ready, results = checks.readiness()
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for scrapers on the private network.

    With ``M6REC_METRICS_TOKEN`` set, requires ``Authorization: Bearer <token>``. Without it,
    refuses requests that came through a proxy (``X-Forwarded-For`` present), so the public
    ingress never serves metrics while Prometheus scrapes pods directly.
    """
    token = settings.M6REC_METRICS_TOKEN or ""
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JsonResponse(
                {"error": {"code": "not_authenticated", "message": "metrics token required"}},
                status=401,
            )
    elif request.META.get("HTTP_X_FORWARDED_FOR"):
        return JsonResponse(
            {"error": {"code": "not_found", "message": "Not found."}},
            status=404,
        )
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
