"""Lost training attempts: detect them within a bound, re-queue or fail them, and collect the
staging directories they left behind.

An attempt is alive while it heartbeats: every ``M6REC_TRAINING_HEARTBEAT_S`` (10) seconds its
worker extends the tenant's lock (expiry ``M6REC_TRAINING_LOCK_TIMEOUT``, 60 s) and stamps
``heartbeat_at``. A worker killed mid-run (SIGKILL, OOM, a lost host) stops both; once the
heartbeat is older than the lock timeout and the lock has expired, the sweep (every
``M6REC_TRAINING_SWEEP_INTERVAL`` = 15 s in every worker's main process, see
:mod:`m6rec.training.signals`, and as beat's task; also at each worker's start-up) re-queues
the run for another attempt, or fails it after ``M6REC_TRAINING_MAX_ATTEMPTS``. **Bound:** a
lost attempt is re-queued at most lock timeout + sweep interval (60 + 15 = 75 s) after its last
heartbeat, i.e. within ~75 s of the kill, and sent to the broker at once.

Each attempt stages its bundle in ``<bundles>/.staging/<slug>-run<id>a<attempt>-<random>``;
a directory whose run is no longer running that attempt is removed by the sweep (on each worker
host) and at the start of every attempt.
"""

from __future__ import annotations

import logging
import re
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from m6rec.registry import storage
from m6rec.training.locks import lock_is_held, lock_timeout
from m6rec.training.models import TrainingRun

logger = logging.getLogger(__name__)

Status = TrainingRun.Status
# "<slug>-run<id>a<attempt>-<mkdtemp suffix>" (older code wrote "<slug>-run<id>-<suffix>")
_STAGING_NAME = re.compile(r"-run(\d+)(?:a(\d+))?-[A-Za-z0-9_]+$")


def max_attempts() -> int:
    return int(settings.M6REC_TRAINING_MAX_ATTEMPTS)


def staging_label(*, run_id: int, attempt: int) -> str:
    """The staging directory label of one attempt (parsed back by the collector)."""
    return f"run{run_id}a{attempt}"


def training_run_recover_lost(*, now=None) -> list[int]:
    """Re-queue (or, out of attempts, fail) running runs whose attempt was lost: heartbeat
    older than the lock timeout and nobody holds the tenant's lock. A re-queued run is marked
    to dispatch (the outbox; :func:`training_run_sweep_stuck` sends it right after). Returns
    their ids."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=lock_timeout())
    handled: list[int] = []
    lost = TrainingRun.objects.filter(status=Status.RUNNING, heartbeat_at__lt=stale)
    for run in lost.only("pk", "tenant_id", "heartbeat_at", "attempts"):
        if lock_is_held(run.tenant_id):
            continue  # alive (or its lock not expired yet)
        same_attempt = TrainingRun.objects.filter(
            pk=run.pk, status=Status.RUNNING, heartbeat_at=run.heartbeat_at, attempts=run.attempts
        )
        since = f"{run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
        if run.attempts >= max_attempts():
            updated = same_attempt.update(
                status=Status.FAILED,
                finished_at=now,
                error_message=(
                    f"worker lost: no heartbeat since {since} and the tenant lock expired "
                    f"(worker killed?) after {run.attempts} attempt(s); start a new run"
                ),
            )
            if updated:
                logger.warning("run %s failed by the sweep (attempt %s lost)", run.pk, run.attempts)
                handled.append(run.pk)
            continue
        updated = same_attempt.update(
            status=Status.QUEUED,
            stage=f"re-queued: attempt {run.attempts} lost"[:64],
            progress=0.0,
            dispatch_pending=True,
            dispatched_at=None,
        )
        if updated:
            logger.warning(
                "run %s re-queued by the sweep: attempt %s lost (no heartbeat since %s)",
                run.pk,
                run.attempts,
                since,
            )
            handled.append(run.pk)  # in the outbox: the sweep sends it right after
    return handled


def training_staging_gc() -> list[Path]:
    """Remove this host's staging directories of attempts that are not running any more.
    Returns the removed paths."""
    found: dict[Path, tuple[int, int | None]] = {}
    for path in storage.bundle_staging_dirs():
        match = _STAGING_NAME.search(path.name)
        if match:
            found[path] = (int(match[1]), int(match[2]) if match[2] else None)
    if not found:
        return []
    running = dict(
        TrainingRun.objects.filter(
            pk__in={run_id for run_id, _ in found.values()}, status=Status.RUNNING
        ).values_list("pk", "attempts")
    )
    removed: list[Path] = []
    for path, (run_id, attempt) in found.items():
        if run_id in running and attempt in (None, running[run_id]):
            continue  # the live attempt's (or an old-style name of a running run)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if removed:
        logger.info("removed %d staging directories of lost attempts", len(removed))
    return removed
