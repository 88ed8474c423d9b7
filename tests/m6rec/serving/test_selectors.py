"""Serving selectors: the one-query user + history read matches the ORM reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.django_db


def test_user_with_history_matches_the_orm_queries():
    from m6rec.catalog.services import interactions_ingest, users_upsert
    from m6rec.serving import selectors
    from m6rec.tenants.services import tenant_create

    tenant = tenant_create(slug="sel-a", name="a", domain="content")
    other = tenant_create(slug="sel-b", name="b", domain="content")
    users_upsert(tenant=tenant, rows=[{"user_id": "u", "properties": {"age": 30}}])
    users_upsert(tenant=tenant, rows=[{"user_id": "quiet", "properties": {"age": 40}}])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        {"user_id": "u", "item_id": f"i{n}", "type": "like", "value": 1.0,
         "timestamp": start + timedelta(minutes=n % 7, seconds=n), "event_id": None}
        for n in range(12)
    ]  # fmt: skip
    interactions_ingest(tenant=tenant, rows=rows)
    interactions_ingest(tenant=other, rows=[{**rows[0], "item_id": "foreign"}])

    pk, props, history = selectors.user_with_history(tenant=tenant, user_id="u", limit=5)
    assert props == {"age": 30}
    assert history == selectors.user_history(tenant=tenant, user_pk=pk, limit=5)
    assert [h[3] for h in history] == sorted(h[3] for h in history)  # oldest first
    assert len(history) == 5
    assert selectors.user_with_history(tenant=tenant, user_id="quiet")[1:] == ({"age": 40}, [])
    assert selectors.user_with_history(tenant=tenant, user_id="nobody") is None
    found = selectors.user_with_history(tenant=other, user_id="u")
    assert found is not None and [h[0] for h in found[2]] == ["foreign"]
