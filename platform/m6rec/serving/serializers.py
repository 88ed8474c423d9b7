"""Request parsing and response shapes of the serving endpoints (DRF fields and serializers).

Query strings are validated with :class:`QueryParams` (DRF fields without a Serializer's
per-request copies); bodies with :class:`SessionRecommendationsInput`; the output serializers
document the response in the OpenAPI schema (the views encode it directly).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from m6rec.common.errors import quoted
from m6rec.serving import services

MAX_K = 100
MAX_EXCLUDE = 1000
MAX_RECENT = 500
ID_MAX_LENGTH = 255


class _KField(serializers.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_K, default=10, **kwargs)


class _CategoryField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            required=False, allow_blank=True, max_length=ID_MAX_LENGTH, default="", **kwargs
        )


def split_ids(value: str, *, field: str) -> list[str]:
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
