"""Impression counters: per process → Redis → the database, never a write per request.

A recommendation response adds to an in-process buffer (a dict increment under a lock). A
daemon thread per process moves the buffer to Redis every ``M6REC_IMPRESSIONS_FLUSH_S``
seconds (one pipeline of ``HINCRBY``s into the tenant's hash); the beat task
``online.tasks.flush_impressions`` moves Redis into :class:`ImpressionCount` rows (rename
the hash, read it, add it to the rows, delete it) every ``M6REC_IMPRESSIONS_DB_FLUSH_S``
seconds. Without a Redis URL (the SQLite quick start) the thread adds to the rows directly.

What can be lost: a process killed without warning loses at most one buffer interval of its
own counts; a Redis restart loses what it held since the last database flush (both figures
are measured by ``benchmarks/online_loop.py``). While Redis is unreachable the buffer keeps
counting (bounded by ``MAX_BUFFERED_KEYS``) and is retried; serving never waits on it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from m6rec.common.redis_clients import redis_client

logger = logging.getLogger(__name__)

__all__ = ["Key", "buffer", "flush_buffer", "flush_to_database", "pending", "record"]

HASH_PREFIX = "m6rec:impressions:"
TENANTS_SET = "m6rec:impressions:tenants"
FLUSH_LOCK = "m6rec:impressions:flush-lock"
MAX_BUFFERED_KEYS = 100_000

Key = tuple[int, str, int, str, str, int, int]
"""(tenant id, day ISO, model version (0 none), strategy, surface, experiment (0), arm (-1))."""


def _redis_url() -> str:
    return str(settings.M6REC_IMPRESSIONS_REDIS_URL or "")


def _interval() -> float:
    return float(settings.M6REC_IMPRESSIONS_FLUSH_S)


def _redis(url: str):
    return redis_client(url, socket_timeout=1.0, socket_connect_timeout=0.5)


class _Buffer:
    """This process's counts not yet handed on, and the thread that hands them on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Key, list[int]] = {}
        self._pid = 0
        self.lost = 0  # counts dropped because the buffer was full during an outage

    def add(self, key: Key, items: int) -> None:
        with self._lock:
            got = self._counts.get(key)
            if got is None:
                if len(self._counts) >= MAX_BUFFERED_KEYS:
                    self.lost += items
                    return
                self._counts[key] = [items, 1]
            else:
                got[0] += items
                got[1] += 1
        if self._pid != os.getpid():  # first count in this process (or after a fork)
            self._start()

    def take(self) -> dict[Key, list[int]]:
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    def give_back(self, counts: dict[Key, list[int]]) -> None:
        for key, (items, responses) in counts.items():
            with self._lock:
                got = self._counts.setdefault(key, [0, 0])
                got[0] += items
                got[1] += responses

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
        thread = threading.Thread(target=self._run, name="m6rec-impressions", daemon=True)
        thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(_interval())
            try:
                flush_buffer()
            except Exception:  # noqa: BLE001 - the thread must survive anything
                logger.exception("impression flush failed; retrying")
            finally:
                close_old_connections()


buffer = _Buffer()


def record(
    *,
    tenant_id: int,
    items: int,
    model_version: int | None,
    strategy: str,
    surface: str,
    experiment_id: int | None = None,
    arm: int | None = None,
) -> None:
    """Count one response showing ``items`` items (cheap; never raises)."""
    day = datetime.now(UTC).date().isoformat()
    key = (
        tenant_id,
        day,
        model_version or 0,
        strategy,
        surface,
        experiment_id or 0,
        -1 if arm is None else arm,
    )
    buffer.add(key, items)


def _field(key: Key) -> str:
    return "|".join(str(part) for part in key[1:])


def _parse(tenant_id: int, field: str) -> Key:
    day, version, strategy, surface, experiment, arm = field.split("|")
    return (tenant_id, day, int(version), strategy, surface, int(experiment), int(arm))


def flush_buffer() -> None:
    """Hand this process's counts to Redis (or to the database without Redis)."""
    counts = buffer.take()
    if not counts:
        return
    url = _redis_url()
    try:
        if url:
            client = _redis(url)
            pipe = client.pipeline(transaction=False)
            for key, (items, responses) in counts.items():
                name = f"{HASH_PREFIX}{key[0]}"
                pipe.hincrby(name, f"{_field(key)}|i", items)
                pipe.hincrby(name, f"{_field(key)}|r", responses)
                pipe.sadd(TENANTS_SET, key[0])
            pipe.execute()
        else:
            _add_rows(counts)
    except Exception:
        buffer.give_back(counts)
        raise


def _decode(tenant_id: int, raw: dict) -> dict[Key, list[int]]:
    counts: dict[Key, list[int]] = {}
    for field, value in raw.items():
        field = field.decode() if isinstance(field, bytes) else field
        base, kind = field.rsplit("|", 1)
        got = counts.setdefault(_parse(tenant_id, base), [0, 0])
        got[0 if kind == "i" else 1] += int(value)
    return counts


def pending(tenant_id: int) -> dict[Key, list[int]]:
    """Counts of ``tenant_id`` waiting in Redis (not yet in the database): the live hash and a
    hash staged by a flush that has not finished; {} without Redis. (In the milliseconds
    between a flush's commit and its deleting the staged hash, a read counts those twice.)"""
    url = _redis_url()
    if not url:
        return {}
    live = f"{HASH_PREFIX}{tenant_id}"
    try:
        client = _redis(url)
        counts = _decode(tenant_id, client.hgetall(live))
        for key, (items, responses) in _decode(
            tenant_id, client.hgetall(f"{live}:flushing")
        ).items():
            got = counts.setdefault(key, [0, 0])
            got[0] += items
            got[1] += responses
        return counts
    except Exception:  # noqa: BLE001 - results read the database part when Redis is down
        logger.warning("impressions pending in Redis could not be read", exc_info=True)
        return {}


def flush_to_database(tenant_ids: Iterable[int] | None = None) -> int:
    """Move the Redis counters into :class:`ImpressionCount` rows; returns the keys moved.

    One flusher at a time (a Redis lock). Each tenant's hash is renamed to a staged hash first,
    so increments arriving meanwhile go to a fresh live hash; the staged hash is deleted once
    its counts are committed. When the database write fails the error is raised and the staged
    hash stays: reads still count it (:func:`pending`) and the next flush writes it first. A
    tenant stays in the set of tenants with counters (a few bytes each), so nothing waits for
    the tenant's next impression.
    """
    url = _redis_url()
    if not url:
        flush_buffer()
        return 0
    client = _redis(url)
    token = uuid.uuid4().hex
    if not client.set(FLUSH_LOCK, token, nx=True, ex=60):
        return 0
    moved = 0
    try:
        ids = (
            [int(t) for t in client.smembers(TENANTS_SET)]
            if tenant_ids is None
            else list(tenant_ids)
        )
        for tenant_id in ids:
            live = f"{HASH_PREFIX}{tenant_id}"
            staged = f"{live}:flushing"
            if not client.exists(staged):  # a staged hash left by a failed flush goes first
                try:
                    client.rename(live, staged)
                except Exception:  # noqa: BLE001 - no such key: nothing counted since
                    continue
            counts = _decode(tenant_id, client.hgetall(staged))
            _add_rows(counts)
            client.delete(staged)
            moved += len(counts)
    finally:
        if client.get(FLUSH_LOCK) == token.encode():
            client.delete(FLUSH_LOCK)
    return moved


_UPSERT = """
INSERT INTO online_impressioncount
    (tenant_id, day, model_version, strategy, surface, experiment_id, arm, impressions, responses)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (tenant_id, day, model_version, strategy, surface, experiment_id, arm)
DO UPDATE SET impressions = online_impressioncount.impressions + excluded.impressions,
              responses = online_impressioncount.responses + excluded.responses
"""


def _add_rows(counts: dict[Key, list[int]]) -> None:
    from m6rec.tenants.models import Tenant

    if not counts:
        return
    live = set(Tenant.objects.filter(pk__in={k[0] for k in counts}).values_list("pk", flat=True))
    params = [
        (k[0], date.fromisoformat(k[1]), k[2], k[3], k[4], k[5], k[6], v[0], v[1])
        for k, v in counts.items()
        if k[0] in live  # a tenant deleted meanwhile: its counts go with it
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_UPSERT, params)
