"""Celery tasks (thin: they call :mod:`m6rec.training.services`)."""

from __future__ import annotations

from celery import shared_task

from m6rec.training import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=10,
    name="m6rec.training.tasks.train_tenant",
)
def train_tenant(self, run_id: int) -> str:
    """Execute training run ``run_id``. Idempotent: a run that is not queued is a no-op.

    When another worker holds the tenant's lock (a duplicate delivery while the first is still
    running, or the lock of a worker that just died), retry later: by then the run is finished
    (no-op) or the lock has expired (restart or fail, see ``training_run_execute``).
    """
    outcome = services.training_run_execute(run_id=run_id)
    if outcome == services.Outcome.LOCKED:
        raise self.retry(countdown=max(5, services.lock_timeout() // 3))
    return str(outcome)


@shared_task(name="m6rec.training.tasks.schedule_training", ignore_result=True)
def schedule_training() -> list[int]:
    """Beat: queue runs for tenants due by schedule or new-interaction threshold."""
    return [run.pk for run in services.training_schedule_due()]


@shared_task(name="m6rec.training.tasks.sweep_stuck_runs", ignore_result=True)
def sweep_stuck_runs() -> list[int]:
    """Beat: fail runs whose worker died; re-send queued runs that were never picked up."""
    return services.training_run_sweep_stuck()


@shared_task(name="m6rec.training.tasks.dispatch_training_runs", ignore_result=True)
def dispatch_training_runs() -> list[int]:
    """Beat (every few seconds): send runs whose message could not reach the broker."""
    return services.training_run_dispatch_pending()
