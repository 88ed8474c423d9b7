"""Per-tenant training lock with expiry.

Redis (``SET NX PX`` through redis-py's ``Lock``: atomic acquire, owner-checked extend and
release) when ``REDIS_URL`` is set and the default cache is Redis; the Django cache otherwise
(local-memory cache in the single-process quick start). A worker that dies stops extending the
lock, so it expires after ``M6REC_TRAINING_LOCK_TIMEOUT`` seconds (60) and the lost run can be
re-queued (see :func:`m6rec.training.services.training_run_sweep_stuck`). A live run extends
it, and stamps the run's ``heartbeat_at``, every ``M6REC_TRAINING_HEARTBEAT_S`` seconds (10).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from m6rec.common.redis_clients import redis_client


def lock_timeout() -> int:
    return int(settings.M6REC_TRAINING_LOCK_TIMEOUT)


def heartbeat_interval() -> float:
    """Seconds between heartbeats: ``M6REC_TRAINING_HEARTBEAT_S``, at most a third of the lock
    timeout (so two missed beats never lose the lock)."""
    interval = float(settings.M6REC_TRAINING_HEARTBEAT_S)
    return max(0.5, min(interval, lock_timeout() / 3))


def lock_key(tenant_id: int) -> str:
    # the database name keeps test databases and the dev database apart on a shared Redis
    return f"m6rec:{connection.settings_dict.get('NAME')}:training-lock:{tenant_id}"


def _use_redis() -> bool:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return "redis" in backend.lower() and bool(settings.REDIS_URL)


def _redis():
    return redis_client(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


class TenantTrainingLock:
    """``acquire()`` (non-blocking) / ``extend()`` / ``release()``; also a context manager."""

    def __init__(self, tenant_id: int, *, timeout: int | None = None) -> None:
        self.key = lock_key(tenant_id)
        self.timeout = timeout or lock_timeout()
        self.token = uuid.uuid4().hex
        self._lock = None
        self.held = False

    def acquire(self) -> bool:
        if _use_redis():
            self._lock = _redis().lock(self.key, timeout=self.timeout, thread_local=False)
            self.held = bool(self._lock.acquire(blocking=False, token=self.token))
        else:
            self.held = bool(cache.add(self.key, self.token, self.timeout))
        return self.held

    def extend(self) -> bool | None:
        """Reset the expiry to the full timeout: ``True``; ``False`` when the lock was lost
        (expired or taken); ``None`` when Redis could not be asked (an outage)."""
        if not self.held:
            return False
        if self._lock is not None:
            from redis.exceptions import LockError

            try:
                return bool(self._lock.reacquire())
            except LockError:  # LockNotOwnedError: expired, or another owner
                return False
            except Exception:  # noqa: BLE001 - connection errors: unknown, not lost
                return None
        if cache.get(self.key) != self.token:
            return False
        return bool(cache.touch(self.key, self.timeout))

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self._lock is not None:
            # expired or taken over: nothing to release
            with contextlib.suppress(Exception):
                self._lock.release()
            return
        if cache.get(self.key) == self.token:
            cache.delete(self.key)


def lock_is_held(tenant_id: int) -> bool:
    """Whether any process holds the tenant's training lock right now."""
    key = lock_key(tenant_id)
    if _use_redis():
        return bool(_redis().exists(key))
    return cache.get(key) is not None


class Heartbeat:
    """Background thread that extends the lock and calls ``beat()`` every ``interval`` seconds
    while a long engine stage runs without reporting progress. ``lost`` turns true when the
    lock is known lost, or could not be extended for longer than its timeout (a Redis outage
    shorter than that does not abort the run)."""

    def __init__(self, lock: TenantTrainingLock, beat, *, interval: float | None = None) -> None:
        self.lock = lock
        self.beat = beat
        self.interval = interval or min(heartbeat_interval(), max(0.5, lock.timeout / 3))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="training-heartbeat", daemon=True)
        self.lost = False
        self._extended_at = time.monotonic()

    def tick(self, now: float) -> None:
        """One heartbeat at monotonic time ``now``: extend the lock, then ``beat()``."""
        extended = self.lock.extend()
        if extended:
            self._extended_at = now
        elif extended is False or now - self._extended_at > self.lock.timeout:
            self.lost = True
        with contextlib.suppress(Exception):  # a missed heartbeat is not fatal
            self.beat()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.tick(time.monotonic())
        finally:
            connection.close()  # this thread's own database connection

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
