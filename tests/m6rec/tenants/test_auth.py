"""Bearer-key authentication, scopes, revocation, last-used throttling, per-key rate limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from m6rec.common.testing import api_client, make_key
from m6rec.tenants.models import ApiKey, hash_token
from m6rec.tenants.services import api_key_revoke

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/items"


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_key_is_stored_hashed_with_visible_prefix(tenant):
    key, token = make_key(tenant)
    stored = ApiKey.objects.get(pk=key.pk)
    assert token.startswith(f"m6r_{stored.prefix}_")
    assert stored.secret_hash == hash_token(token)
    assert token not in {stored.secret_hash, stored.prefix, str(stored)}


def test_valid_key_authenticates(api):
    assert api.get(ITEMS).status_code == 200


def test_missing_header_is_401(tenant):
    error = assert_error(api_client().get(ITEMS), 401, "not_authenticated")
    assert "credentials" in error["message"].lower()


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer nonsense", "Bearer m6r_deadbeef_" + "x" * 43, "Bearer é"],
)
def test_bad_keys_are_401(tenant, header):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get(ITEMS), 401, "authentication_failed")


def test_right_prefix_wrong_secret_is_401(tenant):
    _, token = make_key(tenant)
    tampered = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    assert_error(api_client(tampered).get(ITEMS), 401, "authentication_failed")


def test_revoked_key_is_401(tenant):
    key, token = make_key(tenant)
    client = api_client(token)
    assert client.get(ITEMS).status_code == 200
    api_key_revoke(api_key=key)
    error = assert_error(client.get(ITEMS), 401, "authentication_failed")
    assert "revoked" in error["message"]


def test_inactive_tenant_is_401(tenant):
    _, token = make_key(tenant)
    tenant.active = False
    tenant.save()
    assert_error(api_client(token).get(ITEMS), 401, "authentication_failed")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/items", None),
        ("post", "/api/v1/items", {"items": [{"item_id": "1"}]}),
        ("get", "/api/v1/items/1", None),
        ("delete", "/api/v1/items/1", None),
        ("get", "/api/v1/users", None),
        ("post", "/api/v1/users", {"users": [{"user_id": "1"}]}),
        ("get", "/api/v1/users/1", None),
        ("delete", "/api/v1/users/1", None),
        ("post", "/api/v1/interactions", {"interactions": [{"user_id": "1", "item_id": "1"}]}),
    ],
)
def test_missing_ingest_scope_is_403(tenant, method, path, body):
    _, token = make_key(tenant, scopes=["recommend", "admin"])
    response = getattr(api_client(token), method)(path, body, format="json")
    error = assert_error(response, 403, "missing_scope")
    assert error["details"] == {"required_scope": "ingest"}
    assert "ingest" in error["message"]


def test_last_used_is_written_at_most_once_a_minute(tenant):
    key, token = make_key(tenant)
    client = api_client(token)
    client.get(ITEMS)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    client.get(ITEMS)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first  # not rewritten
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get(ITEMS)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first - timedelta(seconds=1)
    assert ApiKey.objects.get(pk=key.pk).last_used_at <= timezone.now()


def test_per_key_rate_limit_is_429_with_json(tenant):
    _, token = make_key(tenant, rate_limit="2/min")
    client = api_client(token)
    assert client.get(ITEMS).status_code == 200
    assert client.get(ITEMS).status_code == 200
    response = client.get(ITEMS)
    error = assert_error(response, 429, "throttled")
    assert error["details"]["retry_after"] >= 1
    assert int(response["Retry-After"]) >= 1
    # another key of the same tenant has its own budget
    assert api_client(make_key(tenant)[1]).get(ITEMS).status_code == 200


def test_throttling_counts_in_redis(tenant, redis_url, settings):
    settings.CACHES = {
        **settings.CACHES,
        "throttle-redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "m6rec-test",
        },
    }
    settings.M6REC_THROTTLE_CACHE = "throttle-redis"
    key, token = make_key(tenant, rate_limit="3/min")
    from django.core.cache import caches

    cache = caches["throttle-redis"]
    cache.delete(f"throttle:apikey:{key.pk}")
    client = api_client(token)
    statuses = [client.get(ITEMS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(cache.get(f"throttle:apikey:{key.pk}")) == 3  # the history lives in Redis
    cache.delete(f"throttle:apikey:{key.pk}")
    assert client.get(ITEMS).status_code == 200
