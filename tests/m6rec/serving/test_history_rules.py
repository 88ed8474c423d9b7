"""Domain rules that read the user's history see the stored interactions, times included.

The serving layer hands the history to the rules lazily (``candidates.History``): these tests
prove the records it builds equal the stored rows, and that a rule reading purchase times
(ecommerce's repurchase policy) acts on them through the API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.m6rec.serving._data import N_ITEMS, USERS_URL, seen_by, synthetic_pairs

pytestmark = pytest.mark.django_db


def test_history_records_are_the_stored_rows_oldest_first(factory):
    from domains.records import InteractionRecord
    from m6rec.serving import selectors
    from m6rec.serving.candidates import History
    from m6rec.serving.snapshot import snapshot_for

    tenant = factory.tenant(with_data=False)
    start = datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    factory.ingest(tenant, [("u", "a"), ("u", "b"), ("u", "a")], type_="like", start=start)
    catalogue = snapshot_for(tenant).catalogue
    rows = selectors.user_with_history(tenant=tenant, catalogue=catalogue, user_id="u").history
    history = History("u", rows)
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


def test_a_trained_users_rows_are_read_only_when_they_changed(factory, api, monkeypatch):
    """A model trained through the platform records each user's stored rows: a user with no
    interaction since is served the trained vector without reading the rows; one new
    interaction and the rows are read, folded in and excluded at once."""
    from m6rec.registry.selectors import version_get_active
    from m6rec.registry.services import version_promote
    from m6rec.serving import selectors
    from m6rec.training.services import training_run_sync

    tenant = factory.tenant()
    run = training_run_sync(tenant=tenant, overrides={"time_budget_s": 5, "use_fusion": False})
    assert run.status == "succeeded", run.error
    if version_get_active(tenant=tenant) is None:
        version_promote(version=run.version, reason="test")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
    reads = []
    real = selectors.user_with_history
    monkeypatch.setattr(
        selectors, "user_with_history", lambda **kw: reads.append(real(**kw)) or reads[-1]
    )
    url = "/api/v1/users/u0/recommendations"

    before = api.get(url, {"k": 10}).json()
    assert before["strategy"] == "model" and reads[-1].history is None  # nothing read
    assert not {i["item_id"] for i in before["items"]} & seen_by("u0")
    new_item = before["items"][0]["item_id"]
    factory.ingest(tenant, [("u0", new_item)], start=datetime(2025, 1, 1, tzinfo=UTC))
    after = api.get(url, {"k": 10}).json()
    assert reads[-1].history is not None and reads[-1].stored[0] == len(seen_by("u0")) + 1
    assert after["strategy"] == "model" and after["model_version"] == before["model_version"]
    assert new_item not in {i["item_id"] for i in after["items"]}


def test_history_records_can_be_read_lazily():
    from m6rec.serving.candidates import History

    calls = []
    rows = [("a", "like", 1.0, 1_700_000_000.0)]
    history = History("u", lambda: calls.append(1) or rows)
    assert not calls  # nothing read until a rule looks
    assert len(history) == 1 and history[0].item_id == "a" and list(history)[0].type == "like"
    assert calls == [1]  # read once
