"""One redis-py client per Redis URL and options, per process.

The throttle, the impression counters, the training lock and the health checks each talk to
Redis with their own timeouts; each asks here, so a process holds one connection pool per
(URL, options). redis-py pools are thread-safe and reset themselves in a forked child.
"""

from __future__ import annotations

from functools import lru_cache

import redis

__all__ = ["redis_client"]


@lru_cache(maxsize=64)
def redis_client(url: str, **options) -> redis.Redis:
    """The client for ``url`` with connection-pool ``options`` (``socket_timeout``, …)."""
    return redis.Redis(connection_pool=redis.ConnectionPool.from_url(url, **options))
