"""Batch recommendations through the API: lines equal the per-user API answers, listed users
and unknown ones, 400s that name the field, 404 for other tenants' jobs, admin scope only."""

from __future__ import annotations

import pytest

from tests.m6rec.batch.conftest import api_line, read_lines
from tests.m6rec.serving._data import N_USERS

URL = "/api/v1/models/batch-recommendations"


def _create(admin, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        return admin.post(URL, body, format="json")


def _download(admin, job_id: int) -> list[dict]:
    r = admin.get(f"{URL}/{job_id}/download")
    assert r.status_code == 200, r.content
    assert r["Content-Type"] == "application/gzip"
    raw = b"".join(r.streaming_content)
    import hashlib

    assert hashlib.sha256(raw).hexdigest() == r["X-Content-SHA256"]
    return read_lines(raw)


def test_every_user_job_equals_the_per_user_api(
    admin, recommender, celery_eager, django_capture_on_commit_callbacks
):
    r = _create(admin, django_capture_on_commit_callbacks, k=5)
    assert r.status_code == 202, r.content
    job = r.json()
    assert job["all_users"] is True and job["k"] == 5
    r = admin.get(f"{URL}/{job['id']}")
    assert r.status_code == 200
    done = r.json()
    assert done["status"] == "succeeded", done
    assert done["users_total"] == done["users_done"] == N_USERS
    assert done["progress"] == 100.0 and done["model_version"] == 1
    assert done["download_url"].endswith(f"{URL}/{job['id']}/download")
    assert len(done["sha256"]) == 64 and done["size_bytes"] > 0
    lines = _download(admin, job["id"])
    assert [line["user_id"] for line in lines] == [f"u{n}" for n in range(N_USERS)]
    for line in lines:
        assert line == api_line(recommender, line["user_id"], k=5)
        assert line["strategy"] == "model" and len(line["items"]) == 5


def test_listed_users_in_order_unknown_ones_get_popularity(
    admin, recommender, celery_eager, django_capture_on_commit_callbacks
):
    users = ["u7", "nobody", "u2", "u7", "u40"]
    body = {"k": 4, "user_ids": users, "exclude_seen": False, "category": "even"}
    r = _create(admin, django_capture_on_commit_callbacks, **body)
    assert r.status_code == 202, r.content
    job_id = r.json()["id"]
    job = admin.get(f"{URL}/{job_id}").json()
    assert job["status"] == "succeeded" and job["all_users"] is False
    assert job["users_total"] == job["users_done"] == 4  # the duplicate once
    assert job["popularity_users"] == 1
    lines = _download(admin, job_id)
    assert [line["user_id"] for line in lines] == ["u7", "nobody", "u2", "u40"]
    for line in lines:
        expected = api_line(recommender, line["user_id"], k=4, exclude_seen=False, category="even")
        assert line == expected
        assert all(int(i["item_id"][1:]) % 2 == 0 for i in line["items"])
    unknown = lines[1]
    assert unknown["strategy"] == "popularity" and len(unknown["items"]) == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": 101}, "k"),
        ({"k": "ten"}, "k"),
        ({"user_ids": []}, "user_ids"),
        ({"user_ids": "u1"}, "user_ids"),
        ({"user_ids": ["u1", "a/b"]}, "user_ids.1"),
        ({"user_ids": ["u1", " u2"]}, "user_ids.1"),
        ({"user_ids": ["u1", 7]}, "user_ids.1"),
        ({"exclude_seen": "maybe"}, "exclude_seen"),
        ({"category": "x" * 300}, "category"),
        ({"kk": 5}, "kk"),
    ],
)
def test_bad_input_is_400_naming_the_field(admin, body, field):
    from m6rec.batch.models import BatchJob

    r = admin.post(URL, body, format="json")
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["code"] == "invalid"
    assert field in [e["field"] for e in error["details"]["errors"]], error
    assert not BatchJob.objects.exists()


def test_one_job_in_progress_per_tenant_and_no_download_before_it_ends(admin):
    r = admin.post(URL, {}, format="json")  # no on-commit hook run: stays queued
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job_id = r.json()["id"]
    r = admin.post(URL, {"k": 3}, format="json")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "batch_in_progress"
    assert r.json()["error"]["details"] == {"job_id": job_id, "status": "queued"}
    r = admin.get(f"{URL}/{job_id}/download")
    assert r.status_code == 409 and r.json()["error"]["code"] == "batch_not_finished"
    assert admin.get(f"{URL}/{job_id}").json()["download_url"] is None


def test_other_tenants_jobs_are_404_and_not_listed(
    admin, factory, celery_eager, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    job_id = _create(admin, django_capture_on_commit_callbacks, k=3).json()["id"]
    other = factory.tenant(with_data=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(other, scopes=('admin',))}")
    for path in (f"{URL}/{job_id}", f"{URL}/{job_id}/download", f"{URL}/999999"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"
    assert client.get(URL).json()["results"] == []
    assert [j["id"] for j in admin.get(URL).json()["results"]] == [job_id]


def test_admin_scope_only(factory, tenant, api):
    for scopes in (("recommend",), ("ingest", "recommend")):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant, scopes=scopes)}")
        for method, path in (("post", URL), ("get", URL), ("get", f"{URL}/1"),
                             ("get", f"{URL}/1/download")):  # fmt: skip
            r = getattr(api, method)(path, {}, format="json") if method == "post" else api.get(path)
            assert r.status_code == 403, (scopes, path)
            assert r.json()["error"]["details"]["required_scope"] == "admin"
    api.credentials()
    assert api.post(URL, {}, format="json").status_code == 401


def test_list_is_cursor_pages_newest_first(admin, celery_eager, django_capture_on_commit_callbacks):
    ids = [
        _create(admin, django_capture_on_commit_callbacks, k=2, user_ids=[f"u{n}"]).json()["id"]
        for n in range(3)
    ]
    first = admin.get(URL, {"limit": 2}).json()
    assert [j["id"] for j in first["results"]] == ids[::-1][:2]
    second = admin.get(first["next"]).json()
    assert [j["id"] for j in second["results"]] == ids[:1] and second["next"] is None
    assert admin.get(URL, {"limit": 0}).status_code == 400
    assert admin.get(URL, {"status": "queued"}).status_code == 400
