"""Model versions while serving: promote/rollback propagation, tampered bundles, LRU bounds."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/u1/recommendations"
PROPAGATION_S = 5.0


@pytest.fixture
def setup(factory, api):
    tenant = factory.tenant()
    v1 = factory.version(tenant)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
    return tenant, v1, api


def wait_for_version(api, expected: int | None, *, timeout: float = PROPAGATION_S) -> float:
    """Seconds until responses show ``expected``; every response meanwhile must succeed."""
    started = time.monotonic()
    while True:
        r = api.get(URL, {"k": 5})
        assert r.status_code == 200, r.content  # no request dropped while switching
        if r.json()["model_version"] == expected:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"v{expected} not served within {timeout}s"
        time.sleep(0.05)


def test_promote_and_rollback_reach_serving_within_the_window(factory, setup):
    from m6rec.registry.services import version_rollback

    tenant, v1, api = setup
    assert api.get(URL).json()["model_version"] == 1
    factory.version(tenant)  # v2, promoted
    assert wait_for_version(api, 2) <= PROPAGATION_S
    version_rollback(tenant=tenant, reason="test")
    assert wait_for_version(api, 1) <= PROPAGATION_S
    body = api.get(URL).json()
    assert body["strategy"] == "model" and len(body["items"]) == 10


def test_snapshot_keeps_the_database_off_the_hot_path(setup, django_assert_max_num_queries):
    tenant, _, api = setup
    api.get(URL)  # warm: model loaded, catalogue in the snapshot
    # auth (key, touch), the user with their history; no registry or catalogue query
    with django_assert_max_num_queries(3) as captured:
        assert api.get(URL).status_code == 200
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert "registry_" not in tables and "catalog_item" not in tables


def test_tampered_bundle_is_marked_failed_and_the_previous_version_serves(factory, setup):
    from m6rec.registry.models import AuditLog, ModelVersion

    tenant, v1, api = setup
    assert api.get(URL).json()["model_version"] == 1
    v2 = factory.version(tenant, tamper=True)  # promoted, but its checksums do not match
    assert v2.status == ModelVersion.Status.ACTIVE
    deadline = time.monotonic() + PROPAGATION_S
    while time.monotonic() < deadline:
        r = api.get(URL)
        assert r.status_code == 200
        assert r.json()["model_version"] == 1  # never v2
        v2.refresh_from_db()
        if v2.status == ModelVersion.Status.FAILED:
            break
        time.sleep(0.05)
    assert v2.status == ModelVersion.Status.FAILED
    v1.refresh_from_db()
    assert v1.status == ModelVersion.Status.ACTIVE  # the registry rolled back
    assert AuditLog.objects.filter(tenant=tenant, action="fail", from_version=v2).exists()
    body = api.get(URL).json()
    assert body["model_version"] == 1 and body["strategy"] == "model"


def test_tampered_first_version_falls_back_to_popularity(factory, api):
    from m6rec.registry.models import ModelVersion

    tenant = factory.tenant()
    v1 = factory.version(tenant, tamper=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
    body = api.get(URL).json()
    assert body["strategy"] == "popularity" and body["model_version"] is None
    assert len(body["items"]) == 10
    v1.refresh_from_db()
    assert v1.status == ModelVersion.Status.FAILED


def test_manifest_not_matching_the_registry_is_refused(factory, setup):
    """A bundle replaced wholesale (valid checksums, other manifest) is not served either."""
    from m6rec.registry.models import ModelVersion

    tenant, v1, api = setup
    v2 = factory.version(tenant)
    ModelVersion.objects.filter(pk=v2.pk).update(bundle_sha256="0" * 64)
    time.sleep(1.05)  # past the active-version memo
    assert api.get(URL).json()["model_version"] == 1
    v2.refresh_from_db()
    assert v2.status == ModelVersion.Status.FAILED


def test_lru_is_bounded_by_count(factory, api, settings):
    from m6rec.serving import loading, snapshot

    settings.M6REC_MODEL_CACHE_SIZE = 2
    snapshot.clear()
    tenants = [factory.tenant() for _ in range(3)]
    for tenant in tenants:
        factory.version(tenant)
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
        assert api.get(URL).json()["strategy"] == "model"
        assert len(loading.model_cache) <= 2
    assert loading.model_cache.keys() == [(tenants[1].pk, 1), (tenants[2].pk, 1)]
    assert loading.model_cache.stats()["evictions"] == 1
    # the evicted tenant is reloaded transparently
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenants[0])}")
    assert api.get(URL).json()["model_version"] == 1
    assert (tenants[0].pk, 1) in loading.model_cache


def test_lru_is_bounded_by_memory(factory, api, settings):
    from m6rec.serving import loading, snapshot

    tenant_a, tenant_b = factory.tenant(), factory.tenant()
    factory.version(tenant_a)
    factory.version(tenant_b)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant_a)}")
    api.get(URL)
    one_model = loading.model_cache.total_bytes
    assert one_model > 0
    settings.M6REC_MODEL_CACHE_MAX_BYTES = int(one_model * 1.5)
    snapshot.clear()
    for tenant in (tenant_a, tenant_b, tenant_a):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant)}")
        assert api.get(URL).json()["model_version"] == 1
        assert loading.model_cache.total_bytes <= settings.M6REC_MODEL_CACHE_MAX_BYTES
        assert len(loading.model_cache) == 1


@pytest.mark.parametrize("freeze", [True, False])
def test_a_model_load_freezes_long_lived_objects_only_when_configured(setup, settings, freeze):
    import gc

    tenant, _, api = setup
    settings.M6REC_GC_FREEZE = freeze
    gc.unfreeze()
    try:
        assert api.get(URL).status_code == 200  # loads the model into this process's cache
        assert (gc.get_freeze_count() > 0) is freeze
        assert api.get(URL).json()["strategy"] == "model"
    finally:
        gc.unfreeze()  # the test process loads many models: collect them as usual
