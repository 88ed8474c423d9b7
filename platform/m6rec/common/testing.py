"""Test helpers shared by the platform's test suites (tenants, keys, authenticated clients).

Use from a ``conftest.py``::

    from m6rec.common.testing import *  # noqa: F403  (fixtures: tenant, other_tenant, ...)
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from m6rec.tenants.keys import clear_api_key_cache
from m6rec.tenants.models import ALL_SCOPES, ApiKey, Tenant

__all__ = [
    "api_client",
    "api",
    "make_key",
    "make_tenant",
    "other_api",
    "other_tenant",
    "tenant",
    "throttle_cache_local",
    "verified_key_cache_clear",
]


def make_tenant(slug: str = "acme", *, domain: str = "content", **fields) -> Tenant:
    from m6rec.tenants.services import tenant_create

    return tenant_create(slug=slug, name=fields.pop("name", slug.title()), domain=domain, **fields)


def make_key(
    tenant: Tenant, *, scopes: Iterable[str] = ALL_SCOPES, name: str = "test", **fields
) -> tuple[ApiKey, str]:
    from m6rec.tenants.services import api_key_create

    return api_key_create(tenant=tenant, name=name, scopes=scopes, **fields)


def api_client(token: str | None = None):
    from rest_framework.test import APIClient

    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture(autouse=True)
def throttle_cache_local(request, settings):
    """Throttle counters in local memory unless the test asks for Redis (``redis_url``)."""
    if "redis_url" in request.fixturenames:
        return
    settings.CACHES = {
        **settings.CACHES,
        "throttle-test": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.M6REC_THROTTLE_CACHE = "throttle-test"


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant("acme")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant("globex")


@pytest.fixture
def api(tenant):
    """An API client holding an all-scopes key of ``tenant``."""
    return api_client(make_key(tenant)[1])


@pytest.fixture
def other_api(other_tenant):
    return api_client(make_key(other_tenant)[1])


@pytest.fixture(autouse=True)
def verified_key_cache_clear():
    """Every test starts (and ends) with an empty in-process verified-key cache."""
    clear_api_key_cache()
    yield
    clear_api_key_cache()
