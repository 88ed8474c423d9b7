"""Structured logs: one JSON object per line with time, level, logger, message, request_id.

Used by the production ``LOGGING`` (``build_logging()``) and by deploy/gunicorn.conf.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from .request_id import get_request_id

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is kept.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
}


def record_request_id(record: logging.LogRecord) -> str | None:
    """The request id of a log record: its own, the current context's, else the one its request
    carries. ``django.request`` logs a response after RequestIdMiddleware has left (the context
    is reset), with ``extra={"request": request}``; gunicorn's access log passes the response's
    ``X-Request-ID`` among its atoms."""
    found = getattr(record, "request_id", None) or get_request_id()
    if found:
        return found
    request = getattr(record, "request", None)
    if request is not None:
        found = getattr(request, "request_id", None)
        if found:
            return str(found)
    if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
        try:
            found = record.args["{x-request-id}o"]
        except (KeyError, TypeError):
            found = None
        if found and found != "-":
            return str(found)
    return None


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (None outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = record_request_id(record)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": record_request_id(record),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def build_logging(
    level: str = "INFO", *, json_format: bool = True, access_log: bool = False
) -> dict:
    """A ``LOGGING`` dict: everything to stderr, JSON lines (or plain text) with request ids.

    gunicorn's access log stays off (level WARNING: gunicorn logs access lines at INFO) unless
    ``access_log`` (``GUNICORN_ACCESS_LOG=1``): this configuration is applied in every web
    worker after deploy/gunicorn.conf.py's and would otherwise turn it back on.
    """
    formatter = (
        {"()": "m6rec.ops.jsonlog.JsonFormatter"}
        if json_format
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "m6rec.ops.jsonlog.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers would print a second, plain copy of these.
            "django": {"handlers": ["console"], "level": level, "propagate": False},
            "celery": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {
                "handlers": ["console"],
                "level": level if access_log else "WARNING",
                "propagate": False,
            },
        },
    }
