"""Training API: POST /models/train (202, 409), GET /models/runs/{id} (tenant-scoped)."""

import pytest

from m6rec.training.models import TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch):
    from m6rec.training import services

    sent = []
    monkeypatch.setattr(
        services.runs, "training_run_dispatch", lambda *, run_id: sent.append(run_id)
    )
    return sent


def test_train_returns_queued_run_202(api, tenant):
    response = api.post("/api/v1/models/train", {}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["trigger"] == "api"
    assert body["requested_by"] == "apikey:test" and body["version"] is None
    run = TrainingRun.objects.get(pk=body["id"])
    assert run.tenant == tenant


def test_train_empty_body_is_accepted(api):
    assert api.post("/api/v1/models/train").status_code == 202


def test_second_train_request_is_409(api, tenant):
    first = api.post("/api/v1/models/train", {}, format="json").json()
    response = api.post("/api/v1/models/train", {}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "training_in_progress"
    assert error["details"] == {"run_id": first["id"], "status": "queued"}
    assert TrainingRun.objects.filter(tenant=tenant).count() == 1


def test_run_detail_and_list(api, tenant):
    run_id = api.post("/api/v1/models/train", {}, format="json").json()["id"]
    TrainingRun.objects.filter(pk=run_id).update(status="running", stage="tune:mf", progress=33.3)
    body = api.get(f"/api/v1/models/runs/{run_id}").json()
    assert (body["status"], body["stage"], body["progress"]) == ("running", "tune:mf", 33.3)
    assert [r["id"] for r in api.get("/api/v1/models/runs").json()["results"]] == [run_id]


def test_other_tenants_run_is_404_like_missing(api, other_api):
    foreign = other_api.post("/api/v1/models/train", {}, format="json").json()["id"]
    missing = api.get("/api/v1/models/runs/987654")
    response = api.get(f"/api/v1/models/runs/{foreign}")
    assert response.status_code == missing.status_code == 404
    assert response.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    assert api.get("/api/v1/models/runs").json()["results"] == []
    # the other tenant's run does not block this tenant
    assert api.post("/api/v1/models/train", {}, format="json").status_code == 202


def test_runs_list_is_cursor_pages_and_refuses_bad_values(api, tenant):
    runs = [
        TrainingRun.objects.create(tenant=tenant, trigger="api", status="succeeded")
        for _ in range(3)
    ]
    newest_first = [r.pk for r in reversed(runs)]
    assert [r["id"] for r in api.get("/api/v1/models/runs").json()["results"]] == newest_first
    page = api.get("/api/v1/models/runs?limit=2").json()
    assert [r["id"] for r in page["results"]] == newest_first[:2]
    assert [r["id"] for r in api.get(page["next"]).json()["results"]] == newest_first[2:]
    assert len(api.get("/api/v1/models/runs?limit=100").json()["results"]) == 3
    for bad in ("0", "-1", "101", "abc", "", "1.5"):
        response = api.get(f"/api/v1/models/runs?limit={bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"]["details"]["errors"] == [
            {"field": "limit", "message": "Must be an integer between 1 and 100."}
        ]


@pytest.mark.parametrize("query", ["limt=5", "status=queued", "cursor=abc", "cursor="])
def test_runs_list_refuses_unknown_parameters_and_bad_cursors(api, query):
    response = api.get(f"/api/v1/models/runs?{query}")
    assert response.status_code == 400, query
    fields = {e["field"] for e in response.json()["error"]["details"]["errors"]}
    assert fields and fields <= {"limt", "status", "cursor"}
