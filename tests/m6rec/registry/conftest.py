import json

import pytest

from m6rec.common.testing import *  # noqa: F403 - shared fixtures (tenant, api, ...)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def make_version(settings):
    """Register a candidate version with a tiny fake bundle; ``status="active"`` promotes it."""
    from m6rec.registry import services, storage

    def make(tenant, ndcg=0.3, *, status="candidate", activate_via="promote"):
        from django.db import transaction

        with transaction.atomic():
            number = services.version_next_number(tenant=tenant)
            staging = storage.bundle_staging_dir(tenant_slug=tenant.slug)
            (staging / "manifest.json").write_text(
                json.dumps({"metrics": {"validation": {"ndcg@10": ndcg}}})
            )
            sha = storage.manifest_sha256(staging)
            uri = storage.bundle_publish(
                staging_dir=staging, tenant_slug=tenant.slug, number=number
            )
            version = services.version_create(
                tenant=tenant,
                number=number,
                bundle_uri=uri,
                bundle_sha256=sha,
                metrics={"validation": {"ndcg@10": ndcg, "precision@10": ndcg / 2}},
                data_counts={"interactions": 100},
            )
        if status == "active":
            version = services.version_promote(version=version, actor="test", reason="setup")
        return version

    return make
