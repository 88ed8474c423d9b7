"""Create batch jobs, hand them to the broker (transactional outbox), recover lost attempts.

Life of a job::

    batch_job_create()  ── queued, dispatch_pending ──(on commit)──> run_batch_job.delay(job_id)
                        (broker down: stays dispatch_pending; the dispatch_batch_jobs beat task
                        sends it every few seconds once the broker is back)
    batch_job_execute() ── running ── one gzip part per chunk of users, the resume point
                        advanced with each part ── the parts concatenated ── succeeded | failed

An attempt is alive while it heartbeats (every part written, at least every
``M6REC_BATCH_CHUNK_SECONDS``). A worker killed mid-job stops it; once the heartbeat is older
than ``M6REC_BATCH_STALE_S`` the beat task re-queues the job, and the next attempt continues
after the last part written (up to ``M6REC_BATCH_MAX_ATTEMPTS``, then the job fails). A
redelivered message of a job that is running or done is a no-op.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from m6rec.batch.errors import BatchConflictError, BatchError
from m6rec.batch.models import BatchJob
from m6rec.common import outbox
from m6rec.common.errors import quoted
from m6rec.common.validation import RowError, clean_id
from m6rec.ops.queues import tenant_queue

logger = logging.getLogger(__name__)

Status = BatchJob.Status
MAX_K = 100
MAX_LISTED_USERS = 100_000
DISPATCH_LEASE_S = 30.0  # a sender's claim on a job; after it, another sender may retry


def max_attempts() -> int:
    return int(settings.M6REC_BATCH_MAX_ATTEMPTS)


def stale_after() -> timedelta:
    return timedelta(seconds=float(settings.M6REC_BATCH_STALE_S))


# ---------------------------------------------------------------------- create
def batch_job_create(
    *,
    tenant,
    k: int = 10,
    user_ids: list[str] | None = None,
    exclude_seen: bool = True,
    category: str | None = None,
    requested_by: Any = None,
    dispatch: bool = True,
) -> BatchJob:
    """Queue a batch job for ``tenant``: top-``k`` for ``user_ids`` (duplicates dropped, order
    kept) or, with ``None``, every user the tenant has when the job starts.

    The task is sent when the transaction commits; while the broker is unreachable the job
    stays marked and :func:`batch_job_dispatch_pending` sends it later. Raises
    :class:`BatchConflictError` (API: 409) when the tenant already has a job in progress.
    """
    from m6rec.registry.services import actor_label

    if not 1 <= int(k) <= MAX_K:
        raise BatchError(f"k must be between 1 and {MAX_K}")
    listed = None if user_ids is None else list(dict.fromkeys(user_ids))
    if listed is not None and not 1 <= len(listed) <= MAX_LISTED_USERS:
        raise BatchError(f"list 1..{MAX_LISTED_USERS} user ids, or none for every user")
    for n, user_id in enumerate(listed or ()):
        try:
            clean_id(user_id, what="user id")
        except RowError as exc:
            raise BatchError(f"user id {n + 1} ({quoted(user_id)}): {exc}") from None
    label, _ = actor_label(requested_by)
    try:
        with transaction.atomic():
            type(tenant).objects.select_for_update().filter(pk=tenant.pk).first()
            existing = BatchJob.objects.filter(
                tenant=tenant, status__in=BatchJob.IN_PROGRESS
            ).first()
            if existing is not None:
                raise _conflict(existing)
            job = BatchJob.objects.create(
                tenant=tenant,
                k=int(k),
                all_users=listed is None,
                user_ids=listed,
                users_total=len(listed) if listed is not None else None,
                exclude_seen=bool(exclude_seen),
                category=category or "",
                requested_by_label=label,
                dispatch_pending=dispatch,
            )
            if dispatch:
                job_id = job.pk
                transaction.on_commit(lambda: batch_job_dispatch(job_id=job_id))
    except IntegrityError as exc:  # lost a race the row lock did not cover
        existing = BatchJob.objects.filter(tenant=tenant, status__in=BatchJob.IN_PROGRESS).first()
        if existing is None:
            raise
        raise _conflict(existing) from exc
    return job


def _conflict(existing: BatchJob) -> BatchConflictError:
    return BatchConflictError(
        f"tenant already has a {existing.status} batch job (id {existing.pk}); wait for it "
        "to finish",
        details={"job_id": existing.pk, "status": existing.status},
    )


# ---------------------------------------------------------------------- dispatch (outbox)
def _send(job: BatchJob) -> None:
    from m6rec.batch.tasks import run_batch_job

    # the queue of the tenant's size: a large tenant's export never delays a small tenant's work
    run_batch_job.apply_async(args=[job.pk], queue=tenant_queue(tenant_id=job.tenant_id))


def batch_job_dispatch(*, job_id: int) -> bool:
    """Send ``run_batch_job(job_id)`` to the broker; returns whether it was handed over.

    Claimed first (a conditional update of ``dispatched_at``) so concurrent senders send it
    once. A broker outage leaves the job ``dispatch_pending`` (never raises for it).
    """
    return outbox.dispatch(model=BatchJob, pk=job_id, send=_send, what="batch job")


def batch_job_dispatch_pending(*, now=None, limit: int = 100) -> list[int]:
    """Send the jobs still marked ``dispatch_pending``, oldest first; stops at the first one
    the broker refuses. Returns the ids sent."""
    return outbox.dispatch_pending(
        model=BatchJob,
        dispatch_one=lambda job_id: batch_job_dispatch(job_id=job_id),
        lease=timedelta(seconds=DISPATCH_LEASE_S),
        now=now,
        limit=limit,
    )


# ---------------------------------------------------------------------- recovery
def batch_job_requeue_or_fail(*, job: BatchJob, reason: str, now=None) -> bool:
    """Put a running job back in the queue (to dispatch) to continue where it stopped, or fail
    it when its attempts are spent. Fenced on the attempt; returns whether it changed."""
    now = now or timezone.now()
    same = BatchJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=job.attempts)
    if job.attempts >= max_attempts():
        return bool(
            same.update(
                status=Status.FAILED,
                finished_at=now,
                error_message=f"{reason}; {job.attempts} attempt(s), not retried"[:10_000],
            )
        )
    return bool(
        same.update(
            status=Status.QUEUED,
            dispatch_pending=True,
            dispatched_at=None,
            error_message=f"attempt {job.attempts}: {reason}; continues after the last part"[
                :10_000
            ],
        )
    )


def batch_job_recover_lost(*, now=None) -> list[int]:
    """Re-queue (or fail) running jobs whose heartbeat is older than ``M6REC_BATCH_STALE_S``
    (their worker died). Returns their ids."""
    now = now or timezone.now()
    handled = []
    lost = BatchJob.objects.filter(status=Status.RUNNING, heartbeat_at__lt=now - stale_after())
    for job in lost.only("pk", "attempts", "heartbeat_at"):
        since = f"{job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
        if batch_job_requeue_or_fail(job=job, reason=f"worker lost (no heartbeat since {since})"):
            logger.warning("batch job %s: attempt %s lost", job.pk, job.attempts)
            handled.append(job.pk)
    return handled


def batch_jobs_sweep() -> dict[str, list[int]]:
    """Beat: recover lost attempts, then send what waits in the outbox."""
    recovered = batch_job_recover_lost()
    return {"recovered": recovered, "sent": batch_job_dispatch_pending()}
