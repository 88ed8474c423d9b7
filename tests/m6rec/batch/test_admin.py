"""The admin lists batch jobs with their progress and shows one read-only."""

from __future__ import annotations

from m6rec.batch import execution


def test_jobs_list_and_page(admin_client, tenant):
    job = execution.batch_job_sync(tenant=tenant, k=2, user_ids=["u1", "u2"])
    r = admin_client.get("/admin/batch/batchjob/")
    assert r.status_code == 200
    text = r.content.decode()
    assert tenant.slug in text and "100.0%" in text
    r = admin_client.get(f"/admin/batch/batchjob/{job.pk}/change/")
    assert r.status_code == 200 and job.sha256 in r.content.decode()
    assert admin_client.get("/admin/batch/batchjob/add/").status_code == 403
