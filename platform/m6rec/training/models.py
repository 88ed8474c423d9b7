"""TrainingRun: one attempt to train a tenant's model, from queueing to a registered version."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class TrainingRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Trigger(models.TextChoices):
        ADMIN = "admin", "Django admin"
        API = "api", "API"
        SCHEDULE = "schedule", "Schedule"
        THRESHOLD = "threshold", "New interactions threshold"
        COMMAND = "command", "Management command"

    IN_PROGRESS = (Status.QUEUED, Status.RUNNING)

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="training_runs"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    stage = models.CharField(max_length=64, blank=True, default="")
    progress = models.FloatField(default=0.0, help_text="Percent complete, 0-100.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by_label = models.CharField(
        max_length=200, blank=True, default="", help_text="Who asked: user, API key or system."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the task was last handed to the broker."
    )
    dispatch_pending = models.BooleanField(
        default=False,
        help_text="Outbox marker: the task still has to reach the broker (sent on commit, "
        "retried every few seconds by the dispatch_training_runs beat task).",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="")
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per stage.")
    data_counts = models.JSONField(default=dict, blank=True)
    interactions_seen = models.BigIntegerField(
        default=0, help_text="Tenant's interaction count when the run read its data."
    )
    error_message = models.TextField(blank=True, default="")
    gate_decision = models.TextField(blank=True, default="")
    version = models.ForeignKey(
        "registry.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The version this run registered.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status__in=["queued", "running"]),
                name="training_one_run_in_progress_per_tenant",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="training_progress_percent",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="training_run_tenant"),
            models.Index(
                fields=["created_at"],
                condition=Q(dispatch_pending=True),
                name="training_run_to_dispatch",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.tenant_id}, {self.status})"

    @property
    def is_in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class TrainingSchedule(models.Model):
    """When to retrain a tenant automatically (checked by the ``schedule_training`` beat task).

    Overrides the tenant config keys ``train_every_hours`` / ``train_after_new_interactions``
    (kept for API-configured tenants); a disabled schedule turns automatic training off.
    """

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="training_schedule"
    )
    enabled = models.BooleanField(default=True)
    train_every_hours = models.FloatField(
        null=True, blank=True, help_text="Retrain when the last run is older than this."
    )
    train_after_new_interactions = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Retrain after this many new interactions since the last run read its data.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(train_every_hours__isnull=True) | Q(train_every_hours__gt=0),
                name="training_schedule_every_hours_positive",
            )
        ]

    def __str__(self) -> str:
        return f"schedule of {self.tenant_id}"
