"""Training services: create / conflict, execute lifecycle, failures, sweep, schedule."""

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from m6rec.registry.models import ModelVersion
from m6rec.training import services
from m6rec.training.errors import TrainingConflictError
from m6rec.training.locks import TenantTrainingLock
from m6rec.training.models import TrainingRun

pytestmark = pytest.mark.django_db


def create(tenant, trigger="api", **kw):
    return services.training_run_create(tenant=tenant, trigger=trigger, dispatch=False, **kw)


def test_create_rejects_second_run_while_one_is_in_progress(tenant, other_tenant):
    run = create(tenant)
    assert run.status == "queued"
    with pytest.raises(TrainingConflictError) as info:
        create(tenant)
    assert info.value.details == {"run_id": run.pk, "status": "queued"}
    TrainingRun.objects.filter(pk=run.pk).update(status="running")
    with pytest.raises(TrainingConflictError):
        create(tenant)
    create(other_tenant)  # other tenants are independent
    TrainingRun.objects.filter(pk=run.pk).update(status="succeeded")
    assert create(tenant).status == "queued"


def test_create_records_requester(tenant, django_user_model):
    user = django_user_model.objects.create_user("bob")
    run = create(tenant, trigger="admin", requested_by=user)
    assert run.requested_by == user and run.requested_by_label == "user:bob"


def test_create_dispatches_on_commit(tenant, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(
        services.runs, "training_run_dispatch", lambda *, run_id: sent.append(run_id)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.training_run_create(tenant=tenant, trigger="api")
    assert sent == [] and len(callbacks) == 1  # nothing is sent before the commit
    callbacks[0]()
    assert sent == [run.pk]


def test_execute_succeeds_registers_and_promotes(tenant, ingest, fake_engine):
    ingest(tenant)
    run = create(tenant)
    assert services.training_run_execute(run_id=run.pk) == services.Outcome.DONE
    run.refresh_from_db()
    assert run.status == "succeeded", run.error_message
    assert run.progress == 100.0 and run.stage == "done"
    assert run.version.number == 1 and run.version.status == "active"
    assert run.gate_decision.startswith("promoted")
    assert run.data_counts["interactions"] == 240 and run.data_counts["users"] == 30
    assert run.interactions_seen == 240
    assert run.attempts == 1 and run.started_at and run.finished_at
    assert "total" in run.timings
    version = run.version
    assert version.run == run and version.bundle_uri == f"bundles/{tenant.slug}/1"
    assert len(version.bundle_sha256) == 64
    from m6rec.registry.storage import bundle_local_path, manifest_sha256

    assert manifest_sha256(bundle_local_path(uri=version.bundle_uri)) == version.bundle_sha256
    # the content domain's features reached the engine
    n, item_dim, user_dim, _ = fake_engine.calls[0]
    assert n == 240 and item_dim and user_dim
    # staging directories are cleaned up
    staging = Path(tenant_media(tenant)) / ".staging"
    assert not staging.exists() or not any(staging.iterdir())


def tenant_media(tenant):
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "bundles"


def test_second_run_worse_model_stays_candidate(tenant, ingest, fake_engine):
    ingest(tenant)
    fake_engine.ndcg = 0.4
    services.training_run_execute(run_id=create(tenant).pk)
    fake_engine.ndcg = 0.1
    run = create(tenant)
    services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.version.status == "candidate"
    assert run.gate_decision.startswith("kept")
    assert ModelVersion.objects.get(tenant=tenant, status="active").number == 1


def test_weights_come_from_the_domain_plugin(tenant, ingest, monkeypatch):
    from m6rec.plugins.registry import get_domain
    from m6rec.training.dataset import load_tenant_dataset

    ingest(tenant, types=("view", "share"))
    domain = get_domain(tenant.domain)
    dataset = load_tenant_dataset(tenant=tenant, domain=domain)
    expected = {
        np.float32(domain.interaction_weight("view", 1.0)),
        np.float32(domain.interaction_weight("share", 1.0)),
    }
    assert set(dataset.data.weights.tolist()) == expected


def test_engine_failure_fails_run_without_version(tenant, ingest, fake_engine):
    ingest(tenant)
    fake_engine.error = RuntimeError("out of memory in MF")
    run = create(tenant)
    services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error_message == "RuntimeError: out of memory in MF"
    assert run.version is None and run.finished_at
    assert not ModelVersion.objects.filter(tenant=tenant).exists()
    assert not (tenant_media(tenant) / tenant.slug).exists()
    # the tenant can train again
    assert create(tenant).status == "queued"


def test_registration_failure_leaves_no_half_registered_version(
    tenant, ingest, fake_engine, monkeypatch
):
    from m6rec.registry import services as registry_services

    ingest(tenant)

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(registry_services, "version_apply_gate", boom)
    run = create(tenant)
    services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "database went away" in run.error_message
    assert not ModelVersion.objects.filter(tenant=tenant).exists()
    assert not (tenant_media(tenant) / tenant.slug / "1").exists()  # published bundle removed


def test_no_interactions_fails_with_clear_message(tenant, fake_engine):
    run = create(tenant)
    services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "has no interactions yet" in run.error_message
    assert fake_engine.calls == []


def test_plugin_failure_names_the_plugin(tenant, ingest, fake_engine, monkeypatch):
    from m6rec.plugins.registry import get_domain

    ingest(tenant)
    domain = get_domain(tenant.domain)

    def broken(*args, **kwargs):
        raise ValueError("bad genre vocabulary")

    monkeypatch.setattr(type(domain), "item_features", broken)
    run = create(tenant)
    services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error_message == (
        'domain plugin "content" failed in item_features: ValueError: bad genre vocabulary'
    )


def test_unknown_domain_fails_run(tenant, ingest, fake_engine):
    ingest(tenant)
    type(tenant).objects.filter(pk=tenant.pk).update(domain="nope")
    run = create(tenant)
    services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and 'domain plugin "nope" is not available' in run.error_message


def test_execute_is_idempotent(tenant, ingest, fake_engine):
    ingest(tenant)
    run = create(tenant)
    services.training_run_execute(run_id=run.pk)
    assert services.training_run_execute(run_id=run.pk) == services.Outcome.NOOP
    assert services.training_run_execute(run_id=999_999) == services.Outcome.NOOP
    assert len(fake_engine.calls) == 1
    assert ModelVersion.objects.filter(tenant=tenant).count() == 1


def test_execute_while_tenant_locked_does_nothing(tenant, ingest, fake_engine):
    ingest(tenant)
    run = create(tenant)
    lock = TenantTrainingLock(tenant.pk)
    assert lock.acquire()
    try:
        assert services.training_run_execute(run_id=run.pk) == services.Outcome.LOCKED
    finally:
        lock.release()
    run.refresh_from_db()
    assert run.status == "queued" and fake_engine.calls == []


def test_cancel_while_running_stops_at_next_progress(tenant, ingest, fake_engine):
    ingest(tenant)
    run = create(tenant)

    def cancel_at(stage):
        if stage == "fusion":
            services.training_run_cancel(run=TrainingRun.objects.get(pk=run.pk), actor="ops")

    fake_engine.on_progress = cancel_at
    services.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "cancelled" and run.error_message == "cancelled by ops"
    assert not ModelVersion.objects.filter(tenant=tenant).exists()


def test_progress_is_monotonic_and_staged(tenant, ingest, fake_engine):
    ingest(tenant)
    run = create(tenant)
    seen = []

    def record(stage):
        seen.append(TrainingRun.objects.values_list("stage", "progress").get(pk=run.pk))

    fake_engine.on_progress = record
    services.training_run_execute(run_id=run.pk)
    stages = [s for s, _ in seen]
    assert stages == ["split", "tune:itemcf", "fusion", "refit"]
    percents = [p for _, p in seen]
    assert percents == sorted(percents) and 0 < percents[0] < percents[-1] < 100


def test_worker_lost_run_is_restarted_then_failed(tenant, ingest, fake_engine):
    """A redelivered task for a run left 'running' by a dead worker (lock expired)."""
    ingest(tenant)
    run = create(tenant)
    TrainingRun.objects.filter(pk=run.pk).update(status="running", attempts=1)
    services.training_run_execute(run_id=run.pk)  # attempt 2 of 2: restarted
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 2
    run2 = create(tenant)
    TrainingRun.objects.filter(pk=run2.pk).update(status="running", attempts=2)
    services.training_run_execute(run_id=run2.pk)
    run2.refresh_from_db()
    assert run2.status == "failed" and "worker lost mid-run" in run2.error_message


def test_sweep_handles_stuck_runs_only_when_lock_expired(tenant, other_tenant, settings):
    """Out of attempts: failed (re-queueing is tested in test_recovery.py)."""
    settings.M6REC_TRAINING_LOCK_TIMEOUT = 60
    old = timezone.now() - timedelta(minutes=5)
    stuck = create(tenant)
    alive = create(other_tenant)
    TrainingRun.objects.filter(pk__in=[stuck.pk, alive.pk]).update(
        status="running", heartbeat_at=old, started_at=old, attempts=2
    )
    lock = TenantTrainingLock(other_tenant.pk)
    assert lock.acquire()  # other tenant's worker is alive (holds the lock)
    try:
        assert services.training_run_sweep_stuck() == [stuck.pk]
    finally:
        lock.release()
    stuck.refresh_from_db()
    alive.refresh_from_db()
    assert stuck.status == "failed" and "worker lost" in stuck.error_message
    assert alive.status == "running"


def test_sweep_redispatches_forgotten_queued_runs(tenant, monkeypatch, settings):
    settings.M6REC_TRAINING_REDISPATCH_AFTER = 60
    sent = []
    monkeypatch.setattr(
        services.runs, "training_run_dispatch", lambda *, run_id: sent.append(run_id)
    )
    run = create(tenant)
    services.training_run_sweep_stuck()
    assert sent == []  # too recent
    TrainingRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    services.training_run_sweep_stuck()
    assert sent == [run.pk]


def test_schedule_every_hours(tenant, ingest):
    ingest(tenant)
    type(tenant).objects.filter(pk=tenant.pk).update(config={"train_every_hours": 24})
    queued = services.training_schedule_due()
    assert [r.trigger for r in queued] == ["schedule"]
    assert services.training_schedule_due() == []  # in progress
    TrainingRun.objects.update(status="succeeded")
    assert services.training_schedule_due() == []  # not due yet
    TrainingRun.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert len(services.training_schedule_due()) == 1


def test_schedule_threshold_of_new_interactions(tenant, ingest):
    ingest(tenant)  # 240 interactions
    type(tenant).objects.filter(pk=tenant.pk).update(config={"train_after_new_interactions": 100})
    first = services.training_schedule_due()
    assert [r.trigger for r in first] == ["threshold"]
    TrainingRun.objects.filter(pk=first[0].pk).update(status="succeeded", interactions_seen=240)
    assert services.training_schedule_due() == []
    ingest(tenant, seed=1, users=20)  # +160 new
    assert [r.trigger for r in services.training_schedule_due()] == ["threshold"]


def test_schedule_skips_tenants_without_config_or_data(tenant, other_tenant, ingest):
    ingest(other_tenant)
    type(tenant).objects.filter(pk=tenant.pk).update(config={"train_every_hours": 1})
    assert services.training_schedule_due() == []  # tenant has no data, other has no config


def test_train_config_overrides(tenant, settings):
    settings.M6REC_TRAIN_CONFIG = {"time_budget_s": 5, "use_fusion": False, "bogus": 1}
    tenant.config = {"training": {"mf_factors": [8], "time_budget_s": 7}}
    config = services.train_config_for(tenant=tenant, overrides={"seed": 3})
    assert (config.time_budget_s, config.use_fusion, config.mf_factors, config.seed) == (
        7,
        False,
        (8,),
        3,
    )


def test_task_via_celery_eager(tenant, ingest, fake_engine, celery_eager):
    from m6rec.training.tasks import train_tenant

    ingest(tenant)
    run = create(tenant)
    services.training_run_dispatch(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.dispatched_at is not None
    assert train_tenant.apply(args=[run.pk]).get() == "noop"


def test_redis_lock_is_exclusive_and_expires(tenant, redis_url, settings):
    settings.REDIS_URL = redis_url
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    first = TenantTrainingLock(tenant.pk, timeout=1)
    second = TenantTrainingLock(tenant.pk, timeout=1)
    assert first.acquire()
    try:
        assert not second.acquire()
        from m6rec.training.locks import lock_is_held

        assert lock_is_held(tenant.pk)
        assert first.extend()
    finally:
        first.release()
    assert second.acquire()
    import time

    time.sleep(1.3)
    assert not second.extend()  # expired: a dead worker loses it
    assert first.acquire()
    first.release()


def test_schedule_model_overrides_config(tenant, ingest):
    from m6rec.training.models import TrainingSchedule

    ingest(tenant)
    type(tenant).objects.filter(pk=tenant.pk).update(config={"train_every_hours": 1})
    schedule = TrainingSchedule.objects.create(tenant=tenant, enabled=False)
    assert services.training_schedule_due() == []  # disabled wins over the config key
    schedule.enabled, schedule.train_after_new_interactions = True, 200
    schedule.save()
    assert [r.trigger for r in services.training_schedule_due()] == ["threshold"]


def test_beat_schedule_is_configured(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "m6rec.training.tasks.schedule_training",
        "m6rec.training.tasks.sweep_stuck_runs",
    } <= tasks
    from m6rec.celery import app

    app.loader.import_default_modules()
    assert {
        "m6rec.training.tasks.schedule_training",
        "m6rec.training.tasks.sweep_stuck_runs",
        "m6rec.training.tasks.train_tenant",
    } <= set(app.tasks)
