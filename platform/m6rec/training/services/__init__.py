"""Training services: create and dispatch runs, execute one, sweep stuck runs, schedule.

Life of a run::

    training_run_create()  ── queued, dispatch_pending ──(on commit)──> train_tenant.delay(run_id)
                           (broker down: stays dispatch_pending; training_run_dispatch_pending()
                           sends it from beat every few seconds once the broker is back)
    training_run_execute() ── running ── data → features → engine → publish bundle
                           ── register ModelVersion (candidate) + quality gate, one transaction
                           ── succeeded | failed | cancelled

One run per tenant at a time: a partial unique index on ``(tenant) WHERE status IN
('queued', 'running')`` rejects a second request, and a per-tenant Redis lock with expiry
(extended by a heartbeat thread) guards execution. A worker killed mid-run stops the
heartbeat; once the lock has expired :func:`training_run_sweep_stuck` (beat task and worker
start-up) re-queues the run within a bound (see :mod:`~m6rec.training.services.recovery`), or a
redelivered task restarts it (up to ``M6REC_TRAINING_MAX_ATTEMPTS``, then the run fails).
No version is ever half-registered: the bundle is published and the version row written in the
same transaction (the bundle is deleted again when that transaction fails).
"""

from m6rec.training.locks import lock_timeout
from m6rec.training.services.execution import (
    STAGE_SPANS,
    Outcome,
    ProgressReporter,
    training_run_execute,
)
from m6rec.training.services.runs import (
    train_config_for,
    training_run_cancel,
    training_run_create,
    training_run_dispatch,
    training_run_dispatch_pending,
    training_run_sync,
)
from m6rec.training.services.scheduling import training_run_sweep_stuck, training_schedule_due

__all__ = [
    "STAGE_SPANS",
    "Outcome",
    "ProgressReporter",
    "lock_timeout",
    "train_config_for",
    "training_run_cancel",
    "training_run_create",
    "training_run_dispatch",
    "training_run_dispatch_pending",
    "training_run_execute",
    "training_run_sweep_stuck",
    "training_run_sync",
    "training_schedule_due",
]
