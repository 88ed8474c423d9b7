"""PostgreSQL down: the model already loaded keeps serving (issue 14, item 2).

What can be answered without the database is answered from memory, with 200: recommendations
for users the model knows (their trained vector), for unknown users and sessions (the model's
popularity and fold-in), similar items of items it knows, popular items; candidates are checked
against the last known catalogue state, and API keys this process verified before keep
working past their cache TTL. Writes need the database and answer the JSON 503.
"""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.integration

N_USERS, N_ITEMS = 30, 24
TASTE_0 = {f"m{j}" for j in range(12)}
TASTE_1 = {f"m{j}" for j in range(12, 24)}


def _post(stack, path, body):
    status, _, content = stack.server.request("POST", path, body, token=stack.token)
    assert status in (200, 201, 202), (path, status, content[:500])
    return json.loads(content)


@pytest.fixture(scope="module")
def trained(live_stack):
    """Two taste groups of users over m0..m23 (even users: m0..m11), trained in-process."""
    items = [
        {"item_id": f"m{j}", "properties": {"title": f"M{j}", "price": 10.0}}
        for j in range(N_ITEMS)
    ]
    _post(live_stack, "/api/v1/items", {"items": items})
    rows = [
        {"user_id": f"mu{u}", "item_id": f"m{j}", "event_id": f"mu{u}-m{j}"}
        for u in range(N_USERS)
        for j in (range(0, 12) if u % 2 == 0 else range(12, 24))
        if (u + j) % 3 != 0
    ]
    _post(live_stack, "/api/v1/interactions", {"interactions": rows})
    live_stack.manage("train_tenant", live_stack.tenant, "--sync")
    return live_stack


def _get(stack, path):
    status, headers, content = stack.server.request("GET", path, token=stack.token)
    return status, headers, json.loads(content) if content else None


def test_loaded_models_serve_while_postgres_is_down(trained):
    stack = trained
    known = "/api/v1/users/mu0/recommendations?k=4"  # the 4 taste-0 items mu0 has not seen
    for _ in range(6):  # both gunicorn processes load the model and verify the key
        status, _, body = _get(stack, known)
        assert status == 200 and body["strategy"] == "model", body
        _get(stack, "/api/v1/items/m1/similar?k=3")
        _get(stack, "/api/v1/popular?k=3")
    before = {i["item_id"] for i in body["items"]}

    stack.postgres.stop("fast")
    try:
        time.sleep(5.5)  # past the API key cache's TTL: the stale verification must serve
        for _ in range(4):
            status, _, body = _get(stack, known)
            assert status == 200, body
            assert body["strategy"] == "model" and body["model_version"] is not None
            assert {i["item_id"] for i in body["items"]} == before
            assert all(i["item_id"] in TASTE_0 for i in body["items"]), body  # the user's taste
            status, _, body = _get(stack, "/api/v1/users/stranger/recommendations?k=5")
            assert status == 200 and body["strategy"] == "popularity", body
            status, _, body = _get(stack, "/api/v1/items/m1/similar?k=3")
            assert status == 200 and len(body["items"]) == 3, body
            status, _, body = _get(stack, "/api/v1/popular?k=3")
            assert status == 200 and len(body["items"]) == 3, body
            status, _, content = stack.server.request(
                "POST",
                "/api/v1/recommendations",
                {"recent_items": ["m13", "m14"], "k": 4},
                token=stack.token,
            )
            assert status == 200, content[:300]
            got = json.loads(content)["items"]
            assert sum(i["item_id"] in TASTE_1 for i in got) >= 3, got
        status, headers, content = stack.server.request(
            "POST",
            "/api/v1/interactions",
            {"interactions": [{"user_id": "mu0", "item_id": "m2"}]},
            token=stack.token,
        )
        assert status == 503 and int(headers["Retry-After"]) >= 1, content[:300]
        status, _, _ = _get(stack, "/api/v1/items/nope/similar?k=3")
        assert status == 503  # whether an item the model does not know exists: the database
    finally:
        stack.postgres.start()
