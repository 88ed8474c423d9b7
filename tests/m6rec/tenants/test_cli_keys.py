"""``api_keys`` and ``list_tenants``: the admin's key management from the command line."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from m6rec.common.testing import api_client, make_key, make_tenant
from m6rec.tenants.models import ApiKey

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*map(str, args), stdout=out)
    return out.getvalue()


def test_create_prints_a_working_key_with_the_scopes_asked_for(tenant):
    output = run("api_keys", "create", "acme", "--name", "web", "--scopes", "recommend",
                 "--rate-limit", "600/min")  # fmt: skip
    token = output.rstrip("\n").splitlines()[-1]
    assert token.startswith("m6r_") and " " not in token
    key = ApiKey.objects.get(tenant=tenant, name="web")
    assert (key.scopes, key.rate_limit) == (["recommend"], "600/min")
    assert token not in output.splitlines()[0] and key.prefix in output.splitlines()[0]
    client = api_client(token)
    assert client.get("/api/v1/popular").status_code == 200
    assert client.get("/api/v1/items").status_code == 403  # no ingest scope


def test_create_defaults_to_all_scopes_and_refuses_bad_input(tenant):
    token = run("api_keys", "create", "acme", "--name", "all").splitlines()[-1]
    assert sorted(ApiKey.objects.get(name="all").scopes) == ["admin", "ingest", "recommend"]
    assert api_client(token).get("/api/v1/items").status_code == 200
    with pytest.raises(CommandError, match="invalid choice: 'write'"):
        run("api_keys", "create", "acme", "--name", "x", "--scopes", "write")
    with pytest.raises(CommandError, match="--rate-limit 'fast'.*600/min"):
        run("api_keys", "create", "acme", "--name", "x", "--rate-limit", "fast")
    with pytest.raises(CommandError, match="--name"):
        run("api_keys", "create", "acme")
    assert ApiKey.objects.filter(name="x").count() == 0


def test_list_shows_prefixes_never_secrets_and_hides_revoked_unless_all(tenant, other_tenant):
    live, live_token = make_key(tenant, name="live", scopes=["ingest"])
    gone, _ = make_key(tenant, name="gone")
    make_key(other_tenant, name="theirs")
    run("api_keys", "revoke", "acme", gone.prefix)
    table = run("api_keys", "list", "acme")
    assert f"m6r_{live.prefix}_…" in table and "ingest" in table and "live" in table
    assert "gone" not in table and "theirs" not in table and live_token not in table
    rows = json.loads(run("api_keys", "list", "acme", "--all", "--json"))
    assert [(r["name"], r["revoked_at"] is None) for r in rows] == [("live", True), ("gone", False)]
    assert all("secret" not in json.dumps(r) for r in rows)


def test_revoke_by_prefix_display_form_or_token_stops_the_key_at_once(tenant):
    for form in ("prefix", "display", "token"):
        key, token = make_key(tenant, name=form)
        client = api_client(token)
        assert client.get("/api/v1/items").status_code == 200  # now cached as verified
        arg = {"prefix": key.prefix, "display": f"m6r_{key.prefix}_…", "token": token}[form]
        assert "is revoked" in run("api_keys", "revoke", "acme", arg)
        assert client.get("/api/v1/items").status_code == 401, form
    assert "already revoked" in run("api_keys", "revoke", "acme", key.prefix)


def test_revoke_refuses_another_tenants_key_and_says_how_to_list(tenant, other_tenant):
    theirs, token = make_key(other_tenant, name="theirs")
    with pytest.raises(CommandError, match="no API key with prefix.*api_keys list acme --all"):
        run("api_keys", "revoke", "acme", theirs.prefix)
    assert api_client(token).get("/api/v1/items").status_code == 200


def test_unknown_tenant_is_named_with_the_tenants_there_and_how_to_list_them(tenant):
    with pytest.raises(CommandError) as exc:
        run("api_keys", "list", "acm")
    message = str(exc.value)
    assert 'No tenant "acm"' in message and "acme" in message
    assert "manage.py list_tenants" in message


def test_unknown_tenant_without_any_tenant_says_how_to_create_one(db):
    with pytest.raises(CommandError, match='No tenant "x": there are no tenants yet.*create_'):
        run("api_keys", "list", "x")


def test_list_tenants(tenant, other_tenant):
    make_key(tenant)
    make_tenant("books", domain="education")
    table = run("list_tenants").splitlines()
    assert table[0].split() == ["slug", "name", "domain", "active", "keys"]
    assert [line.split()[0] for line in table[1:]] == ["acme", "books", "globex"]
    rows = json.loads(run("list_tenants", "--json"))
    assert rows[0] == {"slug": "acme", "name": "Acme", "domain": "content", "active": True,
                       "api_keys": 1}  # fmt: skip
