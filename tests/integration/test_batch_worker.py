"""Batch recommendations on a REAL Celery worker: a job created while the broker is down waits
in the outbox and runs once beat sends it (its file equals the per-user API answers); a worker
killed (SIGKILL) mid-job loses nothing: beat re-queues the job and another worker continues
after the last part written, every user once.

The test plays beat: it sends ``dispatch_batch_jobs`` every second (production: every
``M6REC_BATCH_DISPATCH_INTERVAL``, 10 s, with ``M6REC_BATCH_STALE_S`` 300 s; here 8 s).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from m6rec.common.testing import api_client, make_key
from tests.integration.conftest import _switch_broker
from tests.m6rec.serving import conftest as _serving

# the serving fixtures: a real trained bundle, tenants with the synthetic catalogue
trained_bundle, factory = _serving.trained_bundle, _serving.factory
_fresh_serving_state = _serving._fresh_serving_state

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/models/batch-recommendations"
STALE = 8
WORKER_ENV = {
    "M6REC_BATCH_CHUNK_USERS": "200",
    "M6REC_BATCH_STALE_S": str(STALE),
    "M6REC_BATCH_MAX_ATTEMPTS": "5",
}


def _wait_for(job_id: int, predicate, *, timeout: float, worker=None, beat: bool = True):
    from m6rec.batch.models import BatchJob
    from m6rec.batch.tasks import dispatch_batch_jobs

    deadline = time.monotonic() + timeout
    while True:
        job = BatchJob.objects.get(pk=job_id)
        if predicate(job):
            return job
        log = worker.log()[-3000:] if worker is not None else ""
        assert time.monotonic() < deadline, (job.status, job.users_done, log)
        if beat:
            dispatch_batch_jobs.delay()
        time.sleep(1.0)


def test_a_job_sent_while_the_broker_is_down_runs_once_it_is_back(start_worker, factory):
    from m6rec.batch.models import BatchJob
    from m6rec.celery import app
    from tests.m6rec.batch.conftest import api_line, read_lines

    worker = start_worker(env=WORKER_ENV)
    tenant = factory.tenant()
    factory.version(tenant)
    admin = api_client(make_key(tenant, scopes=["admin"])[1])
    broker = app.conf.broker_url
    _switch_broker(app, "redis://127.0.0.1:1/0")  # nothing listens there
    try:
        r = admin.post(URL, {"k": 5}, format="json")
    finally:
        _switch_broker(app, broker)
    assert r.status_code == 202, r.content
    job = BatchJob.objects.get(pk=r.json()["id"])
    assert job.status == "queued" and job.dispatch_pending

    _wait_for(job.pk, lambda j: j.status == "succeeded", timeout=120, worker=worker)
    download = admin.get(f"{URL}/{job.pk}/download")
    lines = read_lines(b"".join(download.streaming_content))
    recommender = api_client(make_key(tenant, scopes=["recommend"])[1])
    assert len(lines) == 80
    for line in lines:
        assert line == api_line(recommender, line["user_id"], k=5)


def test_a_killed_worker_loses_no_user(start_worker, factory, settings):
    from m6rec.batch import services
    from m6rec.batch.models import BatchJob
    from tests.m6rec.batch.conftest import job_lines

    settings.M6REC_BATCH_STALE_S = STALE
    start_worker(env=WORKER_ENV)
    tenant = factory.tenant()
    factory.version(tenant)
    users = [f"u{n}" for n in range(80)] + [f"visitor-{n}" for n in range(30_000)]
    job = services.batch_job_create(tenant=tenant, k=3, user_ids=users)  # sent on commit
    running = _wait_for(job.pk, lambda j: j.users_done >= 600, timeout=120, beat=False)
    # SIGKILL the worker running it (its pool process and main process: one process group)
    os.killpg(os.getpgid(int(running.worker.rsplit(":", 1)[1])), signal.SIGKILL)
    time.sleep(1.0)
    killed = BatchJob.objects.get(pk=job.pk)
    assert killed.status == "running" and killed.users_done < len(users), "ended before the kill"

    second = start_worker(env=WORKER_ENV)
    done = _wait_for(
        job.pk, lambda j: j.status in ("succeeded", "failed"), timeout=300, worker=second
    )
    assert done.status == "succeeded", done.error_message
    assert done.attempts >= 2 and done.users_done == len(users)
    written = [line["user_id"] for line in job_lines(done)]
    assert written == users  # every user once, in order
