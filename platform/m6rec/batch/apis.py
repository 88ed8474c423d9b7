"""Batch recommendations API v1 (scope ``admin``): queue a job, follow it, download its file.

* ``POST models/batch-recommendations`` ``{"k", "user_ids"?, "exclude_seen", "category"}`` → 202
* ``GET  models/batch-recommendations`` (cursor pages, newest first)
* ``GET  models/batch-recommendations/{job_id}`` (status and progress)
* ``GET  models/batch-recommendations/{job_id}/download`` (the gzip JSON Lines file, streamed)
"""

from __future__ import annotations

import json

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from m6rec.batch import selectors, services
from m6rec.batch import storage as batch_storage
from m6rec.batch.errors import BatchConflictError, BatchError
from m6rec.batch.models import BatchJob
from m6rec.common.auth import request_tenant
from m6rec.common.errors import Conflict, shorten
from m6rec.common.pagination import NewestFirstPagination
from m6rec.common.schema import cursor_page, error_responses, list_params, ok
from m6rec.common.validation import MAX_ID_LENGTH, RowError, clean_id
from m6rec.common.views import AdminApi

TAG = ["recommendations"]
GZIP = "application/gzip"


class BatchJobPagination(NewestFirstPagination):
    """``GET models/batch-recommendations``: newest job first, 1..100 per page (default 20)."""

    page_size = 20
    max_page_size = 100


# ---------------------------------------------------------------------- serializers
class _UserIdField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(min_length=1, max_length=MAX_ID_LENGTH, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        try:
            return clean_id(data, what="user id")
        except RowError as exc:
            raise serializers.ValidationError(str(exc)) from None


class BatchJobInputSerializer(serializers.Serializer):
    k = serializers.IntegerField(
        min_value=1, max_value=services.MAX_K, default=10, help_text="Items per user, 1..100."
    )
    user_ids = serializers.ListField(
        child=_UserIdField(),
        min_length=1,
        max_length=services.MAX_LISTED_USERS,
        required=False,
        allow_null=True,
        default=None,
        help_text="The users to write, in this order (duplicates once); omitted or null: every "
        "user the tenant has when the job starts. Unknown users get popularity lines.",
    )
    exclude_seen = serializers.BooleanField(
        default=True, help_text="Leave out items each user already interacted with."
    )
    category = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=MAX_ID_LENGTH,
        default=None,
        help_text="Only items listing this category.",
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        shorten(name): [f"Unknown field; allowed: {', '.join(self.fields)}."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class BatchJobOutputSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(help_text="Percent of users written, 0..100.")
    requested_by = serializers.CharField(source="requested_by_label")
    download_url = serializers.SerializerMethodField(
        help_text="Once succeeded: the authenticated URL that streams the file (gzip JSON "
        "Lines); null before."
    )

    class Meta:
        model = BatchJob
        fields = [
            "id",
            "status",
            "k",
            "exclude_seen",
            "category",
            "all_users",
            "users_total",
            "users_done",
            "popularity_users",
            "progress",
            "model_version",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "attempts",
            "error_message",
            "output_uri",
            "sha256",
            "size_bytes",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, job: BatchJob) -> str | None:
        if job.status != BatchJob.Status.SUCCEEDED or not job.output_uri:
            return None
        path = reverse("models-batch-recommendations-download", kwargs={"job_id": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


BatchJobPageSerializer = cursor_page(BatchJobOutputSerializer, "PaginatedBatchJobs")
JOB_ID_PARAM = OpenApiParameter(
    "job_id",
    int,
    OpenApiParameter.PATH,
    description="The job's id (from `POST models/batch-recommendations`).",
)


class GzipRenderer(renderers.BaseRenderer):
    """Lets ``Accept: application/gzip`` reach the download view; errors stay JSON text."""

    media_type = GZIP
    format = "gz"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _job_or_404(request, job_id: int) -> BatchJob:
    job = selectors.job_get(tenant=request_tenant(request), job_id=job_id)
    if job is None:  # also another tenant's job
        raise NotFound(f"Batch job {shorten(job_id)} not found.")
    return job


# ---------------------------------------------------------------------- views
class BatchJobListCreateApi(AdminApi):
    @extend_schema(
        operation_id="batch_recommendations_create",
        tags=TAG,
        summary="Queue a batch recommendations job",
        description="Write top-`k` recommendations for every user (or the listed `user_ids`) "
        'into one gzip-compressed JSON Lines file, one line per user: `{"user_id", "items": '
        '[{"item_id", "score"}], "model_version", "strategy"}`, exactly what '
        "`GET users/{user_id}/recommendations` answers. The job runs on the worker queue, "
        "resumes after an interruption, and reports progress; follow it with "
        "`GET models/batch-recommendations/{job_id}`, then download the file.",
        request=BatchJobInputSerializer,
        examples=[
            OpenApiExample(
                "Every user",
                value={"k": 10, "exclude_seen": True},
                request_only=True,
            ),
            OpenApiExample(
                "Listed users",
                value={"k": 5, "user_ids": ["u1", "u2"], "category": "books"},
                request_only=True,
            ),
        ],
        responses={
            202: ok(BatchJobOutputSerializer, "The job, queued."),
            **error_responses(
                400,
                401,
                403,
                409,
                413,
                415,
                429,
                conflict="`batch_in_progress`: a batch job is already queued or running "
                "(`details.job_id`, `details.status`).",
            ),
        },
    )
    def post(self, request):
        serializer = BatchJobInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            job = services.batch_job_create(
                tenant=request_tenant(request),
                k=data["k"],
                user_ids=data["user_ids"],
                exclude_seen=data["exclude_seen"],
                category=data["category"] or None,
                requested_by=request.auth,
            )
        except BatchConflictError as exc:
            error = Conflict(exc.message, code=exc.code)
            error.extra_details = exc.details
            raise error from exc
        except BatchError as exc:  # pragma: no cover - the serializer checks the same
            raise serializers.ValidationError({"non_field_errors": [exc.message]}) from exc
        job.refresh_from_db()  # with eager Celery (quick start) the job has already run
        return Response(
            BatchJobOutputSerializer(job, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        operation_id="batch_recommendations_list",
        tags=TAG,
        summary="List batch recommendations jobs",
        description="The tenant's batch jobs, newest first, as cursor pages. Query parameters "
        "other than `cursor` and `limit` are a 400.",
        parameters=list_params(BatchJobPagination),
        responses={
            200: ok(BatchJobPageSerializer, "A page of jobs."),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request):
        paginator = BatchJobPagination()
        page = paginator.paginate_queryset(
            selectors.job_list(tenant=request_tenant(request)), request, view=self
        )
        data = BatchJobOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class BatchJobDetailApi(AdminApi):
    @extend_schema(
        operation_id="batch_recommendations_retrieve",
        tags=TAG,
        summary="Get a batch recommendations job",
        description="Status (`queued`, `running`, `succeeded`, `failed`), progress (users "
        "written of the total), the model version active when it started and, once "
        "succeeded, the file's `download_url`, `sha256` and size.",
        parameters=[JOB_ID_PARAM],
        responses={
            200: ok(BatchJobOutputSerializer, "The job."),
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request, job_id: int):
        job = _job_or_404(request, job_id)
        return Response(BatchJobOutputSerializer(job, context={"request": request}).data)


class BatchJobDownloadApi(AdminApi):
    renderer_classes = [renderers.JSONRenderer, GzipRenderer]

    @extend_schema(
        operation_id="batch_recommendations_download",
        tags=TAG,
        summary="Download a batch job's file",
        description="Streams the finished job's file: gzip-compressed JSON Lines, one user per "
        "line (`zcat`, Python's `gzip.open`). The `X-Content-SHA256` header carries the file's "
        "SHA-256 (also the job's `sha256`). 409 while the job has not succeeded.",
        parameters=[JOB_ID_PARAM, OpenApiParameter("format", exclude=True)],
        responses={
            (200, GZIP): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            **error_responses(
                401,
                403,
                404,
                409,
                429,
                conflict="`batch_not_finished`: the job has not succeeded (yet); its status "
                "says why.",
            ),
        },
    )
    def get(self, request, job_id: int):
        job = _job_or_404(request, job_id)
        if job.status != BatchJob.Status.SUCCEEDED or not job.output_uri:
            error = Conflict(
                f"Batch job {job.pk} is {job.status}; its file exists once it succeeded.",
                code="batch_not_finished",
            )
            error.extra_details = {"job_id": job.pk, "status": job.status}
            raise error
        response = FileResponse(
            batch_storage.open_output(uri=job.output_uri),
            as_attachment=True,
            filename=f"{job.tenant.slug}-batch-{job.pk}.jsonl.gz",
            content_type=GZIP,
        )
        response["X-Content-SHA256"] = job.sha256
        if job.size_bytes is not None:
            response["Content-Length"] = str(job.size_bytes)
        return response
