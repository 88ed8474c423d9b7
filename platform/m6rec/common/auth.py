"""``Authorization: Bearer <api key>`` authentication, scope permissions, per-key throttling.

After authentication ``request.user`` is an :class:`ApiClient` and ``request.auth`` the
:class:`~m6rec.tenants.models.ApiKey` (its ``tenant`` already loaded). Views get the tenant
with :func:`request_tenant`.

Verified keys are cached in-process for ``M6REC_API_KEY_CACHE_TTL`` seconds (default 5), keyed
by the SHA-256 of the whole token, so a hit costs no query. Failed verifications are cached
the same way (the digest and the error message, never the token) for
``M6REC_API_KEY_NEGATIVE_CACHE_TTL`` seconds (default 5): a flood of requests with one bad key
costs one query per process and period, not one per request. Revoking a key, or
saving/deleting any key or tenant, clears both caches of this process at once (and again on
commit); other processes see the change within the TTLs (a key created in another process is
accepted here at the latest ``M6REC_API_KEY_NEGATIVE_CACHE_TTL`` seconds after a failed try).
The cached ``ApiKey``/``Tenant`` objects are shared by the requests of one process: treat them
as read-only.

Throttling: the generic cell rate algorithm (GCRA) per key in Redis (one Lua script call, one
round trip, through a shared redis-py connection pool) when the throttle cache is Django's Redis
cache; DRF's sliding-window history in any other cache (local memory).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from m6rec.common.errors import is_database_outage
from m6rec.tenants.models import ApiKey, Scope, Tenant, hash_token, split_token

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


INVALID_KEY = "The API key is invalid or has been revoked."
INACTIVE_TENANT = "The tenant of this API key is inactive."

KEY_CACHE_MAX_ENTRIES = 10_000


class _VerifiedKeyCache:
    """sha256(token) → (monotonic expiry, value); thread-safe. The verified ``ApiKey`` with its
    tenant, or (``rejected_keys``) the message of the failed verification."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, object]] = {}

    def get(self, digest: str, *, stale_ok: bool = False):
        """The cached value, or None when absent or expired (``stale_ok``: expired too; expired
        entries stay until replaced or the cache is full, for a database outage)."""
        hit = self._data.get(digest)
        if hit is None or (time.monotonic() >= hit[0] and not stale_ok):
            return None
        return hit[1]

    def put(self, digest: str, key, ttl: float) -> None:
        with self._lock:
            if len(self._data) >= KEY_CACHE_MAX_ENTRIES:
                self._data.clear()
            self._data[digest] = (time.monotonic() + ttl, key)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


verified_keys = _VerifiedKeyCache()
rejected_keys = _VerifiedKeyCache()


def clear_api_key_cache(**_signal_kwargs) -> None:
    """Forget every cached key verification in this process (revocation, key/tenant edits)."""
    verified_keys.clear()
    rejected_keys.clear()


def _key_cache_ttl() -> float:
    return float(settings.M6REC_API_KEY_CACHE_TTL)


def _negative_key_cache_ttl() -> float:
    return float(settings.M6REC_API_KEY_NEGATIVE_CACHE_TTL)


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
        prefix = split_token(token)
        if prefix is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        digest = hash_token(token)
        key = verified_keys.get(digest)
        if key is None:
            rejected = rejected_keys.get(digest)
            if rejected is not None:
                raise exceptions.AuthenticationFailed(rejected)
            try:
                key = self._verify(prefix, digest)
            except Exception as exc:
                # PostgreSQL unreachable: a key this process verified before keeps working
                # (a revocation made meanwhile applies once the database is back)
                key = verified_keys.get(digest, stale_ok=True) if is_database_outage(exc) else None
                if key is None:
                    raise
        try:
            key.touch()
        except Exception as exc:
            if not is_database_outage(exc):
                raise  # bookkeeping only: an outage must not fail the request
        return ApiClient(key), key

    @staticmethod
    def _reject(digest: str, message: str) -> exceptions.AuthenticationFailed:
        ttl = _negative_key_cache_ttl()
        if ttl > 0:
            rejected_keys.put(digest, message, ttl)
        return exceptions.AuthenticationFailed(message)

    @classmethod
    def _verify(cls, prefix: str, digest: str) -> ApiKey:
        """The active key of an active tenant whose token hashes to ``digest`` (one query)."""
        key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
        if key is None or not key.check_digest(digest) or not key.is_active:
            raise cls._reject(digest, INVALID_KEY)
        if not key.tenant.active:
            raise cls._reject(digest, INACTIVE_TENANT)
        ttl = _key_cache_ttl()
        if ttl > 0:
            verified_keys.put(digest, key, ttl)
        return key

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


@lru_cache(maxsize=64)
def _redis_client(url: str, options: tuple[tuple[str, object], ...]):
    """One redis-py client (and connection pool) per Redis URL and options, per process.

    redis-py pools are thread-safe and reset themselves in a forked child.
    """
    import redis

    return redis.Redis(connection_pool=redis.ConnectionPool.from_url(url, **dict(options)))


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
    options = tuple(
        sorted((k, v) for k, v in (conf.get("OPTIONS") or {}).items() if k in _POOL_OPTIONS)
    )
    return _redis_client(url, options), cache


# GCRA: KEYS[1] holds the key's theoretical arrival time (TAT, ms on the Redis clock). With
# emission interval T = period / limit and burst tolerance period - T, a request at `now` is
# allowed when TAT - (period - T) <= now; it then moves TAT to max(TAT, now) + T. Returns
# {allowed, ms until the next request is allowed}.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[2])
local interval = period / tonumber(ARGV[1])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local earliest = tat - (period - interval)
if now < earliest then
    return {0, math.ceil(earliest - now)}
end
tat = tat + interval
redis.call('SET', KEYS[1], math.ceil(tat), 'PX', math.max(math.ceil(tat - now), 1))
return {1, 0}
"""


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
    the time until the next request is allowed. Elsewhere: DRF's sliding window of timestamps.
    Fails open (logs) when the cache is unreachable, so a cache outage degrades throttling
    instead of the API.
    """

    scope = "api_key"

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
        script = _gcra_script(client)
        allowed, retry_ms = script(
            keys=[cache.make_and_validate_key(key)],
            args=[self.num_requests, self.duration * 1000],
        )
        if not allowed:
            self._wait = max(int(retry_ms) / 1000.0, 0.001)
            return False
        return True

    def wait(self):
        if self._wait is not None:
            return self._wait
        return super().wait()
