"""Online-loop models: :class:`Experiment` and :class:`ImpressionCount`.

Attributed interactions are not a table of their own: an interaction ingested with a valid
``recommendation_id`` carries the version, experiment, arm, position and strategy that served
it in its own row (``catalog.Interaction.attributed_*``), so a replayed event id can never be
attributed twice and deleting a user deletes their attributions with their interactions.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Experiment(models.Model):
    """An A/B test between the tenant's active version (the control) and candidate versions.

    ``arms`` is a list, arm 0 the control: ``[{"version": n, "share": 0.5, "ended": null |
    "<reason>"}, ...]``. Assignment is a stable hash of (tenant, experiment, unit id), so no
    per-user state is stored; an ended arm's units are served by the control and counted as
    control traffic is not (their impressions keep their arm index but nothing new arrives).
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    arms = models.JSONField(help_text="Arm 0 is the control; each arm a version and a share.")
    metric = models.CharField(
        max_length=32,
        default="conversion",
        help_text="The rate the decision rule compares: 'conversion' or 'ctr'.",
    )
    min_impressions_per_arm = models.PositiveIntegerField(
        default=1000, help_text="Fixed horizon: no decision before every live arm has this many."
    )
    confidence = models.FloatField(default=0.95)
    created_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict, blank=True, help_text="Results when stopped.")

    class Meta:
        ordering = ["tenant_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status="running"),
                name="online_one_running_experiment_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"experiment {self.pk} {self.name!r} ({self.status})"


class ImpressionCount(models.Model):
    """Items shown (and responses given) per tenant, day, version, strategy, experiment arm.

    Written only by the flush of the Redis counters (``online.impressions``), which adds.
    ``model_version`` 0 = no model (database popularity); ``experiment_id`` 0 = none.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    model_version = models.PositiveIntegerField()
    strategy = models.CharField(max_length=16)
    surface = models.CharField(max_length=16)
    experiment_id = models.PositiveIntegerField(default=0)
    arm = models.SmallIntegerField(default=-1)
    impressions = models.BigIntegerField(default=0)
    responses = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "tenant",
                    "day",
                    "model_version",
                    "strategy",
                    "surface",
                    "experiment_id",
                    "arm",
                ],
                name="online_impression_key",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.day} v{self.model_version} {self.strategy}/{self.surface}: {self.impressions}"
        )
