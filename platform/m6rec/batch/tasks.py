"""Celery tasks (thin: they call :mod:`m6rec.batch.services`)."""

from __future__ import annotations

from celery import shared_task

from m6rec.batch import execution, services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    name="m6rec.batch.tasks.run_batch_job",
)
def run_batch_job(job_id: int) -> str:
    """Run batch job ``job_id`` from its resume point. Idempotent: a job that is not queued
    (running elsewhere, finished, a duplicate delivery) is a no-op."""
    return str(execution.batch_job_execute(job_id=job_id))


@shared_task(name="m6rec.batch.tasks.dispatch_batch_jobs", ignore_result=True)
def dispatch_batch_jobs() -> dict[str, list[int]]:
    """Beat (every few seconds): re-queue jobs whose worker died; send jobs whose message could
    not reach the broker."""
    return services.batch_jobs_sweep()
