"""Create, dispatch and cancel training runs; the engine configuration of a tenant."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from m6rec.common import outbox
from m6rec.ops.queues import tenant_queue
from m6rec.registry import services as registry_services
from m6rec.training.errors import TrainingConflictError, TrainingError
from m6rec.training.models import TrainingRun

Status = TrainingRun.Status
Trigger = TrainingRun.Trigger


# ---------------------------------------------------------------------- settings
def train_config_for(*, tenant, overrides: dict | None = None):
    """The engine :class:`~engine.pipeline.TrainConfig` for a tenant: defaults (threads:
    ``M6REC_WORKER_THREADS`` when set), overlaid with ``settings.M6REC_TRAIN_CONFIG``, the
    tenant's ``config["training"]`` and ``overrides`` (unknown keys are ignored; JSON lists
    become tuples)."""
    from engine.pipeline import TrainConfig
    from m6rec.ops.worker_limits import worker_threads

    known = {f.name: f for f in dataclasses.fields(TrainConfig)}
    merged: dict[str, Any] = {}
    if worker_threads() and "num_threads" in known:
        merged["num_threads"] = worker_threads()
    tenant_training = (tenant.config or {}).get("training") or {}
    sources = (settings.M6REC_TRAIN_CONFIG or {}, tenant_training, overrides or {})
    for source in sources:
        for key, value in dict(source).items():
            if key in known:
                merged[key] = tuple(value) if isinstance(value, list) else value
    return TrainConfig(**merged)


# ---------------------------------------------------------------------- create / dispatch
def _requester(requested_by: Any) -> tuple[Any, str]:
    label, user = registry_services.actor_label(requested_by)
    return user, label


def training_run_create(
    *, tenant, trigger: str, requested_by: Any = None, dispatch: bool = True
) -> TrainingRun:
    """Queue a training run for ``tenant``; the task is sent when the transaction commits.

    Transactional outbox: the run is committed with ``dispatch_pending`` set, and the commit
    hook sends it; when the broker is unreachable the run stays marked and
    :func:`training_run_dispatch_pending` (beat, every ``M6REC_TRAINING_DISPATCH_INTERVAL``
    seconds) sends it once the broker is back. Nothing here raises for a broker outage.

    Raises :class:`TrainingConflictError` (API: 409) when the tenant already has a queued or
    running run. ``requested_by``: a user, an API key, a label or ``None`` (system).
    """
    if trigger not in Trigger.values:
        raise TrainingError(f"unknown trigger {trigger!r}; one of {', '.join(Trigger.values)}")
    user, label = _requester(requested_by)
    try:
        with transaction.atomic():
            type(tenant).objects.select_for_update().filter(pk=tenant.pk).first()
            existing = TrainingRun.objects.filter(
                tenant=tenant, status__in=TrainingRun.IN_PROGRESS
            ).first()
            if existing is not None:
                raise _conflict(existing)
            run = TrainingRun.objects.create(
                tenant=tenant,
                trigger=trigger,
                requested_by=user,
                requested_by_label=label,
                status=Status.QUEUED,
                dispatch_pending=dispatch,
            )
            if dispatch:
                run_id = run.pk
                transaction.on_commit(lambda: training_run_dispatch(run_id=run_id))
    except IntegrityError as exc:  # lost a race the row lock did not cover
        existing = TrainingRun.objects.filter(
            tenant=tenant, status__in=TrainingRun.IN_PROGRESS
        ).first()
        if existing is None:
            raise
        raise _conflict(existing) from exc
    return run


def _conflict(existing: TrainingRun) -> TrainingConflictError:
    return TrainingConflictError(
        f"tenant already has a {existing.status} training run (id {existing.pk}); "
        "wait for it to finish",
        details={"run_id": existing.pk, "status": existing.status},
    )


def dispatch_lease() -> timedelta:
    """How long a sender's claim on a run lasts before another sender may retry it."""
    return timedelta(seconds=float(settings.M6REC_TRAINING_DISPATCH_LEASE))


def _send(run: TrainingRun) -> None:
    from m6rec.training.tasks import train_tenant

    if settings.M6REC_TRAINING_ROUTING:
        train_tenant.apply_async(args=[run.pk], queue=tenant_queue(tenant_id=run.tenant_id))
    else:
        train_tenant.delay(run.pk)


def training_run_dispatch(*, run_id: int) -> bool:
    """Send ``train_tenant(run_id)`` to the broker (with ``M6REC_TRAINING_ROUTING``, to the
    tenant's queue: ``ops.queues.tenant_queue``).

    Returns whether the message was handed to the broker. The run is claimed first (a
    conditional update of ``dispatched_at``), so concurrent senders (the commit hook, the
    beat task, the sweep) send it once. When the broker cannot be reached (publishing gives up
    after the bounded ``CELERY_TASK_PUBLISH_RETRY_POLICY``), the run keeps, or gets,
    ``dispatch_pending`` and is retried by :func:`training_run_dispatch_pending`; this
    function never raises for it. The outbox: :mod:`m6rec.common.outbox`.
    """
    return outbox.dispatch(model=TrainingRun, pk=run_id, send=_send, what="training run")


def training_run_dispatch_pending(*, now=None, limit: int = 100) -> list[int]:
    """Send the runs still marked ``dispatch_pending`` (the outbox), oldest first.

    A run whose claim is younger than :func:`dispatch_lease` is being sent by someone else and
    is skipped. Stops at the first run that cannot be sent (the broker is down: the next call
    retries). Returns the ids of the runs sent.
    """
    return outbox.dispatch_pending(
        model=TrainingRun,
        dispatch_one=lambda run_id: training_run_dispatch(run_id=run_id),
        lease=dispatch_lease(),
        now=now,
        limit=limit,
    )


def training_run_cancel(*, run: TrainingRun, actor: Any = None) -> TrainingRun:
    """Cancel a queued or running run (a running one stops at its next progress report)."""
    _, label = _requester(actor)
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk, status__in=TrainingRun.IN_PROGRESS).update(
        status=Status.CANCELLED,
        finished_at=now,
        error_message=f"cancelled by {label}",
    )
    run.refresh_from_db()
    return run


def training_run_sync(
    *,
    tenant,
    requested_by: Any = None,
    trigger: str = Trigger.COMMAND,
    overrides: dict | None = None,
) -> TrainingRun:
    """Create a run and execute it in this process (management command, quick start)."""
    run = training_run_create(
        tenant=tenant, trigger=trigger, requested_by=requested_by, dispatch=False
    )
    from m6rec.training.services.execution import training_run_execute

    training_run_execute(run_id=run.pk, overrides=overrides)
    run.refresh_from_db()
    return run
