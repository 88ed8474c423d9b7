"""Registry API v1 (scope ``admin``): list versions, promote, pin, roll back (all audited)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from m6rec.common.auth import HasAdminScope, request_tenant
from m6rec.common.errors import Conflict, shorten
from m6rec.common.pagination import limit_from
from m6rec.common.schema import error_responses, limit_param
from m6rec.registry import selectors, services
from m6rec.registry.errors import RegistryError
from m6rec.registry.models import ModelVersion

NUMBER_PARAM = OpenApiParameter("number", int, OpenApiParameter.PATH, description="Version.")
CHANGE_ERRORS = error_responses(400, 401, 403, 404, 409, 429)


class VersionOutputSerializer(serializers.ModelSerializer):
    gate_metric = serializers.FloatField(
        allow_null=True, help_text="Validation nDCG@10 (the quality-gate metric)."
    )
    run = serializers.IntegerField(source="run_id", allow_null=True)

    class Meta:
        model = ModelVersion
        fields = [
            "number",
            "status",
            "pinned",
            "gate_metric",
            "metrics",
            "hyperparameters",
            "data_counts",
            "bundle_sha256",
            "run",
            "created_at",
            "activated_at",
            "notes",
        ]
        read_only_fields = fields


class VersionListOutputSerializer(serializers.Serializer):
    active = serializers.IntegerField(allow_null=True, help_text="The active version's number.")
    versions = VersionOutputSerializer(many=True)


class ChangeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AdminApi(APIView):
    permission_classes = [HasAdminScope]


def _reason(request) -> str:
    serializer = ChangeInputSerializer(data=request.data or {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["reason"]


def _version_or_404(tenant, number: int) -> ModelVersion:
    version = selectors.version_get(tenant=tenant, number=number)
    if version is None:  # also another tenant's number: indistinguishable
        raise NotFound(f"Model version {shorten(number)} not found.")
    return version


def _conflict(exc: RegistryError) -> Conflict:
    error = Conflict(exc.message, code=exc.code)
    error.extra_details = exc.details
    return error


def _list_response(tenant, limit: int) -> Response:
    versions = list(selectors.version_list(tenant=tenant)[:limit])
    active = selectors.version_get_active(tenant=tenant)
    return Response(
        VersionListOutputSerializer(
            {"active": active.number if active else None, "versions": versions}
        ).data
    )


class VersionListApi(AdminApi):
    @extend_schema(
        operation_id="models_versions_list",
        parameters=[limit_param(maximum=500, default=100, what="How many of the newest versions")],
        responses={200: VersionListOutputSerializer, **error_responses(400, 401, 403, 429)},
        description="The tenant's model versions, newest first, and the active version.",
    )
    def get(self, request):
        tenant = request_tenant(request)
        limit = limit_from(request, default=100, maximum=500)
        return _list_response(tenant, limit)


class VersionDetailApi(AdminApi):
    @extend_schema(
        operation_id="models_versions_retrieve",
        parameters=[NUMBER_PARAM],
        responses={200: VersionOutputSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, number: int):
        version = _version_or_404(request_tenant(request), number)
        return Response(VersionOutputSerializer(version).data)


class VersionPromoteApi(AdminApi):
    @extend_schema(
        operation_id="models_versions_promote",
        parameters=[NUMBER_PARAM],
        request=ChangeInputSerializer,
        responses={200: VersionOutputSerializer, **CHANGE_ERRORS},
        description="Make this version active (audited). 409 for a failed version.",
    )
    def post(self, request, number: int):
        version = _version_or_404(request_tenant(request), number)
        reason = _reason(request)
        try:
            version = services.version_promote(version=version, actor=request.auth, reason=reason)
        except RegistryError as exc:
            raise _conflict(exc) from exc
        return Response(VersionOutputSerializer(version).data)


class VersionPinApi(AdminApi):
    @extend_schema(
        operation_id="models_versions_pin",
        parameters=[NUMBER_PARAM],
        request=ChangeInputSerializer,
        responses={200: VersionOutputSerializer, **CHANGE_ERRORS},
        description="Make this version active and pin it: automatic promotion stops.",
    )
    def post(self, request, number: int):
        version = _version_or_404(request_tenant(request), number)
        reason = _reason(request)
        try:
            version = services.version_pin(version=version, actor=request.auth, reason=reason)
        except RegistryError as exc:
            raise _conflict(exc) from exc
        return Response(VersionOutputSerializer(version).data)


class UnpinApi(AdminApi):
    @extend_schema(
        operation_id="models_unpin",
        request=ChangeInputSerializer,
        responses={200: VersionListOutputSerializer, **CHANGE_ERRORS},
        description="Allow automatic promotion again.",
    )
    def post(self, request):
        tenant = request_tenant(request)
        services.version_unpin(tenant=tenant, actor=request.auth, reason=_reason(request))
        return _list_response(tenant, 100)


class RollbackApi(AdminApi):
    @extend_schema(
        operation_id="models_rollback",
        request=ChangeInputSerializer,
        responses={200: VersionOutputSerializer, **CHANGE_ERRORS},
        description="Re-activate the previously active version (audited). 409 when there is none.",
    )
    def post(self, request):
        tenant = request_tenant(request)
        reason = _reason(request)
        try:
            version = services.version_rollback(tenant=tenant, actor=request.auth, reason=reason)
        except RegistryError as exc:
            raise _conflict(exc) from exc
        return Response(VersionOutputSerializer(version).data)
