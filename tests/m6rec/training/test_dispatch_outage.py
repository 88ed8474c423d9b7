"""Training dispatch through a broker outage (issue 14, item 1): a transactional outbox.

``POST /models/train`` while Redis is down answers 202 with the queued run (never 500); the run
is kept "to dispatch" (``dispatch_pending``) and the beat task ``dispatch_training_runs`` sends
it as soon as the broker is back. The end-to-end test uses a throwaway ``redis-server`` that it
starts, stops and restarts itself (never the shared Redis).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from m6rec.training import services, tasks
from m6rec.training.models import TrainingRun

REQUIRE_SERVICES = os.environ.get("M6REC_REQUIRE_SERVICES") == "1"
TASK = "m6rec.training.tasks.train_tenant"


# ---------------------------------------------------------------------- a throwaway Redis
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayRedis:
    """``redis-server`` on a free port, no persistence; stop() and start() keep the port."""

    def __init__(self, executable: str, tmp_path) -> None:
        self.executable = executable
        self.port = _free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if self.client().ping():
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"throwaway redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)


def _switch_broker(app, url: str) -> None:
    """Point the in-process Celery app (the publisher) at ``url``; drop pooled connections."""
    from kombu import pools

    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def throwaway_redis(tmp_path, settings):
    """A private redis-server that the broker, the cache, throttles and locks all use."""
    executable = shutil.which("redis-server")
    if executable is None:
        message = "redis-server is not installed (needed for a throwaway broker)."
        if REQUIRE_SERVICES:
            pytest.fail(message + " M6REC_REQUIRE_SERVICES=1 forbids skipping.", pytrace=False)
        pytest.skip(message)
    from m6rec.celery import app

    server = ThrowawayRedis(executable, tmp_path)
    server.start()
    old_broker = app.conf.broker_url
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        }
    }
    settings.M6REC_THROTTLE_CACHE = "default"
    _switch_broker(app, server.url)
    try:
        yield server
    finally:
        _switch_broker(app, old_broker)
        server.stop()


def _messages(server, queue: str = "small") -> list[dict]:
    return [json.loads(raw) for raw in server.client().lrange(queue, 0, -1)]


# ---------------------------------------------------------------------- end to end
@pytest.mark.django_db(transaction=True)
def test_train_during_redis_outage_is_202_and_dispatched_when_redis_returns(
    throwaway_redis, api, tenant, ingest, fake_engine
):
    ingest(tenant)
    throwaway_redis.stop()  # the outage

    started = time.monotonic()
    response = api.post("/api/v1/models/train", {}, format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 202, response.content
    assert elapsed < 2.5, f"the request hung {elapsed:.2f} s on the broker"
    body = response.json()
    assert body["status"] == "queued"
    run = TrainingRun.objects.get(pk=body["id"])
    # kept in the outbox: queued, not sent, marked to dispatch (not an orphan)
    assert run.dispatch_pending and run.dispatched_at is None

    # still down: one run per tenant (the queued one will start), the sender gives up fast
    again = api.post("/api/v1/models/train", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["details"] == {"run_id": run.pk, "status": "queued"}
    started = time.monotonic()
    assert tasks.dispatch_training_runs() == []
    assert time.monotonic() - started < 2.5
    run.refresh_from_db()
    assert run.dispatch_pending and run.dispatched_at is None

    throwaway_redis.start()  # Redis is back (same port, empty)
    assert _messages(throwaway_redis) == []
    assert tasks.dispatch_training_runs() == [run.pk]  # the beat task's next tick
    messages = _messages(throwaway_redis)
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages] == [
        (TASK, f"[{run.pk}]")
    ]
    run.refresh_from_db()
    assert not run.dispatch_pending and run.dispatched_at is not None
    assert tasks.dispatch_training_runs() == []  # sent once

    # a worker takes the message; afterwards the tenant can train again at once
    assert services.training_run_execute(run_id=run.pk) == services.Outcome.DONE
    run.refresh_from_db()
    assert run.status == "succeeded", run.error_message
    response = api.post("/api/v1/models/train", {}, format="json")
    assert response.status_code == 202, response.content
    second = TrainingRun.objects.get(pk=response.json()["id"])
    assert not second.dispatch_pending and second.dispatched_at is not None  # sent on commit
    assert [m["headers"]["argsrepr"] for m in _messages(throwaway_redis)] == [
        f"[{second.pk}]",  # LPUSH: newest first
        f"[{run.pk}]",
    ]


@pytest.mark.django_db(transaction=True)
def test_sweep_also_sends_runs_left_to_dispatch(throwaway_redis, api, tenant):
    throwaway_redis.stop()
    run_id = api.post("/api/v1/models/train", {}, format="json").json()["id"]
    assert TrainingRun.objects.get(pk=run_id).dispatch_pending
    throwaway_redis.start()
    tasks.sweep_stuck_runs()
    assert [m["headers"]["argsrepr"] for m in _messages(throwaway_redis)] == [f"[{run_id}]"]
    assert not TrainingRun.objects.get(pk=run_id).dispatch_pending


# ---------------------------------------------------------------------- units (no broker)
@pytest.fixture
def broker(monkeypatch):
    """``train_tenant`` publishing replaced: ``broker.down`` makes it raise like kombu does."""

    class Broker:
        down = False
        sent: list[int] = []
        attempts = 0

        def publish(self, run_id, **_kw):
            self.attempts += 1
            if self.down:
                raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Refused.")
            self.sent.append(run_id)

    fake = Broker()
    fake.sent = []
    monkeypatch.setattr(tasks.train_tenant, "delay", lambda run_id: fake.publish(run_id))
    monkeypatch.setattr(
        tasks.train_tenant, "apply_async", lambda args, **kw: fake.publish(args[0], **kw)
    )
    return fake


@pytest.mark.django_db
def test_commit_hook_never_raises_and_keeps_the_run_to_dispatch(
    tenant, broker, django_capture_on_commit_callbacks
):
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = services.training_run_create(tenant=tenant, trigger="api")
    assert len(callbacks) == 1 and broker.attempts == 1 and broker.sent == []
    run.refresh_from_db()
    assert run.status == "queued" and run.dispatch_pending and run.dispatched_at is None
    broker.down = False
    assert services.training_run_dispatch_pending() == [run.pk]
    run.refresh_from_db()
    assert broker.sent == [run.pk] and not run.dispatch_pending and run.dispatched_at


@pytest.mark.django_db
def test_sent_on_commit_clears_the_marker(tenant, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.training_run_create(tenant=tenant, trigger="api")
    run.refresh_from_db()
    assert broker.sent == [run.pk] and not run.dispatch_pending and run.dispatched_at
    assert services.training_run_dispatch_pending() == []


@pytest.mark.django_db
def test_pending_sender_stops_at_the_first_failure(tenant, other_tenant, broker):
    for owner in (tenant, other_tenant):
        TrainingRun.objects.create(tenant=owner, trigger="api", dispatch_pending=True)
    broker.down = True
    assert services.training_run_dispatch_pending() == []
    assert broker.attempts == 1  # the broker is down: no second wait in the same tick
    broker.down = False
    assert len(services.training_run_dispatch_pending()) == 2


@pytest.mark.django_db
def test_a_fresh_claim_is_left_to_its_sender_until_the_lease_ends(tenant, broker, settings):
    settings.M6REC_TRAINING_DISPATCH_LEASE = 30
    now = timezone.now()
    run = TrainingRun.objects.create(
        tenant=tenant, trigger="api", dispatch_pending=True, dispatched_at=now
    )
    assert services.training_run_dispatch_pending(now=now) == []  # being sent (or crashed)
    later = now + timedelta(seconds=31)
    assert services.training_run_dispatch_pending(now=later) == [run.pk]
    assert broker.sent == [run.pk]


@pytest.mark.django_db
def test_runs_not_to_dispatch_are_left_alone(tenant, other_tenant, broker):
    sync = services.training_run_create(tenant=tenant, trigger="command", dispatch=False)
    cancelled = TrainingRun.objects.create(
        tenant=other_tenant, trigger="api", dispatch_pending=True, status="cancelled"
    )
    assert services.training_run_dispatch_pending() == []
    assert services.training_run_dispatch(run_id=cancelled.pk) is False
    assert broker.attempts == 0
    assert services.training_run_dispatch(run_id=sync.pk) is True  # asked explicitly: sent
    assert services.training_run_dispatch(run_id=sync.pk) is True  # a re-send (sweep) too
    assert broker.sent == [sync.pk, sync.pk]


def test_beat_retries_dispatch_every_few_seconds_and_publishing_is_bounded(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["m6rec-training-dispatch"]
    assert entry["task"] == "m6rec.training.tasks.dispatch_training_runs"
    assert entry["schedule"] <= 10 and entry["options"]["expires"] <= entry["schedule"]
    policy = settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    assert policy["max_retries"] <= 2 and policy["interval_max"] <= 0.5
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] <= 1
    from m6rec.celery import app

    app.loader.import_default_modules()
    assert "m6rec.training.tasks.dispatch_training_runs" in app.tasks
