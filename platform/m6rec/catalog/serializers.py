"""Row specs and DRF serializers of the catalog API.

The ``*RowSerializer`` classes document one row in the OpenAPI schema; validation of whole
batches runs through the matching ``*RowsField`` (fast cleaners, every error per row and field,
plus the tenant's domain schema for properties and interaction types).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from m6rec.common import validation as v
from m6rec.common.batch_rows import BatchInputSerializer, BatchRowsField, RowSpec
from m6rec.common.errors import quoted
from m6rec.common.schema import TimestampField
from m6rec.online.attribution import attribute_rows
from m6rec.tenants.domains import default_interaction_type, get_tenant_domain

# --------------------------------------------------------------------------- rows (docs)


def _id_field(*, pattern: str = v.ID_PATTERN, **kwargs) -> serializers.CharField:
    """An id as :func:`m6rec.common.validation.clean_id` enforces it, stated in the schema."""
    return serializers.CharField(
        min_length=1,
        max_length=v.MAX_ID_LENGTH,
        validators=[RegexValidator(pattern)],
        **kwargs,
    )


class ItemRowSerializer(serializers.Serializer):
    item_id = _id_field(help_text="The tenant's own id; no '/'.")
    properties = serializers.JSONField(
        required=False, help_text="Object validated against the domain's item schema."
    )
    categories = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=100), required=False, max_length=100
    )
    active = serializers.BooleanField(required=False, default=True)


class UserRowSerializer(serializers.Serializer):
    user_id = _id_field()
    properties = serializers.JSONField(
        required=False, help_text="Object validated against the domain's user schema."
    )


class InteractionRowSerializer(serializers.Serializer):
    user_id = _id_field()
    item_id = _id_field()
    type = serializers.CharField(
        min_length=1,
        max_length=64,
        required=False,
        help_text="One of the domain's interaction types; default: its first type.",
    )
    value = serializers.FloatField(required=False, default=1.0)
    timestamp = TimestampField(
        required=False,
        help_text="ISO 8601 (`2024-05-01T12:30:00Z`; without an offset: UTC) or seconds since "
        "the epoch (`1714566600`), 1970..2100; default: now.",
    )
    event_id = _id_field(
        pattern=v.EVENT_ID_PATTERN,
        required=False,
        allow_null=True,
        help_text="Idempotency key (an id; '/' allowed).",
    )
    recommendation_id = serializers.CharField(
        required=False,
        max_length=1024,
        help_text="The `recommendation_id` of the response that showed this item: attributes "
        "the interaction to the model version, experiment arm and position that served it. "
        "An id that does not attribute this row (not issued to this tenant, another user, "
        "item not in that response, outside the attribution window) rejects the batch.",
    )


# --------------------------------------------------------------------------- rows (fast)


def _properties_errors(rows, validate, index_of=None) -> list[dict[str, Any]]:
    errors = []
    for index, row in enumerate(rows):
        if row is None:
            continue
        props = row.get("properties") or {}
        if not props:
            continue
        for field, messages in (validate(props) or {}).items():
            for message in messages:
                errors.append(
                    {
                        "row": index,
                        "field": f"properties.{field}" if field else "properties",
                        "message": message,
                    }
                )
    return errors


def _duplicate_errors(rows, key: str) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    errors = []
    for index, row in enumerate(rows):
        if row is None:
            continue
        first = seen.setdefault(row[key], index)
        if first != index:
            errors.append(
                {
                    "row": index,
                    "field": key,
                    "message": f"Duplicate {key} {quoted(row[key])} (also in row {first}).",
                }
            )
    return errors


@extend_schema_field(ItemRowSerializer(many=True))
class ItemRowsField(BatchRowsField):
    spec = RowSpec(
        {
            "item_id": v.clean_id,
            "properties": v.clean_properties,
            "categories": v.clean_categories,
            "active": v.clean_bool,
        },
        required=("item_id",),
        defaults={"properties": dict, "categories": list, "active": True},
    )

    def check_rows(self, rows):
        errors = _duplicate_errors(rows, "item_id")
        domain = get_tenant_domain(self.context["tenant"])
        return errors + _properties_errors(rows, domain.validate_item_properties)


@extend_schema_field(UserRowSerializer(many=True))
class UserRowsField(BatchRowsField):
    spec = RowSpec(
        {"user_id": v.clean_id, "properties": v.clean_properties},
        required=("user_id",),
        defaults={"properties": dict},
    )

    def check_rows(self, rows):
        errors = _duplicate_errors(rows, "user_id")
        domain = get_tenant_domain(self.context["tenant"])
        return errors + _properties_errors(rows, domain.validate_user_properties)


_INTERACTION_FIELDS = frozenset(
    {"user_id", "item_id", "type", "value", "timestamp", "event_id", "recommendation_id"}
)


def _fast_interaction(row: dict) -> dict | None:
    """The common case of an interaction row, cleaned without per-field calls (or None)."""
    if not row.keys() <= _INTERACTION_FIELDS:
        return None
    user_id, item_id = row.get("user_id"), row.get("item_id")
    if not (v.is_plain_id(user_id) and v.is_plain_id(item_id)):
        return None
    out = {"user_id": user_id, "item_id": item_id, "value": 1.0, "event_id": None}
    if "type" in row:
        type_ = row["type"]
        if type(type_) is not str or not 0 < len(type_) <= 64 or not type_.isprintable():
            return None
        out["type"] = type_
    if "value" in row:
        value = row["value"]
        if type(value) is not float and type(value) is not int:
            return None
        value = float(value)
        if not math.isfinite(value):
            return None
        out["value"] = value
    if "timestamp" in row:
        ts = row["timestamp"]
        if type(ts) is not int and type(ts) is not float:
            return None  # strings (ISO 8601) take the full path
        if not v.MIN_TIMESTAMP <= ts < v.MAX_TIMESTAMP:
            return None
        out["timestamp"] = datetime.fromtimestamp(ts, tz=UTC)
    if "event_id" in row:
        event_id = row["event_id"]
        if event_id is not None:
            if not (
                type(event_id) is str
                and 0 < len(event_id) <= v.MAX_ID_LENGTH
                and event_id.isprintable()
                and event_id[0] != " "
                and event_id[-1] != " "
            ):
                return None
            out["event_id"] = event_id
    if "recommendation_id" in row:
        token = row["recommendation_id"]
        if type(token) is not str or not 0 < len(token) <= 1024:
            return None
        out["recommendation_id"] = token
    return out


def clean_recommendation_id(value: Any) -> str | None:
    """Shape only (a string of at most 1024 characters); verified against the tenant later."""
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 1024:
        raise v.RowError("Must be the recommendation_id string a recommendation response gave.")
    return value


@extend_schema_field(InteractionRowSerializer(many=True))
class InteractionRowsField(BatchRowsField):
    spec = RowSpec(
        {
            "user_id": v.clean_id,
            "item_id": v.clean_id,
            "type": v.clean_type,
            "value": v.clean_number,
            "timestamp": v.clean_timestamp,
            "event_id": v.clean_optional_id,
            "recommendation_id": clean_recommendation_id,
        },
        required=("user_id", "item_id"),
        defaults={"value": 1.0, "event_id": None},
        fast=_fast_interaction,
    )

    def check_rows(self, rows):
        domain = get_tenant_domain(self.context["tenant"])
        types = domain.interaction_types
        default_type = default_interaction_type(domain)
        now = timezone.now()
        errors = []
        for index, row in enumerate(rows):
            if row is None:
                continue
            type_ = row.setdefault("type", default_type)
            if type_ not in types:
                errors.append(
                    {
                        "row": index,
                        "field": "type",
                        "message": f"Unknown interaction type {quoted(type_)} for domain "
                        f"{domain.name!r}; known: {', '.join(types)}.",
                    }
                )
            row.setdefault("timestamp", now)
        config = domain.resolve_config(self.context["tenant"].domain_config)
        return errors + attribute_rows(
            tenant_id=self.context["tenant"].pk, rows=rows, config=config
        )


# --------------------------------------------------------------------------- envelopes


class ItemsUpsertInputSerializer(BatchInputSerializer):
    """Upsert 1..10,000 items by ``item_id``; any invalid row rejects the whole batch."""

    rows_key = "items"
    items = ItemRowsField()


class UsersUpsertInputSerializer(BatchInputSerializer):
    """Upsert 1..10,000 end users by ``user_id``; any invalid row rejects the whole batch."""

    rows_key = "users"
    users = UserRowsField()


class InteractionsIngestInputSerializer(BatchInputSerializer):
    """Ingest 1..10,000 interactions; any invalid row rejects the whole batch."""

    rows_key = "interactions"
    interactions = InteractionRowsField()


class UpsertOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class InteractionsIngestOutputSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField(help_text="Interactions written.")
    duplicate = serializers.IntegerField(help_text="Rows whose event_id was already stored.")
    attributed = serializers.IntegerField(
        help_text="Interactions written with an attribution (a valid recommendation_id)."
    )
    users_created = serializers.IntegerField()
    items_created = serializers.IntegerField()


class ItemOutputSerializer(serializers.Serializer):
    item_id = serializers.CharField(source="external_id")
    properties = serializers.JSONField()
    categories = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class UserOutputSerializer(serializers.Serializer):
    user_id = serializers.CharField(source="external_id")
    properties = serializers.JSONField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
