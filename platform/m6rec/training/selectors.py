"""Training reads (runs). The catalog is streamed by :mod:`m6rec.catalog.selectors`."""

from __future__ import annotations

from django.db.models import QuerySet

from m6rec.training.models import TrainingRun


def run_get(*, tenant, run_id: int) -> TrainingRun | None:
    """A tenant's run by id; ``None`` for a missing id *and* for another tenant's run."""
    return (
        TrainingRun.objects.filter(tenant=tenant, pk=run_id)
        .select_related("version", "tenant")
        .first()
    )


def run_list(*, tenant) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.filter(tenant=tenant).select_related("version")


def run_get_in_progress(*, tenant) -> TrainingRun | None:
    return TrainingRun.objects.filter(tenant=tenant, status__in=TrainingRun.IN_PROGRESS).first()


def run_get_last(*, tenant) -> TrainingRun | None:
    """The tenant's most recent run that was not cancelled (any outcome)."""
    return (
        TrainingRun.objects.filter(tenant=tenant)
        .exclude(status=TrainingRun.Status.CANCELLED)
        .order_by("-created_at", "-id")
        .first()
    )
