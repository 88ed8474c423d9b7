"""Serving selectors: the one-query user + history read matches the ORM reads; item ids come
from the tenant's catalogue in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.django_db


def _catalogue(tenant):
    from m6rec.serving.catalogue import load_catalogue

    return load_catalogue(tenant_pk=tenant.pk, generation=0)


def _with_history(tenant, **kwargs):
    """``user_with_history`` over the tenant's catalogue as it is now."""
    from m6rec.serving import selectors

    return selectors.user_with_history(tenant=tenant, catalogue=_catalogue(tenant), **kwargs)


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

    pk, props, stored, history = _with_history(tenant, user_id="u", limit=5)
    assert props == {"age": 30}
    assert history == selectors.user_history(tenant=tenant, user_pk=pk, limit=5)
    assert [h[3] for h in history] == sorted(h[3] for h in history)  # oldest first
    assert len(history) == 5
    pks = list(Interaction.objects.filter(user_id=pk).values_list("pk", flat=True))
    assert stored == (12, max(pks))  # every stored row counts, not just the latest 5
    quiet = _with_history(tenant, user_id="quiet")
    assert quiet[1:] == ({"age": 40}, (0, None), [])
    assert _with_history(tenant, user_id="nobody") is None
    found = _with_history(other, user_id="u")
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
    full = _with_history(tenant, user_id="u")
    assert full.stored[0] == 6 and len(full.history) == 6
    same = _with_history(tenant, user_id="u", unless_stored=full.stored)
    assert same.history is None and same.stored == full.stored and same.pk == full.pk
    # one row more, or one row fewer (an item deleted), and the rows are read again
    interactions_ingest(tenant=tenant, rows=[{**rows[0], "item_id": "new"}])
    grown = _with_history(tenant, user_id="u", unless_stored=full.stored)
    assert grown.stored[0] == 7 and "new" in {h[0] for h in grown.history}
    item_delete(tenant=tenant, item_id="i2")
    shrunk = _with_history(tenant, user_id="u", unless_stored=grown.stored)
    assert shrunk.stored == (6, grown.stored[1]) and len(shrunk.history) == 6
    assert Interaction.objects.filter(user__external_id="u").count() == 6
    assert connection.vendor == "postgresql"  # the one-query path; the ORM path below
    orm = selectors._user_with_history_orm(tenant, "u", 50, shrunk.stored)
    assert orm == (shrunk.pk, {}, shrunk.stored, None)
    assert selectors._user_with_history_orm(tenant, "u", 50, None) == shrunk


def test_history_and_seen_ids_are_one_query_each_with_the_catalogue_in_memory():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from m6rec.catalog.models import Interaction
    from m6rec.catalog.services import interactions_ingest
    from m6rec.serving import selectors

    tenant, rows = _viewer("sel-c", [f"i{n % 9}" for n in range(20)])
    catalogue = _catalogue(tenant)
    with CaptureQueriesContext(connection) as warm:
        pk, _, _, history = selectors.user_with_history(
            tenant=tenant, catalogue=catalogue, user_id="u", limit=50
        )
        seen = selectors.user_seen_item_ids(catalogue=catalogue, user_pk=pk)
    assert len(warm.captured_queries) == 2  # one query each, no item lookups
    assert history == selectors.user_history(tenant=tenant, user_pk=pk, limit=50)
    assert seen == {f"i{n}" for n in range(9)}
    assert seen == set(
        Interaction.objects.filter(user_id=pk).values_list("item__external_id", flat=True)
    )
    interactions_ingest(tenant=tenant, rows=[{**rows[0], "user_id": "w", "item_id": "new"}])
    with CaptureQueriesContext(connection) as new_item:
        w = selectors.user_with_history(tenant=tenant, catalogue=catalogue, user_id="w")
    assert len(new_item.captured_queries) == 2  # an item created since the load: looked up
    assert [h[0] for h in w.history] == ["new"]
    found = selectors.existing_item_ids(
        tenant=tenant, catalogue=catalogue, item_ids=["i1", "new", "nope"]
    )
    assert found == {"i1", "new"}


def test_catalogue_servable_properties_are_fresh_dicts_per_call():
    from m6rec.catalog.services import items_upsert
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
    catalogue, theirs = _catalogue(tenant), _catalogue(other)
    first = catalogue.servable(["x", "y", "z", "nope"])
    assert first == {"x": props, "y": {}}
    first["x"]["title"] = "changed"  # a caller's change never reaches the next request
    again = catalogue.servable(["x", "y"])
    assert again == {"x": props, "y": {}} and again["x"] is not first["x"]
    assert theirs.servable(["x"], category="c") == {"x": props}
    assert catalogue.servable(["y"], category="c") == {}
    assert catalogue.exists("z") and not catalogue.exists("nope") and len(catalogue) == 3


def test_a_catalogue_row_with_odd_categories_loads():
    """An admin edit may store anything in the JSON columns: the strings of a list count."""
    from m6rec.serving.catalogue import Catalogue

    rows = [(1, "a", True, '{"t": 1}', [["nested"], "c", 3]), (2, "b", True, None, "c")]
    catalogue = Catalogue(rows, generation=0)
    assert catalogue.servable(["a", "b"], category="c") == {"a": {"t": 1}}
    assert catalogue.servable(["a", "b"]) == {"a": {"t": 1}, "b": {}}
