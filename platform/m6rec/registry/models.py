"""Registry models: :class:`ModelVersion` (numbered per tenant) and :class:`AuditLog`.

Invariants held by the database:

* ``(tenant, number)`` is unique — numbers are a per-tenant sequence (1, 2, 3, ...);
* at most one version per tenant has status ``active`` (partial unique index); the services
  keep it at exactly one once a tenant has a promoted version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

GATE_METRIC = "ndcg@10"


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"
        FAILED = "failed", "Failed"

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="model_versions"
    )
    number = models.PositiveIntegerField(help_text="Per-tenant sequence number (1, 2, ...).")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.CANDIDATE, db_index=True
    )
    metrics = models.JSONField(default=dict, blank=True, help_text="manifest.json 'metrics'.")
    hyperparameters = models.JSONField(default=dict, blank=True)
    bundle_uri = models.CharField(
        max_length=500, help_text="Bundle directory, relative to the bundle storage."
    )
    bundle_sha256 = models.CharField(max_length=64, help_text="sha256 of manifest.json.")
    data_counts = models.JSONField(default=dict, blank=True)
    run = models.ForeignKey(
        "training.TrainingRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="versions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    previous_active = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The version that was active when this one was promoted (rollback target).",
    )
    pinned = models.BooleanField(
        default=False,
        help_text="A pinned active version is never replaced by automatic promotion.",
    )
    notes = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["tenant_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"], name="registry_version_number_per_tenant"
            ),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status="active"),
                name="registry_one_active_version_per_tenant",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="registry_mv_tenant_status")]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"

    @property
    def gate_metric(self) -> float | None:
        """Validation nDCG@10 (the quality-gate metric), or ``None`` when not recorded."""
        return gate_metric_of(self.metrics)


def gate_metric_of(metrics: dict | None) -> float | None:
    try:
        value = (metrics or {})["validation"][GATE_METRIC]
    except (KeyError, TypeError):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class AuditLog(models.Model):
    class Action(models.TextChoices):
        PROMOTE = "promote", "Promote"
        AUTO_PROMOTE = "auto_promote", "Automatic promotion"
        ROLLBACK = "rollback", "Rollback"
        PIN = "pin", "Pin"
        UNPIN = "unpin", "Unpin"
        FAIL = "fail", "Mark failed"
        GATE_REJECT = "gate_reject", "Rejected by the quality gate"
        EXPERIMENT_START = "experiment_start", "Experiment started"
        EXPERIMENT_STOP = "experiment_stop", "Experiment stopped"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.CharField(
        max_length=200, help_text="Who: 'user:<username>', 'apikey:<label>' or 'system'."
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="registry_audit_tenant")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
