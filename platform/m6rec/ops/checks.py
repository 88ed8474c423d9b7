"""Readiness checks: each returns a small JSON-able dict with ``ok`` and ``ms``."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connections

from .metrics import redis_for_metrics

# Where the serving app may expose its model cache state: the first module found that defines
# ``cache_state() -> dict``, or a ``model_cache`` object with ``stats() -> dict``, is reported
# under "model_cache" (informational). Absent: not reported.
MODEL_CACHE_PROVIDERS = (
    "m6rec.serving.loading",
    "m6rec.serving.cache",
    "m6rec.serving.services",
    "m6rec.serving",
)


def _timed(fn: Callable[[], dict | None]) -> dict:
    started = time.perf_counter()
    try:
        extra = fn() or {}
        result = {"ok": True, **extra}
    except Exception as exc:  # noqa: BLE001 - reported, never raised, from a probe
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    def query() -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return _timed(query)


def check_redis() -> dict:
    def ping() -> None:
        if not redis_for_metrics(settings.REDIS_URL).ping():
            raise ConnectionError("no PONG")

    return _timed(ping)


def model_cache_state() -> dict | None:
    """The serving cache's own report (informational: never fails readiness), or None."""
    for name in MODEL_CACHE_PROVIDERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        state = getattr(module, "cache_state", None)
        if not callable(state):
            state = getattr(getattr(module, "model_cache", None), "stats", None)
        if callable(state):
            return _timed(lambda state=state: {"state": state()})
    return None


def readiness() -> tuple[bool, dict]:
    checks = {"database": check_database(), "redis": check_redis()}
    ready = all(c["ok"] for c in checks.values())
    cache = model_cache_state()
    if cache is not None:
        checks["model_cache"] = cache
    return ready, checks
