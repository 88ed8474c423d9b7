"""OpenAPI pieces shared by the apps: the bearer-key security scheme and the error body."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


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
