"""Catalog rows: items, end users and their interactions. Every row carries its tenant.

Ids seen by clients are the tenant's own ``external_id`` strings; integer primary keys never
leave the platform. JSON columns (not ArrayField) keep the models working on SQLite for the
embedded quick start as well as on PostgreSQL.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from m6rec.tenants.models import Tenant

EXTERNAL_ID_MAX_LENGTH = 255
INTERACTION_TYPE_MAX_LENGTH = 64


class Item(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    properties = models.JSONField(default=dict, blank=True)
    categories = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="catalog_item_tenant_external_id_uniq"
            )
        ]
        indexes = [models.Index(fields=["tenant", "id"], name="catalog_item_tenant_id_idx")]

    def __str__(self) -> str:
        return self.external_id


class EndUser(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "end user"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="catalog_enduser_tenant_external_id_uniq"
            )
        ]
        indexes = [models.Index(fields=["tenant", "id"], name="catalog_enduser_tenant_id_idx")]

    def __str__(self) -> str:
        return self.external_id


class Interaction(models.Model):
    """One event. ``event_id`` (optional) is unique per tenant and makes ingestion idempotent.

    Indexes: (tenant, timestamp, id) streams a tenant's history in time order for training;
    (user, timestamp) serves per-user lookups and the cascade when a user is deleted (a user
    belongs to exactly one tenant, so the tenant column would add nothing); item for the
    cascade when an item is deleted.
    """

    # No database-level FK to the tenant: every insert would pay a trigger check for a row the
    # authenticated request already proved exists. Deleting a tenant still cascades (Django).
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    user = models.ForeignKey(
        EndUser, on_delete=models.CASCADE, related_name="interactions", db_index=False
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="interactions")
    type = models.CharField(max_length=INTERACTION_TYPE_MAX_LENGTH)
    value = models.FloatField(default=1.0)
    timestamp = models.DateTimeField()
    event_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Attribution (``online``): set when the row came with a valid recommendation_id whose
    # response held this item; the version, experiment arm, 0-based position and strategy
    # that served it, and when that response was given.
    attributed_version = models.PositiveIntegerField(null=True, blank=True)
    attributed_experiment = models.PositiveIntegerField(null=True, blank=True)
    attributed_arm = models.SmallIntegerField(null=True, blank=True)
    attributed_position = models.SmallIntegerField(null=True, blank=True)
    attributed_strategy = models.CharField(max_length=16, null=True, blank=True)
    recommended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="catalog_interaction_tenant_event_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "timestamp", "id"], name="catalog_inter_tenant_ts_idx"),
            # id too: serving's count and max(id) of a user's rows come from the index alone
            # (an index-only scan), and the history's (timestamp, id) order needs no sort
            models.Index(fields=["user", "timestamp", "id"], name="catalog_inter_user_ts_id_idx"),
            models.Index(
                fields=["tenant", "attributed_version"],
                condition=models.Q(attributed_version__isnull=False),
                name="catalog_inter_attributed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type}({self.user_id}→{self.item_id}, {self.value:g})"
