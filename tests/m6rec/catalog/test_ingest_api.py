"""Batch upserts, idempotent interaction ingestion, lists, deletes."""

import pytest

from m6rec.catalog.models import EndUser, Interaction, Item

pytestmark = pytest.mark.django_db

INTERACTIONS = "/api/v1/interactions"


def post(client, path, body):
    return client.post(path, body, format="json")


def test_item_upsert_creates_then_updates(api, tenant):
    rows = [
        {"item_id": "1", "properties": {"title": "Heat", "year": 1995}, "categories": ["Crime"]},
        {"item_id": "2"},
    ]
    assert post(api, "/api/v1/items", {"items": rows}).json() == {"created": 2, "updated": 0}
    rows[0]["properties"]["title"] = "Heat (1995)"
    rows[1]["active"] = False
    result = post(api, "/api/v1/items", {"items": rows + [{"item_id": "3"}]}).json()
    assert result == {"created": 1, "updated": 2}
    one = api.get("/api/v1/items/1").json()
    assert one["properties"] == {"title": "Heat (1995)", "year": 1995}
    assert one["categories"] == ["Crime"] and one["active"] is True
    assert api.get("/api/v1/items/2").json()["active"] is False
    assert Item.objects.filter(tenant=tenant).count() == 3


def test_user_upsert_and_get(api):
    body = {"users": [{"user_id": "u1", "properties": {"age": 31}}]}
    assert post(api, "/api/v1/users", body).json() == {"created": 1, "updated": 0}
    got = api.get("/api/v1/users/u1").json()
    assert got["user_id"] == "u1" and got["properties"] == {"age": 31}
    assert set(got) == {"user_id", "properties", "created_at", "updated_at"}


def test_interactions_create_unknown_refs_and_replay_changes_nothing(api, tenant):
    batch = {
        "interactions": [
            {"user_id": "u1", "item_id": "i1", "type": "like", "event_id": "e1"},
            {
                "user_id": "u1",
                "item_id": "i2",
                "type": "view",
                "value": 42.5,
                "timestamp": "2024-05-01T12:00:00Z",
                "event_id": "e2",
            },
            {"user_id": "u2", "item_id": "i1", "timestamp": 1700000000, "event_id": "e3"},
        ]
    }
    first = post(api, INTERACTIONS, batch).json()
    assert first == {
        "received": 3,
        "attributed": 0,
        "created": 3,
        "duplicate": 0,
        "users_created": 2,
        "items_created": 2,
    }
    before = list(Interaction.objects.order_by("id").values())
    replay = post(api, INTERACTIONS, batch).json()
    assert replay == {
        "received": 3,
        "attributed": 0,
        "created": 0,
        "duplicate": 3,
        "users_created": 0,
        "items_created": 0,
    }
    assert list(Interaction.objects.order_by("id").values()) == before
    assert EndUser.objects.filter(tenant=tenant).count() == 2
    stored = Interaction.objects.get(event_id="e2")
    assert (stored.type, stored.value, stored.timestamp.isoformat()) == (
        "view",
        42.5,
        "2024-05-01T12:00:00+00:00",
    )
    assert Interaction.objects.get(event_id="e3").type == "view"  # the domain's first type
    assert Interaction.objects.get(event_id="e3").timestamp.timestamp() == 1700000000


def test_partial_replay_counts_duplicates_and_repeats_within_a_batch(api):
    post(api, INTERACTIONS, {"interactions": [{"user_id": "u", "item_id": "i", "event_id": "a"}]})
    rows = [{"user_id": "u", "item_id": "i", "event_id": e} for e in ("a", "b", "b", "c")]
    rows.append({"user_id": "u", "item_id": "i"})  # no event id: always stored
    result = post(api, INTERACTIONS, {"interactions": rows}).json()
    assert (result["created"], result["duplicate"]) == (3, 2)
    assert Interaction.objects.count() == 4


def test_reject_policy_refuses_unknown_refs_and_writes_nothing(api, tenant):
    tenant.unknown_refs = "reject"
    tenant.save()
    post(api, "/api/v1/items", {"items": [{"item_id": "i1"}]})
    post(api, "/api/v1/users", {"users": [{"user_id": "u1"}]})
    rows = [
        {"user_id": "u1", "item_id": "i1", "event_id": "ok"},
        {"user_id": "ghost", "item_id": "i1"},
        {"user_id": "u1", "item_id": "phantom"},
    ]
    response = post(api, INTERACTIONS, {"interactions": rows})
    assert response.status_code == 400
    errors = response.json()["error"]["details"]["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(1, "user_id"), (2, "item_id")]
    assert "ghost" in errors[0]["message"] and "unknown_refs=reject" in errors[0]["message"]
    assert Interaction.objects.count() == 0
    assert post(api, INTERACTIONS, {"interactions": rows[:1]}).json()["created"] == 1


def test_list_pagination_walks_every_row_once(api):
    post(api, "/api/v1/items", {"items": [{"item_id": f"i{n:03d}"} for n in range(25)]})
    seen, url, pages = [], "/api/v1/items?limit=10", 0
    while url:
        body = api.get(url).json()
        seen += [r["item_id"] for r in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 3
    assert seen == [f"i{n:03d}" for n in range(25)]
    back = api.get(body["previous"]).json() if body["previous"] else None
    assert back and len(back["results"]) == 10


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=1001", "limit=x", "cursor=bz14", "cursor=cD1hYmM="]
)
def test_bad_pagination_parameters_are_400(api, query):
    response = api.get(f"/api/v1/users?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["errors"][0]["field"] in {"limit", "cursor"}


def test_delete_user_removes_their_interactions_only(api, tenant):
    rows = [
        {"user_id": "gone", "item_id": "i1"},
        {"user_id": "gone", "item_id": "i2"},
        {"user_id": "stays", "item_id": "i1"},
    ]
    post(api, INTERACTIONS, {"interactions": rows})
    assert api.delete("/api/v1/users/gone").status_code == 204
    assert api.get("/api/v1/users/gone").status_code == 404
    assert list(Interaction.objects.values_list("user__external_id", flat=True)) == ["stays"]
    assert Item.objects.filter(tenant=tenant).count() == 2
    assert api.delete("/api/v1/users/gone").status_code == 404


def test_delete_item_removes_its_interactions(api):
    post(
        api,
        INTERACTIONS,
        {"interactions": [{"user_id": "u", "item_id": "x"}, {"user_id": "u", "item_id": "y"}]},
    )
    assert api.delete("/api/v1/items/x").status_code == 204
    assert list(Interaction.objects.values_list("item__external_id", flat=True)) == ["y"]


def test_ten_thousand_rows_in_one_batch(api):
    rows = [
        {"user_id": f"u{n % 100}", "item_id": f"i{n % 250}", "event_id": f"e{n}"}
        for n in range(10_000)
    ]
    result = post(api, INTERACTIONS, {"interactions": rows}).json()
    assert result["created"] == 10_000 and result["users_created"] == 100
    too_many = rows + [{"user_id": "u", "item_id": "i"}]
    response = post(api, INTERACTIONS, {"interactions": too_many})
    assert response.status_code == 400
    assert "between 1 and 10000" in response.json()["error"]["message"]
