"""Lost training attempts (issue 14, item 7): the sweep re-queues a run whose heartbeat is older
than the lock timeout (lock expired) while attempts remain, fails it after the last one, and
collects the staging directories of attempts that are not running; a stale attempt that is
still alive is fenced off by its attempt number. End to end with a SIGKILLed worker:
tests/integration/test_worker_killed.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from m6rec.registry import storage
from m6rec.training import services
from m6rec.training.errors import RunCancelled
from m6rec.training.locks import Heartbeat, TenantTrainingLock, heartbeat_interval
from m6rec.training.models import TrainingRun
from m6rec.training.services.execution import ProgressReporter
from m6rec.training.services.recovery import staging_label, training_staging_gc

pytestmark = pytest.mark.django_db


def running(tenant, *, attempts: int, heartbeat_age: float) -> TrainingRun:
    run = services.training_run_create(tenant=tenant, trigger="api", dispatch=False)
    beat = timezone.now() - timedelta(seconds=heartbeat_age)
    TrainingRun.objects.filter(pk=run.pk).update(
        status="running", attempts=attempts, heartbeat_at=beat, started_at=beat
    )
    return TrainingRun.objects.get(pk=run.pk)


@pytest.fixture
def sent(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(
        services.runs, "training_run_dispatch", lambda *, run_id: calls.append(run_id) or True
    )
    return calls


def test_defaults_bound_detection_to_75_seconds(settings):
    assert settings.M6REC_TRAINING_LOCK_TIMEOUT == 60
    assert settings.M6REC_TRAINING_HEARTBEAT_S == 10
    sweep = settings.CELERY_BEAT_SCHEDULE["m6rec-training-sweep-stuck"]
    assert sweep["schedule"] == 15 and sweep["options"]["expires"] == 15
    assert heartbeat_interval() == 10
    settings.M6REC_TRAINING_LOCK_TIMEOUT = 6
    assert heartbeat_interval() == 2  # never more than a third of the lock timeout


def test_lost_attempt_is_requeued_and_dispatched(tenant, settings, sent):
    settings.M6REC_TRAINING_LOCK_TIMEOUT = 60
    run = running(tenant, attempts=1, heartbeat_age=61)
    assert services.training_run_sweep_stuck() == [run.pk]
    run.refresh_from_db()
    assert run.status == "queued" and run.dispatch_pending and run.attempts == 1
    assert run.stage == "re-queued: attempt 1 lost"
    assert sent == [run.pk]
    assert services.training_run_sweep_stuck() == []  # once


def test_fresh_heartbeat_or_held_lock_is_left_alone(tenant, other_tenant, settings, sent):
    settings.M6REC_TRAINING_LOCK_TIMEOUT = 60
    fresh = running(tenant, attempts=1, heartbeat_age=30)
    held = running(other_tenant, attempts=1, heartbeat_age=300)
    lock = TenantTrainingLock(other_tenant.pk)
    assert lock.acquire()
    try:
        assert services.training_run_sweep_stuck() == []
    finally:
        lock.release()
    assert TrainingRun.objects.get(pk=fresh.pk).status == "running"
    assert TrainingRun.objects.get(pk=held.pk).status == "running"
    assert sent == []


def test_last_attempt_lost_fails_the_run(tenant, settings, sent):
    settings.M6REC_TRAINING_MAX_ATTEMPTS = 2
    run = running(tenant, attempts=2, heartbeat_age=600)
    assert services.training_run_sweep_stuck() == [run.pk]
    run.refresh_from_db()
    assert run.status == "failed" and "after 2 attempt(s)" in run.error_message
    assert sent == []


def test_requeued_run_trains_again_and_the_lost_attempt_is_fenced(
    tenant, ingest, fake_engine, settings, sent
):
    ingest(tenant)
    run = running(tenant, attempts=1, heartbeat_age=600)
    stale = ProgressReporter(run.pk, attempt=1)
    services.training_run_sweep_stuck()
    with pytest.raises(RunCancelled):  # the lost attempt, were it still alive, stops here
        stale("fusion", 0.5)
    services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 2
    with pytest.raises(RunCancelled):
        ProgressReporter(run.pk, attempt=1).write()


def test_staging_of_attempts_not_running_is_collected(tenant, other_tenant, settings):
    live = running(tenant, attempts=2, heartbeat_age=0)
    done = running(other_tenant, attempts=1, heartbeat_age=0)
    TrainingRun.objects.filter(pk=done.pk).update(status="succeeded")

    def staging(run, attempt):
        label = staging_label(run_id=run.pk, attempt=attempt)
        path = storage.bundle_staging_dir(tenant_slug=run.tenant.slug, label=label)
        (path / "bundle").mkdir()
        (path / "bundle" / "factors.npy").write_bytes(b"x" * 100)
        return path

    current = staging(live, 2)
    lost = staging(live, 1)  # the killed attempt of the same, now running, run
    finished = staging(done, 1)
    assert sorted(training_staging_gc()) == sorted([lost, finished])
    assert current.is_dir() and not lost.exists() and not finished.exists()
    assert storage.bundle_staging_dirs() == [current]
    assert training_staging_gc() == []


class _Lock:
    timeout = 60

    def __init__(self, answers):
        self.answers = list(answers)

    def extend(self):
        return self.answers.pop(0)


def test_heartbeat_outlives_a_redis_outage_shorter_than_the_lock_timeout():
    beats: list[int] = []
    heartbeat = Heartbeat(_Lock([True, None, None, True]), lambda: beats.append(1), interval=10)
    start = heartbeat._extended_at  # monotonic time of the start
    for k in range(1, 5):  # Redis unreachable for 20 s: the lock cannot have expired
        heartbeat.tick(start + 10 * k)
    assert not heartbeat.lost and len(beats) == 4
    outage = Heartbeat(_Lock([None] * 7), lambda: None, interval=10)
    begin = outage._extended_at
    for k in range(1, 8):  # 70 s without an answer from Redis
        outage.tick(begin + 10 * k)
    assert outage.lost  # not extended for longer than its timeout: the lock may be gone
    stolen = Heartbeat(_Lock([False]), lambda: None, interval=10)
    stolen.tick(10)
    assert stolen.lost  # known lost (expired, or another owner)


def test_worker_main_process_sweeps_on_its_own(monkeypatch, settings):
    """The sweeper thread the worker's main process starts when it is ready: it does not wait
    for a free pool process as beat's task does."""
    import threading

    from m6rec.training import signals

    calls: list[int] = []
    swept = threading.Event()

    def sweep():
        calls.append(1)
        if len(calls) >= 3:
            swept.set()
        return []

    monkeypatch.setattr(services, "training_run_sweep_stuck", sweep)
    settings.M6REC_TRAINING_SWEEP_INTERVAL = 0.05
    signals._sweep_on_worker_start()
    try:
        assert signals._sweeper is not None and signals._sweeper.is_alive()
        assert swept.wait(5), calls  # once at start-up, then every interval
    finally:
        sweeper = signals._sweeper
        signals._stop_sweeper()
    sweeper.join(timeout=5)
    assert not sweeper.is_alive() and signals._sweeper is None
    settings.M6REC_TRAINING_SWEEP_INTERVAL = 0  # 0: start-up sweep only, no thread
    signals._sweep_on_worker_start()
    assert signals._sweeper is None
