"""Batch jobs survive interruptions: an attempt that fails, is interrupted or whose worker dies
is continued after the last part written (no user twice, none skipped); a stale attempt cannot
write over the job; a job is not lost while the broker is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from m6rec.batch import execution, services
from m6rec.batch.models import BatchJob
from tests.m6rec.batch.conftest import job_lines
from tests.m6rec.serving._data import N_USERS

ALL = [f"u{n}" for n in range(N_USERS)]


class Boom(RuntimeError):
    pass


def _failing_after(monkeypatch, calls: int, exc: BaseException, before=None):
    """Make the ``calls + 1``-th line raise ``exc`` (``before(n)`` runs on every call)."""
    real = execution.recommendation_line
    seen: list[str] = []

    def line(*, tenant, user_id, job):
        if before is not None:
            before(len(seen))
        if len(seen) == calls:
            raise exc
        seen.append(user_id)
        return real(tenant=tenant, user_id=user_id, job=job)

    monkeypatch.setattr(execution, "recommendation_line", line)
    return seen


def _reference(tenant, k=5) -> list[dict]:
    """The lines of an uninterrupted job (then removed, so the tenant is free again)."""
    job = execution.batch_job_sync(tenant=tenant, k=k)
    lines = job_lines(job)
    job.delete()
    return lines


def test_a_failed_attempt_is_continued_after_the_last_part(tenant, monkeypatch):
    expected = _reference(tenant)
    job = services.batch_job_create(tenant=tenant, k=5, dispatch=False)
    _failing_after(monkeypatch, 30, Boom("model exploded"))
    assert execution.batch_job_execute(job_id=job.pk) == execution.Outcome.DONE
    job.refresh_from_db()
    assert job.status == "queued" and job.dispatch_pending  # back in the outbox
    assert (job.users_done, len(job.parts), job.attempts) == (25, 1, 1)
    assert "attempt 1: Boom: model exploded" in job.error_message
    monkeypatch.undo()
    seen = _failing_after(monkeypatch, 10**6, Boom())
    execution.batch_job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2 and job.error_message == ""
    assert seen == ALL[25:]  # nobody computed twice
    assert job_lines(job) == expected


def test_an_interrupted_sync_run_is_requeued_and_resumed(tenant, monkeypatch):
    job = services.batch_job_create(tenant=tenant, k=3, user_ids=ALL[:60], dispatch=False)
    _failing_after(monkeypatch, 55, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        execution.batch_job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.users_done, len(job.parts)) == ("queued", 50, 2)
    monkeypatch.undo()
    execution.batch_job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert [line["user_id"] for line in job_lines(job)] == ALL[:60]


def test_a_lost_worker_is_recovered_then_failed_when_attempts_are_spent(
    tenant, monkeypatch, settings
):
    settings.M6REC_BATCH_MAX_ATTEMPTS = 3
    job = services.batch_job_create(tenant=tenant, k=2, dispatch=False)
    _failing_after(monkeypatch, 26, Boom())
    execution.batch_job_execute(job_id=job.pk)
    monkeypatch.undo()
    # attempt 2 "dies" (SIGKILL): running, its heartbeat stops
    old = timezone.now() - timedelta(hours=1)
    BatchJob.objects.filter(pk=job.pk).update(status="running", attempts=2, heartbeat_at=old)
    assert services.batch_job_recover_lost() == [job.pk]
    job.refresh_from_db()
    assert job.status == "queued" and job.dispatch_pending
    assert "worker lost" in job.error_message
    assert services.batch_job_recover_lost() == []  # only once
    execution.batch_job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 3
    lines = job_lines(job)
    assert [line["user_id"] for line in lines] == ALL
    # a third lost attempt is the last one
    other = services.batch_job_create(tenant=tenant, k=2, dispatch=False)
    BatchJob.objects.filter(pk=other.pk).update(status="running", attempts=3, heartbeat_at=old)
    assert services.batch_job_recover_lost() == [other.pk]
    other.refresh_from_db()
    assert other.status == "failed" and "not retried" in other.error_message


def test_a_stale_attempt_cannot_write_over_the_job(tenant, monkeypatch):
    expected = _reference(tenant)
    job = services.batch_job_create(tenant=tenant, k=5, dispatch=False)

    def sweep_mid_chunk(n: int) -> None:
        if n == 30:  # attempt 1 looks dead to the sweep while it is computing part 2
            old = timezone.now() - timedelta(hours=1)
            BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=old)
            assert services.batch_job_recover_lost() == [job.pk]

    _failing_after(monkeypatch, 10**6, Boom(), before=sweep_mid_chunk)
    assert execution.batch_job_execute(job_id=job.pk) == execution.Outcome.DONE
    job.refresh_from_db()
    assert (job.status, job.users_done, len(job.parts)) == ("queued", 25, 1)
    monkeypatch.undo()
    execution.batch_job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job_lines(job) == expected


def test_a_redelivered_message_is_a_no_op(tenant):
    job = execution.batch_job_sync(tenant=tenant, k=2, user_ids=["u1"])
    assert execution.batch_job_execute(job_id=job.pk) == execution.Outcome.NOOP
    assert execution.batch_job_execute(job_id=10**9) == execution.Outcome.NOOP


def test_a_job_waits_in_the_outbox_while_the_broker_is_down(
    tenant, monkeypatch, django_capture_on_commit_callbacks
):
    from m6rec.batch import tasks

    sent = []

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.run_batch_job, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.batch_job_create(tenant=tenant, k=2)
    job.refresh_from_db()
    assert job.status == "queued" and job.dispatch_pending and job.dispatched_at is None
    assert services.batch_job_dispatch_pending() == []
    monkeypatch.setattr(
        tasks.run_batch_job, "apply_async", lambda args, queue: sent.append((args, queue))
    )
    assert services.batch_jobs_sweep() == {"recovered": [], "sent": [job.pk]}
    assert sent == [([job.pk], "small")]
    job.refresh_from_db()
    assert not job.dispatch_pending
    assert services.batch_job_dispatch_pending() == []  # sent once
