"""The one per-process cache: expiry, stale reads on request, least-recently-used eviction."""

from __future__ import annotations

from m6rec.common import caching
from m6rec.common.caching import ExpiringCache


def test_entries_expire_but_stay_readable_as_stale(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(caching.time, "monotonic", lambda: now[0])
    cache: ExpiringCache[str] = ExpiringCache(4)
    cache.put("a", "A", 5.0)
    assert cache.get("a") == "A" and "a" in cache
    now[0] = 105.0
    assert cache.get("a") is None and "a" not in cache
    assert cache.get("a", stale_ok=True) == "A"
    cache.put("b", "B")  # no ttl: never expires
    now[0] = 1e9
    assert cache.get("b") == "B"


def test_expire_keeps_the_value_for_stale_reads_and_pop_drops_it():
    cache: ExpiringCache[str] = ExpiringCache(4)
    cache.put("a", "A", 60.0)
    cache.expire("a")
    cache.expire("missing")  # nothing to expire: nothing happens
    assert cache.get("a") is None and cache.get("a", stale_ok=True) == "A"
    cache.pop("a")
    assert cache.get("a", stale_ok=True) is None and len(cache) == 0


def test_the_least_recently_used_entry_goes_first():
    cache: ExpiringCache[int] = ExpiringCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recently used
    cache.put("c", 3)
    assert cache.get("b", stale_ok=True) is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    cache.clear()
    assert len(cache) == 0
