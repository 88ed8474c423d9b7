"""The one per-process cache of the web processes: bounded, thread-safe, entries with expiry.

``ExpiringCache`` keeps ``key → (expiry, value)`` in a ``cachetools.LRUCache``. One rule for
all its users: an entry is fresh until its expiry; an expired entry is not served unless the
caller asks for it (``stale_ok``: while PostgreSQL is unreachable, the last known answer is
better than none) and stays until replaced, evicted (least recently used first, at
``maxsize``) or cleared. Writes in this process clear what they change at once; other
processes see a change when the entry expires.

Users: verified API keys (``m6rec.tenants.keys``), tenant serving snapshots
(``m6rec.serving.snapshot``) and the item primary key → external id map.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

__all__ = ["ExpiringCache"]

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """A bounded LRU of values with per-entry expiry (seconds of ``time.monotonic``)."""

    def __init__(self, maxsize: int) -> None:
        self._lock = threading.Lock()
        self._data: LRUCache[Hashable, tuple[float, V]] = LRUCache(maxsize=int(maxsize))

    def get(self, key: Hashable, *, stale_ok: bool = False) -> V | None:
        """The value, or None when absent or expired (``stale_ok``: expired too)."""
        with self._lock:  # an LRU read reorders: it is a write
            hit = self._data.get(key)
        if hit is None or (not stale_ok and time.monotonic() >= hit[0]):
            return None
        return hit[1]

    def put(self, key: Hashable, value: V, ttl: float = float("inf")) -> V:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
        return value

    def expire(self, key: Hashable) -> None:
        """Make the entry stale now (kept for ``stale_ok`` reads)."""
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data[key] = (float("-inf"), hit[1])

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]
