"""Selectors other apps build on: time-ordered streaming, user history, domain records."""

from datetime import UTC, datetime

import numpy as np
import pytest

from m6rec.catalog import selectors, services

pytestmark = pytest.mark.django_db


def ingest(tenant, rows):
    cleaned = [
        {"type": "view", "value": 1.0, "event_id": None, **row,
         "timestamp": datetime.fromtimestamp(row["timestamp"], tz=UTC)}
        for row in rows
    ]  # fmt: skip
    return services.interactions_ingest(tenant=tenant, rows=cleaned)


def test_chunks_are_time_ordered_bounded_and_tenant_scoped(tenant, other_tenant):
    rows = [{"user_id": f"u{n % 4}", "item_id": f"i{n % 6}", "timestamp": 10**6 + (n * 37) % 101,
             "value": float(n)} for n in range(101)]  # fmt: skip
    ingest(tenant, rows)
    ingest(other_tenant, [{"user_id": "x", "item_id": "y", "timestamp": 5}])
    chunks = list(selectors.interaction_chunks(tenant=tenant, chunk_size=25))
    assert [len(c["id"]) for c in chunks] == [25, 25, 25, 25, 1]
    ts = np.concatenate([c["timestamp"] for c in chunks])
    ids = np.concatenate([c["id"] for c in chunks])
    assert np.all(np.diff(ts) >= 0)
    assert len(set(ids.tolist())) == 101
    by_value = {float(r["value"]): r for r in rows}
    first = chunks[0]
    for k in range(5):
        source = by_value[float(first["value"][k])]
        assert first["user_id"][k] == source["user_id"]
        assert first["item_id"][k] == source["item_id"]
        assert first["timestamp"][k] == source["timestamp"]
    assert "x" not in set(np.concatenate([c["user_id"] for c in chunks]).tolist())


def test_arrays_filters_and_empty_tenant(tenant, other_tenant):
    ingest(tenant, [{"user_id": "u", "item_id": "i", "timestamp": t} for t in (10, 20, 30)])
    arrays = selectors.interaction_arrays(
        tenant=tenant,
        since=datetime.fromtimestamp(15, tz=UTC),
        until=datetime.fromtimestamp(30, tz=UTC),
    )
    assert arrays["timestamp"].tolist() == [20.0]
    empty = selectors.interaction_arrays(tenant=other_tenant)
    assert set(empty) == set(selectors.ARRAY_KEYS)
    assert all(len(a) == 0 for a in empty.values())
    assert empty["timestamp"].dtype == np.float64


def test_user_history_newest_first_and_records(tenant, other_tenant):
    ingest(tenant, [{"user_id": "u", "item_id": f"i{t}", "timestamp": t} for t in (1, 3, 2)])
    ingest(other_tenant, [{"user_id": "u", "item_id": "z", "timestamp": 9}])
    history = selectors.user_history(tenant=tenant, user_id="u", limit=2)
    assert [h["item_id"] for h in history] == ["i3", "i2"]
    assert selectors.user_history(tenant=tenant, user_id="nobody") == []
    services.items_upsert(
        tenant=tenant,
        rows=[
            {"item_id": "i1", "properties": {"title": "T"}, "categories": ["a"], "active": False}
        ],
    )
    records = {r.item_id: r for r in selectors.item_records(tenant=tenant)}
    assert records["i1"].properties == {"title": "T"} and records["i1"].categories == ("a",)
    assert set(records) == {"i1", "i2", "i3"}
    assert "i1" not in {r.item_id for r in selectors.item_records(tenant=tenant, active_only=True)}
    assert [u.user_id for u in selectors.user_records(tenant=tenant)] == ["u"]
    assert selectors.interaction_count(tenant=tenant) == 3
