"""API-key verification: a bearer token → its active ``ApiKey`` (tenant loaded), with caches.

Verified keys are cached in-process for ``M6REC_API_KEY_CACHE_TTL`` seconds (default 5), keyed
by the SHA-256 of the whole token, so a hit costs no query. Failed verifications are cached
the same way (the digest and the error message, never the token) for
``M6REC_API_KEY_NEGATIVE_CACHE_TTL`` seconds (default 5): a flood of requests with one bad key
costs one query per process and period, not one per request. A TTL of 0 turns its cache off.
Revoking a key, or saving/deleting any key or tenant, clears both caches of this process at
once (and again on commit; see :func:`clear_api_key_cache`); other processes see the change
within the TTLs (a key created in another process is accepted here at the latest
``M6REC_API_KEY_NEGATIVE_CACHE_TTL`` seconds after a failed try). While PostgreSQL is
unreachable, a key this process verified before keeps working past its TTL. The cached
``ApiKey``/``Tenant`` objects are shared by the requests of one process: treat them as
read-only.

Both caches are :class:`~m6rec.common.caching.ExpiringCache` instances of at most
``KEY_CACHE_MAX_ENTRIES`` entries each.
"""

from __future__ import annotations

from django.conf import settings

from m6rec.common.caching import ExpiringCache
from m6rec.common.errors import is_database_outage
from m6rec.tenants.models import ApiKey, hash_token, split_token

__all__ = [
    "INACTIVE_TENANT",
    "INVALID_KEY",
    "ApiKeyRejected",
    "api_key_verify",
    "clear_api_key_cache",
]

INVALID_KEY = "The API key is invalid or has been revoked."
INACTIVE_TENANT = "The tenant of this API key is inactive."

KEY_CACHE_MAX_ENTRIES = 10_000

# sha256(token) → the verified ApiKey (its tenant loaded) / the message of the failed check
verified_keys: ExpiringCache[ApiKey] = ExpiringCache(maxsize=KEY_CACHE_MAX_ENTRIES)
rejected_keys: ExpiringCache[str] = ExpiringCache(maxsize=KEY_CACHE_MAX_ENTRIES)


class ApiKeyRejected(Exception):
    """The token names no active key of an active tenant; ``message`` is for the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clear_api_key_cache(**_signal_kwargs) -> None:
    """Forget every cached key verification in this process (revocation, key/tenant edits)."""
    verified_keys.clear()
    rejected_keys.clear()


def api_key_verify(*, token: str) -> ApiKey:
    """The active ``ApiKey`` (tenant loaded) whose token is ``token``.

    At most one query (none on a cache hit). Raises :class:`ApiKeyRejected` (``INVALID_KEY`` or
    ``INACTIVE_TENANT``); a database outage propagates unless this process verified the key
    before (a revocation made meanwhile applies once the database is back).
    """
    prefix = split_token(token)
    if prefix is None:
        raise ApiKeyRejected(INVALID_KEY)
    digest = hash_token(token)
    key = verified_keys.get(digest)
    if key is not None:
        return key
    rejected = rejected_keys.get(digest)
    if rejected is not None:
        raise ApiKeyRejected(rejected)
    try:
        return _api_key_lookup(prefix=prefix, digest=digest)
    except Exception as exc:
        key = verified_keys.get(digest, stale_ok=True) if is_database_outage(exc) else None
        if key is None:
            raise
        return key


def _api_key_lookup(*, prefix: str, digest: str) -> ApiKey:
    """The database check (one query, tenant joined); caches its answer either way."""
    key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
    if key is None or not key.check_digest(digest) or not key.is_active:
        raise _rejected(digest=digest, message=INVALID_KEY)
    if not key.tenant.active:
        raise _rejected(digest=digest, message=INACTIVE_TENANT)
    ttl = float(settings.M6REC_API_KEY_CACHE_TTL)
    if ttl > 0:
        verified_keys.put(digest, key, ttl)
    return key


def _rejected(*, digest: str, message: str) -> ApiKeyRejected:
    ttl = float(settings.M6REC_API_KEY_NEGATIVE_CACHE_TTL)
    if ttl > 0:
        rejected_keys.put(digest, message, ttl)
    return ApiKeyRejected(message)
