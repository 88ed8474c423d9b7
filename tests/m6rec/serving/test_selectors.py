"""Serving selectors: the one-query user + history read matches the ORM reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.django_db


def test_user_with_history_matches_the_orm_queries():
    from m6rec.catalog.models import Interaction
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

    pk, props, stored, history = selectors.user_with_history(tenant=tenant, user_id="u", limit=5)
    assert props == {"age": 30}
    assert history == selectors.user_history(tenant=tenant, user_pk=pk, limit=5)
    assert [h[3] for h in history] == sorted(h[3] for h in history)  # oldest first
    assert len(history) == 5
    pks = list(Interaction.objects.filter(user_id=pk).values_list("pk", flat=True))
    assert stored == (12, max(pks))  # every stored row counts, not just the latest 5
    quiet = selectors.user_with_history(tenant=tenant, user_id="quiet")
    assert quiet[1:] == ({"age": 40}, (0, None), [])
    assert selectors.user_with_history(tenant=tenant, user_id="nobody") is None
    found = selectors.user_with_history(tenant=other, user_id="u")
    assert found is not None and [h[0] for h in found.history] == ["foreign"]


def _viewer(slug: str, item_ids: list[str]):
    """A content tenant whose user "u" viewed ``item_ids`` one second apart: (tenant, rows)."""
    from m6rec.catalog.services import interactions_ingest
    from m6rec.tenants.services import tenant_create

    tenant = tenant_create(slug=slug, name=slug, domain="content")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        {"user_id": "u", "item_id": i, "type": "view", "value": 1.0,
         "timestamp": start + timedelta(seconds=n), "event_id": None}
        for n, i in enumerate(item_ids)
    ]  # fmt: skip
    interactions_ingest(tenant=tenant, rows=rows)
    return tenant, rows


def test_rows_already_known_to_the_caller_are_not_read():
    from django.db import connection

    from m6rec.catalog.models import Interaction
    from m6rec.catalog.services import interactions_ingest, item_delete
    from m6rec.serving import selectors

    tenant, rows = _viewer("sel-d", [f"i{n}" for n in range(6)])
    full = selectors.user_with_history(tenant=tenant, user_id="u")
    assert full.stored[0] == 6 and len(full.history) == 6
    same = selectors.user_with_history(tenant=tenant, user_id="u", unless_stored=full.stored)
    assert same.history is None and same.stored == full.stored and same.pk == full.pk
    # one row more, or one row fewer (an item deleted), and the rows are read again
    interactions_ingest(tenant=tenant, rows=[{**rows[0], "item_id": "new"}])
    grown = selectors.user_with_history(tenant=tenant, user_id="u", unless_stored=full.stored)
    assert grown.stored[0] == 7 and "new" in {h[0] for h in grown.history}
    item_delete(tenant=tenant, item_id="i2")
    shrunk = selectors.user_with_history(tenant=tenant, user_id="u", unless_stored=grown.stored)
    assert shrunk.stored == (6, grown.stored[1]) and len(shrunk.history) == 6
    assert Interaction.objects.filter(user__external_id="u").count() == 6
    assert connection.vendor == "postgresql"  # the one-query path; the ORM path below
    orm = selectors._user_with_history_orm(tenant, "u", 50, shrunk.stored)
    assert orm == (shrunk.pk, {}, shrunk.stored, None)
    assert selectors._user_with_history_orm(tenant, "u", 50, None) == shrunk


def test_history_and_seen_ids_are_one_query_once_items_are_known():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from m6rec.catalog.models import Interaction
    from m6rec.catalog.services import interactions_ingest
    from m6rec.serving import memos, selectors

    tenant, rows = _viewer("sel-c", [f"i{n % 9}" for n in range(20)])
    other = [{**rows[0], "user_id": "v", "item_id": f"j{n}"} for n in range(5)]
    interactions_ingest(tenant=tenant, rows=other)
    memos.clear()  # also forgets item ids
    with CaptureQueriesContext(connection) as cold:
        selectors.user_with_history(tenant=tenant, user_id="v")
    assert len(cold.captured_queries) == 2  # the history, then all the tenant's item ids
    with CaptureQueriesContext(connection) as prefilled:
        pk, _, _, history = selectors.user_with_history(tenant=tenant, user_id="u", limit=50)
    assert len(prefilled.captured_queries) == 1  # u's items came with the tenant's ids
    interactions_ingest(tenant=tenant, rows=[{**rows[0], "user_id": "w", "item_id": "new"}])
    with CaptureQueriesContext(connection) as new_item:
        w = selectors.user_with_history(tenant=tenant, user_id="w")
    assert len(new_item.captured_queries) == 2  # an item created later: looked up alone
    assert [h[0] for h in w.history] == ["new"]
    with CaptureQueriesContext(connection) as warm:
        again = selectors.user_with_history(tenant=tenant, user_id="u", limit=50)
        seen = selectors.user_seen_item_ids(tenant=tenant, user_pk=pk)
    assert len(warm.captured_queries) == 2  # one query each, no item lookups
    assert again.history == history == selectors.user_history(tenant=tenant, user_pk=pk, limit=50)
    assert seen == {f"i{n}" for n in range(9)}
    assert seen == set(
        Interaction.objects.filter(user_id=pk).values_list("item__external_id", flat=True)
    )


def test_items_servable_properties_are_fresh_dicts_per_call():
    from m6rec.catalog.services import items_upsert
    from m6rec.serving import selectors
    from m6rec.tenants.services import tenant_create

    tenant = tenant_create(slug="sel-d", name="d", domain="content")
    other = tenant_create(slug="sel-e", name="e", domain="content")
    props = {"title": "T", "genres": ["a", "b"]}
    for t in (tenant, other):
        items_upsert(
            tenant=t,
            rows=[
                {"item_id": "x", "properties": props, "categories": ["c"], "active": True},
                {"item_id": "y", "properties": {}, "categories": [], "active": True},
                {"item_id": "z", "properties": props, "categories": ["c"], "active": False},
            ],
        )
    first = selectors.items_servable(tenant=tenant, item_ids=["x", "y", "z", "nope"])
    assert first == {"x": props, "y": {}}
    first["x"]["title"] = "changed"  # a caller's change never reaches the next request
    again = selectors.items_servable(tenant=tenant, item_ids=["x", "y"])
    assert again == {"x": props, "y": {}} and again["x"] is not first["x"]
    assert selectors.items_servable(tenant=other, item_ids=["x"], category="c") == {"x": props}
    assert selectors.items_servable(tenant=tenant, item_ids=["y"], category="c") == {}
