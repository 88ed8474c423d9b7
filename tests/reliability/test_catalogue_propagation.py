"""A catalogue write in another process reaches every web process (gunicorn, 2 processes,
production settings): each reloads the catalogue when its snapshot's refresh
(M6REC_ACTIVE_VERSION_TTL, 1 s) reads the moved serving generation. Without the generation
they would wait for M6REC_CATALOG_TTL (300 s)."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.integration

POPULAR = "/api/v1/popular?k=5&category=propagation"
DEACTIVATE = (
    "from m6rec.catalog.services import items_upsert; from m6rec.tenants.models import Tenant; "
    "items_upsert(tenant=Tenant.objects.get(slug='{tenant}'), rows=[{{'item_id': 'pa', "
    "'properties': {{}}, 'categories': ['propagation'], 'active': False}}])"
)


def test_a_deactivated_item_leaves_every_process_within_seconds(live_stack):
    server, token = live_stack.server, live_stack.token

    def post(path: str, body: dict) -> None:
        status, _, content = server.request("POST", path, body, token=token)
        assert status in (200, 201), (path, status, content[:300])

    def popular() -> list[str]:
        status, _, content = server.request("GET", POPULAR, token=token)
        assert status == 200, content[:300]
        return [item["item_id"] for item in json.loads(content)["items"]]

    items = [{"item_id": i, "properties": {}, "categories": ["propagation"]} for i in ("pa", "pb")]
    post("/api/v1/items", {"items": items})
    post("/api/v1/interactions", {"interactions": [
        {"user_id": "u0", "item_id": "pa", "event_id": "prop-1"},
        {"user_id": "u1", "item_id": "pa", "event_id": "prop-2"},
        {"user_id": "u0", "item_id": "pb", "event_id": "prop-3"},
    ]})  # fmt: skip
    for _ in range(8):  # both processes hold a snapshot with both items
        assert popular() == ["pa", "pb"]
    # the write comes from a process of its own (as from a worker or another web host)
    live_stack.manage("shell", "-c", DEACTIVATE.format(tenant=live_stack.tenant))
    written = time.monotonic()
    deadline = written + 10
    streak = 0
    while streak < 10 and time.monotonic() < deadline:
        streak = streak + 1 if popular() == ["pb"] else 0
    assert streak == 10, "a process kept serving the deactivated item"
    assert time.monotonic() - written < 4  # the 1 s refresh, not the 300 s catalogue age
    # an item created through another process is known at once (the database is asked)
    post("/api/v1/items", {"items": [{"item_id": "pc", "properties": {}, "categories": []}]})
    for _ in range(6):
        status, _, content = server.request("GET", "/api/v1/items/pc/similar?k=3", token=token)
        assert status == 200, content[:300]
