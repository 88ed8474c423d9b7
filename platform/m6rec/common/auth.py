"""``Authorization: Bearer <api key>`` authentication, scope permissions, per-key throttling.

After authentication ``request.user`` is an :class:`ApiClient` and ``request.auth`` the
:class:`~m6rec.tenants.models.ApiKey` (its ``tenant`` already loaded). Views get the tenant
with :func:`request_tenant`.

The key itself is verified by :func:`m6rec.tenants.keys.api_key_verify` (its in-process caches,
their TTLs and invalidation, the database-outage fallback are described there); a rejected key
is 401 ``authentication_failed`` with the reason as message. Recording the key's last use
(:meth:`~m6rec.tenants.models.ApiKey.touch`) is bookkeeping: a database outage does not fail
the request.

Throttling: the generic cell rate algorithm (GCRA) per key in Redis (one Lua script call, one
round trip, through a shared redis-py connection pool) when the throttle cache is Django's Redis
cache; DRF's sliding-window history in any other cache (local memory). A process that serves
a key fast takes its tokens from Redis a few at a time (:class:`TokenLeases`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from django.conf import settings
from django.core.cache import caches
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from m6rec.common.errors import is_database_outage
from m6rec.common.redis_clients import redis_client
from m6rec.tenants.keys import INVALID_KEY, ApiKeyRejected, api_key_verify
from m6rec.tenants.models import ApiKey, Scope, Tenant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiClient:
    """The authenticated principal of an API request (not a Django user)."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False

    @property
    def tenant(self) -> Tenant:
        return self.api_key.tenant

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header; expected 'Bearer <api key>'."
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID_KEY) from None
        try:
            key = api_key_verify(token=token)
        except ApiKeyRejected as rejected:
            raise exceptions.AuthenticationFailed(rejected.message) from None
        try:
            key.touch()
        except Exception as exc:
            if not is_database_outage(exc):
                raise  # bookkeeping only: an outage must not fail the request
        return ApiClient(key), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


def request_tenant(request) -> Tenant:
    return request.auth.tenant


class MissingScope(exceptions.PermissionDenied):
    default_code = "missing_scope"


class ScopePermission(BasePermission):
    """Subclasses set ``scope``; a key without it gets 403 ``missing_scope``."""

    scope: str = ""

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated()
        if not key.has_scope(self.scope):
            exc = MissingScope(f'This API key lacks the "{self.scope}" scope.')
            exc.extra_details = {"required_scope": self.scope}
            raise exc
        return True


class HasIngestScope(ScopePermission):
    scope = Scope.INGEST


class HasRecommendScope(ScopePermission):
    scope = Scope.RECOMMEND


class HasAdminScope(ScopePermission):
    scope = Scope.ADMIN


_POOL_OPTIONS = {
    "socket_timeout",
    "socket_connect_timeout",
    "socket_keepalive",
    "retry_on_timeout",
    "health_check_interval",
    "max_connections",
    "username",
    "password",
    "db",
}


def _throttle_redis(alias: str):
    """``(redis client, django cache)`` when ``alias`` is Django's Redis cache, else ``None``."""
    from django.core.cache.backends.redis import RedisCache

    cache = caches[alias]
    if not isinstance(cache, RedisCache):
        return None
    conf = settings.CACHES[alias]
    location = conf.get("LOCATION")
    if isinstance(location, str):
        location = location.split(",")
    url = str(location[0]).strip()  # the first server takes the writes (as in Django)
    options = {k: v for k, v in (conf.get("OPTIONS") or {}).items() if k in _POOL_OPTIONS}
    return redis_client(url, **options), cache


# GCRA: KEYS[1] holds the key's theoretical arrival time (TAT) in microseconds on the Redis
# clock (whole milliseconds would move it by at least 1 ms per request and cap every limit at
# 1,000 requests/s; string.format keeps all 16 digits, which Lua's number-to-string would not).
# With emission interval T = period / limit, `cost` requests at `now` are allowed when
# max(TAT, now) + cost * T - period <= now (for one request: TAT - (period - T) <= now); TAT then
# moves to max(TAT, now) + cost * T. ARGV: limit, period in ms, tokens wanted (a lease; when
# they do not fit, one). Returns {tokens granted (0: refused), ms until one would be allowed}.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[2]) * 1000
local interval = period / tonumber(ARGV[1])
local base = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local cost = tonumber(ARGV[3])
if base + cost * interval - period > now then
    cost = 1
end
local tat = base + cost * interval
local earliest = tat - period
if now < earliest then
    return {0, math.ceil((earliest - now) / 1000)}
end
tat = math.ceil(tat)
local ttl = math.max(math.ceil((tat - now) / 1000), 1)
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', ttl)
return {cost, 0}
"""


class TokenLeases:
    """Tokens this process took from keys' Redis budgets ahead of use, spent without a round
    trip until they run out or ``M6REC_THROTTLE_LEASE_S`` (a window) passes.

    A lease is what the key's requests here since the last lease predict for the next window,
    at most a window's worth of the key's limit; a key whose limit gives fewer than two tokens
    per window (the default 20/s, for one) is checked in Redis on every request. Tokens are
    charged in Redis before they are spent, so a key never gets more than its limit; where a
    lease does not fit in the key's budget Redis grants one token, so a key near its limit loses
    at most the unspent tokens of other processes' leases, which expire within a window.
    """

    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key → [tokens left, expires, requests since granted, granted at]
        self._leases: dict[str, list[float]] = {}

    def spend(self, key: str, now: float) -> bool:
        """Spend a leased token of ``key``; False when none is left (ask Redis)."""
        with self._lock:
            lease = self._leases.get(key)
            if lease is None:
                return False
            lease[2] += 1
            if lease[0] >= 1 and now < lease[1]:
                lease[0] -= 1
                return True
            return False

    def size(self, key: str, most: int, now: float, window: float) -> int:
        """Tokens to ask for: the key's rate here since its last lease over one window."""
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or now - lease[3] > 2 * window:
                return 1
            predicted = lease[2] * window / max(now - lease[3], 1e-3)
        return max(1, min(most, round(predicted)))

    def grant(self, key: str, tokens: int, now: float, window: float) -> None:
        """Redis charged ``tokens`` for ``key``: this request spends one, the rest are leased."""
        with self._lock:
            if len(self._leases) >= self.MAX_KEYS:
                self._leases = {k: v for k, v in self._leases.items() if v[1] > now}
            self._leases[key] = [tokens - 1, now + window, 0, now]


@lru_cache(maxsize=64)
def _gcra_script(client):
    """The registered GCRA script (EVALSHA, re-sent by redis-py if Redis forgot it)."""
    return client.register_script(_GCRA_LUA)


@lru_cache(maxsize=256)
def _parse_rate(rate: str) -> tuple[int, int]:
    return SimpleRateThrottle.parse_rate(None, rate)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key request rate: ``ApiKey.rate_limit`` or ``DEFAULT_THROTTLE_RATES["api_key"]``.

    Uses the cache alias ``M6REC_THROTTLE_CACHE`` (default ``"default"``: Redis in production and
    tests, local memory in the quick start). On Redis: GCRA (a leaky bucket kept as one
    timestamp per key, the "theoretical arrival time"): a key may spend its whole ``N/period``
    at once, then one request every ``period/N``; unlike a fixed window it never lets 2 × N
    through around a window boundary. The request over the limit gets 429 with ``Retry-After`` =
    the time until the next request is allowed. A process serving a key fast takes its tokens a
    lease at a time (:class:`TokenLeases`). Elsewhere: DRF's sliding window of timestamps.
    Fails open (logs) when the cache is unreachable, so a cache outage degrades throttling
    instead of the API.
    """

    scope = "api_key"
    leases: ClassVar[TokenLeases] = TokenLeases()  # this process's

    def __init__(self):  # the rate depends on the key: resolved in allow_request
        self._wait: float | None = None

    @property
    def cache_alias(self) -> str:
        return settings.M6REC_THROTTLE_CACHE

    @property
    def cache(self):
        return caches[self.cache_alias]

    def get_cache_key(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            return None
        return f"throttle:apikey:{key.pk}"

    def allow_request(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        self.rate = key.rate_limit or self.get_rate()
        if not self.rate:
            return True
        try:
            self.num_requests, self.duration = _parse_rate(self.rate)
        except (ValueError, KeyError, IndexError):
            logger.warning("API key %s has an invalid rate_limit %r", key.prefix, self.rate)
            self.num_requests, self.duration = _parse_rate(self.get_rate())
        try:
            found = _throttle_redis(self.cache_alias)
            if found is None:
                return super().allow_request(request, view)
            return self._allow_redis(*found, self.get_cache_key(request, view))
        except Exception:  # noqa: BLE001 - cache down: fail open
            logger.warning("Throttle cache unavailable; request not throttled", exc_info=True)
            return True

    def _allow_redis(self, client, cache, key: str) -> bool:
        window = float(settings.M6REC_THROTTLE_LEASE_S)
        most = int(self.num_requests * window / self.duration)  # a window's worth of the limit
        now = time.monotonic()
        if most >= 2 and self.leases.spend(key, now):
            return True
        script = _gcra_script(client)
        redis_key = cache.make_and_validate_key(key)
        args = [self.num_requests, self.duration * 1000]
        wanted = self.leases.size(key, most, now, window) if most >= 2 else 1
        # near the limit the script grants one token, exactly as without leases
        granted, retry_ms = script(keys=[redis_key], args=[*args, wanted])
        if not granted:
            self._wait = max(int(retry_ms) / 1000.0, 0.001)
            return False
        if most >= 2:
            self.leases.grant(key, int(granted), now, window)
        return True

    def wait(self):
        if self._wait is not None:
            return self._wait
        return super().wait()
