"""Training API v1 (scope ``admin``): queue a run, read a run's progress."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from m6rec.common.auth import request_tenant
from m6rec.common.errors import Conflict, shorten
from m6rec.common.pagination import RunPagination
from m6rec.common.schema import cursor_page, error_responses, list_params, ok
from m6rec.common.views import AdminApi
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


RunPageSerializer = cursor_page(RunOutputSerializer, "PaginatedRuns")
TAG = ["training"]
RUN_ID_PARAM = OpenApiParameter(
    "run_id", int, OpenApiParameter.PATH, description="The run's id (from `models/train`)."
)


class TrainInputSerializer(serializers.Serializer):
    """No fields yet: the body may be empty or ``{}``."""


def conflict_from(exc: TrainingError) -> Conflict:
    error = Conflict(exc.message, code=exc.code)
    error.extra_details = exc.details
    return error


class TrainApi(AdminApi):
    @extend_schema(
        operation_id="models_train",
        tags=TAG,
        summary="Queue a training run",
        description="Queue a training run for this tenant on the worker queue; follow it with "
        "`GET models/runs/{run_id}`. A run that produces a better version than the active one "
        "(the quality gate) promotes it, unless a version is pinned.",
        request=TrainInputSerializer,
        responses={
            202: ok(RunOutputSerializer, "The run, queued."),
            **error_responses(
                401,
                403,
                409,
                429,
                conflict="`training_in_progress`: a run is already queued or running "
                "(`details.run_id`, `details.status`).",
            ),
        },
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
        tags=TAG,
        summary="Get a training run",
        description="A run's status, stage and progress (0..100), timings and, once it "
        "succeeded, the version it produced.",
        parameters=[RUN_ID_PARAM],
        responses={
            200: ok(RunOutputSerializer, "The run."),
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request, run_id: int):
        run = selectors.run_get(tenant=request_tenant(request), run_id=run_id)
        if run is None:  # also another tenant's run
            raise NotFound(f"Training run {shorten(run_id)} not found.")
        return Response(RunOutputSerializer(run).data)


class RunListApi(AdminApi):
    @extend_schema(
        operation_id="models_runs_list",
        tags=TAG,
        summary="List training runs",
        description="The tenant's training runs, newest first, as cursor pages. Query "
        "parameters other than `cursor` and `limit` are a 400.",
        parameters=list_params(RunPagination),
        responses={
            200: ok(RunPageSerializer, "A page of runs."),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request):
        paginator = RunPagination()
        page = paginator.paginate_queryset(
            selectors.run_list(tenant=request_tenant(request)), request, view=self
        )
        return paginator.get_paginated_response(RunOutputSerializer(page, many=True).data)
