"""Admin: tenants and API keys (secret shown once, revoke action)."""

import re

import pytest
from django.contrib.messages import get_messages

from m6rec.common.testing import api_client, make_key
from m6rec.tenants.models import ApiKey, Tenant, hash_token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/admin/tenants/tenant/", "/admin/tenants/apikey/"])
def test_changelists_load(admin_client, tenant, url):
    make_key(tenant)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"acme" in response.content


def test_tenant_add_validates_domain_config(admin_client):
    data = {
        "slug": "news",
        "name": "News",
        "domain": "content",
        "config": '{"bogus": 1}',
        "unknown_refs": "create",
        "active": "on",
        "api_keys-TOTAL_FORMS": "0",
        "api_keys-INITIAL_FORMS": "0",
    }
    response = admin_client.post("/admin/tenants/tenant/add/", data)
    assert response.status_code == 200  # form redisplayed with the error
    assert b"bogus" in response.content
    assert not Tenant.objects.filter(slug="news").exists()
    data["config"] = '{"rules": {"freshness": false}}'
    response = admin_client.post("/admin/tenants/tenant/add/", data)
    assert response.status_code == 302
    assert Tenant.objects.get(slug="news").config == {"rules": {"freshness": False}}


def test_api_key_secret_is_shown_once_and_works(admin_client, tenant):
    data = {"tenant": tenant.pk, "name": "ingest-bot", "scopes": ["ingest"], "rate_limit": ""}
    response = admin_client.post("/admin/tenants/apikey/add/", data, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in get_messages(response.wsgi_request)] + [response.content.decode()]
    tokens = set(re.findall(r"m6r_[0-9a-f]{8}_[A-Za-z0-9_\-]{20,}", " ".join(shown)))
    assert len(tokens) == 1
    token = tokens.pop()
    key = ApiKey.objects.get(name="ingest-bot")
    assert key.secret_hash == hash_token(token) and key.scopes == ["ingest"]
    assert api_client(token).get("/api/v1/items").status_code == 200
    # afterwards only the prefix is visible
    page = admin_client.get(f"/admin/tenants/apikey/{key.pk}/change/").content.decode()
    assert token not in page and f"m6r_{key.prefix}_" in page
    assert token not in admin_client.get("/admin/tenants/apikey/").content.decode()


def test_revoke_action(admin_client, tenant):
    key, token = make_key(tenant)
    response = admin_client.post(
        "/admin/tenants/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_client(token).get("/api/v1/items").status_code == 401
