"""PostgreSQL stopped under a live server (issue 14, item 2): every API request answers 200
or a JSON 503 ``database_unavailable`` with ``Retry-After``, never a 500, and everything
answers again once PostgreSQL is back, without restarting the server.

gunicorn runs with the production settings (persistent connections with health checks) on the
session's throwaway PostgreSQL cluster, which this test stops (fast shutdown: connected
clients are cut off; immediate: a crash) and starts again.
"""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.integration

READS = [
    ("GET", "/api/v1/users/u0/recommendations?k=5", None),
    ("POST", "/api/v1/recommendations", {"recent_items": ["i0"], "k": 5}),
    ("GET", "/api/v1/items/i0/similar?k=5", None),
    ("GET", "/api/v1/popular?k=5", None),
    ("GET", "/api/v1/items", None),
    ("GET", "/api/v1/items/i0", None),
    ("GET", "/api/v1/users", None),
    ("GET", "/api/v1/users/u0", None),
    ("GET", "/api/v1/models/runs", None),
    ("GET", "/api/v1/models/versions", None),
]
WRITES = [
    ("POST", "/api/v1/items", {"items": [{"item_id": "new", "properties": {}}]}),
    ("POST", "/api/v1/users", {"users": [{"user_id": "new", "properties": {}}]}),
    ("POST", "/api/v1/interactions", {"interactions": [{"user_id": "u1", "item_id": "i1"}]}),
    ("DELETE", "/api/v1/items/i2", None),
    ("POST", "/api/v1/models/train", {}),
    ("POST", "/api/v1/models/rollback", {}),
]
OTHERS = [("GET", "/admin/", None), ("GET", "/admin/login/", None), ("GET", "/api/schema/", None)]
ROUNDS = 3  # each request a few times: both gunicorn processes answer some


def _sweep(stack, endpoints, token=None):
    token = stack.token if token is None else token
    answers = []
    for _ in range(ROUNDS):
        for method, path, body in endpoints:
            started = time.monotonic()
            status, headers, content = stack.server.request(method, path, body, token=token)
            answers.append((method, path, status, headers, content, time.monotonic() - started))
    return answers


def _assert_clean_outage(answers, *, must_fail: bool) -> int:
    """Every answer is 2xx/4xx or the JSON 503 with Retry-After; returns how many were 503."""
    unavailable = 0
    for method, path, status, headers, content, seconds in answers:
        where = f"{method} {path} -> {status} {content[:300]!r}"
        assert status != 500 and status < 600, where
        if must_fail:
            assert status == 503, where
        if status >= 500:
            assert status == 503, where
            body = json.loads(content)
            assert body["error"]["code"] == "database_unavailable", where
            assert int(headers["Retry-After"]) >= 1, where
            assert body["error"]["details"]["retry_after"] == int(headers["Retry-After"]), where
            assert headers["Content-Type"].startswith("application/json"), where
            unavailable += 1
        assert seconds < 5, f"{where} took {seconds:.1f} s"
    return unavailable


def _wait_until_recovered(stack, timeout: float = 20.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        answers = _sweep(stack, READS)
        if all(200 <= a[2] < 300 for a in answers):
            return time.monotonic() - started
        time.sleep(0.5)
    bad = [(a[0], a[1], a[2], a[4][:200]) for a in answers if not 200 <= a[2] < 300]
    pytest.fail(f"not recovered {timeout:.0f} s after PostgreSQL returned: {bad}")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_down_answers_503_with_retry_after_and_recovers(live_stack, mode):
    server = live_stack.server
    baseline = _sweep(live_stack, READS)
    assert all(200 <= a[2] < 300 for a in baseline), [(a[1], a[2]) for a in baseline]
    assert all(a[2] < 400 for a in _sweep(live_stack, OTHERS))

    live_stack.postgres.stop(mode)
    try:
        # 1. right away: API keys still in the processes' cache, the views hit the database
        _assert_clean_outage(_sweep(live_stack, WRITES), must_fail=True)
        reads = _sweep(live_stack, READS)
        _assert_clean_outage(reads, must_fail=False)
        _assert_clean_outage(_sweep(live_stack, OTHERS), must_fail=False)
        # 2. a key not seen yet must be verified against the database: 503, not 401 nor 500
        unseen = live_stack.token.rsplit("_", 1)[0] + "_" + "x" * 43
        _assert_clean_outage(_sweep(live_stack, READS[:2], token=unseen), must_fail=True)
        # 3. past the key cache's TTL (5 s): authentication itself needs the database
        time.sleep(5.5)
        later = _sweep(live_stack, READS + WRITES)
        _assert_clean_outage(later, must_fail=False)
        print(f"\nPostgreSQL stopped ({mode}); answers by request, with cached keys / after:")
        for method, path, _ in READS:
            first = sorted({a[2] for a in reads if a[1] == path})
            second = sorted({a[2] for a in later if a[1] == path})
            print(f"  {method} {path}: {first} / {second}")
        assert server.request("GET", "/healthz")[0] == 200
        status, _, content = server.request("GET", "/readyz")
        assert status == 503 and json.loads(content)["checks"]["database"]["ok"] is False
    finally:
        live_stack.postgres.start()

    recovered_in = _wait_until_recovered(live_stack)
    assert recovered_in < 10, f"recovered only after {recovered_in:.1f} s"
    assert server.request("GET", "/readyz")[0] == 200
    status, _, content = server.request(
        "POST",
        "/api/v1/interactions",
        {"interactions": [{"user_id": "u1", "item_id": "i1", "event_id": f"after-{mode}"}]},
        token=live_stack.token,
    )
    assert status in (200, 201), content[:300]
