"""Typed API errors: one class per status, each carrying the API's ``code``, ``message`` and
``details`` (``details.errors`` lists ``row``/``field``/``message`` for a rejected request)."""

from __future__ import annotations

import json

import httpx

from m6rec_client._generated.models.error_details import ErrorDetails
from m6rec_client._generated.models.field_error import FieldError


class ApiError(Exception):
    """The API answered an error: ``{"error": {"code", "message", "details"}}``.

    ``status``: the HTTP status; ``code``: machine-readable (``invalid``, ``not_found``, …);
    ``details``: the typed :class:`ErrorDetails` (unknown keys in
    ``details.additional_properties``); ``errors``: ``details.errors`` (may be empty);
    ``retry_after``: seconds from ``Retry-After``, when the API sent it.
    ``batch_offset``: for batched ingestion, the position of the failed batch's first row in
    the whole input (a row's position is ``batch_offset + error.row``); ``rows_written``: rows
    of earlier batches already stored.
    """

    status: int = 0

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: ErrorDetails,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after
        self.batch_offset: int | None = None
        self.rows_written: int | None = None

    @property
    def errors(self) -> list[FieldError]:
        errors = self.details.errors
        return [] if not isinstance(errors, list) else errors


class BadRequestError(ApiError):
    """400: the request (or one row of the batch) is invalid; nothing was written."""


class AuthenticationError(ApiError):
    """401: missing, invalid or revoked API key."""


class PermissionDeniedError(ApiError):
    """403: the API key lacks ``details.required_scope``."""


class NotFoundError(ApiError):
    """404: no such id for this tenant."""


class ConflictError(ApiError):
    """409: conflicts with the current state (a run already queued, nothing to roll back…)."""


class PayloadTooLargeError(ApiError):
    """413: the request body is too large (batches above 10,000 rows are split for you)."""


class UnsupportedMediaTypeError(ApiError):
    """415: the body was not JSON."""


class RateLimitError(ApiError):
    """429: the API key's rate limit; retried automatically up to ``max_retries`` times."""


class ServerError(ApiError):
    """5xx: the server failed; retried automatically up to ``max_retries`` times."""


class ServiceUnavailableError(ServerError):
    """503: a service the API needs (the database) is unavailable; retry later."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the API sends whole seconds), or ``None``."""
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> ApiError:
    """The typed error for an error response (any body: a proxy's HTML page too)."""
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    code, message, details = f"http_{status}", response.reason_phrase or "error", {}
    try:
        body = response.json()
        error = body["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        text = response.text[:200].strip()
        message = text or message
    return cls(
        status,
        code,
        message,
        ErrorDetails.from_dict(details if isinstance(details, dict) else {}),
        retry_after=retry_after_seconds(response),
    )
