"""Online-loop API v1 (scope ``admin``): online metrics per version, A/B experiments.

* ``GET  models/versions/{n}/online-metrics?days=30``
* ``GET  models/experiments`` (cursor pages), ``POST models/experiments`` (start)
* ``GET  models/experiments/{id}`` (with results), ``POST .../{id}/stop``,
  ``POST .../{id}/promote-winner`` (all changes audited like promote/rollback)
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from m6rec.common.auth import request_tenant
from m6rec.common.errors import Conflict
from m6rec.common.pagination import NewestFirstPagination, reject_unknown_params
from m6rec.common.schema import cursor_page, error_responses, list_params, ok
from m6rec.common.views import AdminApi
from m6rec.online import selectors, services
from m6rec.online.errors import ExperimentError
from m6rec.online.models import Experiment
from m6rec.registry.selectors import version_get

TAG = ["experiments"]
EXPERIMENT_PARAM = OpenApiParameter(
    "experiment_id", int, OpenApiParameter.PATH, description="The experiment's id."
)
NUMBER_PARAM = OpenApiParameter(
    "number", int, OpenApiParameter.PATH, description="The version's number (1, 2, … per tenant)."
)


class _Rate(serializers.Serializer):
    rate = serializers.FloatField()
    low = serializers.FloatField(help_text="Wilson 95% interval, lower bound.")
    high = serializers.FloatField(help_text="Wilson 95% interval, upper bound.")


class _Counts(serializers.Serializer):
    impressions = serializers.IntegerField(help_text="Items shown.")
    responses = serializers.IntegerField(help_text="Recommendation responses.")
    clicks = serializers.IntegerField(help_text="Shown items the user then interacted with.")
    conversions = serializers.IntegerField(help_text="Clicks that include a goal type.")
    ctr = _Rate()
    conversion_rate = _Rate()


class _Day(_Counts):
    day = serializers.DateField()


class OnlineMetricsOutput(serializers.Serializer):
    version = serializers.IntegerField()
    goal_types = serializers.ListField(child=serializers.CharField())
    since = serializers.DateField()
    totals = _Counts()
    days = _Day(many=True)


class _VsControl(serializers.Serializer):
    difference = serializers.FloatField(help_text="Arm rate − control rate.")
    low = serializers.FloatField()
    high = serializers.FloatField()
    p_value = serializers.FloatField(help_text="Two-sided two-proportion z-test.")


class _ArmResult(_Counts):
    arm = serializers.IntegerField()
    version = serializers.IntegerField()
    share = serializers.FloatField()
    ended = serializers.CharField(allow_null=True)
    vs_control = _VsControl(allow_null=True)


class _Decision(serializers.Serializer):
    status = serializers.ChoiceField(choices=["collecting", "winner", "no_difference"])
    winner_arm = serializers.IntegerField(allow_null=True)
    winner_version = serializers.IntegerField(allow_null=True)
    alpha_per_comparison = serializers.FloatField()
    explanation = serializers.CharField()


class ResultsOutput(serializers.Serializer):
    metric = serializers.CharField()
    goal_types = serializers.ListField(child=serializers.CharField())
    confidence = serializers.FloatField()
    min_impressions_per_arm = serializers.IntegerField()
    arms = _ArmResult(many=True)
    decision = _Decision()
    computed_at = serializers.DateTimeField()


class ExperimentOutput(serializers.ModelSerializer):
    arms = serializers.JSONField(help_text="Arm 0 is the control: {version, share, ended}.")

    class Meta:
        model = Experiment
        fields = [
            "id",
            "name",
            "status",
            "arms",
            "metric",
            "min_impressions_per_arm",
            "confidence",
            "created_by",
            "created_at",
            "stopped_at",
            "stop_reason",
        ]
        read_only_fields = fields


class ExperimentDetailOutput(ExperimentOutput):
    results = serializers.SerializerMethodField()

    class Meta(ExperimentOutput.Meta):
        fields = [*ExperimentOutput.Meta.fields, "results"]
        read_only_fields = fields

    @extend_schema_field(ResultsOutput)
    def get_results(self, obj) -> dict:
        return selectors.experiment_results(experiment=obj)


class ExperimentStartInput(serializers.Serializer):
    name = serializers.CharField(min_length=1, max_length=200)
    candidates = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=8,
        help_text="Candidate version numbers tested against the active version (the control).",
    )
    shares = serializers.ListField(
        child=serializers.FloatField(),
        required=False,
        help_text="Traffic share per arm, control first, summing to 1 (default: equal).",
    )
    metric = serializers.ChoiceField(choices=services.METRICS, default="conversion")
    min_impressions_per_arm = serializers.IntegerField(
        default=1000,
        min_value=10,
        help_text="The fixed horizon: no decision before every live arm has this many.",
    )
    confidence = serializers.FloatField(default=0.95, min_value=0.5, max_value=0.999)


class StopInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class ExperimentPagination(NewestFirstPagination):
    page_size = 20
    max_page_size = 100


ExperimentPage = cursor_page(ExperimentOutput, "PaginatedExperiments")


def _raise(exc: ExperimentError):
    if exc.status_code == status.HTTP_404_NOT_FOUND:
        raise NotFound(exc.message) from None
    if exc.status_code == status.HTTP_409_CONFLICT:
        error = Conflict(exc.message, code=exc.code)
        error.extra_details = exc.details
        raise error from None
    raise ValidationError(exc.details or {"non_field_errors": [exc.message]}) from None


def _experiment_or_404(tenant, experiment_id: int) -> Experiment:
    experiment = selectors.experiment_get(tenant=tenant, experiment_id=experiment_id)
    if experiment is None:  # another tenant's id included: indistinguishable
        raise NotFound(f"Experiment {experiment_id} not found.")
    return experiment


class VersionOnlineMetricsApi(AdminApi):
    @extend_schema(
        operation_id="models_version_online_metrics",
        tags=["models"],
        summary="Online metrics of a model version",
        description="Impressions, clicks and conversions attributed to this version through "
        "`recommendation_id`, with click-through and conversion rates (Wilson 95% intervals), "
        "in total and per UTC day of the recommendation, for the last `days` days.",
        parameters=[
            NUMBER_PARAM,
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": 365, "default": 30},
                description="How many days back, today included (1..365, default 30).",
            ),
        ],
        responses={
            200: ok(OnlineMetricsOutput, "The version's online metrics."),
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, number: int):
        reject_unknown_params(request, {"days"})
        field = serializers.IntegerField(min_value=1, max_value=365, default=30)
        try:
            days = field.run_validation(request.query_params.get("days", 30))
        except serializers.ValidationError as exc:
            raise ValidationError({"days": exc.detail}) from None
        tenant = request_tenant(request)
        if version_get(tenant=tenant, number=number) is None:
            raise NotFound(f"Model version {number} not found.")
        return Response(selectors.version_online_metrics(tenant=tenant, number=number, days=days))


class ExperimentListApi(AdminApi):
    @extend_schema(
        operation_id="experiments_list",
        tags=TAG,
        summary="List experiments",
        description="The tenant's experiments, newest first, as cursor pages.",
        parameters=list_params(ExperimentPagination),
        responses={
            200: ok(ExperimentPage, "A page of experiments."),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request):
        paginator = ExperimentPagination()
        page = paginator.paginate_queryset(
            selectors.experiment_list(tenant=request_tenant(request)), request
        )
        return paginator.get_paginated_response(ExperimentOutput(page, many=True).data)

    @extend_schema(
        operation_id="experiments_start",
        tags=TAG,
        summary="Start an A/B experiment",
        description="Tests candidate versions against the active version (arm 0, the control) "
        "with the given traffic shares. Users are assigned by a stable hash of tenant, "
        "experiment and user id; responses name the experiment and arm. While it runs, new "
        "versions are not promoted automatically. Audited.",
        request=ExperimentStartInput,
        responses={
            201: ok(ExperimentOutput, "The experiment, running."),
            **error_responses(
                400,
                401,
                403,
                409,
                429,
                conflict="No active version, or an experiment is already running.",
            ),
        },
    )
    def post(self, request):
        serializer = ExperimentStartInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            experiment = services.experiment_start(
                tenant=request_tenant(request),
                name=data["name"],
                candidates=data["candidates"],
                shares=data.get("shares"),
                metric=data["metric"],
                min_impressions_per_arm=data["min_impressions_per_arm"],
                confidence=data["confidence"],
                actor=request.auth,
            )
        except ExperimentError as exc:
            _raise(exc)
        return Response(ExperimentOutput(experiment).data, status=status.HTTP_201_CREATED)


class ExperimentDetailApi(AdminApi):
    @extend_schema(
        operation_id="experiments_get",
        tags=TAG,
        summary="An experiment and its results",
        description="Each arm's counts and rates, its difference from the control with a "
        "confidence interval and p-value, and the decision: `collecting` until every live arm "
        "reaches the fixed horizon (`min_impressions_per_arm`), then `winner` or "
        "`no_difference` (two-proportion z-test, Bonferroni over the candidates).",
        parameters=[EXPERIMENT_PARAM],
        responses={
            200: ok(ExperimentDetailOutput, "The experiment."),
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request, experiment_id: int):
        experiment = _experiment_or_404(request_tenant(request), experiment_id)
        return Response(ExperimentDetailOutput(experiment).data)


class ExperimentStopApi(AdminApi):
    @extend_schema(
        operation_id="experiments_stop",
        tags=TAG,
        summary="Stop an experiment",
        description="Freezes its results; every user is served by the active version again. "
        "Audited.",
        parameters=[EXPERIMENT_PARAM],
        request=StopInput,
        responses={
            200: ok(ExperimentDetailOutput, "The stopped experiment."),
            **error_responses(400, 401, 403, 404, 409, 429, conflict="Not running."),
        },
    )
    def post(self, request, experiment_id: int):
        serializer = StopInput(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        tenant = request_tenant(request)
        try:
            experiment = services.experiment_stop(
                tenant=tenant,
                experiment_id=experiment_id,
                actor=request.auth,
                reason=serializer.validated_data["reason"],
            )
        except ExperimentError as exc:
            _raise(exc)
        return Response(ExperimentDetailOutput(experiment).data)


class ExperimentPromoteWinnerApi(AdminApi):
    @extend_schema(
        operation_id="experiments_promote_winner",
        tags=TAG,
        summary="Stop an experiment and promote its winner",
        description="Only when the results name a winner (after the horizon). Audited as an "
        "experiment stop and a promotion.",
        parameters=[EXPERIMENT_PARAM],
        request=None,
        responses={
            200: ok(ExperimentDetailOutput, "The stopped experiment."),
            **error_responses(401, 403, 404, 409, 429, conflict="Not running, or no winner yet."),
        },
    )
    def post(self, request, experiment_id: int):
        tenant = request_tenant(request)
        try:
            services.experiment_promote_winner(
                tenant=tenant, experiment_id=experiment_id, actor=request.auth
            )
        except ExperimentError as exc:
            _raise(exc)
        return Response(ExperimentDetailOutput(_experiment_or_404(tenant, experiment_id)).data)
