"""Admin: catalog changelists load, interactions are read-only, counts are bounded."""

import pytest
from django.db import connection

from m6rec.catalog.models import Interaction
from m6rec.common.admin import EstimatedCountPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(api):
    rows = [
        {"user_id": f"u{n % 3}", "item_id": f"i{n % 4}", "type": "like", "event_id": f"e{n}"}
        for n in range(12)
    ]
    api.post("/api/v1/interactions", {"interactions": rows}, format="json")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/item/",
        "/admin/catalog/enduser/",
        "/admin/catalog/interaction/",
        "/admin/catalog/interaction/?type=like",
        "/admin/catalog/interaction/?q=e3",
        "/admin/catalog/item/?q=i1",
    ],
)
def test_changelists_load(admin_client, data, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"acme" in response.content


def test_interactions_are_read_only(admin_client, data):
    pk = Interaction.objects.first().pk
    assert admin_client.get("/admin/catalog/interaction/add/").status_code == 403
    page = admin_client.get(f"/admin/catalog/interaction/{pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.post(f"/admin/catalog/interaction/{pk}/delete/").status_code == 403


def test_changelist_does_not_count_whole_table(admin_client, data):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/admin/catalog/interaction/")
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts, "expected a bounded count"
    assert all("LIMIT" in sql.upper() or "reltuples" in sql for sql in counts), counts


def test_paginator_uses_planner_estimate_for_big_unfiltered_tables(data, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "_estimate", staticmethod(lambda qs: 5_000_000))
    paginator = EstimatedCountPaginator(Interaction.objects.order_by("-id"), 50)
    assert paginator.count == 5_000_000
    filtered = EstimatedCountPaginator(Interaction.objects.filter(type="like").order_by("-id"), 50)
    assert filtered.count == 12  # filtered: bounded exact count
    monkeypatch.setattr(EstimatedCountPaginator, "count_cap", 5)
    capped = EstimatedCountPaginator(Interaction.objects.filter(type="like").order_by("-id"), 50)
    assert capped.count == 5


def test_real_estimate_reads_pg_class(data):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_interaction")
    assert EstimatedCountPaginator._estimate(Interaction.objects.all()) == 12
