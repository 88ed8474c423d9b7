"""Training API v1 (scope ``admin``): queue a run, read a run's progress."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from m6rec.common.auth import HasAdminScope, request_tenant
from m6rec.common.errors import Conflict, shorten
from m6rec.common.pagination import limit_from
from m6rec.common.schema import error_responses, limit_param
from m6rec.training import selectors, services
from m6rec.training.errors import TrainingConflictError, TrainingError
from m6rec.training.models import TrainingRun


class RunOutputSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(
        source="version.number", allow_null=True, default=None, help_text="Version number."
    )
    requested_by = serializers.CharField(source="requested_by_label")

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "status",
            "trigger",
            "stage",
            "progress",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "attempts",
            "timings",
            "data_counts",
            "error_message",
            "gate_decision",
            "version",
        ]
        read_only_fields = fields


class TrainInputSerializer(serializers.Serializer):
    """No fields yet: the body may be empty or ``{}``."""


def conflict_from(exc: TrainingError) -> Conflict:
    error = Conflict(exc.message, code=exc.code)
    error.extra_details = exc.details
    return error


class AdminApi(APIView):
    permission_classes = [HasAdminScope]


class TrainApi(AdminApi):
    @extend_schema(
        operation_id="models_train",
        request=TrainInputSerializer,
        responses={202: RunOutputSerializer, **error_responses(401, 403, 409, 429)},
        description="Queue a training run for this tenant (409 while one is queued/running).",
    )
    def post(self, request):
        tenant = request_tenant(request)
        TrainInputSerializer(data=request.data or {}).is_valid(raise_exception=True)
        try:
            run = services.training_run_create(
                tenant=tenant, trigger=TrainingRun.Trigger.API, requested_by=request.auth
            )
        except TrainingConflictError as exc:
            raise conflict_from(exc) from exc
        run.refresh_from_db()  # with eager Celery (quick start) the run has already finished
        return Response(RunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetailApi(AdminApi):
    @extend_schema(
        operation_id="models_runs_retrieve",
        parameters=[OpenApiParameter("run_id", int, OpenApiParameter.PATH)],
        responses={200: RunOutputSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, run_id: int):
        run = selectors.run_get(tenant=request_tenant(request), run_id=run_id)
        if run is None:  # also another tenant's run
            raise NotFound(f"Training run {shorten(run_id)} not found.")
        return Response(RunOutputSerializer(run).data)


class RunListApi(AdminApi):
    @extend_schema(
        operation_id="models_runs_list",
        parameters=[limit_param(maximum=100, default=20, what="How many of the newest runs")],
        responses={200: RunOutputSerializer(many=True), **error_responses(400, 401, 403, 429)},
        description="The tenant's training runs, newest first.",
    )
    def get(self, request):
        limit = limit_from(request, default=20, maximum=100)
        runs = selectors.run_list(tenant=request_tenant(request))[:limit]
        return Response(RunOutputSerializer(runs, many=True).data)
