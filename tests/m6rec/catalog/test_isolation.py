"""Tenant isolation: tenant A's key against tenant B's ids answers exactly like a missing id."""

import pytest

from m6rec.catalog.models import EndUser, Interaction, Item

pytestmark = pytest.mark.django_db


@pytest.fixture
def b_data(other_api):
    """Tenant B (globex) owns item "b-item", user "b-user" and one interaction."""
    assert (
        other_api.post(
            "/api/v1/items", {"items": [{"item_id": "b-item"}]}, format="json"
        ).status_code
        == 200
    )
    assert (
        other_api.post(
            "/api/v1/users", {"users": [{"user_id": "b-user"}]}, format="json"
        ).status_code
        == 200
    )
    body = {"interactions": [{"user_id": "b-user", "item_id": "b-item", "event_id": "b-1"}]}
    assert other_api.post("/api/v1/interactions", body, format="json").json()["created"] == 1


def _body_without_id(response):
    return (
        response.status_code,
        response.json()["error"]["code"],
        response.json()["error"]["details"],
    )


@pytest.mark.parametrize(
    ("method", "b_path", "missing_path", "what"),
    [
        ("get", "/api/v1/items/b-item", "/api/v1/items/nope", "Item"),
        ("delete", "/api/v1/items/b-item", "/api/v1/items/nope", "Item"),
        ("get", "/api/v1/users/b-user", "/api/v1/users/nope", "User"),
        ("delete", "/api/v1/users/b-user", "/api/v1/users/nope", "User"),
    ],
)
def test_other_tenants_ids_answer_like_missing_ones(
    api, b_data, method, b_path, missing_path, what
):
    foreign = getattr(api, method)(b_path)
    missing = getattr(api, method)(missing_path)
    assert foreign.status_code == missing.status_code == 404
    assert _body_without_id(foreign) == _body_without_id(missing)
    b_id = b_path.rsplit("/", 1)[1]
    assert foreign.json()["error"]["message"] == f"{what} {b_id!r} not found."
    assert missing.json()["error"]["message"] == f"{what} 'nope' not found."
    assert set(foreign.headers) == set(missing.headers)
    # B's rows are untouched by A's deletes
    assert Item.objects.filter(external_id="b-item").count() == 1
    assert EndUser.objects.filter(external_id="b-user").count() == 1


def test_lists_show_only_own_rows(api, b_data):
    api.post("/api/v1/items", {"items": [{"item_id": "a-item"}]}, format="json")
    api.post("/api/v1/users", {"users": [{"user_id": "a-user"}]}, format="json")
    assert [r["item_id"] for r in api.get("/api/v1/items").json()["results"]] == ["a-item"]
    assert [r["user_id"] for r in api.get("/api/v1/users").json()["results"]] == ["a-user"]


def test_same_external_ids_are_separate_rows_per_tenant(api, other_api, b_data, tenant):
    body = {"items": [{"item_id": "b-item", "properties": {"title": "A's"}}]}
    assert api.post("/api/v1/items", body, format="json").json() == {"created": 1, "updated": 0}
    assert other_api.get("/api/v1/items/b-item").json()["properties"] == {}
    assert api.get("/api/v1/items/b-item").json()["properties"] == {"title": "A's"}


def test_interactions_never_attach_to_other_tenants_rows(api, b_data, tenant, other_tenant):
    body = {"interactions": [{"user_id": "b-user", "item_id": "b-item", "event_id": "b-1"}]}
    result = api.post("/api/v1/interactions", body, format="json").json()
    # same event id and external ids in tenant A: new rows of A, not a duplicate of B's event
    assert result["created"] == 1 and result["duplicate"] == 0
    assert result["users_created"] == 1 and result["items_created"] == 1
    for i in Interaction.objects.select_related("user", "item"):
        assert i.user.tenant_id == i.item.tenant_id == i.tenant_id


def test_rejecting_tenant_does_not_see_other_tenants_users(api, b_data, tenant):
    tenant.unknown_refs = "reject"
    tenant.save()
    body = {"interactions": [{"user_id": "b-user", "item_id": "b-item"}]}
    response = api.post("/api/v1/interactions", body, format="json")
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["error"]["details"]["errors"]}
    assert fields == {"user_id", "item_id"}
