"""Serving endpoints (scope ``recommend``): thin DRF views over :mod:`m6rec.serving.services`.

* ``GET  /api/v1/users/{user_id}/recommendations?k=10&exclude_seen=true&category=&exclude=``
* ``POST /api/v1/recommendations`` ``{"recent_items": [...], "k": 10}``
* ``GET  /api/v1/items/{item_id}/similar?k=10``
* ``GET  /api/v1/popular?k=10&category=``

Responses: ``{"items": [{"item_id", "score", "reason"?, "properties"?, "explanation"?}],
"model_version": n | null, "strategy": "model" | "popularity", "recommendation_id",
"experiment": {"id", "arm"} | null, "request_id"}``. ``include=properties`` adds each item's
stored properties; ``explain=true`` adds why it was recommended.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.fields import empty
from rest_framework.views import APIView

from m6rec.common.auth import ApiKeyAuthentication, HasRecommendScope, request_tenant
from m6rec.common.errors import api_exception_handler, quoted
from m6rec.common.negotiation import FastJsonNegotiation
from m6rec.common.schema import error_responses, ok, path_id_param
from m6rec.common.validation import clean_path_id
from m6rec.serving import services

MAX_K = 100
MAX_EXCLUDE = 1000
MAX_RECENT = 500
ID_MAX_LENGTH = 255


def _request_id(request) -> str:
    try:
        from m6rec.ops.request_id import get_request_id
    except ImportError:
        get_request_id = None  # noqa: N806
    rid = get_request_id() if get_request_id is not None else None
    if not rid:
        rid = getattr(request, "_m6rec_request_id", None) or uuid.uuid4().hex
        request._m6rec_request_id = rid
    return rid


# ---------------------------------------------------------------------- serializers
class _KField(serializers.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_K, default=10, **kwargs)


class _CategoryField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            required=False, allow_blank=True, max_length=ID_MAX_LENGTH, default="", **kwargs
        )


def _split_ids(value: str, *, field: str) -> list[str]:
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if len(ids) > MAX_EXCLUDE:
        raise serializers.ValidationError({field: [f"At most {MAX_EXCLUDE} ids."]})
    if any(len(i) > ID_MAX_LENGTH for i in ids):
        raise serializers.ValidationError(
            {field: [f"Ids are at most {ID_MAX_LENGTH} characters long."]}
        )
    return ids


class QueryParams:
    """Validates a query string with DRF fields, as a Serializer would, at a fraction of the cost.

    A Serializer re-constructs (deep-copies) its declared fields on every instantiation, which
    was about 5% of a recommendation's CPU for three or four scalar parameters. These fields are
    never bound, so one instance of each serves every request and thread. Errors name the
    field, as a serializer's do; a repeated parameter keeps its last value.
    """

    def __init__(self, **fields: serializers.Field) -> None:
        self.fields = fields

    def parse(self, request) -> dict[str, Any]:
        params = request.query_params
        values, errors = {}, {}
        for name, field in self.fields.items():
            try:
                values[name] = field.run_validation(params.get(name, empty))
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return values


INCLUDABLE = ("properties",)


class _ExplainField(serializers.BooleanField):
    """``explain``: absent = the tenant's domain decides (health explains by default)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, default=None, **kwargs)


class _IncludeField(serializers.CharField):
    """``include``: comma-separated extras; today only ``properties``."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, default="", max_length=200, **kwargs)

    def to_internal_value(self, data):
        parts = [p.strip() for p in super().to_internal_value(data).split(",") if p.strip()]
        unknown = [p for p in parts if p not in INCLUDABLE]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown value {quoted(unknown[0])}; allowed: {', '.join(INCLUDABLE)}."
            )
        return frozenset(parts)


_ONLINE = {"explain": _ExplainField(), "include": _IncludeField()}

USER_QUERY = QueryParams(
    k=_KField(),
    exclude_seen=serializers.BooleanField(default=True),
    category=_CategoryField(),
    exclude=serializers.CharField(required=False, allow_blank=True, default=""),
    **_ONLINE,
)
POPULAR_QUERY = QueryParams(k=_KField(), category=_CategoryField(), **_ONLINE)
SIMILAR_QUERY = QueryParams(k=_KField(), **_ONLINE)


class SessionRecommendationsInput(serializers.Serializer):
    recent_items = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=ID_MAX_LENGTH),
        max_length=MAX_RECENT,
        allow_empty=True,
        help_text="Item ids the anonymous/session user interacted with, oldest first.",
    )
    k = _KField(help_text=f"Number of items, 1..{MAX_K}.")
    category = _CategoryField(help_text="Only items listing this category.")
    exclude = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=ID_MAX_LENGTH),
        max_length=MAX_EXCLUDE,
        required=False,
        default=list,
        help_text="Item ids to leave out (the recent items are always left out).",
    )
    session_id = serializers.CharField(
        required=False,
        min_length=1,
        max_length=ID_MAX_LENGTH,
        help_text="A stable id of the session: places it in a running experiment's arm.",
    )
    explain = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Add why each item was chosen."
    )
    include = serializers.ListField(
        child=serializers.ChoiceField(choices=INCLUDABLE),
        required=False,
        default=list,
        max_length=len(INCLUDABLE),
        help_text="Extras per item: `properties` (the item's stored properties).",
    )

    def validate(self, attrs):
        attrs["category"] = attrs.get("category") or None
        attrs["include"] = frozenset(attrs.get("include") or ())
        return attrs


class EvidenceOutput(serializers.Serializer):
    item_id = serializers.CharField()
    weight = serializers.FloatField(
        required=False, help_text="Share of the item's positive evidence from this item (0..1)."
    )


class ExplanationOutput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["item_item", "mf", "model", "similar", "popularity"],
        help_text="item_item / mf: the user's items in `because` led to it; similar: the item "
        "asked about; popularity: no personal evidence, the item is popular; model: the model "
        "ranked it with no single item standing out.",
    )
    because = EvidenceOutput(many=True)


class RecommendedItemOutput(serializers.Serializer):
    item_id = serializers.CharField()
    score = serializers.FloatField()
    reason = serializers.CharField(required=False, help_text="Present when a rule explains it.")
    properties = serializers.DictField(
        required=False, help_text="The item's stored properties (with `include=properties`)."
    )
    explanation = ExplanationOutput(required=False, help_text="With `explain=true`.")


class ExperimentArmOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The running experiment.")
    arm = serializers.IntegerField(help_text="The arm that served this response (0 = control).")


class RecommendationsOutput(serializers.Serializer):
    items = RecommendedItemOutput(many=True)
    model_version = serializers.IntegerField(allow_null=True)
    strategy = serializers.ChoiceField(choices=[services.MODEL, services.POPULARITY])
    recommendation_id = serializers.CharField(
        help_text="Send it with the interactions this response leads to (`POST interactions`, "
        "field `recommendation_id`) to attribute them to the version, arm and position."
    )
    experiment = ExperimentArmOutput(allow_null=True)
    request_id = serializers.CharField()


# ---------------------------------------------------------------------- views
def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _ServingApi(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasRecommendScope]
    content_negotiation_class = FastJsonNegotiation

    def get_exception_handler(self):
        return api_exception_handler

    def respond(
        self, request, result: services.Recommendations, include: frozenset[str] = frozenset()
    ) -> HttpResponse:
        """The JSON body, encoded as DRF's JSONRenderer encodes it (compact, UTF-8, no NaN),
        straight into an HttpResponse: a Response's render pipeline cost about 5% of a
        recommendation. Negotiation has already run (``initial``): only JSON gets here."""
        items = []
        properties = "properties" in include
        explanations = result.explanations
        for c in result.items:
            item = {"item_id": c.item_id, "score": float(c.score)}
            if c.reason:
                item["reason"] = c.reason
            if properties:
                item["properties"] = c.properties or {}
            if explanations is not None:
                item["explanation"] = explanations.get(c.item_id) or {
                    "kind": "model",
                    "because": [],
                }
            items.append(item)
        rid = _request_id(request)
        arm = result.experiment
        body = {
            "items": items,
            "model_version": result.model_version,
            "strategy": result.strategy,
            "recommendation_id": result.recommendation_id,
            "experiment": {"id": arm.experiment_id, "arm": arm.arm} if arm is not None else None,
            "request_id": rid,
        }
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False),
            content_type="application/json",
        )
        response["X-Request-ID"] = rid
        return response


_K = OpenApiParameter(
    "k",
    {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10},
    description=f"Number of items, 1..{MAX_K} (default 10); any other value is a 400 on `k`.",
)
TAG = ["recommendations"]
OK_TEXT = (
    "The items, best first, with the version and strategy that chose them and the "
    "`recommendation_id` to send with the interactions they lead to."
)
_CATEGORY = OpenApiParameter("category", OpenApiTypes.STR, description="Item category filter")
_EXPLAIN = OpenApiParameter(
    "explain",
    OpenApiTypes.BOOL,
    description="Add `explanation` per item (default: the tenant's domain; health: true).",
)
_INCLUDE = OpenApiParameter(
    "include",
    {"type": "string", "enum": list(INCLUDABLE)},
    description="`properties`: add each item's stored properties (one call instead of k + 1).",
)


class UserRecommendationsApi(_ServingApi):
    @extend_schema(
        operation_id="user_recommendations",
        tags=TAG,
        parameters=[
            path_id_param("user_id"),
            _K,
            OpenApiParameter("exclude_seen", OpenApiTypes.BOOL, description="default true"),
            _CATEGORY,
            OpenApiParameter("exclude", OpenApiTypes.STR, description="comma-separated ids"),
            _EXPLAIN,
            _INCLUDE,
        ],
        responses={
            200: ok(RecommendationsOutput, OK_TEXT),
            **error_responses(400, 401, 403, 429),
        },
        summary="Top-K recommendations for an end user",
        description="Folds in the user's stored interactions, so behaviour ingested after "
        "training counts at once. Unknown users (or users without usable history) get "
        'popularity, labelled "popularity".',
    )
    def get(self, request, user_id: str):
        user_id = clean_path_id(user_id, param="user_id")
        params = USER_QUERY.parse(request)
        result = services.recommend_for_user(
            tenant=request_tenant(request),
            user_id=user_id,
            k=params["k"],
            exclude_seen=params["exclude_seen"],
            category=params["category"] or None,
            exclude=_split_ids(params["exclude"], field="exclude"),
            explain=params["explain"],
        )
        return self.respond(request, result, params["include"])


class SessionRecommendationsApi(_ServingApi):
    @extend_schema(
        operation_id="session_recommendations",
        tags=TAG,
        request=SessionRecommendationsInput,
        responses={
            200: ok(RecommendationsOutput, OK_TEXT),
            **error_responses(400, 401, 403, 413, 415, 429),
        },
        summary="Recommendations for an anonymous session from its recent items",
        description="Folds the recent items into a user vector (items the tenant or the model "
        "does not know are ignored; none left: popularity). The recent items are never "
        "recommended back. `session_id` places the session in a running experiment's arm.",
    )
    def post(self, request):
        data = _validated(SessionRecommendationsInput, request.data)
        result = services.recommend_for_items(
            tenant=request_tenant(request),
            item_ids=data["recent_items"],
            k=data["k"],
            category=data["category"],
            exclude=data["exclude"],
            session_id=data.get("session_id"),
            explain=data["explain"],
        )
        return self.respond(request, result, data["include"])


class SimilarItemsApi(_ServingApi):
    @extend_schema(
        operation_id="similar_items",
        tags=TAG,
        parameters=[path_id_param("item_id"), _K, _EXPLAIN, _INCLUDE],
        responses={
            200: ok(RecommendationsOutput, OK_TEXT),
            **error_responses(400, 401, 403, 404, 429),
        },
        summary="Items similar to an item",
        description="Items the item-item model links to this one (interacted with together), "
        "then the nearest by the model's item vectors; popularity for an item the model has "
        "not seen. 404 when the tenant has no such item.",
    )
    def get(self, request, item_id: str):
        item_id = clean_path_id(item_id, param="item_id")
        params = SIMILAR_QUERY.parse(request)
        try:
            result = services.recommend_similar(
                tenant=request_tenant(request),
                item_id=item_id,
                k=params["k"],
                explain=params["explain"],
            )
        except services.UnknownItem:
            raise exceptions.NotFound(f"Item {quoted(item_id)} not found.") from None
        return self.respond(request, result, params["include"])


class PopularApi(_ServingApi):
    @extend_schema(
        operation_id="popular_items",
        tags=TAG,
        parameters=[_K, _CATEGORY, _EXPLAIN, _INCLUDE],
        responses={
            200: ok(RecommendationsOutput, OK_TEXT),
            **error_responses(400, 401, 403, 429),
        },
        summary="The tenant's most popular items",
        description="By the number of distinct users who interacted with them, from the "
        "active model's training data (the database without a model); active items only.",
    )
    def get(self, request):
        params = POPULAR_QUERY.parse(request)
        result = services.recommend_popular(
            tenant=request_tenant(request),
            k=params["k"],
            category=params["category"] or None,
            explain=params["explain"],
        )
        return self.respond(request, result, params["include"])
