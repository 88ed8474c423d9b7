"""Batch fixtures: the serving fixtures (a real trained bundle, tenants with the synthetic
catalogue, keys, versions), a tenant with an active version, and an admin client."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.m6rec.serving.conftest import (  # noqa: F401 - fixtures shared with serving
    _fresh_serving_state,
    api,
    factory,
    trained_bundle,
)


@pytest.fixture(autouse=True)
def _batch_settings(settings, tmp_path):
    settings.M6REC_BATCH_CHUNK_USERS = 25
    settings.MEDIA_ROOT = str(tmp_path / "media")  # outputs in a throwaway storage


@pytest.fixture
def tenant(factory):  # noqa: F811 - the imported fixture
    tenant = factory.tenant()
    factory.version(tenant)
    return tenant


@pytest.fixture
def admin(factory, tenant, api):  # noqa: F811
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant, scopes=('admin',))}")
    return api


@pytest.fixture
def recommender(factory, tenant):  # noqa: F811
    """A client with a recommend-only key of the same tenant (for the per-user API calls)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
    return client


def read_lines(raw: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(raw).decode("utf-8").splitlines()]


def job_lines(job) -> list[dict]:
    from m6rec.batch import storage

    with storage.open_output(uri=job.output_uri) as fh:
        return read_lines(fh.read())


def api_line(client, user_id: str, *, k: int, exclude_seen: bool = True, category=None) -> dict:
    """What ``GET users/{id}/recommendations`` answers, in the batch line's shape."""
    params = {"k": k, "exclude_seen": str(exclude_seen).lower()}
    if category:
        params["category"] = category
    r = client.get(f"/api/v1/users/{user_id}/recommendations", params)
    assert r.status_code == 200, r.content
    body = r.json()
    return {
        "user_id": user_id,
        "items": body["items"],
        "model_version": body["model_version"],
        "strategy": body["strategy"],
    }
