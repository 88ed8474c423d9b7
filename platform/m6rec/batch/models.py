"""BatchJob: one export of top-K recommendations for all (or listed) users of a tenant."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class BatchJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    IN_PROGRESS = (Status.QUEUED, Status.RUNNING)

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="batch_jobs"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # what to compute
    k = models.PositiveSmallIntegerField(default=10)
    all_users = models.BooleanField(
        default=True, help_text="Every user of the tenant at the start (else the listed ones)."
    )
    user_ids = models.JSONField(
        null=True, blank=True, help_text="The listed user ids, in order; null = every user."
    )
    exclude_seen = models.BooleanField(default=True)
    category = models.CharField(max_length=255, blank=True, default="")
    requested_by_label = models.CharField(max_length=200, blank=True, default="")
    # progress and the resume point (advanced with every part written)
    users_total = models.BigIntegerField(
        null=True, blank=True, help_text="Users to write (known once the job started)."
    )
    users_done = models.BigIntegerField(default=0, help_text="Lines written so far.")
    popularity_users = models.BigIntegerField(
        default=0, help_text="Lines served by popularity (unknown users, no usable history)."
    )
    cursor = models.BigIntegerField(
        default=0, help_text="All users: the last end-user row id written (keyset)."
    )
    max_user_pk = models.BigIntegerField(
        null=True, blank=True, help_text="All users: users created after the start are left out."
    )
    parts = models.JSONField(
        default=list, blank=True, help_text="Storage names of the parts written, in order."
    )
    model_version = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The active version when the job started (none: popularity).",
    )
    # result
    output_uri = models.CharField(max_length=500, blank=True, default="")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True, default="")
    # life cycle (same outbox and heartbeat ideas as training runs)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_pending = models.BooleanField(
        default=False,
        help_text="Outbox marker: the task still has to reach the broker (sent on commit, "
        "retried by the dispatch_batch_jobs beat task).",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status__in=["queued", "running"]),
                name="batch_one_job_in_progress_per_tenant",
            ),
            models.CheckConstraint(condition=Q(k__gte=1) & Q(k__lte=100), name="batch_k_range"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-id"], name="batch_job_tenant"),
            models.Index(
                fields=["created_at"],
                condition=Q(dispatch_pending=True),
                name="batch_job_to_dispatch",
            ),
        ]

    def __str__(self) -> str:
        return f"batch job {self.pk} ({self.tenant_id}, {self.status})"

    @property
    def is_in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def progress(self) -> float:
        """Percent of users written, 0..100 (100 once succeeded)."""
        if self.status == self.Status.SUCCEEDED:
            return 100.0
        if not self.users_total:
            return 0.0
        return round(min(99.9, 100.0 * self.users_done / self.users_total), 1)
