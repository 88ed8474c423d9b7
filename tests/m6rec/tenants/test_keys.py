"""tenants.keys: token verification, its positive and negative caches, the outage fallback.

The HTTP side (401 bodies, scopes, invalidation by admin edits) is in test_auth.py.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from m6rec.common import caching
from m6rec.common.testing import make_key
from m6rec.tenants import keys
from m6rec.tenants.keys import (
    INACTIVE_TENANT,
    INVALID_KEY,
    ApiKeyRejected,
    api_key_verify,
    clear_api_key_cache,
)
from m6rec.tenants.models import ApiKey, Tenant, hash_token

pytestmark = pytest.mark.django_db

UNKNOWN_KEY = "m6r_deadbeef_" + "x" * 43
REFUSED = 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'


def _tampered(token: str) -> str:
    return token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")


def _rejection(token: str) -> str:
    with pytest.raises(ApiKeyRejected) as rejected:
        api_key_verify(token=token)
    assert str(rejected.value) == rejected.value.message
    return rejected.value.message


@contextmanager
def _postgres_down():
    """Every query of this connection fails as with PostgreSQL stopped."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError(REFUSED)

    with connection.execute_wrapper(refuse):
        yield


def _later(monkeypatch, seconds: float) -> None:
    now = caching.time.monotonic()
    monkeypatch.setattr(caching.time, "monotonic", lambda: now + seconds)


def test_valid_token_gives_its_key_with_the_tenant(tenant, django_assert_num_queries):
    key, token = make_key(tenant)
    with django_assert_num_queries(1):  # the tenant is joined
        verified = api_key_verify(token=token)
        assert verified.pk == key.pk and verified.tenant.slug == tenant.slug


def test_verified_key_is_cached_without_a_query(tenant, django_assert_num_queries):
    _, token = make_key(tenant)
    first = api_key_verify(token=token)
    with django_assert_num_queries(0):
        assert api_key_verify(token=token) is first
    assert token not in repr(keys.verified_keys._data)  # keyed by the token's SHA-256
    assert hash_token(token) in keys.verified_keys


def test_malformed_tokens_are_rejected_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        for token in ("", "nonsense", "m6r_deadbeef", "m6r_deadbeefX" + "x" * 43):
            assert _rejection(token) == INVALID_KEY
    assert len(keys.rejected_keys) == 0


def test_rejections_are_cached_for_the_negative_ttl(
    tenant, settings, monkeypatch, django_assert_num_queries
):
    settings.M6REC_API_KEY_NEGATIVE_CACHE_TTL = 5.0
    key, token = make_key(tenant)
    for bad in (UNKNOWN_KEY, _tampered(token)):
        with django_assert_num_queries(1):
            assert _rejection(bad) == INVALID_KEY
        with django_assert_num_queries(0):
            assert _rejection(bad) == INVALID_KEY
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # no signal
    assert _rejection(token) == INVALID_KEY
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=None)  # as from another process
    assert _rejection(token) == INVALID_KEY  # remembered here
    _later(monkeypatch, 5.01)
    assert api_key_verify(token=token).pk == key.pk


def test_inactive_tenant_is_rejected_and_cached(tenant, django_assert_num_queries):
    _, token = make_key(tenant)
    Tenant.objects.filter(pk=tenant.pk).update(active=False)  # no signal
    with django_assert_num_queries(1):
        assert _rejection(token) == INACTIVE_TENANT
    with django_assert_num_queries(0):
        assert _rejection(token) == INACTIVE_TENANT


def test_verified_keys_expire_after_the_ttl(tenant, settings, monkeypatch):
    settings.M6REC_API_KEY_CACHE_TTL = 5.0
    key, token = make_key(tenant)
    api_key_verify(token=token)
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # no signal
    assert api_key_verify(token=token).pk == key.pk  # still cached
    _later(monkeypatch, 5.01)
    assert _rejection(token) == INVALID_KEY


def test_ttl_zero_caches_nothing(tenant, settings, django_assert_num_queries):
    settings.M6REC_API_KEY_CACHE_TTL = 0
    settings.M6REC_API_KEY_NEGATIVE_CACHE_TTL = 0
    _, token = make_key(tenant)
    with django_assert_num_queries(6):
        for _ in range(3):
            api_key_verify(token=token)
            assert _rejection(UNKNOWN_KEY) == INVALID_KEY
    assert len(keys.verified_keys) == 0 and len(keys.rejected_keys) == 0


def test_clear_forgets_both_caches(tenant):
    _, token = make_key(tenant)
    api_key_verify(token=token)
    _rejection(UNKNOWN_KEY)
    clear_api_key_cache(sender=ApiKey, instance=None)  # also a signal receiver
    assert len(keys.verified_keys) == 0 and len(keys.rejected_keys) == 0


# ------------------------------------------------------------------------- database outage
def test_outage_serves_a_key_verified_before_past_its_ttl(tenant, monkeypatch):
    key, token = make_key(tenant)
    api_key_verify(token=token)
    _later(monkeypatch, 3600)
    with _postgres_down():
        assert api_key_verify(token=token).pk == key.pk


def test_outage_propagates_for_a_key_not_verified_before(tenant, monkeypatch):
    _, token = make_key(tenant)
    _, other = make_key(tenant)
    api_key_verify(token=other)
    _later(monkeypatch, 3600)
    with _postgres_down():
        for bad in (token, _tampered(other), UNKNOWN_KEY):
            with pytest.raises(OperationalError):
                api_key_verify(token=bad)


def test_outage_does_not_serve_an_expired_rejection(monkeypatch):
    _rejection(UNKNOWN_KEY)
    _later(monkeypatch, 3600)
    with _postgres_down(), pytest.raises(OperationalError):
        api_key_verify(token=UNKNOWN_KEY)


def test_outage_propagates_when_the_cache_is_off(tenant, settings):
    settings.M6REC_API_KEY_CACHE_TTL = 0
    _, token = make_key(tenant)
    api_key_verify(token=token)
    with _postgres_down(), pytest.raises(OperationalError):
        api_key_verify(token=token)


def test_other_errors_are_not_covered_by_the_stale_key(tenant, monkeypatch):
    _, token = make_key(tenant)
    api_key_verify(token=token)
    _later(monkeypatch, 3600)

    def bug(execute, sql, params, many, context):
        raise ValueError("not an outage")

    with connection.execute_wrapper(bug), pytest.raises(ValueError):
        api_key_verify(token=token)
