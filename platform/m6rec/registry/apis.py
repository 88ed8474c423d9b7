"""Registry API v1 (scope ``admin``): list versions, promote, pin, roll back (all audited)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from m6rec.common.auth import request_tenant
from m6rec.common.errors import Conflict, shorten
from m6rec.common.pagination import VersionPagination
from m6rec.common.schema import cursor_page, error_responses, list_params, ok
from m6rec.common.views import AdminApi
from m6rec.registry import selectors, services
from m6rec.registry.errors import RegistryError
from m6rec.registry.models import ModelVersion

NUMBER_PARAM = OpenApiParameter(
    "number", int, OpenApiParameter.PATH, description="The version's number (1, 2, … per tenant)."
)
TAG = ["models"]


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


VersionPageSerializer = cursor_page(
    VersionOutputSerializer,
    "PaginatedVersions",
    active=serializers.IntegerField(
        allow_null=True,
        help_text="The active version's number (null: none, popularity is served); the same on "
        "every page. The active version also has `status` `active` in `results`.",
    ),
)


class ChangeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why (stored in the audit log).",
    )


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


def _versions_page(request, tenant) -> Response:
    paginator = VersionPagination()
    page = paginator.paginate_queryset(selectors.version_list(tenant=tenant), request)
    active = selectors.version_get_active(tenant=tenant)
    return Response(
        {
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "active": active.number if active else None,
            "results": VersionOutputSerializer(page, many=True).data,
        }
    )


class VersionListApi(AdminApi):
    @extend_schema(
        operation_id="models_versions_list",
        tags=TAG,
        summary="List model versions",
        description="The tenant's model versions, highest number first, as cursor pages; "
        "`active` names the active version. Query parameters other than `cursor` and `limit` "
        "are a 400.",
        parameters=list_params(VersionPagination),
        responses={
            200: ok(VersionPageSerializer, "A page of versions."),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request):
        return _versions_page(request, request_tenant(request))


class VersionDetailApi(AdminApi):
    @extend_schema(
        operation_id="models_versions_retrieve",
        tags=TAG,
        summary="Get a model version",
        description="One version with its metrics, hyperparameters and data counts.",
        parameters=[NUMBER_PARAM],
        responses={
            200: ok(VersionOutputSerializer, "The version."),
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request, number: int):
        version = _version_or_404(request_tenant(request), number)
        return Response(VersionOutputSerializer(version).data)


class VersionPromoteApi(AdminApi):
    @extend_schema(
        operation_id="models_versions_promote",
        tags=TAG,
        summary="Promote a version",
        description="Make this version active (audited); the previously active one is retired "
        "and becomes the rollback target.",
        parameters=[NUMBER_PARAM],
        request=ChangeInputSerializer,
        responses={
            200: ok(VersionOutputSerializer, "The version, now active."),
            **error_responses(
                400, 401, 403, 404, 409, 429, conflict="The version failed and cannot be served."
            ),
        },
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
        tags=TAG,
        summary="Pin a version",
        description="Make this version active and pin it (audited): automatic promotion after "
        "training stops until `models/unpin`.",
        parameters=[NUMBER_PARAM],
        request=ChangeInputSerializer,
        responses={
            200: ok(VersionOutputSerializer, "The version, now active and pinned."),
            **error_responses(
                400, 401, 403, 404, 409, 429, conflict="The version failed and cannot be served."
            ),
        },
    )
    def post(self, request, number: int):
        version = _version_or_404(request_tenant(request), number)
        reason = _reason(request)
        try:
            version = services.version_pin(version=version, actor=request.auth, reason=reason)
        except RegistryError as exc:
            raise _conflict(exc) from exc
        return Response(VersionOutputSerializer(version).data)


class UnpinOutputSerializer(serializers.Serializer):
    active = VersionOutputSerializer(
        allow_null=True, help_text="The active version, now unpinned; null when none is active."
    )


class UnpinApi(AdminApi):
    @extend_schema(
        operation_id="models_unpin",
        tags=TAG,
        summary="Unpin",
        description="Allow automatic promotion after training again (audited).",
        request=ChangeInputSerializer,
        responses={
            200: ok(UnpinOutputSerializer, "The active version, no longer pinned."),
            **error_responses(400, 401, 403, 429),
        },
    )
    def post(self, request):
        tenant = request_tenant(request)
        services.version_unpin(tenant=tenant, actor=request.auth, reason=_reason(request))
        active = selectors.version_get_active(tenant=tenant)
        return Response(UnpinOutputSerializer({"active": active}).data)


class RollbackApi(AdminApi):
    @extend_schema(
        operation_id="models_rollback",
        tags=TAG,
        summary="Roll back",
        description="Re-activate the previously active version (audited).",
        request=ChangeInputSerializer,
        responses={
            200: ok(VersionOutputSerializer, "The version now active again."),
            **error_responses(
                400,
                401,
                403,
                409,
                429,
                conflict="`nothing_to_roll_back`: there is no previously active version.",
            ),
        },
    )
    def post(self, request):
        tenant = request_tenant(request)
        reason = _reason(request)
        try:
            version = services.version_rollback(tenant=tenant, actor=request.auth, reason=reason)
        except RegistryError as exc:
            raise _conflict(exc) from exc
        return Response(VersionOutputSerializer(version).data)
