"""OpenAPI pieces shared by the apps: the bearer-key security scheme and the error body."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from m6rec.common.validation import ID_PATTERN, MAX_ID_LENGTH

ID_RULE = (
    f'1..{MAX_ID_LENGTH} printable characters, no "/", no leading or trailing whitespace '
    "(the rule ids in request bodies follow); an id that breaks it is a 400."
)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "m6rec.common.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A tenant API key: `Authorization: Bearer m6r_…`.",
        }


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(
        help_text='For 400: {"errors": [{"row", "field", "message"}]}; for 429: '
        '{"retry_after"}; for 403 missing scope: {"required_scope"}.'
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    text = {
        400: "Invalid request (details per row and field); nothing written.",
        401: "Missing, invalid or revoked API key.",
        403: "The API key lacks the scope.",
        404: "No such id for this tenant.",
        413: "Request body too large.",
        415: "Content-Type must be application/json.",
        429: "Rate limit of the API key exceeded.",
    }
    return {c: OpenApiResponse(ErrorSerializer, description=text.get(c, "")) for c in codes}


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


def path_id_param(name: str) -> OpenApiParameter:
    """A tenant id in the URL path, with the id rule the API enforces (``clean_path_id``)."""
    return OpenApiParameter(
        name,
        {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": ID_PATTERN},
        OpenApiParameter.PATH,
        description=f"The tenant's own id: {ID_RULE}",
    )
