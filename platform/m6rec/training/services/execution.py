"""Execute a run: lock, data, features, engine, publish + register + gate; progress."""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from m6rec.ops.queues import queue_for
from m6rec.registry import services as registry_services
from m6rec.registry import storage
from m6rec.training.errors import RunCancelled, TrainingError
from m6rec.training.locks import Heartbeat, TenantTrainingLock
from m6rec.training.models import TrainingRun
from m6rec.training.services.runs import train_config_for

logger = logging.getLogger(__name__)

Status = TrainingRun.Status
Trigger = TrainingRun.Trigger


# ---------------------------------------------------------------------- progress
# overall percent at the start and end of each stage (engine stages in between)
STAGE_SPANS: dict[str, tuple[float, float]] = {
    "data": (0.0, 6.0),
    "features": (6.0, 10.0),
    "split": (10.0, 12.0),
    "tune:itemcf": (12.0, 22.0),
    "tune:mf": (22.0, 40.0),
    "fusion": (40.0, 68.0),
    "compression": (68.0, 78.0),
    "refit": (78.0, 92.0),
    "bundle": (92.0, 96.0),
    "registering": (96.0, 99.0),
}


class ProgressReporter:
    """``progress(stage, fraction)`` callback that writes ``stage``/``progress`` to the run at
    most every ``M6REC_PROGRESS_INTERVAL`` seconds (and on every stage change). Raises
    :class:`RunCancelled` once the run is no longer ``running`` this ``attempt`` (cancelled, or
    re-queued by the sweep after this attempt was taken for lost)."""

    def __init__(
        self,
        run_id: int,
        *,
        interval: float | None = None,
        listener=None,
        attempt: int | None = None,
    ) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.listener = listener
        self.interval = settings.M6REC_PROGRESS_INTERVAL if interval is None else interval
        self.stage = ""
        self.percent = 0.0
        self._written = 0.0
        self.stage_started: dict[str, float] = {}
        self.lock_lost = False

    def __call__(self, stage: str, fraction: float) -> None:
        if self.lock_lost:
            raise TrainingError("lost the tenant's training lock (expired); aborting this run")
        lo, hi = STAGE_SPANS.get(stage, (self.percent, self.percent))
        percent = max(self.percent, lo + (hi - lo) * min(max(float(fraction), 0.0), 1.0))
        changed = stage != self.stage
        if changed:
            self.stage_started.setdefault(stage, time.monotonic())
        self.stage, self.percent = stage, min(percent, 99.0)
        if self.listener is not None:
            self.listener(self.stage, self.percent)
        now = time.monotonic()
        if changed or now - self._written >= self.interval:
            self._written = now
            self.write()

    def _ours(self):
        """This run while it is running this attempt (a fence against a stale attempt)."""
        return _running(self.run_id, self.attempt)

    def write(self) -> None:
        updated = self._ours().update(
            stage=self.stage[:64],
            progress=round(self.percent, 1),
            heartbeat_at=timezone.now(),
        )
        if not updated:
            raise RunCancelled("the run was cancelled (or re-queued: this attempt was lost)")

    def heartbeat(self) -> None:
        self._ours().update(heartbeat_at=timezone.now())

    def timings(self) -> dict[str, float]:
        marks = sorted(self.stage_started.items(), key=lambda kv: kv[1])
        if not marks:
            return {}
        ends = [start for _, start in marks[1:]] + [time.monotonic()]
        return {name: round(end - start, 3) for (name, start), end in zip(marks, ends, strict=True)}


# ---------------------------------------------------------------------- execute
class Outcome(StrEnum):
    DONE = "done"  # ran (succeeded, failed or cancelled)
    NOOP = "noop"  # not queued (already handled, cancelled) or missing
    LOCKED = "locked"  # another process holds the tenant's lock: try again later


def _max_attempts() -> int:
    return int(settings.M6REC_TRAINING_MAX_ATTEMPTS)


def _running(run_id: int, attempt: int | None = None):
    runs = TrainingRun.objects.filter(pk=run_id, status=Status.RUNNING)
    return runs if attempt is None else runs.filter(attempts=attempt)


def training_run_execute(
    *, run_id: int, overrides: dict | None = None, on_progress=None
) -> Outcome:
    """Execute a queued run (the body of the Celery task). Idempotent: a run that is not
    queued is left alone, except a ``running`` run whose worker died (the lock is free):
    it is restarted while attempts remain, else failed. ``overrides``: engine TrainConfig
    fields for this run only (e.g. ``{"time_budget_s": 20}``). ``on_progress(stage, percent)``
    is called on every progress report (e.g. a progress bar)."""
    run = TrainingRun.objects.select_related("tenant").filter(pk=run_id).first()
    if run is None or run.status not in TrainingRun.IN_PROGRESS:
        return Outcome.NOOP
    lock = TenantTrainingLock(run.tenant_id)
    if not lock.acquire():
        logger.info("run %s: tenant %s is locked by another worker", run_id, run.tenant_id)
        return Outcome.LOCKED
    try:
        now = timezone.now()
        claim = {
            "status": Status.RUNNING,
            "started_at": now,
            "heartbeat_at": now,
            "finished_at": None,
            "attempts": F("attempts") + 1,
            "worker": f"{socket.gethostname()}"[:200],
            "stage": "starting",
            "progress": 0.0,
        }
        if not TrainingRun.objects.filter(pk=run_id, status=Status.QUEUED).update(**claim):
            run.refresh_from_db()
            if run.status != Status.RUNNING:
                return Outcome.NOOP
            # we hold the lock, so the worker that set "running" is gone
            if run.attempts >= _max_attempts():
                _finish_failed(
                    run_id,
                    f"worker lost mid-run after {run.attempts} attempt(s) (killed or timed "
                    "out); not retried",
                )
                return Outcome.DONE
            TrainingRun.objects.filter(pk=run_id, status=Status.RUNNING).update(**claim)
        run.refresh_from_db()
        _execute_claimed(run, lock, overrides=overrides, on_progress=on_progress)
        return Outcome.DONE
    finally:
        lock.release()


def _finish_failed(
    run_id: int, message: str, *, timings: dict | None = None, attempt: int | None = None
) -> None:
    fields: dict[str, Any] = {
        "status": Status.FAILED,
        "finished_at": timezone.now(),
        "error_message": message[:10_000],
    }
    if timings is not None:
        fields["timings"] = timings
    _running(run_id, attempt).update(**fields)


def _observe(seconds: float, outcome: str, queue: str | None) -> None:
    try:
        from m6rec.ops.metrics import observe_training
    except ImportError:
        return
    try:
        observe_training(seconds=seconds, outcome=outcome, queue=queue)
    except Exception:  # noqa: BLE001 - metrics never break training
        logger.exception("observe_training failed")


def _require_training_stack() -> None:
    """A web/serving install (``pip install m6rec``) cannot train: fail the run at once, with
    the install command in its error, rather than deep in the engine."""
    from engine.deps import TrainingStackMissing, require_training_stack

    try:
        require_training_stack("training a model")
    except TrainingStackMissing as exc:
        raise TrainingError(str(exc)) from exc


def _tenant_domain(tenant):
    try:
        from m6rec.plugins.registry import get_domain
    except ImportError:
        return None
    try:
        return get_domain(tenant.domain)
    except Exception as exc:  # noqa: BLE001 - UnknownDomainError and friends
        raise TrainingError(
            f'tenant "{tenant.slug}": domain plugin "{tenant.domain}" is not available: {exc}'
        ) from exc


def _execute_claimed(
    run: TrainingRun, lock: TenantTrainingLock, *, overrides: dict | None = None, on_progress=None
) -> None:
    from engine.pipeline import train_bundle
    from m6rec.training.dataset import load_tenant_dataset
    from m6rec.training.services.recovery import staging_label, training_staging_gc

    tenant = run.tenant
    attempt = run.attempts
    reporter = ProgressReporter(run.pk, listener=on_progress, attempt=attempt)
    started = time.monotonic()
    staging: Path | None = None
    published_uri: str | None = None
    queue = None
    timings: dict[str, float] = {}
    try:
        with Heartbeat(lock, reporter.heartbeat) as heartbeat:

            def progress(stage: str, fraction: float) -> None:
                reporter.lock_lost = heartbeat.lost
                reporter(stage, fraction)

            _require_training_stack()
            domain = _tenant_domain(tenant)
            progress("data", 0.0)
            dataset = load_tenant_dataset(tenant=tenant, domain=domain, progress=progress)
            TrainingRun.objects.filter(pk=run.pk).update(
                data_counts=dataset.counts, interactions_seen=dataset.interactions_total
            )
            queue = queue_for(dataset.interactions_total)
            with contextlib.suppress(Exception):  # earlier, lost attempts' leftovers
                training_staging_gc()
            staging = storage.bundle_staging_dir(
                tenant_slug=tenant.slug, label=staging_label(run_id=run.pk, attempt=attempt)
            )
            bundle_dir = staging / "bundle"
            manifest = train_bundle(
                dataset.data,
                bundle_dir,
                item_features=dataset.item_features,
                user_features=dataset.user_features,
                config=train_config_for(tenant=tenant, overrides=overrides),
                progress=progress,
            )
            progress("registering", 0.0)
        timings = {**reporter.timings(), "engine": manifest.get("timings_s", {})}
        with transaction.atomic():
            type(tenant).objects.select_for_update().get(pk=tenant.pk)
            current = TrainingRun.objects.select_for_update().get(pk=run.pk)
            if current.status != Status.RUNNING or current.attempts != attempt:
                raise RunCancelled("the run was cancelled (or re-queued) before registration")
            number = registry_services.version_next_number(tenant=tenant)
            manifest_sha = storage.manifest_sha256(bundle_dir)
            published_uri = storage.bundle_publish(
                staging_dir=bundle_dir, tenant_slug=tenant.slug, number=number
            )
            version = registry_services.version_create(
                tenant=tenant,
                number=number,
                bundle_uri=published_uri,
                bundle_sha256=manifest_sha,
                metrics=manifest.get("metrics", {}),
                hyperparameters=manifest.get("hyperparameters", {}),
                data_counts={**dataset.counts, **(manifest.get("data") or {})},
                run=current,
            )
            decision = registry_services.version_apply_gate(version=version)
            timings["total"] = round(time.monotonic() - started, 3)
            current.status = Status.SUCCEEDED
            current.version = version
            current.stage = "done"
            current.progress = 100.0
            current.finished_at = timezone.now()
            current.timings = timings
            current.gate_decision = ("promoted: " if decision.promoted else "kept: ") + (
                decision.reason
            )
            current.save(
                update_fields=[
                    "status",
                    "version",
                    "stage",
                    "progress",
                    "finished_at",
                    "timings",
                    "gate_decision",
                ]
            )
        published_uri = None  # committed: the bundle belongs to the version now
        logger.info(
            "run %s: tenant %s v%s registered (%s)",
            run.pk,
            tenant.slug,
            version.number,
            current.gate_decision,
        )
        _observe(time.monotonic() - started, "succeeded", queue)
    except BaseException as exc:
        timings = timings or reporter.timings()
        timings["total"] = round(time.monotonic() - started, 3)
        if published_uri is not None:
            storage.bundle_discard(uri=published_uri)
        if isinstance(exc, RunCancelled):
            TrainingRun.objects.filter(pk=run.pk).update(timings=timings)
            _observe(time.monotonic() - started, "cancelled", queue)
            logger.info("run %s cancelled", run.pk)
            return
        if isinstance(exc, TrainingError):
            message = exc.message
        elif isinstance(exc, Exception):
            message = f"{type(exc).__name__}: {exc}"
        else:
            message = f"interrupted ({type(exc).__name__}): the worker shut down mid-run"
        _finish_failed(run.pk, message, timings=timings, attempt=attempt)
        _observe(time.monotonic() - started, "failed", queue)
        logger.warning("run %s failed: %s", run.pk, message, exc_info=isinstance(exc, Exception))
        if not isinstance(exc, Exception):
            raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
