"""OpenAPI pieces shared by the apps: tags, the bearer-key security scheme, the typed error body,
responses with descriptions, list pages and the common parameters.

Every operation carries one tag (its resource, one of
:data:`~m6rec.common.schema_tags.SCHEMA_TAGS`), a ``summary`` and a ``description``; every
response a description. Views state them in ``extend_schema``; the
schema class below falls back to a tag derived from the path (:func:`tag_for_path`) so an
operation is never filed under the URL prefix ``v1``.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from m6rec.common.schema_tags import SCHEMA_TAGS
from m6rec.common.validation import ID_PATTERN, MAX_ID_LENGTH, MAX_TIMESTAMP, MIN_TIMESTAMP

ID_RULE = (
    f'1..{MAX_ID_LENGTH} printable characters, no "/", no leading or trailing whitespace '
    "(the rule ids in request bodies follow); an id that breaks it is a 400."
)

# --------------------------------------------------------------------------- tags

TAG_NAMES = frozenset(t["name"] for t in SCHEMA_TAGS)

_RECOMMENDATION_LEAVES = {"recommendations", "similar", "popular", "batch-recommendations"}


def tag_for_path(path: str) -> str:
    """The resource tag of an API path: ``/api/v1/users/{user_id}/recommendations`` →
    ``recommendations``, ``/api/v1/models/runs/{run_id}`` → ``training``."""
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    if parts[:2] == ["api", "v1"]:
        parts = parts[2:]
    if not parts:
        return "api"
    if parts[-1] in _RECOMMENDATION_LEAVES or parts[0] in {"recommendations", "popular"}:
        return "recommendations"
    if parts[0] == "models":
        if len(parts) > 1 and parts[1] in {"train", "runs"}:
            return "training"
        if parts[-1] == "online-metrics":
            return "online"
        return "models"
    return parts[0]


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema class with one resource tag per operation by default."""

    def get_tags(self) -> list[str]:
        # ``extend_schema(tags=...)`` wins: its subclass answers before this method is reached.
        return [tag_for_path(self.path)]


# --------------------------------------------------------------------------- security


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "m6rec.common.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A tenant API key: `Authorization: Bearer m6r_…`.",
        }


# --------------------------------------------------------------------------- errors


class FieldErrorSerializer(serializers.Serializer):
    """One problem of a rejected request (400)."""

    row = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Index of the row in the submitted batch (0-based); null or absent for "
        "problems of the request as a whole.",
    )
    field = serializers.CharField(
        allow_null=True,
        help_text="The field, dotted for nested ones (`properties.year`, `limit`); null when "
        "the problem is the row or the body itself.",
    )
    message = serializers.CharField(help_text="What is wrong, in English.")


class ErrorDetailsSerializer(serializers.Serializer):
    """Machine-readable details; which keys appear depends on the status (see each key)."""

    errors = FieldErrorSerializer(
        many=True, required=False, help_text="400: every problem (at most 1,000)."
    )
    truncated = serializers.BooleanField(
        required=False, help_text="400: true when more than 1,000 problems were found."
    )
    error_count = serializers.IntegerField(
        required=False, help_text="400: the number of problems when `truncated`."
    )
    retry_after = serializers.IntegerField(
        required=False,
        help_text="429, 503: seconds to wait before retrying (also the `Retry-After` header).",
    )
    required_scope = serializers.CharField(
        required=False, help_text="403: the scope the API key lacks."
    )
    run_id = serializers.IntegerField(
        required=False, help_text="409 `training_in_progress`: the queued or running run."
    )
    job_id = serializers.IntegerField(
        required=False,
        help_text="409 `batch_in_progress`, `batch_not_finished`: the batch job.",
    )
    status = serializers.CharField(
        required=False,
        help_text="409 `training_in_progress`, `batch_in_progress`, `batch_not_finished`: "
        "that run's or job's status.",
    )


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: `invalid`, `not_authenticated`, `authentication_failed`, "
        "`permission_denied`, `not_found`, `conflict`, `nothing_to_roll_back`, "
        "`training_in_progress`, `batch_in_progress`, `batch_not_finished`, "
        "`request_too_large`, `unsupported_media_type`, `throttled`, `database_unavailable`, "
        "`server_error`."
    )
    message = serializers.CharField(help_text="Human-readable, names the first problem.")
    details = ErrorDetailsSerializer()


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


ERROR_TEXT = {
    400: "Invalid request: `details.errors` lists every problem by row and field; nothing "
    "was written.",
    401: "Missing, invalid or revoked API key.",
    403: "The API key lacks the scope named in `details.required_scope`.",
    404: "No such id for this tenant (another tenant's ids answer the same).",
    409: "Conflicts with the current state; nothing changed.",
    413: "Request body too large.",
    415: "Content-Type must be application/json.",
    429: "Rate limit of the API key exceeded: retry after `Retry-After` seconds.",
    503: "A service the request needs is unavailable: retry after `Retry-After` seconds.",
}

_EXAMPLES = {
    400: OpenApiExample(
        "Invalid batch",
        value={
            "error": {
                "code": "invalid",
                "message": "1 of 2 rows are invalid; the whole batch was rejected, nothing was "
                "written. First problem: row 1 field item_id: This field is required.",
                "details": {
                    "errors": [{"row": 1, "field": "item_id", "message": "This field is required."}]
                },
            }
        },
        status_codes=["400"],
        response_only=True,
    ),
    429: OpenApiExample(
        "Throttled",
        value={
            "error": {
                "code": "throttled",
                "message": "Request was throttled. Expected available in 3 seconds.",
                "details": {"retry_after": 3},
            }
        },
        status_codes=["429"],
        response_only=True,
    ),
}


def error_responses(*codes: int, **texts: str) -> dict[int, OpenApiResponse]:
    """Error responses with the shared descriptions; ``conflict="…"`` (or ``e409="…"``,
    ``e404="…"``) says what a 409/404 means for this operation."""
    custom = {409: texts.pop("conflict", None)}
    custom.update({int(k[1:]): v for k, v in texts.items() if k.startswith("e")})
    out = {}
    for c in codes:
        text = custom.get(c) or ERROR_TEXT.get(c, "Error.")
        examples = [_EXAMPLES[c]] if c in _EXAMPLES else None
        out[c] = OpenApiResponse(ErrorSerializer, description=text, examples=examples)
    return out


def ok(serializer=None, description: str = "OK.", examples=None) -> OpenApiResponse:
    """A success response with its description (``serializer=None`` for an empty body)."""
    return OpenApiResponse(serializer, description=description, examples=examples)


# --------------------------------------------------------------------------- fields


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "date-time"},
            {
                "type": "number",
                "minimum": MIN_TIMESTAMP,
                "maximum": MAX_TIMESTAMP,
                "exclusiveMaximum": True,
            },
        ],
        "example": "2024-05-01T12:30:00Z",
    }
)
class TimestampField(serializers.DateTimeField):
    """A time as ISO 8601 (naive = UTC) or seconds since the epoch, 1970..2100."""


# --------------------------------------------------------------------------- lists


def cursor_page(serializer_class, name: str, **extra_fields) -> serializers.Serializer:
    """The one list shape: ``{"next", "previous", "results", **extra}`` (cursor links)."""
    return inline_serializer(
        name=name,
        fields={
            "next": serializers.URLField(
                allow_null=True, help_text="The next page's URL; null on the last page."
            ),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page's URL; null on the first page."
            ),
            **extra_fields,
            "results": serializer_class(many=True),
        },
    )


CURSOR_PARAM = OpenApiParameter(
    "cursor",
    {"type": "string", "minLength": 1},
    description="Opaque cursor: send it exactly as the `next` or `previous` link carries it; "
    "omit it for the first page. Any other value (empty included) is a 400 on `cursor`.",
)


def limit_param(*, maximum: int, default: int, what: str = "Page size") -> OpenApiParameter:
    """``?limit=`` as :func:`m6rec.common.pagination.limit_from` enforces it."""
    return OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
        description=f"{what}, 1..{maximum} (default {default}); any other value is a 400 on "
        "`limit`.",
    )


def list_params(paginator_class) -> list[OpenApiParameter]:
    """``cursor`` and ``limit`` of a cursor-paginated list (other query parameters: 400)."""
    return [
        CURSOR_PARAM,
        limit_param(maximum=paginator_class.max_page_size, default=paginator_class.page_size),
    ]


def path_id_param(name: str) -> OpenApiParameter:
    """A tenant id in the URL path, with the id rule the API enforces (``clean_path_id``)."""
    return OpenApiParameter(
        name,
        {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": ID_PATTERN},
        OpenApiParameter.PATH,
        description=f"The tenant's own id: {ID_RULE}",
    )
