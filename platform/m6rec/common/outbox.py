"""A transactional outbox: rows committed as ``queued`` with ``dispatch_pending`` set are
handed to the broker once, and a broker outage never raises (batch jobs, training runs).

The row model has ``status`` (with ``Status.QUEUED``), ``dispatch_pending``, ``dispatched_at``
and ``created_at``. A sender first claims the row (a conditional update of ``dispatched_at``),
so concurrent senders (the commit hook, the beat task, a sweep) send it once; a claim older
than the caller's lease belongs to a sender that died mid-send and may be taken over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)


def dispatch(
    *,
    model: type[models.Model],
    pk: int,
    send: Callable[[models.Model], object],
    what: str,
) -> bool:
    """Claim the queued row ``pk`` of ``model`` and ``send(row)`` it to the broker; returns
    whether it was handed over.

    ``row`` carries ``pk``, ``tenant_id`` and ``status``. When ``send`` raises (the broker is
    unreachable) the row is kept to dispatch (``dispatch_pending`` set, the claim released)
    and a warning names it (``what``: "batch job", "training run"); nothing is raised.
    """
    queued = model.Status.QUEUED
    row = model.objects.filter(pk=pk).only("tenant_id", "status", "dispatched_at").first()
    if row is None or row.status != queued:
        return False
    claimed_at = timezone.now()
    claim = model.objects.filter(pk=pk, status=queued)
    if row.dispatched_at is None:
        claim = claim.filter(dispatched_at__isnull=True)
    else:
        claim = claim.filter(dispatched_at=row.dispatched_at)
    if not claim.update(dispatched_at=claimed_at):
        return False  # another sender claimed it just now, or it started or was cancelled
    ours = model.objects.filter(pk=pk, dispatched_at=claimed_at)
    try:
        send(row)
    except Exception as exc:  # noqa: BLE001 - broker down: keep it in the outbox
        ours.filter(status=queued).update(dispatched_at=None, dispatch_pending=True)
        logger.warning(
            "%s %s not sent to the broker (%s: %s); kept to dispatch, the beat task retries it",
            what,
            pk,
            type(exc).__name__,
            exc,
        )
        return False
    ours.update(dispatch_pending=False)
    return True


def dispatch_pending(
    *,
    model: type[models.Model],
    dispatch_one: Callable[[int], bool],
    lease: timedelta,
    now: datetime | None = None,
    limit: int = 100,
) -> list[int]:
    """``dispatch_one(pk)`` the queued rows of ``model`` still marked ``dispatch_pending``, oldest
    first, at most ``limit``; returns the ids sent.

    A row whose claim is younger than ``lease`` is being sent by someone else and is skipped.
    Stops at the first row left unsent and unclaimed (the broker is down: the next call
    retries), so one tick waits on an unreachable broker once.
    """
    now = now or timezone.now()
    queued = model.Status.QUEUED
    due = (
        model.objects.filter(status=queued, dispatch_pending=True)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - lease))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent: list[int] = []
    for pk in list(due):
        if dispatch_one(pk):
            sent.append(pk)
        elif model.objects.filter(
            pk=pk, status=queued, dispatch_pending=True, dispatched_at__isnull=True
        ).exists():
            break
    return sent
