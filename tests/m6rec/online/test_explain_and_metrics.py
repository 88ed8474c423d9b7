"""explain=true, include=properties, impression counting and the online metrics endpoint."""

from __future__ import annotations

import pytest

from tests.m6rec.serving._data import seen_by

pytestmark = pytest.mark.django_db

RECS = "/api/v1/users/{}/recommendations"


@pytest.fixture
def tenant(factory):
    tenant = factory.tenant()
    factory.version(tenant)
    return tenant


@pytest.fixture
def client(factory, tenant, api):
    scopes = ("admin", "recommend", "ingest")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant, scopes=scopes)}")
    return api


def test_explanations_name_the_users_own_items_and_cost_only_when_asked(client):
    plain = client.get(RECS.format("u0"), {"k": 5}).json()
    assert all("explanation" not in item for item in plain["items"])
    body = client.get(RECS.format("u0"), {"k": 5, "explain": "true"}).json()
    assert body["strategy"] == "model"
    history = seen_by("u0")
    for item in body["items"]:
        why = item["explanation"]
        assert why["kind"] in ("item_item", "mf", "model")
        assert {b["item_id"] for b in why["because"]} <= history
        assert all(0 < b["weight"] <= 1 for b in why["because"])
    assert any(item["explanation"]["because"] for item in body["items"])


def test_unknown_users_are_explained_by_popularity(client):
    body = client.get(RECS.format("nobody"), {"k": 3, "explain": "true"}).json()
    assert body["strategy"] == "popularity"
    assert {i["explanation"]["kind"] for i in body["items"]} == {"popularity"}


def test_session_and_similar_explanations(client):
    session = client.post(
        "/api/v1/recommendations",
        {"recent_items": ["i1", "i2", "i3"], "k": 4, "explain": True},
        format="json",
    ).json()
    for item in session["items"]:
        assert {b["item_id"] for b in item["explanation"]["because"]} <= {"i1", "i2", "i3"}
    similar = client.get("/api/v1/items/i4/similar", {"k": 3, "explain": "1"}).json()
    assert all(i["explanation"]["because"] == [{"item_id": "i4"}] for i in similar["items"])


def test_the_health_domain_explains_by_default(factory, api):
    tenant = factory.tenant(domain="health", config={"rules": {}})
    factory.version(tenant)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
    body = api.get(RECS.format("u1"), {"k": 3}).json()
    assert all("explanation" in i for i in body["items"])
    off = api.get(RECS.format("u1"), {"k": 3, "explain": "false"}).json()
    assert all("explanation" not in i for i in off["items"])


def test_include_properties_returns_stored_properties(client, tenant):
    from m6rec.catalog.services import items_upsert

    items_upsert(
        tenant=tenant,
        rows=[
            {
                "item_id": f"i{j}",
                "properties": {"title": f"Film {j}"},
                "categories": [],
                "active": True,
            }
            for j in range(60)
        ],
    )
    body = client.get("/api/v1/popular", {"k": 3, "include": "properties"}).json()
    assert [i["properties"]["title"] for i in body["items"]] == [
        f"Film {i['item_id'][1:]}" for i in body["items"]
    ]
    bad = client.get("/api/v1/popular", {"include": "price"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["errors"][0]["field"] == "include"


def test_online_metrics_agree_with_the_database(client, tenant):
    from m6rec.catalog.models import Interaction
    from m6rec.online import impressions
    from m6rec.online.models import ImpressionCount

    shown = 0
    clicks = []
    for n in range(6):
        body = client.get(RECS.format(f"u{n}"), {"k": 4}).json()
        shown += len(body["items"])
        first = body["items"][0]["item_id"]
        clicks.append(
            {
                "user_id": f"u{n}",
                "item_id": first,
                "type": "view",
                "recommendation_id": body["recommendation_id"],
            }
        )
        if n % 2 == 0:  # a goal interaction (content: like) on the same shown item
            clicks.append({**clicks[-1], "type": "like"})
    r = client.post("/api/v1/interactions", {"interactions": clicks}, format="json")
    assert r.json()["attributed"] == 9
    impressions.flush_buffer()  # this process → Redis: counted before the database flush
    metrics = client.get("/api/v1/models/versions/1/online-metrics").json()
    assert metrics["totals"]["impressions"] == shown
    assert metrics["totals"]["clicks"] == 6  # distinct (user, item, response)
    assert metrics["totals"]["conversions"] == 3
    low, high = metrics["totals"]["ctr"]["low"], metrics["totals"]["ctr"]["high"]
    assert low < 6 / shown < high
    assert impressions.flush_to_database() >= 1
    assert (
        sum(ImpressionCount.objects.filter(tenant=tenant).values_list("impressions", flat=True))
        == shown
    )
    again = client.get("/api/v1/models/versions/1/online-metrics").json()
    assert again["totals"] == metrics["totals"]  # moved, not double counted
    db_clicks = (
        Interaction.objects.filter(tenant=tenant, attributed_version=1)
        .values("user_id", "item_id", "recommended_at")
        .distinct()
        .count()
    )
    assert db_clicks == again["totals"]["clicks"]
    assert client.get("/api/v1/models/versions/9/online-metrics").status_code == 404
    assert client.get("/api/v1/models/versions/1/online-metrics", {"days": 0}).status_code == 400


def test_impressions_survive_a_redis_outage_in_the_buffer(settings):
    from m6rec.online import impressions

    impressions.record(tenant_id=1, items=5, model_version=1, strategy="model", surface="user")
    settings.M6REC_IMPRESSIONS_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with pytest.raises(Exception):  # noqa: B017 - any connection error
        impressions.flush_buffer()
    counts = impressions.buffer.take()
    assert list(counts.values()) == [[5, 1]]  # given back, not lost
