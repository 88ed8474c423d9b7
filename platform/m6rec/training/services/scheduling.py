"""Keep runs moving: sweep runs of dead workers, queue runs on schedule or threshold."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from m6rec.training.errors import TrainingConflictError
from m6rec.training.models import TrainingRun
from m6rec.training.services import runs

logger = logging.getLogger(__name__)

Status = TrainingRun.Status
Trigger = TrainingRun.Trigger


# ---------------------------------------------------------------------- sweep / schedule
def training_run_sweep_stuck(*, now=None) -> list[int]:
    """Beat (every ``M6REC_TRAINING_SWEEP_INTERVAL`` s) and worker start-up: re-queue or fail
    runs whose attempt was lost, collect their staging directories, re-send queued runs.

    Lost attempts: :func:`m6rec.training.services.recovery.training_run_recover_lost` (bound:
    lock timeout + sweep interval after the last heartbeat). Runs still to dispatch (broker
    outage) are sent; a queued run is re-dispatched when it was sent more than
    ``M6REC_TRAINING_REDISPATCH_AFTER`` seconds ago (duplicates are no-ops). Returns the ids of
    the runs it re-queued or failed.
    """
    from m6rec.training.services.recovery import training_run_recover_lost, training_staging_gc

    now = now or timezone.now()
    handled = training_run_recover_lost(now=now)
    try:
        training_staging_gc()
    except Exception:  # noqa: BLE001 - a full or read-only disk must not stop the sweep
        logger.exception("garbage collection of staging directories failed")
    runs.training_run_dispatch_pending(now=now)
    redispatch_after = timedelta(seconds=settings.M6REC_TRAINING_REDISPATCH_AFTER)
    queued = TrainingRun.objects.filter(
        status=Status.QUEUED, dispatch_pending=False, created_at__lt=now - redispatch_after
    )
    for run_id, dispatched_at in queued.values_list("pk", "dispatched_at"):
        if dispatched_at is None or dispatched_at < now - redispatch_after:
            runs.training_run_dispatch(run_id=run_id)
    return handled


def _positive_number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def schedule_of(tenant) -> tuple[float | None, float | None]:
    """``(every hours, new-interaction threshold)`` of a tenant: its
    :class:`~m6rec.training.models.TrainingSchedule` when it has one, else its config keys."""
    from m6rec.training.models import TrainingSchedule

    try:
        schedule = tenant.training_schedule
    except TrainingSchedule.DoesNotExist:
        config = tenant.config or {}
        return (
            _positive_number(config.get("train_every_hours")),
            _positive_number(config.get("train_after_new_interactions")),
        )
    if not schedule.enabled:
        return None, None
    return (
        _positive_number(schedule.train_every_hours),
        _positive_number(schedule.train_after_new_interactions),
    )


def training_schedule_due(*, now=None) -> list[TrainingRun]:
    """Queue runs for active tenants that are due (see :func:`schedule_of`): ``every`` hours
    since their last run, or ``threshold`` new interactions since the last run read its data.
    Tenants with a run in progress or without data, or whose last run failed less than
    ``M6REC_TRAINING_FAILURE_BACKOFF`` seconds ago, are skipped."""
    from m6rec.catalog.models import Interaction
    from m6rec.tenants.models import Tenant
    from m6rec.training.selectors import run_get_last

    now = now or timezone.now()
    failure_backoff = float(settings.M6REC_TRAINING_FAILURE_BACKOFF)
    queued: list[TrainingRun] = []
    for tenant in Tenant.objects.filter(active=True).select_related("training_schedule"):
        every, threshold = schedule_of(tenant)
        if every is None and threshold is None:
            continue
        if TrainingRun.objects.filter(tenant=tenant, status__in=TrainingRun.IN_PROGRESS).exists():
            continue
        count = Interaction.objects.filter(tenant=tenant).count()
        if count == 0:
            continue
        last = run_get_last(tenant=tenant)
        if (
            last is not None
            and last.status == Status.FAILED
            and last.created_at > now - timedelta(seconds=failure_backoff)
        ):
            continue  # do not hammer a tenant whose last run failed
        trigger = None
        if every is not None and (last is None or last.created_at <= now - timedelta(hours=every)):
            trigger = Trigger.SCHEDULE
        elif threshold is not None:
            seen = last.interactions_seen if last is not None else 0
            if count - seen >= threshold:
                trigger = Trigger.THRESHOLD
        if trigger is None:
            continue
        try:
            queued.append(runs.training_run_create(tenant=tenant, trigger=trigger))
        except TrainingConflictError:
            continue
    return queued
