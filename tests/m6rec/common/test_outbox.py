"""The shared dispatch outbox (``m6rec.common.outbox``) and the tenant's queue
(``m6rec.ops.queues.tenant_queue``), on real PostgreSQL rows of both users of the outbox:
training runs and batch jobs. Only the broker send is faked; "broker down" raises what kombu
raises when Redis refuses the connection."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from m6rec.batch.models import BatchJob
from m6rec.common import outbox
from m6rec.ops.queues import QUEUE_LARGE, QUEUE_SMALL, tenant_queue
from m6rec.training.models import TrainingRun

pytestmark = pytest.mark.django_db

LEASE = timedelta(seconds=30)


class Broker:
    """A stand-in for publishing: records what it was handed, or refuses while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[int] = []
        self.attempts = 0

    def send(self, row) -> None:
        self.attempts += 1
        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Refused.")
        self.sent.append(row.pk)


@pytest.fixture
def broker() -> Broker:
    return Broker()


@pytest.fixture(params=[TrainingRun, BatchJob], ids=["training_run", "batch_job"])
def model(request):
    return request.param


def _row(model, tenant, **fields):
    if model is TrainingRun:
        fields.setdefault("trigger", "api")
    fields.setdefault("dispatch_pending", True)
    return model.objects.create(tenant=tenant, **fields)


def _dispatch(model, broker, pk: int) -> bool:
    return outbox.dispatch(model=model, pk=pk, send=broker.send, what="row")


def _pending(model, broker, **kwargs) -> list[int]:
    return outbox.dispatch_pending(
        model=model, dispatch_one=lambda pk: _dispatch(model, broker, pk), lease=LEASE, **kwargs
    )


# ---------------------------------------------------------------------- dispatch
def test_a_sent_row_is_claimed_and_its_marker_cleared(model, tenant, broker):
    row = _row(model, tenant)
    assert _dispatch(model, broker, row.pk) is True
    row.refresh_from_db()
    assert broker.sent == [row.pk]
    assert not row.dispatch_pending and row.dispatched_at is not None


def test_a_refused_send_keeps_the_row_to_dispatch_and_never_raises(model, tenant, broker, caplog):
    row = _row(model, tenant, dispatch_pending=False)  # e.g. the sweep's re-send
    broker.down = True
    with caplog.at_level(logging.WARNING, logger="m6rec.common.outbox"):
        assert _dispatch(model, broker, row.pk) is False
    row.refresh_from_db()
    assert row.dispatch_pending and row.dispatched_at is None  # claim released
    assert f"row {row.pk} not sent to the broker (OperationalError" in caplog.text
    assert "kept to dispatch" in caplog.text


def test_rows_not_queued_or_missing_are_not_sent(model, tenant, broker):
    done = _row(model, tenant, status="failed")
    assert _dispatch(model, broker, done.pk) is False
    assert _dispatch(model, broker, 10**9) is False
    assert broker.attempts == 0
    done.refresh_from_db()
    assert done.dispatched_at is None


def test_a_failed_send_leaves_a_claim_taken_over_meanwhile_alone(model, tenant, broker):
    row = _row(model, tenant)
    theirs = timezone.now() + timedelta(seconds=1)

    def taken_over_then_refused(sent_row) -> None:  # another sender's claim, then our failure
        model.objects.filter(pk=sent_row.pk).update(dispatched_at=theirs, dispatch_pending=False)
        raise OperationalError("connection refused")

    sent = outbox.dispatch(model=model, pk=row.pk, send=taken_over_then_refused, what="row")
    assert sent is False
    row.refresh_from_db()
    assert row.dispatched_at == theirs and not row.dispatch_pending


# ---------------------------------------------------------------------- dispatch_pending
def test_pending_rows_are_sent_oldest_first_up_to_the_limit(model, tenant, other_tenant, broker):
    first = _row(model, tenant)
    second = _row(model, other_tenant)
    model.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    _row(model, tenant, dispatch_pending=False, status="failed")  # not in the outbox
    assert _pending(model, broker, limit=1) == [first.pk]
    assert _pending(model, broker) == [second.pk]
    assert broker.sent == [first.pk, second.pk]
    assert _pending(model, broker) == []  # sent once


def test_pending_sender_stops_at_the_first_refusal(model, tenant, other_tenant, broker):
    rows = [_row(model, tenant), _row(model, other_tenant)]
    broker.down = True
    assert _pending(model, broker) == []
    assert broker.attempts == 1  # one wait on an unreachable broker per tick
    broker.down = False
    assert _pending(model, broker) == [row.pk for row in rows]


def test_a_fresh_claim_is_left_to_its_sender_until_the_lease_ends(model, tenant, broker):
    now = timezone.now()
    row = _row(model, tenant, dispatched_at=now)
    assert _pending(model, broker, now=now + LEASE - timedelta(seconds=1)) == []
    assert broker.attempts == 0
    assert _pending(model, broker, now=now + LEASE + timedelta(seconds=1)) == [row.pk]


# ---------------------------------------------------------------------- the tenant's queue
def test_tenant_queue_counts_the_tenants_interactions(tenant, other_tenant, settings):
    from m6rec.catalog.models import EndUser, Interaction, Item

    settings.M6REC_LARGE_TENANT_INTERACTIONS = 2
    user = EndUser.objects.create(tenant=tenant, external_id="u1")
    item = Item.objects.create(tenant=tenant, external_id="i1")
    for _ in range(2):
        Interaction.objects.create(
            tenant=tenant, user=user, item=item, type="view", timestamp=timezone.now()
        )
    assert tenant_queue(tenant_id=tenant.pk) == QUEUE_LARGE
    assert tenant_queue(tenant_id=other_tenant.pk) == QUEUE_SMALL


@pytest.mark.parametrize("routing", [True, False])
def test_both_services_send_through_the_outbox_to_the_tenants_queue(
    tenant, other_tenant, monkeypatch, settings, routing
):
    from m6rec.batch import services as batch_services
    from m6rec.batch import tasks as batch_tasks
    from m6rec.training import services as training_services
    from m6rec.training import tasks as training_tasks

    settings.M6REC_TRAINING_ROUTING = routing
    published: list[tuple[str, int, str | None]] = []
    for name, task in (
        ("batch", batch_tasks.run_batch_job),
        ("train", training_tasks.train_tenant),
    ):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args, queue, name=name: published.append((name, args[0], queue)),
        )
        monkeypatch.setattr(task, "delay", lambda pk, name=name: published.append((name, pk, None)))
    job = _row(BatchJob, tenant)
    run = _row(TrainingRun, other_tenant)
    assert batch_services.batch_job_dispatch_pending() == [job.pk]
    assert training_services.training_run_dispatch_pending() == [run.pk]
    train_queue = QUEUE_SMALL if routing else None  # training routes only when asked to
    assert published == [("batch", job.pk, QUEUE_SMALL), ("train", run.pk, train_queue)]
