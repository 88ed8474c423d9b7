"""Bearer-key authentication, scopes, revocation, last-used throttling, per-key rate limits."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from m6rec.common import auth, caching
from m6rec.common.testing import api_client, make_key
from m6rec.tenants import keys
from m6rec.tenants.keys import clear_api_key_cache
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
    clear_api_key_cache()  # as when the key cache TTL runs out (a direct update sends no signal)
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


def _redis_throttle(settings, redis_url):
    settings.CACHES = {
        **settings.CACHES,
        "throttle-redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "m6rec-test",
        },
    }
    settings.M6REC_THROTTLE_CACHE = "throttle-redis"
    from django.core.cache import caches

    return caches["throttle-redis"]


def test_throttling_counts_in_redis(tenant, redis_url, settings):
    cache = _redis_throttle(settings, redis_url)
    key, token = make_key(tenant, rate_limit="3/min")
    cache.delete(f"throttle:apikey:{key.pk}")
    client = api_client(token)
    statuses = [client.get(ITEMS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # the key's state lives in Redis: its theoretical arrival time, 3 × 20 s ahead of the first
    # request (µs), kept until then
    client_redis = auth._throttle_redis("throttle-redis")[0]
    redis_now_us = client_redis.time()[0] * 1_000_000
    assert 55e6 <= cache.get(f"throttle:apikey:{key.pk}") - redis_now_us <= 61e6
    ttl = client_redis.ttl(cache.make_key(f"throttle:apikey:{key.pk}"))
    assert 55 <= ttl <= 60
    cache.delete(f"throttle:apikey:{key.pk}")
    assert client.get(ITEMS).status_code == 200


def test_redis_throttle_is_429_with_json_and_retry_after(tenant, redis_url, settings):
    cache = _redis_throttle(settings, redis_url)
    key, token = make_key(tenant, rate_limit="2/hour")
    cache.delete(f"throttle:apikey:{key.pk}")
    client = api_client(token)
    assert [client.get(ITEMS).status_code for _ in range(2)] == [200, 200]
    response = client.get(ITEMS)
    error = assert_error(response, 429, "throttled")
    assert 1790 <= int(response["Retry-After"]) <= 1800  # the next of 2 per hour: in 30 min
    assert error["details"]["retry_after"] == int(response["Retry-After"])
    # another key has its own budget; the default rate applies to a key without rate_limit
    other, other_token = make_key(tenant)
    assert api_client(other_token).get(ITEMS).status_code == 200
    assert cache.get(f"throttle:apikey:{other.pk}") is not None
    cache.delete(f"throttle:apikey:{key.pk}")
    cache.delete(f"throttle:apikey:{other.pk}")


def test_redis_throttle_never_lets_twice_the_rate_through_a_window_boundary(
    tenant, redis_url, settings
):
    """One request, then a burst 0.9 s later: a fixed one-second window would let 3 + 4 through
    around its boundary at 1.0 s; GCRA lets the 4-request burst through, then one every 250 ms."""
    cache = _redis_throttle(settings, redis_url)
    key, token = make_key(tenant, rate_limit="4/s")
    cache.delete(f"throttle:apikey:{key.pk}")
    client = api_client(token)
    started = time.monotonic()
    assert client.get(ITEMS).status_code == 200
    time.sleep(max(0.0, 0.9 - (time.monotonic() - started)))
    allowed = 0
    while time.monotonic() - started < 1.3:
        allowed += client.get(ITEMS).status_code == 200
    assert 3 <= allowed <= 5  # the burst (4), and one more at about 1.15 s; a fixed window: 7
    cache.delete(f"throttle:apikey:{key.pk}")


def test_redis_throttle_honours_limits_above_a_thousand_per_second(tenant, redis_url, settings):
    """A key limited to 100,000/s may spend its burst at once: 3,000 quick requests all pass
    (with the arrival time rounded to whole milliseconds, about 1,100 did)."""
    cache = _redis_throttle(settings, redis_url)
    key, token = make_key(tenant, rate_limit="100000/s")
    cache.delete(f"throttle:apikey:{key.pk}")
    throttle = auth.ApiKeyRateThrottle()
    client, redis_cache = auth._throttle_redis("throttle-redis")
    throttle.num_requests, throttle.duration = 100_000, 1
    allowed = sum(
        throttle._allow_redis(client, redis_cache, f"throttle:apikey:{key.pk}") for _ in range(3000)
    )
    assert allowed == 3000
    cache.delete(f"throttle:apikey:{key.pk}")


class _Process(auth.ApiKeyRateThrottle):
    """A throttle with its own leases: another web process of the same key."""

    def __init__(self, limit: int, period: int):
        super().__init__()
        self.leases = auth.TokenLeases()
        self.num_requests, self.duration = limit, period


def _counting_script_calls(monkeypatch) -> list[int]:
    """Count the GCRA script's round trips (the real script still runs)."""
    calls: list[int] = []
    real = auth._gcra_script

    def counted(client):
        script = real(client)

        def call(**kwargs):
            calls.append(kwargs["args"][2])
            return script(**kwargs)

        return call

    monkeypatch.setattr(auth, "_gcra_script", counted)
    return calls


@pytest.fixture
def leased(tenant, redis_url, settings, monkeypatch):
    """The Redis throttle with its round trips counted: (client, cache, key, token counts)."""
    cache = _redis_throttle(settings, redis_url)
    key = f"throttle:apikey:lease-{tenant.pk}"
    cache.delete(key)
    calls = _counting_script_calls(monkeypatch)
    client, redis_cache = auth._throttle_redis("throttle-redis")
    yield client, redis_cache, key, calls
    cache.delete(key)


def test_a_busy_key_takes_its_tokens_a_lease_at_a_time(leased, settings):
    """1,000 requests of a 100,000/s key in one process: far fewer round trips than requests,
    and every request charged in Redis before it was served."""
    client, redis_cache, key, calls = leased
    settings.M6REC_THROTTLE_LEASE_S = 0.05
    process = _Process(100_000, 1)
    assert all(process._allow_redis(client, redis_cache, key) for _ in range(1000))
    assert len(calls) < 200 and max(calls) > 1
    assert sum(calls) >= 1000  # charged before spent


def test_leases_never_let_a_key_past_its_limit(leased, settings):
    """Two processes hammer a 200/s key (a burst of 200, then one every 5 ms) with 10 ms
    leases: together they get no more than GCRA allows, and near the limit they still get
    almost all of it (where a lease does not fit, Redis grants one token)."""
    client, redis_cache, key, calls = leased
    settings.M6REC_THROTTLE_LEASE_S = 0.01
    processes = [_Process(200, 1), _Process(200, 1)]
    started = time.monotonic()
    allowed = sum(processes[i % 2]._allow_redis(client, redis_cache, key) for i in range(1200))
    elapsed = time.monotonic() - started
    assert allowed <= 200 + 200 * elapsed + 2  # (+ µs rounding)
    assert len(calls) <= 1200  # one round trip at most per request, refused or not
    assert allowed >= 190 + 200 * elapsed * 0.5
    assert max(calls) > 1  # leases were taken


def test_keys_with_small_limits_are_checked_on_every_request(leased, settings):
    client, redis_cache, key, calls = leased
    settings.M6REC_THROTTLE_LEASE_S = 0.05
    process = _Process(20, 1)  # the default 1200/min: one token per 50 ms window
    assert [process._allow_redis(client, redis_cache, key) for _ in range(25)].count(True) == 20
    assert calls == [1] * 25


def test_redis_throttle_shares_one_client_per_process(tenant, redis_url, settings):
    _redis_throttle(settings, redis_url)
    first = auth._throttle_redis("throttle-redis")[0]
    assert auth._throttle_redis("throttle-redis")[0] is first


def test_redis_throttle_fails_open_when_redis_is_down(tenant, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "throttle-down": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.M6REC_THROTTLE_CACHE = "throttle-down"
    _, token = make_key(tenant, rate_limit="1/min")
    client = api_client(token)
    assert [client.get(ITEMS).status_code for _ in range(3)] == [200, 200, 200]
    assert "Throttle cache unavailable" in caplog.text


# ---------------------------------------------------------------------- verified-key cache
def test_cached_key_costs_no_query(tenant):
    _, token = make_key(tenant, scopes=["recommend"])
    client = api_client(token)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.get("/api/v1/popular")
    with CaptureQueriesContext(connection) as second:
        client.get("/api/v1/popular")
    key_queries = [q for q in first.captured_queries if "tenants_apikey" in q["sql"]]
    assert len(key_queries) == 2  # the lookup (with its tenant joined) and the last_used write
    assert "tenants_tenant" in key_queries[0]["sql"]  # select_related: no second query
    assert not [q for q in second.captured_queries if "tenants_" in q["sql"]]


def test_key_cache_entries_expire_after_the_ttl(tenant, settings, monkeypatch):
    """Another process's revocation (no signal here) takes effect within the TTL."""
    settings.M6REC_API_KEY_CACHE_TTL = 5.0
    key, token = make_key(tenant)
    client = api_client(token)
    assert client.get(ITEMS).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # no signal
    assert client.get(ITEMS).status_code == 200  # still cached in this process
    now = caching.time.monotonic()
    monkeypatch.setattr(caching.time, "monotonic", lambda: now + 5.01)
    assert_error(client.get(ITEMS), 401, "authentication_failed")


def test_key_cache_can_be_disabled(tenant, settings):
    settings.M6REC_API_KEY_CACHE_TTL = 0
    key, token = make_key(tenant)
    client = api_client(token)
    assert client.get(ITEMS).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert_error(client.get(ITEMS), 401, "authentication_failed")


def test_wrong_secret_is_401_even_with_a_cached_key(tenant):
    _, token = make_key(tenant)
    assert api_client(token).get(ITEMS).status_code == 200
    tampered = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    assert_error(api_client(tampered).get(ITEMS), 401, "authentication_failed")


def test_key_edits_apply_at_once_in_this_process(tenant):
    key, token = make_key(tenant, scopes=["ingest", "recommend"])
    client = api_client(token)
    assert client.get(ITEMS).status_code == 200
    key.scopes = ["recommend"]
    key.save()
    assert_error(client.get(ITEMS), 403, "missing_scope")


def test_admin_revoke_action_applies_at_once(tenant, admin_client):
    key, token = make_key(tenant)
    client = api_client(token)
    assert client.get(ITEMS).status_code == 200
    response = admin_client.post(
        "/admin/tenants/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert response.status_code == 302
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert_error(client.get(ITEMS), 401, "authentication_failed")


# ---------------------------------------------------------------------- failed verifications
UNKNOWN_KEY = "m6r_deadbeef_" + "x" * 43


def test_repeated_bad_keys_cost_one_query_per_ttl(tenant, django_assert_num_queries):
    _, token = make_key(tenant)
    tampered = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    for bad in (UNKNOWN_KEY, tampered):
        client = api_client(bad)
        with django_assert_num_queries(1):
            assert_error(client.get(ITEMS), 401, "authentication_failed")
        with django_assert_num_queries(0):
            for _ in range(20):
                assert_error(client.get(ITEMS), 401, "authentication_failed")
    assert all(bad not in repr(keys.rejected_keys._data) for bad in (UNKNOWN_KEY, tampered))
    assert hash_token(UNKNOWN_KEY) in keys.rejected_keys  # only the token's SHA-256


def test_inactive_tenant_failures_are_cached_too(tenant, django_assert_num_queries):
    _, token = make_key(tenant)
    type(tenant).objects.filter(pk=tenant.pk).update(active=False)  # no signal
    client = api_client(token)
    with django_assert_num_queries(1):
        assert_error(client.get(ITEMS), 401, "authentication_failed")
    with django_assert_num_queries(0):
        error = assert_error(client.get(ITEMS), 401, "authentication_failed")
    assert "inactive" in error["message"]


def test_failed_verifications_expire_after_the_negative_ttl(tenant, settings, monkeypatch):
    settings.M6REC_API_KEY_NEGATIVE_CACHE_TTL = 5.0
    key, token = make_key(tenant)
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # no signal
    client = api_client(token)
    assert_error(client.get(ITEMS), 401, "authentication_failed")
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=None)  # as from another process
    assert_error(client.get(ITEMS), 401, "authentication_failed")  # remembered here
    now = caching.time.monotonic()
    monkeypatch.setattr(caching.time, "monotonic", lambda: now + 5.01)
    assert client.get(ITEMS).status_code == 200


def test_a_key_saved_in_this_process_is_accepted_at_once_after_a_failure(tenant):
    key, token = make_key(tenant)
    api_key_revoke(api_key=key)
    client = api_client(token)
    assert_error(client.get(ITEMS), 401, "authentication_failed")
    key.revoked_at = None
    key.save()  # the save signal clears both caches
    assert client.get(ITEMS).status_code == 200


def test_negative_cache_can_be_disabled(tenant, settings, django_assert_num_queries):
    settings.M6REC_API_KEY_NEGATIVE_CACHE_TTL = 0
    client = api_client(UNKNOWN_KEY)
    with django_assert_num_queries(3):
        for _ in range(3):
            assert_error(client.get(ITEMS), 401, "authentication_failed")
