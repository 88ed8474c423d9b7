"""A worker killed (SIGKILL) mid-run: no half-registered version; once the tenant lock has
expired the stuck-run sweep (here: the next worker's start-up) fails the run; training works
again afterwards."""

from __future__ import annotations

import json
import time

import pytest

from m6rec.common.testing import api_client, make_key, make_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LOCK_TIMEOUT = 6
SLOW = {"time_budget_s": 120, "use_fusion": True, "mf_max_trials": 16, "mf_iterations": 15}


def test_killed_worker_run_ends_failed_and_nothing_registered(start_worker, loop, settings):
    from m6rec.registry.models import ModelVersion
    from m6rec.training.models import TrainingRun

    settings.M6REC_TRAINING_LOCK_TIMEOUT = LOCK_TIMEOUT
    worker = start_worker(
        env={"M6REC_TRAIN_CONFIG": json.dumps(SLOW), "M6REC_TRAINING_LOCK_TIMEOUT": "6"}
    )
    tenant = make_tenant("crashy", domain="content")
    api = api_client(make_key(tenant)[1])
    loop.ingest(api, loop.rows(loop.ratings(), range(1, 301)))
    run_id = api.post("/api/v1/models/train", {}, format="json").json()["id"]

    deadline = time.monotonic() + 60
    while TrainingRun.objects.get(pk=run_id).status != "running":
        assert time.monotonic() < deadline, worker.log()[-3000:]
        time.sleep(0.1)
    time.sleep(1.0)  # inside the data load / engine
    worker.kill()
    killed_at = time.monotonic()

    run = TrainingRun.objects.get(pk=run_id)
    assert run.status == "running"  # nobody has noticed yet
    assert not ModelVersion.objects.filter(tenant=tenant).exists()
    # a new request is still refused: the run counts as in progress until it is swept
    assert api.post("/api/v1/models/train", {}, format="json").status_code == 409

    # the lock expires LOCK_TIMEOUT s after the last heartbeat; a new worker sweeps at start-up
    time.sleep(max(0.0, LOCK_TIMEOUT + 1.5 - (time.monotonic() - killed_at)))
    start_worker(env={"M6REC_TRAINING_LOCK_TIMEOUT": str(LOCK_TIMEOUT)})
    deadline = time.monotonic() + 30
    while TrainingRun.objects.get(pk=run_id).status == "running":
        assert time.monotonic() < deadline, "the stuck run was not swept"
        time.sleep(0.3)
    run = TrainingRun.objects.get(pk=run_id)
    assert run.status == "failed" and "worker lost" in run.error_message
    assert not ModelVersion.objects.filter(tenant=tenant).exists()

    # the tenant trains normally again (the new worker has the fast default config)
    response = api.post("/api/v1/models/train", {}, format="json")
    assert response.status_code == 202
    done = loop.wait_for_run(api, response.json()["id"])
    assert done["status"] == "succeeded" and done["version"] == 1
