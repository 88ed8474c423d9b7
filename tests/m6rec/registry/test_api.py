"""Registry API: versions list, promote, pin, rollback — tenant isolation and scopes."""

import pytest

from m6rec.common.testing import api_client, make_key
from m6rec.registry.models import AuditLog, ModelVersion

pytestmark = pytest.mark.django_db


def test_versions_list_shows_metrics_and_active(api, tenant, make_version):
    make_version(tenant, 0.25, status="active")
    make_version(tenant, 0.20)
    response = api.get("/api/v1/models/versions")
    assert response.status_code == 200
    body = response.json()
    assert body["active"] == 1 and body["next"] is None and body["previous"] is None
    assert [v["number"] for v in body["results"]] == [2, 1]
    assert body["results"][1]["gate_metric"] == 0.25
    assert body["results"][1]["status"] == "active"
    assert body["results"][0]["metrics"]["validation"]["ndcg@10"] == 0.2


def test_promote_and_rollback_via_api(api, tenant, make_version):
    make_version(tenant, 0.3, status="active")
    make_version(tenant, 0.2)
    response = api.post("/api/v1/models/versions/2/promote", {"reason": "try v2"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    response = api.post("/api/v1/models/rollback", {"reason": "worse CTR"}, format="json")
    assert response.status_code == 200
    assert response.json()["number"] == 1
    assert api.get("/api/v1/models/versions").json()["active"] == 1
    log = AuditLog.objects.filter(tenant=tenant).order_by("-id").first()
    assert (log.action, log.reason, log.actor) == ("rollback", "worse CTR", "apikey:test")


def test_rollback_without_previous_is_409(api, tenant, make_version):
    make_version(tenant, status="active")
    response = api.post("/api/v1/models/rollback", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "nothing_to_roll_back"


def test_pin_via_api(api, tenant, make_version):
    make_version(tenant, status="active")
    make_version(tenant)
    response = api.post("/api/v1/models/versions/2/pin", {"reason": "freeze"}, format="json")
    assert response.status_code == 200
    assert response.json()["pinned"] is True and response.json()["status"] == "active"
    response = api.post("/api/v1/models/unpin", {}, format="json")
    assert response.status_code == 200
    assert response.json()["active"]["number"] == 2
    assert response.json()["active"]["pinned"] is False
    assert ModelVersion.objects.get(tenant=tenant, number=2).pinned is False


def test_promote_failed_version_is_409(api, tenant, make_version):
    from m6rec.registry.services import version_mark_failed

    version_mark_failed(version=make_version(tenant), reason="bad")
    response = api.post("/api/v1/models/versions/1/promote", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_other_tenants_versions_are_404_like_missing(
    api, other_api, tenant, other_tenant, make_version
):
    make_version(other_tenant, status="active")
    make_version(other_tenant)
    assert api.get("/api/v1/models/versions").json() == {
        "next": None,
        "previous": None,
        "active": None,
        "results": [],
    }
    for path in ("/api/v1/models/versions/2", "/api/v1/models/versions/9"):
        assert api.get(path).status_code == 404
    missing = api.post("/api/v1/models/versions/9/promote", {}, format="json")
    foreign = api.post("/api/v1/models/versions/2/promote", {}, format="json")
    assert missing.status_code == foreign.status_code == 404
    assert missing.json()["error"]["code"] == foreign.json()["error"]["code"] == "not_found"
    assert ModelVersion.objects.get(tenant=other_tenant, number=2).status == "candidate"
    # the owner sees its own
    assert other_api.get("/api/v1/models/versions").json()["active"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/models/versions"),
        ("get", "/api/v1/models/versions/1"),
        ("post", "/api/v1/models/versions/1/promote"),
        ("post", "/api/v1/models/versions/1/pin"),
        ("post", "/api/v1/models/rollback"),
        ("post", "/api/v1/models/unpin"),
        ("post", "/api/v1/models/train"),
        ("get", "/api/v1/models/runs"),
        ("get", "/api/v1/models/runs/1"),
    ],
)
def test_admin_scope_required(tenant, method, path):
    _, token = make_key(tenant, scopes=["ingest", "recommend"])
    response = getattr(api_client(token), method)(path, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "admin"
    response = getattr(api_client(), method)(path, {}, format="json")
    assert response.status_code == 401


def test_openapi_schema_lists_model_endpoints(api):
    from django.test import Client

    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/models/train",
        "/api/v1/models/versions/{number}/promote",
        "/api/v1/models/rollback",
        "/api/v1/models/runs/{run_id}",
    ):
        assert path in text


def test_versions_list_is_cursor_pages_and_refuses_bad_values(api, tenant, make_version):
    make_version(tenant, status="active")
    for _ in range(2):
        make_version(tenant)
    first = api.get("/api/v1/models/versions?limit=2").json()
    assert [v["number"] for v in first["results"]] == [3, 2]
    assert first["active"] == 1 and first["previous"] is None
    second = api.get(first["next"]).json()
    assert [v["number"] for v in second["results"]] == [1]
    assert second["active"] == 1 and second["next"] is None and second["previous"]
    assert len(api.get("/api/v1/models/versions?limit=500").json()["results"]) == 3
    for bad in ("0", "-1", "501", "abc", "", "1.5"):
        response = api.get(f"/api/v1/models/versions?limit={bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"]["details"]["errors"] == [
            {"field": "limit", "message": "Must be an integer between 1 and 500."}
        ]


@pytest.mark.parametrize("query", ["limt=5", "page=2", "cursor=x", "limit=2&offset=1"])
def test_versions_list_refuses_unknown_parameters_and_bad_cursors(api, query):
    response = api.get(f"/api/v1/models/versions?{query}")
    assert response.status_code == 400, query
    fields = {e["field"] for e in response.json()["error"]["details"]["errors"]}
    assert fields and fields <= {"limt", "page", "cursor", "offset"}
