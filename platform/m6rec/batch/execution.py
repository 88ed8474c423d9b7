"""Execute a batch job: claim it, write one gzip part per chunk of users, assemble the output.

Lines are computed by the serving code path (:func:`m6rec.serving.services.recommend_for_user`),
so a line equals the API's response for that user at that moment (items, order, scores,
``model_version``, ``strategy``; an experiment's arm included). One JSON object per line::

    {"user_id": "u1", "items": [{"item_id": "i9", "score": 0.83}, ...],
     "model_version": 3, "strategy": "model"}

Resuming: the job row keeps the parts written and the resume point (the list position, or the
last end-user row id for "every user"), updated with each part in one fenced update; a new
attempt continues after it, so a user is never written twice nor skipped.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from m6rec.batch import selectors, storage
from m6rec.batch.errors import BatchAttemptLost
from m6rec.batch.models import BatchJob
from m6rec.batch.services import batch_job_create, batch_job_requeue_or_fail

logger = logging.getLogger(__name__)

Status = BatchJob.Status
Progress = Callable[[int, int | None], None]


class Outcome(StrEnum):
    DONE = "done"  # ran this attempt (succeeded, failed, re-queued or lost)
    NOOP = "noop"  # not queued (running elsewhere, finished) or missing


def _chunk_users() -> int:
    return max(1, int(settings.M6REC_BATCH_CHUNK_USERS))


def _chunk_seconds() -> float:
    return float(settings.M6REC_BATCH_CHUNK_SECONDS)


def _claim(job_id: int) -> BatchJob | None:
    """queued → running (attempt + 1); on the first attempt fix what "every user" means and
    the model version. ``None`` when the job is not queued."""
    from m6rec.registry.selectors import version_get_active_number

    now = timezone.now()
    with transaction.atomic():
        job = (
            BatchJob.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk=job_id, status=Status.QUEUED)
            .first()
        )
        if job is None:
            return None
        job.status = Status.RUNNING
        job.attempts = F("attempts") + 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.dispatch_pending = False
        job.worker = f"{socket.gethostname()}:{os.getpid()}"[:200]
        if job.all_users and job.max_user_pk is None:
            job.users_total, job.max_user_pk = selectors.user_bounds(tenant=job.tenant)
        if job.model_version is None and not job.parts:
            job.model_version = version_get_active_number(tenant_id=job.tenant_id)
        job.save()
        job.refresh_from_db()
    return job


def batch_job_execute(*, job_id: int, on_progress: Progress | None = None) -> Outcome:
    """Run a queued job (the Celery task's body) from its resume point to the end.

    ``on_progress(users_done, users_total)`` is called after each part (a progress bar). An
    error re-queues the job to continue later (or fails it when attempts are spent).
    """
    job = _claim(job_id)
    if job is None:
        return Outcome.NOOP
    attempt = job.attempts
    logger.info("batch job %s: attempt %s from user %s", job.pk, attempt, job.users_done)
    try:
        _write_parts(job, attempt, on_progress)
        _assemble(job, attempt)
    except BatchAttemptLost:
        logger.warning("batch job %s: attempt %s lost the job; stopped", job.pk, attempt)
    except BaseException as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            reason = "interrupted"
        batch_job_requeue_or_fail(job=job, reason=reason)
        if not isinstance(exc, Exception):
            raise
        logger.exception("batch job %s: attempt %s failed", job.pk, attempt)
    return Outcome.DONE


def _ours(job: BatchJob, attempt: int):
    return BatchJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=attempt)


def _next_users(job: BatchJob) -> list[tuple[int | None, str]]:
    """The next chunk: (end-user row id or None, user id) after the resume point."""
    size = _chunk_users()
    if not job.all_users:
        return [(None, u) for u in job.user_ids[job.users_done : job.users_done + size]]
    rows = selectors.users_after(
        tenant=job.tenant, after_pk=job.cursor, up_to_pk=job.max_user_pk or 0, limit=size
    )
    return [(pk, user_id) for pk, user_id in rows]


def recommendation_line(*, tenant, user_id: str, job: BatchJob) -> tuple[str, bool]:
    """One output line (JSON text) and whether popularity served it.

    An export shows nothing to anyone: its lines count no impressions.
    """
    from m6rec.serving.services import POPULARITY, recommend_for_user

    result = recommend_for_user(
        tenant=tenant,
        user_id=user_id,
        k=job.k,
        exclude_seen=job.exclude_seen,
        category=job.category or None,
        explain=False,  # explanations never change the items; skip their cost
        count_impressions=False,
    )
    line = {
        "user_id": user_id,
        "items": [{"item_id": c.item_id, "score": float(c.score)} for c in result.items],
        "model_version": result.model_version,
        "strategy": result.strategy,
    }
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text, result.strategy == POPULARITY


def _write_parts(job: BatchJob, attempt: int, on_progress: Progress | None) -> None:
    slug = job.tenant.slug
    if on_progress is not None:
        on_progress(job.users_done, job.users_total)
    while True:
        batch = _next_users(job)
        if not batch:
            return
        started = time.monotonic()
        lines: list[str] = []
        popular = 0
        last_pk = job.cursor
        for pk, user_id in batch:
            text, popularity = recommendation_line(tenant=job.tenant, user_id=user_id, job=job)
            lines.append(text)
            popular += popularity
            if pk is not None:
                last_pk = pk
            if time.monotonic() - started >= _chunk_seconds():
                break  # a short part: the heartbeat must not wait for a slow chunk
        name = storage.part_name(
            tenant_slug=slug, job_id=job.pk, index=len(job.parts), attempt=attempt
        )
        storage.part_write(name=name, lines=lines)
        parts = [*job.parts, name]
        done = job.users_done + len(lines)
        if not _ours(job, attempt).update(
            parts=parts,
            users_done=done,
            popularity_users=job.popularity_users + popular,
            cursor=last_pk,
            heartbeat_at=timezone.now(),
        ):
            raise BatchAttemptLost(f"job {job.pk} is no longer running attempt {attempt}")
        job.parts, job.users_done, job.cursor = parts, done, last_pk
        job.popularity_users += popular
        if on_progress is not None:
            on_progress(job.users_done, job.users_total)


def _assemble(job: BatchJob, attempt: int) -> None:
    slug = job.tenant.slug
    uri = storage.output_name(tenant_slug=slug, job_id=job.pk)
    sha, size = storage.output_assemble(parts=job.parts, name=uri)
    if not _ours(job, attempt).update(
        status=Status.SUCCEEDED,
        output_uri=uri,
        sha256=sha,
        size_bytes=size,
        users_total=job.users_done,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        error_message="",
    ):
        raise BatchAttemptLost(f"job {job.pk} is no longer running attempt {attempt}")
    storage.parts_remove(tenant_slug=slug, job_id=job.pk)
    logger.info("batch job %s: %s users written to %s", job.pk, job.users_done, uri)


def batch_job_sync(
    *,
    tenant,
    k: int = 10,
    user_ids: list[str] | None = None,
    exclude_seen: bool = True,
    category: str | None = None,
    requested_by=None,
    on_progress: Progress | None = None,
) -> BatchJob:
    """Create a job and run it in this process (the command's ``--sync``)."""
    job = batch_job_create(
        tenant=tenant,
        k=k,
        user_ids=user_ids,
        exclude_seen=exclude_seen,
        category=category,
        requested_by=requested_by,
        dispatch=False,
    )
    batch_job_execute(job_id=job.pk, on_progress=on_progress)
    job.refresh_from_db()
    return job
