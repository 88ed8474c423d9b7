"""Serving fixtures: one tiny real bundle (trained once per session with the engine), tenants
with catalogues in PostgreSQL, and helpers to register versions of that bundle.

Synthetic data (see ``_data.py``); items carry categories ``low``/``high`` (their half) and
``even``/``odd`` (parity of their number).
"""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.m6rec.serving._data import N_ITEMS, synthetic_pairs


@pytest.fixture(scope="session")
def trained_bundle(tmp_path_factory) -> Path:
    """A real bundle (fusion int8 ONNX when it wins the gate) trained on the synthetic data."""
    from engine.data import InteractionData
    from engine.pipeline import TrainConfig, train_bundle

    pairs = synthetic_pairs()
    data = InteractionData.from_arrays([u for u, _ in pairs], [i for _, i in pairs])
    out = tmp_path_factory.mktemp("serving-bundle") / "bundle"
    train_bundle(data, out, config=TrainConfig(time_budget_s=20, use_fusion=True))
    return out


@pytest.fixture(autouse=True)
def _fresh_serving_state(settings):
    """Every test starts with no serving snapshot and no loaded model."""
    from m6rec.serving import snapshot

    settings.M6REC_ACTIVE_VERSION_TTL = 1.0
    snapshot.clear()
    yield
    snapshot.clear()


class TenantFactory:
    """Creates tenants (with catalogue, API keys) and registers bundle versions for them."""

    def __init__(self, bundle: Path) -> None:
        self.bundle = bundle
        self.uris: list[str] = []

    def tenant(self, *, with_data: bool = True, domain: str = "content", config=None):
        from m6rec.catalog.services import items_upsert
        from m6rec.tenants.services import tenant_create

        slug = f"srv-{uuid.uuid4().hex[:10]}"
        tenant = tenant_create(
            slug=slug, name=slug, domain=domain, config=config or {"rules": {"freshness": False}}
        )
        if with_data:
            items_upsert(
                tenant=tenant,
                rows=[
                    {
                        "item_id": f"i{j}",
                        "properties": {},
                        "categories": [
                            "low" if j < 30 else "high",
                            "even" if j % 2 == 0 else "odd",
                        ],
                        "active": True,
                    }
                    for j in range(N_ITEMS)
                ],
            )
            self.ingest(tenant, synthetic_pairs())
        return tenant

    def ingest(self, tenant, pairs, *, type_: str = "view", start: datetime | None = None):
        from m6rec.catalog.services import interactions_ingest

        start = start or datetime(2024, 1, 1, tzinfo=UTC)
        rows = [
            {
                "user_id": u,
                "item_id": i,
                "type": type_,
                "value": 1.0,
                "timestamp": start + timedelta(seconds=n),
                "event_id": None,
            }
            for n, (u, i) in enumerate(pairs)
        ]
        return interactions_ingest(tenant=tenant, rows=rows)

    def key(self, tenant, *, scopes=("recommend",)) -> str:
        from m6rec.tenants.services import api_key_create

        _, token = api_key_create(tenant=tenant, name="serving-tests", scopes=list(scopes))
        return token

    def version(
        self, tenant, *, promote: bool = True, tamper: bool = False, bundle: Path | None = None
    ):
        """Register (and by default promote) a copy of the session bundle (or ``bundle``) as a
        new version."""
        from m6rec.registry.selectors import version_get
        from m6rec.registry.services import version_create, version_next_number, version_promote
        from m6rec.registry.storage import bundle_publish, bundle_staging_dir, manifest_sha256

        number = version_next_number(tenant=tenant)
        staging = bundle_staging_dir(tenant_slug=tenant.slug, label=f"v{number}")
        staging.rmdir()
        shutil.copytree(bundle or self.bundle, staging)
        sha = manifest_sha256(staging)
        if tamper:  # change an array after the manifest recorded its checksum
            target = staging / "item_factors.npy"
            raw = bytearray(target.read_bytes())
            raw[-1] ^= 0xFF
            target.write_bytes(bytes(raw))
        uri = bundle_publish(staging_dir=staging, tenant_slug=tenant.slug, number=number)
        self.uris.append(uri)
        version = version_create(tenant=tenant, number=number, bundle_uri=uri, bundle_sha256=sha)
        if promote:
            version_promote(version=version, reason="serving test")
        return version_get(tenant=tenant, number=number)

    def cleanup(self) -> None:
        from m6rec.registry.storage import bundle_discard

        for uri in self.uris:
            bundle_discard(uri=uri)


@pytest.fixture
def factory(trained_bundle, db):
    f = TenantFactory(trained_bundle)
    yield f
    f.cleanup()


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def tenant_a(factory):
    """A tenant with the synthetic catalogue and the bundle as its active v1."""
    tenant = factory.tenant()
    factory.version(tenant)
    return tenant


@pytest.fixture
def client_a(factory, tenant_a, api):
    """An API client with an all-scopes key of ``tenant_a``."""
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant_a)}")
    return api
