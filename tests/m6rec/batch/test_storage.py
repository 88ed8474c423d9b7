"""Batch outputs in the bundle storage: on S3 (a real S3-compatible server) parts and the final
object, resumed, downloaded through the API; a deleted job takes its files with it. And what a
batch export does to the online metrics today."""

from __future__ import annotations

import hashlib

from m6rec.batch import execution, services, storage
from m6rec.batch.models import BatchJob
from tests.m6rec.batch.conftest import job_lines, read_lines
from tests.m6rec.registry import _s3

moto_server, s3_bundles = _s3.moto_server, _s3.s3_bundles  # the fixtures

URL = "/api/v1/models/batch-recommendations"


def _keys(client, bucket, prefix) -> list[str]:
    got = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in got.get("Contents", []))


def test_a_job_on_s3_resumes_and_downloads(s3_bundles, factory, api, monkeypatch, db):
    client, bucket, prefix = s3_bundles
    tenant = factory.tenant()
    factory.version(tenant)
    job = services.batch_job_create(tenant=tenant, k=4, dispatch=False)
    real = execution.recommendation_line
    calls = []

    def failing(**kwargs):
        calls.append(kwargs["user_id"])
        if len(calls) == 60:
            raise RuntimeError("S3 hiccup")
        return real(**kwargs)

    monkeypatch.setattr(execution, "recommendation_line", failing)
    execution.batch_job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.users_done) == ("queued", 50)
    job_keys = f"{prefix}/batch/{tenant.slug}/{job.pk}/"
    assert len(_keys(client, bucket, job_keys + "parts/")) == 2
    monkeypatch.undo()
    execution.batch_job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2
    assert _keys(client, bucket, job_keys) == [job_keys + "recommendations.jsonl.gz"]
    assert storage.local_path(uri=job.output_uri) is None
    body = client.get_object(Bucket=bucket, Key=f"{prefix}/{job.output_uri}")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == job.sha256 and len(body) == job.size_bytes
    lines = read_lines(body)
    assert len(lines) == 80 and len({line["user_id"] for line in lines}) == 80

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant, scopes=('admin',))}")
    r = api.get(f"{URL}/{job.pk}/download")
    assert r.status_code == 200 and b"".join(r.streaming_content) == body


def test_a_deleted_job_takes_its_files(tenant, django_capture_on_commit_callbacks):
    job = execution.batch_job_sync(tenant=tenant, k=2, user_ids=["u1", "u2"])
    path = storage.local_path(uri=job.output_uri)
    assert job_lines(job) and path is not None
    with django_capture_on_commit_callbacks(execute=True):
        job.delete()
    import os

    assert not os.path.exists(os.path.dirname(path))


def test_a_batch_export_counts_no_impressions(tenant, redis_url, settings):
    from m6rec.online import impressions

    settings.M6REC_IMPRESSIONS_REDIS_URL = redis_url
    impressions.buffer.take()
    execution.batch_job_sync(tenant=tenant, k=3, user_ids=["u1", "u2", "u3"])
    counted = {
        key: value for key, value in impressions.buffer.take().items() if key[0] == tenant.pk
    }
    assert counted == {}
    assert BatchJob.objects.get(tenant=tenant).status == "succeeded"
