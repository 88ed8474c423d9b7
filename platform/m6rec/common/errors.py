"""The one error format of the API: ``{"error": {"code", "message", "details"}}``.

``details`` is always an object: for validation errors ``{"errors": [{"row"?, "field",
"message"}]}`` (``row`` is the index in the submitted batch), for throttling (429) and database
outages (503 ``database_unavailable``) ``{"retry_after"}`` (also the ``Retry-After`` header),
for missing scopes ``{"required_scope"}``, otherwise ``{}`` or endpoint-specific keys.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

MAX_LISTED_ERRORS = 1000
# Client-supplied ids (up to 255 characters; a path or an unvalidated value may be far longer)
# are echoed in messages cut to this many characters plus "…".
MAX_ECHOED_CHARS = 64


def shorten(value: object, *, limit: int = MAX_ECHOED_CHARS) -> str:
    """``str(value)``, cut to ``limit`` characters plus "…" when longer (for echoing)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def quoted(value: object, *, limit: int = MAX_ECHOED_CHARS) -> str:
    """``repr`` of a client-supplied string for an error message, cut by :func:`shorten`."""
    return repr(shorten(value, limit=limit))


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


class BatchValidationError(exceptions.ValidationError):
    """A batch rejected whole: ``errors`` lists ``{"row", "field", "message"}`` entries."""

    def __init__(self, errors: list[dict[str, Any]], *, total_rows: int | None = None) -> None:
        self.errors = errors
        self.total_rows = total_rows
        super().__init__(detail="invalid", code="invalid")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


class DatabaseUnavailable(exceptions.APIException):
    """The database could not be reached or dropped the connection: a 503 with ``Retry-After``
    (the client may retry; nothing was written unless the request's transaction committed)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; retry shortly."
    default_code = "database_unavailable"


def _database_error_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [DjangoOperationalError, DjangoInterfaceError]
    try:  # raw driver errors, from code that talks to the connection directly
        import psycopg2

        types += [psycopg2.OperationalError, psycopg2.InterfaceError]
    except ImportError:  # pragma: no cover - the PostgreSQL driver is a base dependency
        pass
    return tuple(types)


# A lost or refused connection, a server shutting down, a cancelled or deadlocked statement:
# transient conditions of the database, never a bug of the request.
DATABASE_ERRORS = _database_error_types()


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is a database outage."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DATABASE_ERRORS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def database_retry_after() -> int:
    """Seconds a client is told to wait after a 503 ``database_unavailable``."""
    return max(1, int(settings.M6REC_DB_RETRY_AFTER))


def database_unavailable_body() -> dict:
    return error_body(
        DatabaseUnavailable.default_code,
        str(DatabaseUnavailable.default_detail),
        {"retry_after": database_retry_after()},
    )


def database_unavailable_response() -> JsonResponse:
    """The JSON 503 for a database outage, outside DRF (middleware, ``handler500``)."""
    response = JsonResponse(database_unavailable_body(), status=503)
    response["Retry-After"] = str(database_retry_after())
    return response


def flatten_drf_errors(detail: Any, *, prefix: str = "") -> list[dict[str, Any]]:
    """DRF's nested ``ValidationError.detail`` as a flat list of ``{"field", "message"}``."""
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else key)
            out += flatten_drf_errors(value, prefix=name)
    elif isinstance(detail, list):
        if all(not isinstance(d, dict | list) for d in detail):
            out += [{"field": prefix or None, "message": str(d)} for d in detail]
        else:
            for i, value in enumerate(detail):
                if value:
                    out += flatten_drf_errors(value, prefix=f"{prefix}[{i}]")
    else:
        out.append({"field": prefix or None, "message": str(detail)})
    return out


def _validation_response(exc: exceptions.ValidationError) -> tuple[str, dict[str, Any]]:
    if isinstance(exc, BatchValidationError):
        errors = exc.errors
        rows = len({e.get("row") for e in errors if e.get("row") is not None})
        if rows:
            of = f" of {exc.total_rows}" if exc.total_rows is not None else ""
            message = (
                f"{rows}{of} rows are invalid; the whole batch was rejected, nothing was written."
            )
        else:
            message = "The request is invalid; nothing was written."
    else:
        errors = flatten_drf_errors(exc.detail)
        message = "The request is invalid."
    if errors:
        first = errors[0]
        where = ""
        if first.get("row") is not None:
            where = f"row {first['row']}"
        if first.get("field"):
            where = f"{where} field {first['field']}".strip()
        message += f" First problem: {where + ': ' if where else ''}{first['message']}"
    details: dict[str, Any] = {"errors": errors[:MAX_LISTED_ERRORS]}
    if len(errors) > MAX_LISTED_ERRORS:
        details["truncated"] = True
        details["error_count"] = len(errors)
    return message, details


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every API error in the one JSON shape."""
    from rest_framework.views import set_rollback  # not at import: views imports the parsers

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif is_database_outage(exc):
        logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        exc = DatabaseUnavailable()
    if not isinstance(exc, exceptions.APIException):
        return None  # unexpected: the middleware answers a JSON 500 and logs it

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    details: dict[str, Any] = dict(getattr(exc, "extra_details", None) or {})
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        message, validation_details = _validation_response(exc)
        details.update(validation_details)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        message = str(exc.detail) if not isinstance(exc.detail, list | dict) else str(exc)
        if isinstance(exc, exceptions.Throttled):
            code = "throttled"
            if exc.wait is not None:
                wait = max(1, math.ceil(exc.wait))
                headers["Retry-After"] = str(wait)
                details["retry_after"] = wait
        elif isinstance(exc, DatabaseUnavailable):
            headers["Retry-After"] = str(database_retry_after())
            details["retry_after"] = database_retry_after()
    set_rollback()
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


def json_error_response(
    status_code: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status_code)
