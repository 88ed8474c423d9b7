"""The real engine end to end in-process (tiny data, small budget) and ``train_tenant``."""

import pytest
from django.core.management import CommandError, call_command

from m6rec.registry.models import ModelVersion
from m6rec.training.models import TrainingRun

pytestmark = pytest.mark.django_db

TINY = {
    "time_budget_s": 5,
    "use_fusion": False,
    "mf_factors": [8],
    "mf_iterations": 3,
    "mf_max_trials": 2,
    "ease_lambdas": [100.0, 500.0],
}


def test_train_tenant_sync_with_real_engine(tenant, ingest, settings, capsys):
    from engine.recommender import Recommender
    from m6rec.registry.storage import bundle_local_path

    settings.M6REC_TRAIN_CONFIG = TINY
    ingest(tenant, users=60, items=40, per_user=10)
    call_command("train_tenant", tenant.slug, "--sync", "--no-progress")
    out = capsys.readouterr().out
    assert "succeeded: acme v1 (active)" in out
    run = TrainingRun.objects.get(tenant=tenant)
    assert run.status == "succeeded" and run.trigger == "command"
    version = ModelVersion.objects.get(tenant=tenant)
    assert version.gate_metric is not None and 0 < version.gate_metric <= 1
    assert version.hyperparameters and version.data_counts["interactions"] == 600
    recommender = Recommender.load(bundle_local_path(uri=version.bundle_uri))
    assert recommender is not None


def test_train_tenant_queue_mode_and_errors(tenant, monkeypatch, capsys):
    from m6rec.training import services

    monkeypatch.setattr(services.runs, "training_run_dispatch", lambda *, run_id: None)
    call_command("train_tenant", tenant.slug)
    assert "queued training run" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already has a queued training run"):
        call_command("train_tenant", tenant.slug)
    with pytest.raises(CommandError, match='No tenant "nope".*list_tenants'):
        call_command("train_tenant", "nope")


def test_train_tenant_rejects_bad_config(tenant):
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("train_tenant", tenant.slug, "--sync", "--config", "{nope")
    with pytest.raises(CommandError, match="must be a JSON object"):
        call_command("train_tenant", tenant.slug, "--sync", "--config", "[1]")


def test_train_tenant_config_option_reaches_the_engine(tenant, ingest, fake_engine):
    ingest(tenant)
    call_command(
        "train_tenant",
        tenant.slug,
        "--sync",
        "--no-progress",
        "--time-budget",
        "9",
        "--config",
        '{"use_fusion": false}',
    )
    config = fake_engine.calls[0][3]
    assert (config.time_budget_s, config.use_fusion) == (9, False)


def test_train_tenant_sync_failure_is_reported(tenant):
    with pytest.raises(CommandError, match="has no interactions yet"):
        call_command("train_tenant", tenant.slug, "--sync", "--no-progress")
