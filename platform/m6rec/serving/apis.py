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

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.views import APIView

from m6rec.common.auth import ApiKeyAuthentication, HasRecommendScope, request_tenant
from m6rec.common.errors import api_exception_handler, quoted
from m6rec.common.negotiation import FastJsonNegotiation
from m6rec.common.schema import error_responses, ok, path_id_param
from m6rec.common.validation import clean_path_id
from m6rec.serving import services
from m6rec.serving.serializers import (
    INCLUDABLE,
    MAX_K,
    POPULAR_QUERY,
    SIMILAR_QUERY,
    USER_QUERY,
    RecommendationsOutput,
    SessionRecommendationsInput,
    split_ids,
)


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
            exclude=split_ids(params["exclude"], field="exclude"),
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
