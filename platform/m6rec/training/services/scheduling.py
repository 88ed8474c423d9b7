"""Keep runs moving: sweep runs of dead workers, queue runs on schedule or threshold."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone

from m6rec.training.errors import TrainingConflictError
from m6rec.training.locks import lock_is_held, lock_timeout
from m6rec.training.models import TrainingRun
from m6rec.training.services import runs
from m6rec.training.services.runs import _setting

logger = logging.getLogger(__name__)

Status = TrainingRun.Status
Trigger = TrainingRun.Trigger


# ---------------------------------------------------------------------- sweep / schedule
def training_run_sweep_stuck(*, now=None) -> list[int]:
    """Fail runs left ``running`` by a dead worker; re-send runs that stayed ``queued``.

    A running run is stuck when its heartbeat is older than the lock timeout and nobody holds
    the tenant's lock. Runs still to dispatch (broker outage) are sent; a queued run is
    re-dispatched when it was sent more than ``M6REC_TRAINING_REDISPATCH_AFTER`` seconds ago
    (duplicates are no-ops). Returns the ids of the runs it failed.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=lock_timeout())
    failed: list[int] = []
    running = TrainingRun.objects.filter(status=Status.RUNNING, heartbeat_at__lt=stale)
    for run in running.only("pk", "tenant_id", "heartbeat_at"):
        if lock_is_held(run.tenant_id):
            continue
        updated = TrainingRun.objects.filter(
            pk=run.pk, status=Status.RUNNING, heartbeat_at=run.heartbeat_at
        ).update(
            status=Status.FAILED,
            finished_at=now,
            error_message=(
                f"worker lost: no heartbeat since {run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC "
                "and the tenant lock expired (worker killed?); start a new run"
            ),
        )
        if updated:
            failed.append(run.pk)
            logger.warning("run %s failed by the sweep (worker lost)", run.pk)
    runs.training_run_dispatch_pending(now=now)
    redispatch_after = timedelta(seconds=_setting("M6REC_TRAINING_REDISPATCH_AFTER", 900))
    queued = TrainingRun.objects.filter(
        status=Status.QUEUED, dispatch_pending=False, created_at__lt=now - redispatch_after
    )
    for run_id, dispatched_at in queued.values_list("pk", "dispatched_at"):
        if dispatched_at is None or dispatched_at < now - redispatch_after:
            runs.training_run_dispatch(run_id=run_id)
    return failed


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
    failure_backoff = float(_setting("M6REC_TRAINING_FAILURE_BACKOFF", 3600))
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
