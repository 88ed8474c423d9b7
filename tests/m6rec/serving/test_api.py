"""Serving endpoints against PostgreSQL with a real engine bundle (no mocks of the engine)."""

from __future__ import annotations

import time

import pytest

from tests.m6rec.serving._data import (
    POPULAR_URL,
    SESSION_URL,
    SIMILAR_URL,
    USERS_URL,
    group_items,
    seen_by,
)

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    return [it["item_id"] for it in response.json()["items"]]


def group_share(items: list[str], group: int) -> float:
    def in_group(i: str) -> bool:
        n = int(i[1:])
        return (n < 30) == (group == 0)

    return sum(in_group(i) for i in items) / max(len(items), 1)


# ---------------------------------------------------------------------- user recommendations
def test_user_recommendations_come_from_the_active_model(client_a):
    r = client_a.get(USERS_URL.format("u0"), {"k": 10})
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {
        "items",
        "model_version",
        "strategy",
        "recommendation_id",
        "experiment",
        "request_id",
    }
    assert body["strategy"] == "model"
    assert body["model_version"] == 1
    assert len(body["items"]) == 10
    assert r["X-Request-ID"] == body["request_id"]
    scores = [it["score"] for it in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(it["item_id"], str) for it in body["items"])
    assert group_share(ids(r), 0) >= 0.8  # u0 is in taste group 0
    assert not set(ids(r)) & seen_by("u0")  # exclude_seen defaults to true


def test_responses_are_drf_json_and_other_media_types_are_refused(client_a):
    from rest_framework.renderers import JSONRenderer

    for url in (USERS_URL.format("u0"), POPULAR_URL, SIMILAR_URL.format("i3")):
        r = client_a.get(url, {"k": 3})
        assert r.status_code == 200 and r["Content-Type"] == "application/json"
        assert r.content == JSONRenderer().render(r.json())  # byte for byte as DRF renders
        assert r["X-Request-ID"] == r.json()["request_id"]
    refused = client_a.get(USERS_URL.format("u0"), HTTP_ACCEPT="application/xml")
    assert refused.status_code == 406 and refused.json()["error"]["code"] == "not_acceptable"


def test_exclude_seen_false_may_return_seen_items(client_a):
    r = client_a.get(USERS_URL.format("u0"), {"k": 30, "exclude_seen": "false"})
    assert r.status_code == 200
    assert set(ids(r)) & seen_by("u0")


def test_seen_items_beyond_the_fold_in_limit_are_still_excluded(client_a, settings):
    settings.M6REC_SERVING_HISTORY_LIMIT = 5  # u0 has 12 interactions
    r = client_a.get(USERS_URL.format("u0"), {"k": 40})
    assert r.status_code == 200 and r.json()["strategy"] == "model"
    assert len(ids(r)) == 40 and not set(ids(r)) & seen_by("u0")


def test_exclude_and_category_filters(client_a):
    first = ids(client_a.get(USERS_URL.format("u0"), {"k": 5}))
    r = client_a.get(USERS_URL.format("u0"), {"k": 5, "exclude": ",".join(first[:3])})
    assert r.status_code == 200
    assert not set(ids(r)) & set(first[:3])
    r = client_a.get(USERS_URL.format("u0"), {"k": 10, "category": "odd"})
    assert r.status_code == 200
    got = ids(r)
    assert got and all(int(i[1:]) % 2 == 1 for i in got)
    r = client_a.get(USERS_URL.format("u0"), {"k": 10, "category": "no-such-category"})
    assert r.status_code == 200 and r.json()["items"] == []


def deactivate(tenant, item_ids):
    """Deactivate through the catalogue service, as the items API does."""
    from m6rec.catalog.services import items_upsert

    items_upsert(
        tenant=tenant,
        rows=[
            {"item_id": i, "properties": {}, "categories": [], "active": False} for i in item_ids
        ],
    )


def test_inactive_items_are_never_recommended(client_a, tenant_a):
    top = ids(client_a.get(USERS_URL.format("u0"), {"k": 5}))
    deactivate(tenant_a, top[:2])
    for url, params in [
        (USERS_URL.format("u0"), {"k": 20}),
        (POPULAR_URL, {"k": 60}),
        (USERS_URL.format("stranger"), {"k": 60}),
    ]:
        got = ids(client_a.get(url, params))
        assert got and not set(got) & set(top[:2]), url


def test_unknown_user_gets_popularity_and_other_tenants_users_look_missing(factory, client_a):
    other = factory.tenant(with_data=False)
    factory.ingest(other, [("b-user", "b-item"), ("b-user", "i1")])
    missing = client_a.get(USERS_URL.format("nobody"), {"k": 5}).json()
    foreign = client_a.get(USERS_URL.format("b-user"), {"k": 5}).json()
    assert missing["strategy"] == foreign["strategy"] == "popularity"
    assert missing["model_version"] == foreign["model_version"] == 1
    assert missing["items"] == foreign["items"] and len(missing["items"]) == 5
    assert missing["request_id"] != foreign["request_id"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"k": 0}, "k"),
        ({"k": 101}, "k"),
        ({"k": "ten"}, "k"),
        ({"exclude_seen": "maybe"}, "exclude_seen"),
        ({"category": "x" * 300}, "category"),
    ],
)
def test_parameter_validation_names_the_field(client_a, params, field):
    r = client_a.get(USERS_URL.format("u0"), params)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid"
    assert [e["field"] for e in error["details"]["errors"]] == [field]


def test_k_bounds_are_inclusive(client_a):
    assert len(client_a.get(USERS_URL.format("u0"), {"k": 1}).json()["items"]) == 1
    r = client_a.get(USERS_URL.format("u0"), {"k": 100, "exclude_seen": "false"})
    assert r.status_code == 200 and len(r.json()["items"]) == 60  # the whole catalogue


def test_authentication_and_scope(factory, tenant_a, api):
    assert api.get(USERS_URL.format("u0")).status_code == 401
    ingest_only = factory.key(tenant_a, scopes=("ingest",))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {ingest_only}")
    r = api.get(POPULAR_URL)
    assert r.status_code == 403
    assert r.json()["error"]["details"]["required_scope"] == "recommend"


# ---------------------------------------------------------------------- fold-in
def test_interactions_ingested_after_training_count_at_once(factory, client_a, tenant_a):
    before = client_a.get(USERS_URL.format("u0"), {"k": 10}).json()
    assert group_share([it["item_id"] for it in before["items"]], 0) >= 0.8
    # u0 now binges on group-1 items (no retraining)
    factory.ingest(tenant_a, [("u0", i) for i in group_items(1)[:20]], type_="like")
    after = client_a.get(USERS_URL.format("u0"), {"k": 10}).json()
    assert after["strategy"] == "model" and after["model_version"] == 1
    got = [it["item_id"] for it in after["items"]]
    assert got != [it["item_id"] for it in before["items"]]
    assert group_share(got, 1) > group_share([it["item_id"] for it in before["items"]], 1)
    assert not set(got) & set(group_items(1)[:20])  # newly seen items are excluded too


def test_a_user_created_after_training_is_served_by_the_model(factory, client_a, tenant_a):
    cold = client_a.get(USERS_URL.format("newcomer"), {"k": 10}).json()
    assert cold["strategy"] == "popularity"
    factory.ingest(tenant_a, [("newcomer", i) for i in group_items(1)[:8]])
    warm = client_a.get(USERS_URL.format("newcomer"), {"k": 10}).json()
    assert warm["strategy"] == "model"
    assert group_share([it["item_id"] for it in warm["items"]], 1) >= 0.8


# ---------------------------------------------------------------------- session / similar / popular
def test_session_recommendations_from_recent_items(client_a):
    recent = group_items(1)[:5]
    r = client_a.post(SESSION_URL, {"recent_items": recent, "k": 8}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["strategy"] == "model" and body["model_version"] == 1
    got = ids(r)
    assert len(got) == 8 and not set(got) & set(recent)
    assert group_share(got, 1) >= 0.75


@pytest.mark.parametrize("recent", [[], ["not-an-item", "b-item"]])
def test_session_without_usable_items_gets_popularity(client_a, recent):
    r = client_a.post(SESSION_URL, {"recent_items": recent}, format="json")
    assert r.status_code == 200
    assert r.json()["strategy"] == "popularity" and len(r.json()["items"]) == 10


@pytest.mark.parametrize(
    "body, field",
    [
        ({"recent_items": "i1"}, "recent_items"),
        ({}, "recent_items"),
        ({"recent_items": ["i1"], "k": 500}, "k"),
        ({"recent_items": ["i1"] * 501}, "recent_items"),
    ],
)
def test_session_validation(client_a, body, field):
    r = client_a.post(SESSION_URL, body, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["details"]["errors"][0]["field"] == field


def test_similar_items(client_a):
    r = client_a.get(SIMILAR_URL.format("i31"), {"k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["strategy"] == "model" and body["model_version"] == 1
    got = ids(r)
    assert len(got) == 5 and "i31" not in got
    assert group_share(got, 1) >= 0.6


def test_similar_items_of_missing_or_foreign_items_are_404(factory, client_a):
    other = factory.tenant(with_data=False)
    factory.ingest(other, [("b-user", "b-only-item")])
    missing = client_a.get(SIMILAR_URL.format("nope"))
    foreign = client_a.get(SIMILAR_URL.format("b-only-item"))
    assert missing.status_code == foreign.status_code == 404
    assert missing.json()["error"]["code"] == foreign.json()["error"]["code"] == "not_found"
    assert client_a.get(SIMILAR_URL.format("i1"), {"k": 0}).status_code == 400


def test_popular_with_model_and_category(client_a):
    r = client_a.get(POPULAR_URL, {"k": 5})
    body = r.json()
    assert r.status_code == 200 and body["strategy"] == "popularity"
    assert body["model_version"] == 1 and len(body["items"]) == 5
    r = client_a.get(POPULAR_URL, {"k": 50, "category": "high"})
    got = ids(r)
    assert len(got) == 30 and all(int(i[1:]) >= 30 for i in got)


def test_no_active_model_serves_database_popularity(factory, api):
    tenant = factory.tenant(with_data=False)
    factory.ingest(
        tenant,
        [("a", "hot"), ("b", "hot"), ("c", "hot"), ("a", "warm"), ("b", "warm"), ("a", "cold")],
    )
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
    for url in (POPULAR_URL, USERS_URL.format("z"), USERS_URL.format("c")):
        body = api.get(url).json()
        assert body["strategy"] == "popularity" and body["model_version"] is None, url
    assert ids(api.get(POPULAR_URL)) == ["hot", "warm", "cold"]
    assert [it["score"] for it in api.get(POPULAR_URL).json()["items"]] == [3.0, 2.0, 1.0]
    assert ids(api.get(USERS_URL.format("c"))) == ["warm", "cold"]  # "hot" was seen by c
    assert ids(api.get(SIMILAR_URL.format("hot"))) == ["warm", "cold"]
    r = api.post(SESSION_URL, {"recent_items": ["warm"]}, format="json")
    assert ids(r) == ["hot", "cold"] and r.json()["model_version"] is None


def test_openapi_schema_lists_the_serving_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for p in (
        "/api/v1/users/{user_id}/recommendations",
        "/api/v1/recommendations",
        "/api/v1/items/{item_id}/similar",
        "/api/v1/popular",
    ):
        assert p in paths
    user = paths["/api/v1/users/{user_id}/recommendations"]["get"]["responses"]
    assert {"200", "400", "401", "403", "429"} <= set(user)
    assert user["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "413" in paths["/api/v1/recommendations"]["post"]["responses"]
    assert "404" in paths["/api/v1/items/{item_id}/similar"]["get"]["responses"]


def test_model_popularity_is_memoised_per_snapshot_and_follows_the_catalogue(
    tenant_a, client_a, monkeypatch
):
    from m6rec.serving.snapshot import snapshot_for

    first = ids(client_a.get(POPULAR_URL, {"k": 5}))
    recommender = snapshot_for(tenant_a).model.recommender
    calls = []
    real = recommender.popular
    monkeypatch.setattr(recommender, "popular", lambda *a, **kw: calls.append(kw) or real(*a, **kw))
    assert ids(client_a.get(POPULAR_URL, {"k": 5})) == first
    assert calls == []  # served from the snapshot's memo
    deactivate(tenant_a, first[:1])
    after = ids(client_a.get(POPULAR_URL, {"k": 5}))
    assert first[0] not in after and after[:4] == first[1:]  # a new catalogue, a new list
    assert len(calls) == 1


def test_other_processes_writes_are_seen_by_generation_or_catalogue_age(
    tenant_a, client_a, settings
):
    """A write in another process looks to this one like a direct UPDATE: it is seen within
    M6REC_ACTIVE_VERSION_TTL once the writer moves the tenant's serving generation, and
    within M6REC_CATALOG_TTL if nothing moves it (a direct SQL update)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from m6rec.catalog.models import Item
    from m6rec.tenants.generation import generation_bump

    settings.M6REC_ACTIVE_VERSION_TTL = 0.3
    settings.M6REC_CATALOG_TTL = 3.0
    first = ids(client_a.get(POPULAR_URL, {"k": 5}))
    with CaptureQueriesContext(connection) as warm:
        assert ids(client_a.get(POPULAR_URL, {"k": 5})) == first
    assert not [q for q in warm.captured_queries if "catalog_item" in q["sql"]]
    Item.objects.filter(tenant=tenant_a, external_id=first[0]).update(active=False)
    time.sleep(0.35)
    assert ids(client_a.get(POPULAR_URL, {"k": 5})) == first  # no generation moved: not yet
    generation_bump(tenant_id=tenant_a.pk)  # what the catalogue services do on commit
    time.sleep(0.35)
    assert first[0] not in ids(client_a.get(POPULAR_URL, {"k": 5}))
    Item.objects.filter(tenant=tenant_a, external_id=first[0]).update(active=True)
    time.sleep(0.35)
    assert first[0] not in ids(client_a.get(POPULAR_URL, {"k": 5}))  # the catalogue is young
    time.sleep(3.0)
    assert ids(client_a.get(POPULAR_URL, {"k": 5})) == first  # older than M6REC_CATALOG_TTL
