"""The request id of the current request (or Celery task), held in a contextvar.

``RequestIdMiddleware`` sets it from a valid incoming ``X-Request-ID`` header or generates one;
``get_request_id()`` reads it anywhere (API responses include it, JSON logs carry it, Celery
tasks published during the request inherit it through a message header).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
# Accept what common proxies and clients generate (uuids, hex, base64url, dotted/colon ids);
# anything else (too long, spaces, control characters) is replaced, never echoed or logged.
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:=\-]{0,127}$")

_request_id: ContextVar[str | None] = ContextVar("m6rec_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str | None:
    """The incoming id when it is safe to propagate, else None."""
    if value and _VALID.match(value):
        return value
    return None


def get_request_id() -> str | None:
    """The id of the request or task being handled in this context (None outside one)."""
    return _request_id.get()


def set_request_id(value: str | None) -> Token:
    return _request_id.set(value)


def reset_request_id(token: Token) -> None:
    _request_id.reset(token)
