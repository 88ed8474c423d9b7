"""Domain rules that read the user's history see the stored interactions, times included.

The serving layer hands the history to the rules lazily (``services._History``): these tests
prove the records it builds equal the stored rows, and that a rule reading purchase times
(ecommerce's repurchase policy) acts on them through the API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.m6rec.serving._data import N_ITEMS, synthetic_pairs

pytestmark = pytest.mark.django_db

USERS_URL = "/api/v1/users/{}/recommendations"


def test_history_records_are_the_stored_rows_oldest_first(factory):
    from domains.records import InteractionRecord
    from m6rec.serving import selectors
    from m6rec.serving.services import _History

    tenant = factory.tenant(with_data=False)
    start = datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    factory.ingest(tenant, [("u", "a"), ("u", "b"), ("u", "a")], type_="like", start=start)
    _, _, rows = selectors.user_with_history(tenant=tenant, user_id="u")
    history = _History("u", rows)
    assert len(history) == 3
    assert list(history) == [
        InteractionRecord("u", "a", "like", 1.0, start),
        InteractionRecord("u", "b", "like", 1.0, start + timedelta(seconds=1)),
        InteractionRecord("u", "a", "like", 1.0, start + timedelta(seconds=2)),
    ]
    assert history[-1] is history[2]  # built once
    assert all(r.timestamp.tzinfo is not None for r in history)


def test_repurchase_rule_reads_purchase_times_through_the_api(factory, api):
    """Ecommerce: a consumable bought yesterday is not offered again, one bought 100 days ago
    is ("Time to restock"); both are seen items, so ``exclude_seen=false`` lets them through."""
    from m6rec.catalog.services import items_upsert

    tenant = factory.tenant(
        with_data=False, domain="ecommerce", config={"repurchase_policy": "consumables"}
    )
    items_upsert(
        tenant=tenant,
        rows=[
            {
                "item_id": f"i{j}",
                "properties": {"price": 10, "consumable": True, "repurchase_interval_days": 30},
                "categories": [],
                "active": True,
            }
            for j in range(N_ITEMS)
        ],
    )
    factory.ingest(tenant, synthetic_pairs())
    factory.version(tenant)
    now = datetime.now(UTC)
    factory.ingest(tenant, [("u0", "i40")], type_="purchase", start=now - timedelta(days=1))
    factory.ingest(tenant, [("u0", "i41")], type_="purchase", start=now - timedelta(days=100))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")

    body = api.get(USERS_URL.format("u0"), {"k": N_ITEMS, "exclude_seen": "false"}).json()
    assert body["strategy"] == "model"
    reasons = {it["item_id"]: it.get("reason") for it in body["items"]}
    assert "i40" not in reasons
    assert reasons.get("i41") == "Time to restock"
