"""Serving from bundles in S3 (issue 14): versions published to a real S3-compatible server
(moto in server mode) are fetched into the process's cache and served; a version whose object
was tampered with is refused, marked failed, the registry rolls back (audited) and the previous
version keeps serving. Storage-level S3 tests: tests/m6rec/registry/test_storage_s3.py."""

from __future__ import annotations

import time

import pytest

from tests.m6rec.registry import _s3

moto_server, s3_bundles = _s3.moto_server, _s3.s3_bundles  # the fixtures

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/u1/recommendations"


def test_versions_serve_from_s3_and_a_tampered_one_is_refused(s3_bundles, factory, api):
    from m6rec.registry.models import AuditLog, ModelVersion

    client, bucket, prefix = s3_bundles
    tenant = factory.tenant()
    v1 = factory.version(tenant)
    keys = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{v1.bundle_uri}/")
    assert any(o["Key"].endswith("/manifest.json") for o in keys["Contents"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
    body = api.get(URL).json()
    assert body["model_version"] == 1 and body["strategy"] == "model"

    v2 = factory.version(tenant, tamper=True)  # its item_factors.npy object does not match
    assert v2.status == ModelVersion.Status.ACTIVE
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        response = api.get(URL)
        assert response.status_code == 200 and response.json()["model_version"] == 1
        v2.refresh_from_db()
        if v2.status == ModelVersion.Status.FAILED:
            break
        time.sleep(0.05)
    assert v2.status == ModelVersion.Status.FAILED
    v1.refresh_from_db()
    assert v1.status == ModelVersion.Status.ACTIVE
    assert AuditLog.objects.filter(tenant=tenant, action="fail", from_version=v2).exists()
    assert api.get(URL).json()["model_version"] == 1
