"""The product loop against a real Celery worker, Redis broker and PostgreSQL (no eager mode):

ingest (ml-100k slice, through the API) → train → version active → served by that version →
ingest more → retrain → promote → roll back → served by the previous version; a second train
request while a run is in progress is rejected; two tenants train at once without interfering.
"""

from __future__ import annotations

import time

import pytest

from m6rec.common.testing import api_client, make_key, make_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def ratings(loop):
    return loop.ratings()


def _tenant_api(slug: str):
    tenant = make_tenant(slug, domain="content")
    return tenant, api_client(make_key(tenant)[1])


def _serving_available() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("user-recommendations", kwargs={"user_id": "1"})
    except NoReverseMatch:
        return False
    return True


def _served_version(api, user_id: str, expected: int | None, *, timeout: float = 10.0):
    """Poll the recommendation endpoint until it reports ``expected`` (propagation ≤ seconds)."""
    deadline = time.monotonic() + timeout
    body = {}
    while time.monotonic() < deadline:
        response = api.get(f"/api/v1/users/{user_id}/recommendations?k=5")
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        if body["model_version"] == expected:
            return body
        time.sleep(0.3)
    pytest.fail(f"served model_version {body.get('model_version')}, expected {expected}: {body}")


def _train(loop, api, worker) -> dict:
    response = api.post("/api/v1/models/train", {}, format="json")
    assert response.status_code == 202, response.content
    return loop.wait_for_run(api, response.json()["id"], worker=worker)


def test_ingest_train_serve_retrain_promote_rollback(celery_worker, ratings, loop):
    tenant, api = _tenant_api("ml")
    serving = _serving_available()
    loop.ingest(api, loop.rows(ratings, range(1, 201)))

    # train; a second request while the first is in progress is rejected (never run twice)
    first = api.post("/api/v1/models/train", {}, format="json")
    assert first.status_code == 202
    second = api.post("/api/v1/models/train", {}, format="json")
    assert second.status_code == 409
    assert second.json()["error"]["details"]["run_id"] == first.json()["id"]
    run1 = loop.wait_for_run(api, first.json()["id"], worker=celery_worker)
    assert run1["status"] == "succeeded", run1
    assert run1["version"] == 1 and run1["progress"] == 100.0
    assert run1["data_counts"]["users"] == 200

    versions = api.get("/api/v1/models/versions").json()
    assert versions["active"] == 1
    assert versions["results"][0]["gate_metric"] > 0.05
    if serving:
        body = _served_version(api, "1", 1)
        assert body["strategy"] == "model" and len(body["items"]) == 5

    # more data → retrain → v2 (whatever the gate decided) → promote it explicitly
    loop.ingest(api, loop.rows(ratings, range(201, 401)))
    run2 = _train(loop, api, celery_worker)
    assert run2["status"] == "succeeded", run2
    assert run2["version"] == 2 and run2["data_counts"]["users"] == 400
    promote = api.post("/api/v1/models/versions/2/promote", {"reason": "it"}, format="json")
    assert promote.status_code == 200 and promote.json()["status"] == "active"
    if serving:
        _served_version(api, "300", 2)  # a user only v2 knows

    # roll back → v1 active again and served
    rollback = api.post("/api/v1/models/rollback", {"reason": "regression"}, format="json")
    assert rollback.status_code == 200 and rollback.json()["number"] == 1
    assert api.get("/api/v1/models/versions").json()["active"] == 1
    if serving:
        _served_version(api, "1", 1)

    from m6rec.registry.models import AuditLog

    actions = list(
        AuditLog.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True)
    )
    assert actions[0] == "auto_promote" and actions[-1] == "rollback"


def test_two_tenants_train_at_once_without_interfering(celery_worker, ratings, loop):
    from m6rec.registry.models import ModelVersion
    from m6rec.registry.storage import bundle_local_path
    from m6rec.training.models import TrainingRun

    a, api_a = _tenant_api("alpha")
    b, api_b = _tenant_api("beta")
    loop.ingest(api_a, loop.rows(ratings, range(1, 151)))
    loop.ingest(api_b, loop.rows(ratings, range(501, 801)))
    run_a = api_a.post("/api/v1/models/train", {}, format="json").json()["id"]
    run_b = api_b.post("/api/v1/models/train", {}, format="json").json()["id"]
    done_a = loop.wait_for_run(api_a, run_a, worker=celery_worker)
    done_b = loop.wait_for_run(api_b, run_b, worker=celery_worker)
    assert done_a["status"] == done_b["status"] == "succeeded", (done_a, done_b)
    assert done_a["data_counts"]["users"] == 150 and done_b["data_counts"]["users"] == 300
    va = ModelVersion.objects.get(tenant=a)
    vb = ModelVersion.objects.get(tenant=b)
    assert (va.number, va.status, vb.number, vb.status) == (1, "active", 1, "active")
    assert bundle_local_path(uri=va.bundle_uri) != bundle_local_path(uri=vb.bundle_uri)
    assert va.bundle_sha256 != vb.bundle_sha256
    # they ran concurrently on the two worker processes (overlapping intervals)
    ra, rb = TrainingRun.objects.get(pk=run_a), TrainingRun.objects.get(pk=run_b)
    assert ra.started_at < rb.finished_at and rb.started_at < ra.finished_at
    # each tenant only sees its own runs and versions
    assert api_a.get(f"/api/v1/models/runs/{run_b}").status_code == 404
    assert [v["number"] for v in api_b.get("/api/v1/models/versions").json()["results"]] == [1]
